"""Recompute checkpointing: keep a segment's inputs, not its intermediates.

``checkpoint(fn, *args)`` runs ``fn`` without recording; during backward it runs ``fn``
again with recording on and backpropagates through that fresh graph. Memory then holds one
segment's intermediates at a time (Chen et al. 2016, "Training deep nets with sublinear
memory cost"). ``fn`` must be deterministic and receive as arguments every non-leaf tensor
it uses (leaves such as parameters may be captured); its gradients go to leaf ``.grad``, so
use it with ``backward()``, not with ``grad()`` or ``create_graph=True``.
"""
from .autograd import run_backward
from .tensor import Node, Op, Tensor, is_grad_enabled, no_grad, set_grad_enabled, state


def _flat_outputs(outputs):
    flat = [outputs] if isinstance(outputs, Tensor) else \
        list(outputs) if isinstance(outputs, (tuple, list)) else None
    if not flat or not all(isinstance(o, Tensor) for o in flat):
        kinds = type(outputs).__name__ if flat is None else \
            f"{type(outputs).__name__} of {', '.join(type(o).__name__ for o in flat) or 'nothing'}"
        raise TypeError(f"checkpoint: fn must return a tensor or a tuple or list of tensors, "
                        f"it returned a {kinds}")
    return flat


def _pack(xp, outputs):
    return xp.concatenate([o.data.reshape(-1) for o in outputs])


def _recompute_vjp(g, out, *inputs, fn, args, positions, needs_grad):
    if isinstance(g, Tensor):
        raise RuntimeError("checkpoint: create_graph=True (higher-order gradients) is not "
                           "supported through a checkpointed segment")
    fresh = [Tensor(x, requires_grad=need) for x, need in zip(inputs, needs_grad)]
    call_args = list(args)
    for position, t in zip(positions, fresh):
        call_args[position] = t
    with set_grad_enabled(True):
        outputs = _flat_outputs(fn(*call_args))
        recorded = [o for o in outputs if o.requires_grad]
        grads, start = [], 0
        for o in outputs:
            if o.requires_grad:
                grads.append(Tensor(g[start:start + o.numel()].reshape(o.shape)))
            start += o.numel()
    if recorded:
        with set_grad_enabled(False):
            run_backward(recorded, grads, retain_graph=False, create_graph=False)
    return [None if t.grad is None else t.grad.data for t in fresh]


_checkpoint = Op("checkpoint", None)
_checkpoint.vjp_all = _recompute_vjp


def checkpoint(fn, *args):
    """``fn(*args)``, with its intermediates recomputed during backward instead of stored."""
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    inputs = tuple(args[i] for i in positions)
    with no_grad():
        outputs = fn(*args)
    single = isinstance(outputs, Tensor)
    flat = _flat_outputs(outputs)
    if not is_grad_enabled():
        return outputs
    xp = flat[0].xp
    packed = Tensor(_pack(xp, flat) if len(flat) > 1 else flat[0].data.reshape(-1))
    packed.requires_grad = True
    packed.node = Node(_checkpoint, inputs,
                       {"fn": fn, "args": tuple(args), "positions": positions,
                        "needs_grad": [t.requires_grad for t in inputs]}, state.scope)
    pieces, start = [], 0
    for o in flat:
        pieces.append(packed[start:start + o.numel()].reshape(o.shape))
        start += o.numel()
    return pieces[0] if single else type(outputs)(pieces) if isinstance(outputs, tuple) \
        else pieces


