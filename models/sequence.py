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
