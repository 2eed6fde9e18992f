"""Reading time steps out of scope paths.

Unrolling stamps step t's ops with a scope such as ``t=3/lstm/forget_gate``; wrappers put
their own names around it (``forward/t=3/lstm``, ``encoder/t=0/gru``). A scope path is read
as ``frame / t=N / rest``: the frame says which recurrence (which direction, layer, encoder
or decoder) the step belongs to, N is the time step, and rest is the place inside the cell.
"""
import re
from typing import NamedTuple

_STEP = re.compile(r"t=(\d+)")

#: Short names of recurrent states, by the scope in which the cell computes them.
STATE_NAMES = {"hidden": "h", "cell_state": "c", "output": "y"}


class Step(NamedTuple):
    frame: tuple
    t: int
    rest: tuple


def parse_step(scope):
    """The :class:`Step` of a scope tuple, or None when no component is ``t=N``."""
    for i, part in enumerate(scope):
        match = _STEP.fullmatch(part)
        if match:
            return Step(tuple(scope[:i]), int(match.group(1)), tuple(scope[i + 1:]))
    return None


def is_step_scope(part):
    return _STEP.fullmatch(part) is not None


def state_name(step, op_name):
    """What a tensor carried from one step to a later one is called: ``h``, ``c``, or the
    scope (else the op) that made it."""
    if step is not None and step.rest:
        return STATE_NAMES.get(step.rest[-1], step.rest[-1])
    return op_name


def step_places(nodes):
    """index -> where the node sits in its step: (frame, rest, op, n) for the n-th op of that
    kind in that scope of the step. Steps of one frame repeat the same places."""
    places, seen = {}, {}
    for node in nodes:
        if node.step is not None and node.tensor.node is not None:
            frame, t, rest = node.step
            counter = (frame, t, rest, node.op)
            seen[counter] = seen.get(counter, 0) + 1
            places[node.index] = (frame, rest, node.op, seen[counter])
    return places
