"""``to_dot``: from output tensors to a :class:`graphviz.Digraph`, in either view and detail."""
import warnings

from . import dot as emit_dot
from .folded import folded_edges, folded_scope
from .gradients import gradient_norms, shade
from .graph import extract, parameter_names
from .picture import build
from .placement import time_ordered_layout
from .unrolled import unrolled_edges, unrolled_scope

VIEWS = ("unrolled", "folded")
DETAILS = ("cell", "op")
MAX_NODES = 1500


def _choose(name, value, valid):
    if value not in valid:
        raise ValueError(f"render: {name} must be one of {', '.join(valid)}; got {value!r}")


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
    if view == "folded":
        edges, outputs_drawn = folded_edges(graph)
        picture = build(graph, edges, outputs_drawn, detail, folded_scope, folded=True)
    else:
        picture = build(graph, unrolled_edges(graph), graph.outputs, detail, unrolled_scope)
    scale = shade(picture, gradient_norms(graph, loss)) if backward else None
    return picture, scale


def to_dot(outputs, view="unrolled", detail="cell", backward=False, max_nodes=MAX_NODES,
           module=None, params=None, loss=None, title=None):
    """The graph that made ``outputs`` as a :class:`graphviz.Digraph`.

    ``view``: ``"unrolled"`` (one cluster per time step) or ``"folded"`` (one step, recurrent
    states looping through a delay). ``detail``: ``"cell"`` (one box per cell step) or
    ``"op"`` (every primitive, grouped by gate); op detail past ``max_nodes`` nodes falls back
    to cell detail with a warning. ``backward``: shade edges by ||dL/dx|| on a log scale,
    with L = ``loss`` (default: the output if it is one number, else the sum of the outputs).
    Parameters are named from ``module.named_parameters()`` or a ``params`` name->tensor map.
    """
    picture, scale = picture_of(outputs, view, detail, backward, max_nodes, module, params,
                                loss)
    digraph = emit_dot.emit(picture, scale, title)
    layout = time_ordered_layout(digraph, emit_dot.step_clusters(picture))
    return emit_dot.emit(picture, scale, title, layout) if layout else digraph
