"""The one registry of recurrent cells by name, for every tool that takes a cell's name
(``minigrad train``, ``render``, ``check``, ``gradflow``, the experiments).

Each cell has exactly one name, its ``kind``: the class name without ``Cell``, in snake
case. Every entry is built as ``CELLS[name](input_size, hidden_size)``.
"""
from .coupled import CoupledLSTMCell
from .deep_transition import DeepTransitionRNNCell
from .gru import GRUCell
from .jordan import JordanRNNCell
from .leaky import LeakyRNNCell
from .lstm import LSTMCell
from .peephole import PeepholeLSTMCell
from .rnn import RNNCell

CELLS = {cls.kind: cls for cls in (RNNCell, LSTMCell, GRUCell, PeepholeLSTMCell,
                                   CoupledLSTMCell, LeakyRNNCell, JordanRNNCell,
                                   DeepTransitionRNNCell)}
"""Name -> cell class; the name is the class's ``kind`` (also its scope in every graph)."""

#: names that checkpoints written before this registry store in their config: the same
#: without underscores
_FORMER_NAMES = {name.replace("_", ""): name for name in CELLS if "_" in name}


def cell_name(cls):
    """The registry name of a cell class (KeyError for a class that is not registered)."""
    name = getattr(cls, "kind", None)
    if CELLS.get(name) is cls:
        return name
    raise KeyError(f"{cls.__name__} is not in the cell registry")


def canonical_cell_name(name):
    """``name``, or the registry name for the one a checkpoint written before stored."""
    return _FORMER_NAMES.get(name, name)


def make_cell(name, input_size, hidden_size):
    """A new ``CELLS[name](input_size, hidden_size)``; a ValueError lists the names."""
    if name not in CELLS:
        raise ValueError(f"unknown cell {name!r}; choose one of {', '.join(CELLS)}")
    return CELLS[name](input_size, hidden_size)
