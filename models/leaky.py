"""Leaky units: an Elman RNN with a linear self-connection per unit (002_*.txt)."""
import math

import numpy as np

import minigrad as mg
from minigrad.nn import Parameter

from .cell import Cell


def softplus(x):
    """log(1 + e^x), as relu(x) + log(1 + e^-|x|) so that it never overflows."""
    return x.relu() + (1 + (-x.abs()).exp()).log()


def inverse_softplus(y):
    """x with softplus(x) = y, for y > 0 (log(e^y - 1), written for large y too)."""
    return y + np.log(-np.expm1(-y))


class LeakyRNNCell(Cell):
    """Leaky units with self-connections (002_*.txt, "Leaky units"):

        h_t = (1 - 1/tau) * h_{t-1} + (1/tau) * tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)

    with one time constant tau_i >= 1 per unit. tau = 1 is the Elman RNN; a large tau makes a
    unit integrate slowly. ``tau`` is a number or a sequence of ``hidden_size`` numbers.

    ``learn_tau=False``: tau is a fixed constant (not a parameter). ``learn_tau=True``: tau is
    learned through an unconstrained parameter ``tau_parameter`` (H,) with

        tau = 1 + softplus(tau_parameter),   softplus(u) = log(1 + e^u),

    so every value the optimizer reaches keeps tau > 1 (it starts at ``tau``, which must then
    be > 1). Other parameters are named and initialised as in :class:`RNNCell`.
    """
    kind = "leaky_rnn"
    input_projection = Cell.summed_input_projection

    def __init__(self, input_size, hidden_size, tau=2.0, learn_tau=False, bias=True,
                 learn_initial_state=False):
        super().__init__(input_size, hidden_size, learn_initial_state)
        values = np.broadcast_to(np.asarray(tau, dtype=np.float64), (hidden_size,)).copy() \
            if np.ndim(tau) == 0 else np.asarray(tau, dtype=np.float64)
        if values.shape != (hidden_size,):
            raise ValueError(f"LeakyRNNCell: tau must be a number or have shape ({hidden_size},), "
                             f"got shape {values.shape}")
        if not np.all(values >= 1) or (learn_tau and not np.all(values > 1)):
            raise ValueError(f"LeakyRNNCell: tau must be {'> 1 when learned' if learn_tau else '>= 1'}"
                             f", got min {values.min()}")
        xp = mg.backend.module()
        self.learn_tau = learn_tau
        self.create_weights(1, bias)
        self.reset_parameters(1 / math.sqrt(hidden_size))
        if learn_tau:
            self.tau_parameter = Parameter(xp.asarray(inverse_softplus(values - 1), "float32"))
        else:
            self.register_buffer("fixed_tau", mg.Tensor(xp.asarray(values)))   # float64

    def reset_parameters(self, bound=None):
        saved = getattr(self, "tau_parameter", None)
        saved = None if saved is None else saved.data.copy()
        super().reset_parameters(bound)
        if saved is not None:
            self.tau_parameter.data = saved

    @property
    def tau(self):
        """The time constants, a (H,) tensor (differentiable when learned)."""
        if self.learn_tau:
            return 1 + softplus(self.tau_parameter)
        return self.fixed_tau

    def step(self, projected, state):
        h, = state
        with mg.scope("recurrence"):
            pre = self.recurrence(projected, h)
        with mg.scope("leak"):
            tau = self.tau
            rate = 1 / (tau if tau.dtype == h.dtype else tau.astype(h.dtype))
        with mg.scope("hidden"):
            return ((1 - rate) * h + rate * pre.tanh(),)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, learn_tau={self.learn_tau}"
