"""tools.jacobian: the four-term closed form of dc_t/dc_{t-1} against autodiff."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import models
from tools import gradflow, jacobian

VARIANTS = (models.LSTMCell, models.PeepholeLSTMCell, models.CoupledLSTMCell)


def _lstm(seed, inputs, hidden, scale=1.0, kind=models.LSTMCell):
    mg.manual_seed(seed)
    cell = gradflow.cast(kind(inputs, hidden))
    for p in cell.parameters():
        p.data = p.data * scale
    return cell


@settings(max_examples=40)
@given(seed=st.integers(0, 2**16), inputs=st.integers(1, 3), hidden=st.integers(1, 4),
       steps=st.integers(1, 4), batch=st.integers(1, 3),
       weight_scale=st.floats(0.3, 3.0), input_scale=st.floats(0.1, 3.0),
       kind=st.sampled_from(VARIANTS))
def test_closed_form_equals_autodiff(seed, inputs, hidden, steps, batch, weight_scale,
                                     input_scale, kind):
    cell = _lstm(seed, inputs, hidden, weight_scale, kind)
    xs = np.random.default_rng(seed).standard_normal((steps, batch, inputs)) * input_scale
    autodiff = jacobian.cell_state_jacobians(cell, xs, method="autodiff")
    closed = jacobian.cell_state_jacobians(cell, xs, method="closed_form")
    assert autodiff.shape == (steps, batch, hidden, hidden)
    np.testing.assert_allclose(closed, autodiff, rtol=0, atol=1e-10)


def test_first_step_is_diagonal_forget_gate():
    cell = _lstm(1, 2, 3, 2.0)
    xs = np.random.default_rng(1).standard_normal((2, 2, 2))
    pre = xs[0] @ cell.weight_ih.numpy().T + cell.bias_ih.numpy() + cell.bias_hh.numpy()
    forget = 1 / (1 + np.exp(-pre[:, 3:6]))
    j0 = jacobian.cell_state_jacobians(cell, xs)[0]
    for b in range(2):
        np.testing.assert_allclose(j0[b], np.diag(forget[b]), atol=1e-14)


def test_autodiff_jacobian_matches_finite_differences():
    """Independent of both methods: perturb c_{t-1}, rebuild h_{t-1} = o_{t-1} tanh(c_{t-1})."""
    cell = _lstm(2, 2, 3, 1.5)
    xs = np.random.default_rng(2).standard_normal((3, 1, 2))
    states = gradflow.run_steps(cell, xs)
    t = 2
    h_prev, c_prev = (s.numpy() for s in states[t - 1])
    o_prev = h_prev / np.tanh(c_prev)
    eps, numeric = 1e-6, np.zeros((3, 3))
    for unit in range(3):
        outs = []
        for sign in (1, -1):
            c = c_prev.copy()
            c[0, unit] += sign * eps
            h = o_prev * np.tanh(c)
            _, c_new = cell(mg.Tensor(xs[t]), (mg.Tensor(h), mg.Tensor(c)))
            outs.append(c_new.numpy()[0])
        numeric[:, unit] = (outs[0] - outs[1]) / (2 * eps)
    np.testing.assert_allclose(jacobian.cell_state_jacobians(cell, xs)[t, 0], numeric,
                               atol=1e-8)


def test_zero_recurrent_weights_leave_only_the_direct_path():
    cell = _lstm(3, 2, 4)
    cell.weight_hh.data[:] = 0
    xs = np.random.default_rng(3).standard_normal((3, 2, 2))
    jac = jacobian.cell_state_jacobians(cell, xs, method="closed_form")
    off_diagonal = jac * (1 - np.eye(4))
    assert np.abs(off_diagonal).max() == 0
    assert np.all((np.diagonal(jac, axis1=-2, axis2=-1) > 0)
                  & (np.diagonal(jac, axis1=-2, axis2=-1) < 1))


def test_cell_state_gradient_norms_are_products_of_jacobians():
    cell = _lstm(4, 2, 3)
    xs = np.random.default_rng(4).standard_normal((4, 1, 2))
    jac = jacobian.cell_state_jacobians(cell, xs)[:, 0]
    norms = jacobian.cell_state_gradient_norms(cell, xs)
    assert norms[-1] == pytest.approx(1.0)
    assert norms[1] == pytest.approx(np.linalg.norm(jac[3] @ jac[2], ord=2))
    assert norms[0] == pytest.approx(np.linalg.norm(jac[3] @ jac[2] @ jac[1], ord=2))


def test_unsupported_cell_and_method_are_named():
    with pytest.raises(TypeError, match="GRUCell"):
        jacobian.cell_state_jacobians(models.GRUCell(2, 2), np.zeros((1, 1, 2)))
    with pytest.raises(ValueError, match="method"):
        jacobian.cell_state_jacobians(models.LSTMCell(2, 2), np.zeros((1, 1, 2)), method="fd")
