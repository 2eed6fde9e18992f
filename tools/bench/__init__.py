"""Benchmarks of minigrad: engine overhead per op, the LSTM language-model training step
next to NumPy and PyTorch references, and the memory of long unrolled sequences.

Run ``python -m tools.bench --help`` (or ``minigrad bench``). Results are printed as a table
and as JSON lines; nothing here is a test, and nothing here is imported by the library.
"""
