"""tools.gradflow: per-step gradient norms against closed forms on a linear RNN."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import models
from minigrad.nn import Parameter
from models.cell import Cell
from tools import gradflow


class LinearRNNCell(Cell):
    """h_t = W_x x_t + W h_{t-1}: identity nonlinearity, so dh_t/dh_{t-1} = W exactly."""
    kind = "linear_rnn"

    def __init__(self, weight_ih, weight_hh):
        super().__init__(weight_ih.shape[1], weight_hh.shape[0])
        self.weight_ih = Parameter(np.asarray(weight_ih, dtype=np.float64))
        self.weight_hh = Parameter(np.asarray(weight_hh, dtype=np.float64))

    def input_projection(self, x):
        return x @ self.weight_ih.T

    def step(self, projected, state):
        h, = state
        return (projected + h @ self.weight_hh.T,)


def _linear_case(seed, hidden, steps, batch, inputs=2):
    rng = np.random.default_rng(seed)
    weight_hh = rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)
    cell = LinearRNNCell(rng.standard_normal((hidden, inputs)), weight_hh)
    xs = rng.standard_normal((steps, batch, inputs))
    return cell, weight_hh, xs


@settings(max_examples=15)
@given(seed=st.integers(0, 2**16), hidden=st.integers(1, 5), steps=st.integers(1, 8),
       batch=st.integers(1, 3))
def test_linear_rnn_norms_equal_matrix_powers(seed, hidden, steps, batch):
    cell, weight_hh, xs = _linear_case(seed, hidden, steps, batch)
    ones = np.ones(hidden)
    powers = [np.linalg.matrix_power(weight_hh.T, steps - 1 - t) for t in range(steps)]
    # L = sum(h_T): dL/dh_t = (W^T)^(T-t) 1 in every batch row
    expected_last = [np.sqrt(batch) * np.linalg.norm(p @ ones) for p in powers]
    np.testing.assert_allclose(gradflow.hidden_gradient_norms(cell, xs, loss="last"),
                               expected_last, rtol=1e-10, atol=1e-12)
    # L = sum_t sum(h_t): dL/dh_t = sum_{s >= t} (W^T)^(s-t) 1
    expected_all = [np.sqrt(batch) * np.linalg.norm(sum(
        np.linalg.matrix_power(weight_hh.T, s - t) @ ones for s in range(t, steps)))
        for t in range(steps)]
    np.testing.assert_allclose(gradflow.hidden_gradient_norms(cell, xs, loss="all"),
                               expected_all, rtol=1e-10, atol=1e-12)
    # dh_T/dh_t = W^(T-t), its spectral norm
    expected_jacobian = [np.linalg.norm(p.T, ord=2) for p in powers]
    np.testing.assert_allclose(gradflow.jacobian_product_norms(cell, xs),
                               expected_jacobian, rtol=1e-10, atol=1e-12)


def test_hidden_jacobians_match_matrix_powers_elementwise():
    cell, weight_hh, xs = _linear_case(3, 4, 5, 2)
    jacobians = gradflow.hidden_jacobians(cell, xs)
    assert jacobians.shape == (5, 2, 4, 4)
    for t in range(5):
        for b in range(2):
            np.testing.assert_allclose(jacobians[t, b],
                                       np.linalg.matrix_power(weight_hh, 4 - t), atol=1e-12)


def test_tanh_rnn_gradient_matches_finite_differences_of_the_loss():
    """dL/dh_t for a nonlinear cell: perturb h_t's input path by restarting the unroll."""
    cell = gradflow.cast(models.RNNCell(2, 3))
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((4, 1, 2))
    grads = gradflow.hidden_gradients(cell, xs)
    states = gradflow.run_steps(cell, xs)
    t, eps = 1, 1e-6
    h_t = states[t][0].numpy()
    numeric = np.zeros_like(h_t)
    for unit in range(3):
        values = []
        for sign in (1, -1):
            h = h_t.copy()
            h[0, unit] += sign * eps
            rest = gradflow.run_steps(cell, xs[t + 1:], (mg.Tensor(h),))
            values.append(rest[-1][0].numpy().sum())
        numeric[0, unit] = (values[0] - values[1]) / (2 * eps)
    np.testing.assert_allclose(grads[t], numeric, rtol=1e-6, atol=1e-9)


def test_scale_spectral_radius_sets_radius_of_each_block():
    cell = models.LSTMCell(3, 5)
    gradflow.cast(cell)
    gradflow.scale_spectral_radius(cell, 1.3)
    for name, block in gradflow.recurrent_blocks(cell).items():
        assert abs(np.abs(np.linalg.eigvals(block)).max() - 1.3) < 1e-9, name
    rnn = gradflow.cast(models.RNNCell(2, 4))
    before = gradflow.recurrent_blocks(rnn)["recurrent"].copy()
    gradflow.scale_spectral_radius(rnn, 0.5)
    after = rnn.weight_hh.numpy()
    ratio = after / before
    np.testing.assert_allclose(ratio, ratio.flat[0])
    assert gradflow.spectral_radius(rnn) == pytest.approx(0.5)


def test_spectral_radius_and_singular_value_of_known_matrix():
    matrix = np.array([[0.0, 2.0], [0.5, 0.0]])  # eigenvalues +-1, singular values 2, 0.5
    assert gradflow.spectral_radius(matrix) == pytest.approx(1.0)
    assert gradflow.largest_singular_value(matrix) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="square"):
        gradflow.spectral_radius(np.ones((2, 3)))


def test_scale_spectral_radius_rejects_unknown_gate():
    with pytest.raises(ValueError, match="unknown gates"):
        gradflow.scale_spectral_radius(models.GRUCell(2, 2), 1.0, gates=["forget_gate"])


@pytest.mark.parametrize("suffix, magic", [("png", b"\x89PNG"), ("svg", b"<svg")])
def test_plot_gradient_flow_writes_the_format_of_the_suffix(tmp_path, suffix, magic):
    path = tmp_path / f"flow.{suffix}"
    gradflow.plot_gradient_flow({"a": [1.0, 0.1, 0.01], "b": [1.0, 2.0, 4.0]}, path)
    data = path.read_bytes()
    assert magic in data[:400]
    assert not [p for p in tmp_path.iterdir() if p.name != path.name]


def test_plot_gradient_flow_rejects_other_suffix(tmp_path):
    with pytest.raises(ValueError, match="png or .svg"):
        gradflow.plot_gradient_flow({"a": [1.0]}, tmp_path / "flow.jpg")


def _numpy_rnn_lag_terms(cell, xs):
    """BPTT of L = sum(h_T) for a tanh RNN by hand: term k = (dL/da_k)^T h_{k-1}."""
    w_ih, w_hh = cell.weight_ih.numpy(), cell.weight_hh.numpy()
    bias = cell.bias_ih.numpy() + cell.bias_hh.numpy()
    hs = [np.zeros((xs.shape[1], w_hh.shape[0]))]
    for x in xs:
        hs.append(np.tanh(x @ w_ih.T + hs[-1] @ w_hh.T + bias))
    terms, upstream = [], np.ones_like(hs[-1])
    for k in range(len(xs), 0, -1):
        through_tanh = upstream * (1 - hs[k] ** 2)
        terms.append(through_tanh.T @ hs[k - 1])
        upstream = through_tanh @ w_hh
    return np.stack(terms[::-1])


def test_lag_gradients_of_a_tanh_rnn_match_hand_written_bptt_term_by_term():
    mg.manual_seed(1)
    cell = gradflow.cast(models.RNNCell(2, 4))
    xs = np.random.default_rng(1).standard_normal((6, 3, 2))
    terms = gradflow.lag_gradients(cell, xs)
    np.testing.assert_allclose(terms, _numpy_rnn_lag_terms(cell, xs), rtol=1e-10, atol=1e-14)
    norms = gradflow.lag_gradient_norms(cell, xs)   # indexed by lag T - k
    np.testing.assert_allclose(norms, np.linalg.norm(terms, axis=(1, 2))[::-1])
    assert norms[-1] == 0   # step 1 multiplies h_0 = 0


@pytest.mark.parametrize("make", [lambda: models.RNNCell(2, 3), lambda: models.LSTMCell(2, 3),
                                  lambda: models.GRUCell(2, 3)], ids=["rnn", "lstm", "gru"])
def test_lag_gradients_sum_to_the_full_gradient_and_to_finite_differences(make):
    mg.manual_seed(2)
    cell = gradflow.cast(make())
    names = [name for name, _ in cell.named_parameters()]
    xs = np.random.default_rng(2).standard_normal((5, 2, 2))
    terms = gradflow.lag_gradients(cell, xs)
    assert terms.shape == (5, *cell.weight_hh.shape)
    assert cell.weight_hh is cell._parameters["weight_hh"]   # the parameter is put back
    assert [name for name, _ in cell.named_parameters()] == names
    full, = mg.grad(gradflow.run_steps(cell, xs)[-1][0].sum(), [cell.weight_hh])
    np.testing.assert_allclose(terms.sum(axis=0), full.numpy(), rtol=1e-12, atol=1e-15)

    def loss():
        return gradflow.run_steps(cell, xs)[-1][0].sum().item()

    weight, eps = cell.weight_hh.data, 1e-6
    numeric = np.zeros_like(weight)
    for index in np.ndindex(weight.shape):
        original = weight[index]
        weight[index] = original + eps
        above = loss()
        weight[index] = original - eps
        below = loss()
        weight[index] = original
        numeric[index] = (above - below) / (2 * eps)
    np.testing.assert_allclose(terms.sum(axis=0), numeric, rtol=1e-6, atol=1e-9)


def test_lag_gradients_reject_a_cell_without_that_weight():
    with pytest.raises(ValueError, match="no weight named weight_xyz"):
        gradflow.lag_gradients(models.RNNCell(2, 2), np.zeros((3, 1, 2)), parameter="weight_xyz")


def test_set_keeping_gate_bias_opens_the_lstm_forget_gate_and_the_gru_update_gate():
    lstm = gradflow.set_keeping_gate_bias(models.LSTMCell(2, 3), 1.0)
    np.testing.assert_array_equal(lstm.bias_ih.numpy()[3:6] + lstm.bias_hh.numpy()[3:6], 1.0)
    gru = gradflow.set_keeping_gate_bias(models.GRUCell(2, 3), 2.0)   # gates r, z, n
    np.testing.assert_array_equal(gru.bias_ih.numpy()[3:6] + gru.bias_hh.numpy()[3:6], 2.0)
    assert np.all(gru.bias_ih.numpy()[:3] != 2.0)
    with pytest.raises(ValueError, match="RNNCell has no forget_gate or update_gate"):
        gradflow.set_keeping_gate_bias(models.RNNCell(2, 3))
