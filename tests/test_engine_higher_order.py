"""Derivatives of derivatives: second derivatives of smooth ops (gradgradcheck), the
dot-product test <u, J v> = <J^T u, v>, Hessian-vector products and gradients of gradient
norms, all against finite differences in float64."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_support import (  # noqa: F401
    array,
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
from minigrad.testing import gradcheck, gradgradcheck

SMOOTH = {
    "exp": (lambda x: x.exp(), floats()),
    "log": (lambda x: x.log(), floats(0.3, 3.0)),
    "tanh": (lambda x: x.tanh(), floats()),
    "sigmoid": (lambda x: x.sigmoid(), floats()),
    "sqrt": (lambda x: x.sqrt(), floats(0.3, 3.0)),
    "pow": (lambda x: x ** 3 + x ** 0.5, floats(0.3, 2.0)),
    "rpow": (lambda x: 1.5 ** x, floats()),
    "div": (lambda x: 1.0 / (x * x + 1.0), floats()),
    "product": (lambda x: x * x.sum(), floats()),
    "mean_keepdims": (lambda x: (x * x).mean(axis=-1, keepdims=True) * x, floats()),
    "reshape_transpose": (lambda x: (x.reshape(-1) * x.T.reshape(-1)), floats()),
    "getitem_repeats": (lambda x: x[index_array([0, 0, -1])] ** 2, floats()),
    "concat_stack": (lambda x: mg.concat([mg.stack([x, x * x]), x.exp()[None]]), floats()),
    "matmul": (lambda x: x @ x.T @ x if x.ndim == 2 else x @ x * x, floats()),
    "linear": (lambda x: F.linear(x, _rows(x), _rows(x).sum(axis=1)).tanh(), floats()),
    "softmax": (lambda x: F.softmax(x), floats()),
    "log_softmax": (lambda x: F.log_softmax(x, axis=0), floats()),
    "logsumexp": (lambda x: F.logsumexp(x * x), floats()),
    "mse_loss": (lambda x: F.mse_loss(x.tanh(), x * 0.5 + 1.0), floats()),
    "relu_abs_far_from_zero": (lambda x: (x * x + 1).relu() * (x * x + 1).abs(), floats()),
}


def _rows(x):
    return x.reshape(-1, x.shape[-1])


@pytest.mark.parametrize("name", sorted(SMOOTH))
@settings(max_examples=25)
@given(data=st.data())
def test_second_derivatives_of_smooth_ops(name, data):
    fn, elements = SMOOTH[name]
    shape = data.draw(shapes(min_dims=1, max_dims=2, max_side=3))
    x = leaf(data.draw(arrays(shape, elements)))
    assert gradgradcheck(fn, [x])


@settings(max_examples=25)
@given(data=st.data())
def test_second_derivatives_of_binary_ops_and_cross_entropy(data):
    shape = data.draw(shapes(min_dims=2, max_dims=2, max_side=3))
    a = leaf(data.draw(arrays(shape)))
    b = leaf(data.draw(arrays(shape, floats(0.5, 2.0))))
    assert gradgradcheck(lambda x, y: (x * y - x / y + y ** x).tanh(), [a, b])
    targets = index_array(data.draw(st.lists(st.integers(0, shape[1] - 1), min_size=shape[0],
                                             max_size=shape[0])))
    assert gradgradcheck(lambda x, y: F.cross_entropy(x * y, targets), [a, b])
    condition = index_array(np.arange(a.numel()).reshape(shape) % 2 == 0)
    assert gradgradcheck(lambda x, y: mg.where(condition, x * y, y.log()), [a, b])


@settings(max_examples=25)
@given(data=st.data())
def test_second_derivatives_of_linear(data):
    """linear's defvjp lines run only when the backward is recorded (a plain backward takes
    the deferred route): gradgradcheck reaches them, with and without bias, for x of 1-3
    axes."""
    lead = data.draw(shapes(min_dims=0, max_dims=2, max_side=3))
    features_in, features_out = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    x = leaf(data.draw(arrays(lead + (features_in,))))
    weight = leaf(data.draw(arrays((features_out, features_in))))
    bias = leaf(data.draw(arrays((features_out,))))
    assert gradgradcheck(lambda x, w, b: F.linear(x, w, b).tanh() * w.sum(), [x, weight, bias])
    assert gradgradcheck(lambda x, w: F.linear(x * x, w).sigmoid(), [x, weight])


FUNCTIONS = {
    "elementwise": lambda x: (x.tanh() * x.exp()),
    "matmul": lambda x: x @ x.T if x.ndim == 2 else x * x.sum(),
    "reduction": lambda x: x.sum(axis=0) * x.mean() + (x * x).sum(),
    "softmax": lambda x: F.softmax(x) * x,
    "indexing": lambda x: x[index_array([0, 0, -1])] * 2,
}


def _finite_difference_jvp(fn, x_values, v, eps=1e-6):
    plus = fn(leaf(x_values + eps * v, requires_grad=False)).numpy()
    minus = fn(leaf(x_values - eps * v, requires_grad=False)).numpy()
    return (plus - minus) / (2 * eps)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@settings(max_examples=25)
@given(data=st.data())
def test_dot_product_test_both_ways(name, data):
    """<u, J v> = <J^T u, v>, with J v by finite differences and by the double-backward
    trick (J v = d<J^T u, v>/du, since J^T u is linear in u)."""
    fn = FUNCTIONS[name]
    shape = data.draw(shapes(min_dims=1, max_dims=2, max_side=4))
    x_values = data.draw(arrays(shape))
    x = leaf(x_values)
    out_shape = fn(x).shape
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
    u_values, v = rng.standard_normal(out_shape), rng.standard_normal(shape)

    u = leaf(u_values)
    vjp, = mg.grad(fn(x), [x], grad_outputs=[u], create_graph=True)
    jvp_fd = _finite_difference_jvp(fn, x_values, v)
    jvp_double, = mg.grad((vjp * leaf(v, requires_grad=False)).sum(), [u])

    left = float((u_values * jvp_fd).sum())
    right = float((vjp.numpy() * v).sum())
    assert np.isclose(left, right, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jvp_double.numpy(), jvp_fd, rtol=1e-5, atol=1e-6)


@settings(max_examples=25)
@given(data=st.data())
def test_hessian_vector_product_matches_differences_of_gradients(data):
    shape = data.draw(shapes(min_dims=1, max_dims=2, max_side=4))
    x_values = data.draw(arrays(shape))
    v = np.random.default_rng(data.draw(st.integers(0, 2 ** 16))).standard_normal(shape)
    w = leaf(np.linspace(-1, 1, shape[-1]), requires_grad=False)

    def loss(x):
        return ((x * w).tanh() * x).sum() + (x.exp() * x).mean() + F.logsumexp(x, axis=-1).sum()

    x = leaf(x_values)
    g, = mg.grad(loss(x), [x], create_graph=True)
    hvp, = mg.grad((g * leaf(v, requires_grad=False)).sum(), [x])

    def gradient_at(values):
        t = leaf(values)
        return mg.grad(loss(t), [t])[0].numpy()

    eps = 1e-6
    numeric = (gradient_at(x_values + eps * v) - gradient_at(x_values - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hvp.numpy(), numeric, rtol=1e-5, atol=1e-6)


@settings(max_examples=25)
@given(data=st.data())
def test_gradient_of_a_gradient_norm(data):
    """x -> ||dL/dx||^2 differentiated through the backward pass (gradient penalty)."""
    shape = data.draw(shapes(min_dims=2, max_dims=2, max_side=3))
    x = leaf(data.draw(arrays(shape)))
    w = leaf(data.draw(arrays((shape[1], 2))))

    def penalty(a, b):
        loss = ((a @ b).tanh() ** 2).sum() + (a * a).sum() * b.sum()
        grads = mg.grad(loss, [a, b], create_graph=True)
        return (grads[0] * grads[0]).sum() + (grads[1] * grads[1]).sum()

    assert gradcheck(penalty, [x, w])


def test_backward_with_create_graph_gives_differentiable_grad():
    values = np.array([[0.3, -1.2, 0.7], [1.1, 0.2, -0.4]])
    x = leaf(values)
    (x.tanh() * x).sum().backward(create_graph=True)
    first = x.grad
    assert first.requires_grad and first.node is not None
    x.grad = None
    (first * first).sum().backward()
    # d/dx sum(f'(x)^2) = 2 f'(x) f''(x) with f(x) = x tanh x
    t = np.tanh(values)
    f1 = t + values * (1 - t ** 2)
    f2 = 2 * (1 - t ** 2) - 2 * values * t * (1 - t ** 2)
    np.testing.assert_allclose(x.grad.numpy(), 2 * f1 * f2, rtol=1e-10)


def test_backward_without_create_graph_records_nothing():
    x = leaf([[0.5, -1.0], [2.0, 0.1]])
    w = leaf([[1.0, 2.0], [3.0, -1.0]])
    y = (x @ w).tanh()
    loss = (y[index_array([0, 0])] * y).sum() + mg.concat([x, w]).max()
    loss.backward()
    for grad in (x.grad, w.grad):
        assert grad.node is None and not grad.requires_grad


def test_higher_order_of_a_scalar_power():
    """d^3/dx^3 x^4 = 24 x, by three nested mg.grad calls."""
    x = leaf(np.array([0.5, -1.5, 2.0]))
    d1, = mg.grad((x ** 4).sum(), [x], create_graph=True)
    d2, = mg.grad(d1.sum(), [x], create_graph=True)
    d3, = mg.grad(d2.sum(), [x])
    np.testing.assert_allclose(numpy_of(d3), 24 * numpy_of(array([0.5, -1.5, 2.0])))
