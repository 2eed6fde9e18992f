"""Recurrent cells, unrolling through time, sequence models and BPTT training."""
from .bidirectional import Bidirectional
from .cell import Cell, unroll
from .coupled import CoupledLSTMCell
from .deep_transition import DeepTransitionRNNCell
from .delay import TimeDelayCell
from .gru import GRUCell
from .head import DeepOutput
from .jordan import JordanRNNCell
from .leaky import LeakyRNNCell
from .lstm import LSTMCell
from .peephole import PeepholeLSTMCell
from .registry import CELLS, make_cell
from .pytorch_rnn import GRU, LSTM, RNN
from .rnn import RNNCell
from .seq2seq import Seq2Seq
from .sequence import run_sequence
from .stacked import Stacked
from .tcn import TCN, CausalConv1d, TemporalBlock
from .topology import ConditionalManyToMany, ManyToMany, ManyToOne, OneToMany, feed_back

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "CELLS",
    "TCN",
    "Bidirectional",
    "CausalConv1d",
    "Cell",
    "ConditionalManyToMany",
    "CoupledLSTMCell",
    "DeepOutput",
    "DeepTransitionRNNCell",
    "GRUCell",
    "JordanRNNCell",
    "LSTMCell",
    "LeakyRNNCell",
    "ManyToMany",
    "ManyToOne",
    "OneToMany",
    "PeepholeLSTMCell",
    "RNNCell",
    "Seq2Seq",
    "Stacked",
    "TemporalBlock",
    "TimeDelayCell",
    "feed_back",
    "make_cell",
    "run_sequence",
    "unroll",
]
