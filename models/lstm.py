"""The LSTM cell (Hochreiter & Schmidhuber 1997, with a forget gate, Gers et al. 2000)."""
import minigrad as mg

from .cell import Cell


class LSTMCell(Cell):
    """Equations (1)-(6) of 000_*.txt (Graves et al. 2009):

        i_t = sigma(W_xi x_t + W_hi h_{t-1} + b_i)        input gate
        f_t = sigma(W_xf x_t + W_hf h_{t-1} + b_f)        forget gate
        o_t = sigma(W_xo x_t + W_ho h_{t-1} + b_o)        output gate
        g_t = tanh(W_xc x_t + W_hc h_{t-1} + b_c)         cell candidate
        c_t = f_t * c_{t-1} + i_t * g_t                   cell state
        h_t = o_t * tanh(c_t)                             hidden state

    Weights stacked as in ``torch.nn.LSTMCell``: ``weight_ih`` (4H, D), ``weight_hh`` (4H, H),
    ``bias_ih`` and ``bias_hh`` (4H,), gate order i, f, g, o. ``forget_bias`` (e.g. 1.0,
    Jozefowicz et al. 2015) sets b_f, split as forget_bias in ``bias_ih`` and 0 in ``bias_hh``.
    """
    kind = "lstm"
    input_projection = Cell.summed_input_projection
    state_names = ("h", "c")
    gate_names = ("input_gate", "forget_gate", "cell_candidate", "output_gate")

    def __init__(self, input_size, hidden_size, bias=True, forget_bias=None,
                 learn_initial_state=False):
        super().__init__(input_size, hidden_size, learn_initial_state)
        self.create_weights(4, bias)
        self.reset_parameters()
        if forget_bias is not None:
            if not bias:
                raise ValueError("LSTMCell: forget_bias needs bias=True")
            H = hidden_size
            self.bias_ih.data[H:2 * H] = forget_bias
            self.bias_hh.data[H:2 * H] = 0

    def gates(self, projected, h):
        """Pre-activations of the four gates, (B, 4H) split into i, f, g, o."""
        with mg.scope("recurrence"):
            pre = self.recurrence(projected, h)
        return mg.split(pre, 4, axis=1)

    def step(self, projected, state):
        h, c = state
        i, f, g, o = self.gates(projected, h)
        with mg.scope("input_gate"):
            i = i.sigmoid()
        with mg.scope("forget_gate"):
            f = f.sigmoid()
        with mg.scope("cell_candidate"):
            g = g.tanh()
        with mg.scope("output_gate"):
            o = o.sigmoid()
        return cell_and_hidden(i, f, g, o, c)


def cell_and_hidden(input_gate, forget_gate, candidate, output_gate, c):
    """c_t = f_t * c_{t-1} + i_t * g_t and h_t = o_t * tanh(c_t): equations (5)-(6)."""
    with mg.scope("cell_state"):
        c = forget_gate * c + input_gate * candidate
    with mg.scope("hidden"):
        h = output_gate * c.tanh()
    return h, c
