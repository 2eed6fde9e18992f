"""How backward runs: accumulation into ``.grad``, inputs left untouched, graphs freed
(or retained), no recursion on long chains, no graph kept alive across training steps,
``no_grad``, ``scope``, ``retain_grad`` and ``detach``."""
import gc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_support import (  # noqa: F401
    arrays,
    engine_backend,
    floats,
    index_array,
    leaf,
    numpy_of,
    shapes,
)

import minigrad as mg
import minigrad.functional as F

EXPRESSIONS = {
    "elementwise": lambda x, y: (x * y + x.exp() - y.tanh() / (x * x + 1.0)).sum(),
    "broadcast_matmul": lambda x, y: (x @ y.T).sigmoid().sum() + (x + y[0]).mean(),
    "indexing": lambda x, y: (x[index_array([0, 0, -1])] * y[0] + x[:, 1:].sum()
                              + x[0] * y[-1]).sum(),
    "reused": lambda x, y: ((x + x) * (y + y) + x * y).max() + mg.concat([x, y]).sum(),
    "softmax": lambda x, y: F.log_softmax(x * y).sum() + F.logsumexp(y).sum(),
}


def _inputs(data):
    rows = data.draw(st.integers(1, 3))
    x = data.draw(arrays((rows, 3)))
    y = data.draw(arrays((rows, 3)))
    return x, y


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
@settings(max_examples=20)
@given(data=st.data())
def test_forward_and_backward_never_mutate_inputs(name, data):
    fn = EXPRESSIONS[name]
    x_values, y_values = _inputs(data)
    x, y = leaf(x_values), leaf(y_values)
    out = fn(x, y)
    out.backward(retain_graph=True)
    first_x, first_y = x.grad, y.grad
    seen_x, seen_y = numpy_of(first_x), numpy_of(first_y)
    seed = leaf(np.array(2.0), requires_grad=False)
    out.backward(seed)
    mg.grad(fn(x, y), [x, y], create_graph=True)
    np.testing.assert_array_equal(x.numpy(), x_values)
    np.testing.assert_array_equal(y.numpy(), y_values)
    assert seed.item() == 2.0
    # the first gradients are not updated in place by the second backward
    np.testing.assert_array_equal(first_x.numpy(), seen_x)
    np.testing.assert_array_equal(first_y.numpy(), seen_y)


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
@settings(max_examples=20)
@given(data=st.data())
def test_gradients_accumulate_across_two_backward_calls(name, data):
    fn = EXPRESSIONS[name]
    x_values, y_values = _inputs(data)
    x, y = leaf(x_values), leaf(y_values)
    fn(x, y).backward()
    once_x, once_y = x.grad.numpy().copy(), y.grad.numpy().copy()
    fn(x, y).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * once_x, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(y.grad.numpy(), 2 * once_y, rtol=1e-12, atol=1e-15)
    x.zero_grad()
    assert x.grad is None


def test_leaves_sharing_a_gradient_stay_independent():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x + y).sum().backward()
    (x * 5.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])


def test_backward_frees_the_graph_unless_retained():
    x = leaf([1.0, 2.0, 3.0])
    hidden = x * 2.0
    loss = hidden.sum()
    loss.backward(retain_graph=True)
    assert hidden.parents and loss.parents
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0, 4.0])
    assert hidden.parents == () and loss.parents == ()


def test_a_chain_of_100000_ops_backpropagates():
    x = leaf(0.5)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y = y * 3.0
    y.backward()
    assert x.grad.item() == 3.0


def test_a_deep_graph_with_fan_out_backpropagates():
    x = leaf([0.1, 0.2])
    y = x
    for _ in range(10_000):
        y = y * 0.5 + y * 0.5
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


@pytest.mark.parametrize("chunk_bytes", [1 << 24, 200])
def test_a_weight_used_at_every_step_gets_the_sum_of_its_terms(monkeypatch, chunk_bytes):
    """The deferred a^T b sums (in chunks of any size) equal the per-use VJPs, which a
    recorded backward (create_graph) runs one by one."""
    monkeypatch.setattr(mg.autograd, "CHUNK_BYTES", chunk_bytes)  # 200: one term per chunk
    rng = np.random.default_rng(0)
    weight, bias = leaf(rng.standard_normal((4, 3))), leaf(rng.standard_normal(4))
    w2 = leaf(rng.standard_normal((3, 2)))
    xs = [leaf(rng.standard_normal(shape)) for shape in [(5, 3), (2, 5, 3), (1, 3), (3,)]]

    def loss():
        total = 0.0
        for x in xs:
            total = total + (F.linear(x, weight, bias).tanh() ** 2).sum() + (x @ w2).exp().sum()
        return total

    plain = mg.grad(loss(), [weight, bias, w2] + xs)
    recorded = mg.grad(loss(), [weight, bias, w2] + xs, create_graph=True)
    for a, b in zip(plain, recorded):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


def _count_live_tensors():
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, mg.Tensor))


@pytest.mark.slow
def test_10000_training_steps_keep_memory_flat():
    rng = np.random.default_rng(0)
    model = mg.nn.Linear(4, 3)
    optimizer = mg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    inputs = leaf(rng.standard_normal((5, 4)), requires_grad=False).astype("float32")
    targets = index_array([0, 1, 2, 0, 1])
    counts, previous_graph = [], None
    for step in range(10_000):
        optimizer.zero_grad()
        hidden = model(inputs).tanh()
        loss = F.cross_entropy(hidden * 2.0, targets)
        loss.backward()
        optimizer.step()
        if previous_graph is not None:
            gc.collect()
            assert all(ref() is None for ref in previous_graph), f"graph of step {step - 1}"
            previous_graph = None
        if step % 2500 == 0:
            previous_graph = [weakref.ref(loss), weakref.ref(hidden)]
            del loss, hidden
            counts.append(_count_live_tensors())
    assert max(counts) - min(counts) <= 2, counts
    assert np.isfinite(model.weight.numpy()).all()


def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    with mg.no_grad():
        y = (x * 2.0).exp()
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.node is None
    with pytest.raises(RuntimeError, match="no output requires a gradient"):
        y.sum().backward()


def test_scope_paths_are_stamped_on_ops():
    x = leaf([1.0, 2.0])
    with mg.scope("t=3"):
        with mg.scope("lstm"):
            gate = (x * 2.0).sigmoid()
            assert mg.current_scope() == "t=3/lstm"
        after = gate + 1.0
    assert gate.scope == "t=3/lstm" and gate.op == "sigmoid"
    assert after.scope == "t=3"
    assert x.scope == "" and mg.current_scope() == ""


def test_scope_is_restored_after_an_exception():
    with pytest.raises(KeyError), mg.scope("outer"):
        raise KeyError("boom")
    assert mg.current_scope() == ""


def test_retain_grad_keeps_an_intermediate_gradient():
    x = leaf([1.0, -2.0])
    hidden = (x * 3.0).retain_grad()
    (hidden * hidden).sum().backward()
    np.testing.assert_array_equal(hidden.grad.numpy(), [6.0, -12.0])
    np.testing.assert_array_equal(x.grad.numpy(), [18.0, -36.0])


def test_detach_cuts_the_graph():
    x = leaf([1.0, 2.0])
    y = (x * x).detach() * x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 4.0])
    assert not (x * 2.0).detach().requires_grad


def test_same_backend_move_is_the_identity():
    x = leaf([1.0])
    assert x.to(mg.get_backend()) is x


@pytest.mark.parametrize("value", [np.float64(0.25), np.float32(0.25), np.array(0.25), 0.25])
def test_numpy_scalars_make_tensors_of_the_default_backend(value):
    t = mg.tensor(value, requires_grad=True, dtype="float64")
    t.sigmoid().backward()
    assert t.backend == mg.get_backend() and t.grad.shape == ()
    s = 1 / (1 + np.exp(-0.25))
    assert abs(t.grad.item() - s * (1 - s)) < 1e-15


# -- who owns a gradient: the engine adds in place only into sums it made itself ----------
def test_a_gradient_shared_by_two_tensors_is_not_added_into():
    """add's VJP hands the same array to a and b; a's later term must not land in b's."""
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    other = a * 5.0                              # made first, so its backward runs last
    total = (a + b) * leaf([1.0, 10.0], requires_grad=False)
    (total.sum() + other.sum()).backward()
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 10.0])
    np.testing.assert_array_equal(a.grad.numpy(), [6.0, 15.0])


def test_a_sliced_tensor_sharing_a_gradient_is_not_scattered_into():
    """The scatter of x[1:] must not add into the array x shares with y."""
    x, y = leaf([1.0, 2.0, 3.0]), leaf([0.0, 0.0, 0.0])
    part = x[1:] * 2.0                           # made first: its scatter comes last
    loss = ((x + y) * leaf([1.0, 2.0, 3.0], requires_grad=False)).sum() + part.sum()
    loss.backward()
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 4.0, 5.0])


_identity = mg.ops.primitive("identity")(lambda xp, x: x.copy())
mg.ops.defvjp(_identity, lambda g, out, x: g)      # returns its input: the caller's array


def test_a_vjp_returning_its_input_does_not_let_the_engine_write_into_it():
    x = leaf([1.0, 2.0])
    square = (x * x).sum()                       # made first: its term reaches x last
    y = _identity(x).retain_grad()
    loss = (y * 3.0).sum() + square
    loss.backward()
    np.testing.assert_array_equal(y.grad.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 7.0])


@pytest.mark.parametrize("how", ["backward", "grad"])
def test_x_used_twice_leaves_the_callers_gradient_untouched(how):
    x = leaf([1.0, 2.0])
    seed = mg.Tensor(np.array([1.0, 10.0]))
    if how == "backward":
        (x + x).backward(seed)
        g = x.grad
    else:
        g, = mg.grad(x + x, [x], [seed])
    np.testing.assert_array_equal(seed.numpy(), [1.0, 10.0])
    np.testing.assert_array_equal(g.numpy(), [2.0, 20.0])
