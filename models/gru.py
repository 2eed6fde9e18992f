"""The gated recurrent unit (Cho et al. 2014)."""
import minigrad as mg
from minigrad import functional as F

from .cell import Cell


class GRUCell(Cell):
    """Reset and update gates as in 002_*.txt (Cho et al. 2014), with ``torch.nn.GRUCell``'s
    layout (gate order r, z, n; reset gate applied to U h_{t-1} + b):

        r_t  = sigma(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)           reset gate
        z_t  = sigma(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)           update gate
        h'_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))     candidate
        h_t  = z_t * h_{t-1} + (1 - z_t) * h'_t
    """
    kind = "gru"
    input_projection = Cell.linear_input_projection
    gate_names = ("reset_gate", "update_gate", "candidate")

    def __init__(self, input_size, hidden_size, bias=True, learn_initial_state=False):
        super().__init__(input_size, hidden_size, learn_initial_state)
        self.create_weights(3, bias)
        self.reset_parameters()

    def step(self, projected, state):
        h, = state
        with mg.scope("recurrence"):
            recurrent = F.linear(h, self.weight_hh, self.bias_hh)
        x_r, x_z, x_n = mg.split(projected, 3, axis=1)
        h_r, h_z, h_n = mg.split(recurrent, 3, axis=1)
        with mg.scope("reset_gate"):
            r = (x_r + h_r).sigmoid()
        with mg.scope("update_gate"):
            z = (x_z + h_z).sigmoid()
        with mg.scope("candidate"):
            n = (x_n + r * h_n).tanh()
        with mg.scope("hidden"):
            h = z * h + (1 - z) * n
        return (h,)
