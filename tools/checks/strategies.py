"""Hypothesis strategies for recurrent cells: cells of every kind with small random sizes,
input sequences that fit them, and broadcastable shape tuples.

    from hypothesis import given
    from tools.checks import strategies as cs

    @given(cs.cells_and_sequences(kinds=["lstm", "gru"]))
    def test_my_property(example):
        cell, xs = example.build()
"""
import dataclasses
import importlib
import importlib.util
import os

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as npst

import minigrad as mg
import models
from tools.gradflow import cast

MAX_INPUT, MAX_HIDDEN, MAX_STEPS, MAX_BATCH = 3, 3, 4, 2

CELL_KINDS = {
    **models.CELLS,
    "peephole_lstm_previous": lambda d, h: models.PeepholeLSTMCell(d, h,
                                                                  output_peephole="previous"),
    "leaky_rnn": lambda d, h: models.LeakyRNNCell(d, h, tau=np.linspace(1, 4, h)),
    "leaky_rnn_learned_tau": lambda d, h: models.LeakyRNNCell(d, h, tau=3.0, learn_tau=True),
    "deep_transition_rnn": lambda d, h: models.DeepTransitionRNNCell(d, h, 2, shortcut=True),
    "time_delay_rnn": lambda d, h: models.TimeDelayCell(models.RNNCell(d + h, h), 2),
    "time_delay_lstm": lambda d, h: models.TimeDelayCell(models.LSTMCell(d + h, h), 3),
    "stacked_gru": lambda d, h: models.Stacked([models.GRUCell(d, h), models.GRUCell(h, h)]),
    "stacked_skip_lstm": lambda d, h: models.Stacked(
        [models.LSTMCell(d, h), models.LSTMCell(d + h, h)], skip=True),
    "bidirectional_lstm": lambda d, h: models.Bidirectional(models.LSTMCell(d, h),
                                                            models.LSTMCell(d, h)),
    "tcn": lambda d, h: models.TCN(d, [h, h], kernel_size=2, dilations=[1, 2]),
}
"""Name -> constructor(input_size, hidden_size): every cell of :data:`models.CELLS` under its
registry name (the leaky and deep-transition cells with settings that exercise more of
them: a tau per unit, a shortcut), variants named after their cell, and the sequence
wrappers (Stacked, Bidirectional, TCN: run with :func:`models.run_sequence`)."""


def resolve_cell(name):
    """A constructor from a kind name of :data:`CELL_KINDS`, or ``module:attribute`` /
    ``path/to/file.py:attribute`` naming a user's cell class (or any callable taking
    input_size and hidden_size)."""
    if name in CELL_KINDS:
        return CELL_KINDS[name]
    if ":" not in name:
        raise KeyError(f"unknown cell {name!r}: use one of {', '.join(CELL_KINDS)} or "
                       f"module:ClassName")
    module_name, _, attribute = name.partition(":")
    try:
        if module_name.endswith(".py"):
            loader = importlib.util.spec_from_file_location(
                os.path.splitext(os.path.basename(module_name))[0], module_name)
            if loader is None or not os.path.isfile(module_name):
                raise ImportError(f"no such file {module_name!r}")
            module = importlib.util.module_from_spec(loader)
            loader.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except ImportError as exc:
        raise KeyError(f"cell {name!r}: cannot import module {module_name!r} ({exc})") from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise KeyError(f"cell {name!r}: module {module_name!r} has no {attribute!r}") from None


@dataclasses.dataclass(frozen=True)
class CellSpec:
    """Everything needed to rebuild one drawn cell; its repr is the falsifying example."""
    kind: str
    input_size: int
    hidden_size: int
    seed: int
    weight_scale: float = 1.0

    def build(self, dtype="float64", constructor=None):
        mg.manual_seed(self.seed)
        cell = (constructor or resolve_cell(self.kind))(self.input_size, self.hidden_size)
        cast(cell, dtype)
        if self.weight_scale != 1.0:
            for p in cell.parameters():
                p.data = p.data * self.weight_scale
        return cell


@dataclasses.dataclass(frozen=True)
class CellExample:
    """A cell spec and an input sequence (T, B, input_size) for it."""
    spec: CellSpec
    xs: np.ndarray

    def build(self, dtype="float64", constructor=None):
        return self.spec.build(dtype, constructor), self.xs.astype(dtype)

    def __repr__(self):
        values = np.array2string(self.xs, precision=17, separator=", ",
                                 max_line_width=10**6).replace("\n", "")
        return f"CellExample({self.spec!r}, xs=np.array({values}))  # xs shape {self.xs.shape}"


def cell_specs(kinds=None, max_input=MAX_INPUT, max_hidden=MAX_HIDDEN, weight_scale=True):
    """:class:`CellSpec` values for the named kinds (all of :data:`CELL_KINDS` by default;
    ``module:Class`` names work too)."""
    kinds = list(CELL_KINDS) if kinds is None else list(kinds)
    scales = st.floats(0.5, 2.0) if weight_scale else st.just(1.0)
    return st.builds(CellSpec, st.sampled_from(kinds), st.integers(1, max_input),
                     st.integers(1, max_hidden), st.integers(0, 2**16), scales)


def cells(kinds=None, max_input=MAX_INPUT, max_hidden=MAX_HIDDEN, dtype="float64"):
    """Cells (float64 by default) of the named kinds with small random sizes."""
    return cell_specs(kinds, max_input, max_hidden).map(lambda spec: spec.build(dtype))


def sequences(input_size, max_steps=MAX_STEPS, max_batch=MAX_BATCH, bound=2.0, gap=0.01,
              dtype=np.float64):
    """Input sequences (T, B, input_size) with entries in [-bound, -gap] or [gap, bound]:
    exact zeros would put relu networks (TCN) on their kink, where central differences
    and the one-sided derivative legitimately disagree."""
    shapes = st.tuples(st.integers(1, max_steps), st.integers(1, max_batch),
                       st.just(input_size))
    magnitudes = st.floats(gap, bound, allow_nan=False, allow_subnormal=False, width=64)
    elements = st.tuples(magnitudes, st.sampled_from((1.0, -1.0))).map(lambda v: v[0] * v[1])
    return shapes.flatmap(lambda shape: npst.arrays(dtype, shape, elements=elements))


@st.composite
def cells_and_sequences(draw, kinds=None, max_steps=MAX_STEPS, max_batch=MAX_BATCH,
                        max_input=MAX_INPUT, max_hidden=MAX_HIDDEN):
    """A :class:`CellExample`: a cell spec and an input sequence that fits it."""
    spec = draw(cell_specs(kinds, max_input, max_hidden))
    xs = draw(sequences(spec.input_size, max_steps, max_batch))
    return CellExample(spec, xs)


def broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3):
    """Tuples of ``num_shapes`` shapes that NumPy broadcasting accepts together."""
    return npst.mutually_broadcastable_shapes(num_shapes=num_shapes, max_dims=max_dims,
                                              max_side=max_side).map(lambda r: r.input_shapes)
