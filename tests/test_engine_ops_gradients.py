"""First derivatives of every primitive op against central differences (float64), over
generated shapes and values kept away from the points where an op is not differentiable."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_engine_support import (  # noqa: F401
    arrays,
    away_from_zero,
    axes_for,
    distinct_arrays,
    engine_backend,
    floats,
    index_array,
    leaf,
    shapes,
)

import minigrad as mg
from minigrad.testing import gradcheck

UNARY = {
    "neg": (lambda x: -x, floats()),
    "exp": (lambda x: x.exp(), floats()),
    "log": (lambda x: x.log(), floats(0.2, 3.0)),
    "tanh": (lambda x: x.tanh(), floats()),
    "sigmoid": (lambda x: x.sigmoid(), floats(-3.0, 3.0)),
    "relu": (lambda x: x.relu(), away_from_zero()),
    "abs": (lambda x: x.abs(), away_from_zero()),
    "sqrt": (lambda x: x.sqrt(), floats(0.2, 3.0)),
    "square": (lambda x: x ** 2, floats()),
    "cube": (lambda x: x ** 3, floats()),
    "pow_half": (lambda x: x ** 0.5, floats(0.2, 3.0)),
    "pow_negative": (lambda x: x ** -1.5, floats(0.3, 3.0)),
    "rpow": (lambda x: 2.0 ** x, floats()),
    "scalar_rsub": (lambda x: 1.0 - x, floats()),
    "scalar_rdiv": (lambda x: 1.0 / x, away_from_zero(0.3)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_elementwise_unary(name, data):
    fn, elements = UNARY[name]
    x = leaf(data.draw(arrays(shapes(), elements)))
    assert gradcheck(fn, [x])


@given(data=st.data())
def test_pow_with_tensor_exponent(data):
    shape = data.draw(shapes(max_dims=2))
    base = leaf(data.draw(arrays(shape, floats(0.3, 2.0))))
    exponent = leaf(data.draw(arrays(shape, floats(-2.0, 2.0))))
    assert gradcheck(lambda b, e: b ** e, [base, exponent])


@given(data=st.data())
def test_sum_and_mean(data):
    shape = data.draw(shapes())
    axis = data.draw(axes_for(len(shape)))
    keepdims = data.draw(st.booleans())
    x = leaf(data.draw(arrays(shape)))
    assert gradcheck(lambda t: t.sum(axis=axis, keepdims=keepdims), [x])
    assert gradcheck(lambda t: t.mean(axis=axis, keepdims=keepdims), [x])
    assert gradcheck(lambda t: mg.mean(t * t, axis=axis, keepdims=keepdims), [x])


@given(data=st.data())
def test_max_without_ties(data):
    shape = data.draw(shapes(max_side=3))
    axis = data.draw(axes_for(len(shape)))
    keepdims = data.draw(st.booleans())
    x = leaf(data.draw(distinct_arrays(shape)))
    assert gradcheck(lambda t: t.max(axis=axis, keepdims=keepdims), [x])


@st.composite
def reshape_targets(draw, size):
    """A shape of ``size`` elements, possibly written with one -1."""
    dims, rest = [], size
    for _ in range(draw(st.integers(0, 3))):
        divisors = [d for d in range(1, rest + 1) if rest % d == 0]
        d = draw(st.sampled_from(divisors))
        dims.append(d)
        rest //= d
    dims.append(rest)
    if draw(st.booleans()):
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    return tuple(dims)


@given(data=st.data())
def test_reshape(data):
    shape = data.draw(shapes())
    x = leaf(data.draw(arrays(shape)))
    target = data.draw(reshape_targets(int(np.prod(shape))))
    assert gradcheck(lambda t: t.reshape(target) * 2, [x])


@given(data=st.data())
def test_transpose_with_any_axes(data):
    shape = data.draw(shapes(min_dims=1))
    ndim = len(shape)
    order = data.draw(st.permutations(range(ndim)))
    axes = tuple(a - ndim if data.draw(st.booleans()) else a for a in order)
    x = leaf(data.draw(arrays(shape)))
    assert gradcheck(lambda t: t.transpose(*axes), [x])
    assert gradcheck(lambda t: t.T * 1.5, [x])


@given(data=st.data())
def test_getitem_basic(data):
    shape = data.draw(shapes(min_dims=1))
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    x = leaf(data.draw(arrays(shape)))
    assert gradcheck(lambda t: t[index] * 3, [x])


@given(data=st.data())
def test_getitem_integer_arrays_with_repeats(data):
    shape = data.draw(shapes(min_dims=1, max_dims=2))
    n = shape[0]
    picks = data.draw(hnp.arrays(np.int64, st.integers(1, 6), elements=st.integers(-n, n - 1)))
    picks = np.concatenate([picks, picks[:1]])   # at least one repeated index
    x = leaf(data.draw(arrays(shape)))
    assert gradcheck(lambda t: t[index_array(picks)], [x])
    assert gradcheck(lambda t: t[mg.tensor(index_array(picks))] * t[index_array(picks)], [x])


@given(data=st.data())
def test_getitem_integer_array_tuples(data):
    shape = data.draw(shapes(min_dims=2, max_dims=3))
    index = data.draw(hnp.integer_array_indices(shape, result_shape=shapes(max_dims=2)))
    index = tuple(index_array(i) for i in index)
    x = leaf(data.draw(arrays(shape)))
    assert gradcheck(lambda t: t[index], [x])


@given(data=st.data())
def test_getitem_boolean_mask(data):
    shape = data.draw(shapes(min_dims=1))
    mask = data.draw(hnp.arrays(np.bool_, shape))
    x = leaf(data.draw(arrays(shape)))
    assert gradcheck(lambda t: t[index_array(mask)] * 2 if mask.any() else t * 1, [x])
    rows = mask.reshape(shape[0], -1).any(axis=1)
    if rows.any():
        assert gradcheck(lambda t: t[index_array(rows)], [x])


@given(data=st.data())
def test_getitem_slices_used_twice_add_up(data):
    """Two reads of overlapping parts of one tensor: backward adds both into one buffer."""
    n = data.draw(st.integers(2, 5))
    x = leaf(data.draw(arrays((n, 3))))
    assert gradcheck(lambda t: t[1:] * t[:-1] + t[0] * t[-1] + t[::2].sum(axis=0), [x])


@given(data=st.data())
def test_concat(data):
    base = data.draw(shapes(min_dims=1, max_dims=3))
    axis = data.draw(st.integers(-len(base), len(base) - 1))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    parts = []
    for size in sizes:
        shape = list(base)
        shape[axis] = size
        parts.append(leaf(data.draw(arrays(tuple(shape)))))
    assert gradcheck(lambda *ts: mg.concat(ts, axis=axis), parts)


@given(data=st.data())
def test_stack_and_unstack(data):
    shape = data.draw(shapes(max_dims=2))
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    count = data.draw(st.integers(1, 3))
    parts = [leaf(data.draw(arrays(shape))) for _ in range(count)]
    assert gradcheck(lambda *ts: mg.stack(ts, axis=axis), parts)
    weights = list(range(1, count + 1))
    assert gradcheck(
        lambda *ts: mg.concat([w * u.reshape(-1) for w, u in
                               zip(weights, mg.unstack(mg.stack(ts, axis=axis), axis=axis))]),
        parts)


@given(data=st.data())
def test_split(data):
    shape = data.draw(shapes(min_dims=1))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    x = leaf(data.draw(arrays(shape)))
    equal = data.draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    assert gradcheck(lambda t: tuple(p * (i + 1) for i, p in
                                     enumerate(mg.split(t, equal, axis=axis))), [x])
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=2)))
    assert gradcheck(lambda t: tuple(p * (i + 1) for i, p in
                                     enumerate(mg.split(t, cuts, axis=axis))), [x])


@given(data=st.data())
def test_where(data):
    shape = data.draw(shapes())
    condition = data.draw(hnp.arrays(np.bool_, shape))
    x, y = leaf(data.draw(arrays(shape))), leaf(data.draw(arrays(shape)))
    assert gradcheck(lambda a, b: mg.where(index_array(condition), a * a, b.exp()), [x, y])
    assert gradcheck(lambda a: mg.where(mg.tensor(index_array(condition)), a, 0.5), [x])


@given(data=st.data())
def test_comparisons_carry_no_gradient(data):
    shape = data.draw(shapes())
    x = leaf(data.draw(arrays(shape)))
    for mask in (x > 0, x >= 0, x < 0, x <= 0, x == 0, x != 0):
        assert not mask.requires_grad and mask.dtype == np.bool_
    np.testing.assert_array_equal((x > 0.5).numpy(), x.numpy() > 0.5)


@settings(max_examples=20)
@given(data=st.data())
def test_composite_expression(data):
    """Many ops, inputs used several times: the sums over paths must come out right."""
    shape = data.draw(shapes(min_dims=2, max_dims=2))
    x = leaf(data.draw(arrays(shape)))
    w = leaf(data.draw(arrays((shape[1], 3))))

    def fn(a, b):
        h = (a @ b).tanh()
        return ((h * h).sum(axis=0) + (a.exp() @ b).sigmoid().mean(axis=0)
                - (h * 0.5).exp().sum(axis=0))

    assert gradcheck(fn, [x, w], atol=1e-4)


@pytest.mark.parametrize("exponent", [0, 0.0, 1, 2])
def test_small_integer_powers_have_finite_gradients_at_zero(exponent):
    """d/dx x^p = p x^(p-1): 0 for p = 0 and 1 for p = 1, also at x = 0."""
    x = leaf([0.0, 1.5, -2.0])
    (x ** exponent).sum().backward()
    values = np.array([0.0, 1.5, -2.0])
    expected = np.zeros(3) if exponent == 0 else exponent * values ** (exponent - 1)
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_tensor_exponent_of_a_negative_base_is_the_real_power():
    """(-2)^2 = 4 and (-3)^3 = -27 with a tensor exponent too; d/dx = p x^(p-1) there.
    d/dp x^p = x^p log x exists for x > 0, is 0 at x = 0 (x^p = 0 near any p > 0) and is
    NaN for x < 0 (x^p is real only at integers p, so it has no derivative in p)."""
    base = leaf([-2.0, -3.0, 0.0, 2.0])
    exponent = leaf([2.0, 3.0, 2.0, 0.5])
    out = base ** exponent
    np.testing.assert_allclose(out.numpy(), [4.0, -27.0, 0.0, np.sqrt(2.0)])
    out.sum().backward()
    np.testing.assert_allclose(base.grad.numpy(), [-4.0, 27.0, 0.0, 0.5 / np.sqrt(2.0)])
    grad_p = exponent.grad.numpy()
    assert np.isnan(grad_p[:2]).all()
    np.testing.assert_allclose(grad_p[2:], [0.0, np.sqrt(2.0) * np.log(2.0)])
    np.testing.assert_allclose(((-2.0) ** mg.tensor([2.0, 3.0])).numpy(), [4.0, -8.0])


@given(data=st.data())
def test_negative_base_with_a_constant_integer_tensor_exponent(data):
    shape = data.draw(shapes(max_dims=2))
    base = leaf(data.draw(arrays(shape, floats(-2.0, -0.3))))
    exponent = leaf(data.draw(hnp.arrays(np.float64, shape, elements=st.integers(-2, 3).map(
        float))), requires_grad=False)
    assert gradcheck(lambda b: b ** exponent, [base])
    assert gradcheck(lambda b: (b * b) ** (exponent * 0.5 + 0.25) + b ** exponent,
                     [base])


def test_gradient_in_the_exponent_of_a_negative_base_is_caught_by_anomaly_mode():
    exponent = leaf([2.0, 3.0])
    out = (mg.tensor([-2.0, -2.0], dtype="float64") ** exponent).sum()
    with mg.detect_anomaly(), pytest.raises(FloatingPointError, match="backward of pow"):
        out.backward()


@pytest.mark.parametrize("axis, keepdims, expected", [
    (None, False, [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]]),
    (0, False, [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]),
    (1, True, [[0.5, 0.0, 0.5], [1 / 3, 1 / 3, 1 / 3]]),
    ((0, 1), True, [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]]),
])
def test_max_shares_the_gradient_equally_among_ties(axis, keepdims, expected):
    """Ties at the maximum split its gradient equally (the subgradient NumPy users expect,
    and what PyTorch's amax does); worked out by hand for each axis."""
    x = leaf([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]])
    out = x.max(axis=axis, keepdims=keepdims)
    upstream = np.arange(1.0, out.numel() + 1).reshape(out.shape)
    (out * leaf(upstream, requires_grad=False)).sum().backward()
    scale = np.broadcast_to(np.asarray(upstream).reshape(
        np.amax(np.zeros((2, 3)), axis=axis, keepdims=True).shape), (2, 3))
    np.testing.assert_allclose(x.grad.numpy(), np.asarray(expected) * scale)
