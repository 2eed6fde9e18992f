"""Capture a step once, replay it as a flat plan over arrays: ``mg.compile(fn)``.

The first call with a given signature runs ``fn`` eagerly while a recorder watches: every
op's forward (:func:`minigrad.tensor.apply`) and every VJP, gradient sum and delivery to
``.grad`` of the backward passes ``fn`` starts become one step of a flat list, a *plan*,
over numbered arrays. Later calls with the same signature run that list: no Tensor or Node
per op, no graph walk, no sort. The backward steps are those :func:`minigrad.autograd.
run_backward` would take, in the same order, so a replay gives the eager results bit for
bit; parameters' ``.grad`` accumulate exactly as in eager mode.

Memory is reused inside the plan: the hot ops (elementwise ops, sigmoid, linear and their
VJPs, gradient sums) write into buffers allocated once, at capture, and shared between
results whose lives do not overlap; views of those buffers are taken once; a gate's
gradient is computed straight into its columns of the pre-activation's gradient; the
terms of a weight's gradient are laid side by side for one matmul. Only what leaves the
plan (returned values, ``.grad``) is a fresh array at every call, so a replay needs no
allocator tuning (``backend.keep_freed_memory``).

The same idea as ``jax.jit`` and tinygrad's ``TinyJit``, with the same assumption: **the
Python control flow of ``fn`` must not depend on the values of arrays**, only on their
shapes, and everything ``fn`` computes from tensors must go through ops. What runs outside
ops (``.item()``, ``.data`` arithmetic, ``optimizer.zero_grad()``, printing) happens once,
at capture, and never again, so a change in place of a tensor inside ``fn`` (an optimizer
step) is refused at capture. A replay reads parameters as they are when it starts and
nothing else runs until it ends, so no in-place change can fall between its forward and
its backward (the capture runs eager backward's version check). Tests of values made
through :func:`minigrad.tensor.check_values` (targets and indices in range) are steps of
the plan and raise at replay as they do eagerly. Index arrays taken from array arguments
(as they are, sliced or reshaped: views) are read anew at every call; array arguments
that are not C-contiguous are handed to ``fn`` as contiguous copies so that such slices
and reshapes stay views. An
integer array holding an argument's values but copied outside ops is refused at capture.
Use ``check=True`` to replay and run eagerly side by side and raise
:class:`CompileMismatch` at the first difference.
"""
import functools

import numpy as np

from . import backend
from .autograd import CHUNK_BYTES, _as_tensor, _check_unchanged, _walk
from .ops import _HALF, unbroadcast
from .tensor import Tensor, current_scope, state

__all__ = ["compile", "CompiledFunction", "CompileError", "CompileMismatch", "is_compiling"]


class CompileError(RuntimeError):
    """``fn`` did something a plan cannot replay (higher-order gradients, an op made
    outside :func:`minigrad.tensor.apply`, parameters changed inside the step)."""


class CompileMismatch(AssertionError):
    """``check=True``: the replayed plan and the eager run disagree."""


def is_compiling():
    """True while :func:`compile` captures a call (PyTorch's ``torch.compiler.is_compiling``):
    code whose choices depend on values, or on Python's random numbers, checks it and
    raises :class:`CompileError`, since a replay would repeat the choices of the capture."""
    return state.recorder is not None


# -- signatures --------------------------------------------------------------------------
def _flatten(value, tensors):
    """The hashable signature of an argument; Tensors (and arrays) are collected in order."""
    if isinstance(value, Tensor):
        tensors.append(value)
        data = value.data
        return ("T", data.shape, data.dtype.str, type(data), value.requires_grad,
                getattr(data, "strides", None))
    if isinstance(value, (np.ndarray,)) or backend.backend_of(value) == "cupy" and \
            hasattr(value, "shape"):
        tensors.append(value)
        return ("A", value.shape, value.dtype.str, type(value), value.flags.c_contiguous)
    if isinstance(value, (tuple, list)):
        return (type(value), tuple(_flatten(v, tensors) for v in value))
    if isinstance(value, dict):
        return (dict, tuple((k, _flatten(v, tensors)) for k, v in sorted(value.items())))
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return ("V", type(value), value)
    return ("O", id(value))


def _is_array(value):
    return isinstance(value, np.ndarray) or backend.backend_of(value) == "cupy" and \
        hasattr(value, "shape")


def _contiguous(value):
    """``value`` with its arrays (not tensors) made C-contiguous, so that what ``fn``
    derives from them by slicing along the first axis or reshaping is a view the recorder
    finds in memory (:meth:`_Recorder.locate`), not a copy it would freeze at capture."""
    if _is_array(value):
        return value if value.flags.c_contiguous else backend.get_array_module(value) \
            .ascontiguousarray(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_contiguous(v) for v in value)
    if isinstance(value, dict):
        return {k: _contiguous(v) for k, v in value.items()}
    return value


def _leaf_tensors(value, out):
    if isinstance(value, Tensor):
        out.append(value)
    elif isinstance(value, (tuple, list)):
        for v in value:
            _leaf_tensors(v, out)
    elif isinstance(value, dict):
        for k in sorted(value):
            _leaf_tensors(value[k], out)
    return out


# -- the plan ----------------------------------------------------------------------------
class _Slot:
    """A placeholder for an array of the plan inside an op's keyword arguments."""
    __slots__ = ("index", "shape")

    def __init__(self, index, shape=None):
        self.index, self.shape = index, shape

    def resolve(self, regs):
        array = regs[self.index]
        return array if self.shape is None else array.reshape(self.shape)


class _View(_Slot):
    """A view into the array of an argument, at a fixed byte offset."""
    __slots__ = ("strides", "offset")

    def __init__(self, index, shape, strides, offset):
        super().__init__(index, shape)
        self.strides, self.offset = strides, offset

    def resolve(self, regs):
        source = regs[self.index]
        return np.ndarray(self.shape, source.dtype, buffer=source, offset=self.offset,
                          strides=self.strides)


def _byte_bounds(array):
    bounds = getattr(np, "byte_bounds", None)
    if bounds is None:
        from numpy.lib.array_utils import byte_bounds as bounds
    return bounds(array)


def _fill(template, regs):
    if isinstance(template, _Slot):
        return template.resolve(regs)
    if type(template) is tuple:
        return tuple(_fill(t, regs) for t in template)
    return template


def _has_slot(template):
    if isinstance(template, _Slot):
        return True
    return type(template) is tuple and any(_has_slot(t) for t in template)


class Plan:
    """A captured step: the arrays it starts from and the steps that compute the rest."""

    def __init__(self):
        self.size = 0               # number of array registers
        self.constants = {}         # register -> a fixed array (seeds, numbers)
        self.arguments = []         # (register, position among the flattened arguments)
        self.live = []              # (register, Tensor): read .data at every call
        self.guards = []            # (Tensor, shape, dtype, type, requires_grad)
        self.steps = []             # closures over the registers list
        self.outputs = None         # how to rebuild fn's return value
        self.leaves = []            # every leaf Tensor the plan touches (check mode)
        self.argument_tensors = [None]  # the flattened arguments of the call being replayed
        self.checked = False

    def matches(self):
        for t, shape, dtype, kind, requires_grad in self.guards:
            data = t.data
            if data.shape != shape or data.dtype != dtype or type(data) is not kind \
                    or t.requires_grad != requires_grad:
                return False
        return True

    def run(self, arrays):
        regs = self.initial[:]
        for index, position in self.arguments:
            regs[index] = arrays[position]
        for index, t in self.live:
            regs[index] = t.data
        for step in self.steps:
            step(regs)
        return regs


def _make_step(fn, ins, out, kwargs_template=None):
    """One step: ``regs[out] = fn(*regs[ins])``; ``out`` a register, a tuple of registers
    (None where a result is not kept) or None (a step run for its effect)."""
    if kwargs_template is not None:
        def step(regs):
            kwargs = {k: _fill(v, regs) for k, v in kwargs_template.items()}
            _store(regs, out, fn(*[regs[i] for i in ins], **kwargs))
        return step
    n = len(ins)
    if isinstance(out, int):
        if n == 0:
            def step(regs):
                regs[out] = fn()
        elif n == 1:
            a, = ins

            def step(regs):
                regs[out] = fn(regs[a])
        elif n == 2:
            a, b = ins

            def step(regs):
                regs[out] = fn(regs[a], regs[b])
        elif n == 3:
            a, b, c = ins

            def step(regs):
                regs[out] = fn(regs[a], regs[b], regs[c])
        else:
            def step(regs):
                regs[out] = fn(*[regs[i] for i in ins])
        return step

    def step(regs):
        _store(regs, out, fn(*[regs[i] for i in ins]))
    return step


def _view_step(view, out):
    def step(regs):
        regs[out] = view.resolve(regs)
    return step


def _store(regs, out, result):
    if out is None:
        return
    if isinstance(out, int):
        regs[out] = result
        return
    for index, value in zip(out, result):
        if index is not None:
            regs[index] = value


def _as_array(fn):
    """A forward whose result NumPy may hand back as a scalar: made a 0-d array, as
    :func:`minigrad.tensor.apply` does."""
    def wrapped(*arrays, **kwargs):
        data = fn(*arrays, **kwargs)
        return np.asarray(data) if isinstance(data, np.generic) else data
    return wrapped


# -- steps that write into buffers the plan owns -------------------------------------------
class _Desc:
    """A step before it becomes a closure: ``out = fn(*ins)``, or a ready ``closure``;
    ``kernel(buffer, ins, out)`` makes the same step writing into a buffer of the plan."""
    __slots__ = ("fn", "ins", "out", "template", "kernel", "closure", "reads", "index",
                 "stack", "view", "skip")

    def __init__(self, fn=None, ins=(), out=None, template=None, kernel=None, closure=None,
                 reads=None):
        self.fn, self.ins, self.out, self.template = fn, list(ins), out, template
        self.kernel, self.closure, self.index, self.stack = kernel, closure, None, 0
        self.view = False       # the step only takes views of its inputs
        self.skip = False       # made unnecessary by where its inputs were placed
        self.reads = list(ins) + _slots_in(template) if reads is None else list(reads)


def _slots_in(template):
    if template is None:
        return []
    found = []

    def walk(value):
        if isinstance(value, _Slot):
            found.append(value.index)
        elif type(value) is tuple:
            for v in value:
                walk(v)
    for v in template.values():
        walk(v)
    return found


def _plain(arrays, result):
    """A kernel fits: NumPy arrays (not scalars) of the result's dtype throughout."""
    if type(result) is not np.ndarray or result.ndim == 0:
        return False
    return all(type(a) is np.ndarray and a.dtype == result.dtype for a in arrays)


def _ufunc(ufunc, *positions):
    def make(buffer, ins, out):
        if len(positions) == 1:
            a = ins[positions[0]]

            def step(regs):
                regs[out] = ufunc(regs[a], buffer)
        else:
            a, b = ins[positions[0]], ins[positions[1]]

            def step(regs):
                regs[out] = ufunc(regs[a], regs[b], buffer)
        return step
    return make


def _operands(*positions):
    return lambda arrays, result: _plain([arrays[i] for i in positions], result)


def _sigmoid_kernel(buffer, ins, out):
    """ops._sigmoid into ``buffer``: tanh(x/2)/2 + 1/2, the same operations in order."""
    x = ins[0]
    half = _HALF[buffer.dtype]
    multiply, tanh, add = np.multiply, np.tanh, np.add

    def step(regs):
        multiply(regs[x], half, buffer)
        tanh(buffer, buffer)
        multiply(buffer, half, buffer)
        regs[out] = add(buffer, half, buffer)
    return step


def _rows_of(buffer):
    """``buffer`` as rows (-1, last axis) to write a matrix product into, and what to run
    after writing: None when the rows are a view of ``buffer``; a copy back when
    ``buffer`` is a view that reshaping copies (reversed, or a slice of a 3-d block)."""
    rows = buffer.reshape(-1, buffer.shape[-1])
    if np.may_share_memory(rows, buffer):
        return rows, None
    rows = np.empty_like(rows)
    return rows, lambda: np.copyto(buffer, rows.reshape(buffer.shape))


def _linear_kernel(buffer, ins, out, transposed=None):
    """ops._linear_forward into ``buffer``: x W^T over all rows at once, then += b;
    ``transposed``, when given, holds W^T (see :func:`_transpose_step`)."""
    matmul, add = np.matmul, np.add
    rows, written = _rows_of(buffer)
    flat = buffer.ndim > 2
    x, w = ins[0], ins[1]
    b = ins[2] if len(ins) == 3 else None

    def step(regs):
        a = regs[x]
        matmul(a.reshape(-1, a.shape[-1]) if flat else a,
               regs[w].T if transposed is None else transposed, rows)
        if written is not None:
            written()
        if b is not None:
            add(buffer, regs[b], buffer)
        regs[out] = buffer
    return step


def _linear_fits(arrays, result):
    if not _plain(arrays, result) or arrays[0].ndim < 2 or arrays[1].ndim != 2:
        return False
    if len(arrays) == 3:
        bias = arrays[2]
        return bias.shape == result.shape[result.ndim - bias.ndim:]
    return True


def _tanh_vjp_kernel(buffer, ins, out):
    """g - g * out * out, as ops' tanh VJP computes it."""
    g, y = ins[0], ins[1]
    multiply, subtract = np.multiply, np.subtract

    def step(regs):
        multiply(regs[g], regs[y], buffer)
        multiply(buffer, regs[y], buffer)
        regs[out] = subtract(regs[g], buffer, buffer)
    return step


def _sigmoid_vjp_kernel(buffer, ins, out):
    """g * (out - out * out), as ops' sigmoid VJP computes it."""
    g, y = ins[0], ins[1]
    multiply, subtract = np.multiply, np.subtract

    def step(regs):
        value = regs[y]
        multiply(value, value, buffer)
        subtract(value, buffer, buffer)
        regs[out] = multiply(regs[g], buffer, buffer)
    return step


def _matmul_kernel(first, second):
    """``a @ b`` over all rows of ``a`` at once (ops._rows_matmul) into ``buffer``."""
    def make(buffer, ins, out):
        a, b = ins[first], ins[second]
        matmul = np.matmul
        rows, written = _rows_of(buffer)

        def step(regs):
            x = regs[a]
            matmul(x.reshape(-1, x.shape[-1]), regs[b], rows)
            if written is not None:
                written()
            regs[out] = buffer
        return step
    return make


def _zeros_kernel(buffer, ins, out):
    def step(regs):
        buffer.fill(0)
        regs[out] = buffer
    return step


def _copy_kernel(buffer, ins, out):
    a = ins[0]
    copyto = np.copyto

    def step(regs):
        copyto(buffer, regs[a])
        regs[out] = buffer
    return step


def _always(arrays, result):
    return type(result) is np.ndarray and result.ndim > 0


_FORWARD_KERNELS = {
    "add": (_ufunc(np.add, 0, 1), _operands(0, 1)),
    "sub": (_ufunc(np.subtract, 0, 1), _operands(0, 1)),
    "mul": (_ufunc(np.multiply, 0, 1), _operands(0, 1)),
    "neg": (_ufunc(np.negative, 0), _operands(0)),
    "tanh": (_ufunc(np.tanh, 0), _operands(0)),
    "exp": (_ufunc(np.exp, 0), _operands(0)),
    "sigmoid": (_sigmoid_kernel, lambda arrays, result: _plain(arrays, result)
                and result.dtype in _HALF),
    "linear": (_linear_kernel, _linear_fits),
}


def _vjp_kernels():
    """Kernels for the VJPs of ops.py that a recurrent step runs most (inputs: g, out,
    then the op's inputs)."""
    from . import ops
    return {
        ops._mul.vjps[0]: (_ufunc(np.multiply, 0, 3), _operands(0, 3)),
        ops._mul.vjps[1]: (_ufunc(np.multiply, 0, 2), _operands(0, 2)),
        ops._sub.vjps[1]: (_ufunc(np.negative, 0), _operands(0)),
        ops.tanh.vjps[0]: (_tanh_vjp_kernel, _operands(0, 1)),
        ops.sigmoid.vjps[0]: (_sigmoid_vjp_kernel, _operands(0, 1)),
        ops._linear.vjps[0]: (_matmul_kernel(0, 3), lambda arrays, result:
                              _plain([arrays[0], arrays[3]], result) and arrays[0].ndim >= 2
                              and arrays[3].ndim == 2),
    }


def _buffers(rec, registers):
    """Give every kernel's result a buffer of the plan, shared between results whose lives
    do not overlap (a result lives until the last step that reads it or a view of it).
    Results handed out of the plan (outputs, gradients) stay fresh arrays."""
    ops, values = rec.ops, rec.values
    roots = {}                       # register -> buffered registers whose memory it may view
    owners = set()
    for k, desc in enumerate(ops):
        desc.index = k
        out = desc.out
        if desc.kernel is not None and isinstance(out, int) and desc.closure is None:
            roots[out] = (out,)
            owners.add(out)
            continue
        for o in (out if isinstance(out, tuple) else (out,)):
            if o is None or not isinstance(values[o], np.ndarray):
                continue
            shared = []
            for i in desc.reads:
                for r in roots.get(i, ()):
                    if r not in shared and isinstance(values[i], np.ndarray) and \
                            np.may_share_memory(values[o], values[i]):
                        shared.append(r)
            if shared:
                roots[o] = tuple(shared)
    escaping = set()
    for r in list(registers) + rec.escaping:
        escaping.update(roots.get(r, ()))
    last = {}
    for k, desc in enumerate(ops):
        if desc.out in owners:
            last[desc.out] = k
        for i in desc.reads:
            for r in roots.get(i, ()):
                last[r] = k
    ends = {}
    for r, k in last.items():
        ends.setdefault(k, []).append(r)
    placed = {}
    for desc in ops:
        if desc.stack:
            parts = desc.ins[:desc.stack]
            shapes = {(values[i].shape, values[i].dtype) for i in parts}
            if len(set(parts)) == len(parts) and len(shapes) == 1 and all(
                    i in owners and i not in escaping and i not in placed for i in parts):
                (shape, dtype), = shapes
                block = np.empty((len(parts),) + shape, dtype)
                for n, i in enumerate(parts):
                    placed[i] = block[n]
                desc.stack = (desc.stack, block)
    early, inside = _scattered_in_place(ops, values, owners, escaping, placed)
    pool, buffers = {}, {}

    def allocate(register):
        if register in placed:
            return placed[register]
        value = values[register]
        free = pool.get((value.shape, value.dtype))
        return free.pop() if free else np.empty(value.shape, value.dtype)

    for k, desc in enumerate(ops):
        out = desc.out
        for target, parts in early.get(k, ()):
            buffers[target] = allocate(target)
            for register, index in parts:
                buffers[register] = buffers[target][index]
        if out in buffers:
            pass
        elif out in placed:
            buffers[out] = placed[out]
        elif out in owners and out not in escaping:
            value = values[out]
            key = (value.shape, value.dtype)
            free = pool.get(key)
            buffers[out] = free.pop() if free else np.empty(value.shape, value.dtype)
        for r in ends.get(k, ()):
            if r in buffers and r not in inside:
                value = buffers[r]
                pool.setdefault((value.shape, value.dtype), []).append(value)
    return buffers


_VIEW_OPS = frozenset(("getitem", "reshape", "transpose", "stack", "concat"))


def _scattered_in_place(ops, values, owners, escaping, placed):
    """Gradients that backward adds into slices of a zeroed buffer (a gate's columns of the
    pre-activation's gradient) when those slices cover it exactly once and nothing else
    reads them: computed straight into their slice, with no zeroing and no addition.
    Returns {step: [(buffer register, [(register, index)])]} (the buffer is allocated at
    the step that makes the first slice) and the registers that live inside another's
    buffer."""
    from .ops import _is_basic
    readers, defined, zeroed, scatters, written = {}, {}, {}, {}, set()
    for k, desc in enumerate(ops):
        for i in desc.reads:
            readers[i] = readers.get(i, 0) + 1
        if isinstance(desc.out, int):
            defined[desc.out] = k
            if desc.kernel is _zeros_kernel:
                zeroed[desc.out] = desc
        elif desc.out is None and desc.ins:
            index = getattr(desc.kernel, "index", None)
            if index is not None and desc.template is None:
                scatters.setdefault(desc.ins[0], []).append((desc, index))
            else:
                written.add(desc.ins[0])
    early, inside = {}, set()
    for target, found in scatters.items():
        if target in written or target not in zeroed or target not in owners or \
                target in escaping:
            continue
        covered = np.zeros(values[target].shape, bool)
        parts = []
        for desc, index in found:
            g = desc.ins[1]
            if not (_is_basic(index) and g in owners and g not in escaping and
                    g not in placed and readers.get(g) == 1 and
                    type(values[g]) is np.ndarray and
                    values[g].dtype == values[target].dtype and
                    covered[index].shape == values[g].shape and not covered[index].any()):
                break
            covered[index] = True
            parts.append((g, index, desc))
        else:
            if covered.all():
                first = min(defined[g] for g, _, _ in parts)
                early.setdefault(first, []).append((target, [(g, i) for g, i, _ in parts]))
                inside.update(g for g, _, _ in parts)
                zeroed[target].skip = True
                for _, _, desc in parts:
                    desc.skip = True
    return early, inside


def _build(rec, registers):
    """The closures of the plan, kernels writing into the buffers of :func:`_buffers`;
    views of those buffers (a time step's slice, a gate's columns) are taken once, here.
    Returns the steps and the registers whose array is fixed."""
    buffers = _buffers(rec, registers)
    fixed = dict(buffers)
    steps, transposed = [], {}
    made = {o for desc in rec.ops for o in (desc.out if isinstance(desc.out, tuple)
                                            else (desc.out,)) if o is not None}
    for desc in rec.ops:
        if desc.skip:
            continue
        if desc.view and all(i in fixed for i in desc.ins):
            result = desc.fn(*[fixed[i] for i in desc.ins])
            if isinstance(desc.out, int):
                fixed[desc.out] = result
            else:
                for index, value in zip(desc.out, result):
                    if index is not None:
                        fixed[index] = value
            continue
        if desc.closure is not None:
            steps.append(desc.closure)
        elif desc.stack:
            steps.append(_stacked_step(desc, rec.values))
        elif desc.kernel is not None and desc.out is None:      # a scatter into a buffer
            target = desc.ins[0]
            steps.append(desc.kernel(buffers.get(target), desc.ins, desc.fn, desc.template)
                         if target in buffers else
                         _make_step(desc.fn, desc.ins, None, desc.template))
        elif desc.kernel is _linear_kernel and desc.out in buffers and \
                desc.ins[1] not in made and _same_bits_transposed(rec.values, desc.ins):
            weight = desc.ins[1]
            if weight not in transposed:
                value = rec.values[weight]
                transposed[weight] = np.empty(value.shape[::-1], value.dtype)
                steps.insert(0, _transpose_step(weight, transposed[weight]))
            steps.append(_linear_kernel(buffers[desc.out], desc.ins, desc.out,
                                        transposed[weight]))
        elif desc.kernel is not None and desc.out in buffers:
            steps.append(desc.kernel(buffers[desc.out], desc.ins, desc.out))
        else:
            steps.append(_make_step(desc.fn, desc.ins, desc.out, desc.template))
    return steps, fixed


def _same_bits_transposed(values, ins):
    """x W^T gives the same bits with W^T copied to C order (checked on the captured values:
    BLAS may take another path, a matrix-vector product for one row, that sums otherwise)."""
    x, w = values[ins[0]], values[ins[1]]
    if type(w) is not np.ndarray or type(x) is not np.ndarray or w.ndim != 2:
        return False
    rows = x.reshape(-1, x.shape[-1])
    return np.array_equal(rows @ w.T, rows @ np.ascontiguousarray(w.T))


def _transpose_step(weight, buffer):
    """W^T copied once per call into a C-ordered buffer: BLAS multiplies by it faster than
    by the transposed view (the same products, summed in the same order)."""
    copyto = np.copyto

    def step(regs):
        copyto(buffer, regs[weight].T)
    return step


def _stacked_step(desc, values):
    """:func:`_stacked_product` with the rows of the ``a`` terms already side by side in one
    block (when :func:`_buffers` placed them so) and the ``b`` rows copied into a buffer
    kept from call to call."""
    count, block = desc.stack if isinstance(desc.stack, tuple) else (desc.stack, None)
    a_ins, b_ins, out = desc.ins[:count], desc.ins[count:], desc.out
    if any(type(values[i]) is not np.ndarray for i in desc.ins):
        return _make_step(desc.fn, desc.ins, out, desc.template)
    width = values[b_ins[0]].shape[-1]
    rows = sum(values[i].size // width for i in b_ins)
    b_rows = np.empty((rows, width), values[b_ins[0]].dtype) if count > 1 else None
    a_block = None if block is None else block.reshape(-1, block.shape[-1])
    concatenate = np.concatenate

    def gather(regs):
        if count == 1:
            a, b = regs[a_ins[0]], regs[b_ins[0]]
            return a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
        if a_block is not None:
            a = a_block
        else:
            a = concatenate([regs[i].reshape(-1, regs[i].shape[-1]) for i in a_ins])
        concatenate([regs[i].reshape(-1, width) for i in b_ins], out=b_rows)
        return a, b_rows

    def plain(regs):
        a, b = gather(regs)
        regs[out] = a.T @ b

    return plain


def _scatter_kernel(index):
    """``buffer[index] += g`` with the view of the buffer taken once, when ``index`` is
    basic (slices and integers)."""
    def make(buffer, ins, fn, template):
        from .ops import _is_basic
        view = buffer[index] if template is None and _is_basic(index) else None
        if type(view) is not np.ndarray:
            return _make_step(fn, ins, None, template)
        g = ins[1]
        add = np.add

        def step(regs):
            add(view, regs[g], view)
        return step
    make.index = index
    return make


# -- recording -----------------------------------------------------------------------------
class _Recorder:
    """Watches one eager call of ``fn`` and writes its plan."""

    def __init__(self, arguments):
        self.plan = Plan()
        self.values = []            # register -> the array it held at capture
        self.tensor_slot = {}       # id(Tensor) -> register
        self.array_slot = {}        # id(array) -> register (arguments, results)
        self.keep = []              # everything whose id is a key above stays alive
        self.leaf_of_slot = {}      # register -> leaf Tensor (for delivering gradients)
        self.ops = []               # the steps, described (turned into closures at the end)
        self.escaping = []          # registers handed out of the plan (outputs, .grad)
        for position, a in enumerate(arguments):
            array = a.data if isinstance(a, Tensor) else a
            index = self._new(array)
            self.plan.arguments.append((index, position))
            self.array_slot[id(array)] = index
            if isinstance(a, Tensor):
                self.tensor_slot[id(a)] = index
                self.leaf_of_slot[index] = ("argument", position)
            self.keep.append(a)

    def _new(self, array):
        self.values.append(array)
        self.plan.size += 1
        return self.plan.size - 1

    # -- registers of tensors and arrays ---------------------------------------------
    def slot_of(self, t):
        """The register of tensor ``t``; a tensor not made by a recorded op is a leaf read
        live at every call (a Parameter, or a constant made inside ``fn``)."""
        index = self.tensor_slot.get(id(t))
        if index is not None:
            return index
        if t.node is not None:
            raise CompileError(
                f"compile: tensor of shape {t.shape} was made by op '{t.op}' at scope "
                f"'{t.scope}' outside minigrad.tensor.apply (e.g. mg.checkpoint); such ops "
                f"cannot be replayed: call this function eagerly")
        found = self.locate(t.data)
        if found is not None:           # a tensor made around an argument's array
            if type(found) is _Slot:
                index = found.index
            else:
                index = self._new(t.data)
                self.ops.append(_Desc(closure=_view_step(found, index), reads=[found.index],
                                      out=index))
            self.tensor_slot[id(t)] = index
            self.keep.append(t)
            return index
        self._refuse_copy(t.data, f"a tensor of shape {t.shape} that is no op's result")
        index = self._new(t.data)
        self.tensor_slot[id(t)] = index
        self.keep.append(t)
        self.plan.live.append((index, t))
        data = t.data
        self.plan.guards.append((t, data.shape, data.dtype, type(data), t.requires_grad))
        self.plan.leaves.append(t)
        self.leaf_of_slot[index] = ("live", t)
        return index

    def constant(self, array):
        index = self._new(array)
        self.plan.constants[index] = array
        return index

    def locate(self, array):
        """How to find ``array`` at replay: the register that holds it, or a view into an
        argument (a slice or reshape made outside ops, as ``inputs[start:stop]`` or
        ``targets.data.reshape(-1)``); None for an array the plan does not know."""
        index = self.array_slot.get(id(array))
        if index is not None:
            return _Slot(index)
        if getattr(array, "base", None) is None or not isinstance(array, np.ndarray):
            return None
        low, high = _byte_bounds(array)
        for index, _ in self.plan.arguments:
            source = self.values[index]
            if not isinstance(source, np.ndarray) or source.dtype != array.dtype:
                continue
            start = source.__array_interface__["data"][0]
            if start <= low and high <= start + source.nbytes:
                return _View(index, array.shape, array.strides, low - start)
        return None

    def _refuse_copy(self, array, what):
        """Raise :class:`CompileError` for an integer array that holds the values of an
        integer argument (all of it, or rows ``a:b`` of its first axis) without being a
        view of it: a copy made outside ops (``flatten()``, ``astype``, ``np.concatenate``
        of a slice), which a replay would keep at its captured values. A range
        ``0, 1, 2, ...`` passes: it is what index arrays built from shapes hold."""
        if not _is_array(array) or array.dtype.kind not in "iub" or array.size < 2:
            return
        values = backend.to_backend(array, "numpy").reshape(-1)
        if values[0] == 0 and np.array_equal(values, np.arange(values.size)):
            return
        for index, position in self.plan.arguments:
            source = self.values[index]
            if not _is_array(source) or source.dtype.kind not in "iub" or source.ndim == 0:
                continue
            source = backend.to_backend(source, "numpy")
            row = source[0].size
            if row == 0 or values.size % row or values.size > source.size:
                continue
            rows = values.size // row
            flat = source.reshape(-1)
            for start in range(0, (source.shape[0] - rows + 1) * row, row):
                if np.array_equal(flat[start:start + values.size], values):
                    raise CompileError(
                        f"compile: {what} at scope '{current_scope()}' holds the values of the "
                        f"array argument {position} of shape {source.shape} (rows "
                        f"{start // row}:{start // row + rows}) but is a copy made outside "
                        f"ops, so a replay would use the values of this call forever; pass "
                        f"the argument (or a slice or reshape of it, a view) to the op, or "
                        f"derive it with ops on a Tensor of the argument")

    def _template(self, value, op=None):
        """``value`` (a keyword argument) with the plan's arrays inside replaced by
        placeholders: an index array taken from an argument is read anew at every call."""
        if type(value) is tuple:
            return tuple(self._template(v, op) for v in value)
        if hasattr(value, "shape") and hasattr(value, "dtype") and \
                not isinstance(value, np.generic):
            found = self.locate(value)
            if found is not None:
                return found
            self._refuse_copy(value, f"an index array of shape {value.shape} given to "
                                     f"'{op}'" if op else f"an array of shape {value.shape}")
        return value

    def _kwargs(self, kwargs, op=None):
        template = {k: self._template(v, op) for k, v in kwargs.items()}
        return template if any(_has_slot(v) for v in template.values()) else None

    def _result(self, value, ins):
        """The register of an array a step produced: an input it returned unchanged keeps
        that input's register; anything else gets a new one."""
        if value is None:
            return None
        for i in ins:
            if self.values[i] is value:
                return i
        index = self._new(value)
        self.array_slot[id(value)] = index
        self.keep.append(value)
        return index

    def call(self, fn, ins, kwargs=None, many=False, effect=False, kernel=None):
        """Run ``fn(*values[ins], **kwargs)`` now and record it; returns the register of the
        result (a list of them with ``many``). A step with an ``effect`` (it writes into an
        input) is kept even when it returns that input."""
        kwargs = kwargs or {}
        template = self._kwargs(kwargs)
        bound = functools.partial(fn, **kwargs) if kwargs and template is None else fn
        result = fn(*[self.values[i] for i in ins], **kwargs)
        if many and result is None:
            return None
        if many:
            outs = [self._result(r, ins) for r in result]
            fresh = tuple(o if o is not None and o not in ins else None for o in outs)
            if effect or any(o is not None for o in fresh):
                self.ops.append(_Desc(bound, ins, fresh, template))
            return outs
        out = self._result(result, ins)
        if out is not None and out not in ins:
            if kernel is None:
                kernel = _VJP_KERNELS.get(fn)
            if kernel is not None and not kernel[1]([self.values[i] for i in ins], result):
                kernel = None
            self.ops.append(_Desc(bound, ins, out, template,
                                  None if kernel is None else kernel[0]))
        elif effect:
            self.ops.append(_Desc(bound, ins, None, template, kernel and kernel[0]))
            if kernel is not None:     # the kernel takes its keywords itself
                self.ops[-1].fn = fn if template is not None else bound
        return out

    # -- the forward: every op that minigrad.tensor.apply runs --------------------------
    def record(self, op, inputs, kwargs, out):
        ins = [self.slot_of(t) for t in inputs]
        data = out.data
        for i in ins:
            if self.values[i] is data:
                self.tensor_slot[id(out)] = i
                self.keep.append(out)
                return
        template = self._kwargs(kwargs, op.name)
        xp = backend.get_array_module(self.values[ins[0]])
        fn = functools.partial(op.forward, xp) if template is not None else \
            functools.partial(op.forward, xp, **kwargs)
        if data.ndim == 0:
            fn = _as_array(fn)
        index = self._new(data)
        self.tensor_slot[id(out)] = index
        self.array_slot[id(data)] = index
        self.keep.append(out)
        kernel = _FORWARD_KERNELS.get(op.name) if template is None else None
        if kernel is not None and not kernel[1]([self.values[i] for i in ins], data):
            kernel = None
        self.ops.append(_Desc(fn, ins, index, template, None if kernel is None else kernel[0]))
        self.ops[-1].view = op.name in _VIEW_OPS and template is None and \
            type(data) is np.ndarray and np.may_share_memory(data, self.values[ins[0]])

    def check(self, check, values, kwargs):
        """A test of values (:func:`minigrad.tensor.check_values`): a step of the plan that
        reads the arrays of this call and raises as the eager call did."""
        ins = [self.slot_of(v if isinstance(v, Tensor) else Tensor(v)) for v in values]
        self.ops.append(_Desc(functools.partial(check, **kwargs), ins, None))

    # -- the backward: run_backward's steps, each recorded ------------------------------
    def run_backward(self, outputs, output_grads, retain_graph, create_graph, inputs):
        if create_graph:
            raise CompileError("compile: backward with create_graph=True (higher-order "
                               "gradients) cannot be captured; call this function eagerly")
        if retain_graph is None:
            retain_graph = False
        return _Backward(self).run(outputs, output_grads, retain_graph, inputs)

    def deliver(self, leaf, index):
        """``leaf.grad`` gains the array in register ``index``, as eager backward does."""
        where = self.leaf_of_slot.get(self.tensor_slot.get(id(leaf)))
        if where is None:
            where = ("live", leaf)
        if where[0] == "argument":
            position = where[1]

            def step(regs, _tensors=self.plan.argument_tensors):
                _add_grad(_tensors[0][position], regs[index])
        else:
            def step(regs):
                _add_grad(leaf, regs[index])
        _add_grad(leaf, self.values[index])
        self.ops.append(_Desc(closure=step, reads=[index]))
        self.escaping.append(index)


def _add_grad(leaf, g):
    g = _as_tensor(g)
    leaf.grad = g if leaf.grad is None else leaf.grad + g


def _iadd(old, g):
    old += g
    return old


def _add(old, g):
    return old + g


def _zeros(shape, dtype, xp):
    return lambda: xp.zeros(shape, dtype=dtype)


def _scatter(scatter, xp):
    return lambda buffer, values, index: scatter(xp, buffer, index, values)


def _copy(a):
    return a.copy()


def _row_sum(b):
    return b.reshape(-1, b.shape[-1]).sum(axis=0)


def _stacked_product(count, xp):
    """``stack(a_1..a_n)^T stack(b_1..b_n)`` for arrays ``a_1..a_n, b_1..b_n``."""
    def product(*arrays):
        a_rows = [a.reshape(-1, a.shape[-1]) for a in arrays[:count]]
        b_rows = [b.reshape(-1, b.shape[-1]) for b in arrays[count:]]
        a = a_rows[0] if count == 1 else xp.concatenate(a_rows)
        b = b_rows[0] if count == 1 else xp.concatenate(b_rows)
        return a.T @ b
    return product


class _Backward:
    """:func:`minigrad.autograd.run_backward` for a plain backward, step by step through
    the recorder (same order, same in-place sums, same deferred outer products)."""

    def __init__(self, recorder):
        self.rec = recorder
        self.grads, self.owned, self.pending = {}, set(), {}

    def add(self, t, g):
        if g is None:
            return
        rec = self.rec
        shape = t.data.shape
        if rec.values[g].shape != shape:
            g = rec.call(unbroadcast, [g], {"shape": shape})
        key = id(t)
        old = self.grads.get(key)
        if old is None:
            self.grads[key] = g
        elif key in self.owned and rec.values[old].dtype == rec.values[g].dtype:
            if isinstance(rec.values[old], np.generic):
                self.grads[key] = rec.call(_add, [old, g])
            else:
                self.grads[key] = rec.call(_iadd, [old, g], effect=True)
        else:
            self.grads[key] = rec.call(_add, [old, g])
            self.owned.add(key)

    def scatter(self, t, g, node):
        rec = self.rec
        key = id(t)
        old = self.grads.get(key)
        xp = backend.get_array_module(rec.values[g])
        if old is None:
            old = self.grads[key] = rec.call(_zeros(t.data.shape, rec.values[g].dtype, xp), [],
                                             kernel=(_zeros_kernel, _always))
            self.owned.add(key)
        elif key not in self.owned or rec.values[old].dtype != rec.values[g].dtype:
            old = self.grads[key] = rec.call(_copy, [old], kernel=(_copy_kernel, _always))
            self.owned.add(key)
        index = node.kwargs["index"]
        rec.call(_scatter(node.op.scatter, xp), [old, g], {"index": index}, effect=True,
                 kernel=(_scatter_kernel(index), None) if xp is np else None)

    def flush(self, t):
        pairs = self.pending.pop(id(t), None)
        if pairs is None:
            return
        rec = self.rec
        if pairs[0][0] is None:
            parts = [rec.call(_row_sum, [b]) for _, b in pairs]
        else:
            xp = backend.get_array_module(rec.values[pairs[0][1]])
            parts = []
            for chunk in _chunk_slots(pairs, rec.values):
                a = [p[0] for p in chunk]
                b = [p[1] for p in chunk]
                parts.append(rec.call(_stacked_product(len(chunk), xp), a + b))
                if rec.ops and rec.ops[-1].ins == a + b:
                    rec.ops[-1].stack = len(chunk)
        g = parts[0]
        for part in parts[1:]:
            g = rec.call(_iadd if not isinstance(rec.values[g], np.generic) else _add,
                         [g, part], effect=True)
        if id(t) in self.grads:
            self.add(t, g)
        else:
            self.grads[id(t)] = g
            self.owned.add(id(t))

    def pop(self, t):
        if self.pending and id(t) in self.pending:
            self.flush(t)
        return self.grads.pop(id(t), None)

    def run(self, outputs, output_grads, retain_graph, inputs):
        rec = self.rec
        wanted = None if inputs is None else {id(t): i for i, t in enumerate(inputs)}
        found = [None] * (0 if inputs is None else len(inputs))
        order, leaves = _walk(outputs)
        for t, g in zip(outputs, output_grads):
            if t.requires_grad:
                index = rec.tensor_slot.get(id(g))
                self.add(t, rec.constant(g.data) if index is None else index)
        last_change = state.last_change
        for t in order:
            g = self.pop(t)
            if g is None:
                continue
            if wanted is not None and id(t) in wanted:
                found[wanted[id(t)]] = g
            node = t.node
            if node.order < last_change:
                _check_unchanged(t, node)       # as eager backward does (issue 14)
            parents, kwargs, op = node.parents, node.kwargs, node.op
            if not retain_graph:
                node.parents = None
            if op.scatter is not None:
                self.scatter(parents[0], g, node)
                continue
            ins = [g, rec.slot_of(t)] + [rec.slot_of(p) for p in parents]
            if op.vjp_all is not None:
                recorded = len(rec.ops)
                results = rec.call(op.vjp_all, ins, kwargs, many=True)
                if op.name in _VIEW_OPS and len(rec.ops) > recorded:
                    last = rec.ops[-1]
                    last.view = last.template is None and all(
                        r is None or type(rec.values[r]) is np.ndarray and
                        np.may_share_memory(rec.values[r], rec.values[g]) for r in results)
                for p, gp in zip(parents, results):
                    if gp is not None and p.requires_grad:
                        self.add(p, gp)
                continue
            deferred = ()
            if op.outer is not None:
                deferred = []
                for i, pair_of in op.outer.items():
                    if i >= len(parents) or not parents[i].requires_grad:
                        continue
                    pair = rec.call(pair_of, ins, kwargs, many=True)
                    if pair is not None:
                        self.pending.setdefault(id(parents[i]), []).append(tuple(pair))
                        deferred.append(i)
            for i, p in enumerate(parents):
                if p.requires_grad and i not in deferred:
                    self.add(p, rec.call(op.vjps[i], ins, kwargs))
        for key, leaf in leaves.items():
            self.flush(leaf)
            g = self.grads.get(key)
            if g is None:
                continue
            if wanted is not None:
                if key in wanted:
                    found[wanted[key]] = g
            else:
                rec.deliver(leaf, g)
        results = []
        for g in found:
            if g is None:
                results.append(None)
                continue
            value = rec.values[g]
            t = _as_tensor(value)
            if t.data is not value:         # a NumPy scalar, wrapped
                g = rec.call(np.asarray, [g])
                t = Tensor(rec.values[g])
            rec.tensor_slot[id(t)] = g
            rec.keep.append(t)
            results.append(t)
        return results


def _chunk_slots(pairs, values):
    """:func:`minigrad.autograd._chunks` over registers."""
    run, size = [], 0
    for a, b in pairs:
        nbytes = values[a].nbytes + values[b].nbytes
        if run and size + nbytes > CHUNK_BYTES:
            yield run
            run, size = [], 0
        run.append((a, b))
        size += nbytes
    yield run


# -- the compiled function ---------------------------------------------------------------
class CompiledFunction:
    """``fn`` with its plans, one per signature; see :func:`compile`."""

    def __init__(self, fn, check=False, max_plans=8):
        self.fn, self.check, self.max_plans = fn, check, max_plans
        self.plans = {}         # signature -> list of plans (one per pattern of live leaves)
        self.captures = 0
        functools.update_wrapper(self, fn)

    def _signature(self, args, kwargs):
        arrays = []
        key = (_flatten(args, arrays), _flatten(kwargs, arrays), state.grad_enabled,
               backend.get_backend())
        return key, arrays

    def __call__(self, *args, **kwargs):
        if state.recorder is not None or state.anomaly:
            return self.fn(*args, **kwargs)      # inside another capture, or anomaly mode
        key, arrays = self._signature(args, kwargs)
        if any(not isinstance(a, Tensor) and not a.flags.c_contiguous for a in arrays):
            args, kwargs = _contiguous(args), _contiguous(kwargs)
            arrays = self._signature(args, kwargs)[1]
        plans = self.plans.get(key)
        if plans is not None:
            for plan in plans:
                if plan.matches():
                    if self.check is True or self.check == "first" and not plan.checked:
                        plan.checked = True
                        return self._checked(plan, arrays, args, kwargs)
                    return self._replay(plan, arrays)
        if sum(len(p) for p in self.plans.values()) >= self.max_plans:
            return self.fn(*args, **kwargs)
        return self._capture(key, arrays, args, kwargs)

    def _capture(self, key, arrays, args, kwargs):
        tensors = list(arrays)
        rec = _Recorder(tensors)
        rec.plan.argument_tensors[0] = tensors
        state.recorder = rec
        last_change = state.last_change
        try:
            result = self.fn(*args, **kwargs)
        finally:
            state.recorder = None
        if state.last_change != last_change:
            raise CompileError(
                "compile: a tensor was changed in place inside the compiled function (an "
                "optimizer step, load_state_dict, .to() or an init); a replay would not "
                "repeat the change: update parameters outside the function")
        plan = rec.plan
        for index, t in plan.live:
            if t.data is not rec.values[index]:
                raise CompileError(
                    f"compile: the array of a leaf tensor of shape {t.shape} (a parameter?) "
                    f"was replaced inside the compiled function; update parameters (the "
                    f"optimizer's step) outside it")
        outputs = _leaf_tensors(result, [])
        registers = []
        for t in outputs:
            index = rec.tensor_slot.get(id(t))
            registers.append(rec.slot_of(t) if index is None else index)
        plan.outputs = (result, outputs, registers)
        plan.steps, fixed = _build(rec, registers)
        plan.initial = [None] * plan.size
        for index, value in list(plan.constants.items()) + list(fixed.items()):
            plan.initial[index] = value
        self.plans.setdefault(key, []).append(plan)
        self.captures += 1
        return _rebuild(result, outputs, [rec.values[i] for i in registers])

    def _replay(self, plan, arrays):
        plan.argument_tensors[0] = arrays
        data = [a.data if isinstance(a, Tensor) else a for a in arrays]
        regs = plan.run(data)
        result, outputs, registers = plan.outputs
        return _rebuild(result, outputs, [regs[i] for i in registers])

    def _checked(self, plan, arrays, args, kwargs):
        """Replay, then run eagerly from the same ``.grad``; raise at any difference."""
        leaves = plan.leaves + [a for a in arrays if isinstance(a, Tensor)]
        before = [t.grad for t in leaves]
        replayed = _leaf_tensors(self._replay(plan, arrays), [])
        after = [t.grad for t in leaves]
        for t, g in zip(leaves, before):
            t.grad = g
        eager_result = self.fn(*args, **kwargs)
        eager = _leaf_tensors(eager_result, [])
        name = getattr(self.fn, "__name__", "fn")
        if len(eager) != len(replayed):
            raise CompileMismatch(f"compile(check=True): {name} returned {len(eager)} tensors "
                                  f"eagerly, {len(replayed)} replayed")
        for i, (a, b) in enumerate(zip(replayed, eager)):
            _compare(f"output {i}", a, b, name)
        for t, g in zip(leaves, after):
            _compare(f"the .grad of a leaf of shape {t.shape}", g, t.grad, name)
        return _rebuild(eager_result, eager, [t.data for t in eager])


def _compare(what, replayed, eager, name):
    if replayed is None and eager is None:
        return
    if (replayed is None) != (eager is None):
        raise CompileMismatch(f"compile(check=True): {name}: {what} is "
                              f"{'missing' if replayed is None else 'set'} in the replay and "
                              f"{'missing' if eager is None else 'set'} eagerly")
    a, b = backend.to_backend(replayed.data, "numpy"), backend.to_backend(eager.data, "numpy")
    if a.shape != b.shape or not np.array_equal(a, b, equal_nan=True):
        gap = float(np.nanmax(np.abs(a.astype(np.float64) - b))) if a.shape == b.shape else None
        raise CompileMismatch(
            f"compile(check=True): {name}: {what} differs between the replayed plan and the "
            f"eager run (shapes {a.shape} and {b.shape}, largest difference {gap}); does the "
            f"function's control flow, or a value it computes outside ops, depend on the "
            f"values of its inputs?")


def _rebuild(result, outputs, arrays):
    """``result`` with its tensors replaced by new tensors holding ``arrays``."""
    replacement = {id(t): Tensor(a) for t, a in zip(outputs, arrays)}

    def build(value):
        if isinstance(value, Tensor):
            return replacement[id(value)]
        if isinstance(value, (tuple, list)):
            return type(value)(build(v) for v in value)
        if isinstance(value, dict):
            return {k: build(v) for k, v in value.items()}
        return value
    return build(result)


def compile(fn=None, check=False, max_plans=8):
    """Capture ``fn`` once per signature and replay it after that (also as a decorator:
    ``@mg.compile`` or ``@mg.compile(check=True)``).

    ``fn`` takes tensors (and nested tuples/lists of them, numbers, other objects) and may
    call ``backward()``: gradients land in the ``.grad`` of leaves, accumulating as in
    eager mode. The signature is the shapes, dtypes, backends and ``requires_grad`` of the
    tensor arguments, the values of the other plain arguments and the grad mode; the
    tensors ``fn`` reaches by itself (parameters) are read anew at every call (an optimizer
    may update them in place or replace ``.data``), and a change of their shape, dtype or
    ``requires_grad`` makes a new plan. Returned tensors are new tensors holding the
    values, cut from any graph.

    Assumes, as ``jax.jit`` and tinygrad's ``TinyJit`` do, that the control flow of ``fn``
    does not depend on the values of arrays and that all array work goes through ops:
    Python code that reads values (``.item()``, ``.data``) runs only at capture.
    ``check=True`` replays and runs eagerly at every call and raises
    :class:`CompileMismatch` at the first difference (``check="first"``: at the first
    replay of each plan only). Beyond ``max_plans`` signatures
    ``fn`` runs eagerly.
    """
    if fn is None:
        return lambda f: CompiledFunction(f, check, max_plans)
    return CompiledFunction(fn, check, max_plans)


_VJP_KERNELS = _vjp_kernels()
_VJP_KERNELS[_add] = (_ufunc(np.add, 0, 1), _operands(0, 1))
