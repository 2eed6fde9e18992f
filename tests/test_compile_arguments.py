"""mg.compile with index arrays taken from the step's arguments: each replay reads the
values of its own call (targets, token inputs, TBPTT slices of them), or capture refuses
what it cannot follow. Compared with eager runs on a different batch at every step."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import functional as F
from models.charlm import CharLM, Vocabulary, stream_batch
from models.train import Trainer

VOCABULARY = Vocabulary("abcdef ")
TEXT = VOCABULARY.encode("".join(np.random.default_rng(0).choice(list("abcdef "), 400)))


def charlm_trainer(compile, embedding_dim, tbptt, carry_state, checkpoint=None, log=None,
                   optimizer="adam"):
    mg.manual_seed(3)
    model = CharLM(VOCABULARY, "lstm", 6, embedding_dim=embedding_dim)
    messages = [] if log is None else log
    trainer = Trainer(model, lambda step: stream_batch(TEXT, step, 3, 8), optimizer, lr=0.05,
                      tbptt=tbptt, carry_state=carry_state, compile=compile, progress=False,
                      checkpoint=checkpoint, checkpoint_every=1000, log=messages.append)
    return trainer, messages


@pytest.mark.parametrize("embedding_dim", [3, None], ids=["embedding", "one_hot"])
@pytest.mark.parametrize("tbptt", [None, 3], ids=["full", "tbptt"])
@pytest.mark.parametrize("carry_state", [False, True], ids=["fresh", "carry"])
def test_charlm_training_compiled_equals_eager_bit_for_bit(embedding_dim, tbptt, carry_state):
    batches = {stream_batch(TEXT, step, 3, 8)[0].tobytes() for step in range(12)}
    assert len(batches) == 12                       # a different batch at every step
    eager, _ = charlm_trainer(False, embedding_dim, tbptt, carry_state)
    eager.fit(12)
    compiled, messages = charlm_trainer(True, embedding_dim, tbptt, carry_state)
    compiled.fit(12)
    assert messages == []                          # no fallback to eager
    assert compiled.compiled is not None
    assert compiled.compiled.captures == (2 if carry_state else 1)   # then replayed
    assert compiled.history["loss"] == eager.history["loss"]
    weights, reference = compiled.model.state_dict(), eager.model.state_dict()
    for name in reference:
        np.testing.assert_array_equal(weights[name], reference[name], err_msg=name)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_resumed_compiled_run_with_carried_state_matches_an_uninterrupted_one(
        tmp_path, optimizer):
    whole, log = charlm_trainer(True, 3, None, True, tmp_path / "whole.npz",
                                optimizer=optimizer)
    whole.fit(30)
    first, _ = charlm_trainer(True, 3, None, True, tmp_path / "part.npz", log, optimizer)
    first.fit(17)
    resumed, _ = charlm_trainer(True, 3, None, True, tmp_path / "part.npz", log, optimizer)
    resumed.resume(tmp_path / "part.npz").fit(30)
    assert log == [] and resumed.compiled is not None
    assert resumed.history["loss"] == whole.history["loss"]
    for name, value in whole.model.state_dict().items():
        np.testing.assert_array_equal(resumed.model.state_dict()[name], value, err_msg=name)


def logits_and_weight(rng):
    weight = mg.nn.Parameter(rng.normal(size=(4, 5)).astype(np.float32))
    return weight, lambda xs: (mg.Tensor(xs) @ weight)


def compiled_and_eager(step, calls):
    """The losses and gradients of ``step`` compiled and eager, call by call."""
    compiled = mg.compile(step)
    for arguments, parameter in calls:
        parameter.grad = None
        eager = step(*arguments).item(), parameter.grad.numpy().copy()
        parameter.grad = None
        replayed = compiled(*arguments).item(), parameter.grad.numpy().copy()
        yield replayed, eager
    assert compiled.captures == 1


def test_a_loss_indexing_with_its_targets_replays_each_calls_targets(rng):
    """The user's own picked loss, with targets transposed (not contiguous) and sliced per
    chunk as TBPTT does: ``targets.reshape(-1)`` copies such an array."""
    weight, logits_of = logits_and_weight(rng)

    def step(xs, targets):
        total = 0
        for start in (0, 2):
            logits = logits_of(xs[start:start + 2]).reshape(-1, 5)
            picked = targets[start:start + 2].reshape(-1)
            total = total - F.log_softmax(logits)[np.arange(picked.size), picked].mean()
        total.backward()
        return total

    calls = []
    for _ in range(4):
        xs = rng.normal(size=(4, 3, 4)).astype(np.float32)
        targets = rng.integers(0, 5, size=(3, 4)).T          # (4, 3), Fortran order
        calls.append(((xs, targets), weight))
    for replayed, eager in compiled_and_eager(step, calls):
        assert replayed[0] == eager[0]
        np.testing.assert_array_equal(replayed[1], eager[1])


def test_one_hot_of_an_argument_is_computed_anew_at_every_replay(rng):
    weight = mg.nn.Parameter(rng.normal(size=(5, 2)).astype(np.float32))

    def step(tokens):
        loss = (F.one_hot(tokens, 5) @ weight).tanh().sum()
        loss.backward()
        return loss

    calls = [((rng.integers(0, 5, size=(6, 3)),), weight) for _ in range(4)]
    for replayed, eager in compiled_and_eager(step, calls):
        assert replayed[0] == eager[0]
        np.testing.assert_array_equal(replayed[1], eager[1])


@pytest.mark.parametrize("copy", [lambda t: t.flatten(), lambda t: t.astype(np.int32).reshape(-1),
                                  lambda t: np.array(t[1:3]).reshape(-1)],
                         ids=["flatten", "astype", "rows"])
def test_an_index_copied_from_an_argument_outside_ops_is_refused(rng, copy):
    weight, logits_of = logits_and_weight(rng)

    def step(xs, targets):
        picked = copy(targets)
        logits = logits_of(xs).reshape(-1, 5)[:picked.size]
        loss = -logits[np.arange(picked.size), picked].sum()
        loss.backward()
        return loss

    xs = rng.normal(size=(4, 3, 4)).astype(np.float32)
    targets = rng.integers(0, 5, size=(4, 3))
    with pytest.raises(mg.CompileError, match=r"argument 1 of shape \(4, 3\).*copy made "
                                              r"outside ops.*'getitem'|'getitem'.*copy made"):
        mg.compile(step)(xs, targets)


def test_a_reversed_embedded_source_replays_its_gradient(rng):
    """Seq2Seq reverses the embedded source before the encoder's input projection: the
    projection's gradient is written into a reversed view of the scattered gradient."""
    from models.tasks import TranslationModel, translation_batch
    model = TranslationModel("lstm", 8, 6, reverse_source=True)

    def step(source, target):
        loss, _ = model.loss(source, target)
        loss.backward()
        return loss

    compiled, data = mg.compile(step, check=True), np.random.default_rng(1)
    batches = [translation_batch(4, data, min_digits=2, max_digits=2) for _ in range(8)]
    shapes = {(s.shape, t.shape) for s, t in batches}
    for source, target in batches:
        compiled(source, target)                 # check=True: raises at any difference
    assert compiled.captures == len(shapes) < len(batches)
