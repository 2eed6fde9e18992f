"""Shared pieces of the engine tests: the backend fixture, tensor makers and hypothesis
strategies for small float64 arrays. This module holds no tests.

Set ``MINIGRAD_TEST_BACKEND=cupy`` to run every engine test module that imports
``engine_backend`` on the CuPy backend (the tests skip when CuPy or a GPU is missing).
"""
import os

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg

TEST_BACKEND = os.environ.get("MINIGRAD_TEST_BACKEND", "numpy")


def require_cupy(status=None):
    """Skip when CuPy is not installed; fail, naming the error, when it is installed but
    does not work (a broken install or driver must not pass as a skipped GPU test)."""
    status = mg.backend.cupy_status() if status is None else status
    if status == "absent":
        pytest.skip("needs CuPy (not installed)")
    if status != "ok":
        pytest.fail(f"CuPy is installed but does not work: {status}", pytrace=False)


@pytest.fixture(autouse=True)
def engine_backend():
    """Every test of a module that imports this fixture runs on ``TEST_BACKEND``."""
    if TEST_BACKEND == "cupy":
        require_cupy()
    mg.set_backend(TEST_BACKEND)
    yield TEST_BACKEND
    mg.set_backend("numpy")


def array(values, dtype="float64"):
    """``values`` as an array of the current backend."""
    return mg.backend.module().asarray(np.asarray(values), dtype=dtype)


def leaf(values, requires_grad=True, dtype="float64"):
    """A float64 leaf tensor on the current backend."""
    return mg.tensor(np.asarray(values, dtype=dtype), requires_grad=requires_grad,
                     dtype=dtype, backend_name=mg.get_backend())


def index_array(values):
    """An integer or boolean index array on the current backend."""
    values = np.asarray(values)
    return mg.backend.module().asarray(values)


def numpy_of(value):
    """A NumPy copy of a tensor or backend array."""
    if isinstance(value, mg.Tensor):
        return value.numpy().copy()
    return mg.backend.to_backend(value, "numpy").copy()


# -- strategies ------------------------------------------------------------------------
def floats(low=-2.0, high=2.0):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def away_from_zero(low=0.1, high=2.0):
    """Floats with ``low <= |x| <= high`` (for relu, abs, denominators)."""
    return st.tuples(st.sampled_from([-1.0, 1.0]), floats(low, high)).map(
        lambda pair: pair[0] * pair[1])


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def arrays(shape, elements=None):
    return hnp.arrays(np.float64, shape, elements=elements if elements is not None
                      else floats())


def distinct_arrays(shape):
    """Arrays whose elements differ pairwise by at least 0.1 (no ties for max)."""
    return hnp.arrays(np.float64, shape, unique=True,
                      elements=st.integers(-30, 30).map(lambda k: k / 10))


def broadcast_pairs(max_dims=3, max_side=4):
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=max_dims,
                                             max_side=max_side).map(lambda r: r.input_shapes)


@st.composite
def axes_for(draw, ndim):
    """``None``, one axis (possibly negative) or a tuple of distinct axes."""
    if ndim == 0:
        return None
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return None
    if choice == 1:
        return draw(st.integers(-ndim, ndim - 1))
    picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in picked)
