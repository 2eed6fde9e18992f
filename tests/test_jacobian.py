"""tools.jacobian: dc_t/dc_{t-1} of the network as built (closed form, autodiff), and the
multi-step dc_T/dc_t (exact, and the notes' product), against the unrolled graph and
finite differences of an independent NumPy transcription."""
import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import models
from models.regularizer import recording_unrolls
from tools import gradflow, jacobian

from test_models_reference import lin, params, sigmoid

VARIANTS = {
    "lstm": models.LSTMCell,
    "peephole_current": functools.partial(models.PeepholeLSTMCell, output_peephole="current"),
    "peephole_previous": functools.partial(models.PeepholeLSTMCell,
                                           output_peephole="previous"),
    "coupled": models.CoupledLSTMCell,
}


def _lstm(seed, inputs, hidden, scale=1.0, kind=models.LSTMCell):
    mg.manual_seed(seed)
    cell = gradflow.cast(kind(inputs, hidden))
    for p in cell.parameters():
        p.data = p.data * scale
    return cell


def _numpy_step(name, p, x, h, c, shift=0.0):
    """One step of ``name`` written from its equations; ``shift`` is added to the new c
    before the output gate and h see it (so a finite difference moves all of them)."""
    pre = lin(x, p["weight_ih"], p["bias_ih"]) + lin(h, p["weight_hh"], p["bias_hh"])
    if name == "coupled":
        f, g, o = np.split(pre, 3, axis=1)
        f = sigmoid(f)
        i = 1 - f
    else:
        i, f, g, o = np.split(pre, 4, axis=1)
        if name.startswith("peephole"):
            i, f = i + p["peephole_input"] * c, f + p["peephole_forget"] * c
        i, f = sigmoid(i), sigmoid(f)
    c_new = f * c + i * np.tanh(g) + shift
    if name == "peephole_current":
        o = o + p["peephole_output"] * c_new
    elif name == "peephole_previous":
        o = o + p["peephole_output"] * c
    return sigmoid(o) * np.tanh(c_new), c_new


def _finite_difference(name, cell, xs, t, eps=1e-6):
    """dc_t/dc_{t-1} (B, H, H): perturb c_{t-1} where step t-1 makes it, let h_{t-1} and
    o_{t-1} follow, and run step t."""
    p = params(cell)
    batch, size = xs.shape[1], cell.hidden_size
    h, c = np.zeros((batch, size)), np.zeros((batch, size))
    for k in range(t - 1):
        h, c = _numpy_step(name, p, xs[k], h, c)
    numeric = np.zeros((batch, size, size))
    for unit in range(size):
        outs = []
        for sign in (1, -1):
            shift = np.zeros((batch, size))
            shift[:, unit] = sign * eps
            if t == 0:
                h_prev, c_prev = h, c + shift
            else:
                h_prev, c_prev = _numpy_step(name, p, xs[t - 1], h, c, shift)
            outs.append(_numpy_step(name, p, xs[t], h_prev, c_prev)[1])
        numeric[:, :, unit] = (outs[0] - outs[1]) / (2 * eps)
    return numeric


def _unrolled_graph_jacobian(cell, xs, output_step, input_step):
    """d c_{output_step} / d c_{input_step} (B, H, H) by mg.grad on the graph
    models.unroll builds (its per-step states recorded as it makes them)."""
    with recording_unrolls() as unrolls:
        models.unroll(cell, mg.Tensor(xs))
    (_, states), = unrolls
    c_out, c_in = states[output_step][1], states[input_step][1]
    batch, size = c_out.shape
    rows = []
    for unit in range(size):
        seed = np.zeros((batch, size))
        seed[:, unit] = 1
        g, = mg.grad(c_out, [c_in], grad_outputs=mg.Tensor(seed), retain_graph=True)
        rows.append(g.numpy())
    return np.stack(rows, axis=1)


@settings(max_examples=40)
@given(seed=st.integers(0, 2**16), inputs=st.integers(1, 3), hidden=st.integers(1, 4),
       steps=st.integers(1, 4), batch=st.integers(1, 3),
       weight_scale=st.floats(0.3, 3.0), input_scale=st.floats(0.1, 3.0),
       kind=st.sampled_from(sorted(VARIANTS)))
def test_closed_form_equals_autodiff(seed, inputs, hidden, steps, batch, weight_scale,
                                     input_scale, kind):
    cell = _lstm(seed, inputs, hidden, weight_scale, VARIANTS[kind])
    xs = np.random.default_rng(seed).standard_normal((steps, batch, inputs)) * input_scale
    autodiff = jacobian.cell_state_jacobians(cell, xs, method="autodiff")
    closed = jacobian.cell_state_jacobians(cell, xs, method="closed_form")
    assert autodiff.shape == (steps, batch, hidden, hidden)
    np.testing.assert_allclose(closed, autodiff, rtol=0, atol=1e-10)


@pytest.mark.parametrize("method", jacobian.METHODS)
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_one_step_jacobian_is_the_unrolled_graphs_derivative(name, method):
    """Both methods equal mg.grad of c_t with respect to the c_{t-1} tensor of the unrolled
    graph (everything downstream of c_{t-1} moves) and central differences of the NumPy
    transcription, at every step."""
    cell = _lstm(5, 3, 4, 1.5, VARIANTS[name])
    xs = np.random.default_rng(5).standard_normal((4, 2, 3))
    jac = jacobian.cell_state_jacobians(cell, xs, method=method)
    for t in range(1, 4):
        np.testing.assert_allclose(jac[t], _unrolled_graph_jacobian(cell, xs, t, t - 1),
                                   rtol=0, atol=1e-12)
    for t in range(4):
        np.testing.assert_allclose(jac[t], _finite_difference(name, cell, xs, t),
                                   rtol=0, atol=1e-8)


def test_gers_peephole_output_gate_moves_with_the_cell_state():
    """In the Gers & Schmidhuber form o_{t-1} depends on c_{t-1}; holding it constant (the
    notes' picture of h_{t-1} = o_{t-1} tanh(c_{t-1})) misses a visible part of J_t."""
    cell = _lstm(6, 3, 4, 2.0, VARIANTS["peephole_current"])
    xs = np.random.default_rng(6).standard_normal((3, 2, 3))
    true = jacobian.cell_state_jacobians(cell, xs, method="closed_form")
    records = jacobian._forward_record(cell, jacobian.as_sequence(cell, xs), None)
    variant = jacobian.variant_of(cell)
    x_prev, h_prev, c_prev, c_now = records[1]
    o = variant.output_gate(cell, x_prev, h_prev, c_prev, c_now).numpy()
    held = variant.closed_form(cell, *records[2][:3], o * (1 - np.tanh(c_now.numpy()) ** 2))
    assert np.abs(true[2] - held).max() > 1e-3


def test_first_step_is_diagonal_forget_gate():
    cell = _lstm(1, 2, 3, 2.0)
    xs = np.random.default_rng(1).standard_normal((2, 2, 2))
    pre = xs[0] @ cell.weight_ih.numpy().T + cell.bias_ih.numpy() + cell.bias_hh.numpy()
    forget = 1 / (1 + np.exp(-pre[:, 3:6]))
    j0 = jacobian.cell_state_jacobians(cell, xs)[0]
    for b in range(2):
        np.testing.assert_allclose(j0[b], np.diag(forget[b]), atol=1e-14)


def test_zero_recurrent_weights_leave_only_the_direct_path():
    cell = _lstm(3, 2, 4)
    cell.weight_hh.data[:] = 0
    xs = np.random.default_rng(3).standard_normal((3, 2, 2))
    jac = jacobian.cell_state_jacobians(cell, xs, method="closed_form")
    off_diagonal = jac * (1 - np.eye(4))
    assert np.abs(off_diagonal).max() == 0
    assert np.all((np.diagonal(jac, axis1=-2, axis2=-1) > 0)
                  & (np.diagonal(jac, axis1=-2, axis2=-1) < 1))


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_exact_multi_step_jacobian_is_the_unrolled_graphs_derivative(name):
    cell = _lstm(7, 2, 3, 1.5, VARIANTS[name])
    xs = np.random.default_rng(7).standard_normal((6, 2, 2))
    exact = jacobian.multi_step_cell_jacobians(cell, xs, method="exact")
    assert exact.shape == (6, 2, 3, 3)
    np.testing.assert_allclose(exact[-1], np.broadcast_to(np.eye(3), (2, 3, 3)), atol=0)
    for t in range(5):
        np.testing.assert_allclose(exact[t], _unrolled_graph_jacobian(cell, xs, 5, t),
                                   rtol=0, atol=1e-12)
    product = jacobian.multi_step_cell_jacobians(cell, xs, method="cell_product")
    np.testing.assert_allclose(product[4], exact[4], atol=1e-12)
    assert np.abs(product[0] - exact[0]).max() > 1e-6


@pytest.mark.parametrize("step_method", jacobian.METHODS)
def test_cell_product_is_the_product_of_one_step_jacobians(step_method):
    cell = _lstm(4, 2, 3)
    xs = np.random.default_rng(4).standard_normal((4, 1, 2))
    jac = jacobian.cell_state_jacobians(cell, xs)[:, 0]
    norms = jacobian.cell_state_gradient_norms(cell, xs, method="cell_product",
                                               step_method=step_method)
    assert norms[-1] == pytest.approx(1.0)
    assert norms[1] == pytest.approx(np.linalg.norm(jac[3] @ jac[2], ord=2))
    assert norms[0] == pytest.approx(np.linalg.norm(jac[3] @ jac[2] @ jac[1], ord=2))
    exact = jacobian.cell_state_gradient_norms(cell, xs)
    direct = np.linalg.norm(_unrolled_graph_jacobian(cell, xs, 3, 0)[0], ord=2)
    assert exact[0] == pytest.approx(direct, rel=1e-12)


def test_state_jacobian_blocks_are_partial_derivatives():
    """For an LSTM, with h_{t-1} held: dc_t/dc_{t-1} = diag(f_t) and dh_t/dc_{t-1} =
    diag(o_t tanh'(c_t) f_t)."""
    cell = _lstm(8, 2, 3, 1.2)
    xs = np.random.default_rng(8).standard_normal((3, 2, 2))
    s = jacobian.state_jacobians(cell, xs)
    assert s.shape == (3, 2, 6, 6)
    variant = jacobian.variant_of(cell)
    for t, (x, h, c, c_new) in enumerate(
            jacobian._forward_record(cell, jacobian.as_sequence(cell, xs), None)):
        a = variant.preactivations(cell, x, h, c)
        forget, output = sigmoid(a["forget_gate"]), sigmoid(a["output_gate"])
        slope = output * (1 - np.tanh(c_new.numpy()) ** 2) * forget
        for b in range(2):
            np.testing.assert_allclose(s[t, b, 3:, 3:], np.diag(forget[b]), atol=1e-14)
            np.testing.assert_allclose(s[t, b, :3, 3:], np.diag(slope[b]), atol=1e-14)


def test_unsupported_cell_and_method_are_named():
    with pytest.raises(TypeError, match="GRUCell"):
        jacobian.cell_state_jacobians(models.GRUCell(2, 2), np.zeros((1, 1, 2)))
    with pytest.raises(ValueError, match="method"):
        jacobian.cell_state_jacobians(models.LSTMCell(2, 2), np.zeros((1, 1, 2)), method="fd")
    with pytest.raises(ValueError, match="multi_step_cell_jacobians: method"):
        jacobian.multi_step_cell_jacobians(models.LSTMCell(2, 2), np.zeros((1, 1, 2)),
                                           method="product")
    with pytest.raises(ValueError, match="output_peephole"):
        models.PeepholeLSTMCell(2, 2, output_peephole="next")
