"""What every recurrent cell shares: its state, its checks, and its scope.

A cell takes one step, ``state_t = cell(x_t, state_{t-1})``. Its state is a tuple of
tensors named by ``state_names`` (``("h",)`` for an Elman RNN, ``("h", "c")`` for an
LSTM); ``cell.output(state)`` is what the step exposes (h). Cells whose input enters
through a linear map can split a step in two, ``input_projection`` (one matmul for a whole
sequence) and ``step``; :func:`models.unroll` uses that when it is there.
"""
import math

import numpy as np

import minigrad as mg
from minigrad import functional as F
from minigrad.nn import Module, Parameter, uniform

from .regularizer import start_unroll


class Cell(Module):
    """Base class of recurrent cells. Subclasses set ``input_size``, ``hidden_size``,
    ``state_names``, ``kind`` (the scope name, e.g. "lstm"), and implement ``step``."""

    state_names = ("h",)
    kind = "cell"

    def __init__(self, input_size, hidden_size, learn_initial_state=False):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"{type(self).__name__}: {name} must be a positive integer, "
                                 f"got {value!r}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.learn_initial_state = learn_initial_state
        if learn_initial_state:
            self.create_initial_state_parameters()

    def create_initial_state_parameters(self):
        """One zero-initialised Parameter ``initial_<name>`` per state tensor (h_0 "can be a
        vector of all zeros, or trained", 000_*.txt). Cells whose state sizes are known only
        after ``Cell.__init__`` call this themselves."""
        for name, size in zip(self.state_names, self.state_sizes()):
            setattr(self, f"initial_{name}", Parameter(np.zeros(size, dtype=np.float32)))

    def state_sizes(self):
        """Feature size of each state tensor (hidden_size for each by default)."""
        return tuple(self.hidden_size for _ in self.state_names)

    @property
    def output_size(self):
        """Feature size of ``cell.output(state)`` (hidden_size unless the cell says otherwise)."""
        return self.hidden_size

    def reset_parameters(self, bound=None):
        """PyTorch's default: every weight and bias U(-k, k), k = 1/sqrt(hidden_size)."""
        bound = 1 / math.sqrt(self.hidden_size) if bound is None else bound
        for name, p in self.named_parameters():
            if not name.startswith("initial_"):
                p.data = uniform(p.shape, bound).astype(p.dtype)

    # -- state ---------------------------------------------------------------------------
    def initial_state(self, batch, dtype=np.float32):
        """Zeros of shape (batch, size) per state tensor, or the learned initial state."""
        first = next(self.parameters(), None)
        xp = mg.backend.module() if first is None else first.xp
        if self.learn_initial_state:
            parts = []
            for name, size in zip(self.state_names, self.state_sizes()):
                learned = getattr(self, f"initial_{name}")
                parts.append(learned.reshape(1, size) * mg.Tensor(xp.ones((batch, 1), dtype)))
            return tuple(parts)
        return tuple(mg.Tensor(xp.zeros((batch, size), dtype=dtype))
                     for size in self.state_sizes())

    def output(self, state):
        """The tensor a step exposes (``h``)."""
        return state[0]

    def penalty_states(self, state):
        """The tensors x_k of a step's state that the Pascanu et al. regularizer keeps
        (:mod:`models.regularizer`): the state itself unless a cell says otherwise."""
        return state

    def check_input(self, x, state):
        """Raise a ValueError naming the cell, the scope (time step) and the shapes."""
        where = f"{type(self).__name__} at '{mg.current_scope() or 'top level'}'"
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"{where}: input x_t must have shape (batch, {self.input_size}), "
                             f"got {x.shape}")
        if not isinstance(state, tuple) or len(state) != len(self.state_names):
            raise ValueError(f"{where}: state must be a tuple of {len(self.state_names)} tensors "
                             f"{self.state_names}, got {type(state).__name__}")
        for name, size, s in zip(self.state_names, self.state_sizes(), state):
            if s.shape != (x.shape[0], size):
                raise ValueError(f"{where}: state {name} must have shape ({x.shape[0]}, {size}) "
                                 f"to match x_t {x.shape}, got {s.shape}")
        first = next(self.parameters(), None)
        if first is not None and x.dtype != first.dtype:
            raise TypeError(f"{where}: input x_t is {x.dtype} but the parameters are "
                            f"{first.dtype} (as in PyTorch, no silent mixing); convert one: "
                            f"x.float() or cell.double()")

    # -- one step ------------------------------------------------------------------------
    def create_weights(self, gates, bias=True):
        """PyTorch's layout for ``gates`` stacked gates: ``weight_ih`` (gates*H, D),
        ``weight_hh`` (gates*H, H), ``bias_ih`` and ``bias_hh`` (gates*H,) or None; zeros
        until :meth:`reset_parameters`."""
        xp, rows = mg.backend.module(), gates * self.hidden_size
        self.weight_ih = Parameter(xp.zeros((rows, self.input_size), "float32"))
        self.weight_hh = Parameter(xp.zeros((rows, self.hidden_size), "float32"))
        self.bias_ih = Parameter(xp.zeros(rows, "float32")) if bias else None
        self.bias_hh = Parameter(xp.zeros(rows, "float32")) if bias else None

    def input_projection(self, x):
        """The input's contribution to the pre-activations, for any leading shape (a whole
        sequence at once); x unchanged unless a cell says otherwise."""
        return x

    def linear_input_projection(self, x):
        """W_ih x + b_ih: what ``input_projection`` is for cells built by
        :meth:`create_weights` (``input_projection = Cell.linear_input_projection``)."""
        return F.linear(x, self.weight_ih, self.bias_ih)

    def summed_input_projection(self, x):
        """W_ih x + b_ih + b_hh: the part of ``W_ih x_t + b_ih + W_hh h_{t-1} + b_hh`` that
        does not depend on h, both biases included, for a whole sequence at once. Cells that
        use it add the rest with :meth:`recurrence`."""
        if self.bias_ih is None:
            return F.linear(x, self.weight_ih)
        return F.linear(x, self.weight_ih, self.bias_ih + self.bias_hh)

    def recurrence(self, projected, h):
        """W_hh h_{t-1} + projected (from :meth:`summed_input_projection`): one linear op
        whose bias is the projected input."""
        return F.linear(h, self.weight_hh, projected)

    def step(self, projected, state):
        raise NotImplementedError(f"{type(self).__name__}.step")

    def forward(self, x, state=None):
        if state is None:
            state = self.initial_state(x.shape[0], x.dtype)
        state = tuple(state) if isinstance(state, (tuple, list)) else (state,)
        self.check_input(x, state)
        with mg.scope(self.kind):
            with mg.scope("input_projection"):
                projected = self.input_projection(x)
            return self.step(projected, state)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"


def unroll(cell, xs, state=None, reverse=False):
    """Run ``cell`` over ``xs`` (T, B, D), building the unrolled graph; returns hs (T, B, H)
    and the final state. Step t's ops sit in scope ``t={t}/{cell.kind}/...``.

    h_t = f(h_{t-1}, x_t; W): the same parameters at every step (000_*.txt, "Unfolding an
    RNN"); BPTT is then ordinary backpropagation through this graph. ``reverse=True`` runs
    from t = T-1 down to 0 (the backward half of a bidirectional RNN): h_t = f(h_{t+1}, x_t);
    scopes keep the true position t and hs stays in input order. Inside
    :func:`models.regularizer.recording_unrolls` the states are recorded as they are made.
    """
    name = type(cell).__name__
    if xs.ndim != 3:
        raise ValueError(f"unroll({name}): xs must have shape (T, batch, {cell.input_size}), "
                         f"got {xs.shape}")
    steps, batch, features = xs.shape
    if steps == 0:
        raise ValueError(f"unroll({name}): the sequence is empty (T = 0, xs shape {xs.shape})")
    if features != cell.input_size:
        raise ValueError(f"unroll({name}): xs must have shape (T, batch, {cell.input_size}), "
                         f"got {xs.shape}")
    if state is None:
        state = cell.initial_state(batch, xs.dtype)
    state = tuple(state) if isinstance(state, (tuple, list)) else (state,)
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    with mg.scope(f"t={order[0]}"):
        cell.check_input(mg.Tensor(xs.data[order[0]]), state)
    with mg.scope("inputs"), mg.scope(cell.kind), mg.scope("input_projection"):
        projected = cell.input_projection(xs)
    hs = [None] * steps
    recorded = start_unroll(cell)
    for t in order:
        with mg.scope(f"t={t}"), mg.scope(cell.kind):
            state = cell.step(projected[t], state)
        hs[t] = cell.output(state)
        if recorded is not None:
            recorded.append(state)
    with mg.scope("outputs"):
        return mg.stack(hs), state
