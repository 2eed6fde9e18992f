"""Optimizers and gradient clipping. Updates run in place on ``p.data``, outside the graph."""
import math

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


def clip_grad_value(params, clip_value):
    """Clamp every gradient element to [-clip_value, clip_value]."""
    if clip_value <= 0:
        raise ValueError(f"clip_grad_value: clip_value must be positive, got {clip_value}")
    for p in _with_grads(list(params)):
        p.grad = Tensor(p.grad.xp.clip(p.grad.data, -clip_value, clip_value))


class Optimizer:
    def __init__(self, params, defaults):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        self.defaults = defaults
        self.state = [{} for _ in self.params]
        self.steps = 0

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def state_dict(self):
        """Flat dict of NumPy arrays and numbers (saved alongside a model's checkpoint)."""
        out = {"steps": self.steps}
        for i, slots in enumerate(self.state):
            for key, value in slots.items():
                out[f"{i}.{key}"] = value.get() if hasattr(value, "get") else value.copy()
        return out

    def load_state_dict(self, state):
        self.steps = int(state["steps"])
        self.state = [{} for _ in self.params]
        for key, value in state.items():
            if key == "steps":
                continue
            index, slot = key.split(".", 1)
            p = self.params[int(index)]
            if value.shape != p.shape:
                raise ValueError(f"{type(self).__name__}.load_state_dict: {key} has shape "
                                 f"{value.shape}, parameter {index} has {p.shape}")
            self.state[int(index)][slot] = p.xp.array(value, dtype=p.dtype)  # a copy, updated in place


class SGD(Optimizer):
    """p <- p - lr * v, v <- momentum * v + grad (+ weight_decay * p)."""

    def __init__(self, params, lr=0.01, momentum=0.0, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay

    def step(self):
        self.steps += 1
        for p, slots in zip(self.params, self.state):
            if p.grad is None:
                continue
            g = p.grad.data
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if self.momentum:
                velocity = slots.get("velocity")
                if velocity is None:
                    velocity = slots["velocity"] = g.copy()
                else:
                    velocity *= self.momentum
                    velocity += g
                g = velocity
            p.data -= p.dtype.type(self.lr) * g
            p._bump_version()


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): bias-corrected first and second moment estimates."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay

    def step(self):
        self.steps += 1
        beta1, beta2 = self.betas
        correction1 = 1 - beta1 ** self.steps
        correction2 = 1 - beta2 ** self.steps
        step_size = self.lr * math.sqrt(correction2) / correction1
        for p, slots in zip(self.params, self.state):
            if p.grad is None:
                continue
            xp, g = p.xp, p.grad.data
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if "m" not in slots:
                slots["m"] = xp.zeros_like(p.data)
                slots["v"] = xp.zeros_like(p.data)
            m, v = slots["m"], slots["v"]
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            denom = xp.sqrt(v)
            denom += self.eps * math.sqrt(correction2)
            p.data -= p.dtype.type(step_size) * (m / denom)
            p._bump_version()
