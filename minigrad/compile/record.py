"""The recorder: watches one eager call of ``fn`` (every op's forward, every check of
values, every backward) and describes each step of the plan, with the registers it reads."""
import functools

import numpy as np

from .. import backend
from ..autograd import _add_grad
from ..tensor import Tensor, current_scope
from .backward import _add, _Backward
from .errors import CompileError
from .kernels import _FORWARD_KERNELS, _operands, _ufunc, _vjp_kernels
from .plan import (_VIEW_OPS, Plan, _as_array, _byte_bounds, _Desc, _has_slot, _Slot, _View,
                   _view_step)
from .signature import _is_array


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


_VJP_KERNELS = _vjp_kernels()
_VJP_KERNELS[_add] = (_ufunc(np.add, 0, 1), _operands(0, 1))
