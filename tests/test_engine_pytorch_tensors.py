"""PyTorch's Tensor methods, constructors and dtype rules, against NumPy references; the
gradients of the differentiable ones against finite differences (float64)."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from test_engine_support import arrays, engine_backend, leaf, shapes  # noqa: F401

import minigrad as mg
from minigrad import functional as F
from minigrad.testing import gradcheck


def test_dtypes_follow_torch_tensor():
    assert mg.tensor([1, 2, 3]).dtype == np.int64
    assert mg.tensor([1.0, 2.0]).dtype == np.float32
    assert mg.tensor(2.5).dtype == np.float32
    assert mg.tensor([True, False]).dtype == bool
    assert mg.tensor(np.ones(3)).dtype == np.float64             # an array keeps its dtype
    assert mg.tensor(np.ones(3, np.float16)).dtype == np.float16
    assert mg.tensor(np.arange(3, dtype=np.int32)).dtype == np.int32
    assert mg.tensor(np.ones(3), dtype="float32").dtype == np.float32
    assert mg.tensor(mg.tensor(np.ones(2))).dtype == np.float64
    with pytest.raises(TypeError, match="floating dtype"):
        mg.tensor([1, 2], requires_grad=True)


def test_constructors():
    mg.manual_seed(3)
    assert mg.zeros(2, 3).shape == (2, 3) and mg.zeros((2, 3)).dtype == np.float32
    np.testing.assert_array_equal(mg.ones(2, dtype="float64").numpy(), [1.0, 1.0])
    assert mg.ones(2, dtype="float64").dtype == np.float64
    assert mg.full((2, 2), 7).dtype == np.int64 and mg.full((2,), 0.5).dtype == np.float32
    np.testing.assert_array_equal(mg.full((2, 2), 7).numpy(), np.full((2, 2), 7))
    np.testing.assert_array_equal(mg.arange(5).numpy(), np.arange(5))
    assert mg.arange(5).dtype == np.int64 and mg.arange(1, 2, 0.25).dtype == np.float32
    np.testing.assert_array_equal(mg.arange(1, 2, 0.25).numpy(), [1, 1.25, 1.5, 1.75])
    np.testing.assert_array_equal(mg.arange(2, 8, 3).numpy(), [2, 5])
    like = mg.tensor(np.ones((2, 1)))
    assert mg.zeros_like(like).dtype == np.float64 and mg.ones_like(like).shape == (2, 1)
    np.testing.assert_array_equal(mg.zeros_like(like).numpy(), np.zeros((2, 1)))
    np.testing.assert_array_equal(mg.ones_like(like, dtype="int64").numpy(), np.ones((2, 1)))
    mg.manual_seed(3)
    a = mg.randn(200, 50)
    mg.manual_seed(3)
    assert np.array_equal(a.numpy(), mg.randn(200, 50).numpy())      # seeded
    assert a.dtype == np.float32 and abs(a.numpy().mean()) < 0.02 and 0.97 < a.numpy().std() < 1.03
    u = mg.rand(10000).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    assert mg.randn(2, 2, requires_grad=True).requires_grad


def test_from_numpy_shares_memory():
    array = np.zeros(3)
    t = mg.from_numpy(array)
    array[1] = 5.0
    assert t.dtype == np.float64 and t.numpy()[1] == 5.0
    with pytest.raises(TypeError, match="from_numpy"):
        mg.from_numpy([1.0, 2.0])


def test_size_numel_dim_item_tolist():
    t = mg.zeros(2, 3, 4)
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.numel() == 24 and t.dim() == 3
    assert mg.tensor([2.5]).item() == 2.5
    with pytest.raises(ValueError, match="item"):
        t.item()
    assert mg.tensor([[1, 2]]).tolist() == [[1, 2]]


def test_casts():
    x = leaf([1.7, -2.2])
    assert x.float().dtype == np.float32 and x.double() is x
    assert x.to("float32").dtype == np.float32
    assert x.to("cpu") is x
    long = x.long()
    assert long.dtype == np.int64 and long.tolist() == [1, -2] and not long.requires_grad
    x.float().sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
    with pytest.raises(ValueError, match="unknown backend 'tpu'"):
        x.to("tpu")


def test_new_zeros_takes_dtype_and_backend_from_the_tensor():
    x = leaf([1.0, 2.0])
    zeros = x.new_zeros(2, 3)
    assert zeros.shape == (2, 3) and zeros.dtype == np.float64 and x.new_zeros((4,)).shape == (4,)
    assert zeros.backend == x.backend and not zeros.requires_grad
    np.testing.assert_array_equal(zeros.numpy(), np.zeros((2, 3)))


def test_clone_and_detach():
    x = leaf([1.0, 2.0])
    copy = x.clone()
    copy.data[0] = 9.0                       # a new array
    assert x.numpy()[0] == 1.0
    (x.clone() * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    cut = x.detach()
    assert not cut.requires_grad and cut.is_leaf


@given(data=st.data())
def test_shape_methods_match_numpy_and_differentiate(data):
    shape = data.draw(shapes(min_dims=2, max_dims=3, max_side=3))
    values = data.draw(arrays(shape))
    assume(min(np.abs(values - bound).min() for bound in (-0.513, 0.707, 0.123)) > 1e-4)
    x = leaf(values)   # (no element at a clamp's kink, where finite differences average)
    n = len(shape)
    order = tuple(data.draw(st.permutations(range(n))))
    cases = [
        (lambda t: t.view(-1), values.reshape(-1)),
        (lambda t: t.view(shape[0], -1), values.reshape(shape[0], -1)),
        (lambda t: t.permute(*order), values.transpose(order)),
        (lambda t: t.transpose(0, n - 1), np.swapaxes(values, 0, n - 1)),
        (lambda t: t.unsqueeze(1), np.expand_dims(values, 1)),
        (lambda t: t.unsqueeze(-1), np.expand_dims(values, -1)),
        (lambda t: t.unsqueeze(0).squeeze(0), values),
        (lambda t: t.squeeze(), np.squeeze(values)),
        (lambda t: t.expand(2, *shape), np.broadcast_to(values, (2,) + shape)),
        (lambda t: t.sum(0, keepdims=True).expand(*shape),
         np.broadcast_to(values.sum(0, keepdims=True), shape)),
        (lambda t: t.repeat(*(2,) * n), np.tile(values, (2,) * n)),
        (lambda t: t.repeat(2, *(1,) * n), np.tile(values, (2,) + (1,) * n)),
        (lambda t: t.clamp(-0.513, 0.707), np.clip(values, -0.513, 0.707)),
        (lambda t: t.clamp(min=0.123), np.maximum(values, 0.123)),
        (lambda t: t.clamp(max=0.123), np.minimum(values, 0.123)),
    ]
    for fn, expected in cases:
        np.testing.assert_array_equal(fn(x).numpy(), expected)
        assert gradcheck(lambda t: fn(t) * 1.5, [x])


def test_t_and_chunk_and_cat():
    values = np.arange(12.0).reshape(3, 4)
    x = leaf(values)
    np.testing.assert_array_equal(x.t().numpy(), values.T)
    assert leaf([1.0, 2.0]).t().shape == (2,)
    with pytest.raises(ValueError, match="t: expects"):
        leaf(np.zeros((2, 2, 2))).t()
    pieces = x.chunk(3, dim=1)                   # ceil(4 / 3) = 2: sizes 2, 2
    assert [p.shape for p in pieces] == [(3, 2), (3, 2)]
    pieces = mg.chunk(x, 2, 0)                   # sizes 2, 1
    assert [p.shape for p in pieces] == [(2, 4), (1, 4)]
    np.testing.assert_array_equal(mg.cat(pieces, dim=0).numpy(), values)
    assert gradcheck(lambda t: mg.cat([c * (i + 1) for i, c in enumerate(t.chunk(3, 1))],
                                      dim=1), [x])
    with pytest.raises(ValueError, match="chunks must be positive"):
        x.chunk(0)


def test_clamp_gradient_passes_inside_and_at_the_bounds():
    x = leaf([-2.0, -1.0, 0.0, 1.0, 2.0])
    x.clamp(-1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 1, 1, 0])   # inclusive, as PyTorch
    with pytest.raises(ValueError, match="clamp"):
        x.clamp()


def test_dim_is_accepted_where_axis_is():
    values = np.random.default_rng(0).standard_normal((3, 4))
    x = leaf(values)
    np.testing.assert_allclose(x.sum(dim=1).numpy(), values.sum(1))
    np.testing.assert_allclose(x.mean(dim=0, keepdim=True).numpy(), values.mean(0, keepdims=True))
    np.testing.assert_allclose(mg.sum(x, dim=1).numpy(), values.sum(1))
    np.testing.assert_allclose(F.log_softmax(x, dim=0).numpy(),
                               values - np.log(np.exp(values).sum(0, keepdims=True)))
    np.testing.assert_allclose(F.softmax(x, dim=0).numpy().sum(0), np.ones(4))
    np.testing.assert_allclose(F.logsumexp(x, dim=1).numpy(), np.log(np.exp(values).sum(1)))
    assert mg.stack([x, x], dim=2).shape == (3, 4, 2)
    assert len(mg.unstack(x, dim=1)) == 4
    with pytest.raises(TypeError, match="axis or dim"):
        x.sum(0, dim=1)


def test_max_with_dim_returns_values_and_indices():
    values = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    x = leaf(values)
    assert x.max(axis=1).shape == (2,)              # NumPy's meaning: values only
    out, index = x.max(dim=1)
    np.testing.assert_array_equal(out.numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(index.numpy(), [1, 0])
    assert index.dtype == np.int64 and x.max(dim=1).indices.shape == (2,)
    assert x.max(dim=0, keepdim=True).indices.shape == (1, 3)
    assert gradcheck(lambda t: t.max(dim=1)[0], [x])


def test_split_with_dim_takes_pytorch_sizes():
    x = leaf(np.arange(14.0).reshape(7, 2))
    assert [p.shape[1] for p in mg.split(x, 2, axis=1)] == [1, 1]    # NumPy: 2 sections
    assert [p.shape[0] for p in mg.split(x, 3, dim=0)] == [3, 3, 1]  # PyTorch: size 3
    assert [p.shape[0] for p in mg.split(x, [2, 5], dim=0)] == [2, 5]
    with pytest.raises(ValueError, match="add up"):
        mg.split(x, [2, 2], dim=0)


def test_bad_shapes_are_named():
    x = leaf(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"expand: cannot expand shape \(2, 3\)"):
        x.expand(4, 3)
    with pytest.raises(ValueError, match="repeat"):
        x.repeat(2)
    with pytest.raises(IndexError, match="unsqueeze: dim 5"):
        x.unsqueeze(5)
    with pytest.raises(ValueError, match="permute"):
        x.unsqueeze(0).permute(1, 0, 2, 3)


def test_integer_and_float_tensors_mix_as_in_torch():
    """torch's promotion, not NumPy's: int64 with a float32 tensor or a Python float stays
    float32 (NumPy makes float64, which a float32 model then refuses), and true division of
    integers gives the default float; the float side's gradient is unchanged."""
    index, weight = mg.tensor([1, 2, 3]), mg.tensor([0.5, 1.0, 2.0], requires_grad=True)
    for mixed in (index * weight, weight * index, index + 0.5, 0.5 - index, index / 2,
                  2 / index, index / index, weight / index, mg.tensor([True, False, True]) * weight):
        assert mixed.dtype == np.float32, mixed
    assert (weight.double() * index).dtype == np.float64        # the float side's own dtype
    assert (index * 2).dtype == np.int64 and (index + index).dtype == np.int64
    np.testing.assert_allclose((index / 2).numpy(), [0.5, 1.0, 1.5])
    (index * weight).sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy(), [1.0, 2.0, 3.0])
    assert weight.grad.dtype == np.float32
