"""The tests: run them with `python -m pytest` from the repository root."""
