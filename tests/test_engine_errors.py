"""Every engine error says what went wrong where: the op, the scope and the shapes."""
import numpy as np
import pytest
from test_engine_support import engine_backend, index_array, leaf  # noqa: F401

import minigrad as mg
import minigrad.functional as F


def test_add_shape_mismatch_names_op_scope_and_shapes():
    a, b = leaf(np.ones((2, 3))), leaf(np.ones(4))
    with mg.scope("t=3"), mg.scope("lstm"), pytest.raises(mg.ShapeError) as info:
        a + b
    message = str(info.value)
    assert "add" in message and "t=3/lstm" in message
    assert "(2, 3)" in message and "(4,)" in message


def test_matmul_shape_mismatch_names_op_scope_and_shapes():
    a, b = leaf(np.ones((2, 3))), leaf(np.ones((4, 5)))
    with mg.scope("decoder"), pytest.raises(mg.ShapeError) as info:
        a @ b
    message = str(info.value)
    assert "matmul" in message and "decoder" in message
    assert "(2, 3)" in message and "(4, 5)" in message


def test_shape_error_is_a_value_error_outside_any_scope():
    with pytest.raises(ValueError, match=r"mul at scope '': .*\(3,\).*\(2,\)"):
        leaf(np.ones(3)) * leaf(np.ones(2))


def test_bad_index_names_getitem_and_shape():
    x = leaf(np.ones((2, 3)))
    pattern = r"getitem at scope 'embed'.*\(2, 3\)"
    with mg.scope("embed"), pytest.raises(mg.ShapeError, match=pattern):
        x[index_array([0, 5])]


def test_concat_and_stack_mismatches_are_named():
    a, b = leaf(np.ones((2, 3))), leaf(np.ones((2, 4)))
    with pytest.raises(mg.ShapeError, match=r"concat.*\(2, 3\).*\(2, 4\)"):
        mg.concat([a, b], axis=0)
    with pytest.raises(ValueError, match=r"stack: tensor 1 has shape \(2, 4\), tensor 0 has "
                                         r"\(2, 3\)"):
        mg.stack([a, b])
    with pytest.raises(ValueError, match=r"split: axis 1 of shape \(2, 3\)"):
        mg.split(a, 2, axis=1)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_requires_grad_on_integer_tensor(dtype):
    with pytest.raises(TypeError, match=rf"floating dtype.*\(3,\).*{dtype}"):
        mg.tensor(np.arange(3).astype(dtype), requires_grad=True)
    t = mg.tensor(np.arange(3).astype(dtype))
    with pytest.raises(TypeError, match="floating dtype"):
        t.requires_grad_()


def test_non_scalar_backward_needs_a_gradient():
    y = leaf(np.ones((2, 3))) * 2.0
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\) needs a gradient"):
        y.backward()
    with pytest.raises(ValueError, match=r"gradient of shape \(3,\) given for an output of "
                                         r"shape \(2, 3\)"):
        y.backward(leaf(np.ones(3), requires_grad=False))


def test_second_backward_through_freed_graph():
    x = leaf(np.ones(3))
    with mg.scope("t=0"):
        loss = (x.exp() * 2.0).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"already freed.*'sum' at scope 't=0'.*"
                                           r"retain_graph=True"):
        loss.backward()


def test_retain_graph_allows_second_backward():
    x = leaf(np.ones(3))
    loss = (x.exp() * 2.0).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.e * np.ones(3))


def test_detect_anomaly_in_forward_names_op_and_scope():
    x = leaf(np.array([1.0, -1.0]))
    pattern = r"log at scope 't=2/cell'.*\(2,\)"
    with mg.detect_anomaly(), mg.scope("t=2"), mg.scope("cell"), np.errstate(invalid="ignore"), \
            pytest.raises(FloatingPointError, match=pattern):
        x.log()
    with np.errstate(invalid="ignore"):
        assert np.isnan(x.log().numpy()[1])   # outside the mode NaNs pass


def test_detect_anomaly_in_backward_names_op_and_scope():
    x = leaf(np.array([0.0, 4.0]))
    with mg.scope("t=5"), mg.scope("gate"):
        y = x.sqrt().sum()
    pattern = r"backward of sqrt at scope 't=5/gate'"
    with mg.detect_anomaly(), np.errstate(divide="ignore"), \
            pytest.raises(FloatingPointError, match=pattern):
        y.backward()


def test_detect_anomaly_catches_nan_made_by_a_vjp_from_finite_values():
    """1 / x is finite for x = 1e-200, its derivative -1 / x^2 is not."""
    x = leaf(np.array([1e-200]))
    with mg.scope("norm"):
        y = (1.0 / x).sum()
    pattern = r"backward of div at scope 'norm'"
    with mg.detect_anomaly(), np.errstate(over="ignore", divide="ignore", invalid="ignore"), \
            pytest.raises(FloatingPointError, match=pattern):
        y.backward()


def test_load_state_dict_names_wrong_key_and_wrong_shape():
    model = mg.nn.Linear(3, 2)
    with pytest.raises(KeyError, match=r"missing \['bias'\]"):
        model.load_state_dict({"weight": np.zeros((2, 3))})
    with pytest.raises(KeyError, match=r"unexpected \['extra'\]"):
        model.load_state_dict({"weight": np.zeros((2, 3)), "bias": np.zeros(2),
                               "extra": np.zeros(1)})
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"bias has shape \(2,\) here, \(5,\)"):
        model.load_state_dict({"weight": np.ones((2, 3)), "bias": np.zeros(5)})
    after = model.state_dict()
    for name in before:                      # strict: nothing changed on failure
        np.testing.assert_array_equal(before[name], after[name])


@pytest.mark.parametrize("targets, error, pattern", [
    ([0, 3], IndexError, (r"cross_entropy: target classes must lie in \[0, 3\), got values "
                          r"in \[0, 3\]")),
    ([-1, 1], IndexError, r"cross_entropy: target classes must lie in \[0, 3\)"),
    ([0.0, 1.0], TypeError, r"cross_entropy: targets must be integer class indices"),
    ([0, 1, 1], ValueError, (r"cross_entropy: logits \(2, 3\) need targets of shape \(2,\), "
                             r"got \(3,\)")),
])
def test_cross_entropy_bad_targets(targets, error, pattern):
    logits = leaf(np.zeros((2, 3)))
    with pytest.raises(error, match=pattern):
        F.cross_entropy(logits, index_array(targets))


def test_bad_reductions_and_losses_are_named():
    logits = leaf(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="cross_entropy: reduction must be"):
        F.cross_entropy(logits, index_array([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match=r"mse_loss: prediction \(2, 3\) and target \(3,\)"):
        F.mse_loss(logits, leaf(np.zeros(3), requires_grad=False))


def test_embedding_and_linear_input_errors():
    weight = leaf(np.zeros((4, 2)))
    with pytest.raises(IndexError, match=r"embedding: indices must lie in \[0, 4\).*\(4, 2\)"):
        F.embedding(index_array([1, 4]), weight)
    with pytest.raises(TypeError, match="embedding: indices must be integers"):
        F.embedding(index_array([1.0]), weight)
    layer = mg.nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"Linear\(3, 2\).*size 4.*\(5, 4\)"):
        layer(leaf(np.zeros((5, 4)), requires_grad=False, dtype="float32"))


def test_optimizer_and_clipping_arguments():
    with pytest.raises(ValueError, match="SGD: got an empty parameter list"):
        mg.optim.SGD([], lr=0.1)
    p = mg.nn.Parameter(np.zeros(2, dtype=np.float32))
    with pytest.raises(ValueError, match="max_norm must be positive"):
        mg.optim.clip_grad_norm([p], 0.0)
    with pytest.raises(ValueError, match="clip_value must be positive"):
        mg.optim.clip_grad_value([p], -1.0)


def test_unknown_backend_is_named():
    with pytest.raises(ValueError, match=r"unknown backend 'tpu'"):
        mg.set_backend("tpu")
    with pytest.raises(ValueError, match=r"unknown backend 'tpu'"):
        leaf([1.0]).to("tpu")


def test_item_of_a_tensor_with_many_elements():
    with pytest.raises(ValueError, match=r"item\(\): tensor of shape \(2,\) has 2 elements"):
        leaf([1.0, 2.0]).item()


def test_a_vjp_using_a_tensor_only_method_is_named_in_a_plain_backward():
    from minigrad.ops import defvjp, primitive
    softplus = primitive("my_softplus")(lambda xp, x: xp.logaddexp(x, 0))
    defvjp(softplus, lambda g, out, x: g * (1 - (-out).exp()))     # Tensor.exp: not on arrays
    x = mg.tensor([0.5, -1.0], requires_grad=True, dtype="float64")
    with mg.scope("t=2"):
        y = softplus(x).sum()
    with pytest.raises(AttributeError, match=r"backward of my_softplus at scope 't=2'.*minigrad.ops"):
        y.backward()
    assert x.grad is None


@pytest.mark.parametrize("data", [[1.0, 2.0], 3.0, "abc"])
def test_tensor_of_a_non_array_is_a_one_line_error(data):
    with pytest.raises(TypeError, match=rf"Tensor\(data\): data must be a NumPy or CuPy array, "
                                        rf"got {type(data).__name__}; mg.tensor"):
        mg.Tensor(data, requires_grad=True)
