"""Time-delay connections: a cell whose step also sees its own state from D steps back."""
import minigrad as mg

from .cell import Cell


class TimeDelayCell(Cell):
    """"Recurrent connections with a time-delay of D" (002_*.txt, "Combine short and long
    paths"; Lin et al. 1996, NARX): gradients then travel T/D steps instead of T. The wrapped
    cell gets h_{t-D} as extra input, so for an Elman cell

        h_t = tanh(W_x x_t + W_D h_{t-D} + W_hh h_{t-1} + b)

    and likewise inside any gated cell's pre-activations. Layout: the wrapped cell's
    ``weight_ih`` has input_size + H columns, the first input_size for x_t and the last H
    for h_{t-D} (W_D). Build it as ``TimeDelayCell(LSTMCell(D + H, H), delay)``.

    State: the wrapped cell's state followed by the last ``delay`` outputs, oldest first
    (``history_0`` = h_{t-D+1} after step t, so the next step reads h_{(t+1)-D}). Before the
    sequence every h_{-k} is the wrapped cell's initial output h_0 (zeros, or learned).
    """
    kind = "time_delay"

    def __init__(self, cell, delay):
        if not isinstance(delay, int) or delay < 1:
            raise ValueError(f"TimeDelayCell: delay must be an integer >= 1, got {delay!r}")
        input_size = cell.input_size - cell.output_size
        if input_size <= 0:
            raise ValueError(f"TimeDelayCell: the wrapped {type(cell).__name__} has input_size "
                             f"{cell.input_size}; it must be the sequence's input size plus its "
                             f"output size {cell.output_size}")
        super().__init__(input_size, cell.hidden_size)
        self.cell, self.delay = cell, delay
        self.state_names = tuple(cell.state_names) + tuple(f"history_{j}" for j in range(delay))

    @property
    def output_size(self):
        return self.cell.output_size

    @property
    def weight_hh(self):
        return self.cell.weight_hh

    def state_sizes(self):
        return tuple(self.cell.state_sizes()) + (self.cell.output_size,) * self.delay

    def initial_state(self, batch, dtype="float32"):
        inner = self.cell.initial_state(batch, dtype)
        return tuple(inner) + (self.cell.output(inner),) * self.delay

    def penalty_states(self, state):
        """The wrapped cell's own (:mod:`models.regularizer`): the history only shifts."""
        return self.cell.penalty_states(tuple(state[:len(self.cell.state_names)]))

    def step(self, projected, state):
        count = len(self.cell.state_names)
        inner, history = tuple(state[:count]), tuple(state[count:])
        with mg.scope("delayed_input"):
            joined = mg.concat([projected, history[0]], axis=1)
        with mg.scope(self.cell.kind):
            with mg.scope("input_projection"):
                joined = self.cell.input_projection(joined)
            inner = tuple(self.cell.step(joined, inner))
        return inner + history[1:] + (self.cell.output(inner),)

    def extra_repr(self):
        return f"delay={self.delay}"
