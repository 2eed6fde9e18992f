"""Recurrent cells, unrolling through time, sequence models and BPTT training."""
from .cell import Cell, unroll
from .gru import GRUCell
from .lstm import LSTMCell
from .rnn import RNNCell

__all__ = ["Cell", "unroll", "RNNCell", "LSTMCell", "GRUCell"]
