"""The policy-staff workbench: a local web page to edit a draft ruleset and see what it does."""
