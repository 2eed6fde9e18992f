"""One derivative per op: where a plain backward takes a faster route (``Op.outer``,
``Op.scatter``), it must give what the op's ``defvjp`` line gives, for every shape; and the
anomaly check sees every gradient, whichever op made it.

The ``defvjp`` lines run in two other ways: under ``detect_anomaly()`` (on arrays) and
with ``create_graph=True`` (on Tensors); the three results must agree."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_engine_support import arrays, engine_backend, index_array, leaf, numpy_of  # noqa: F401

import minigrad as mg
import minigrad.functional as F
from minigrad import ops
from minigrad.tensor import Op

TESTED = {"matmul", "linear", "getitem", "gather"}


def test_every_op_with_a_second_route_is_tested_here():
    with_routes = {op.name for op in vars(ops).values()
                   if isinstance(op, Op) and (op.outer is not None or op.scatter is not None)}
    assert with_routes == TESTED


def three_routes(fn, inputs):
    """Gradients of sum(fn(*inputs) * weights) by the plain backward, by the defvjp lines on
    arrays (anomaly mode) and by the defvjp lines on Tensors (create_graph)."""
    out = fn(*inputs)
    weights = mg.Tensor(mg.backend.module().asarray(
        np.random.default_rng(3).standard_normal(out.shape)))
    results = []
    for mode in ("fast", "anomaly", "recorded"):
        loss = (fn(*inputs) * weights).sum()
        if mode == "anomaly":
            with mg.detect_anomaly():
                grads = mg.grad(loss, inputs)
        else:
            grads = mg.grad(loss, inputs, create_graph=mode == "recorded")
        results.append([numpy_of(g) for g in grads])
    return results


def assert_routes_agree(fn, inputs):
    fast, anomaly, recorded = three_routes(fn, inputs)
    for i, (a, b, c) in enumerate(zip(fast, anomaly, recorded)):
        assert a.shape == b.shape == c.shape == inputs[i].shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"input {i}")
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12, err_msg=f"input {i}")


@st.composite
def matmul_operands(draw):
    """Shapes of x @ y by NumPy's rules: 1-d operands, and batch axes that broadcast."""
    batch_x, batch_y = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2,
                                                              max_side=3)).input_shapes
    m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
    x_shape = (k,) if draw(st.booleans()) and not batch_x else batch_x + (m, k)
    y_shape = (k,) if draw(st.booleans()) and not batch_y else batch_y + (k, n)
    return draw(arrays(x_shape)), draw(arrays(y_shape))


@given(operands=matmul_operands(), uses=st.integers(1, 3))
def test_matmul_routes_agree(operands, uses):
    x, y = leaf(operands[0]), leaf(operands[1])

    def fn(x, y):
        out = x @ y
        for step in range(1, uses):             # y used at several steps: deferred terms
            out = out + (x * (0.5 * step)).tanh() @ y
        return out * y.sum()                    # and once more by another op

    assert_routes_agree(fn, [x, y])


@given(data=st.data())
def test_linear_routes_agree(data):
    features_in, features_out = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    lead = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    with_bias = data.draw(st.booleans())
    x = leaf(data.draw(arrays(lead + (features_in,))))
    weight = leaf(data.draw(arrays((features_out, features_in))))
    bias = leaf(data.draw(arrays((features_out,))))
    steps = data.draw(st.integers(1, 3))

    def fn(x, weight, bias):
        outs = [F.linear(x * (1.0 + t), weight, bias if with_bias else None)
                for t in range(steps)]
        total = outs[0]
        for out in outs[1:]:
            total = total + out
        return total * weight.sum() + bias.sum()

    assert_routes_agree(fn, [x, weight, bias])


@st.composite
def indices(draw, shape):
    kind = draw(st.sampled_from(["basic", "integers", "mask", "tuple"][:4 if len(shape) > 1
                                                                       else 3]))
    if kind == "basic":
        start = draw(st.integers(0, shape[0] - 1))
        return (slice(start, None, draw(st.integers(1, 2))),) + (
            (draw(st.integers(-shape[1], shape[1] - 1)),) if len(shape) > 1 else ())
    if kind == "integers":
        return index_array(draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1,
                                         max_size=6)))
    if kind == "mask":
        return index_array(draw(hnp.arrays(bool, shape)))
    rows = draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=4))
    return index_array(rows), index_array([r % shape[1] for r in rows])


@given(data=st.data())
def test_getitem_routes_agree(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    x = leaf(data.draw(arrays(shape)))
    picks = [data.draw(indices(shape)) for _ in range(data.draw(st.integers(1, 3)))]

    def fn(x):
        total = (x * x).sum()                   # x's gradient also comes from another op
        for index in picks:
            total = total + (x[index] * 2.0).exp().sum()
        return total.reshape(1)

    assert_routes_agree(fn, [x])


@given(data=st.data())
def test_gather_routes_agree(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    x = leaf(data.draw(arrays(shape)))
    dim = data.draw(st.integers(0, len(shape) - 1))
    index_shape = tuple(data.draw(st.integers(1, n)) if d != dim else data.draw(st.integers(1, 5))
                        for d, n in enumerate(shape))
    index = data.draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, shape[dim] - 1)))

    def fn(x):
        total = (x * x).sum()                   # x's gradient also comes from another op
        return (total + (x.gather(dim, index_array(index)) * 2.0).exp().sum()).reshape(1)

    assert_routes_agree(fn, [x])


@pytest.mark.parametrize("make, name", [
    (lambda x, w: F.linear(x, w), "linear"),
    (lambda x, w: x @ w.T, "matmul"),
    (lambda x, w: (x[:, None, :] * w[None]).sum(axis=-1), "mul"),
    (lambda x, w: (x[:, None, :] * w[index_array([0, 1])][None]).sum(axis=-1), "mul"),
])
def test_an_inf_weight_gradient_raises_in_anomaly_mode_whatever_the_op(make, name):
    """Huge inputs make the weight's gradient g^T x overflow in float32 (the forward stays
    finite): anomaly mode names the op that made it, through linear as through *."""
    x = mg.tensor(np.full((4, 3), 3e38, dtype=np.float32))
    w = mg.tensor(np.full((2, 3), 1e-38, dtype=np.float32), requires_grad=True)
    with mg.detect_anomaly(), np.errstate(over="ignore"):
        loss = (make(x, w) * 1e10).sum()
        with pytest.raises(FloatingPointError, match=f"backward of {name} at scope '' "
                                                     f"produced NaN or Inf"):
            loss.backward()
