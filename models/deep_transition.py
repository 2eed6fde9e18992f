"""Deep transition RNN: an MLP between h_{t-1} and h_t (002_*.txt (b), (c); Pascanu et al. 2014)."""
import math

import minigrad as mg
from minigrad import functional as F
from minigrad.nn import Parameter, uniform

from .cell import Cell


class DeepTransitionRNNCell(Cell):
    """"Add a deep hidden-to-hidden transformation" (002_*.txt (b); DT-RNN of Pascanu,
    Gulcehre, Cho & Bengio 2014, "How to construct deep recurrent neural networks"):

        z_1 = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
        z_l = tanh(W_l z_{l-1} + b_l),        l = 2 .. L           (L = transition_depth)
        h_t = z_L

    With ``shortcut=True`` (002_*.txt (c), DT(S)-RNN: "skip connections allow gradients to
    flow more easily backwards in spite of the extra non-linearity") the last layer also
    sees h_{t-1} directly:

        h_t = tanh(W_L z_{L-1} + b_L + W_s h_{t-1})

    Parameters: ``weight_ih`` (H, D), ``weight_hh`` (H, H), ``bias_ih``, ``bias_hh`` (H,)
    as in :class:`RNNCell`; ``transition_weight_{l}`` (H, H), ``transition_bias_{l}`` (H,) for
    l = 2 .. L; ``weight_shortcut`` (H, H). All U(-k, k), k = 1/sqrt(H).
    """
    kind = "deep_transition_rnn"
    input_projection = Cell.summed_input_projection

    def __init__(self, input_size, hidden_size, transition_depth=2, shortcut=False,
                 learn_initial_state=False):
        super().__init__(input_size, hidden_size, learn_initial_state)
        if not isinstance(transition_depth, int) or transition_depth < 1:
            raise ValueError(f"DeepTransitionRNNCell: transition_depth must be an integer >= 1, "
                             f"got {transition_depth!r}")
        if shortcut and transition_depth < 2:
            raise ValueError("DeepTransitionRNNCell: shortcut=True needs transition_depth >= 2")
        self.transition_depth, self.shortcut = transition_depth, shortcut
        H, bound = hidden_size, 1 / math.sqrt(hidden_size)
        self.weight_ih = Parameter(uniform((H, input_size), bound))
        self.weight_hh = Parameter(uniform((H, H), bound))
        self.bias_ih = Parameter(uniform((H,), bound))
        self.bias_hh = Parameter(uniform((H,), bound))
        for layer in range(2, transition_depth + 1):
            setattr(self, f"transition_weight_{layer}", Parameter(uniform((H, H), bound)))
            setattr(self, f"transition_bias_{layer}", Parameter(uniform((H,), bound)))
        if shortcut:
            self.weight_shortcut = Parameter(uniform((H, H), bound))

    def step(self, projected, state):
        h, = state
        with mg.scope("transition=1"):
            z = self.recurrence(projected, h).tanh()
        for layer in range(2, self.transition_depth + 1):
            with mg.scope(f"transition={layer}"):
                pre = F.linear(z, getattr(self, f"transition_weight_{layer}"),
                               getattr(self, f"transition_bias_{layer}"))
                if self.shortcut and layer == self.transition_depth:
                    pre = pre + F.linear(h, self.weight_shortcut)
                z = pre.tanh()
        return (z,)

    def extra_repr(self):
        return (f"{self.input_size}, {self.hidden_size}, transition_depth="
                f"{self.transition_depth}, shortcut={self.shortcut}")
