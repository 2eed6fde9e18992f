"""Optimizers and gradient clipping. Updates run in place on ``p.data``, outside the graph."""
import math

import numpy as np

from . import lr_scheduler  # noqa: F401  (optim.lr_scheduler, as in PyTorch)
from .tensor import Tensor


def _with_grads(params):
    return [p for p in params if p.grad is not None]


def clip_grad_norm(params, max_norm):
    """Scale all gradients together so that their global L2 norm is at most ``max_norm``
    (Pascanu et al. 2013), as ``torch.nn.utils.clip_grad_norm_`` does: the norm of the
    per-tensor norms, then every gradient times min(1, max_norm / (norm + 1e-6)). Returns
    the norm before clipping."""
    params = _with_grads(list(params))
    if max_norm <= 0:
        raise ValueError(f"clip_grad_norm: max_norm must be positive, got {max_norm}")
    norms = [math.sqrt(float((p.grad.data.astype("float64") ** 2).sum())) for p in params]
    total = math.sqrt(sum(n * n for n in norms))
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for p in params:
            p.grad = Tensor(p.grad.data * p.grad.dtype.type(scale))
    return total


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    """PyTorch's name: :func:`clip_grad_norm`, the norm returned as a 0-d float64 tensor.
    ``parameters`` may be one tensor."""
    if float(norm_type) != 2.0:
        raise ValueError(f"clip_grad_norm_: only norm_type=2 is supported, got {norm_type}")
    parameters = [parameters] if isinstance(parameters, Tensor) else parameters
    return Tensor(np.asarray(clip_grad_norm(parameters, max_norm), dtype=np.float64))


def clip_grad_value_(parameters, clip_value):
    """PyTorch's name for :func:`clip_grad_value`; ``parameters`` may be one tensor."""
    parameters = [parameters] if isinstance(parameters, Tensor) else parameters
    clip_grad_value(parameters, clip_value)


def clip_grad_value(params, clip_value):
    """Clamp every gradient element to [-clip_value, clip_value]."""
    if clip_value <= 0:
        raise ValueError(f"clip_grad_value: clip_value must be positive, got {clip_value}")
    for p in _with_grads(list(params)):
        p.grad = Tensor(p.grad.xp.clip(p.grad.data, -clip_value, clip_value))


NON_NEGATIVE_OPTIONS = {"lr", "momentum", "weight_decay", "eps", "lr_decay", "alpha",
                        "initial_accumulator_value"}


class Optimizer:
    """Holds ``param_groups``: dicts with a ``params`` list and that group's hyper-parameters
    (``lr``, ...), the defaults filled in, as in PyTorch. ``params`` is an iterable of
    tensors or of such dicts. ``state[i]`` holds parameter i's slots (moments, ...)."""

    def __init__(self, params, defaults):
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        self.defaults = defaults
        self.param_groups, self.state = [], []
        for group in (params if isinstance(params[0], dict) else [{"params": params}]):
            self.add_param_group(group)
        self.steps = 0

    def add_param_group(self, group):
        group = dict(group)
        params = group.get("params")
        params = [params] if isinstance(params, Tensor) else list(params or [])
        unknown = sorted(set(group) - set(self.defaults) - {"params", "initial_lr"})
        if not params or unknown:
            raise ValueError(f"{type(self).__name__}.add_param_group: a group needs a non-empty "
                             f"'params' and only the options {sorted(self.defaults)}; got "
                             f"{len(params)} parameters and unknown options {unknown}")
        seen = {id(p) for p in self.params}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{type(self).__name__}.add_param_group: a parameter appears in "
                             f"more than one group")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        for key in NON_NEGATIVE_OPTIONS & set(group):
            if not isinstance(group[key], (int, float)) or not group[key] >= 0:
                raise ValueError(f"{type(self).__name__}: {key} must be a non-negative number, "
                                 f"got {group[key]!r} (param group {len(self.param_groups)})")
        if "betas" in group and not all(0 <= b < 1 for b in group["betas"]):
            raise ValueError(f"{type(self).__name__}: betas must lie in [0, 1), got "
                             f"{group['betas']!r} (param group {len(self.param_groups)})")
        group["params"] = params
        self.param_groups.append(group)
        self.state.extend({} for _ in params)

    @property
    def params(self):
        """Every parameter, group after group (the order of ``state``)."""
        return [p for group in self.param_groups for p in group["params"]]

    def updates(self):
        """(group, parameter, its state slots) for each parameter that has a gradient."""
        slots = iter(self.state)
        for group in self.param_groups:
            for p in group["params"]:
                state = next(slots)
                if p.grad is not None:
                    yield group, p, state

    def zero_grad(self, set_to_none=True):
        """Drop the gradients (or, with ``set_to_none=False``, set them to zeros)."""
        for p in self.params:
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor(p.xp.zeros_like(p.data))

    def state_dict(self):
        """Flat dict of NumPy arrays and numbers (saved alongside a model's checkpoint):
        ``steps``, ``<i>.<slot>`` per parameter, ``group.<j>.<option>`` per number option."""
        out = {"steps": self.steps}
        for j, group in enumerate(self.param_groups):
            for key, value in group.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    out[f"group.{j}.{key}"] = value
        for i, slots in enumerate(self.state):
            for key, value in slots.items():
                out[f"{i}.{key}"] = value.get() if hasattr(value, "get") else value.copy()
        return out

    def load_state_dict(self, state):
        self.steps = int(state["steps"])
        self.state = [{} for _ in self.params]
        params = self.params
        for key, value in state.items():
            if key == "steps":
                continue
            if key.startswith("group."):
                _, j, option = key.split(".", 2)
                self.param_groups[int(j)][option] = float(np.asarray(value))
                continue
            index, slot = key.split(".", 1)
            p = params[int(index)]
            if value.shape != p.shape:
                raise ValueError(f"{type(self).__name__}.load_state_dict: {key} has shape "
                                 f"{value.shape}, parameter {index} has {p.shape}")
            self.state[int(index)][slot] = p.xp.array(value, dtype=p.dtype)  # a copy, updated in place


def _decayed(g, p, weight_decay):
    """g + weight_decay * p: L2 regularisation folded into the gradient."""
    return g + weight_decay * p.data if weight_decay else g


class SGD(Optimizer):
    """p <- p - lr * v, v <- momentum * v + grad (+ weight_decay * p)."""

    def __init__(self, params, lr=0.01, momentum=0.0, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    def step(self):
        self.steps += 1
        for group, p, slots in self.updates():
            g = _decayed(p.grad.data, p, group["weight_decay"])
            if group["momentum"]:
                velocity = slots.get("velocity")
                if velocity is None:
                    velocity = slots["velocity"] = g.copy()
                else:
                    velocity *= group["momentum"]
                    velocity += g
                g = velocity
            p.data -= p.dtype.type(group["lr"]) * g
            p._bump_version()


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): bias-corrected first and second moment estimates,

        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,
        p <- p - lr m / (1 - b1^t) / (sqrt(v / (1 - b2^t)) + eps);

    ``weight_decay`` adds weight_decay * p to g (L2; :class:`AdamW` decouples it)."""
    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def step(self):
        self.steps += 1
        for group, p, slots in self.updates():
            beta1, beta2 = group["betas"]
            lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
            correction1 = 1 - beta1 ** self.steps
            correction2 = 1 - beta2 ** self.steps
            step_size = lr * math.sqrt(correction2) / correction1
            xp, g = p.xp, p.grad.data
            if self.decoupled:
                p.data *= p.dtype.type(1 - lr * weight_decay)
            else:
                g = _decayed(g, p, weight_decay)
            if "m" not in slots:
                slots["m"] = xp.zeros_like(p.data)
                slots["v"] = xp.zeros_like(p.data)
            m, v = slots["m"], slots["v"]
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            denom = xp.sqrt(v)
            denom += eps * math.sqrt(correction2)
            p.data -= p.dtype.type(step_size) * (m / denom)
            p._bump_version()


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): p <- p (1 - lr wd)
    before the Adam step, instead of adding wd p to the gradient."""
    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011), min-char-rnn's optimiser: per-element step sizes shrink
    with the sum of squared gradients,

        s <- s + g^2,    p <- p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps))

    def step(self):
        self.steps += 1
        for group, p, slots in self.updates():
            g = _decayed(p.grad.data, p, group["weight_decay"])
            if "sum" not in slots:
                slots["sum"] = p.xp.full_like(p.data, group["initial_accumulator_value"])
            total = slots["sum"]
            total += g * g
            lr = group["lr"] / (1 + (self.steps - 1) * group["lr_decay"])
            p.data -= p.dtype.type(lr) * g / (p.xp.sqrt(total) + group["eps"])
            p._bump_version()


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e; Graves 2013 for ``centered``):

        v <- alpha v + (1 - alpha) g^2;   centered: v~ = v - gbar^2, gbar <- alpha gbar + (1 - alpha) g
        b <- momentum b + g / (sqrt(v~) + eps),   p <- p - lr b   (b = the step when momentum = 0)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def step(self):
        self.steps += 1
        for group, p, slots in self.updates():
            xp, alpha = p.xp, group["alpha"]
            g = _decayed(p.grad.data, p, group["weight_decay"])
            if "square_avg" not in slots:
                slots["square_avg"] = xp.zeros_like(p.data)
            square = slots["square_avg"]
            square *= alpha
            square += (1 - alpha) * g * g
            if group["centered"]:
                mean = slots.setdefault("grad_avg", xp.zeros_like(p.data))
                mean *= alpha
                mean += (1 - alpha) * g
                denom = xp.sqrt(square - mean * mean) + group["eps"]
            else:
                denom = xp.sqrt(square) + group["eps"]
            update = g / denom
            if group["momentum"]:
                buffer = slots.setdefault("momentum_buffer", xp.zeros_like(p.data))
                buffer *= group["momentum"]
                buffer += update
                update = buffer
            p.data -= p.dtype.type(group["lr"]) * update
            p._bump_version()
