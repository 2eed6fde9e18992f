"""Turning a recording into the plan's steps: which results share which buffer (lives
that do not overlap), gradients written straight into their slice, views taken once."""
import numpy as np

from .kernels import _linear_kernel, _stacked_step, _transpose_step, _zeros_kernel
from .plan import _make_step


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


def _scattered_in_place(ops, values, owners, escaping, placed):
    """Gradients that backward adds into slices of a zeroed buffer (a gate's columns of the
    pre-activation's gradient) when those slices cover it exactly once and nothing else
    reads them: computed straight into their slice, with no zeroing and no addition.
    Returns {step: [(buffer register, [(register, index)])]} (the buffer is allocated at
    the step that makes the first slice) and the registers that live inside another's
    buffer."""
    from ..ops import _is_basic
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
