"""Recurrent cells, unrolling through time, sequence models and BPTT training."""
from .cell import Cell, unroll
from .coupled import CoupledLSTMCell
from .deep_transition import DeepTransitionRNNCell
from .gru import GRUCell
from .jordan import JordanRNNCell
from .leaky import LeakyRNNCell
from .lstm import LSTMCell
from .peephole import PeepholeLSTMCell
from .rnn import RNNCell

__all__ = [
           "Cell",
           "CoupledLSTMCell",
           "DeepTransitionRNNCell",
           "GRUCell",
           "JordanRNNCell",
           "LSTMCell",
           "LeakyRNNCell",
           "PeepholeLSTMCell",
           "RNNCell",
           "unroll",
]
