"""``minigrad.functional``: values against NumPy transcriptions of the formulas, gradients
against finite differences (float64)."""
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
    shapes,
)

import minigrad as mg
import minigrad.functional as F
from minigrad.testing import gradcheck


def _log_softmax_reference(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@st.composite
def logits_and_axis(draw, low=-5.0, high=5.0):
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return draw(arrays(shape, floats(low, high))), axis


@given(logits_and_axis())
def test_softmax_family_values(case):
    values, axis = case
    x = leaf(values)
    reference = _log_softmax_reference(values, axis)
    np.testing.assert_allclose(F.log_softmax(x, axis=axis).numpy(), reference, atol=1e-12)
    np.testing.assert_allclose(F.softmax(x, axis=axis).numpy(), np.exp(reference), atol=1e-12)
    np.testing.assert_allclose(F.softmax(x, axis=axis).numpy().sum(axis=axis), 1.0)
    expected_lse = np.log(np.exp(values).sum(axis=axis))
    np.testing.assert_allclose(F.logsumexp(x, axis=axis).numpy(), expected_lse, atol=1e-12)
    kept = F.logsumexp(x, axis=axis, keepdims=True)
    assert kept.shape == np.expand_dims(expected_lse, axis).shape


def test_softmax_family_does_not_overflow():
    x = leaf(np.array([[1000.0, 0.0, -1000.0], [-800.0, -800.0, -801.0]]))
    for out in (F.softmax(x), F.log_softmax(x), F.logsumexp(x)):
        assert np.isfinite(out.numpy()).all()
    np.testing.assert_allclose(F.logsumexp(x).numpy()[0], 1000.0)


@given(logits_and_axis(-2.0, 2.0))
def test_softmax_family_gradients(case):
    values, axis = case
    x = leaf(values)
    assert gradcheck(lambda t: F.softmax(t, axis=axis), [x])
    assert gradcheck(lambda t: F.log_softmax(t, axis=axis), [x])
    assert gradcheck(lambda t: F.logsumexp(t, axis=axis), [x])


@st.composite
def classification(draw):
    batch = draw(st.sampled_from([(1,), (3,), (2, 2)]))
    classes = draw(st.integers(1, 4))
    logits = draw(arrays(batch + (classes,), floats(-3.0, 3.0)))
    targets = draw(st.lists(st.integers(0, classes - 1), min_size=int(np.prod(batch)),
                            max_size=int(np.prod(batch))))
    return logits, np.array(targets).reshape(batch)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@settings(max_examples=25)
@given(case=classification())
def test_cross_entropy(reduction, case):
    logits, targets = case
    log_probs = _log_softmax_reference(logits, -1)
    picked = -np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
    expected = {"mean": picked.mean(), "sum": picked.sum(), "none": picked}[reduction]
    x = leaf(logits)
    out = F.cross_entropy(x, index_array(targets), reduction=reduction)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-14)
    assert gradcheck(lambda t: F.cross_entropy(t, index_array(targets), reduction=reduction),
                     [x])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@settings(max_examples=25)
@given(data=st.data())
def test_mse_loss(reduction, data):
    shape = data.draw(shapes(max_dims=2))
    prediction, target = data.draw(arrays(shape)), data.draw(arrays(shape))
    squared = (prediction - target) ** 2
    expected = {"mean": squared.mean(), "sum": squared.sum(), "none": squared}[reduction]
    p, t = leaf(prediction), leaf(target)
    np.testing.assert_allclose(F.mse_loss(p, t, reduction=reduction).numpy(), expected,
                               rtol=1e-12)
    assert gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [p, t])


@given(data=st.data())
def test_embedding_adds_repeated_rows(data):
    rows, width = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 3))
    table = data.draw(arrays((rows, width)))
    picks = np.array(data.draw(st.lists(st.integers(0, rows - 1), min_size=1, max_size=6)))
    picks = np.concatenate([picks, picks[:1]]).reshape(2, -1) if picks.size % 2 else picks
    weight = leaf(table)
    out = F.embedding(index_array(picks), weight)
    np.testing.assert_array_equal(out.numpy(), table[picks])
    out.sum().backward()
    counts = np.bincount(picks.reshape(-1), minlength=rows)
    np.testing.assert_array_equal(weight.grad.numpy(), np.repeat(counts[:, None], width, 1))
    assert gradcheck(lambda w: F.embedding(index_array(picks), w) ** 2, [leaf(table)])


@given(data=st.data())
def test_linear(data):
    batch = data.draw(st.sampled_from([(), (2,), (2, 3)]))
    x = leaf(data.draw(arrays(batch + (3,))))
    weight, bias = leaf(data.draw(arrays((4, 3)))), leaf(data.draw(arrays((4,))))
    expected = x.numpy() @ weight.numpy().T + bias.numpy()
    np.testing.assert_allclose(F.linear(x, weight, bias).numpy(), expected, rtol=1e-12)
    assert gradcheck(lambda a, w, b: F.linear(a, w, b), [x, weight, bias])
    assert gradcheck(lambda a, w: F.linear(a, w).tanh(), [x, weight])


def test_linear_weight_gradient_accumulates_over_uses():
    """The same weight used at several time steps: its gradient is the sum."""
    rng = np.random.default_rng(3)
    weight = leaf(rng.standard_normal((2, 3)))
    steps = [leaf(rng.standard_normal((4, 3))) for _ in range(3)]

    def unrolled(w, *xs):
        hidden = None
        for x in xs:
            out = F.linear(x, w).tanh()
            hidden = out if hidden is None else hidden * out + out
        return hidden

    assert gradcheck(unrolled, [weight, *steps])


def test_one_hot():
    out = F.one_hot(index_array([2, 0, 2]), 3)
    np.testing.assert_array_equal(out.numpy(), np.eye(3)[[2, 0, 2]])
    assert out.dtype == np.float32 and not out.requires_grad
    with pytest.raises(IndexError, match=r"one_hot: indices must lie in \[0, 3\)"):
        F.one_hot(index_array([3]), 3)


def test_dropout_scales_kept_units_and_is_identity_in_eval():
    x = leaf(np.ones((200, 50)))
    out = F.dropout(x, p=0.25, rng=np.random.default_rng(0))
    kept = out.numpy() != 0
    np.testing.assert_allclose(out.numpy()[kept], 1 / 0.75)
    assert 0.70 < kept.mean() < 0.80
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.75)
    assert F.dropout(x, p=0.25, training=False) is x
    with pytest.raises(ValueError, match=r"dropout: p must lie in \[0, 1\], got 1.5"):
        F.dropout(x, p=1.5)


def test_functional_helpers_match_tensor_methods():
    x = leaf(np.array([-1.0, 0.5, 2.0]))
    for helper, method in ((F.tanh, "tanh"), (F.sigmoid, "sigmoid"), (F.relu, "relu")):
        np.testing.assert_array_equal(helper(x).numpy(), getattr(x, method)().numpy())
    np.testing.assert_allclose(F.sigmoid(x).numpy(), 1 / (1 + np.exp(-x.numpy())),
                               rtol=1e-12)
    assert mg.functional is F
