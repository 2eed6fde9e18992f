"""Training recurrent models with backpropagation through time (BPTT).

Full BPTT (003_*.txt, "Backpropagation through time"): forward through the whole sequence,
then backward through the whole sequence. Truncated BPTT(k): run the sequence in chunks of
k steps, carry the state from one chunk to the next but cut the graph there (detach), so
gradients flow back at most k steps; the gradients of all chunks are summed and the
parameters take one step. With k = T both are the same computation.

A model trains here if it has ``loss(inputs, targets, state=None) -> (loss,
state)`` with time-major ``inputs``/``targets`` (axis 0 is time), ``config()``, and
``parameters()``.
"""
import contextlib
import json
import math
import os
import signal
import threading
import time

import numpy as np

import minigrad as mg
from minigrad.optim import SGD, Adam, clip_grad_norm, clip_grad_value

from .registry import canonical_cell_name
from .regularizer import penalty_of, recording_unrolls


class TrainingDiverged(RuntimeError):
    """The loss or the gradient became NaN or Inf; the message names the step."""


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable, or does not fit the model."""


# -- state carried between chunks --------------------------------------------------------
def detach_state(state):
    """The same values cut from the graph (nested lists/tuples of tensors)."""
    if state is None:
        return None
    if isinstance(state, mg.Tensor):
        return state.detach()
    return type(state)(detach_state(s) for s in state)


def _flatten_state(state, prefix="carry"):
    if state is None:
        return {}
    if isinstance(state, mg.Tensor):
        return {prefix: state.numpy()}
    out = {}
    for i, s in enumerate(state):
        out.update(_flatten_state(s, f"{prefix}.{i}"))
    return out


def _unflatten_state(arrays, template_lengths):
    """Rebuild [tuple, tuple, ...] from keys carry.<layer>.<i>."""
    layers = []
    for layer, count in enumerate(template_lengths):
        layers.append(tuple(mg.Tensor(arrays[f"carry.{layer}.{i}"]) for i in range(count)))
    return layers


# -- checkpoints -------------------------------------------------------------------------
def save_checkpoint(path, model, optimizer=None, trainer=None, carry=None):
    """Write model weights, ``model.config()`` (JSON), optimizer state, training progress
    and the carried state to ``path`` (.npz, atomically: a temporary file, then rename)."""
    arrays = {f"model.{name}": value for name, value in model.state_dict().items()}
    arrays["config"] = np.asarray(json.dumps(model.config()))
    if optimizer is not None:
        arrays["optimizer"] = np.asarray(json.dumps({
            "kind": type(optimizer).__name__, "defaults": _jsonable(optimizer.defaults)}))
        for key, value in optimizer.state_dict().items():
            arrays[f"optim.{key}"] = np.asarray(value)
    if trainer is not None:
        arrays["trainer"] = np.asarray(json.dumps(trainer))
    arrays.update(_flatten_state(carry))
    return mg.save(arrays, path)


def _jsonable(value):
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return float(value) if isinstance(value, (np.floating, np.integer)) else value


def read_checkpoint(path):
    """The arrays of a checkpoint and its decoded config; CheckpointError names the file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError(f"checkpoint {path}: no such file")
    try:
        arrays = mg.load(path)
    except ValueError:
        raise CheckpointError(f"checkpoint {path}: not a minigrad checkpoint (unreadable "
                              f"or corrupt .npz)") from None
    if "config" not in arrays:
        raise CheckpointError(f"checkpoint {path}: has no model config")
    config = _json_entry(path, arrays, "config")
    if "model" not in config:
        raise CheckpointError(f"checkpoint {path}: its model config names no model")
    return arrays, config


def _json_entry(path, arrays, key):
    """The JSON object stored under ``key``; CheckpointError names the file and the entry."""
    try:
        value = json.loads(str(arrays[key]))
    except ValueError as exc:
        raise CheckpointError(f"checkpoint {path}: entry {key!r} is not valid JSON "
                              f"({exc})") from None
    if not isinstance(value, dict):
        raise CheckpointError(f"checkpoint {path}: entry {key!r} is JSON but not an object, "
                              f"got {type(value).__name__}")
    return value


def read_progress(path, arrays):
    """The training progress a checkpoint records (step, history, settings, ...), {} when
    it holds weights only."""
    return _json_entry(path, arrays, "trainer") if "trainer" in arrays else {}


def load_model_state(path, model, arrays):
    """Copy a checkpoint's weights into ``model``; a mismatch, or a NaN or Inf weight, names
    the file and the tensor."""
    state = {key[len("model."):]: value for key, value in arrays.items()
             if key.startswith("model.")}
    for name, value in state.items():
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            bad = np.asarray(value).reshape(-1)[~np.isfinite(np.asarray(value).reshape(-1))][0]
            raise CheckpointError(f"checkpoint {path}: weight {name!r} holds non-finite "
                                  f"values ({bad} among its {value.size}); expected finite "
                                  f"numbers")
    try:
        model.load_state_dict(state)
    except (KeyError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {path}: does not fit the model "
                              f"({exc.args[0] if exc.args else exc})") from None


def make_optimizer(name, params, lr):
    if name == "adam":
        return Adam(params, lr=lr)
    if name == "sgd":
        return SGD(params, lr=lr, momentum=0.9)
    raise ValueError(f"optimizer must be 'adam' or 'sgd', got {name!r}")


@contextlib.contextmanager
def deferred_interrupt():
    """Hold a Ctrl-C (SIGINT) that arrives inside the block until the block is done, so that
    the parameter update and the step count change together. Only the main thread receives
    signals; elsewhere (or when SIGINT is ignored) the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):
        yield
        return
    received = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        previous(signal.SIGINT, received[0])


def thin_history(history, keys, limit):
    """Keep every other point of the series ``keys`` (always the latest) once they hold
    more than ``limit`` points."""
    length = len(history[keys[0]])
    if length <= limit:
        return
    keep = range(length - 1, -1, -2)
    for key in keys:
        series = history[key]
        history[key] = [series[i] for i in reversed(keep)]


# -- the trainer -------------------------------------------------------------------------
class Trainer:
    """Train ``model`` on ``batches(step) -> (inputs, targets)`` (deterministic in the step,
    so a resumed run sees the same data).

    tbptt: chunk length k of truncated BPTT (None: full BPTT). carry_state: keep the final
    state of one step as the initial state of the next (the batches must then be
    contiguous streams, as :func:`models.charlm.stream_batch` makes). clip_norm /
    clip_value: gradient clipping; the norm reported is the one before clipping.
    jacobian_penalty: weight of the Pascanu et al. (2013) regularizer (0: off), computed
    from the states of the model's own unrolls (:mod:`models.regularizer`).
    validate(model) -> float is run every ``validate_every`` steps and at the end; the
    progress bar and log show it as ``validation_name`` (give its unit, e.g. "val bits/char",
    where the training loss next to it is in other units).
    settings: a JSON-able dict of run options saved with the checkpoint and restored on
    resume (the command line compares them with the options given).
    compile: capture the forward and backward of a step once per batch shape with
    :func:`minigrad.compile` and replay it after that (the regularizer, which takes second
    derivatives, always runs eagerly); its first replay is checked against an eager run,
    and training goes on eagerly if they differ or if the capture is refused
    (:class:`minigrad.CompileError`, e.g. Seq2Seq with ``teacher_forcing < 1``), with a
    line in the log saying why.

    ``history`` holds at most ``history_limit`` points per series, so a checkpoint's size
    does not grow with the steps: the training loss and gradient norm of every
    ``history_stride``-th step (the stride doubles, and every other point goes, when the
    limit is reached), and the validation scores, thinned the same way.
    """

    history_limit = 1000

    def __init__(self, model, batches, optimizer="adam", lr=2e-3, tbptt=None,
                 carry_state=False, clip_norm=None, clip_value=None, jacobian_penalty=0.0,
                 validate=None, validate_every=100, checkpoint=None, checkpoint_every=100,
                 progress=True, max_seconds=None, log=print, compile=True, settings=None,
                 validation_name="val"):
        if tbptt is not None and (not isinstance(tbptt, int) or tbptt <= 0):
            raise ValueError(f"Trainer: tbptt must be a positive integer or None, got {tbptt!r}")
        for option, value in (("clip_norm", clip_norm), ("clip_value", clip_value)):
            if value is not None and not value > 0:
                raise ValueError(f"Trainer: {option} must be positive, got {value!r}")
        self.model, self.batches = model, batches
        self.optimizer = (make_optimizer(optimizer, model.parameters(), lr)
                          if isinstance(optimizer, str) else optimizer)
        self.tbptt, self.carry_state = tbptt, carry_state
        self.clip_norm, self.clip_value = clip_norm, clip_value
        self.jacobian_weight = jacobian_penalty
        self.validate, self.validate_every = validate, validate_every
        self.validation_name = validation_name
        self.checkpoint, self.checkpoint_every = checkpoint, checkpoint_every
        self.progress, self.max_seconds, self.log = progress, max_seconds, log
        self.settings = dict(settings or {})
        self.step = 0
        self.carry = None
        self.compiled = mg.compile(self._forward_backward, check="first") \
            if compile and not jacobian_penalty else None
        self.history = {"step": [], "loss": [], "grad_norm": [], "val_step": [], "val": []}
        self.history_stride = 1
        self._updating = False

    # -- one step ----------------------------------------------------------------------
    def compute_gradients(self, inputs, targets):
        """Forward and backward over one batch, in chunks of ``tbptt`` steps, leaving the
        gradients of the mean loss in ``.grad``: through the compiled step when there is
        one, else eagerly. Returns (loss, final state). Raises TrainingDiverged if the loss
        is not finite (the gradients are then zeroed)."""
        self.model.train()
        self.optimizer.zero_grad()
        state = self.carry if self.carry_state else None
        if self.compiled is None:
            losses, state = self._forward_backward(inputs, targets, state)
        else:
            try:
                losses, state = self.compiled(inputs, targets, state)
            except mg.CompileMismatch as exc:
                self.log(f"the compiled step differs from the eager one, training eagerly "
                         f"from here on ({exc})")
                self.compiled = None
                return self.compute_gradients(inputs, targets)
            except mg.CompileError as exc:     # refused at capture, before any replay
                self.log(f"this step cannot be compiled, training eagerly ({exc})")
                self.compiled = None
                return self.compute_gradients(inputs, targets)
        total = 0.0
        for (_, _, _, weight), loss in zip(self._chunks(inputs.shape[0]), losses):
            total += self._finite(loss) * weight
        return total, state

    def _chunks(self, steps):
        """(index, start, stop, weight) of each chunk of ``tbptt`` steps (one chunk with
        full BPTT); ``weight`` = (stop - start) / steps, its share of the mean loss."""
        chunk = self.tbptt or steps
        for index, start in enumerate(range(0, steps, chunk)):
            stop = min(start + chunk, steps)
            yield index, start, stop, (stop - start) / steps

    def _finite(self, loss):
        """The loss's value; TrainingDiverged (gradients zeroed) if it is NaN or Inf."""
        value = loss.item()
        if not math.isfinite(value):
            self.optimizer.zero_grad()
            raise TrainingDiverged(f"loss is {value} at step {self.step + 1}; stopped "
                                   f"before updating the parameters")
        return value

    def _forward_backward(self, inputs, targets, state):
        """Forward and backward of every chunk: what :func:`minigrad.compile` captures, so
        with no Python work that reads values unless the regularizer is on (it runs
        eagerly, and needs a finite loss). Returns the chunks' losses and the final
        state."""
        steps = inputs.shape[0]
        losses = []
        for index, start, stop, weight in self._chunks(steps):
            whole = stop - start == steps
            piece_in = inputs if whole else inputs[start:stop]
            piece_out = targets if whole else targets[start:stop]
            recording = recording_unrolls() if self.jacobian_weight else \
                contextlib.nullcontext()
            with mg.scope(f"chunk={index}"), recording as unrolls:
                loss, state = self.model.loss(piece_in, piece_out, state)
            objective = loss * weight
            if self.jacobian_weight:
                self._finite(loss)
                objective = objective + penalty_of(loss, unrolls) * \
                    (self.jacobian_weight * weight)
            objective.backward()
            losses.append(loss)
            state = detach_state(state)
        return losses, state

    def train_step(self, inputs, targets):
        """One update: gradients (full or truncated BPTT), clipping, optimizer step.
        Returns (loss, gradient norm before clipping). Raises TrainingDiverged, leaving the
        parameters as they were, if the loss or the gradient is not finite."""
        return self._step(inputs, targets, record=False)

    def _step(self, inputs, targets, record):
        carried = _first_tensor(self.carry) if self.carry_state else None
        if carried is not None and carried.shape[0] != np.shape(inputs)[1]:
            raise CheckpointError(f"Trainer: the carried state is for a batch of "
                                  f"{carried.shape[0]} streams, but the batch of step "
                                  f"{self.step + 1} has {np.shape(inputs)[1]}; resume with the "
                                  f"batch size the checkpoint was trained with")
        loss, state = self.compute_gradients(inputs, targets)
        params = self.optimizer.params
        if self.clip_norm is not None:
            norm = clip_grad_norm(params, self.clip_norm)
        else:
            norm = gradient_norm(params)
        if not math.isfinite(norm):
            self.optimizer.zero_grad()
            raise TrainingDiverged(f"gradient norm is {norm} at step {self.step + 1}; stopped "
                                   f"before updating the parameters")
        if self.clip_value is not None:
            clip_grad_value(params, self.clip_value)
        # the weights, the step count and the history change together: a Ctrl-C waits
        # until all are done; anything else raised in between marks the state as torn
        with deferred_interrupt():
            self._updating = True
            self.optimizer.step()
            self.optimizer.zero_grad()
            self.carry = state if self.carry_state else None
            self.step += 1
            if record:
                self._record_history(self.step, loss, norm)
            self._updating = False
        return loss, norm

    def _record_history(self, step, loss, norm):
        """Every ``history_stride``-th step, and the latest one (replaced by the next)."""
        history, keys = self.history, ("step", "loss", "grad_norm")
        if history["step"] and history["step"][-1] % self.history_stride:
            for key in keys:
                history[key].pop()
        for key, value in zip(keys, (step, loss, norm)):
            history[key].append(value)
        if len(history["step"]) > self.history_limit:
            self.history_stride *= 2
            last = len(history["step"]) - 1
            keep = [i for i, s in enumerate(history["step"])
                    if s % self.history_stride == 0 or i == last]
            for key in keys:
                history[key] = [history[key][i] for i in keep]

    # -- the loop ----------------------------------------------------------------------
    def fit(self, steps):
        """Train until ``self.step == steps`` (or ``max_seconds`` pass). Ctrl-C saves a
        checkpoint and re-raises; a NaN/Inf raises TrainingDiverged without saving."""
        from tqdm import tqdm
        bar = tqdm(total=steps, initial=self.step, disable=not self.progress,
                   dynamic_ncols=True, leave=False)
        began = time.perf_counter()
        tokens, window_start = 0, time.perf_counter()
        try:
            while self.step < steps:
                if self.max_seconds is not None and time.perf_counter() - began > self.max_seconds:
                    self.log(f"stopping at step {self.step}: time limit of "
                             f"{self.max_seconds:g} s reached")
                    break
                inputs, targets = self.batches(self.step)
                loss, norm = self._step(inputs, targets, record=True)
                tokens += int(np.prod(np.shape(inputs)[:2]))
                elapsed = time.perf_counter() - window_start
                postfix = {"loss": f"{loss:.4f}", "grad_norm": f"{norm:.3g}",
                           "tok/s": f"{tokens / max(elapsed, 1e-9):.0f}"}
                if self.validate is not None and self.step % self.validate_every == 0:
                    self._run_validation()
                    if not self.progress:
                        self.log(f"step {self.step}: loss {loss:.4f}, grad norm {norm:.3g}, "
                                 f"{self.validation_name} {self.history['val'][-1]:.4f}, "
                                 f"{tokens / max(elapsed, 1e-9):.0f} tokens/s")
                if self.history["val"]:
                    postfix[self.validation_name] = f"{self.history['val'][-1]:.4f}"
                bar.set_postfix(postfix, refresh=False)
                bar.update(1)
                if self.checkpoint and self.step % self.checkpoint_every == 0:
                    self.save(self.checkpoint)
        except KeyboardInterrupt:
            bar.close()
            if self._updating:
                self._updating = False
                self.log(f"interrupted inside the parameter update of step {self.step + 1}: "
                         f"the weights no longer match a step count, so the last checkpoint "
                         f"is kept")
            elif self.checkpoint:
                self.save(self.checkpoint)
                self.log(f"interrupted at step {self.step}: checkpoint saved to "
                         f"{self.checkpoint}")
            raise
        bar.close()
        if self.validate is not None and (not self.history["val_step"]
                                          or self.history["val_step"][-1] != self.step):
            self._run_validation()
        if self.checkpoint:
            self.save(self.checkpoint)
        return self.history

    def _run_validation(self):
        self.model.eval()
        value = float(self.validate(self.model))
        self.model.train()
        self.history["val_step"].append(self.step)
        self.history["val"].append(value)
        thin_history(self.history, ("val_step", "val"), self.history_limit)
        return value

    # -- checkpoints -------------------------------------------------------------------
    def save(self, path):
        progress = {"step": self.step, "history": self.history, "settings": self.settings,
                    "history_stride": self.history_stride,
                    "carry_layers": None if self.carry is None else [len(s) for s in self.carry]}
        return save_checkpoint(path, self.model, self.optimizer, progress, self.carry)

    def resume(self, path):
        """Load weights, optimizer state, step, history and carried state from ``path``."""
        arrays, config = read_checkpoint(path)
        if "cell" in config:
            config = {**config, "cell": canonical_cell_name(config["cell"])}
        if config != self.model.config():
            raise CheckpointError(f"checkpoint {path}: was made for a different model "
                                  f"({_describe_difference(config, self.model.config())})")
        load_model_state(path, self.model, arrays)
        optim = {key[len("optim."):]: value for key, value in arrays.items()
                 if key.startswith("optim.")}
        if optim:
            try:
                self.optimizer.load_state_dict(optim)
            except (KeyError, ValueError, IndexError) as exc:
                raise CheckpointError(f"checkpoint {path}: optimizer state does not fit "
                                      f"({exc})") from None
        progress = read_progress(path, arrays)
        if progress:
            try:
                step, history = int(progress["step"]), progress["history"]
                stride = int(progress.get("history_stride", 1))
                layers = progress.get("carry_layers")
                carry = _unflatten_state(arrays, layers) if layers else None
            except (KeyError, TypeError, ValueError) as exc:
                raise CheckpointError(f"checkpoint {path}: its training progress is "
                                      f"incomplete ({type(exc).__name__}: {exc})") from None
            self.step, self.history, self.carry = step, history, carry
            self.history_stride = stride
        return self


def _first_tensor(state):
    if state is None or isinstance(state, mg.Tensor):
        return state
    return next((t for t in map(_first_tensor, state) if t is not None), None)


def _describe_difference(saved, wanted):
    for key in sorted(set(saved) | set(wanted)):
        if saved.get(key) != wanted.get(key):
            return f"{key}: {_short(saved.get(key))} in the file, {_short(wanted.get(key))} asked"
    return "configs differ"


def _short(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def gradient_norm(params):
    """Global L2 norm of the gradients (float64 accumulation)."""
    return math.sqrt(sum(float((p.grad.data.astype(np.float64) ** 2).sum())
                         for p in params if p.grad is not None))
