"""Values saved for backward and changed before backward: never a silently wrong gradient.

PyTorch's rule (a version count per tensor that backward compares with the one saved at
the forward pass): every in-place change the project makes (optimizer steps,
``load_state_dict``, ``Module.to``) is seen by backward, which then names the op and its
scope; ``.numpy()`` is read-only, so no write can go through it."""
import re

import numpy as np
import pytest

import minigrad as mg


def weight_and_input():
    w = mg.nn.Parameter(np.array([1.0, 2.0, 3.0], dtype=np.float64))
    x = mg.tensor(np.array([0.5, -1.0, 2.0]), dtype="float64")
    return w, x


@pytest.mark.parametrize("make_optimizer", [lambda ps: mg.optim.SGD(ps, lr=0.1),
                                            lambda ps: mg.optim.Adam(ps, lr=0.1)])
def test_an_optimizer_step_between_forward_and_backward_is_refused(make_optimizer):
    w, x = weight_and_input()
    w.grad = mg.Tensor(np.ones(3))
    optimizer = make_optimizer([w])
    with mg.scope("t=2"), mg.scope("gate"):
        product = w * x
    loss = (product * product).sum()
    optimizer.step()                          # w changes: d loss/dx = 2 w^2 x would use it
    with pytest.raises(RuntimeError) as info:
        loss.backward()
    message = str(info.value)
    assert "mul" in message and "t=2/gate" in message and "changed in place" in message
    assert "(3,)" in message


def test_load_state_dict_and_to_between_forward_and_backward_are_refused():
    layer = mg.nn.Linear(3, 2)
    x = mg.tensor(np.ones((4, 3)))
    with mg.scope("head"):
        loss = (layer(x) ** 2).sum()
    layer.load_state_dict(mg.nn.Linear(3, 2).state_dict())
    with pytest.raises(RuntimeError, match=r"linear at scope 'head'.*changed in place"):
        loss.backward()


def test_a_step_after_backward_is_fine_and_the_next_graph_is_checked_afresh():
    w, x = weight_and_input()
    optimizer = mg.optim.SGD([w], lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        ((w * x) ** 2).sum().backward()
        expected = 2 * w.numpy() * x.numpy() ** 2
        np.testing.assert_allclose(w.grad.numpy(), expected)
        optimizer.step()


def test_retained_graph_is_checked_at_its_second_backward():
    w, x = weight_and_input()
    loss = (w * x).exp().sum()
    loss.backward(retain_graph=True)
    mg.optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match=r"mul at scope '': its input 0 \(shape \(3,\)"):
        loss.backward()


def test_ops_made_after_the_change_are_not_refused():
    w, x = weight_and_input()
    w.grad = mg.Tensor(np.ones(3))
    mg.optim.SGD([w], lr=0.5).step()          # w = [0.5, 1.5, 2.5]
    (w * x).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 1 + x.numpy())   # the old grad plus x


@pytest.mark.parametrize("which", ["input", "output"])
def test_numpy_arrays_cannot_be_written(which):
    w, x = weight_and_input()
    x.requires_grad_()
    out = (w * x).tanh()
    target = x if which == "input" else out
    with pytest.raises(ValueError, match="read-only"):
        target.numpy()[0] = 100.0
    out.sum().backward()
    expected = (1 - np.tanh(w.numpy() * x.numpy()) ** 2) * w.numpy()
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_numpy_copies_are_writable_and_leave_the_tensor_alone():
    x = mg.tensor([1.0, 2.0])
    copy = x.numpy().copy()
    copy[0] = 5.0
    state = mg.nn.Linear(2, 2).state_dict()
    state["weight"][0, 0] = 7.0               # state_dict hands out copies
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])


def test_version_check_covers_higher_order_graphs():
    w, x = weight_and_input()
    loss = (w * w * x).sum()
    g, = mg.grad(loss, [w], create_graph=True)
    w.grad = mg.Tensor(np.ones(3))
    mg.optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="changed in place"):
        g.sum().backward()


# -- truth value -------------------------------------------------------------------------
def test_truth_value_of_one_element_is_its_value():
    assert bool(mg.tensor(2.0)) and not bool(mg.tensor(0.0))
    assert bool(mg.tensor([[3.0]]))
    assert mg.tensor(1.0) > 0.5
    assert (mg.tensor(3.0) if mg.tensor(0.0) else mg.tensor(4.0)).item() == 4.0


@pytest.mark.parametrize("shape", [(2,), (2, 3), (0,)])
def test_truth_value_of_several_elements_is_ambiguous(shape):
    t = mg.tensor(np.ones(shape))
    with pytest.raises(ValueError, match=rf"shape {re.escape(str(shape))}.*ambiguous"):
        bool(t)
    with pytest.raises(ValueError, match="ambiguous"):
        if t:
            pass
    with pytest.raises(ValueError, match="ambiguous"):
        t in [mg.tensor(np.zeros(shape))]
    assert t in [t]                           # identity comes first, as for NumPy arrays


def test_membership_of_one_element_tensors_compares_values():
    assert mg.tensor(2.0) in [mg.tensor(1.0), mg.tensor(2.0)]
    assert mg.tensor(5.0) not in [mg.tensor(1.0), mg.tensor(2.0)]
