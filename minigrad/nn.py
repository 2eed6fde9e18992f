"""Modules: objects that own parameters, with PyTorch's names for the usual operations."""
import math

import numpy as np

from . import backend, functional as F
from .random import generator
from .tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that a :class:`Module` owns and an optimizer updates."""
    __slots__ = ()

    def __init__(self, data, requires_grad=True, name=None):
        if isinstance(data, Tensor):
            data = data.data
        if not hasattr(data, "dtype"):
            data = backend.module().asarray(data, dtype=np.float32)
        super().__init__(data, requires_grad=requires_grad, name=name)


def uniform(shape, bound, dtype=np.float32):
    """U(-bound, bound) samples on the default backend (PyTorch's default init for RNNs and
    Linear layers uses bound = 1/sqrt(fan_in))."""
    values = generator().uniform(-bound, bound, size=shape).astype(dtype)
    return backend.module().asarray(values)


class Module:
    """Base class: assign Parameters and Modules as attributes and they are registered."""

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before "
                               f"assigning attributes")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, module in self._modules.items():
            yield from module.named_modules(f"{prefix}.{name}" if prefix else name)

    def children(self):
        return iter(self._modules.values())

    def named_parameters(self, prefix=""):
        """(dotted name, Parameter) pairs, each parameter once, in registration order."""
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{module_name}.{name}" if module_name else name), p

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def train(self, mode=True):
        for _, module in self.named_modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def to(self, name):
        """Move every parameter to backend ``name`` in place."""
        for p in self.parameters():
            if p.backend != name:
                p.data = backend.to_backend(p.data, name)
                p._bump_version()
            p.grad = None
        return self

    def state_dict(self):
        """Parameter names mapped to NumPy copies of their values."""
        return {name: p.numpy().copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state):
        """Copy values in; every name must match and every shape fit, or nothing changes."""
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if missing or unexpected:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing {missing}, "
                           f"unexpected {unexpected}")
        values = {}
        for name, p in own.items():
            value = state[name]
            value = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
            if value.shape != p.shape:
                raise ValueError(f"{type(self).__name__}.load_state_dict: {name} has shape "
                                 f"{p.shape} here, {value.shape} in the state dict")
            values[name] = value
        for name, p in own.items():
            p.data = backend.to_backend(values[name].astype(p.dtype), p.backend)
            p._bump_version()
        return self

    def extra_repr(self):
        return ""

    def __repr__(self):
        inner = "".join(f"\n  ({n}): " + repr(m).replace("\n", "\n  ")
                        for n, m in self._modules.items())
        return f"{type(self).__name__}({self.extra_repr()}{inner}{chr(10) if inner else ''})"


class Linear(Module):
    """y = x W^T + b, W of shape (out_features, in_features), initialised U(-k, k) with
    k = 1/sqrt(in_features) as in PyTorch."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features)
        self.weight = Parameter(uniform((out_features, in_features), bound))
        self.bias = Parameter(uniform((out_features,), bound)) if bias else None

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): input's last "
                             f"axis has size {x.shape[-1]}, expected {self.in_features} "
                             f"(input shape {x.shape})")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}"


class Embedding(Module):
    """A table of ``num_embeddings`` vectors, looked up by integer index; N(0, 1) init."""

    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        values = generator().standard_normal((num_embeddings, embedding_dim)).astype(np.float32)
        self.weight = Parameter(backend.module().asarray(values))

    def forward(self, indices):
        return F.embedding(indices, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"
