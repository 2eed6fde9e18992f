"""Reverse mode: walk the recorded graph from the outputs back to the inputs.

The walk is iterative (a 100,000-op chain needs no recursion) and visits each node once,
after every node that uses its output: nodes are numbered as they are made, a node is
always made after its inputs, so the reverse of that numbering is a topological order.
Before a node's VJPs run, its saved tensors are checked for in-place changes made since
the node was made (see :mod:`minigrad.tensor`). Gradients of tensors used more than once
are added up; the sums the engine makes itself are updated in place. A plain backward
runs every VJP on bare arrays and wraps only the gradients it hands back;
``create_graph=True`` runs the same VJPs on Tensors, recorded.

Two ops have a second, faster route in a plain backward (``Op.outer``: matmul and linear
defer a weight's ``a^T b`` terms to one matmul; ``Op.scatter``: getitem adds into one
buffer). The ``defvjp`` line stays the definition: ``create_graph=True`` and
``detect_anomaly()`` run it, so that every gradient is checked there and named by its op,
and tests/test_engine_routes.py checks that both routes agree for every op that has two.
"""
import operator

import numpy as np

from . import backend
from .ops import unbroadcast
from .tensor import Tensor, _data_of, detect_anomaly, set_grad_enabled, state, version_of


def _walk(roots, wanted=None):
    """The non-leaf tensors reachable from ``roots`` that need a gradient, each before the
    tensors it was computed from (latest made first), and the leaves that need one.

    With ``wanted`` ({id: tensor} of the tensors whose gradients are asked for) only the
    tensors on a path from a root to a wanted tensor are kept, and returned a third time as
    a set of ids: the walk does not go below the earliest
    wanted tensor (nothing made before it can lead to it) nor into unwanted leaves, so
    the gradient of one step with respect to the step before does not visit the whole
    unrolled graph."""
    floor = _floor(wanted)
    reached, leaves = {}, {}
    stack = [t for t in roots if t.requires_grad]
    while stack:
        t = stack.pop()
        key = id(t)
        if key in reached:
            continue
        node = t.node
        if node is None:
            if wanted is None or key in wanted:
                leaves[key] = t
            continue
        if node.parents is None:
            raise RuntimeError(
                f"backward through a graph that was already freed: op '{node.op.name}' at "
                f"scope '{node.path}' released its inputs after the first backward; pass "
                f"retain_graph=True to the first backward() to go through it twice")
        reached[key] = t
        for p in node.parents:
            if p.requires_grad and id(p) not in reached and \
                    (p.node is None or p.node.order >= floor):
                stack.append(p)
    order = sorted(reached.values(), key=_made_at, reverse=True)
    if wanted is None:
        return order, leaves
    useful = set(leaves) | {key for key in wanted if key in reached}
    for t in reversed(order):
        if any(id(p) in useful for p in t.node.parents):
            useful.add(id(t))
    return [t for t in order if id(t) in useful], leaves, useful


def _floor(wanted):
    """The creation number below which no node can lead to a wanted tensor: the earliest
    wanted non-leaf's (a path to a tensor only passes through tensors made after it), or
    -1 when every node may (no ``wanted``, or a wanted leaf)."""
    if wanted is None:
        return -1
    nodes = [t.node for t in wanted.values()]
    if not nodes or any(node is None for node in nodes):
        return -1
    return min(node.order for node in nodes)


_made_at = operator.attrgetter("node.order")


def _check_finite(g, node):
    """Anomaly mode: the ops a VJP runs are checked here, as the backward of ``node``."""
    array = g.data if isinstance(g, Tensor) else g
    if array.dtype.kind == "f" and not bool(backend.get_array_module(array).isfinite(array).all()):
        where = "the gradient given to backward()" if node is None else \
            f"backward of {node.op.name} at scope '{node.path}'"
        raise FloatingPointError(f"{where} produced NaN or Inf (gradient of shape {array.shape})")


def _check_unchanged(t, node):
    """Refuse a node whose output ``t`` or an input changed in place after it was made."""
    saves = node.op.saves
    if saves is None:
        saves = ("out",) + tuple(range(len(node.parents)))
    for role in saves:
        role, value = ("output", t) if role == "out" else (f"input {role}", node.parents[role])
        if version_of(value) > node.order:
            name = f" '{value.name}'" if value.name else ""
            raise RuntimeError(
                f"backward of {node.op.name} at scope '{node.path}': its {role}{name} (shape "
                f"{value.shape}, {value.dtype}) was changed in place after the op ran (an "
                f"optimizer step, load_state_dict, .to() or an in-place op), so its gradient "
                f"would use the new values; call backward() before changing it")


def _as_tensor(g):
    """A gradient handed to the user: Tensors stay, arrays (and NumPy scalars) are wrapped."""
    if isinstance(g, Tensor):
        return g
    return Tensor(np.asarray(g) if isinstance(g, np.generic) else g)


CHUNK_BYTES = 1 << 24


def _chunks(pairs, array_of=None):
    """Consecutive runs of ``pairs``, each at most ``CHUNK_BYTES`` in all (a larger pair is
    a run of its own); ``array_of`` maps a pair's items to arrays (a capture's registers)."""
    run, size = [], 0
    for a, b in pairs:
        nbytes = a.nbytes + b.nbytes if array_of is None else \
            array_of(a).nbytes + array_of(b).nbytes
        if run and size + nbytes > CHUNK_BYTES:
            yield run
            run, size = [], 0
        run.append((a, b))
        size += nbytes
    yield run


def _stacked(xp, arrays):
    """The rows of ``arrays`` (each with any leading axes) as one matrix."""
    rows = [a.reshape(-1, a.shape[-1]) for a in arrays]
    return rows[0] if len(rows) == 1 else xp.concatenate(rows)


class _Gradients:
    """Running sums of gradients, keyed by tensor: bare arrays in a plain backward, Tensors
    in a recorded one. A sum made here is ours to add into in place; a gradient a VJP
    returned may be shared, so the first addition copies it."""

    def __init__(self, in_place, check_finite=False):
        self.grads, self.owned, self.in_place = {}, set(), in_place
        self.pending, self.check_finite = {}, check_finite

    def defer(self, t, a, b):
        """Remember that ``t``'s gradient gains ``a^T b`` (rows over leading axes)."""
        self.pending.setdefault(id(t), []).append((a, b))

    def flush(self, t):
        """Sum the deferred ``a^T b`` terms of ``t`` with a few large matmuls, over the rows
        of all terms stacked in chunks of at most ``CHUNK_BYTES`` (memory the allocator can
        reuse, where one huge stack would be fresh pages at every step). Row sums of ``b``
        (``a`` is None) need no stacking."""
        pairs = self.pending.pop(id(t), None)
        if pairs is None:
            return
        xp = backend.get_array_module(pairs[0][1])
        g = None
        if pairs[0][0] is None:
            parts = (b.reshape(-1, b.shape[-1]).sum(axis=0) for _, b in pairs)
        else:
            parts = (_stacked(xp, [a for a, _ in chunk]).T @ _stacked(xp, [b for _, b in chunk])
                     for chunk in _chunks(pairs))
        for part in parts:
            if g is None:
                g = part
            else:
                g += part
        if id(t) in self.grads:
            self.add(t, g)
        else:
            self.grads[id(t)] = g
            self.owned.add(id(t))

    def add(self, t, g, node=None):
        """Add ``g`` (made by the backward of ``node``) into ``t``'s gradient."""
        if g is None:
            return
        if self.check_finite:
            _check_finite(g, node)
        key = id(t)
        if g.shape != t.data.shape:
            g = unbroadcast(g, t.data.shape)
        old = self.grads.get(key)
        if old is None:
            self.grads[key] = g
        elif self.in_place and key in self.owned and old.dtype == g.dtype:
            old += g                     # in place for arrays; a NumPy scalar is rebound
            self.grads[key] = old
        else:
            self.grads[key] = old + g
            self.owned.add(key)

    def scatter(self, t, g, node):
        """Add ``g`` into ``t``'s gradient at ``node``'s index, without a full-size temporary."""
        key = id(t)
        old = self.grads.get(key)
        xp = backend.get_array_module(g)
        if old is None:
            old = self.grads[key] = xp.zeros(t.data.shape, dtype=g.dtype)
            self.owned.add(key)
        elif key not in self.owned or old.dtype != g.dtype:
            old = self.grads[key] = old.copy()
            self.owned.add(key)
        node.op.scatter(xp, old, node.kwargs["index"], g)

    def pop(self, t):
        """``t``'s finished gradient, taken out (its key may stay in ``owned``: ``t`` is
        alive until the backward ends, so its id is not reused)."""
        if self.pending and id(t) in self.pending:
            self.flush(t)
        return self.grads.pop(id(t), None)


def _defer(sums, outer, g, out, parents, inputs, kwargs, needed=None):
    """Hand the deferrable gradients of a node to ``sums``; returns their indices (those
    of parents that need no gradient included: there is nothing to hand)."""
    deferred = []
    for index, pair_of in outer.items():
        if index >= len(parents) or not parents[index].requires_grad:
            continue
        if needed is not None and id(parents[index]) not in needed:
            deferred.append(index)
            continue
        pair = pair_of(g, out, *inputs, **kwargs)
        if pair is not None:
            sums.defer(parents[index], *pair)
            deferred.append(index)
    return deferred


def run_backward(outputs, output_grads, retain_graph, create_graph, inputs=None):
    """Backpropagate ``output_grads`` from ``outputs``. Returns the gradients of ``inputs``
    (a list, None where unreached) or, when ``inputs`` is None, adds into leaf ``.grad``.

    With ``create_graph`` the VJPs run on Tensors and are recorded; otherwise they run on
    the bare arrays, and only the gradients handed back are wrapped in Tensors.
    """
    if state.recorder is not None:      # minigrad.compile is capturing this step
        return state.recorder.run_backward(outputs, output_grads, retain_graph, create_graph,
                                           inputs)
    if retain_graph is None:
        retain_graph = create_graph
    recorded = create_graph
    fast = not recorded and not state.anomaly
    wanted = None if inputs is None else {id(t): i for i, t in enumerate(inputs)}
    found = [None] * (0 if inputs is None else len(inputs))
    sums = _Gradients(in_place=not recorded, check_finite=state.anomaly)
    if inputs is None:
        order, leaves = _walk(outputs)
        needed = None
    else:
        order, leaves, needed = _walk(outputs, {id(t): t for t in inputs})
    last_change = state.last_change
    with set_grad_enabled(create_graph), detect_anomaly(False):
        for t, g in zip(outputs, output_grads):
            if t.requires_grad:
                sums.add(t, g if recorded else g.data, None)
        add, pop = sums.add, sums.pop
        try:
            for t in order:
                g = pop(t)
                if g is None:
                    continue
                if wanted is not None and id(t) in wanted:
                    found[wanted[id(t)]] = g
                elif t.retains_grad:
                    t.grad = _as_tensor(g) if t.grad is None else t.grad + _as_tensor(g)
                node = t.node
                if node.order < last_change:
                    _check_unchanged(t, node)
                parents, kwargs, op = node.parents, node.kwargs, node.op
                if not retain_graph:
                    node.parents = None
                if recorded:
                    out, values = t, parents
                elif op.scatter is not None and fast:
                    if needed is None or id(parents[0]) in needed:
                        sums.scatter(parents[0], g, node)
                    continue
                else:
                    out = t.data
                    values = (parents[0].data,) if len(parents) == 1 else \
                        tuple(map(_data_of, parents))
                if op.vjp_all is not None:
                    for p, gp in zip(parents, op.vjp_all(g, out, *values, **kwargs)):
                        if gp is not None and p.requires_grad and \
                                (needed is None or id(p) in needed):
                            add(p, gp, node)
                    continue
                deferred = () if op.outer is None or not fast else \
                    _defer(sums, op.outer, g, out, parents, values, kwargs, needed)
                for i, p in enumerate(parents):
                    if p.requires_grad and i not in deferred and \
                            (needed is None or id(p) in needed):
                        add(p, op.vjps[i](g, out, *values, **kwargs), node)
        except AttributeError as exc:
            if recorded:
                raise
            raise AttributeError(
                f"backward of {node.op.name} at scope '{node.path}': {exc}. A plain backward "
                f"runs VJPs on arrays: use operators, reshape/.T/indexing and minigrad.ops "
                f"functions (ops.exp), not Tensor-only methods or .data") from exc
        _finish_leaves(sums, leaves, wanted, found, _add_grad)
    return [None if g is None else _as_tensor(g) for g in found]


def _add_grad(leaf, g):
    g = _as_tensor(g)
    leaf.grad = g if leaf.grad is None else leaf.grad + g


def _finish_leaves(sums, leaves, wanted, found, deliver):
    """Sum each leaf's deferred terms; its gradient goes into ``found`` when ``wanted``
    (grad()), else to ``deliver(leaf, g)`` (backward(): into ``.grad``)."""
    for key, leaf in leaves.items():
        sums.flush(leaf)
        g = sums.grads.get(key)
        if g is None:
            continue
        if wanted is not None:
            if key in wanted:
                found[wanted[key]] = g
        else:
            deliver(leaf, g)


def _seed(outputs, grads):
    if grads is None:
        grads = [None] * len(outputs)
    seeds = []
    for t, g in zip(outputs, grads):
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(
                    f"backward() of a tensor of shape {t.shape} needs a gradient argument of "
                    f"that shape (only one-element outputs get an implicit gradient of 1)")
            g = Tensor(t.xp.ones(t.shape, dtype=t.dtype))
        elif not isinstance(g, Tensor):
            g = Tensor(t.xp.asarray(g, dtype=t.dtype))
        if g.shape != t.shape:
            raise ValueError(f"backward(): gradient of shape {g.shape} given for an output of "
                             f"shape {t.shape}")
        if backend.backend_of(g.data) != backend.backend_of(t.data):
            raise TypeError(f"backward(): gradient on {backend.backend_of(g.data)}, output on "
                            f"{backend.backend_of(t.data)}")
        seeds.append(g)
    return seeds


def backward(outputs, grads=None, retain_graph=None, create_graph=False):
    """Add d(outputs)/d(leaf) into the ``.grad`` of every leaf that requires a gradient.

    Gradients accumulate: call ``zero_grad()`` (or set ``.grad = None``) between steps.
    """
    outputs = list(outputs)
    if not any(t.requires_grad for t in outputs):
        raise RuntimeError("backward(): no output requires a gradient (were the inputs made "
                           "with requires_grad=True, and was the graph built outside no_grad?)")
    run_backward(outputs, _seed(outputs, grads), retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned as a list and not
    stored in ``.grad`` (like ``torch.autograd.grad``). ``create_graph=True`` records the
    backward pass so the result can be differentiated again."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is not None and isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad(): input {i} (shape {t.shape}) does not require a gradient")
    found = run_backward(outputs, _seed(outputs, grad_outputs), retain_graph, create_graph,
                         inputs)
    for i, (t, g) in enumerate(zip(inputs, found)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"grad(): input {i} (shape {t.shape}) is not reached from the "
                                   f"outputs; pass allow_unused=True to get a zero gradient")
            found[i] = Tensor(t.xp.zeros(t.shape, dtype=t.dtype))
    return found
