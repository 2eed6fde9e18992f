"""mg.compile: a replayed plan gives the eager step's loss and gradients, bit for bit; its
guards make new plans; check=True catches what a plan cannot replay."""
import numpy as np
import pytest

import minigrad as mg
import models
from minigrad import functional as F
from models.registry import CELLS


def grads_of(model):
    return {name: None if p.grad is None else p.grad.numpy().copy()
            for name, p in model.named_parameters()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert (a[name] is None) == (b[name] is None), name
        if a[name] is not None:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def compare_with_eager(model, step, make_inputs, rng, calls=3):
    """Capture on one batch, then replay on fresh batches of the same shapes: each replay
    gives the loss and gradients an eager run gives on that batch."""
    compiled = mg.compile(step)
    for call in range(calls):
        inputs = make_inputs(rng)
        model.zero_grad()
        eager_loss = step(*inputs).item()
        eager = grads_of(model)
        model.zero_grad()
        replayed_loss = compiled(*inputs).item()
        assert replayed_loss == eager_loss, call
        assert_same(grads_of(model), eager)
    assert compiled.captures == 1
    return compiled


def sequence_step(model):
    def step(xs, targets):
        logits, _ = model(xs)
        loss = F.cross_entropy(logits, targets)
        loss.backward()
        return loss
    return step


def sequence_inputs(T, B, D, V):
    return lambda rng: (mg.tensor(rng.normal(size=(T, B, D)), dtype="float32"),
                        mg.tensor(rng.integers(0, V, size=(T, B))))


@pytest.mark.parametrize("name", sorted(CELLS))
def test_every_cell_replays_its_eager_step_bit_for_bit(name, rng):
    cell = CELLS[name](3, 4)
    model = models.ManyToMany(cell, 5)
    compare_with_eager(model, sequence_step(model), sequence_inputs(6, 2, 3, 5), rng)


@pytest.mark.parametrize("batch", [1, 3])
def test_lstm_replays_bit_for_bit_for_one_row_and_several(batch, rng):
    """One row takes BLAS's matrix-vector path, several its matrix product."""
    model = models.ManyToMany(models.LSTMCell(5, 7), 6)
    compare_with_eager(model, sequence_step(model), sequence_inputs(9, batch, 5, 6), rng)


WRAPPERS = {
    "bidirectional": lambda: models.ManyToMany(
        models.Bidirectional(models.LSTMCell(3, 4), models.GRUCell(3, 2)), 5),
    "stacked": lambda: models.ManyToMany(
        models.Stacked([models.LSTMCell(3, 4), models.RNNCell(7, 3)], skip=True), 5),
    "time_delay": lambda: models.ManyToMany(
        models.TimeDelayCell(models.RNNCell(3 + 4, 4), 2), 5),
    "tcn": lambda: models.ManyToMany(models.TCN(3, (4, 4), kernel_size=2), 5),
    "many_to_one": lambda: models.ManyToOne(models.GRUCell(3, 4), 5),
}


@pytest.mark.parametrize("name", sorted(WRAPPERS))
def test_every_wrapper_replays_its_eager_step_bit_for_bit(name, rng):
    model = WRAPPERS[name]()
    if name == "many_to_one":
        def make(rng):
            return (mg.tensor(rng.normal(size=(6, 2, 3)), dtype="float32"),
                    mg.tensor(rng.integers(0, 5, size=(2,))))
    else:
        make = sequence_inputs(6, 2, 3, 5)
    compare_with_eager(model, sequence_step(model), make, rng)


def test_one_to_many_with_token_inputs_and_learned_initial_state(rng):
    model = models.OneToMany(models.LSTMCell(4, 3, learn_initial_state=True), 6, 2,
                             conditioning="both")

    def step(condition, tokens, targets):
        logits, _ = model(condition, tokens)
        loss = F.cross_entropy(logits, targets)
        loss.backward()
        return loss

    def make(rng):
        return (mg.tensor(rng.normal(size=(3, 2)), dtype="float32"), mg.tensor(rng.integers(0, 6, size=(5, 3))),
                mg.tensor(rng.integers(0, 6, size=(5, 3))))
    compare_with_eager(model, step, make, rng)


def test_replay_reads_parameters_live_and_accumulates_grad_like_eager(rng):
    cell = models.LSTMCell(3, 4)
    model = models.ManyToMany(cell, 5)
    step = sequence_step(model)
    compiled = mg.compile(step)
    xs, ts = sequence_inputs(5, 2, 3, 5)(rng)
    compiled(xs, ts)
    compiled(xs, ts)
    # an optimizer that updates in place, then one that replaces .data
    for p in model.parameters():
        p.data -= np.float32(0.1) * p.grad.data
    cell.weight_hh.data = cell.weight_hh.data * np.float32(0.5)
    model.zero_grad()
    step(xs, ts)
    step(xs, ts)                        # no zero_grad between: gradients add up
    eager = grads_of(model)
    model.zero_grad()
    compiled(xs, ts)
    compiled(xs, ts)
    assert_same(grads_of(model), eager)
    assert compiled.captures == 1


def test_a_new_shape_captures_a_new_plan(rng):
    model = models.ManyToMany(models.GRUCell(3, 4), 5)
    step = sequence_step(model)
    compiled = mg.compile(step)
    for T, B in ((4, 2), (7, 2), (4, 3), (4, 2), (7, 2)):
        xs, ts = sequence_inputs(T, B, 3, 5)(rng)
        model.zero_grad()
        eager_loss = step(xs, ts).item()
        eager = grads_of(model)
        model.zero_grad()
        assert compiled(xs, ts).item() == eager_loss
        assert_same(grads_of(model), eager)
    assert compiled.captures == 3


def test_a_changed_requires_grad_pattern_is_caught(rng):
    cell = models.RNNCell(3, 4)
    model = models.ManyToMany(cell, 5)
    compiled = mg.compile(sequence_step(model))
    xs, ts = sequence_inputs(4, 2, 3, 5)(rng)
    compiled(xs, ts)
    model.zero_grad()
    cell.weight_hh.requires_grad_(False)     # a parameter frozen after the capture
    compiled(xs, ts)
    assert cell.weight_hh.grad is None and cell.weight_ih.grad is not None
    assert compiled.captures == 2
    xs.requires_grad_(True)                  # an argument that now wants its gradient
    compiled(xs, ts)
    assert xs.grad is not None and xs.grad.shape == xs.shape
    assert compiled.captures == 3
    fresh = mg.tensor(xs.numpy(), requires_grad=True)
    compiled(fresh, ts)                      # replayed: the gradient goes to the new tensor
    np.testing.assert_array_equal(fresh.grad.numpy(), xs.grad.numpy())
    assert compiled.captures == 3


def test_check_catches_control_flow_that_depends_on_values():
    w = mg.nn.Parameter(np.ones(3, np.float32))

    def step(x):
        y = x * w * 2 if x.data.sum() > 0 else x * w * 3      # a branch on values
        loss = y.sum()
        loss.backward()
        return loss

    checked = mg.compile(step, check=True)
    checked(mg.tensor([1.0, 2.0, 3.0]))
    checked(mg.tensor([1.0, 1.0, 1.0]))      # same branch: replay and eager agree
    with pytest.raises(mg.CompileMismatch, match="differs"):
        checked(mg.tensor([-1.0, -2.0, -3.0]))
    unchecked = mg.compile(step)
    unchecked(mg.tensor([1.0, 2.0, 3.0]))
    assert unchecked(mg.tensor([-1.0, -2.0, -3.0])).item() == -12.0   # the captured branch


class ShiftedTagger(mg.nn.Module):
    """Predicts each token from the one before it, read through an index array built from
    the targets in NumPy (a start token, then the targets shifted by one step): a value
    computed outside ops, which a plan keeps from its capture."""

    def __init__(self):
        super().__init__()
        self.embedding = mg.nn.Embedding(6, 4)
        self.head = mg.nn.Linear(4, 6)

    def loss(self, inputs, targets, state=None):
        targets = np.asarray(targets.data if isinstance(targets, mg.Tensor) else targets)
        start = np.zeros((1, targets.shape[1]), dtype=targets.dtype)
        shifted = np.concatenate([start, targets[:-1]])
        return F.cross_entropy(self.head(self.embedding(shifted)), targets), state


def test_check_catches_an_index_built_outside_ops(rng):
    """A plan would keep the first batch's shifted tokens; check=True says so."""
    model = ShiftedTagger()

    def step(target):
        loss, _ = model.loss(None, target)
        loss.backward()
        return loss

    checked = mg.compile(step, check=True)
    checked(mg.tensor(rng.integers(0, 6, size=(4, 2))))
    with pytest.raises(mg.CompileMismatch):
        checked(mg.tensor(rng.integers(0, 6, size=(4, 2))))


def test_what_cannot_be_replayed_is_refused(rng):
    p = mg.nn.Parameter(np.ones(3, np.float32))
    x = mg.tensor([1.0, 2.0, 3.0])

    def updates_inside(x):
        (x * p).sum().backward()
        p.data = p.data - p.grad.data
    with pytest.raises(mg.CompileError, match="outside it"):
        mg.compile(updates_inside)(x)

    def second_order(x):
        y = (x * p * p).sum()
        g, = mg.grad(y, [p], create_graph=True)
        g.sum().backward()
    with pytest.raises(mg.CompileError, match="create_graph"):
        mg.compile(second_order)(x)

    def checkpointed(x):
        mg.checkpoint(lambda a: (a * p).tanh(), x).sum().backward()
    with pytest.raises(mg.CompileError, match="checkpoint"):
        mg.compile(checkpointed)(x)


def test_grad_inside_and_outputs_are_values(rng):
    w = mg.nn.Parameter(rng.normal(size=(3, 3)).astype(np.float32))

    def step(x):
        y = (x @ w).tanh().sum()
        g, = mg.grad(y, [w])
        return y, g * 2

    compiled = mg.compile(step)
    for _ in range(3):
        x = mg.tensor(rng.normal(size=(2, 3)), dtype="float32")
        y, g = step(x)
        cy, cg = compiled(x)
        np.testing.assert_array_equal(cy.numpy(), y.numpy())
        np.testing.assert_array_equal(cg.numpy(), g.numpy())
        assert cy.node is None and w.grad is None


def test_dropout_draws_a_new_mask_at_every_replay(rng):
    x = mg.tensor(np.ones((50,)))
    compiled = mg.compile(lambda x: F.dropout(x, 0.5))
    masks = [compiled(x).numpy() for _ in range(3)]
    assert not np.array_equal(masks[1], masks[2])
    mg.manual_seed(7)
    eager = [F.dropout(x, 0.5).numpy() for _ in range(2)]
    mg.manual_seed(7)
    replayed = [compiled(x).numpy() for _ in range(2)]
    np.testing.assert_array_equal(np.array(eager), np.array(replayed))


class Tagger(mg.nn.Module):
    """A many-to-many tagger with the interface Trainer expects, for truncated BPTT."""

    def __init__(self):
        super().__init__()
        self.net = models.ManyToMany(models.LSTMCell(3, 8), 4)

    def loss(self, inputs, targets, state=None):
        logits, state = self.net(mg.Tensor(inputs), state)
        return F.cross_entropy(logits, targets), state


@pytest.mark.parametrize("kind", ["full", "tbptt"])
def test_training_200_steps_compiled_and_eager_gives_the_same_weights(kind):
    from models.tasks import SequenceRegressor, adding_problem
    from models.train import Trainer

    def train(compile):
        mg.manual_seed(3)
        data = np.random.default_rng(5)
        if kind == "full":
            model = SequenceRegressor("lstm", 2, 8, 1)
            batches = [adding_problem(4, 8, data) for _ in range(10)]
            options = dict(clip_norm=1.0)
        else:
            model = Tagger()
            batches = [(data.normal(size=(12, 2, 3)).astype(np.float32),
                        data.integers(0, 4, size=(12, 2))) for _ in range(10)]
            options = dict(tbptt=5, carry_state=True, clip_value=0.5)
        trainer = Trainer(model, lambda step: batches[step % 10], lr=1e-2, progress=False,
                          compile=compile, **options,
                          log=lambda *a: pytest.fail(f"fell back to eager: {a}"))
        history = trainer.fit(200)
        return model.state_dict(), history["loss"], trainer

    eager, eager_losses, _ = train(False)
    compiled, compiled_losses, trainer = train(True)
    assert trainer.compiled.captures == (1 if kind == "full" else 2)   # carry None, then a state
    assert compiled_losses == eager_losses
    assert_same(compiled, eager)
    assert eager_losses[-1] < eager_losses[0]


@pytest.mark.parametrize("embedding_dim", [None, 4])
def test_charlm_trains_compiled_on_transposed_stream_batches(embedding_dim):
    """stream_batch hands out transposed (non-contiguous) index arrays; one-hot inputs,
    embeddings and cross-entropy's targets are read anew at every replay."""
    from models.charlm import CharLM, stream_batch
    from models.train import Trainer

    data = np.random.default_rng(2).integers(0, 6, size=400)

    def train(compile):
        mg.manual_seed(1)
        model = CharLM("abcdef", "lstm", hidden_size=8, embedding_dim=embedding_dim)
        trainer = Trainer(model, lambda step: stream_batch(data, step, 3, 10), lr=1e-2,
                          tbptt=4, carry_state=True, progress=False, compile=compile,
                          log=lambda *a: pytest.fail(f"fell back to eager: {a}"))
        return model.state_dict(), trainer.fit(30)["loss"]

    eager, eager_losses = train(False)
    compiled, compiled_losses = train(True)
    assert compiled_losses == eager_losses
    assert_same(compiled, eager)


def test_trainer_falls_back_to_eager_when_the_replay_differs(rng):
    from models.train import Trainer

    messages = []
    batches = [rng.integers(0, 6, size=(5, 3)) for _ in range(4)]
    trainer = Trainer(ShiftedTagger(), lambda step: (batches[step % 4],) * 2, progress=False,
                      log=messages.append)
    trainer.fit(4)
    assert trainer.compiled is None and "training eagerly" in messages[0]


@pytest.mark.gpu
@pytest.mark.skipif(not mg.backend.cupy_available(), reason="needs CuPy and a CUDA GPU")
def test_replay_on_the_gpu_matches_eager(rng):
    mg.set_backend("cupy")
    try:
        model = models.ManyToMany(models.LSTMCell(3, 4), 5)
        make = sequence_inputs(6, 2, 3, 5)
        compare_with_eager(model, sequence_step(model), lambda r: tuple(
            t.to("cupy") for t in make(r)), rng)
    finally:
        mg.set_backend("numpy")


def test_a_replay_sums_a_weight_in_the_chunks_eager_backward_uses(monkeypatch, rng):
    """CHUNK_BYTES splits the deferred a^T b sums of both backwards alike (200 bytes: one
    time step per chunk), so the replay still matches eager bit for bit."""
    monkeypatch.setattr(mg.autograd, "CHUNK_BYTES", 200)
    model = models.ManyToMany(CELLS["lstm"](3, 4), 5)
    compare_with_eager(model, sequence_step(model), sequence_inputs(6, 2, 3, 5), rng)
