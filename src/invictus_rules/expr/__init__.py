"""The condition language.

``nodes`` (syntax tree) -> ``parser`` (text to tree) -> ``check`` (types against the questionnaire)
-> ``compile`` (three-valued closures). ``language`` is the table of operators and functions those
stages (and the fast path, prose, diff and the solver) read; ``types`` holds the checker's types,
``values`` the runtime values (ABSENT, Interval, Env, ages) and ``pyast`` the builders of the fast
path's generated code.
"""
