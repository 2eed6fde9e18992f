"""The Elman RNN cell."""
import minigrad as mg
from minigrad import functional as F
from minigrad.nn import Parameter

from .cell import Cell

NONLINEARITIES = ("tanh", "relu")


class RNNCell(Cell):
    """h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)            (000_*.txt, "Hidden State")

    ``nonlinearity="relu"`` uses max(0, .) instead. Parameter names, shapes and the U(-k, k),
    k = 1/sqrt(hidden_size) initialisation follow ``torch.nn.RNNCell``.
    """
    kind = "rnn"

    def __init__(self, input_size, hidden_size, nonlinearity="tanh", bias=True,
                 learn_initial_state=False):
        super().__init__(input_size, hidden_size, learn_initial_state)
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"RNNCell: nonlinearity must be one of {NONLINEARITIES}, "
                             f"got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.weight_ih = Parameter(mg.backend.module().zeros((hidden_size, input_size), "float32"))
        self.weight_hh = Parameter(mg.backend.module().zeros((hidden_size, hidden_size), "float32"))
        self.bias_ih = Parameter(mg.backend.module().zeros(hidden_size, "float32")) if bias else None
        self.bias_hh = Parameter(mg.backend.module().zeros(hidden_size, "float32")) if bias else None
        self.reset_parameters()

    def input_projection(self, x):
        return F.linear(x, self.weight_ih, self.bias_ih)

    def step(self, projected, state):
        h, = state
        with mg.scope("recurrence"):
            pre = projected + F.linear(h, self.weight_hh, self.bias_hh)
        with mg.scope("hidden"):
            return (pre.tanh() if self.nonlinearity == "tanh" else pre.relu(),)
