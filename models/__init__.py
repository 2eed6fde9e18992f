"""Recurrent cells, unrolling through time, sequence models and BPTT training."""
