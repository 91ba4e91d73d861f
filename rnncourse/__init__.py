"""Build and grading commands for the RNN from Scratch course."""
