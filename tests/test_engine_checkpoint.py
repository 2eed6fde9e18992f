"""``mg.checkpoint(fn, *args)``: the same values and the same gradients as calling ``fn``
directly, for arguments and captured parameters, single and tuple outputs."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_support import arrays, engine_backend, leaf  # noqa: F401

import minigrad as mg


def _gradients(loss_of, leaves):
    for t in leaves:
        t.grad = None
    loss_of().backward()
    return [None if t.grad is None else t.grad.numpy().copy() for t in leaves]


@settings(max_examples=25)
@given(data=st.data())
def test_checkpoint_matches_direct_call(data):
    rows = data.draw(st.integers(1, 3))
    x = leaf(data.draw(arrays((rows, 3))))
    weight = leaf(data.draw(arrays((3, 4))))        # captured, not an argument
    bias = leaf(data.draw(arrays((4,))))
    scale = data.draw(st.floats(0.5, 2.0))

    def cell(inputs, b, factor):
        return ((inputs @ weight) * factor + b).tanh()

    def loss(use_checkpoint):
        hidden = x.exp() * 0.5                      # a non-leaf argument
        out = mg.checkpoint(cell, hidden, bias, scale) if use_checkpoint else \
            cell(hidden, bias, scale)
        return (out * out).sum() + out.mean()

    expected = _gradients(lambda: loss(False), [x, weight, bias])
    got = _gradients(lambda: loss(True), [x, weight, bias])
    for name, e, g in zip(("x", "weight", "bias"), expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14, err_msg=name)
    np.testing.assert_allclose(loss(True).numpy(), loss(False).numpy(), rtol=1e-15)


@pytest.mark.parametrize("container", [tuple, list])
def test_checkpoint_with_several_outputs(container):
    rng = np.random.default_rng(0)
    x, w = leaf(rng.standard_normal((2, 3))), leaf(rng.standard_normal((3, 3)))

    def cell(inputs):
        hidden = (inputs @ w).tanh()
        return container([hidden, (hidden * inputs).sum(axis=1), inputs.sigmoid()])

    def loss(use_checkpoint):
        outs = mg.checkpoint(cell, x * 1.0) if use_checkpoint else cell(x * 1.0)
        assert isinstance(outs, container) and len(outs) == 3
        return (outs[0] * 2.0).sum() + (outs[1] ** 2).sum() + outs[2].mean()

    expected = _gradients(lambda: loss(False), [x, w])
    got = _gradients(lambda: loss(True), [x, w])
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


def test_an_output_unused_downstream():
    rng = np.random.default_rng(1)
    x = leaf(rng.standard_normal(3))
    first, _unused = mg.checkpoint(lambda t: (t.exp(), t * 3.0), x)
    first.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.numpy()), rtol=1e-12)


def test_chained_checkpoints_match_an_unrolled_loop():
    rng = np.random.default_rng(2)
    w = leaf(rng.standard_normal((3, 3)) * 0.5)
    h0 = leaf(rng.standard_normal((1, 3)))
    step_inputs = [leaf(rng.standard_normal((1, 3)), requires_grad=False) for _ in range(6)]

    def step(h, x):
        return (h @ w + x).tanh()

    def loss(use_checkpoint):
        h = h0
        for x in step_inputs:
            h = mg.checkpoint(step, h, x) if use_checkpoint else step(h, x)
        return (h * h).sum()

    expected = _gradients(lambda: loss(False), [w, h0])
    got = _gradients(lambda: loss(True), [w, h0])
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


def test_checkpoint_under_no_grad_returns_plain_outputs():
    x = leaf([1.0, 2.0])
    with mg.no_grad():
        out = mg.checkpoint(lambda t: t * 2.0, x)
    assert not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), [2.0, 4.0])


def test_checkpoint_refuses_higher_order_gradients():
    x = leaf([1.0, 2.0])
    out = mg.checkpoint(lambda t: t * t, x).sum()
    with pytest.raises(RuntimeError, match="checkpoint: create_graph=True"):
        mg.grad(out, [x], create_graph=True)


@pytest.mark.parametrize("result, described", [
    (lambda x: 3.0, "a float"), (lambda x: (x * 2, 3.0), "a tuple of Tensor, float"),
    (lambda x: [], "a list of nothing"), (lambda x: None, "a NoneType")])
def test_checkpoint_of_a_function_returning_no_tensor_is_a_one_line_error(result, described):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=f"checkpoint: fn must return a tensor or a tuple or "
                                        f"list of tensors, it returned {described}$"):
        mg.checkpoint(result, x)
