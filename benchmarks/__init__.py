"""gaitmon benchmarks: reproducible commands that print tables (``python -m benchmarks --help``).

Nothing here asserts a speed; the tables print the issue-7 targets beside the measured figures.
"""
