"""PyTorch references, used only when ``import torch`` works (never a dependency)."""
import importlib.util
import os

import numpy as np


def available():
    return importlib.util.find_spec("torch") is not None


def import_torch():
    """``torch``, with its OpenMP threads told to sleep rather than spin when idle: in one
    process with NumPy's OpenBLAS, two pools of spinning threads would fight for the cores
    and slow both systems by orders of magnitude on a machine with few of them."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch
    return torch


def version():
    return import_torch().__version__ if available() else None


class TorchLM:
    """The same model in PyTorch: ``torch.nn.LSTM`` (fused over the sequence) or, with
    ``loop=True``, a Python loop over ``torch.nn.LSTMCell``; a Linear head and
    ``cross_entropy`` at every step."""

    def __init__(self, params, xs, targets, threads, loop=False):
        torch = import_torch()
        torch.set_num_threads(threads)
        self.torch = torch
        d, h = xs.shape[2], params["weight_hh"].shape[1]
        dtype = torch.float64 if params["weight_hh"].dtype == np.float64 else torch.float32
        self.loop = loop
        self.lstm = (torch.nn.LSTMCell(d, h) if loop else torch.nn.LSTM(d, h)).to(dtype)
        self.head = torch.nn.Linear(h, params["head_weight"].shape[0]).to(dtype)
        suffix = "" if loop else "_l0"
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(self.lstm, name + suffix).copy_(torch.from_numpy(params[name]))
            self.head.weight.copy_(torch.from_numpy(params["head_weight"]))
            self.head.bias.copy_(torch.from_numpy(params["head_bias"]))
        self.xs = torch.from_numpy(xs)
        self.targets = torch.from_numpy(targets).reshape(-1)
        self.suffix = suffix

    def step(self):
        torch = self.torch
        self.lstm.zero_grad(set_to_none=True)
        self.head.zero_grad(set_to_none=True)
        if self.loop:
            batch, hidden = self.xs.shape[1], self.lstm.hidden_size
            state = (self.xs.new_zeros(batch, hidden), self.xs.new_zeros(batch, hidden))
            outputs = []
            for x in self.xs:
                state = self.lstm(x, state)
                outputs.append(state[0])
            hs = torch.stack(outputs)
        else:
            hs, _ = self.lstm(self.xs)
        logits = self.head(hs)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                 self.targets)
        loss.backward()
        return loss.item()

    def grads(self):
        found = {name: getattr(self.lstm, name + self.suffix).grad.numpy()
                 for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        found["head_weight"] = self.head.weight.grad.numpy()
        found["head_bias"] = self.head.bias.grad.numpy()
        return found
