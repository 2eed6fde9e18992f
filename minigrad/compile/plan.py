"""A plan: numbered arrays (registers) and the steps, closures over them, that compute one
call; :class:`_Desc`, a step described before it becomes a closure."""
import numpy as np


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


_VIEW_OPS = frozenset(("getitem", "reshape", "transpose", "stack", "concat"))
