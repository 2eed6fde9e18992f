"""One LSTM language-model problem (parameters, inputs, targets) shared by every system.

Every system under test starts from the same arrays, so their losses and gradients agree
and their timings measure the same work.
"""
import numpy as np

import minigrad as mg
from minigrad import functional as F
from minigrad import nn
from models import LSTMCell, unroll

from .numpy_lstm import PARAMETER_NAMES


def make_problem(config, dtype=np.float32, seed=0):
    """Parameters drawn like PyTorch's defaults (U(-k, k), k = 1/sqrt(H)), one-hot inputs
    xs (T, B, D) of random tokens and their successors as targets (T, B)."""
    rng = np.random.default_rng(seed)
    d, h, v = config.input_size, config.hidden_size, config.vocab
    bound = 1 / np.sqrt(h)
    shapes = {"weight_ih": (4 * h, d), "weight_hh": (4 * h, h), "bias_ih": (4 * h,),
              "bias_hh": (4 * h,), "head_weight": (v, h), "head_bias": (v,)}
    params = {name: rng.uniform(-bound, bound, shapes[name]).astype(dtype)
              for name in PARAMETER_NAMES}
    tokens = rng.integers(0, v, size=(config.steps + 1, config.batch))
    xs = np.eye(d, dtype=dtype)[tokens[:-1] % d]
    targets = tokens[1:].astype(np.int64)
    return params, xs, targets


class MinigradLM:
    """The model written with minigrad's public API: ``models.LSTMCell`` unrolled with
    ``models.unroll``, an ``nn.Linear`` head and ``functional.cross_entropy`` at every step."""

    def __init__(self, params, xs, targets):
        d, h = xs.shape[2], params["weight_hh"].shape[1]
        self.cell = LSTMCell(d, h)
        self.head = nn.Linear(h, params["head_weight"].shape[0])
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(self.cell, name).data = params[name].copy()
        self.head.weight.data = params["head_weight"].copy()
        self.head.bias.data = params["head_bias"].copy()
        self.xs = mg.Tensor(xs)
        self.targets = mg.Tensor(targets)

    def parameters(self):
        return {**{name: getattr(self.cell, name)
                   for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")},
                "head_weight": self.head.weight, "head_bias": self.head.bias}

    def step(self):
        """One training step's forward and backward; returns the loss."""
        self.cell.zero_grad()
        self.head.zero_grad()
        hs, _ = unroll(self.cell, self.xs)
        loss = F.cross_entropy(self.head(hs), self.targets)
        loss.backward()
        return loss.item()

    def grads(self):
        return {name: p.grad.numpy() for name, p in self.parameters().items()}


class CompiledMinigradLM(MinigradLM):
    """The same model, its forward and backward captured once with ``mg.compile`` and
    replayed at every step after that."""

    def __init__(self, params, xs, targets):
        super().__init__(params, xs, targets)
        self.compiled = mg.compile(self._forward_backward)
        self.step()     # the capture, so that the harness's warm-up call times a replay

    def _forward_backward(self, xs, targets):
        hs, _ = unroll(self.cell, xs)
        loss = F.cross_entropy(self.head(hs), targets)
        loss.backward()
        return loss

    def step(self):
        self.cell.zero_grad()
        self.head.zero_grad()
        return self.compiled(self.xs, self.targets).item()
