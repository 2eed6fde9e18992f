"""Running anything that maps a sequence to a sequence: a cell (unrolled) or a wrapper."""
from .cell import Cell, unroll


def run_sequence(core, xs, state=None):
    """``(hs, state)`` for xs (T, B, D): :func:`unroll` for a :class:`Cell`, else
    ``core(xs, state)`` (Bidirectional, Stacked); a core that keeps no state (TCN) gets
    ``core(xs)`` and returns ``None`` as its state."""
    if isinstance(core, Cell):
        return unroll(core, xs, state)
    if not getattr(core, "returns_state", True):
        return core(xs), None
    return core(xs, state)


def run_step(core, x, state=None):
    """One step ``(output_t, state_t)`` for x_t (B, D): ``core(x_t, state)`` and its
    ``output`` for a :class:`Cell`, a sequence of length 1 for a wrapper (Stacked), so that
    generation can feed each output back into any recurrent core."""
    if isinstance(core, Cell):
        state = core(x, state)
        return core.output(state), state
    if not getattr(core, "returns_state", True):
        raise ValueError(f"run_step: {type(core).__name__} keeps no state between calls, so it "
                         f"cannot be run one step at a time")
    hs, state = core(x.reshape(1, *x.shape), state)
    return hs[0], state


def state_layout(core):
    """The nested tuple of state sizes that ``core`` passes from one step to the next:
    ``cell.state_sizes()`` for a cell, one entry per layer for a :class:`Stacked`."""
    if isinstance(core, Cell):
        return tuple(core.state_sizes())
    layers = getattr(core, "layers", None)
    if layers is None:
        raise ValueError(f"{type(core).__name__} exposes no state layout (a Cell or a Stacked "
                         f"of cells is needed)")
    return tuple(state_layout(layer) for layer in layers)


def batch_size(state):
    """The batch size of a (possibly nested) state tuple."""
    while isinstance(state, (tuple, list)):
        state = state[0]
    return state.shape[0]
