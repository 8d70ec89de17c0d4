"""chalkboard's benchmarks: figures measured side by side in one run (see run.py)."""
