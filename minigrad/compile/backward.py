"""The backward passes of a capture: :func:`minigrad.autograd.run_backward`'s steps, each
recorded, in the same order, with the same in-place sums and deferred outer products."""
import numpy as np

from .. import backend
from ..autograd import _as_tensor, _check_unchanged, _chunks, _finish_leaves, _walk
from ..ops import unbroadcast
from ..tensor import Tensor, state
from .kernels import _always, _copy_kernel, _scatter_kernel, _zeros_kernel
from .plan import _VIEW_OPS


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
            for chunk in _chunks(pairs, rec.values.__getitem__):
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
        _finish_leaves(self, leaves, wanted, found, rec.deliver)
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
