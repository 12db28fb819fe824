"""Tools built on the engine: YAML ruleset tests, lint, diff, impact, docs, comparison."""
