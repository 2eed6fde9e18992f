"""Bidirectional RNN: one cell reads the sequence forwards, another backwards (002_*.txt)."""
import minigrad as mg
from minigrad.nn import Module

from .cell import unroll


class Bidirectional(Module):
    """"It combines a forward-going RNN and a backward-going RNN" (002_*.txt; Schuster &
    Paliwal 1997): g_t summarises the past, h_t the future, and step t's output is both,

        g_t = f(g_{t-1}, x_t),     h_t = b(h_{t+1}, x_t),     y_t = [g_t ; h_t]

    ``bi(xs, state=None) -> (hs, (forward_state, backward_state))`` with hs of shape
    (T, B, H_f + H_b). ``state`` is a pair of initial states (or None for each cell's own);
    the backward cell's "initial" state is the one it starts from at t = T-1. Ops sit in
    scopes ``forward/t={t}/<kind>/...`` and ``backward/t={t}/<kind>/...`` (true positions t).
    """

    def __init__(self, forward_cell, backward_cell):
        super().__init__()
        if forward_cell.input_size != backward_cell.input_size:
            raise ValueError(f"Bidirectional: the forward cell takes input_size "
                             f"{forward_cell.input_size}, the backward cell "
                             f"{backward_cell.input_size}; they read the same xs")
        self.forward_cell, self.backward_cell = forward_cell, backward_cell
        self.input_size = forward_cell.input_size
        self.output_size = forward_cell.output_size + backward_cell.output_size

    def forward(self, xs, state=None):
        forward_state, backward_state = (None, None) if state is None else state
        with mg.scope("forward"):
            forward_hs, forward_state = unroll(self.forward_cell, xs, forward_state)
        with mg.scope("backward"):
            backward_hs, backward_state = unroll(self.backward_cell, xs, backward_state,
                                                 reverse=True)
        with mg.scope("concat"):
            hs = mg.concat([forward_hs, backward_hs], axis=2)
        return hs, (forward_state, backward_state)

    def extra_repr(self):
        return f"{self.input_size} -> {self.output_size}"
