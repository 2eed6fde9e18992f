"""Checking derivatives: Jacobians by central differences and by autodiff, and the checks
that compare them (in float64; pass float64 inputs)."""
import numpy as np

from .autograd import grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Analytic and numeric derivatives disagree; the message names the worst element."""


def _as_outputs(value):
    return [value] if isinstance(value, Tensor) else list(value)


def _flat_output(fn, inputs):
    return np.concatenate([o.numpy().reshape(-1) for o in _as_outputs(fn(*inputs))])


def numerical_jacobian(fn, inputs, eps=1e-6):
    """d(outputs)/d(input) by central differences, one (outputs.size, input.size) array per
    input; ``fn``'s outputs (a tensor or a tuple of them) are flattened and concatenated."""
    jacobians = []
    for x in inputs:
        original = x.data
        flat = original.reshape(-1).copy()
        columns = []
        try:
            for i in range(flat.size):
                value = flat[i].item()
                flat[i] = value + eps
                x.data = flat.reshape(original.shape)
                plus = _flat_output(fn, inputs)
                flat[i] = value - eps
                minus = _flat_output(fn, inputs)
                flat[i] = value
                columns.append((plus - minus) / (2 * eps))
        finally:
            x.data = original
        jacobians.append(np.stack(columns, axis=1) if columns else
                         np.zeros((_flat_output(fn, inputs).size, 0)))
    return jacobians


def jacobian(fn, inputs, create_graph=False):
    """d(outputs)/d(input) by reverse mode, one row (one VJP) per output element."""
    outputs = _as_outputs(fn(*inputs))
    sizes = [o.numel() for o in outputs]
    total = sum(sizes)
    rows = [np.zeros((total, x.numel())) for x in inputs]
    differentiable = [o for o in outputs if o.requires_grad]
    if not differentiable:
        return rows
    offsets = np.cumsum([0] + sizes)
    for k in range(total):
        seeds = []
        for o, start in zip(outputs, offsets[:-1]):
            if not o.requires_grad:
                continue
            seed = np.zeros(o.numel(), dtype=o.dtype)
            if start <= k < start + o.numel():
                seed[k - start] = 1
            seeds.append(Tensor(o.xp.asarray(seed.reshape(o.shape))))
        grads = grad(differentiable, [x for x in inputs if x.requires_grad], seeds,
                     retain_graph=True, create_graph=create_graph, allow_unused=True)
        for row, g in zip([r for r, x in zip(rows, inputs) if x.requires_grad], grads):
            row[k] = g.numpy().reshape(-1)
    return rows


def _compare(analytic, numeric, atol, rtol, what):
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        error = np.abs(a - n) - (atol + rtol * np.abs(n))
        error[np.isnan(error)] = np.inf                  # a NaN on either side is a failure
        if error.size and error.max() > 0:
            row, col = np.unravel_index(int(np.argmax(error)), error.shape)
            raise GradcheckError(
                f"{what}: input {i}, output element {row}, input element {col}: analytic "
                f"{a[row, col]!r} vs numeric {n[row, col]!r} (atol={atol}, rtol={rtol}; "
                f"max abs difference {np.abs(a - n).max():.3e})")


def _check_dtypes(inputs, what):
    for i, x in enumerate(inputs):
        if x.requires_grad and x.dtype != np.float64:
            raise TypeError(f"{what}: input {i} is {x.dtype}; finite differences need float64")


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Raise :class:`GradcheckError` unless autodiff matches central differences for every
    input that requires a gradient. Returns True."""
    inputs = list(inputs)
    _check_dtypes(inputs, "gradcheck")
    wanted = [i for i, x in enumerate(inputs) if x.requires_grad]
    analytic = jacobian(fn, inputs)
    numeric = numerical_jacobian(fn, inputs, eps)
    _compare([analytic[i] for i in wanted], [numeric[i] for i in wanted], atol, rtol,
             "gradcheck")
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check second derivatives: gradcheck of x -> d<v, fn(x)>/dx for a random fixed v.

    First the recorded first derivative (``create_graph=True``, the ``defvjp`` lines, which
    a plain backward may bypass for a faster route) is checked against finite differences:
    the second derivatives are those of the first derivative the engine records."""
    inputs = list(inputs)
    _check_dtypes(inputs, "gradgradcheck")
    rng = np.random.default_rng(seed)
    outputs = _as_outputs(fn(*inputs))
    vs = [Tensor(o.xp.asarray(rng.standard_normal(o.shape))) for o in outputs]
    wanted = [x for x in inputs if x.requires_grad]

    def first_derivative(*xs):
        outs = _as_outputs(fn(*xs))
        return grad([o for o in outs if o.requires_grad],
                    [x for x in xs if x.requires_grad],
                    [v for o, v in zip(outs, vs) if o.requires_grad],
                    create_graph=True, allow_unused=True)

    if not wanted:
        return True
    positions = [i for i, x in enumerate(inputs) if x.requires_grad]
    recorded = jacobian(fn, inputs, create_graph=True)
    numeric = numerical_jacobian(fn, inputs, eps)
    _compare([recorded[i] for i in positions], [numeric[i] for i in positions], atol, rtol,
             "gradgradcheck (recorded first derivative)")
    return gradcheck(first_derivative, inputs, eps, atol, rtol)
