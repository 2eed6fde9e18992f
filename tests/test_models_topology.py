"""Many-to-many, many-to-one, one-to-many (with generation) and Seq2Seq."""
import numpy as np
import pytest
from helpers import assert_greedy_decode_is_free_running_argmax
from test_models_reference import lin, lstm_step, params, rnn_step, run, t64, to_float64

import minigrad as mg
import models
from minigrad.testing import gradcheck, jacobian


def test_many_to_many_applies_the_head_at_every_step_and_stays_causal(rng):
    model = to_float64(models.ManyToMany(models.RNNCell(2, 3), 4))
    xs = rng.normal(size=(4, 2, 2))
    logits, _ = model(t64(xs))
    p = params(model.core)
    hs, _ = run(lambda x, h: rnn_step(p, x, h), xs, (np.zeros((2, 3)),))
    expected = lin(hs, model.head.weight.numpy(), model.head.bias.numpy())
    np.testing.assert_allclose(logits.numpy(), expected, rtol=1e-10)
    x = t64(xs, requires_grad=True)
    J, = jacobian(lambda x: model(x)[0], [x])
    dependence = np.abs(J.reshape(4, 2, 4, 4, 2, 2)).sum(axis=(1, 2, 4, 5))
    assert np.all(np.triu(dependence, 1) == 0) and np.all(dependence[np.tril_indices(4)] > 0)


def test_many_to_one_reads_the_last_step_which_sees_every_input(rng):
    model = to_float64(models.ManyToOne(models.LSTMCell(2, 3), 5))
    xs = rng.normal(size=(4, 2, 2))
    logits, _ = model(t64(xs))
    p = params(model.core)
    hs, _ = run(lambda x, h, c: lstm_step(p, x, h, c), xs, (np.zeros((2, 3)),) * 2)
    np.testing.assert_allclose(logits.numpy(), lin(hs[-1], model.head.weight.numpy(),
                                                   model.head.bias.numpy()), rtol=1e-10)
    x = t64(xs, requires_grad=True)
    J, = jacobian(lambda x: model(x)[0], [x])
    assert logits.shape == (2, 5)
    assert np.all(np.abs(J.reshape(2, 5, 4, 2, 2)).sum(axis=(0, 1, 3, 4)) > 0)
    gradcheck(lambda x, *_: model(x)[0], [x, *model.parameters()], atol=1e-6, rtol=1e-4)


def test_topologies_accept_wrappers_as_core(rng):
    xs = mg.tensor(rng.normal(size=(5, 2, 3)), dtype="float32")
    tcn = models.TCN(3, [4, 4], kernel_size=2)
    assert models.ManyToMany(tcn, 6)(xs)[0].shape == (5, 2, 6)
    bi = models.Bidirectional(models.GRUCell(3, 2), models.GRUCell(3, 2))
    logits, (forward_state, _) = models.ManyToOne(bi, 6)(xs)
    assert logits.shape == (2, 6) and forward_state[0].shape == (2, 2)


@pytest.mark.parametrize("conditioning", ["initial", "input", "both"])
def test_one_to_many_conditions_as_initial_state_and_or_extra_input(conditioning, rng):
    E, C, H, V = 2, 3, 4, 5
    cell = models.LSTMCell(E + (C if conditioning != "initial" else 0), H)
    model = to_float64(models.OneToMany(cell, V, C, conditioning))
    v = rng.normal(size=(2, C))
    tokens = rng.integers(0, V, size=(3, 2))
    logits, _ = model(t64(v), tokens)
    p = params(cell)
    x = params(model.embedding)["weight"][tokens]
    if conditioning != "initial":
        x = np.concatenate([x, np.broadcast_to(v, (3, 2, C))], axis=2)
    if conditioning == "input":
        state = (np.zeros((2, H)),) * 2
    else:
        state = tuple(np.tanh(lin(v, model_p["weight"], model_p["bias"])) for model_p in
                      (params(model.condition_to_h), params(model.condition_to_c)))
    hs, _ = run(lambda x, h, c: lstm_step(p, x, h, c), x, state)
    expected = lin(hs, model.head.weight.numpy(), model.head.bias.numpy())
    np.testing.assert_allclose(logits.numpy(), expected, rtol=1e-10)
    cond = t64(v, requires_grad=True)
    J, = jacobian(lambda c: model(c, tokens)[0], [cond])
    assert np.all(np.abs(J.reshape(3, -1)).sum(axis=1) > 0)     # every step sees v


def test_greedy_generation_agrees_with_teacher_forcing_on_its_own_samples(rng):
    model = models.OneToMany(models.GRUCell(4 + 2, 8), 6, 2, "both")
    v = mg.tensor(rng.normal(size=(3, 2)), dtype="float32")
    tokens = model.generate(v, start_index=0, max_length=7)
    assert tokens.shape == (7, 3) and tokens.dtype == np.int64
    inputs = np.concatenate([np.zeros((1, 3), np.int64), tokens[:-1]])
    logits, _ = model(v, inputs)
    np.testing.assert_array_equal(logits.numpy().argmax(axis=2), tokens)


def test_generation_stops_at_eos_and_pads_with_it(rng):
    model = models.OneToMany(models.RNNCell(3, 4), 5, 2, "initial")
    v = mg.tensor(rng.normal(size=(2, 2)), dtype="float32")
    model.head.bias.data[:] = 0
    model.head.bias.data[4] = 50.0                         # EOS = 4 always wins
    assert model.generate(v, 0, max_length=9, eos_index=4).tolist() == [[4, 4]]
    model.head.bias.data[4] = 0
    free = model.generate(v, 0, max_length=9, eos_index=None)
    assert free.shape == (9, 2)
    eos = int(free[2, 0])
    stopped = model.generate(v, 0, max_length=9, eos_index=eos)
    first = {b: int(np.argmax(free[:, b] == eos)) for b in range(2) if (free[:, b] == eos).any()}
    assert len(stopped) == max(first.values()) + 1 if len(first) == 2 else len(stopped) == 9
    for b, at in first.items():
        np.testing.assert_array_equal(stopped[:at + 1, b], free[:at + 1, b])
        assert np.all(stopped[at:, b] == eos)
    sampled = model.generate(v, 0, max_length=5, temperature=1.0, rng=np.random.default_rng(0))
    again = model.generate(v, 0, max_length=5, temperature=1.0, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(sampled, again)
    with pytest.raises(ValueError, match="temperature"):
        model.generate(v, 0, max_length=5, temperature=0.0)
    with pytest.raises(ValueError, match=r"OneToMany.*\(batch, 2\)"):
        model.generate(mg.zeros(2, 3), 0, 5)


# -- Seq2Seq ---------------------------------------------------------------------------------------
def make_seq2seq(reverse_source=True, source_vocab=7):
    return to_float64(models.Seq2Seq(models.LSTMCell(3, 4), models.LSTMCell(2, 4),
                                     source_vocab, 6, reverse_source=reverse_source,
                                     bos_index=0, eos_index=1))


def test_seq2seq_teacher_forcing_matches_its_equations(rng):
    model = make_seq2seq()
    source = rng.integers(0, 7, size=(5, 2))
    target = rng.integers(0, 6, size=(4, 2))
    logits = model(source, target)
    pe, pd = params(model.encoder), params(model.decoder)
    xs = params(model.source_embedding)["weight"][source[::-1]]
    _, v = run(lambda x, h, c: lstm_step(pe, x, h, c), xs, (np.zeros((2, 4)),) * 2)
    inputs = np.concatenate([np.zeros((1, 2), int), target[:-1]])
    ys = params(model.target_embedding)["weight"][inputs]
    hs, _ = run(lambda x, h, c: lstm_step(pd, x, h, c), ys, v)
    expected = lin(hs, model.head.weight.numpy(), model.head.bias.numpy())
    np.testing.assert_allclose(logits.numpy(), expected, rtol=1e-10)


def test_source_reversal_is_reading_the_source_backwards(rng):
    reversed_model, plain = make_seq2seq(True), make_seq2seq(False)
    plain.load_state_dict(reversed_model.state_dict())
    source = rng.integers(0, 7, size=(5, 2))
    a = reversed_model.encode(source)
    b = plain.encode(source[::-1].copy())
    np.testing.assert_allclose(a[0].numpy(), b[0].numpy(), rtol=1e-12)
    assert not np.allclose(a[0].numpy(), plain.encode(source)[0].numpy())


def test_greedy_decode_feeds_back_its_argmax(rng):
    assert_greedy_decode_is_free_running_argmax(make_seq2seq(), rng.integers(0, 7, size=(4, 3)))


def test_seq2seq_gradcheck_through_encoder_and_decoder(rng):
    model = to_float64(models.Seq2Seq(models.GRUCell(2, 2), models.GRUCell(2, 2), None, 3))
    source = t64(rng.normal(size=(2, 1, 2)), requires_grad=True)
    target = rng.integers(0, 3, size=(2, 1))
    gradcheck(lambda s, *_: model(s, target), [source, *model.parameters()], atol=1e-6, rtol=1e-4)
    J, = jacobian(lambda s: model(s, target), [source])
    assert np.all(np.abs(J.reshape(2, 3, 2, 2)).sum(axis=(1, 3)) > 0)   # each y sees every x


def test_seq2seq_scopes_and_bad_input(rng):
    model = models.Seq2Seq(models.LSTMCell(3, 4), models.LSTMCell(2, 4), 7, 6)
    source = rng.integers(0, 7, size=(3, 2))
    logits = model(source, rng.integers(0, 6, size=(2, 2)))
    from test_models_wrappers import scopes_of
    found = scopes_of(logits)
    assert {"encoder/t=2/lstm/forget_gate", "decoder/t=1/lstm/hidden", "decoder/head"} <= found
    with pytest.raises(ValueError, match="Seq2Seq.*GRUCell.*LSTMCell"):
        models.Seq2Seq(models.LSTMCell(3, 4), models.GRUCell(2, 4), 7, 6)
    with pytest.raises(ValueError, match="Seq2Seq.*batch"):
        model(source, rng.integers(0, 6, size=(2, 3)))
    with pytest.raises(ValueError, match="Seq2Seq.*target"):
        model(source, np.zeros((0, 2), np.int64))
