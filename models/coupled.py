"""The LSTM with coupled input and forget gates (001_*.txt; Greff et al. 2017, "CIFG")."""
import minigrad as mg

from .cell import Cell
from .lstm import cell_and_hidden


class CoupledLSTMCell(Cell):
    """An LSTM that writes exactly as much as it forgets, "c_t = f_t * c_{t-1} +
    (1 - f_t) * c~_t" (001_*.txt):

        f_t = sigma(W_xf x_t + W_hf h_{t-1} + b_f)        forget gate
        i_t = 1 - f_t                                     input gate, coupled
        g_t = tanh(W_xc x_t + W_hc h_{t-1} + b_c)         cell candidate (c~_t)
        o_t = sigma(W_xo x_t + W_ho h_{t-1} + b_o)        output gate
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)

    Three gates stacked in the order f, g, o: ``weight_ih`` (3H, D), ``weight_hh`` (3H, H),
    ``bias_ih``, ``bias_hh`` (3H,); U(-k, k) init with k = 1/sqrt(H). ``forget_bias`` sets b_f
    (in ``bias_ih``; ``bias_hh``'s share is zeroed).
    """
    kind = "coupled_lstm"
    input_projection = Cell.summed_input_projection
    state_names = ("h", "c")
    gate_names = ("forget_gate", "cell_candidate", "output_gate")

    def __init__(self, input_size, hidden_size, bias=True, forget_bias=None,
                 learn_initial_state=False):
        super().__init__(input_size, hidden_size, learn_initial_state)
        self.create_weights(3, bias)
        self.reset_parameters()
        if forget_bias is not None:
            if not bias:
                raise ValueError("CoupledLSTMCell: forget_bias needs bias=True")
            self.bias_ih.data[:hidden_size] = forget_bias
            self.bias_hh.data[:hidden_size] = 0

    def step(self, projected, state):
        h, c = state
        with mg.scope("recurrence"):
            pre = self.recurrence(projected, h)
        f, g, o = mg.split(pre, 3, axis=1)
        with mg.scope("forget_gate"):
            f = f.sigmoid()
        with mg.scope("input_gate"):
            i = 1 - f
        with mg.scope("cell_candidate"):
            g = g.tanh()
        with mg.scope("output_gate"):
            o = o.sigmoid()
        return cell_and_hidden(i, f, g, o, c)
