"""``python -m invictus_rules``: the same as the ``invictus-rules`` command."""

import sys

from .cli import main

sys.exit(main())
