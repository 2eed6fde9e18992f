"""The errors of :func:`minigrad.compile`: a call it cannot capture, a replay that differs."""


class CompileError(RuntimeError):
    """``fn`` did something a plan cannot replay (higher-order gradients, an op made
    outside :func:`minigrad.tensor.apply`, parameters changed inside the step)."""


class CompileMismatch(AssertionError):
    """``check=True``: the replayed plan and the eager run disagree."""
