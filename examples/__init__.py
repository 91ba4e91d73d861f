"""Sample hand-ins for the README's demo, made by `python -m examples.make_examples`."""
