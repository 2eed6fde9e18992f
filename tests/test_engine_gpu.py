"""The CuPy backend: a representative slice of the gradient checks run on the GPU, moves
between backends, and the error for mixing them. Skipped without CuPy; failed, naming the
error, when CuPy is installed but broken (no driver, no GPU). To run every engine test on
the GPU, set ``MINIGRAD_TEST_BACKEND=cupy``."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad.backend import cupy_status
from minigrad.testing import gradcheck, gradgradcheck
from test_engine_support import require_cupy

STATUS = cupy_status()
pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(STATUS == "absent", reason="needs CuPy (not installed)")]

RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def on_cupy():
    require_cupy(STATUS)
    mg.set_backend("cupy")
    yield
    mg.set_backend("numpy")


def gpu_leaf(values, requires_grad=True):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad,
                     dtype="float64", backend_name="cupy")


def gpu_index(values):
    return mg.backend.cupy().asarray(np.asarray(values))


CASES = {
    "elementwise": ([(3, 4)], lambda x: x.exp() * x.tanh() + x.sigmoid() - x * x),
    "log_sqrt_div": ([(2, 3)], lambda x: (x * x + 1.0).log() / (x * x + 2.0).sqrt()),
    "relu_abs": ([(4, 5)], lambda x: (x + 0.05).relu() * (x - 0.03).abs()),
    "broadcast": ([(2, 1, 3), (4, 1)], lambda a, b: a * b - a / (b * b + 1.0) + b),
    "batched_matmul": ([(2, 3, 4), (4, 2)], lambda a, b: a @ b),
    "vector_matmul": ([(3,), (2, 3, 4)], lambda a, b: a @ b),
    "reductions": ([(3, 4)], lambda x: x.sum(axis=0) + x.mean(axis=1, keepdims=True)
                   + x.max(axis=-1, keepdims=True)),
    "gather_with_repeats": ([(4, 3)], lambda x: x[gpu_index([0, 3, 0, 0])] * 2.0),
    "boolean_mask": ([(3, 4)], lambda x: x[gpu_index(np.arange(12).reshape(3, 4) % 3 == 0)]),
    "slices": ([(4, 3)], lambda x: x[1:] * x[:-1] + x[::2].sum(axis=0)),
    "concat_split_stack": ([(2, 3)], lambda x: mg.stack(mg.split(mg.concat([x, x * x], 1), 3,
                                                                 axis=1), axis=0)),
    "where": ([(3, 3)], lambda x: mg.where(gpu_index(np.eye(3, dtype=bool)), x.exp(), x)),
    "softmax_family": ([(3, 4)], lambda x: F.softmax(x) + F.log_softmax(x, axis=0)
                       + F.logsumexp(x, keepdims=True)),
    "cross_entropy": ([(3, 4)], lambda x: F.cross_entropy(x, gpu_index([0, 3, 3]))),
    "embedding": ([(5, 2)], lambda w: F.embedding(gpu_index([[4, 0], [4, 4]]), w) ** 2),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_on_the_gpu(name):
    input_shapes, fn = CASES[name]
    inputs = [gpu_leaf(RNG.uniform(-1.5, 1.5, shape)) for shape in input_shapes]
    assert all(t.backend == "cupy" for t in inputs)
    assert fn(*inputs).backend == "cupy"
    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("name", ["elementwise", "batched_matmul", "softmax_family"])
def test_second_derivatives_on_the_gpu(name):
    input_shapes, fn = CASES[name]
    inputs = [gpu_leaf(RNG.uniform(-1.5, 1.5, shape)) for shape in input_shapes]
    assert gradgradcheck(fn, inputs)


def test_default_backend_makes_cupy_tensors():
    x = mg.tensor([1.0, 2.0])
    assert x.backend == "cupy" and x.xp is mg.backend.cupy()
    assert mg.get_array_module(x.data) is mg.backend.cupy()


def test_to_round_trips_keep_values_and_dtype():
    values = RNG.standard_normal((3, 2)).astype(np.float32)
    host = mg.tensor(values, backend_name="numpy")
    device = host.to("cupy")
    back = device.to("numpy")
    assert device.backend == "cupy" and back.backend == "numpy"
    assert device.dtype == np.float32 and back.dtype == np.float32
    np.testing.assert_array_equal(back.numpy(), values)
    assert isinstance(back.data, np.ndarray)


def test_gradients_flow_back_across_a_move():
    host = mg.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True, dtype="float64",
                     backend_name="numpy")
    device = host.to("cupy")
    ((device * device).sum()).backward()
    assert host.grad.backend == "numpy"
    np.testing.assert_allclose(host.grad.numpy(), 2 * host.numpy())


def test_mixing_backends_is_a_clear_error():
    host = mg.tensor(np.ones((2, 3)), backend_name="numpy")
    device = mg.tensor(np.ones((2, 3)), backend_name="cupy")
    with mg.scope("t=1"), pytest.raises(TypeError) as info:
        host + device
    message = str(info.value)
    assert "add" in message and "t=1" in message and "different backends" in message
    assert "numpy(2, 3)" in message and "cupy(2, 3)" in message
    with pytest.raises(TypeError, match="matmul"):
        host.T @ device


def test_module_moves_trains_and_saves(tmp_path):
    mg.set_backend("numpy")
    layer = mg.nn.Linear(3, 2)
    reference = layer.state_dict()
    layer.to("cupy")
    assert all(p.backend == "cupy" for p in layer.parameters())
    optimizer = mg.optim.Adam(layer.parameters(), lr=0.01)
    x = mg.tensor(np.ones((4, 3)), backend_name="cupy")
    loss = F.cross_entropy(layer(x), gpu_index([0, 1, 1, 0]))
    loss.backward()
    optimizer.step()
    assert all(p.backend == "cupy" for p in layer.parameters())
    changed = layer.state_dict()
    assert all(isinstance(v, np.ndarray) for v in changed.values())
    assert not np.array_equal(changed["weight"], reference["weight"])
    loaded = mg.load(mg.save(layer, tmp_path / "gpu.npz"))
    np.testing.assert_array_equal(loaded["weight"], changed["weight"])
