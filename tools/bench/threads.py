"""How many threads NumPy's BLAS uses, read and set at run time through OpenBLAS's own
``openblas_get/set_num_threads`` (found in the shared library NumPy loaded)."""
import ctypes
import os

import numpy as np  # noqa: F401  (loads the BLAS library that this module looks for)

_SUFFIXES = ("", "64_", "_64")
_PREFIXES = ("openblas", "scipy_openblas")


def _openblas():
    """(get, set) functions of the OpenBLAS that this process loaded, or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                get = getattr(library, f"{prefix}_get_num_threads{suffix}", None)
                put = getattr(library, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    get.restype = ctypes.c_int
                    return get, put
    return None


def _from_environment():
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def blas_threads():
    """Threads of NumPy's BLAS: asked of OpenBLAS, else guessed from the environment."""
    functions = _openblas()
    return int(functions[0]()) if functions else _from_environment()


def set_blas_threads(count):
    """Make OpenBLAS use ``count`` threads; False when the library could not be reached."""
    functions = _openblas()
    if functions is None:
        return False
    functions[1](ctypes.c_int(count))
    return blas_threads() == count
