"""Every primitive op: its forward, then its vector-Jacobian product (VJP).

Read each pair against a table of derivatives. ``defvjp(op, vjp_0, vjp_1, ...)`` gives one
function per input: ``vjp_i(g, out, *inputs, **kwargs)`` is the gradient for input ``i``
given the gradient ``g`` of the output ``out``. VJPs use only operators, methods that
Tensors and arrays share, and ops, so the same line runs on Tensors (``create_graph=True``:
the backward pass is recorded and can be differentiated again) and on bare arrays (a plain
backward, with no Tensor made). Gradients of broadcast inputs are summed back to the
input's shape by the engine (:func:`unbroadcast`), so VJPs may return the broadcast shape.
"""
import builtins

import numpy as np

from . import backend
from .tensor import (DEFAULT_DTYPE, Op, Tensor, apply, as_tensor, check_values,
                     set_grad_enabled)


def primitive(name):
    """Decorator: make ``forward(xp, *arrays, **kwargs)`` into an :class:`Op` called ``name``."""
    return lambda forward: Op(name, forward)


def defvjp(op, *vjps):
    op.vjps = vjps


def defvjp_all(op, vjp):
    op.vjp_all = vjp


def _call(op, *inputs, **kwargs):
    """Run ``op``, first turning numbers among ``inputs`` into tensors like the others."""
    for t in inputs:
        if not isinstance(t, Tensor):
            like = next(t for t in inputs if isinstance(t, Tensor))
            inputs = tuple(as_tensor(t, like) for t in inputs)
            break
    return apply(op, inputs, kwargs)


def constant(array):
    """A tensor that takes no part in differentiation (masks, counts)."""
    return Tensor(np.asarray(array) if isinstance(array, np.generic) else array)


def _array(x):
    """The array of a Tensor, or ``x`` itself: what a VJP reads to build a constant."""
    return x.data if isinstance(x, Tensor) else x


# -- arithmetic --------------------------------------------------------------------------
_add = primitive("add")(lambda xp, x, y: x + y)
defvjp(_add, lambda g, out, x, y: g,
             lambda g, out, x, y: g)
_add.saves = ()  # the VJPs read no values (in-place check)

_sub = primitive("sub")(lambda xp, x, y: x - y)
defvjp(_sub, lambda g, out, x, y: g,
             lambda g, out, x, y: -g)
_sub.saves = ()  # the VJPs read no values (in-place check)

_mul = primitive("mul")(lambda xp, x, y: x * y)
defvjp(_mul, lambda g, out, x, y: g * y,
             lambda g, out, x, y: g * x)

_div = primitive("div")(lambda xp, x, y: x / y)
defvjp(_div, lambda g, out, x, y: g / y,
             lambda g, out, x, y: -g * out / y)

neg = primitive("neg")(lambda xp, x: -x)
defvjp(neg, lambda g, out, x: -g)
neg.saves = ()  # the VJP reads no values (in-place check)

_pow = primitive("pow")(lambda xp, x, exponent: x ** exponent)


def _pow_vjp(g, out, x, exponent):
    """d/dx x^p = p x^(p-1), which is 0 for p = 0 (also at x = 0, where x^-1 is not finite)."""
    if np.ndim(exponent) == 0 and exponent == 0:
        return g * 0.0
    return g * exponent * x ** (exponent - 1)


defvjp(_pow, _pow_vjp)


def _binary(op, x, y, true_division=False):
    """``op(x, y)`` where one of the two may be a number or an array. Dtypes as torch's:
    an integer or bool tensor meeting a float one takes the float's dtype (NumPy would make
    int64 with float32 float64), and true division of integers gives the default float."""
    if not isinstance(x, Tensor):
        x = as_tensor(x, y)
    elif not isinstance(y, Tensor):
        y = as_tensor(y, x)
    kinds = x.dtype.kind + y.dtype.kind
    if "f" in kinds and kinds != "ff":
        float_dtype = x.dtype if x.dtype.kind == "f" else y.dtype
        x, y = (t if t.dtype.kind == "f" else astype(t, dtype=float_dtype) for t in (x, y))
    elif true_division and "f" not in kinds and "c" not in kinds:
        x, y = astype(x, dtype=DEFAULT_DTYPE), astype(y, dtype=DEFAULT_DTYPE)
    return apply(op, (x, y), {})


def add(x, y): return _binary(_add, x, y)
def sub(x, y): return _binary(_sub, x, y)
def mul(x, y): return _binary(_mul, x, y)
def div(x, y): return _binary(_div, x, y, true_division=True)


def _pow_base_vjp(g, out, x, p):
    """d/dx x^p = p x^(p-1); 0 where p = 0 and x = 0 (x^0 = 1, but 0 * 0^-1 is NaN)."""
    return where((_array(p) == 0) & (_array(x) == 0), 0.0, g * p * x ** (p - 1))


def _pow_exponent_vjp(g, out, x, p):
    """d/dp x^p = x^p log x for x > 0, and 0 at x = 0 (x^p = 0 near any p > 0). For x < 0,
    x^p is real only at integer p (``(-2) ** 2 = 4``), so it has no derivative in p: NaN,
    which ``detect_anomaly`` reports as the backward of pow."""
    base = _array(x)
    grad = g * out * log(where(base > 0, x, 1.0))
    negative = base < 0
    return where(negative, float("nan"), grad) if bool(negative.any()) else grad


_pow_tensor = primitive("pow")(lambda xp, x, p: x ** p)
defvjp(_pow_tensor, _pow_base_vjp, _pow_exponent_vjp)


def power(x, exponent):
    """``x ** exponent``: a number exponent is a keyword of the op, a tensor one an input."""
    if isinstance(exponent, Tensor):
        return _binary(_pow_tensor, x, exponent)
    return _call(_pow, x, exponent=exponent)


# -- matrix product (NumPy's matmul rules, 1-d operands included) -------------------------
def _swap_last(t):
    axes = list(range(t.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transpose(t, *axes)


def _matmul_grad_x(g, out, x, y):
    if y.ndim == 1:                                 # out (..., m): g (..., m) outer y (k,)
        return g.reshape(g.shape + (1,)) * y if x.ndim > 1 else g * y
    if x.ndim == 1:                                 # out (..., n) from x (k,)
        return (y @ g.reshape(g.shape + (1,))).reshape(g.shape[:-1] + (y.shape[-2],))
    return g @ _swap_last(y)


def _matmul_grad_y(g, out, x, y):
    if x.ndim == 1:
        return x.reshape((x.shape[0], 1)) * g.reshape(g.shape[:-1] + (1, g.shape[-1])) \
            if y.ndim > 1 else g * x
    if y.ndim == 1:                                 # out (..., m) from x (..., m, k)
        return (_swap_last(x) @ g.reshape(g.shape + (1,))).reshape(g.shape[:-1] + (x.shape[-1],))
    return _swap_last(x) @ g


_matmul = primitive("matmul")(lambda xp, x, y: x @ y)
defvjp(_matmul, _matmul_grad_x, _matmul_grad_y)


def matmul(x, y): return _binary(_matmul, x, y)


def _matmul_outer(g, out, x, y):
    """The gradient of a 2-d ``y`` is x^T g summed over rows: deferrable (see autograd).
    Like every ``outer`` function it sees arrays."""
    return (x, g) if y.ndim == 2 and x.ndim >= 2 else None


_matmul.outer = {1: _matmul_outer}


def _rows_matmul(x, w):
    """``x @ w`` for ``x`` of shape (..., k) as one product over all rows: NumPy's matmul
    would run one small product per index of the leading axes (three times slower for a
    (T, B, k) sequence)."""
    if x.ndim <= 2:
        return x @ w
    return (x.reshape(-1, x.shape[-1]) @ w).reshape(x.shape[:-1] + (w.shape[-1],))


def _linear_forward(xp, x, weight, bias=None):
    out = _rows_matmul(x, weight.T)
    if bias is None:
        return out
    if bias.dtype == out.dtype and bias.shape == out.shape[out.ndim - bias.ndim:]:
        out += bias                     # the common case: no second array
        return out
    return out + bias


_linear = primitive("linear")(_linear_forward)
defvjp(_linear, lambda g, out, x, weight, bias=None: _rows_matmul(g, weight),
                lambda g, out, x, weight, bias=None: _as_rows(g).T @ _as_rows(x),
                lambda g, out, x, weight, bias=None: g)
_linear.outer = {1: lambda g, out, x, weight, bias=None: (g, x) if weight.ndim == 2 else None,
                 2: lambda g, out, x, weight, bias=None: (None, g) if bias.ndim == 1 else None}


def _as_rows(t):
    """(..., n) -> (prod(...), n)."""
    return t.reshape(-1, t.shape[-1])


def linear(x, weight, bias=None):
    """x W^T + b for W of shape (out, in), x of shape (..., in): one op, no transpose node."""
    return _call(_linear, x, weight) if bias is None else _call(_linear, x, weight, bias)


# -- elementwise functions ---------------------------------------------------------------
exp = primitive("exp")(lambda xp, x: xp.exp(x))
defvjp(exp, lambda g, out, x: g * out)

log = primitive("log")(lambda xp, x: xp.log(x))
defvjp(log, lambda g, out, x: g / x)

tanh = primitive("tanh")(lambda xp, x: xp.tanh(x))
defvjp(tanh, lambda g, out, x: g - g * out * out)              # 1 - tanh^2


_HALF = {np.dtype(name): np.array(0.5, name) for name in ("float16", "float32", "float64")}


def _sigmoid(xp, x):
    """sigma(x) = 1 / (1 + e^-x), written as tanh(x/2) / 2 + 1/2 so it never overflows.
    In place on one new array; NumPy multiplies by a 0-d array of x's dtype much faster
    than by the Python float 0.5."""
    half = _HALF.get(x.dtype, 0.5) if xp is np else 0.5
    out = xp.tanh(x * half)
    out *= half
    out += half
    return out


sigmoid = primitive("sigmoid")(_sigmoid)
defvjp(sigmoid, lambda g, out, x: g * (out - out * out))      # sigma (1 - sigma)

relu = primitive("relu")(lambda xp, x: xp.maximum(x, 0))
defvjp(relu, lambda g, out, x: g * (_array(x) > 0))

abs = primitive("abs")(lambda xp, x: xp.abs(x))
defvjp(abs, lambda g, out, x: g * _sign(_array(x)))


def _sign(array):
    return backend.get_array_module(array).sign(array)


sqrt = primitive("sqrt")(lambda xp, x: xp.sqrt(x))
defvjp(sqrt, lambda g, out, x: g * 0.5 / out)

to_backend = primitive("to_backend")(lambda xp, x, backend: _move(x, backend))
defvjp(to_backend, lambda g, out, x, backend: to_backend(g, backend=_backend_of(x)))


def _backend_of(x):
    return backend.backend_of(_array(x))


def _move(x, name):
    return backend.to_backend(x, name)


astype = primitive("astype")(lambda xp, x, dtype: x.astype(dtype))
defvjp(astype, lambda g, out, x, dtype: g.astype(x.dtype))


def where(condition, x, y):
    """``x`` where ``condition`` holds, else ``y`` (differentiable in ``x`` and ``y``)."""
    like = next((t for t in (x, y, condition) if isinstance(t, Tensor)), None)
    if like is None:                                # arrays, in a plain backward
        return backend.get_array_module(condition).where(condition, x, y)
    condition = as_tensor(condition, like)
    return apply(_where, (as_tensor(x, like), as_tensor(y, like)), {"condition": condition.data})


_where = primitive("where")(lambda xp, x, y, condition: xp.where(condition, x, y))
defvjp(_where, lambda g, out, x, y, condition: where(condition, g, 0.0),
               lambda g, out, x, y, condition: where(condition, 0.0, g))


def compare(x, y, name):
    """Elementwise comparison by NumPy ufunc ``name``; a boolean tensor, never differentiated."""
    like = x if isinstance(x, Tensor) else y
    x, y = as_tensor(x, like), as_tensor(y, like)
    return constant(getattr(like.xp, name)(x.data, y.data))


# -- shapes and broadcasting -------------------------------------------------------------
def _sum_to(xp, x, shape):
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1)
    return x.sum(axis=axes, keepdims=True).reshape(shape) if axes else x.reshape(shape)


sum_to = primitive("sum_to")(_sum_to)
defvjp(sum_to, lambda g, out, x, shape: broadcast_to(g, shape=x.shape))

broadcast_to = primitive("broadcast_to")(lambda xp, x, shape: xp.broadcast_to(x, shape))
defvjp(broadcast_to, lambda g, out, x, shape: sum_to(g, shape=x.shape))


def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape``: the adjoint of NumPy broadcasting."""
    return g if g.shape == shape else sum_to(g, shape=shape)


reshape = primitive("reshape")(lambda xp, x, shape: x.reshape(shape))
defvjp(reshape, lambda g, out, x, shape: g.reshape(x.shape))
reshape.saves = ()  # the VJP reads no values (in-place check)

_transpose = primitive("transpose")(lambda xp, x, axes: x.transpose(axes))
defvjp(_transpose, lambda g, out, x, axes: _transpose(g, axes=tuple(np.argsort(axes))))
_transpose.saves = ()  # the VJP reads no values (in-place check)


def transpose(x, *axes):
    """Permute the axes (NumPy's ``transpose(*axes)``; no axes reverses them). Two axes
    swap those two, as PyTorch's ``transpose(dim0, dim1)`` does, for any rank."""
    axes = axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes
    if len(axes) == 2 and x.ndim >= 2:
        first, second = axes[0] % x.ndim, axes[1] % x.ndim
        order = list(range(x.ndim))
        order[first], order[second] = second, first
        return _transpose(x, axes=tuple(order))
    return permute(x, *axes) if axes else _transpose(x, axes=tuple(reversed(range(x.ndim))))


def permute(x, *dims):
    """Axis i of the result is axis ``dims[i]`` of ``x`` (PyTorch's ``permute``)."""
    dims = _sizes(dims)
    if sorted(d % builtins.max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {tuple(dims)} are not a permutation of the "
                         f"{x.ndim} axes of shape {x.shape}")
    return _transpose(x, axes=tuple(d % x.ndim for d in dims))


def t(x):
    """The transpose of a matrix; 0-d and 1-d tensors unchanged (PyTorch's ``t``)."""
    if x.ndim > 2:
        raise ValueError(f"t: expects a tensor of at most 2 dimensions, got shape {x.shape}")
    return x if x.ndim < 2 else transpose(x, 1, 0)


def _dim_index(dim, ndim, name):
    ndim = builtins.max(ndim, 1)
    if not -ndim <= dim < ndim:
        raise IndexError(f"{name}: dim {dim} out of range for {ndim} dimensions")
    return dim % ndim


def unsqueeze(x, dim):
    """A new axis of size 1 at position ``dim`` (PyTorch's ``unsqueeze``)."""
    dim = _dim_index(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, shape=x.shape[:dim] + (1,) + x.shape[dim:])


def squeeze(x, dim=None):
    """Drop axes of size 1: all of them, or only ``dim`` (an int or tuple) where its size is 1."""
    if dim is None:
        dims = {i for i, n in enumerate(x.shape) if n == 1}
    else:
        dims = {_dim_index(d, x.ndim, "squeeze") for d in ((dim,) if isinstance(dim, int) else dim)}
        dims = {d for d in dims if x.shape[d] == 1}
    shape = tuple(n for i, n in enumerate(x.shape) if i not in dims)
    return x if shape == x.shape else reshape(x, shape=shape)


def _sizes(sizes):
    return tuple(sizes[0]) if len(sizes) == 1 and not isinstance(sizes[0], int) else sizes


def expand(x, *sizes):
    """A broadcast view to ``sizes``; -1 keeps an axis, new axes go in front (PyTorch's
    ``expand``). Its gradient sums over the broadcast axes."""
    sizes = _sizes(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes {sizes} for a tensor of shape {x.shape}")
    shape = tuple(x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
    if builtins.any(n < 0 for n in shape) or builtins.any(
            a != 1 and a != b for a, b in zip(x.shape, shape[lead:])):
        raise ValueError(f"expand: cannot expand shape {x.shape} to {sizes}")
    return broadcast_to(x, shape=shape)


def repeat(x, *repeats):
    """Tile ``x``: axis i repeated ``repeats[i]`` times (PyTorch's ``repeat``, NumPy's
    ``tile``), built from reshape and broadcast so that it differentiates."""
    repeats = _sizes(repeats)
    if len(repeats) < x.ndim:
        raise ValueError(f"repeat: {len(repeats)} repeats {repeats} for a tensor of shape "
                         f"{x.shape}; give at least {x.ndim}")
    shape = (1,) * (len(repeats) - x.ndim) + x.shape
    spread = tuple(n for size in shape for n in (1, size))
    tiled = tuple(n for r, size in zip(repeats, shape) for n in (r, size))
    out = broadcast_to(reshape(x, shape=spread), shape=tiled)
    return reshape(out, shape=tuple(r * size for r, size in zip(repeats, shape)))


def chunk(x, chunks, dim=0):
    """Split into ``chunks`` pieces of ceil(n / chunks) along ``dim``, the last one smaller
    (PyTorch's ``chunk``; there may be fewer pieces than asked)."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = x.shape[dim]
    size = builtins.max(-(-n // chunks), 1)
    return split(x, list(range(size, n, size)), axis=dim)


_clamp = primitive("clamp")(lambda xp, x, low, high: xp.clip(x, low, high))
defvjp(_clamp, lambda g, out, x, low, high: g * _inside(_array(x), low, high))


def _inside(x, low, high):
    """Where low <= x <= high: the elements whose gradient passes a clamp (as in PyTorch)."""
    xp = backend.get_array_module(x)
    mask = xp.ones(x.shape, dtype=bool)
    if low is not None:
        mask &= x >= low
    if high is not None:
        mask &= x <= high
    return mask


def clamp(x, min=None, max=None):
    """Each element limited to [min, max] (either may be None); the gradient is 1 inside."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return _clamp(x, low=min, high=max)


clone = primitive("clone")(lambda xp, x: x.copy())
defvjp(clone, lambda g, out, x: g)


# -- reductions --------------------------------------------------------------------------
def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted(a % ndim for a in axes))


def _kept(g, x, axis, keepdims):
    """``g`` reshaped to the input's rank, reduced axes kept as size 1."""
    if keepdims:
        return g
    axes = _axes(axis, x.ndim)
    return g.reshape(tuple(1 if i in axes else n for i, n in enumerate(x.shape)))


_sum = primitive("sum")(lambda xp, x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims))
defvjp(_sum, lambda g, out, x, axis, keepdims:
       broadcast_to(_kept(g, x, axis, keepdims), shape=x.shape))
_sum.saves = ()  # the VJP reads no values (in-place check)


def _max_vjp(g, out, x, axis, keepdims):
    """The gradient goes to the maxima (or minima), shared equally among ties."""
    mask = (_array(x) == _array(_kept(out, x, axis, keepdims))).astype(x.dtype)
    return _kept(g, x, axis, keepdims) * (mask / mask.sum(axis=axis, keepdims=True))


_max = primitive("max")(lambda xp, x, axis, keepdims: x.max(axis=axis, keepdims=keepdims))
defvjp(_max, _max_vjp)

_min = primitive("min")(lambda xp, x, axis, keepdims: x.min(axis=axis, keepdims=keepdims))
defvjp(_min, _max_vjp)


def _axis(axis, dim, name):
    """``axis`` (NumPy's name) or ``dim`` (PyTorch's), not both."""
    if dim is None:
        return axis
    if axis is not None:
        raise TypeError(f"{name}: give axis or dim, not both")
    return dim


def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    axis = _axis(axis, dim, "sum")
    return _sum(x, axis=_norm_axis(axis), keepdims=keepdims or keepdim)


class MaxResult(tuple):
    """``(values, indices)``, what PyTorch's ``max(x, dim)`` returns."""
    values = property(lambda self: self[0])
    indices = property(lambda self: self[1])


def _extreme(reduce, arg, name, x, axis, keepdims, dim):
    values = reduce(x, axis=_norm_axis(_axis(axis, dim, name)), keepdims=keepdims)
    if dim is None:
        return values
    with set_grad_enabled(False):
        indices = arg(x, axis=dim, keepdims=keepdims)
    return MaxResult((values, indices))


def max(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """The largest value over ``axis`` (NumPy). With ``dim=`` (PyTorch), the pair
    ``(values, indices)``; the indices carry no gradient."""
    return _extreme(_max, _argmax, "max", x, axis, keepdims or keepdim, dim)


def min(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """The smallest value over ``axis``; with ``dim=``, ``(values, indices)`` (see :func:`max`)."""
    return _extreme(_min, _argmin, "min", x, axis, keepdims or keepdim, dim)


def _arg_forward(find):
    def forward(xp, x, axis, keepdims):
        indices = getattr(xp, find)(x, axis=axis)
        return (xp.expand_dims(indices, axis) if keepdims else indices).astype(np.int64)
    return forward


_argmax = primitive("argmax")(_arg_forward("argmax"))  # an op (no gradient): a replay reads anew
_argmin = primitive("argmin")(_arg_forward("argmin"))


def _arg(op, x, dim, keepdim):
    """int64 indices of the extreme along ``dim``; ``dim=None``: into the flattened tensor."""
    if x.numel() == 0:
        raise ValueError(f"{op.name}: expected a non-empty tensor, got shape {x.shape}")
    if dim is not None:
        dim = _dim_index(dim, x.ndim, op.name)
    with set_grad_enabled(False):
        return op(x, axis=dim, keepdims=bool(keepdim) and dim is not None)


def argmax(x, dim=None, keepdim=False): return _arg(_argmax, x, dim, keepdim)
def argmin(x, dim=None, keepdim=False): return _arg(_argmin, x, dim, keepdim)


def var(x, dim=None, unbiased=True, keepdim=False, *, correction=None, axis=None):
    """sum((x - mean)^2) / (N - correction) over ``dim``; ``correction`` is 1 (Bessel's,
    ``unbiased=True``, PyTorch's default) or 0, or as given."""
    dim = _axis(axis, dim, "var")
    correction = (1 if unbiased else 0) if correction is None else correction
    count = int(np.prod([x.shape[a] for a in _axes(dim, x.ndim)]))
    if count - correction <= 0:
        raise ValueError(f"var: {count} element(s) over dim {dim} of shape {x.shape} with "
                         f"correction {correction} leave no degrees of freedom")
    centred = x - mean(x, dim, keepdims=True)
    return sum(centred * centred, dim, keepdim) / (count - correction)


def std(x, dim=None, unbiased=True, keepdim=False, *, correction=None, axis=None):
    """The square root of :func:`var`."""
    return sqrt(var(x, dim, unbiased, keepdim, correction=correction, axis=axis))


def norm(x, p=2, dim=None, keepdim=False):
    """The vector p-norm over ``dim`` (all elements by default): p = 2 (or "fro"),
    sqrt(sum x^2); p = 1, sum |x|."""
    if p in (2, "fro"):
        return sqrt(sum(x * x, _norm_axis(dim), keepdim))
    if p == 1:
        return sum(abs(x), _norm_axis(dim), keepdim)
    raise ValueError(f"norm: p must be 1, 2 or 'fro', got {p!r} (input shape {x.shape})")


def _logical_reduce(name, x, dim, keepdim):
    axis = None if dim is None else _dim_index(dim, x.ndim, name)
    return constant(getattr(x.xp, name)(x.data.astype(bool), axis=axis, keepdims=keepdim))


def all(x, dim=None, keepdim=False):
    """True where every element over ``dim`` is nonzero (a bool tensor, no gradient)."""
    return _logical_reduce("all", x, dim, keepdim)


def any(x, dim=None, keepdim=False):
    """True where some element over ``dim`` is nonzero (a bool tensor, no gradient)."""
    return _logical_reduce("any", x, dim, keepdim)


def bitwise(x, y, name):
    """``&``, ``|`` (``name``: "bitwise_and", "bitwise_or") of bool or integer tensors, or
    ``~`` (``y`` None, "invert"); no gradient."""
    like = x if isinstance(x, Tensor) else y
    inputs = [as_tensor(t, like) for t in ((x,) if y is None else (x, y))]
    for t in inputs:
        if t.dtype.kind not in "biu":
            raise TypeError(f"{name}: needs bool or integer tensors, got "
                            f"{', '.join(f'{u.shape} {u.dtype}' for u in inputs)}")
    return constant(getattr(like.xp, name)(*[t.data for t in inputs]))


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    axis = _axis(axis, dim, "mean")
    count = int(np.prod([x.shape[a] for a in _axes(axis, x.ndim)]))
    return sum(x, axis, keepdims or keepdim) / count


def _norm_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


# -- indexing ----------------------------------------------------------------------------
def _index_arrays(index):
    """Indices with tensors replaced by their arrays (a tuple stays a tuple)."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_basic(index):
    """True for indices made of integers, slices, None and ``...`` (NumPy's basic indexing)."""
    parts = index if type(index) is tuple else (index,)
    return _BASIC.issuperset(map(type, parts)) or builtins.all(
        isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts)


_BASIC = frozenset((int, slice, type(None), type(Ellipsis)))


def scatter_add(xp, buffer, index, values):
    """``buffer[index] += values`` in place, adding repeated indices up."""
    if _is_basic(index):
        view = buffer[index]
        if type(view) is type(buffer):
            view += values       # into the view: no write back
        else:
            buffer[index] += values     # one element, read out as a scalar
    elif xp is np:
        np.add.at(buffer, index, values)
    else:
        import cupyx
        cupyx.scatter_add(buffer, index, values)
    return buffer


def _unindex(xp, g, index, shape):
    return scatter_add(xp, xp.zeros(shape, dtype=g.dtype), index, g)


unindex = primitive("unindex")(_unindex)
defvjp(unindex, lambda g, out, x, index, shape: _getitem(g, index=index))

_getitem = primitive("getitem")(lambda xp, x, index: x[index])
defvjp(_getitem, lambda g, out, x, index: unindex(g, index=index, shape=x.shape))
_getitem.scatter = scatter_add   # lets backward add slices into one buffer in place
_getitem.saves = ()  # the VJP reads no values (in-place check)


def getitem(x, index):
    """``x[index]`` for integers, slices, ``None``, ``...`` and integer/boolean arrays."""
    return _getitem(x, index=_index_arrays(index))


def masked_fill(x, mask, value):
    """``value`` where the bool ``mask`` (broadcast to ``x``'s shape) holds, else ``x``;
    the gradient passes where the mask is False."""
    mask = mask if isinstance(mask, Tensor) else constant(np.asarray(mask))
    if mask.dtype != bool or not _broadcasts_to(mask.shape, x.shape):
        raise ValueError(f"masked_fill: mask must be a bool tensor broadcastable to the input's "
                         f"shape {x.shape}, got {mask.shape} {mask.dtype}")
    if not isinstance(value, Tensor):
        value = constant(x.xp.asarray(value, dtype=x.dtype))
    return where(mask, value, x)


def _broadcasts_to(shape, target):
    return len(shape) <= len(target) and builtins.all(
        n in (1, m) for n, m in zip(reversed(shape), reversed(target)))


def _gather_index(xp, index, dim):
    """The advanced index that picks ``x[i_0, .., index[i], .., i_n]`` for every position
    ``i`` of ``index``."""
    grid = list(xp.ogrid[tuple(slice(n) for n in index.shape)]) if index.ndim else []
    grid[dim] = index
    return tuple(grid)


_gather = primitive("gather")(lambda xp, x, index: x[index])
defvjp(_gather, lambda g, out, x, index: unindex(g, index=index, shape=x.shape))  # scatter-add
_gather.scatter = scatter_add
_gather.saves = ()  # the VJP reads no values (in-place check)


def gather(x, dim, index):
    """``out[i][j][k] = x[i][index[i][j][k]][k]`` for ``dim=1`` (PyTorch's ``gather``); the
    gradient is added back into the gathered positions (a scatter-add)."""
    data = index.data if isinstance(index, Tensor) else x.xp.asarray(index)
    dim = _dim_index(dim, x.ndim, "gather")
    if data.dtype.kind not in "iu" or data.ndim != x.ndim or builtins.any(
            n > m for d, (n, m) in enumerate(zip(data.shape, x.shape)) if d != dim):
        raise ValueError(f"gather: index must be an integer tensor of the input's rank, no "
                         f"larger outside dim {dim}; got index {data.shape} {data.dtype} for "
                         f"input {x.shape}")
    check_values(_gather_in_range, data, size=x.shape[dim], dim=dim, shape=x.shape)
    return _gather(x, index=_gather_index(x.xp, data, dim))


def _gather_in_range(index, size, dim, shape):
    if index.size and (int(index.min()) < 0 or int(index.max()) >= size):
        raise IndexError(f"gather: index values must lie in [0, {size}) along dim {dim} of "
                         f"input {shape}, got [{int(index.min())}, {int(index.max())}]")


def flatten(x, start_dim=0, end_dim=-1):
    """Axes ``start_dim`` to ``end_dim`` merged into one (PyTorch's ``flatten``)."""
    if x.ndim == 0:
        return reshape(x, shape=(1,))
    start, end = _dim_index(start_dim, x.ndim, "flatten"), _dim_index(end_dim, x.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for "
                         f"shape {x.shape}")
    merged = int(np.prod(x.shape[start:end + 1]))
    return reshape(x, shape=x.shape[:start] + (merged,) + x.shape[end + 1:])


# -- joining and splitting ---------------------------------------------------------------
def _concat_vjp(g, out, *inputs, axis):
    grads, start = [], 0
    lead = (slice(None),) * (axis % g.ndim)
    for t in inputs:
        grads.append(g[lead + (slice(start, start + t.shape[axis]),)])
        start += t.shape[axis]
    return grads


_concat = primitive("concat")(lambda xp, *xs, axis: xp.concatenate(xs, axis=axis))
defvjp_all(_concat, _concat_vjp)


def concat(tensors, axis=0, *, dim=None):
    """Join tensors along an existing axis (``numpy.concatenate``, PyTorch's ``cat``)."""
    axis = axis if dim is None else dim
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concat: needs at least one tensor")
    return _call(_concat, *tensors, axis=axis)


def _stack_vjp(g, out, *inputs, axis):
    lead = (slice(None),) * axis
    return [g[lead + (i,)] for i in range(len(inputs))]


_stack = primitive("stack")(lambda xp, *xs, axis: xp.stack(xs, axis=axis))
defvjp_all(_stack, _stack_vjp)


def stack(tensors, axis=0, *, dim=None):
    """Join tensors along a new axis (``numpy.stack``)."""
    axis = axis if dim is None else dim
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    shape = tensors[0].shape
    axis = axis % (len(shape) + 1)
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape}, tensor 0 has {shape}")
    return _call(_stack, *tensors, axis=axis)


def split(x, sections, axis=0, *, dim=None):
    """Split along ``axis`` into ``sections`` equal parts, or at the given indices (NumPy's
    ``split``). With ``dim=``, PyTorch's meaning: pieces of ``sections`` elements (the last
    smaller), or of the given sizes."""
    if dim is not None:
        n = x.shape[dim]
        sizes = [sections] * -(-n // sections) if isinstance(sections, int) else list(sections)
        if not isinstance(sections, int) and builtins.sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n}, the length of dim "
                             f"{dim} of shape {x.shape}")
        bounds = np.cumsum(sizes)[:-1].tolist()
        return split(x, [b for b in bounds if b < n], axis=dim)
    n = x.shape[axis]
    if isinstance(sections, int):
        if sections <= 0 or n % sections:
            raise ValueError(f"split: axis {axis} of shape {x.shape} does not divide into "
                             f"{sections} equal parts")
        bounds = list(range(0, n + 1, n // sections))
    else:
        bounds = [0] + list(sections) + [n]
    lead = (slice(None),) * (axis % x.ndim)
    return [_getitem(x, index=lead + (slice(a, b),)) for a, b in zip(bounds[:-1], bounds[1:])]


cat = concat


def unstack(x, axis=0, *, dim=None):
    """The slices of ``x`` along ``axis`` (the inverse of :func:`stack`; PyTorch's ``unbind``)."""
    axis = axis if dim is None else dim
    lead = (slice(None),) * (axis % x.ndim)
    return [x[lead + (i,)] for i in range(x.shape[axis])]

