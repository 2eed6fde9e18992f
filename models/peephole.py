"""The LSTM with peephole connections (Gers & Schmidhuber 2000; 001_*.txt)."""
import minigrad as mg
from minigrad.nn import Parameter, uniform

from .lstm import LSTMCell

OUTPUT_PEEPHOLES = ("current", "previous")


class PeepholeLSTMCell(LSTMCell):
    """An LSTM whose gates also look at the cell state (001_*.txt: "gates have access also
    to the previous cell states c_{t-1}"). The input and forget gates see c_{t-1}; where the
    output gate looks is ``output_peephole``:

        i_t = sigma(W_xi x_t + W_hi h_{t-1} + w_ci * c_{t-1} + b_i)
        f_t = sigma(W_xf x_t + W_hf h_{t-1} + w_cf * c_{t-1} + b_f)
        g_t = tanh(W_xc x_t + W_hc h_{t-1} + b_c)
        c_t = f_t * c_{t-1} + i_t * g_t
        o_t = sigma(W_xo x_t + W_ho h_{t-1} + w_co * c_t + b_o)       "current" (default)
        o_t = sigma(W_xo x_t + W_ho h_{t-1} + w_co * c_{t-1} + b_o)   "previous"
        h_t = o_t * tanh(c_t)

    The default, ``"current"``, is Gers & Schmidhuber's (2000) form, as in Graves (2013),
    eq. 7-11: the output gate peeks at the cell it is about to expose, so o_t depends on
    c_t. ``"previous"`` is the notes' form, every gate looking at c_{t-1}. The peephole
    weights are diagonal: vectors ``peephole_input`` (w_ci), ``peephole_forget`` (w_cf),
    ``peephole_output`` (w_co), each (H,), initialised like the other weights, U(-k, k),
    k = 1/sqrt(H). Everything else is :class:`LSTMCell`'s layout (``weight_ih`` (4H, D),
    ``weight_hh`` (4H, H), gate order i, f, g, o).
    """
    kind = "peephole_lstm"

    def __init__(self, input_size, hidden_size, bias=True, forget_bias=None,
                 learn_initial_state=False, output_peephole="current"):
        if output_peephole not in OUTPUT_PEEPHOLES:
            raise ValueError(f"PeepholeLSTMCell: output_peephole must be one of "
                             f"{OUTPUT_PEEPHOLES}, got {output_peephole!r}")
        super().__init__(input_size, hidden_size, bias, forget_bias, learn_initial_state)
        self.output_peephole = output_peephole
        bound = 1 / hidden_size ** 0.5
        for name in ("peephole_input", "peephole_forget", "peephole_output"):
            setattr(self, name, Parameter(uniform((hidden_size,), bound)))

    def step(self, projected, state):
        h, c_previous = state
        i, f, g, o = self.gates(projected, h)
        with mg.scope("input_gate"):
            i = (i + self.peephole_input * c_previous).sigmoid()
        with mg.scope("forget_gate"):
            f = (f + self.peephole_forget * c_previous).sigmoid()
        with mg.scope("cell_candidate"):
            g = g.tanh()
        with mg.scope("cell_state"):
            c = f * c_previous + i * g
        with mg.scope("output_gate"):
            seen = c if self.output_peephole == "current" else c_previous
            o = (o + self.peephole_output * seen).sigmoid()
        with mg.scope("hidden"):
            h = o * c.tanh()
        return h, c

    def extra_repr(self):
        return f"{super().extra_repr()}, output_peephole={self.output_peephole!r}"
