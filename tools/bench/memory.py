"""Memory of long unrolled sequences: plain BPTT against recompute checkpointing.

Plain BPTT keeps every step's intermediates until backward, O(T) memory. With
``mg.checkpoint`` the sequence is cut into segments of about sqrt(T) steps; only each
segment's incoming state (h, c) is kept, and a segment's graph is rebuilt during backward,
so memory is O(sqrt(T)) steps at the price of a second forward (Chen et al. 2016, "Training
deep nets with sublinear memory cost"). Peaks are measured with ``tracemalloc``, which
sees NumPy's array buffers as well as the Python objects of the graph.
"""
import math
import time
import tracemalloc

import numpy as np

import minigrad as mg
from minigrad import functional as F
from minigrad import nn
from models import LSTMCell, unroll


class SmallLM:
    """An LSTM language model small enough that T, not the widths, sets the memory."""

    def __init__(self, steps, batch=4, vocab=16, hidden=32, seed=0):
        mg.manual_seed(seed)
        self.cell = LSTMCell(vocab, hidden)
        self.head = nn.Linear(hidden, vocab)
        rng = np.random.default_rng(seed)
        tokens = rng.integers(0, vocab, size=(steps + 1, batch))
        self.xs = np.eye(vocab, dtype=np.float32)[tokens[:-1]]
        self.targets = tokens[1:]

    def parameters(self):
        return [*self.cell.parameters(), *self.head.parameters()]

    def zero_grad(self):
        self.cell.zero_grad()
        self.head.zero_grad()

    def segment(self, start, stop):
        """fn(h, c) -> (h, c, summed loss) over steps [start, stop): what gets checkpointed."""
        xs = mg.Tensor(self.xs[start:stop])
        targets = mg.Tensor(self.targets[start:stop])

        def run(h, c):
            hs, (h, c) = unroll(self.cell, xs, (h, c))
            return h, c, F.cross_entropy(self.head(hs), targets, reduction="sum")
        return run

    def loss(self, segment_steps=None):
        """Mean cross-entropy over all steps; with ``segment_steps``, each segment of that
        many steps is a ``mg.checkpoint``."""
        steps, batch = self.targets.shape
        if segment_steps is None:
            return self.segment(0, steps)(*self.cell.initial_state(batch))[2] / (steps * batch)
        h, c = self.cell.initial_state(batch)
        total = None
        for start in range(0, steps, segment_steps):
            h, c, loss = mg.checkpoint(self.segment(start, min(start + segment_steps, steps)),
                                       h, c)
            total = loss if total is None else total + loss
        return total / (steps * batch)

    def train_step(self, segment_steps=None):
        """Forward and backward; returns the loss and the gradients (NumPy copies)."""
        self.zero_grad()
        loss = self.loss(segment_steps)
        loss.backward()
        return loss.item(), [p.grad.numpy().copy() for p in self.parameters()]


def peak_bytes(fn):
    """Peak bytes allocated (tracemalloc) while ``fn`` runs, above what was live before."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return peak, result


def compare(steps=2000, segment_steps=None):
    """Peak memory and time of one training step, plain BPTT vs checkpointed segments."""
    segment_steps = segment_steps or math.ceil(math.sqrt(steps))
    model = SmallLM(steps)
    start = time.perf_counter()
    plain_peak, (plain_loss, plain_grads) = peak_bytes(model.train_step)
    plain_s = time.perf_counter() - start
    start = time.perf_counter()
    ckpt_peak, (ckpt_loss, ckpt_grads) = peak_bytes(lambda: model.train_step(segment_steps))
    ckpt_s = time.perf_counter() - start
    grad_gap = max(float(np.abs(a - b).max() / (np.abs(a).max() + 1e-30))
                   for a, b in zip(plain_grads, ckpt_grads))
    return {"suite": "memory", "case": "bptt_vs_checkpoint", "steps": steps,
            "segment_steps": segment_steps, "batch": model.xs.shape[1],
            "vocab": model.xs.shape[2], "hidden": model.cell.hidden_size,
            "plain_peak_mb": plain_peak / 2**20, "checkpoint_peak_mb": ckpt_peak / 2**20,
            "peak_ratio": ckpt_peak / plain_peak,
            "plain_s_traced": plain_s, "checkpoint_s_traced": ckpt_s,
            "loss_abs_diff": abs(plain_loss - ckpt_loss), "grad_max_rel_diff": grad_gap}


def long_sequence(steps=100_000, segment_steps=None):
    """One training step over ``steps`` time steps of a small cell, checkpointed every
    ~sqrt(steps) steps (``segment_steps=0``: plain BPTT). Reports time and that it ran."""
    if segment_steps is None:
        segment_steps = math.ceil(math.sqrt(steps))
    model = SmallLM(steps, batch=1, vocab=8, hidden=16)
    start = time.perf_counter()
    loss, grads = model.train_step(segment_steps or None)
    seconds = time.perf_counter() - start
    finite = bool(np.isfinite(loss)) and all(np.isfinite(g).all() for g in grads)
    return {"suite": "memory", "case": "long_sequence", "steps": steps,
            "segment_steps": segment_steps or None, "batch": 1, "vocab": 8, "hidden": 16,
            "seconds": seconds, "loss": loss, "finite": finite,
            "seconds_per_time_step_us": seconds / steps * 1e6}
