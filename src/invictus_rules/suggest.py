"""'Did you mean' hints: the closest known name to a misspelt one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``did you mean "x"?`` for the closest candidate, or '' when none is close."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f'did you mean "{matches[0]}"?' if matches else ""


__all__ = ["did_you_mean"]
