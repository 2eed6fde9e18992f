"""BPTT training: truncation, gradients against finite differences, clipping, checkpoints,
resume, NaN and Ctrl-C handling (the regularizer: test_regularizer.py)."""
import hashlib

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import SGD, clip_grad_norm
from models.charlm import CharLM, Vocabulary, stream_batch
from models.tasks import SequenceRegressor, adding_problem
from models.train import (
    CheckpointError,
    Trainer,
    TrainingDiverged,
    detach_state,
    read_checkpoint,
)


def to_float64(model):
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    return model


def tiny_lm(cell="lstm", hidden=4, embedding_dim=3, layers=1, symbols="abc"):
    return CharLM(Vocabulary(symbols), cell, hidden, layers, embedding_dim)


def grads_of(model):
    return {name: p.grad.numpy().copy() for name, p in model.named_parameters()}


def random_batch(rng, steps, batch, size):
    data = rng.integers(0, size, size=(steps + 1, batch))
    return data[:-1], data[1:]


def manual_gradients(model, inputs, targets, chunk):
    """Truncated BPTT written out independently: per chunk, forward from the detached
    carried state, backward of (chunk mean loss) * chunk/T."""
    model.zero_grad()
    steps, state, total = inputs.shape[0], None, 0.0
    for start in range(0, steps, chunk):
        stop = min(start + chunk, steps)
        logits, state = model(inputs[start:stop], state)
        loss = mg.functional.cross_entropy(logits, targets[start:stop], reduction="sum")
        (loss / (steps * inputs.shape[1])).backward()
        total += loss.item() / (steps * inputs.shape[1])
        state = detach_state(state)
    return total, grads_of(model)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_truncated_bptt_with_k_equal_to_T_equals_full_bptt(cell, rng):
    model = to_float64(tiny_lm(cell))
    inputs, targets = random_batch(rng, 7, 3, 3)
    full_loss, full = manual_gradients(model, inputs, targets, chunk=7)
    for k in (7, None, 50):
        trainer = Trainer(model, None, optimizer=SGD(model.parameters(), lr=0.0), tbptt=k,
                          progress=False)
        loss, _ = trainer.compute_gradients(inputs, targets)
        assert loss == pytest.approx(full_loss, rel=1e-12)
        for name, g in grads_of(model).items():
            np.testing.assert_allclose(g, full[name], rtol=1e-10, atol=1e-12, err_msg=name)


def test_truncated_bptt_cuts_the_graph_every_k_steps(rng):
    model = to_float64(tiny_lm("rnn", hidden=5))
    inputs, targets = random_batch(rng, 9, 2, 3)
    full_loss, full = manual_gradients(model, inputs, targets, chunk=9)
    truncated_loss, truncated = manual_gradients(model, inputs, targets, chunk=2)
    trainer = Trainer(model, None, optimizer=SGD(model.parameters(), lr=0.0), tbptt=2,
                      progress=False)
    loss, _ = trainer.compute_gradients(inputs, targets)
    # the forward pass (and so the loss) is the same; only the backward is truncated
    assert loss == pytest.approx(full_loss, rel=1e-12)
    assert truncated_loss == pytest.approx(full_loss, rel=1e-12)
    got = grads_of(model)
    for name in got:
        np.testing.assert_allclose(got[name], truncated[name], rtol=1e-10, atol=1e-12)
    assert not np.allclose(got["rnn.layer0.weight_hh"], full["rnn.layer0.weight_hh"])


def finite_difference(loss_fn, params, eps=1e-6):
    result = []
    for p in params:
        g = np.zeros(p.shape)
        flat, out = p.data.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            plus = loss_fn()
            flat[i] = old - eps
            minus = loss_fn()
            flat[i] = old
            out[i] = (plus - minus) / (2 * eps)
        result.append(g)
    return result


@pytest.mark.parametrize("cell,layers", [("lstm", 1), ("gru", 2)])
def test_training_step_gradients_match_finite_differences(cell, layers, rng):
    model = to_float64(tiny_lm(cell, hidden=3, embedding_dim=2, layers=layers))
    inputs, targets = random_batch(rng, 5, 2, 3)
    trainer = Trainer(model, None, optimizer=SGD(model.parameters(), lr=0.0), progress=False)
    trainer.compute_gradients(inputs, targets)
    params = list(model.parameters())
    autodiff = [p.grad.numpy().copy() for p in params]

    def loss():
        with mg.no_grad():
            return model.loss(inputs, targets)[0].item()

    for (name, _), a, n in zip(model.named_parameters(), autodiff,
                               finite_difference(loss, params)):
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-7, err_msg=name)


def test_regressor_gradients_match_finite_differences():
    model = to_float64(SequenceRegressor("lstm", 2, 3, 1))
    inputs, targets = adding_problem(3, 6, np.random.default_rng(5))
    inputs, targets = inputs.astype(np.float64), targets.astype(np.float64)
    trainer = Trainer(model, None, optimizer=SGD(model.parameters(), lr=0.0), progress=False)
    trainer.compute_gradients(inputs, targets)
    params = list(model.parameters())
    autodiff = [p.grad.numpy().copy() for p in params]

    def loss():
        with mg.no_grad():
            return model.loss(inputs, targets)[0].item()

    for a, n in zip(autodiff, finite_difference(loss, params)):
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-7)


# -- clipping ----------------------------------------------------------------------------
@pytest.mark.parametrize("max_norm", [0.01, 0.5, 1e6])
def test_clip_grad_norm_caps_the_global_norm(max_norm, rng):
    params = [mg.tensor(rng.normal(size=s), requires_grad=True, dtype="float64")
              for s in [(3, 4), (5,), (2, 2)]]
    for p in params:
        p.grad = mg.tensor(rng.normal(size=p.shape), dtype="float64")
    before = [p.grad.numpy().copy() for p in params]
    norm_before = np.sqrt(sum((g ** 2).sum() for g in before))
    reported = clip_grad_norm(params, max_norm)
    after = [p.grad.numpy() for p in params]
    norm_after = np.sqrt(sum((g ** 2).sum() for g in after))
    assert reported == pytest.approx(norm_before)
    assert norm_after == pytest.approx(min(max_norm * norm_before / (norm_before + 1e-6),
                                           norm_before), rel=1e-12)
    for b, a in zip(before, after):  # same direction
        np.testing.assert_allclose(a * norm_before, b * norm_after, rtol=1e-9, atol=1e-12)


def test_trainer_reports_the_norm_before_clipping(rng):
    model = to_float64(tiny_lm("rnn"))
    inputs, targets = random_batch(rng, 6, 2, 3)
    reference = Trainer(model, None, optimizer=SGD(model.parameters(), lr=0.0), progress=False)
    reference.compute_gradients(inputs, targets)
    expected = np.sqrt(sum((g ** 2).sum() for g in grads_of(model).values()))
    trainer = Trainer(model, None, optimizer=SGD(model.parameters(), lr=0.0),
                      clip_norm=expected / 10, progress=False)
    _, norm = trainer.train_step(inputs, targets)
    assert norm == pytest.approx(expected, rel=1e-9)


# -- learning, sampling, checkpoints -----------------------------------------------------
def fit_repeated_string(text, steps=150, cell="lstm", hidden=24):
    vocabulary = Vocabulary.from_text(text)
    data = vocabulary.encode(text * 8)
    model = CharLM(vocabulary, cell, hidden, embedding_dim=8)
    trainer = Trainer(model, lambda step: stream_batch(data, step, 4, 12), lr=0.02,
                      carry_state=True, clip_norm=5.0, progress=False)
    trainer.fit(steps)
    return model, trainer


def test_charlm_learns_a_repeated_string_and_greedy_sampling_reproduces_it():
    text = "hello world! "
    model, trainer = fit_repeated_string(text)
    assert np.mean(trainer.history["loss"][-5:]) < 0.05
    assert model.sample("h", 3 * len(text) - 1, temperature=0) == (text * 3)
    assert model.bits_per_char(text * 4) < 0.1


def test_hello_example_with_one_hot_input():
    from models.tasks import HELLO_VOCABULARY, hello_batch
    model = CharLM(Vocabulary(HELLO_VOCABULARY), "rnn", 8)
    inputs, targets = hello_batch()
    trainer = Trainer(model, lambda step: (inputs, targets), lr=0.05, progress=False)
    trainer.fit(60)
    assert trainer.history["loss"][-1] < 0.05 < trainer.history["loss"][0]
    assert model.sample("h", 4, temperature=0) == "hello"


def test_sampling_rejects_unknown_prefix_and_bad_temperature():
    model = tiny_lm()
    with pytest.raises(ValueError, match="'z' at position 1"):
        model.sample("az", 3)
    with pytest.raises(ValueError, match="temperature"):
        model.sample("a", 3, temperature=-1)


def test_checkpoint_round_trip_gives_identical_samples(tmp_path):
    model, trainer = fit_repeated_string("abcab cba ", steps=20)
    path = trainer.save(tmp_path / "lm.npz")
    _, config = read_checkpoint(path)
    restored = CharLM.from_config(config)
    assert restored.config() == model.config()
    fresh = Trainer(restored, None, progress=False).resume(path)
    assert fresh.step == 20
    for temperature in (0, 0.7, 1.5):
        assert restored.sample("ab", 40, temperature, seed=3) == \
            model.sample("ab", 40, temperature, seed=3)


def test_resume_continues_the_same_run(tmp_path):
    data = Vocabulary("abcdef ").encode("abc def fed cba " * 20)

    def make():
        mg.manual_seed(7)
        model = CharLM(Vocabulary("abcdef "), "lstm", 8, embedding_dim=4)
        return Trainer(model, lambda step: stream_batch(data, step, 3, 10), lr=0.01,
                       carry_state=True, clip_norm=1.0, progress=False,
                       checkpoint=tmp_path / "run.npz", checkpoint_every=100)

    straight = make()
    straight.fit(8)
    first = make()
    first.fit(4)
    second = make()
    assert second.resume(tmp_path / "run.npz").step == 4
    second.fit(8)
    np.testing.assert_allclose(second.history["loss"], straight.history["loss"], rtol=1e-6)
    for (name, a), (_, b) in zip(straight.model.named_parameters(),
                                 second.model.named_parameters()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7, err_msg=name)


def test_resume_rejects_a_checkpoint_of_another_model(tmp_path):
    small = Trainer(tiny_lm(hidden=4), None, progress=False)
    path = small.save(tmp_path / "small.npz")
    with pytest.raises(CheckpointError, match="hidden_size: 4 in the file, 5 asked"):
        Trainer(tiny_lm(hidden=5), None, progress=False).resume(path)


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_nan_loss_stops_with_the_step_and_keeps_the_last_checkpoint(tmp_path):
    data = Vocabulary("abc").encode("abcabcabc" * 10)
    model = tiny_lm()
    path = tmp_path / "lm.npz"

    def batches(step):
        if step == 3:
            model.head.bias.data[0] = np.nan
        return stream_batch(data, step, 2, 5)

    trainer = Trainer(model, batches, progress=False, checkpoint=path, checkpoint_every=2)
    with pytest.raises(TrainingDiverged, match="loss is nan at step 4"):
        trainer.fit(10)
    assert trainer.step == 3
    arrays, _ = read_checkpoint(path)
    assert all(np.isfinite(v).all() for k, v in arrays.items() if k.startswith("model."))
    before = _digest(path)
    with pytest.raises(TrainingDiverged):
        trainer.fit(10)
    assert _digest(path) == before
    restored = Trainer(tiny_lm(), None, progress=False).resume(path)
    assert restored.step == 2


def test_keyboard_interrupt_saves_a_checkpoint(tmp_path):
    data = Vocabulary("abc").encode("abcabcabc" * 10)
    path = tmp_path / "lm.npz"

    def batches(step):
        if step == 3:
            raise KeyboardInterrupt
        return stream_batch(data, step, 2, 5)

    trainer = Trainer(tiny_lm(), batches, progress=False, checkpoint=path,
                      checkpoint_every=100, log=lambda message: None)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(10)
    assert Trainer(tiny_lm(), None, progress=False).resume(path).step == 3


def test_validation_is_recorded(tmp_path):
    data = Vocabulary("abc").encode("abcabcabc" * 10)
    trainer = Trainer(tiny_lm(), lambda step: stream_batch(data, step, 2, 5), progress=False,
                      validate=lambda m: m.bits_per_char("abcabc"), validate_every=2)
    trainer.fit(5)
    assert trainer.history["val_step"] == [2, 4, 5]
    assert all(v > 0 for v in trainer.history["val"])
