"""Choosing the array module: NumPy, or CuPy on a GPU.

One function, :func:`get_array_module`, decides which module an op uses, in the spirit of
Chainer's helper of the same name; nothing else in the engine asks "are we on the GPU?".
CuPy is imported only when it is first asked for.
"""
import numpy as np

BACKENDS = ("numpy", "cupy")
_default = "numpy"
_cupy = None


def cupy():
    """The CuPy module, imported on first use; a clear error when it is not installed."""
    global _cupy
    if _cupy is None:
        try:
            import cupy as cp
        except ImportError as exc:
            raise ImportError(
                "the 'cupy' backend needs CuPy: pip install 'minigrad[gpu]' "
                "(a CUDA 12 wheel, cupy-cuda12x)") from exc
        _cupy = cp
    return _cupy


def cupy_available():
    """True when CuPy imports and sees at least one GPU."""
    try:
        return cupy().cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def get_array_module(*arrays):
    """NumPy, or CuPy when any of ``arrays`` is a CuPy array."""
    for a in arrays:
        if type(a).__module__.startswith("cupy"):
            return cupy()
    return np


def backend_of(array):
    return "numpy" if isinstance(array, np.ndarray) else "cupy"


def set_backend(name):
    """Set the backend of tensors created from now on (``"numpy"`` or ``"cupy"``)."""
    global _default
    if name not in BACKENDS:
        raise ValueError(f"set_backend: unknown backend {name!r}; choose one of {BACKENDS}")
    if name == "cupy":
        cupy()
    _default = name


def get_backend():
    return _default


def module(name=None):
    """The array module of backend ``name`` (the default backend when None)."""
    name = name or _default
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {BACKENDS}")
    return np if name == "numpy" else cupy()


def to_backend(array, name):
    """``array`` moved to backend ``name`` (no copy when it is already there)."""
    if name not in BACKENDS:
        raise ValueError(f"to: unknown backend {name!r}; choose one of {BACKENDS}")
    if name == "numpy":
        return array if isinstance(array, np.ndarray) else cupy().asnumpy(array)
    return cupy().asarray(array)
