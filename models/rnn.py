"""The Elman RNN cell."""
import minigrad as mg

from .cell import Cell

NONLINEARITIES = ("tanh", "relu")


class RNNCell(Cell):
    """h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)            (000_*.txt, "Hidden State")

    ``nonlinearity="relu"`` uses max(0, .) instead. Parameter names, shapes and the U(-k, k),
    k = 1/sqrt(hidden_size) initialisation follow ``torch.nn.RNNCell``.
    """
    kind = "rnn"
    input_projection = Cell.summed_input_projection

    def __init__(self, input_size, hidden_size, nonlinearity="tanh", bias=True,
                 learn_initial_state=False):
        super().__init__(input_size, hidden_size, learn_initial_state)
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"RNNCell: nonlinearity must be one of {NONLINEARITIES}, "
                             f"got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.create_weights(1, bias)
        self.reset_parameters()

    def penalty_states(self, state):
        """Pascanu et al.'s x_k = W sigma(x_{k-1}) + U u_k + b: the pre-activation, the
        input of the nonlinearity that made h_k (:mod:`models.regularizer`)."""
        h, = state
        if h.op not in NONLINEARITIES:
            raise ValueError(f"RNNCell.penalty_states: h was made by {h.op!r}, not by the "
                             f"cell's {self.nonlinearity}; pass a state this cell's step made")
        return h.parents

    def step(self, projected, state):
        h, = state
        with mg.scope("recurrence"):
            pre = self.recurrence(projected, h)
        with mg.scope("hidden"):
            return (pre.tanh() if self.nonlinearity == "tanh" else pre.relu(),)
