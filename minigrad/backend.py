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


def cupy_status():
    """``"ok"`` when CuPy imports and runs a kernel on a GPU, ``"absent"`` when it is not
    installed, else ``"broken: <the error>"``: installed, but its import, the driver or the
    GPU fails. The GPU tests skip only when CuPy is absent; a broken one fails them."""
    import importlib.util
    import sys
    try:
        installed = sys.modules.get("cupy") is not None or \
            importlib.util.find_spec("cupy") is not None
    except (ImportError, ValueError):
        installed = False
    if not installed:
        return "absent"
    try:
        cp = cupy()
        if cp.cuda.runtime.getDeviceCount() < 1:
            return "broken: CuPy sees no GPU"
        int((cp.arange(3) * 2).sum())
    except Exception as exc:
        cause = f" ({exc.__cause__})" if exc.__cause__ is not None else ""
        return f"broken: {type(exc).__name__}: {exc}{cause}"
    return "ok"


def cupy_available():
    """True when CuPy imports and runs on a GPU."""
    return cupy_status() == "ok"


def get_array_module(*arrays):
    """NumPy, or CuPy when any of ``arrays`` is a CuPy array."""
    for a in arrays:
        if type(a) is not np.ndarray and type(a).__module__.startswith("cupy"):
            return cupy()
    return np


def backend_of(array):
    """``"cupy"`` for a CuPy array, ``"numpy"`` for anything else (NumPy scalars included)."""
    return "cupy" if type(array).__module__.startswith("cupy") else "numpy"


def set_backend(name):
    """Set the backend of tensors created from now on (``"numpy"`` or ``"cupy"``)."""
    global _default
    if name not in BACKENDS:
        raise ValueError(f"set_backend: unknown backend {name!r}; choose one of {BACKENDS}")
    if name == "cupy":
        cupy()
    _default = name


DEVICE_NAMES = {"cpu": "numpy", "cuda": "cupy"}


def backend_or_dtype(name):
    """What ``to(name)`` means: ``("backend", "numpy"|"cupy")`` for a backend or PyTorch
    device name ("cpu", "cuda", "cuda:0"), else ``("dtype", numpy dtype)``."""
    if isinstance(name, str) and backend_name(name) in BACKENDS:
        return "backend", backend_name(name)
    try:
        return "dtype", np.dtype(name)
    except TypeError:
        raise ValueError(f"to: unknown backend {name!r}; choose one of {BACKENDS} (or "
                         f"'cpu', 'cuda'), or give a dtype") from None


def backend_name(name):
    """The backend a name means: PyTorch's "cpu" is "numpy", "cuda"/"cuda:N" is "cupy"."""
    return DEVICE_NAMES.get(str(name).split(":")[0], str(name))


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


def keep_freed_memory(trim_threshold=1 << 30, mmap_threshold=1 << 25, top_pad=1 << 27):
    """Ask glibc's allocator to keep freed memory for reuse rather than hand it back to the
    operating system at once. Training allocates and frees the same large arrays at every
    time step; without this each new one is fresh memory that page-faults as it is first
    written (the cost PyTorch's caching allocator avoids). Raises the process's resident
    memory; returns False where the C library is not glibc."""
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    trim, pad, mmap = -1, -2, -3   # M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD
    return all(mallopt(option, value) == 1 for option, value in
               ((trim, trim_threshold), (pad, top_pad), (mmap, mmap_threshold)))
