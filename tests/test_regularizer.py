"""The Pascanu et al. (2013) regularizer of models.regularizer: its value against a NumPy
BPTT of a tanh RNN and against tools.jacobian for an LSTM, its gradient against finite
differences, and no second unroll."""
import numpy as np
import pytest

import minigrad as mg
import models
from models.charlm import CharLM, Vocabulary
from models.regularizer import error_signals, pascanu_penalty, penalty_of, recording_unrolls
from models.train import Trainer
from minigrad.optim import SGD
from tools import jacobian


def to_float64(model):
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    return model


def tiny_lm(cell, hidden=4, seed=0):
    mg.manual_seed(seed)
    return to_float64(CharLM(Vocabulary("abc"), cell, hidden, 1, 3))


def batch(seed, steps=5, size=2):
    data = np.random.default_rng(seed).integers(0, 3, size=(steps + 1, size))
    return data[:-1], data[1:]


def recorded_loss(model, inputs, targets):
    with recording_unrolls() as unrolls:
        loss, _ = model.loss(inputs, targets)
    return loss, unrolls


def numpy_rnn_penalty(model, inputs, targets):
    """Omega of 001_*.txt for a one-layer tanh RNN char-LM, by a NumPy forward and BPTT:
    x_k = a_k the pre-activation, g_{k+1} = dL/da_{k+1}, dx_{k+1}/dx_k = W_hh diag(tanh'(a_k))."""
    p = {k: v.astype(np.float64) for k, v in model.state_dict().items()}
    steps, size = inputs.shape
    embedded = p["embedding.weight"][inputs]
    w_ih, w_hh = p["rnn.layer0.weight_ih"], p["rnn.layer0.weight_hh"]
    bias = p["rnn.layer0.bias_ih"] + p["rnn.layer0.bias_hh"]
    h, pre, hidden = np.zeros((size, w_hh.shape[0])), [], []
    for t in range(steps):
        pre.append(embedded[t] @ w_ih.T + h @ w_hh.T + bias)
        h = np.tanh(pre[-1])
        hidden.append(h)
    logits = np.stack(hidden) @ p["head.weight"].T + p["head.bias"]
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    dlogits = probs.copy()
    np.put_along_axis(dlogits, targets[..., None],
                      np.take_along_axis(probs, targets[..., None], -1) - 1, -1)
    dlogits /= steps * size
    g_pre, after = [None] * steps, np.zeros_like(h)
    for t in range(steps - 1, -1, -1):
        dh = dlogits[t] @ p["head.weight"] + after @ w_hh
        g_pre[t] = dh * (1 - hidden[t] ** 2)
        after = g_pre[t]
    omega = 0.0
    for k in range(steps - 1):
        g = g_pre[k + 1]
        back = (g @ w_hh) * (1 - np.tanh(pre[k]) ** 2)
        ratio = np.linalg.norm(back, axis=1) / np.linalg.norm(g, axis=1)
        omega += ((ratio - 1) ** 2).mean()
    return omega


def test_rnn_penalty_is_001s_formula_on_the_pre_activation():
    model = tiny_lm("rnn")
    inputs, targets = batch(1)
    loss, unrolls = recorded_loss(model, inputs, targets)
    value = penalty_of(loss, unrolls).item()
    assert value == pytest.approx(numpy_rnn_penalty(model, inputs, targets), rel=1e-10)


@pytest.mark.parametrize("cell", ["lstm", "peephole_lstm", "coupled_lstm"])
def test_lstm_penalty_regularises_the_hidden_and_the_cell_path(cell):
    """One sum per state tensor: h with dh_{k+1}/dh_k (c_k held, it is not downstream of
    h_k) and c with the true dc_{k+1}/dc_k of tools.jacobian, each against its own
    dL/dx_{k+1}."""
    model = tiny_lm(cell, hidden=3)
    inputs, targets = batch(2)
    loss, unrolls = recorded_loss(model, inputs, targets)
    value = penalty_of(loss, unrolls).item()
    (lstm, states), = unrolls
    hs = [s[0] for s in states]
    cs = [s[1] for s in states]
    grads = mg.grad(loss, hs[1:] + cs[1:], retain_graph=True)
    g_h = [g.numpy() for g in grads[:len(hs) - 1]]
    g_c = [g.numpy() for g in grads[len(hs) - 1:]]
    xs = model.embed(inputs).numpy()
    one_step = jacobian.cell_state_jacobians(lstm, xs, method="closed_form")
    full = jacobian.state_jacobians(lstm, xs)
    size = lstm.hidden_size
    expected = 0.0
    for k in range(len(hs) - 1):
        for g, jac in ((g_h[k], full[k + 1][:, :size, :size]), (g_c[k], one_step[k + 1])):
            back = np.einsum("bi,bij->bj", g, jac)
            ratio = np.linalg.norm(back, axis=1) / np.linalg.norm(g, axis=1)
            expected += ((ratio - 1) ** 2).mean()
    assert value == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_penalty_gradient_matches_finite_differences(cell):
    """dOmega/dW with dL/dx_{k+1} held at its value (the paper's choice) and everything
    else moving: the states, and dx_{k+1}/dx_k."""
    model = tiny_lm(cell, hidden=3)
    inputs, targets = batch(3, steps=4)
    loss, unrolls = recorded_loss(model, inputs, targets)
    signals = error_signals(loss, unrolls)
    layer = model.layers[0]
    params = [layer.weight_hh, layer.weight_ih, model.embedding.weight]
    grads = mg.grad(pascanu_penalty(unrolls, signals), params)

    def omega():
        _, again = recorded_loss(model, inputs, targets)
        return pascanu_penalty(again, signals).item()

    eps = 1e-6
    for p, g in zip(params, grads):
        flat, numeric = p.data.reshape(-1), np.zeros(p.data.size)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            plus = omega()
            flat[i] = old - eps
            minus = omega()
            flat[i] = old
            numeric[i] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(g.numpy().reshape(-1), numeric, rtol=1e-6, atol=1e-9)


def test_the_penalty_runs_no_second_unroll(monkeypatch):
    """Training with the penalty runs each cell step as often as training without it."""
    calls = []
    original = models.RNNCell.step
    monkeypatch.setattr(models.RNNCell, "step",
                        lambda self, *args: calls.append(1) or original(self, *args))
    inputs, targets = batch(4, steps=6)
    counts = []
    for weight in (0.0, 1.0):
        model = tiny_lm("rnn")
        trainer = Trainer(model, None, optimizer=SGD(model.parameters(), lr=0.0),
                          jacobian_penalty=weight, progress=False, compile=False)
        calls.clear()
        trainer.compute_gradients(inputs, targets)
        counts.append(len(calls))
    assert counts == [6, 6]


def test_training_with_the_penalty_changes_the_recurrent_update_only():
    inputs, targets = batch(5, steps=6)
    updates = []
    for weight in (0.0, 1.0):
        model = tiny_lm("rnn")
        trainer = Trainer(model, None, optimizer=SGD(model.parameters(), lr=0.0),
                          jacobian_penalty=weight, progress=False)
        trainer.compute_gradients(inputs, targets)
        updates.append({n: p.grad.numpy().copy() for n, p in model.named_parameters()})
    assert not np.allclose(updates[0]["rnn.layer0.weight_hh"],
                           updates[1]["rnn.layer0.weight_hh"])
    np.testing.assert_allclose(updates[0]["head.weight"], updates[1]["head.weight"])


def test_a_model_without_an_unroll_is_named():
    class NoRecurrence(mg.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = mg.nn.Parameter(np.ones(2))

        def loss(self, inputs, targets, state=None):
            return (self.w * 2).sum(), None

    model = NoRecurrence()
    trainer = Trainer(model, None, optimizer=SGD(model.parameters(), lr=0.0),
                      jacobian_penalty=1.0, progress=False)
    with pytest.raises(ValueError, match="no recurrence to regularise"):
        trainer.compute_gradients(np.zeros((3, 1)), np.zeros((3, 1)))


@pytest.mark.parametrize("name, chains", [
    ("rnn", 1), ("gru", 1), ("lstm", 2), ("jordan_rnn", 1), ("time_delay_rnn", 1),
    ("time_delay_lstm", 2), ("stacked_skip_lstm", 4), ("bidirectional_lstm", 4), ("tcn", 0)])
def test_every_unroll_of_a_model_is_regularised(name, chains):
    """One sum per state tensor per unroll (a stack's layers, both directions); a delay's
    history only shifts and is left out; a TCN has nothing to regularise."""
    from models.regularizer import _chains
    from tools.checks.strategies import CELL_KINDS
    mg.manual_seed(0)
    cell = CELL_KINDS[name](2, 3)
    xs = mg.Tensor(np.random.default_rng(0).standard_normal((5, 2, 2)).astype(np.float32))
    with recording_unrolls() as unrolls:
        hs, _ = models.run_sequence(cell, xs, None)
        loss = (hs ** 2).sum()
    assert len(_chains(unrolls)) == chains
    if not chains:
        with pytest.raises(ValueError, match="no recurrence"):
            penalty_of(loss, unrolls)
        return
    omega = penalty_of(loss, unrolls)
    grads = mg.grad(omega, cell.parameters(), allow_unused=True)
    assert np.isfinite(omega.item()) and any(np.abs(g.numpy()).max() > 0 for g in grads)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_penalty_does_not_depend_on_the_scale_of_the_error_signal(dtype):
    """Omega is a ratio: multiplying the loss by 1e-30 (an error signal that has all but
    vanished, as after 15 decades of decay) leaves it unchanged."""
    model = tiny_lm("rnn", hidden=4)
    if dtype == "float32":
        for p in model.parameters():
            p.data = p.data.astype(np.float32)
    inputs, targets = batch(6, steps=6)
    values = []
    for scale in (1.0, 1e-30):
        loss, unrolls = recorded_loss(model, inputs, targets)
        values.append(penalty_of(loss * scale, unrolls).item())
    assert values[1] == pytest.approx(values[0], rel=1e-5 if dtype == "float32" else 1e-12)
