"""Every primitive op: its forward, then its vector-Jacobian product (VJP).

Read each pair against a table of derivatives. ``defvjp(op, vjp_0, vjp_1, ...)`` gives one
function per input: ``vjp_i(g, out, *inputs, **kwargs)`` is the gradient for input ``i``
given the gradient ``g`` of the output ``out``. VJPs use only operators, methods that
Tensors and arrays share, and ops, so the same line runs on Tensors (``create_graph=True``:
the backward pass is recorded and can be differentiated again) and on bare arrays (a plain
backward, with no Tensor made). Gradients of broadcast inputs are summed back to the
input's shape by the engine (:func:`unbroadcast`), so VJPs may return the broadcast shape.
"""
import numpy as np

from . import backend
from .tensor import Op, Tensor, apply, as_tensor


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

_sub = primitive("sub")(lambda xp, x, y: x - y)
defvjp(_sub, lambda g, out, x, y: g,
             lambda g, out, x, y: -g)

_mul = primitive("mul")(lambda xp, x, y: x * y)
defvjp(_mul, lambda g, out, x, y: g * y,
             lambda g, out, x, y: g * x)

_div = primitive("div")(lambda xp, x, y: x / y)
defvjp(_div, lambda g, out, x, y: g / y,
             lambda g, out, x, y: -g * out / y)

neg = primitive("neg")(lambda xp, x: -x)
defvjp(neg, lambda g, out, x: -g)

_pow = primitive("pow")(lambda xp, x, exponent: x ** exponent)


def _pow_vjp(g, out, x, exponent):
    """d/dx x^p = p x^(p-1), which is 0 for p = 0 (also at x = 0, where x^-1 is not finite)."""
    if np.ndim(exponent) == 0 and exponent == 0:
        return g * 0.0
    return g * exponent * x ** (exponent - 1)


defvjp(_pow, _pow_vjp)


def _binary(op, x, y):
    """``op(x, y)`` where one of the two may be a number or an array."""
    if not isinstance(x, Tensor):
        x = as_tensor(x, y)
    elif not isinstance(y, Tensor):
        y = as_tensor(y, x)
    return apply(op, (x, y), {})


def add(x, y): return _binary(_add, x, y)
def sub(x, y): return _binary(_sub, x, y)
def mul(x, y): return _binary(_mul, x, y)
def div(x, y): return _binary(_div, x, y)


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


def _linear_forward(xp, x, weight, bias=None):
    out = x @ weight.T
    if bias is None:
        return out
    if bias.dtype == out.dtype and bias.shape == out.shape[out.ndim - bias.ndim:]:
        out += bias                     # the common case: no second array
        return out
    return out + bias


_linear = primitive("linear")(_linear_forward)
defvjp(_linear, lambda g, out, x, weight, bias=None: g @ weight,
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

_transpose = primitive("transpose")(lambda xp, x, axes: x.transpose(axes))
defvjp(_transpose, lambda g, out, x, axes: _transpose(g, axes=tuple(np.argsort(axes))))


def transpose(x, *axes):
    axes = axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes
    axes = tuple(a % x.ndim for a in axes) if axes else tuple(reversed(range(x.ndim)))
    return _transpose(x, axes=axes)


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


def _max_vjp(g, out, x, axis, keepdims):
    """The gradient goes to the maxima, shared equally among ties."""
    mask = (_array(x) == _array(_kept(out, x, axis, keepdims))).astype(x.dtype)
    return _kept(g, x, axis, keepdims) * (mask / mask.sum(axis=axis, keepdims=True))


_max = primitive("max")(lambda xp, x, axis, keepdims: x.max(axis=axis, keepdims=keepdims))
defvjp(_max, _max_vjp)


def sum(x, axis=None, keepdims=False):
    return _sum(x, axis=_norm_axis(axis), keepdims=keepdims)


def max(x, axis=None, keepdims=False):
    return _max(x, axis=_norm_axis(axis), keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    count = int(np.prod([x.shape[a] for a in _axes(axis, x.ndim)]))
    return sum(x, axis, keepdims) / count


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
    return _BASIC.issuperset(map(type, parts)) or all(
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


def getitem(x, index):
    """``x[index]`` for integers, slices, ``None``, ``...`` and integer/boolean arrays."""
    return _getitem(x, index=_index_arrays(index))


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


def concat(tensors, axis=0):
    """Join tensors along an existing axis (``numpy.concatenate``)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concat: needs at least one tensor")
    return _call(_concat, *tensors, axis=axis)


def _stack_vjp(g, out, *inputs, axis):
    lead = (slice(None),) * axis
    return [g[lead + (i,)] for i in range(len(inputs))]


_stack = primitive("stack")(lambda xp, *xs, axis: xp.stack(xs, axis=axis))
defvjp_all(_stack, _stack_vjp)


def stack(tensors, axis=0):
    """Join tensors along a new axis (``numpy.stack``)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    shape = tensors[0].shape
    axis = axis % (len(shape) + 1)
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape}, tensor 0 has {shape}")
    return _call(_stack, *tensors, axis=axis)


def split(x, sections, axis=0):
    """Split along ``axis`` into ``sections`` equal parts, or at the given indices."""
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


def unstack(x, axis=0):
    """The slices of ``x`` along ``axis`` (the inverse of :func:`stack`)."""
    lead = (slice(None),) * (axis % x.ndim)
    return [x[lead + (i,)] for i in range(x.shape[axis])]

