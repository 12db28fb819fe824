"""The condition language: nodes, parser, type checker and compiler."""
