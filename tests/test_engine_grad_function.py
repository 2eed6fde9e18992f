"""``mg.grad``: returns gradients like ``torch.autograd.grad`` without touching ``.grad``,
for leaves and intermediate tensors, with ``grad_outputs``, ``allow_unused`` and
``retain_graph``."""
import numpy as np
import pytest
from test_engine_support import engine_backend, leaf  # noqa: F401

import minigrad as mg

X = np.array([[0.5, -1.0, 2.0], [0.3, 0.7, -0.2]])


def test_grad_returns_gradients_and_leaves_dot_grad_alone():
    x, w = leaf(X), leaf(np.arange(3.0))
    x.grad = leaf(np.full(X.shape, 7.0), requires_grad=False)
    gx, gw = mg.grad(((x * w) ** 2).sum(), [x, w])
    np.testing.assert_allclose(gx.numpy(), 2 * X * np.arange(3.0) ** 2)
    np.testing.assert_allclose(gw.numpy(), (2 * X ** 2 * np.arange(3.0)).sum(axis=0))
    np.testing.assert_array_equal(x.grad.numpy(), np.full(X.shape, 7.0))
    assert w.grad is None


def test_single_tensor_input_gives_a_one_element_list():
    x = leaf(X)
    result = mg.grad(x.sum(), x)
    assert len(result) == 1
    np.testing.assert_array_equal(result[0].numpy(), np.ones(X.shape))


def test_gradient_with_respect_to_intermediate_tensors():
    x = leaf(X)
    hidden = x * 3.0
    out = (hidden.tanh() * x).sum()
    g_hidden, g_x = mg.grad(out, [hidden, x])
    np.testing.assert_allclose(g_hidden.numpy(), (1 - np.tanh(3 * X) ** 2) * X)
    np.testing.assert_allclose(
        g_x.numpy(), np.tanh(3 * X) + 3 * X * (1 - np.tanh(3 * X) ** 2), rtol=1e-12)
    assert x.grad is None and hidden.grad is None


def test_grad_outputs_weight_each_output():
    x = leaf(X)
    y1, y2 = x * 2.0, (x * x).sum(axis=0)
    u1, u2 = np.ones(X.shape) * 0.5, np.array([1.0, -1.0, 2.0])
    gx, = mg.grad([y1, y2], [x], grad_outputs=[leaf(u1, False), leaf(u2, False)])
    np.testing.assert_allclose(gx.numpy(), 2 * u1 + 2 * X * u2)


def test_allow_unused_gives_zeros_and_otherwise_raises():
    x, unused = leaf(X), leaf(np.ones(4))
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(4,\)\) is not reached"):
        mg.grad(x.sum(), [x, unused], retain_graph=True)
    gx, gu = mg.grad(x.sum(), [x, unused], allow_unused=True)
    np.testing.assert_array_equal(gu.numpy(), np.zeros(4))
    np.testing.assert_array_equal(gx.numpy(), np.ones(X.shape))


def test_input_that_needs_no_gradient_is_an_error():
    x, constant = leaf(X), leaf(X, requires_grad=False)
    with pytest.raises(RuntimeError, match=r"input 1 .*does not require a gradient"):
        mg.grad((x * constant).sum(), [x, constant])


def test_retain_graph_allows_a_second_call():
    x = leaf(X)
    y = (x.exp() * x).sum()
    first, = mg.grad(y, [x], retain_graph=True)
    second, = mg.grad(y, [x])
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    with pytest.raises(RuntimeError, match="already freed"):
        mg.grad(y, [x])


def test_gradient_of_an_output_with_respect_to_itself():
    x = leaf(X)
    y = x * 2.0
    gy, = mg.grad(y.sum(), [y])
    np.testing.assert_array_equal(gy.numpy(), np.ones(X.shape))
    gx, = mg.grad(x, [x], grad_outputs=[leaf(X * 0 + 3.0, False)])
    np.testing.assert_array_equal(gx.numpy(), np.full(X.shape, 3.0))


def test_backward_of_a_leaf_fills_its_grad():
    x = leaf(2.5)
    x.backward()
    assert x.grad.item() == 1.0


def test_grad_with_respect_to_an_intermediate_does_not_walk_below_it():
    """Only what lies between the outputs and the inputs is visited: a part of the graph
    below the input that was already freed is not touched (the per-step Jacobians of a long
    unroll then cost one step each, not the whole history)."""
    w = leaf(X)
    below = (w * 2).tanh()
    below.sum().backward()                     # frees the graph under ``below``
    middle = below * 3
    top = (middle.exp() * w).sum()
    g, = mg.grad(top, [middle])
    np.testing.assert_allclose(g.numpy(), np.exp(3 * np.tanh(2 * X)) * X)
    with pytest.raises(RuntimeError, match="already freed"):
        mg.grad(top, [w])


def test_grad_through_one_input_to_another_below_it():
    """An input made from another input: the gradient of the lower one still includes the
    paths through the upper one, and an unwanted leaf in between changes nothing."""
    a, w = leaf(X) * 1.0, leaf(np.arange(3.0))      # both inputs made by ops
    b = (a * w).tanh()
    y = (b * b + a).sum()
    ga, gb = mg.grad(y, [a, b], retain_graph=True)
    np.testing.assert_allclose(gb.numpy(), 2 * np.tanh(X * np.arange(3.0)))
    t = np.tanh(X * np.arange(3.0))
    np.testing.assert_allclose(ga.numpy(), 2 * t * (1 - t ** 2) * np.arange(3.0) + 1)
    gb_only, = mg.grad(y, [b], create_graph=True)
    np.testing.assert_allclose(gb_only.numpy(), gb.numpy())
