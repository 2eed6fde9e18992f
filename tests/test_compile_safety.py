"""A compiled step is as safe as the eager one: value checks replay, indices are computed
by ops, in-place changes are caught, detached views share the version."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F


def _eager_error(fn, *args):
    with pytest.raises(Exception) as info:
        fn(*args)
    return type(info.value), str(info.value)


def _replayed_error(compiled, *args):
    with pytest.raises(Exception) as info:
        compiled(*args)
    return type(info.value), str(info.value)


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
@pytest.mark.parametrize("bad", [-1, 5, 7])
def test_replayed_loss_checks_its_targets(loss, bad):
    w = mg.tensor(np.random.default_rng(0).normal(size=(3, 5)), requires_grad=True)

    def step(targets):
        out = loss(w * 2.0, targets)
        out.backward()
        return out

    compiled = mg.compile(step)
    good = np.array([0, 4, 2])
    compiled(good)
    grad = w.grad.numpy().copy()
    wrong = np.array([1, bad, 0])
    assert _replayed_error(compiled, wrong) == _eager_error(step, wrong)
    assert compiled.captures == 1
    np.testing.assert_array_equal(w.grad.numpy(), grad)   # failed before any gradient


def test_replayed_embedding_and_one_hot_check_their_indices():
    weight = mg.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)

    def step(indices):
        out = (F.embedding(indices, weight) * F.one_hot(indices, 4)[..., :3]).sum()
        out.backward()
        return out

    compiled = mg.compile(step)
    compiled(np.array([[0, 1], [2, 3]]))
    for wrong in (np.array([[0, 1], [-1, 3]]), np.array([[0, 4], [2, 3]])):
        kind, message = _replayed_error(compiled, wrong)
        assert (kind, message) == _eager_error(step, wrong)
        assert kind is IndexError and "embedding" in message
    assert compiled.captures == 1


def test_replayed_charlm_checks_its_indices():
    from models.charlm import CharLM, Vocabulary
    model = CharLM(Vocabulary("abc"), cell="rnn", hidden_size=4)

    def step(indices):
        logits, _ = model(indices)
        return logits.sum()

    compiled = mg.compile(step)
    compiled(np.array([[0, 1], [2, 1]]))
    wrong = np.array([[0, 3], [2, 1]])
    kind, message = _replayed_error(compiled, wrong)
    assert (kind, message) == _eager_error(step, wrong)
    assert "CharLM" in message


@pytest.mark.parametrize("keepdim", [False, True])
def test_replayed_max_indices_are_those_of_each_call(keepdim):
    def step(x):
        values, indices = x.max(dim=1, keepdim=keepdim)
        return values, indices

    compiled = mg.compile(step)
    rng = np.random.default_rng(1)
    for _ in range(3):
        x = mg.tensor(rng.normal(size=(4, 6)))
        values, indices = compiled(x)
        expected = np.argmax(x.numpy(), axis=1)
        np.testing.assert_array_equal(indices.numpy().reshape(-1), expected)
        np.testing.assert_array_equal(values.numpy().reshape(-1), x.numpy().max(axis=1))
    assert compiled.captures == 1


def _weight_and_input():
    rng = np.random.default_rng(2)
    w = mg.nn.Parameter(mg.tensor(rng.normal(size=(3, 3))))
    x = mg.tensor(rng.normal(size=(3, 3)), requires_grad=True)
    return w, x


def test_a_step_on_a_parameter_is_seen_through_its_detached_view():
    w, x = _weight_and_input()
    loss = (x * w.detach()).sum()          # mul saves the detached view of w
    w.grad = mg.ones_like(w)
    mg.optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="backward of mul .* input 1 .* changed in place"):
        loss.backward()


def test_a_change_of_the_detached_view_is_seen_through_the_tensor():
    w, x = _weight_and_input()
    loss = (x * w).sum()
    mg.nn.init.constant_(w.detach(), 0.5)
    with pytest.raises(RuntimeError, match="backward of mul .* input 1 .* changed in place"):
        loss.backward()


def test_detached_views_of_views_share_one_version_and_others_are_untouched():
    w, x = _weight_and_input()
    other = mg.tensor(w.numpy().copy(), requires_grad=True)
    loss = (x * w.detach().detach()).sum() + (x * other).sum()
    before = x.grad
    mg.nn.init.constant_(other, 1.0)      # another tensor: its own version
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()                   # refused for `other`, not for the view
    w2, x2 = _weight_and_input()
    loss2 = (x2 * w2.detach().detach()).sum()
    mg.nn.init.constant_(w2, 1.0)
    with pytest.raises(RuntimeError, match="input 1"):
        loss2.backward()
    assert before is None


def test_ops_that_save_nothing_allow_a_step_between_forward_and_backward():
    """As in PyTorch: y = w + 1 keeps no values of w, so a step before backward is fine."""
    w = mg.nn.Parameter(mg.tensor(np.arange(6.0).reshape(2, 3)))
    y = ((w + 1) - 2).reshape(3, 2).T[0:1].sum() + (-w).sum()
    w.grad = mg.ones_like(w)
    mg.optim.SGD([w], lr=0.5).step()
    w.grad = None
    y.backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.array([[0.0, -1, 0], [-1, 0, -1]]))


@pytest.mark.parametrize("make", [lambda w: w * 2.0, lambda w: w.exp(), lambda w: w / 3.0,
                                  lambda w: w.tanh()])
def test_ops_that_save_values_still_refuse_a_step(make):
    w = mg.nn.Parameter(mg.tensor(np.arange(6.0).reshape(2, 3)))
    y = make(w).sum()
    w.grad = mg.ones_like(w)
    mg.optim.SGD([w], lr=0.5).step()
    with pytest.raises(RuntimeError, match="changed in place"):
        y.backward()


_SAVES_NOTHING = {   # op -> (input shapes, keyword arguments)
    "add": ([(2, 3), (2, 3)], {}), "sub": ([(2, 3), (2, 3)], {}), "neg": ([(2, 3)], {}),
    "sum": ([(2, 3)], {"axis": 1, "keepdims": False}), "reshape": ([(2, 3)], {"shape": (3, 2)}),
    "transpose": ([(2, 3)], {"axes": (1, 0)}), "getitem": ([(2, 3)], {"index": (slice(0, 1),)}),
    "gather": ([(2, 3)], {"index": (np.array([[0], [1]]), np.array([[2, 2, 0], [1, 0, 0]]))}),
}


def test_an_op_that_declares_it_saves_nothing_reads_no_values_in_its_vjps():
    """Brute force: the VJPs give the same gradient with the inputs and output replaced by
    other values of the same shapes; every op declaring ``saves`` is in the table."""
    from minigrad import ops
    declared = {op.name: op for op in vars(ops).values()
                if isinstance(op, mg.Op) and op.saves is not None}
    assert set(declared) == set(_SAVES_NOTHING)
    rng = np.random.default_rng(3)
    for name, op in declared.items():
        assert op.saves == ()
        shapes, kwargs = _SAVES_NOTHING[name]
        inputs = [rng.normal(size=s) for s in shapes]
        out = op.forward(np, *inputs, **kwargs)
        g = rng.normal(size=out.shape)
        others = [rng.normal(size=s) for s in shapes]
        for vjp in op.vjps:
            np.testing.assert_array_equal(vjp(g, out, *inputs, **kwargs),
                                          vjp(g, rng.normal(size=out.shape), *others, **kwargs),
                                          err_msg=name)


def _model_and_optimizer():
    w = mg.nn.Parameter(mg.tensor(np.random.default_rng(4).normal(size=(3, 3))))
    return w, mg.optim.SGD([w], lr=0.1)


def test_a_step_between_forward_and_backward_inside_a_captured_call_is_refused():
    """The capture runs eager backward's version check: the same error as eager."""
    w, optimizer = _model_and_optimizer()
    x = mg.tensor(np.ones((2, 3)))

    def step(x):
        loss = (x @ w).tanh().sum()
        w.grad = mg.ones_like(w)
        optimizer.step()
        loss.backward()
        return loss

    kind, message = _eager_error(step, x)
    w, optimizer = _model_and_optimizer()
    compiled = mg.compile(step)
    assert _replayed_error(compiled, x) == (kind, message)
    assert kind is RuntimeError and "changed in place" in message


def test_a_step_inside_the_compiled_function_is_refused_at_capture():
    """A replay would not repeat an update made outside ops: refused, not silently skipped."""
    w, optimizer = _model_and_optimizer()

    def step(x):
        optimizer.zero_grad()
        loss = (x @ w).tanh().sum()
        loss.backward()
        optimizer.step()
        return loss

    compiled = mg.compile(step)
    with pytest.raises(mg.CompileError, match="changed in place inside the compiled function"):
        compiled(mg.tensor(np.ones((2, 3))))
    assert compiled.captures == 0


def test_a_replay_reads_parameters_updated_between_calls():
    w, optimizer = _model_and_optimizer()
    w_eager = mg.nn.Parameter(mg.tensor(w.numpy().copy()))
    eager_optimizer = mg.optim.SGD([w_eager], lr=0.1)

    def step(x, weight):
        loss = (x @ weight).tanh().sum()
        loss.backward()
        return loss

    compiled = mg.compile(step)
    rng = np.random.default_rng(5)
    for _ in range(4):
        x = mg.tensor(rng.normal(size=(2, 3)))
        optimizer.zero_grad()
        eager_optimizer.zero_grad()
        loss = compiled(x, w)
        assert loss.item() == step(x, w_eager).item()
        np.testing.assert_array_equal(w.grad.numpy(), w_eager.grad.numpy())
        optimizer.step()
        eager_optimizer.step()
    assert compiled.captures == 1


def _half_forced_model():
    """A TranslationModel trained with teacher_forcing=0.5 and its own random stream."""
    from models.tasks import TranslationModel

    class HalfForced(TranslationModel):
        def loss(self, inputs, targets, state=None):
            logits = self.seq2seq(inputs, targets, teacher_forcing=0.5, rng=self.rng)
            return F.cross_entropy(logits, np.asarray(targets)), None

    mg.manual_seed(0)
    model = HalfForced("gru", 6, 4)
    model.rng = np.random.default_rng(7)
    return model


def test_compiling_seq2seq_with_scheduled_sampling_is_refused():
    from models.tasks import translation_batch
    model = _half_forced_model()
    source, target = translation_batch(3, np.random.default_rng(1))

    def step(source, target):
        loss, _ = model.loss(source, target)
        loss.backward()
        return loss

    with pytest.raises(mg.CompileError, match="teacher_forcing=0.5 < 1 .* --no-compile"):
        mg.compile(step)(source, target)


def test_trainer_falls_back_to_eager_for_scheduled_sampling_with_the_same_weights():
    from models.tasks import translation_batch
    from models.train import Trainer
    data = np.random.default_rng(2)
    batches = [translation_batch(3, data, min_digits=2, max_digits=2) for _ in range(3)]
    weights, logs = [], []
    for compile in (True, False):
        model, log = _half_forced_model(), []
        trainer = Trainer(model, lambda step: batches[step % 3], lr=1e-2, progress=False,
                          compile=compile, log=log.append, validate_every=10**6,
                          checkpoint_every=10**6)
        trainer.fit(6)
        weights.append([p.numpy().copy() for p in model.parameters()])
        logs.append(log)
    assert any("cannot be compiled, training eagerly" in line and "teacher_forcing" in line
               for line in logs[0])
    for compiled, eager in zip(*weights):
        np.testing.assert_array_equal(compiled, eager)
