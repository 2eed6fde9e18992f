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

from .. import backend
from ..tensor import Tensor, state
from .buffers import _build
from .errors import CompileError, CompileMismatch
from .record import _Recorder
from .signature import _contiguous, _flatten, _leaf_tensors

__all__ = ["compile", "CompiledFunction", "CompileError", "CompileMismatch", "is_compiling"]


def is_compiling():
    """True while :func:`compile` captures a call (PyTorch's ``torch.compiler.is_compiling``):
    code whose choices depend on values, or on Python's random numbers, checks it and
    raises :class:`CompileError`, since a replay would repeat the choices of the capture."""
    return state.recorder is not None


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
