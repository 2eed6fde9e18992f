"""Modules: objects that own parameters, with PyTorch's names for the usual operations."""
import collections
import math
import types

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


IncompatibleKeys = collections.namedtuple("IncompatibleKeys", ["missing_keys",
                                                           "unexpected_keys"])


class Module:
    """Base class: assign Parameters and Modules as attributes and they are registered;
    :meth:`register_buffer` registers a tensor that is state but not trained."""

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before "
                               f"assigning attributes")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if name in self._buffers and not isinstance(value, Parameter):
            if not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}.{name} is a buffer: assign a Tensor, "
                                f"got {type(value).__name__}")
            self._buffers[name] = value
        elif isinstance(value, Parameter):
            self._buffers.pop(name, None)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def register_buffer(self, name, tensor):
        """Register ``tensor`` as state that is not trained (a fixed constant, running
        statistics): as in PyTorch it moves with :meth:`to` and is saved in
        :meth:`state_dict`, but it is not among :meth:`parameters`."""
        if not isinstance(tensor, Tensor) or isinstance(tensor, Parameter):
            raise TypeError(f"{type(self).__name__}.register_buffer({name!r}): needs a Tensor "
                            f"that is not a Parameter, got {type(tensor).__name__}")
        if name in self._parameters or name in self._modules:
            raise KeyError(f"{type(self).__name__}.register_buffer({name!r}): the name is "
                           f"already a parameter or a submodule")
        self._buffers[name] = tensor
        object.__setattr__(self, name, tensor)
        return tensor

    def named_buffers(self, prefix=""):
        """(dotted name, buffer) pairs in registration order."""
        for module_name, module in self.named_modules(prefix):
            for name, b in module._buffers.items():
                yield (f"{module_name}.{name}" if module_name else name), b

    def buffers(self):
        return [b for _, b in self.named_buffers()]

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, module in self._modules.items():
            yield from module.named_modules(f"{prefix}.{name}" if prefix else name)

    def children(self):
        return iter(self._modules.values())

    def named_children(self):
        return iter(self._modules.items())

    def modules(self):
        return (module for _, module in self.named_modules())

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule, children first, then on this one
        (PyTorch's order, used for custom initialisation)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def named_parameters(self, prefix=""):
        """(dotted name, Parameter) pairs, each parameter once, in registration order."""
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{module_name}.{name}" if module_name else name), p

    def parameters(self):
        """An iterator over the parameters, each once (PyTorch's; ``list()`` it to index)."""
        return (p for _, p in self.named_parameters())

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def train(self, mode=True):
        for _, module in self.named_modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def _state(self):
        return {**dict(self.named_parameters()), **dict(self.named_buffers())}

    def to(self, name):
        """Move every parameter and buffer in place to backend ``name`` ("numpy"/"cpu",
        "cupy"/"cuda"), or cast the floating ones to dtype ``name`` (as PyTorch does)."""
        kind, name = backend.backend_or_dtype(name)
        for t in self._state().values():
            if kind == "backend" and t.backend != name:
                t.data = backend.to_backend(t.data, name)
            elif kind == "dtype" and t.dtype.kind == "f" and t.dtype != name:
                t.data = t.data.astype(name)
            else:
                continue
            t._bump_version()
            t.grad = None
        return self

    def double(self):
        return self.to("float64")

    def float(self):
        return self.to("float32")

    def state_dict(self):
        """Parameter and buffer names mapped to NumPy copies of their values."""
        return {name: t.numpy().copy() for name, t in self._state().items()}

    def named_parameter_aliases(self):
        """(dotted name, Parameter) for every name a parameter has: a tied parameter
        (``decoder.weight = encoder.weight``) is listed under each of its names."""
        for module_name, module in self.named_modules():
            for name, p in module._parameters.items():
                yield (f"{module_name}.{name}" if module_name else name), p

    def load_state_dict(self, state, strict=True):
        """Copy values in, all or nothing: every value must have the shape here, a numeric
        dtype and finite values (after the cast to the dtype here) before anything changes.
        With ``strict`` every name must match. A tied parameter may come under any of its
        names (PyTorch's state dicts list both), with equal values. Returns
        ``(missing_keys, unexpected_keys)``, as PyTorch does."""
        where = f"{type(self).__name__}.load_state_dict"
        own = self._state()
        names = {}
        targets = {**dict(self.named_parameter_aliases()), **dict(self.named_buffers())}
        for alias, t in targets.items():
            names.setdefault(id(t), []).append(alias)
        missing = [k for k, t in own.items() if not any(a in state for a in names[id(t)])]
        unexpected = [k for k in state if k not in targets]
        if strict and (missing or unexpected):
            raise KeyError(f"{where}: missing {missing}, unexpected {unexpected}")
        values = {}
        for name, value in state.items():
            if name not in targets:
                continue
            t = targets[name]
            value = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
            if value.shape != t.shape:
                raise ValueError(f"{where}: {name} has shape {t.shape} here, {value.shape} in "
                                 f"the state dict")
            if value.dtype.kind not in "biuf":
                raise TypeError(f"{where}: {name} must hold numbers, got dtype {value.dtype}")
            with np.errstate(over="ignore"):
                value = value.astype(t.dtype)
            bad = value.size - int(np.isfinite(value).sum()) if value.dtype.kind == "f" else 0
            if bad:
                raise ValueError(f"{where}: {name} holds {bad} NaN or Inf values (as {t.dtype}) "
                                 f"of {value.size}")
            if id(t) in values and not np.array_equal(values[id(t)][1], value):
                raise ValueError(f"{where}: {values[id(t)][0]} and {name} are the same tied "
                                 f"parameter here but hold different values")
            values[id(t)] = (name, value)
        for t in own.values():
            if id(t) in values:
                t.data = backend.to_backend(values[id(t)][1], t.backend)
                t._bump_version()
        return IncompatibleKeys(missing, unexpected)

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
    """A table of ``num_embeddings`` vectors, looked up by integer index; N(0, 1) init.
    Row ``padding_idx`` (if given) starts at zero and gets no gradient, as in PyTorch."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} out of range for "
                                 f"{num_embeddings} embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        values = generator().standard_normal((num_embeddings, embedding_dim)).astype(np.float32)
        if padding_idx is not None:
            values[padding_idx] = 0.0
        self.weight = Parameter(backend.module().asarray(values))

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self):
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a layer switched off)."""

    def forward(self, x):
        return x


class Dropout(Module):
    """Inverted dropout with probability ``p`` while training; the identity in eval mode."""

    def __init__(self, p=0.5):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must lie in [0, 1], got {p!r}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Tanh(Module):
    """tanh(x), as a module (for :class:`Sequential`)."""

    def forward(self, x):
        return x.tanh()


class Sigmoid(Module):
    """1 / (1 + e^-x), as a module."""

    def forward(self, x):
        return x.sigmoid()


class ReLU(Module):
    """max(0, x), as a module."""

    def forward(self, x):
        return F.relu(x)


from . import init  # noqa: E402
from . import optim as _optim  # noqa: E402

# torch.nn.utils's gradient clipping, where PyTorch code calls it (the same functions as
# minigrad.optim's); an attribute namespace, not an importable module.
utils = types.SimpleNamespace(clip_grad_norm_=_optim.clip_grad_norm_,
                              clip_grad_value_=_optim.clip_grad_value_)
from .containers import ModuleDict, ModuleList, Sequential  # noqa: E402
from .losses import CrossEntropyLoss, MSELoss, NLLLoss  # noqa: E402

__all__ = ["Parameter", "Module", "Linear", "Embedding", "Identity", "Dropout", "Tanh",
           "Sigmoid", "ReLU", "Sequential",
           "ModuleList", "ModuleDict", "CrossEntropyLoss", "NLLLoss", "MSELoss", "init", "utils",
           "IncompatibleKeys"]
