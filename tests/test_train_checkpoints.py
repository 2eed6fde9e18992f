"""Checkpoints the trainer writes: the weights of the step they record (even when Ctrl-C
lands inside the update), a bounded history, no stale temporary files."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import minigrad as mg
from models.charlm import CharLM, Vocabulary, stream_batch
from models.train import Trainer, read_checkpoint

DATA = Vocabulary("abcdef ").encode("abc def fed cba " * 20)


def make(path=None, every=100, **options):
    mg.manual_seed(3)
    model = CharLM(Vocabulary("abcdef "), "lstm", 6, embedding_dim=3)
    return Trainer(model, lambda step: stream_batch(DATA, step, 3, 8), lr=0.05,
                   carry_state=True, progress=False, checkpoint=path, checkpoint_every=every,
                   log=lambda message: None, **options)


def _eager(init):
    def eager_init(self, *args, **options):
        init(self, *args, **{**options, "compile": False})
    return eager_init


def weights_at(step):
    trainer = make()
    trainer.fit(step)
    return {name: p.numpy().copy() for name, p in trainer.model.named_parameters()}


def assert_checkpoint_is_step(path, step):
    arrays, _ = read_checkpoint(path)
    assert json.loads(str(arrays["trainer"]))["step"] == step
    for name, value in weights_at(step).items():
        np.testing.assert_allclose(arrays[f"model.{name}"], value, rtol=1e-6, atol=1e-7,
                                   err_msg=f"{name}: the weights are not those of step {step}")


def interrupt_after_the_update(trainer, at_step, how):
    """Make the optimizer's update of step ``at_step`` be followed by a Ctrl-C."""
    update = trainer.optimizer.step

    def step_then_interrupt():
        update()
        if trainer.step + 1 == at_step:
            if how == "signal":
                signal.raise_signal(signal.SIGINT)   # to this thread, at once
            else:
                raise KeyboardInterrupt

    trainer.optimizer.step = step_then_interrupt


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                    reason="SIGINT reaches the main thread only")
def test_ctrl_c_right_after_the_update_saves_the_step_of_the_weights(tmp_path):
    # Python's own Ctrl-C handler, even where the test runner was started with SIGINT
    # ignored (a background job of a shell)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _ctrl_c_right_after_the_update(tmp_path)
    finally:
        signal.signal(signal.SIGINT, previous)


def _ctrl_c_right_after_the_update(tmp_path):
    path = tmp_path / "lm.npz"
    trainer = make(path, every=2)
    interrupt_after_the_update(trainer, 5, "signal")
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(10)
    assert trainer.step == 5
    assert_checkpoint_is_step(path, 5)
    resumed = make(path, every=2).resume(path)
    assert resumed.step == 5 and resumed.history["step"][-1] == 5


def test_an_interrupt_raised_inside_the_update_keeps_the_last_consistent_checkpoint(tmp_path):
    path = tmp_path / "lm.npz"
    trainer = make(path, every=2)
    interrupt_after_the_update(trainer, 5, "raise")
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(10)
    assert_checkpoint_is_step(path, 4)


def test_history_is_bounded_and_resumes_identically(tmp_path, monkeypatch):
    monkeypatch.setattr(Trainer, "history_limit", 8)
    monkeypatch.setattr(Trainer, "__init__", _eager(Trainer.__init__))
    path = tmp_path / "lm.npz"
    straight = make(path, every=1000, validate=lambda m: 1.0, validate_every=1)
    straight.fit(100)
    for key in straight.history:
        assert len(straight.history[key]) <= 8, key
    steps = straight.history["step"]
    assert steps[-1] == 100 and steps == sorted(steps)
    assert len(set(np.diff(steps[:-1]))) == 1, f"uneven spacing {steps}"
    assert straight.history["val_step"][-1] == 100
    size_100 = os.path.getsize(path)
    longer = make(tmp_path / "long.npz", every=1000, validate=lambda m: 1.0, validate_every=1)
    longer.fit(400)
    assert os.path.getsize(tmp_path / "long.npz") <= size_100 + 200

    first = make(tmp_path / "r.npz", every=1000, validate=lambda m: 1.0, validate_every=1)
    first.fit(37)
    second = make(tmp_path / "r.npz", every=1000, validate=lambda m: 1.0,
                  validate_every=1).resume(tmp_path / "r.npz")
    second.fit(100)
    for key in ("step", "val_step"):
        assert second.history[key] == straight.history[key], key
    for key in ("loss", "grad_norm", "val"):
        np.testing.assert_allclose(second.history[key], straight.history[key], rtol=1e-5)


def test_checkpoint_size_does_not_grow_with_the_steps(tmp_path):
    sizes = []
    for steps in (3000, 300000):
        trainer = make()
        for step in range(steps):
            trainer._record_history(step + 1, 1.0 + (step % 7) * 0.125, 0.5)
        assert len(trainer.history["step"]) <= Trainer.history_limit
        sizes.append(os.path.getsize(trainer.save(tmp_path / f"{steps}.npz")))
    assert sizes[1] < sizes[0] * 1.5, sizes


KILLED_SAVE = textwrap.dedent("""
    import os, sys
    import numpy as np
    import minigrad as mg
    from minigrad import serialization

    original = np.savez
    def savez_then_die(f, **arrays):
        original(f, **arrays)
        f.flush()
        os._exit(9)
    serialization.np.savez = savez_then_die
    mg.save({"w": np.ones(3)}, sys.argv[1])
""")


def test_a_killed_save_leaves_a_temporary_the_next_save_removes(tmp_path):
    target = tmp_path / "lm.npz"
    other = tmp_path / "other.npz"
    mg.save({"w": np.zeros(3)}, target)
    for path in (target, other):
        done = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(path)],
                              cwd=os.getcwd(), capture_output=True)
        assert done.returncode == 9, done.stderr.decode()
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name not in
                       ("lm.npz",))
    assert len(leftovers) == 2, leftovers           # one temporary per killed save
    np.testing.assert_array_equal(mg.load(target)["w"], np.zeros(3))
    mg.save({"w": np.full(3, 2.0)}, target)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "lm.npz" in names
    assert len(names) == 2, names                    # the other target's temporary stays
    assert any("other.npz" in name for name in names), names
    np.testing.assert_array_equal(mg.load(target)["w"], np.full(3, 2.0))


def test_resuming_a_carried_state_with_another_batch_size_names_both(tmp_path):
    from models.train import CheckpointError
    path = tmp_path / "lm.npz"
    make(path).fit(3)
    mg.manual_seed(3)
    model = CharLM(Vocabulary("abcdef "), "lstm", 6, embedding_dim=3)
    other = Trainer(model, lambda step: stream_batch(DATA, step, 2, 8), carry_state=True,
                    progress=False, log=lambda message: None).resume(path)
    with pytest.raises(CheckpointError, match=r"batch of 3 streams.*step 4 has 2"):
        other.fit(5)
    assert other.step == 3
