"""More of PyTorch's everyday names (min, argmax/argmin, flatten, masked_fill, gather,
std/var, norm, all/any, & | ~, eye, linspace, Embedding(padding_idx), container edits),
each against a NumPy reference; the differentiable ones against finite differences."""
import numpy as np
import pytest
from test_engine_support import leaf

import minigrad as mg
from minigrad.testing import gradcheck

RNG = np.random.default_rng(7)
A = RNG.standard_normal((3, 4, 5))


def test_min_values_indices_and_gradient():
    x = leaf(A)
    np.testing.assert_allclose(x.min().numpy(), A.min())
    np.testing.assert_allclose(x.min(axis=2).numpy(), A.min(axis=2))
    values, indices = x.min(dim=1)
    np.testing.assert_allclose(values.numpy(), A.min(axis=1))
    np.testing.assert_array_equal(indices.numpy(), A.argmin(axis=1))
    assert x.min(dim=1, keepdim=True).indices.shape == (3, 1, 5)
    assert mg.min(x, dim=0).values.shape == (4, 5) and not indices.requires_grad
    assert gradcheck(lambda t: t.min(dim=1)[0], [x])
    assert gradcheck(lambda t: t.min(), [x])
    tied = leaf([[1.0, 1.0, 2.0]])
    tied.min().backward()                  # ties share the gradient, as in max
    np.testing.assert_allclose(tied.grad.numpy(), [[0.5, 0.5, 0.0]])


def test_argmax_argmin_against_numpy():
    x = leaf(A, requires_grad=False)
    assert x.argmax().item() == A.argmax() and x.argmin().item() == A.argmin()
    for dim in (0, 1, -1):
        np.testing.assert_array_equal(x.argmax(dim=dim).numpy(), A.argmax(axis=dim))
        np.testing.assert_array_equal(mg.argmin(x, dim).numpy(), A.argmin(axis=dim))
    assert x.argmax(dim=1, keepdim=True).shape == (3, 1, 5)
    assert x.argmax(dim=1).dtype == np.int64
    with pytest.raises(IndexError, match="argmax: dim 3"):
        x.argmax(dim=3)
    with pytest.raises(ValueError, match=r"argmin: .*\(0, 2\)"):
        mg.zeros(0, 2).argmin()


def test_flatten():
    x = leaf(A)
    assert x.flatten().shape == (60,)
    np.testing.assert_array_equal(x.flatten(1).numpy(), A.reshape(3, 20))
    np.testing.assert_array_equal(x.flatten(0, 1).numpy(), A.reshape(12, 5))
    np.testing.assert_array_equal(mg.flatten(x, -2, -1).numpy(), A.reshape(3, 20))
    assert leaf(2.0).flatten().shape == (1,)
    assert gradcheck(lambda t: t.flatten(1) * mg.tensor(np.arange(20.0)), [x])
    with pytest.raises(ValueError, match=r"flatten: start_dim 2 .* \(3, 4, 5\)"):
        x.flatten(2, 1)


def test_masked_fill():
    x = leaf(A[0])
    mask = x > 0.3
    expected = np.where(A[0] > 0.3, -1.5, A[0])
    np.testing.assert_array_equal(x.masked_fill(mask, -1.5).numpy(), expected)
    row = mg.tensor(np.array([True, False, True, False, False]))
    np.testing.assert_array_equal(mg.masked_fill(x, row, 0.0).numpy(),
                                  np.where(row.numpy(), 0.0, A[0]))
    assert gradcheck(lambda t: t.masked_fill(mask, 2.0) * 3.0, [x])
    x.masked_fill(mask, 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), ~mask.numpy())
    ints = mg.tensor([1, 2, 3])
    assert ints.masked_fill(ints > 1, 0).dtype == np.int64
    with pytest.raises(ValueError, match=r"masked_fill: .*\(4, 5\).*\(3,\) bool"):
        x.masked_fill(mg.tensor([True, False, True]), 0.0)
    with pytest.raises(ValueError, match="masked_fill: .*int64"):
        x.masked_fill(mg.zeros(4, 5, dtype="int64"), 0.0)


def test_gather_forward_and_scatter_add_gradient():
    x = leaf(A)
    index = RNG.integers(0, 4, size=(3, 6, 5))          # repeats: the gradient adds up
    out = x.gather(1, mg.tensor(index))
    np.testing.assert_array_equal(out.numpy(), np.take_along_axis(A, index, axis=1))
    small = RNG.integers(0, 3, size=(2, 2, 3))           # smaller than x outside dim 0
    expected = np.array([[[A[small[i, j, k], j, k] for k in range(3)] for j in range(2)]
                         for i in range(2)])
    np.testing.assert_array_equal(mg.gather(x, 0, mg.tensor(small)).numpy(), expected)
    weights = mg.tensor(RNG.standard_normal(index.shape))
    (out * weights).sum().backward()
    reference = np.zeros_like(A)
    for i, j, k in np.ndindex(index.shape):
        reference[i, index[i, j, k], k] += weights.numpy()[i, j, k]
    np.testing.assert_allclose(x.grad.numpy(), reference)
    (recorded,) = mg.grad([x.gather(1, mg.tensor(index))], [x], [weights], create_graph=True)
    np.testing.assert_allclose(recorded.numpy(), reference)     # the VJP itself, recorded
    assert gradcheck(lambda t: t.gather(-1, mg.tensor(index[:, :4, :3])), [x])
    with pytest.raises(ValueError, match=r"gather: .*index \(3, 4\) int64 .*\(3, 4, 5\)"):
        x.gather(1, mg.tensor(np.zeros((3, 4), np.int64)))
    with pytest.raises(IndexError, match=r"gather: .*\[0, 4\) along dim 1"):
        x.gather(1, mg.tensor(np.full((3, 2, 5), 4)))


@pytest.mark.parametrize("dim", [None, 0, 2, (0, 2)])
def test_var_std_against_numpy(dim):
    x = leaf(A)
    axis = dim
    np.testing.assert_allclose(x.var(dim).numpy(), A.var(axis=axis, ddof=1))
    np.testing.assert_allclose(x.std(dim, unbiased=False).numpy(), A.std(axis=axis))
    np.testing.assert_allclose(mg.var(x, dim, correction=0).numpy(), A.var(axis=axis))
    np.testing.assert_allclose(x.std(dim, keepdim=True).numpy(),
                               A.std(axis=axis, ddof=1, keepdims=True))
    assert gradcheck(lambda t: t.var(dim), [x])
    assert gradcheck(lambda t: t.std(dim, unbiased=False), [x])


def test_var_error_names_shape():
    with pytest.raises(ValueError, match=r"var: 1 element.*\(1, 3\)"):
        leaf(np.ones((1, 3))).var(dim=0)


def test_norm_against_numpy():
    x = leaf(A)
    np.testing.assert_allclose(x.norm().numpy(), np.linalg.norm(A.ravel()))
    np.testing.assert_allclose(x.norm(dim=1).numpy(), np.linalg.norm(A, axis=1))
    np.testing.assert_allclose(x.norm(p=1, dim=2, keepdim=True).numpy(),
                               np.abs(A).sum(axis=2, keepdims=True))
    np.testing.assert_allclose(mg.norm(x, "fro").numpy(), np.linalg.norm(A.ravel()))
    assert gradcheck(lambda t: t.norm(dim=-1), [x])
    assert gradcheck(lambda t: t.norm(p=1), [x])
    with pytest.raises(ValueError, match=r"norm: p must be .*3.*\(3, 4, 5\)"):
        x.norm(p=3)


def test_all_any_and_bitwise_operators():
    a, b = A[0] > 0, A[1] < 0.5
    x, y = mg.tensor(a), mg.tensor(b)
    np.testing.assert_array_equal((x & y).numpy(), a & b)
    np.testing.assert_array_equal((x | y).numpy(), a | b)
    np.testing.assert_array_equal((~x).numpy(), ~a)
    np.testing.assert_array_equal((x & True).numpy(), a)
    np.testing.assert_array_equal((False | y).numpy(), b)
    assert (x & y).dtype == bool
    assert x.all().item() == a.all() and x.any().item() == a.any()
    np.testing.assert_array_equal(x.all(dim=1).numpy(), a.all(axis=1))
    np.testing.assert_array_equal(mg.any(x, 0, keepdim=True).numpy(), a.any(axis=0, keepdims=True))
    np.testing.assert_array_equal(mg.tensor([0.0, 2.0]).any().numpy(), True)
    np.testing.assert_array_equal(mg.tensor([0.0, 2.0]).all().numpy(), False)
    np.testing.assert_array_equal((mg.tensor([6, 3]) & mg.tensor([3, 1])).numpy(), [2, 1])
    with pytest.raises(TypeError, match=r"bitwise_and: .*\(4, 5\) float64"):
        leaf(A[0]) & x
    with pytest.raises(TypeError, match="invert: .*float64"):
        ~leaf(A[0])


def test_eye_and_linspace():
    np.testing.assert_array_equal(mg.eye(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(mg.eye(2, 4, dtype="float64").numpy(), np.eye(2, 4))
    assert mg.eye(3).dtype == np.float32 and mg.eye(2, dtype="float64").dtype == np.float64
    np.testing.assert_allclose(mg.linspace(-1, 2, 7).numpy(), np.linspace(-1, 2, 7))
    assert mg.linspace(0, 1, 5).dtype == np.float32 and mg.linspace(0, 1, 1).numpy() == [0]
    assert mg.linspace(0, 1, 3, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="linspace: steps .* -1"):
        mg.linspace(0, 1, -1)


def test_embedding_padding_idx_gets_no_gradient():
    mg.manual_seed(0)
    embedding = mg.nn.Embedding(6, 3, padding_idx=-2)
    assert embedding.padding_idx == 4
    np.testing.assert_array_equal(embedding.weight.numpy()[4], np.zeros(3))
    assert np.all(embedding.weight.numpy()[[0, 1, 2, 3, 5]] != 0)
    embedding.weight.data[4] = 7.0             # a set padding row is still looked up
    indices = np.array([[4, 1, 4], [2, 2, 0]])
    out = embedding(mg.tensor(indices))
    np.testing.assert_array_equal(out.numpy(), embedding.weight.numpy()[indices])
    weights = RNG.standard_normal(out.shape)
    (out * mg.tensor(weights.astype(np.float32))).sum().backward()
    reference = np.zeros((6, 3))
    for (i, j), row in np.ndenumerate(indices):
        if row != 4:
            reference[row] += weights[i, j]
    np.testing.assert_allclose(embedding.weight.grad.numpy(), reference, rtol=1e-6)
    assert "padding_idx=4" in repr(embedding)
    with pytest.raises(ValueError, match="Embedding: padding_idx 6"):
        mg.nn.Embedding(6, 3, padding_idx=6)


def test_sequential_append_and_module_list_insert():
    first, second, third = mg.nn.Linear(2, 3), mg.nn.Tanh(), mg.nn.Linear(3, 1)
    net = mg.nn.Sequential(first).append(second).append(third)
    assert list(net) == [first, second, third]
    assert [name for name, _ in net.named_parameters()] == ["0.weight", "0.bias",
                                                            "2.weight", "2.bias"]
    x = mg.randn(4, 2)
    np.testing.assert_allclose(net(x).numpy(), third(second(first(x))).numpy())
    layers = mg.nn.ModuleList([first, third])
    layers.insert(1, second)
    assert list(layers) == [first, second, third]
    layers.insert(-1, mg.nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Linear", "Tanh", "Identity", "Linear"]
    assert list(dict(layers.named_children())) == ["0", "1", "2", "3"]
    assert [n for n, _ in layers.named_parameters()][-1] == "3.bias"
    layers.extend([mg.nn.ReLU()]).append(mg.nn.Identity())
    assert len(layers) == 6
    with pytest.raises(TypeError, match="ModuleList.insert: got a int"):
        layers.insert(0, 3)
    assert len(layers) == 6
