"""The Jordan network: recurrence from the previous output (002_*.txt)."""
import math

import minigrad as mg
from minigrad import functional as F
from minigrad.nn import Parameter, uniform

from .cell import Cell

OUTPUT_NONLINEARITIES = ("tanh", "sigmoid", "softmax", "identity")


class JordanRNNCell(Cell):
    """"Network with output recurrence: memory is from the prediction of the previous
    target" (002_*.txt; Jordan 1986):

        h_t = tanh(W_ih x_t + b_ih + W_yh y_{t-1} + b_hh)        hidden layer
        y_t = phi(W_hy h_t + b_hy)                               output layer

    The state is ``(y,)``, so ``unroll`` returns the outputs y_t, (T, B, output_size);
    ``output_size`` defaults to ``hidden_size``. phi is ``output_nonlinearity``: tanh
    (default), sigmoid, softmax or identity. Parameters: ``weight_ih`` (H, D), ``weight_yh``
    (H, output_size, the recurrent weight), ``bias_ih``, ``bias_hh`` (H,), ``weight_hy``
    (output_size, H), ``bias_hy`` (output_size,); U(-k, k) init, k = 1/sqrt(H) (1/sqrt(fan_in)
    for the output layer).
    """
    kind = "jordan_rnn"
    input_projection = Cell.linear_input_projection
    state_names = ("y",)

    def __init__(self, input_size, hidden_size, output_size=None, output_nonlinearity="tanh",
                 learn_initial_state=False):
        super().__init__(input_size, hidden_size)
        if output_nonlinearity not in OUTPUT_NONLINEARITIES:
            raise ValueError(f"JordanRNNCell: output_nonlinearity must be one of "
                             f"{OUTPUT_NONLINEARITIES}, got {output_nonlinearity!r}")
        self.out_features = hidden_size if output_size is None else int(output_size)
        self.output_nonlinearity = output_nonlinearity
        bound = 1 / math.sqrt(hidden_size)
        self.weight_ih = Parameter(uniform((hidden_size, input_size), bound))
        self.weight_yh = Parameter(uniform((hidden_size, self.out_features), bound))
        self.bias_ih = Parameter(uniform((hidden_size,), bound))
        self.bias_hh = Parameter(uniform((hidden_size,), bound))
        self.weight_hy = Parameter(uniform((self.out_features, hidden_size), bound))
        self.bias_hy = Parameter(uniform((self.out_features,), bound))
        self.learn_initial_state = learn_initial_state
        if learn_initial_state:
            self.create_initial_state_parameters()

    @property
    def output_size(self):
        return self.out_features

    def state_sizes(self):
        return (self.out_features,)

    def step(self, projected, state):
        y, = state
        with mg.scope("recurrence"):
            pre = projected + F.linear(y, self.weight_yh, self.bias_hh)
        with mg.scope("hidden"):
            h = pre.tanh()
        with mg.scope("output"):
            y = F.linear(h, self.weight_hy, self.bias_hy)
            if self.output_nonlinearity == "tanh":
                y = y.tanh()
            elif self.output_nonlinearity == "sigmoid":
                y = y.sigmoid()
            elif self.output_nonlinearity == "softmax":
                y = F.softmax(y, axis=-1)
        return (y,)

    def teacher_forced(self, xs, targets, initial=None):
        """Outputs (T, B, output_size) with the previous *target* fed back in place of the
        previous prediction (teacher forcing; 002_*.txt: the output recurrence "limits its
        expressive power but makes it easier to train"):

            h_t = tanh(W_ih x_t + b_ih + W_yh y*_{t-1} + b_hh),   y_t = phi(W_hy h_t + b_hy)

        with y*_0 = ``initial`` (the initial state, zeros by default) and y*_t = ``targets[t-1]``.
        No step depends on another step's output, so the whole sequence is one batched
        computation and the gradient of sum_t L(y_t, y*_t) needs no backpropagation through
        time. At test time run the cell as usual (``unroll``), feeding back its own y_t.
        """
        if xs.ndim != 3 or xs.shape[2] != self.input_size:
            raise ValueError(f"JordanRNNCell.teacher_forced: xs must have shape (T, batch, "
                             f"{self.input_size}), got {xs.shape}")
        expected = (*xs.shape[:2], self.out_features)
        if tuple(targets.shape) != expected:
            raise ValueError(f"JordanRNNCell.teacher_forced: targets must have shape {expected} "
                             f"to match xs {xs.shape}, got {tuple(targets.shape)}")
        if initial is None:
            initial, = self.initial_state(xs.shape[1], xs.dtype)
        elif isinstance(initial, tuple):
            initial, = initial
        targets = targets if isinstance(targets, mg.Tensor) else mg.tensor(targets, dtype=xs.dtype)
        with mg.scope("teacher_forcing"):
            previous = mg.concat([initial.reshape(1, *initial.shape), targets[:-1]], axis=0)
        with mg.scope(self.kind):
            with mg.scope("input_projection"):
                projected = self.input_projection(xs)
            y, = self.step(projected, (previous,))
        return y

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, output_size={self.out_features}"
