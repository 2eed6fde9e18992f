"""NumPy broadcasting in binary ops and matmul: forward values match NumPy, and gradients
are summed back to each input's shape (checked against finite differences)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_engine_support import (  # noqa: F401
    arrays,
    away_from_zero,
    broadcast_pairs,
    engine_backend,
    floats,
    index_array,
    leaf,
)

import minigrad as mg
from minigrad.testing import gradcheck

BINARY = {
    "add": (lambda a, b: a + b, floats()),
    "sub": (lambda a, b: a - b, floats()),
    "mul": (lambda a, b: a * b, floats()),
    "div": (lambda a, b: a / b, away_from_zero(0.3)),
    "pow": (lambda a, b: a ** b, floats(0.3, 2.0)),
}


@given(data=st.data(), name=st.sampled_from(sorted(BINARY)))
def test_binary_ops_broadcast(data, name):
    fn, elements = BINARY[name]
    shape_a, shape_b = data.draw(broadcast_pairs())
    a_values = data.draw(arrays(shape_a, elements))
    b_values = data.draw(arrays(shape_b, elements))
    a, b = leaf(a_values), leaf(b_values)
    out = fn(a, b)
    np.testing.assert_allclose(out.numpy(), fn(a_values, b_values), rtol=1e-12)
    assert gradcheck(fn, [a, b])
    out.backward(mg.tensor(np.ones(out.shape), dtype="float64", backend_name=mg.get_backend()))
    assert a.grad.shape == shape_a and b.grad.shape == shape_b


@given(data=st.data())
def test_scalar_and_array_operands(data):
    shape = data.draw(hnp.array_shapes(max_dims=2, max_side=4))
    values = data.draw(arrays(shape, away_from_zero(0.3)))
    x = leaf(values)
    constant = np.asarray(data.draw(arrays(shape[-1:], away_from_zero(0.3))))
    assert gradcheck(lambda t: 2.0 * t - t / 3.0 + 1.5 / t - 0.5, [x])
    assert gradcheck(lambda t: t * index_array(constant).astype("float64") + t, [x])


matmul_shapes = hnp.mutually_broadcastable_shapes(
    signature="(m?,n),(n,p?)->(m?,p?)", max_dims=4, max_side=3).map(lambda r: r.input_shapes)


@given(data=st.data(), shapes=matmul_shapes)
def test_matmul_with_1d_and_batched_operands(data, shapes):
    shape_x, shape_y = shapes
    x_values, y_values = data.draw(arrays(shape_x)), data.draw(arrays(shape_y))
    x, y = leaf(x_values), leaf(y_values)
    np.testing.assert_allclose((x @ y).numpy(), x_values @ y_values, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda a, b: a @ b, [x, y])


@given(data=st.data())
def test_where_broadcasts_condition_and_branches(data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3,
                                                         max_side=3))
    shape_c, shape_x, shape_y = shapes.input_shapes
    condition = data.draw(hnp.arrays(np.bool_, shape_c))
    x, y = leaf(data.draw(arrays(shape_x))), leaf(data.draw(arrays(shape_y)))
    out = mg.where(index_array(condition), x, y)
    np.testing.assert_array_equal(out.numpy(), np.where(condition, x.numpy(), y.numpy()))
    assert gradcheck(lambda a, b: mg.where(index_array(condition), a, b), [x, y])


@settings(max_examples=30)
@given(data=st.data())
def test_unbroadcast_is_the_adjoint_of_broadcasting(data):
    """<broadcast(a), g> = <a, unbroadcast(g)> for any g of the broadcast shape."""
    shape_small, shape_big = data.draw(broadcast_pairs())
    target = np.broadcast_shapes(shape_small, shape_big)
    a = data.draw(arrays(shape_small))
    g = data.draw(arrays(target))
    summed = mg.unbroadcast(leaf(g, requires_grad=False), shape_small)
    assert summed.shape == shape_small
    lhs = float((np.broadcast_to(a, target) * g).sum())
    rhs = float((a * summed.numpy()).sum())
    assert np.isclose(lhs, rhs, rtol=1e-10, atol=1e-10)



def test_linear_bias_of_any_broadcastable_shape_gets_its_own_shape_of_gradient():
    """linear() sums a (out,) bias's gradient over all rows at once; other bias shapes go
    through the ordinary unbroadcast. Both must equal x @ W.T + b built from matmul and add."""
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((3, 4)), requires_grad=True, dtype="float64")
    weight = mg.tensor(rng.standard_normal((2, 4)), requires_grad=True, dtype="float64")
    for bias_shape in [(2,), (3, 2), (1, 2)]:
        bias = mg.tensor(rng.standard_normal(bias_shape), requires_grad=True, dtype="float64")
        mg.functional.linear(x, weight, bias).tanh().sum().backward()
        fused = bias.grad.numpy()
        bias.grad = None
        (x @ weight.T + bias).tanh().sum().backward()
        assert fused.shape == bias_shape
        np.testing.assert_allclose(fused, bias.grad.numpy(), rtol=1e-12)
