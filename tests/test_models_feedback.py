"""002_*.txt's remaining topologies: Seq2Seq over Stacked layers, the deep hidden-to-output
MLP, the Jordan network under teacher forcing, the captioning form of one-to-many (the
condition fed once as x_{-1}) and conditional many-to-many with past outputs fed back."""
import numpy as np
import pytest
from helpers import assert_greedy_decode_is_free_running_argmax
from test_models_reference import jordan_step, lin, lstm_step, params, run, rnn_step, t64
from test_models_reference import gru_step, to_float64

import minigrad as mg
import models
from models.charlm import CharLM
from minigrad import functional as F
from minigrad.optim import Adam
from minigrad.testing import gradcheck, jacobian


# -- Seq2Seq with Stacked encoder and decoder ---------------------------------------------
def stacked_lstm(input_size, hidden, layers=2):
    return models.Stacked([models.LSTMCell(input_size if i == 0 else hidden, hidden)
                           for i in range(layers)])


def stacked_reference(model, xs, state):
    """Two LSTM layers by hand: layer l runs over layer l-1's outputs from its own state."""
    finals = []
    for layer, layer_state in zip(model.layers, state):
        p = params(layer)
        xs, final = run(lambda x, h, c, p=p: lstm_step(p, x, h, c), xs, layer_state)
        finals.append(final)
    return xs, finals


def test_seq2seq_with_stacked_layers_matches_its_equations(rng):
    model = to_float64(models.Seq2Seq(stacked_lstm(3, 4), stacked_lstm(2, 4), 7, 6))
    source, target = rng.integers(0, 7, size=(5, 2)), rng.integers(0, 6, size=(4, 2))
    logits = model(source, target)
    zeros = [(np.zeros((2, 4)),) * 2] * 2
    xs = params(model.source_embedding)["weight"][source[::-1]]
    _, v = stacked_reference(model.encoder, xs, zeros)
    inputs = np.concatenate([np.zeros((1, 2), int), target[:-1]])
    hs, _ = stacked_reference(model.decoder, params(model.target_embedding)["weight"][inputs], v)
    expected = lin(hs, model.head.weight.numpy(), model.head.bias.numpy())
    np.testing.assert_allclose(logits.numpy(), expected, rtol=1e-10)
    # layer 0 of the decoder starts from layer 0 of the encoder, not from layer 1
    swapped = [v[1], v[0]]
    wrong, _ = stacked_reference(model.decoder,
                                 params(model.target_embedding)["weight"][inputs], swapped)
    assert not np.allclose(lin(wrong, model.head.weight.numpy(), model.head.bias.numpy()),
                           logits.numpy())


def test_stacked_seq2seq_greedy_decode_is_free_running_argmax(rng):
    model = to_float64(models.Seq2Seq(stacked_lstm(3, 5), stacked_lstm(2, 5), 7, 6))
    assert_greedy_decode_is_free_running_argmax(model, rng.integers(0, 7, size=(4, 3)))


def test_stacked_seq2seq_gradcheck_and_learns_to_copy(rng):
    model = to_float64(models.Seq2Seq(
        models.Stacked([models.GRUCell(2, 2), models.GRUCell(2, 2)]),
        models.Stacked([models.GRUCell(2, 2), models.GRUCell(2, 2)]), None, 3))
    source = t64(rng.normal(size=(2, 1, 2)), requires_grad=True)
    target = rng.integers(0, 3, size=(2, 1))
    gradcheck(lambda s, *_: model(s, target), [source, *model.parameters()],
              atol=1e-6, rtol=1e-4)
    mg.manual_seed(3)
    model = models.Seq2Seq(stacked_lstm(6, 16), stacked_lstm(6, 16), 5, 5)
    optimizer = Adam(model.parameters(), lr=2e-2)
    data = np.random.default_rng(0)
    losses = []
    for _ in range(120):
        source = data.integers(2, 5, size=(3, 16))
        target = np.concatenate([source, np.ones((1, 16), np.int64)])
        loss = F.cross_entropy(model(source, target), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-10:]) < 0.25 * np.mean(losses[:10])
    source = data.integers(2, 5, size=(3, 64))
    decoded = model.greedy_decode(source, 4)
    assert (decoded[:3] == source).all(axis=0).mean() > 0.8


def test_seq2seq_rejects_layers_that_do_not_line_up():
    with pytest.raises(ValueError, match=r"Seq2Seq: the decoder \(LSTMCell.*Stacked"):
        models.Seq2Seq(stacked_lstm(3, 4), models.LSTMCell(2, 4), 7, 6)
    with pytest.raises(ValueError, match="Seq2Seq: the encoder: Bidirectional"):
        models.Seq2Seq(models.Bidirectional(models.GRUCell(3, 2), models.GRUCell(3, 2)),
                       models.GRUCell(2, 4), 7, 6)


# -- deep hidden-to-output ----------------------------------------------------------------
def test_deep_output_is_an_mlp_between_h_and_the_logits(rng):
    model = to_float64(models.ManyToMany(models.RNNCell(2, 3), 4, head_hidden=(5, 6)))
    xs = rng.normal(size=(4, 2, 2))
    logits, _ = model(t64(xs))
    hs, _ = run(lambda x, h: rnn_step(params(model.core), x, h), xs, (np.zeros((2, 3)),))
    p = params(model.head)
    u = np.tanh(lin(hs, p["layer1.weight"], p["layer1.bias"]))
    u = np.tanh(lin(u, p["layer2.weight"], p["layer2.bias"]))
    np.testing.assert_allclose(logits.numpy(), lin(u, p["output.weight"], p["output.bias"]),
                               rtol=1e-10)
    x = t64(xs, requires_grad=True)
    gradcheck(lambda x, *_: model(x)[0], [x, *model.head.parameters()], atol=1e-6, rtol=1e-4)
    assert isinstance(models.ManyToMany(models.RNNCell(2, 3), 4).head, mg.nn.Linear)
    with pytest.raises(ValueError, match="DeepOutput: hidden_sizes"):
        models.DeepOutput(3, 4, (5, 0))


def test_charlm_with_a_deep_output_round_trips_its_config(rng):
    lm = CharLM("abcd", "gru", 6, head_hidden=(5,))
    restored = CharLM.from_config(lm.config())
    restored.load_state_dict(lm.state_dict())
    indices = rng.integers(0, 4, size=(5, 2))
    np.testing.assert_array_equal(lm(indices)[0].numpy(), restored(indices)[0].numpy())
    assert {"head.layer1.weight", "head.output.bias"} <= set(lm.state_dict())
    old = {k: v for k, v in lm.config().items() if k != "head_hidden"}     # older checkpoints
    assert isinstance(CharLM.from_config(old).head, mg.nn.Linear)


# -- Jordan network, teacher forcing ------------------------------------------------------
def test_jordan_teacher_forcing_feeds_back_the_previous_target(rng):
    cell = to_float64(models.JordanRNNCell(3, 5, output_size=2))
    xs, targets = rng.normal(size=(4, 2, 3)), np.tanh(rng.normal(size=(4, 2, 2)))
    ys = cell.teacher_forced(t64(xs), t64(targets))
    p, previous = params(cell), np.concatenate([np.zeros((1, 2, 2)), targets[:-1]])
    expected = np.stack([jordan_step(p, xs[t], previous[t])[0] for t in range(4)])
    np.testing.assert_allclose(ys.numpy(), expected, rtol=1e-10)
    free, _ = models.unroll(cell, t64(xs))          # at test time: its own outputs fed back
    assert not np.allclose(free.numpy()[1:], ys.numpy()[1:])
    np.testing.assert_allclose(free.numpy()[0], ys.numpy()[0], rtol=1e-12)
    x = t64(xs, requires_grad=True)
    J, = jacobian(lambda x: cell.teacher_forced(x, t64(targets)), [x])
    dependence = np.abs(J.reshape(4, 2, 2, 4, 2, 3)).sum(axis=(1, 2, 4, 5))
    np.testing.assert_array_equal(dependence != 0, np.eye(4, dtype=bool))   # no path in time
    y = t64(targets, requires_grad=True)
    gradcheck(lambda x, y, *_: cell.teacher_forced(x, y), [x, y, *cell.parameters()],
              atol=1e-6, rtol=1e-4)
    with pytest.raises(ValueError, match=r"teacher_forced: targets must have shape \(4, 2, 2\)"):
        cell.teacher_forced(t64(xs), t64(targets[:3]))


def test_jordan_trained_with_teacher_forcing_then_runs_free():
    """A student learns a teacher Jordan network's outputs from teacher-forced steps only;
    fed its own outputs afterwards, it tracks the teacher's sequence."""
    data = np.random.default_rng(5)
    mg.manual_seed(11)
    teacher = to_float64(models.JordanRNNCell(2, 6, output_size=2))
    mg.manual_seed(12)
    student = to_float64(models.JordanRNNCell(2, 12, output_size=2))
    optimizer = Adam(student.parameters(), lr=1e-2)

    def task(batch):
        xs = t64(data.normal(size=(12, batch, 2)))
        with mg.no_grad():
            targets, _ = models.unroll(teacher, xs)
        return xs, targets.detach()

    def free_error():
        xs, targets = task(64)
        with mg.no_grad():
            ys, _ = models.unroll(student, xs)
        return float(((ys.numpy() - targets.numpy()) ** 2).mean())

    before = free_error()
    for _ in range(300):
        xs, targets = task(32)
        loss = F.mse_loss(student.teacher_forced(xs, targets), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert free_error() < 0.05 * before


# -- one-to-many, x_{-1} = the condition ------------------------------------------------
def test_captioning_form_inputs_the_condition_once_before_the_first_word(rng):
    E, C, H, V = 3, 4, 5, 6
    model = to_float64(models.OneToMany(models.LSTMCell(E, H), V, C, "first_input"))
    v, tokens = rng.normal(size=(2, C)), rng.integers(0, V, size=(3, 2))
    logits, _ = model(t64(v), tokens)
    p, q = params(model.cell), params(model.condition_to_input)
    zeros = (np.zeros((2, H)),) * 2
    state = lstm_step(p, lin(v, q["weight"], q["bias"]), *zeros)          # x_{-1} = W_v v
    hs, _ = run(lambda x, h, c: lstm_step(p, x, h, c),
                params(model.embedding)["weight"][tokens], state)
    np.testing.assert_allclose(logits.numpy(), lin(hs, model.head.weight.numpy(),
                                                   model.head.bias.numpy()), rtol=1e-10)
    assert logits.shape == (3, 2, V)                     # the x_{-1} step is not scored
    cond = t64(v, requires_grad=True)
    gradcheck(lambda c, *_: model(c, tokens)[0], [cond, *model.parameters()],
              atol=1e-6, rtol=1e-4)
    generated = model.generate(t64(v), start_index=0, max_length=5)
    inputs = np.concatenate([np.zeros((1, 2), np.int64), generated[:-1]])
    np.testing.assert_array_equal(model(t64(v), inputs)[0].numpy().argmax(axis=2), generated)


# -- conditional many-to-many, past outputs fed back --------------------------------------
def test_conditional_many_to_many_sees_past_inputs_and_past_outputs(rng):
    D, E, H, V = 2, 3, 4, 5
    model = to_float64(models.ConditionalManyToMany(models.GRUCell(D + E, H), V, D))
    xs, targets = rng.normal(size=(4, 2, D)), rng.integers(0, V, size=(4, 2))
    logits, _ = model(t64(xs), targets)
    previous = np.concatenate([np.zeros((1, 2), np.int64), targets[:-1]])
    inputs = np.concatenate([xs, params(model.embedding)["weight"][previous]], axis=2)
    hs, _ = run(lambda x, h: gru_step(params(model.core), x, h), inputs, (np.zeros((2, H)),))
    np.testing.assert_allclose(logits.numpy(), lin(hs, model.head.weight.numpy(),
                                                   model.head.bias.numpy()), rtol=1e-10)
    # z_t depends on y_s exactly for s < t (the dashed lines), and on x_s for s <= t
    for s in range(4):
        changed = targets.copy()
        changed[s] = (changed[s] + 1) % V
        moved = np.abs(model(t64(xs), changed)[0].numpy() - logits.numpy()).sum(axis=(1, 2))
        assert np.all(moved[:s + 1] == 0) and np.all(moved[s + 1:] > 0)
    x = t64(xs, requires_grad=True)
    J, = jacobian(lambda x: model(x, targets)[0], [x])
    dependence = np.abs(J.reshape(4, 2, V, 4, 2, D)).sum(axis=(1, 2, 4, 5))
    np.testing.assert_array_equal(dependence != 0, np.tril(np.ones((4, 4), bool)))
    gradcheck(lambda x, *_: model(x, targets)[0], [x, *model.parameters()],
              atol=1e-6, rtol=1e-4)


def test_conditional_many_to_many_generates_from_its_own_outputs(rng):
    model = to_float64(models.ConditionalManyToMany(stacked_lstm(2 + 3, 4), 5, 2,
                                                    start_index=4))
    xs = t64(rng.normal(size=(6, 3, 2)))
    tokens = model.generate(xs)
    assert tokens.shape == (6, 3) and tokens.dtype == np.int64
    np.testing.assert_array_equal(model(xs, tokens)[0].numpy().argmax(axis=2), tokens)
    sampled = model.generate(xs, temperature=1.0, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(sampled, model.generate(xs, 1.0, np.random.default_rng(0)))
    with pytest.raises(ValueError, match=r"ConditionalManyToMany: targets must have shape"):
        model(xs, tokens[:5])
    with pytest.raises(ValueError, match=r"ConditionalManyToMany: xs must have shape"):
        model.generate(t64(rng.normal(size=(6, 3, 3))))
