"""``to_dot``: from output tensors to a :class:`graphviz.Digraph`, in either view and detail.

One pass: the recorded graph -> the boxes and lines to draw (:mod:`picture`) -> their place
in the grid of time steps (:mod:`grid`) -> positions and edge paths (:mod:`layout`) -> DOT
(:mod:`dot`), drawn by ``neato -n2`` without moving anything.
"""
import warnings

from . import dot as emit_dot
from .folded import folded_edges, folded_scope
from .gradients import shade
from .graph import extract, parameter_names
from .grid import arrange
from .hover import describe
from .layout import arrange_positions
from .picture import DELAY, RECURRENT, build
from .tcn import tcn_levels, tcn_picture
from .unrolled import unrolled_edges, unrolled_scope

VIEWS = ("unrolled", "folded")
DETAILS = ("cell", "op")
MAX_NODES = 1500
NO_STEPS = ("no time steps found: wrap each step in mg.scope(f\"t={t}\") to see it unrolled "
            "(and folded)")


def _choose(name, value, valid):
    if value not in valid:
        raise ValueError(f"render: {name} must be one of {', '.join(valid)}; got {value!r}")


def _hidden_notes(graph, norms):
    """(frame, t) -> "||dL/dh_t|| = ..." for the h each step hands on."""
    notes = {}
    for node in graph.nodes:
        step = node.step
        if step is not None and node.index in norms and step.rest and step.rest[-1] == "hidden":
            notes[(step.frame, step.t)] = f"||dL/dh_{step.t + 1}|| = {norms[node.index]:.2g}"
    return notes


def picture_of(outputs, view="unrolled", detail="cell", backward=False, max_nodes=MAX_NODES,
               module=None, params=None, loss=None):
    """The :class:`~tools.render.picture.Picture` and, with ``backward``, its gradient scale."""
    _choose("view", view, VIEWS)
    _choose("detail", detail, DETAILS)
    graph = extract(outputs, parameter_names(module, params))
    if detail == "op" and max_nodes is not None and len(graph.nodes) > max_nodes:
        warnings.warn(f"render: the graph has {len(graph.nodes)} nodes, more than "
                      f"max_nodes={max_nodes}; drawing it in cell detail instead of op detail "
                      f"(raise max_nodes to force op detail)", stacklevel=3)
        detail = "cell"
    levels = None if backward or detail == "op" else tcn_levels(graph)
    if levels is not None and not any(n.step is not None for n in graph.nodes):
        picture, picture.layout = tcn_picture(graph, levels, folded=view == "folded")
        picture.grid, picture.hint, picture.notes = None, "", {}
        return picture, None
    if view == "folded":
        edges, outputs_drawn = folded_edges(graph, detail == "cell")
        picture = build(graph, edges, outputs_drawn, detail, folded_scope, folded=True)
    else:
        picture = build(graph, unrolled_edges(graph, detail == "cell"), graph.outputs, detail,
                        unrolled_scope)
    picture.grid = arrange(graph, picture)
    picture.hint = NO_STEPS if picture.grid is None else ""
    picture.notes, scale, norms = {}, None, None
    if backward:
        scale, norms = shade(picture, graph, loss)
        if picture.grid is not None and not picture.folded:
            picture.notes = _hidden_notes(graph, norms)
    for line in picture.lines:
        if line.kind == RECURRENT and picture.boxes[line.source].kind == DELAY:
            frame = picture.grid.frames[picture.boxes[line.source].frame]
            sign = "+" if frame.reverse else "-"
            line.display = f"{line.label}_{{t{sign}{line.delay}}}"
    describe(picture, graph, norms)
    return picture, scale


def to_dot(outputs, view="unrolled", detail="cell", backward=False, max_nodes=MAX_NODES,
           module=None, params=None, loss=None, title=None):
    """The graph that made ``outputs`` as a :class:`graphviz.Digraph` (drawn by ``neato -n2``).

    ``view``: ``"unrolled"`` (one cluster per time step) or ``"folded"`` (one step, recurrent
    states looping through a delay). ``detail``: ``"cell"`` (one box per cell step) or
    ``"op"`` (every primitive, grouped by gate); op detail past ``max_nodes`` nodes falls back
    to cell detail with a warning. ``backward``: shade each edge by the norm of the gradient
    flowing along it, on a log scale, with L = ``loss`` (default: the output if it is one
    number, else the sum of the outputs). Parameters are named from
    ``module.named_parameters()`` or a ``params`` name->tensor map.
    """
    picture, scale = picture_of(outputs, view, detail, backward, max_nodes, module, params,
                                loss)
    if backward and title and "backward" not in title.lower():
        title = f"{title} (backward: gradient along each edge)"
    elif backward and not title:
        title = "backward: gradient along each edge"
    layout = getattr(picture, "layout", None) or arrange_positions(picture, picture.grid,
                                                                   picture.notes)
    return emit_dot.emit(picture, layout, scale, title, picture.hint)
