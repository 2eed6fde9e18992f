"""Making tensors from sizes, ranges and random numbers, with PyTorch's names and dtypes
(float32 by default; ``arange`` of integers is int64)."""
import numpy as np

from . import backend
from .random import generator
from .tensor import DEFAULT_DTYPE, Tensor, tensor


def _shape(size):
    """``zeros(2, 3)`` and ``zeros((2, 3))`` both mean shape (2, 3)."""
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        return tuple(size[0])
    return tuple(size)


def _leaf(values, dtype, requires_grad):
    """A leaf on the default backend from NumPy ``values``."""
    dtype = DEFAULT_DTYPE if dtype is None else np.dtype(dtype)
    data = backend.module().asarray(np.asarray(values, dtype=dtype))
    return Tensor(data, requires_grad=requires_grad)


def zeros(*size, dtype=None, requires_grad=False):
    return _leaf(np.zeros(_shape(size)), dtype, requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _leaf(np.ones(_shape(size)), dtype, requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    """``size`` filled with ``fill_value``; the dtype is inferred from it as in
    :func:`tensor` (a Python int gives int64, a float float32)."""
    if dtype is None:
        dtype = np.asarray(tensor(fill_value).data).dtype
    return _leaf(np.full(_shape((size,)), fill_value), dtype, requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return Tensor(t.xp.zeros(t.shape, dtype=dtype or t.dtype), requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return Tensor(t.xp.ones(t.shape, dtype=dtype or t.dtype), requires_grad=requires_grad)


def randn(*size, dtype=None, requires_grad=False):
    """Samples of N(0, 1) from the engine's generator (seeded by ``manual_seed``)."""
    return _leaf(generator().standard_normal(_shape(size)), dtype, requires_grad)


def rand(*size, dtype=None, requires_grad=False):
    """Samples of U[0, 1) from the engine's generator."""
    return _leaf(generator().random(_shape(size)), dtype, requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """start, start + step, ... below end; int64 when all three are integers, else float32."""
    start, end = (0, start) if end is None else (start, end)
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if integral else DEFAULT_DTYPE
    return _leaf(np.arange(start, end, step), dtype, requires_grad)


def from_numpy(array):
    """A tensor that shares ``array``'s memory and keeps its dtype (PyTorch's
    ``from_numpy``): writing to one changes the other."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def eye(n, m=None, dtype=None, requires_grad=False):
    """The ``n`` x ``m`` identity matrix (``m`` defaults to ``n``), float32 by default."""
    return _leaf(np.eye(n, n if m is None else m), dtype, requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (float32)."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative integer, got {steps!r}")
    return _leaf(np.linspace(start, end, steps), dtype, requires_grad)
