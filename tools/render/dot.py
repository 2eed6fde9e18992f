"""DOT emission: boxes in nested scope clusters, styled lines, and a legend.

Everything is emitted in a fixed order (graph order, then first appearance), so the same
graph gives the same DOT text. Time runs left to right, data flows bottom to top (inputs
below, outputs above): ``rankdir=BT`` with recurrent edges that do not constrain ranks.
"""
import graphviz

from . import escape
from .gradients import UNREACHED
from .graph import INPUT, PARAMETER, STATE
from .picture import CELL, DATA, DELAY, OP, PARAMETER_EDGE, RECURRENT, STACK, STATE_VALUE
from .placement import PlacedDigraph
from .steps import is_step_scope

FONT = "Helvetica"
NODE_STYLES = {
    PARAMETER: {"shape": "box", "style": "rounded,filled", "fillcolor": "#ffe08a"},
    INPUT: {"shape": "box", "style": "rounded,filled", "fillcolor": "#bcdcf5"},
    STATE: {"shape": "box", "style": "rounded,filled,dashed", "fillcolor": "#e4eef7"},
    OP: {"shape": "ellipse", "style": "filled", "fillcolor": "#ffffff"},
    CELL: {"shape": "box", "style": "rounded,filled", "fillcolor": "#c9ebc3"},
    STACK: {"shape": "box", "style": "rounded,filled", "fillcolor": "#ffffff"},
    STATE_VALUE: {"shape": "circle", "style": "filled", "fillcolor": "#dcd3f2", "width": "0.3",
                  "fixedsize": "true"},
    DELAY: {"shape": "square", "style": "filled", "fillcolor": "#000000", "width": "0.22",
            "height": "0.22", "fixedsize": "true", "fontcolor": "#000000"},
}
OUTPUT_FILL = "#f7b6a8"
KIND_ORDER = (INPUT, STATE, PARAMETER, CELL, STATE_VALUE, OP, STACK, "output", DELAY)
STATE_COLOURS = ("#1f5fbf", "#c03a2b", "#2a8a3e", "#8a4fbf", "#c07a12")
EDGE_COLOURS = {DATA: "#404040", PARAMETER_EDGE: "#b89a3c"}


def state_colours(picture):
    labels = sorted({line.label for line in picture.lines if line.kind == RECURRENT and line.label})
    return {name: STATE_COLOURS[i % len(STATE_COLOURS)] for i, name in enumerate(labels)}


def _cluster_tree(picture):
    """Cluster keys in first-appearance order, and the boxes directly inside each."""
    order, inside = [], {(): []}
    for box in picture.boxes.values():
        for key in box.clusters:
            if key not in inside:
                inside[key] = []
                order.append(key)
        inside[box.clusters[-1] if box.clusters else ()].append(box)
    children = {key: [] for key in inside}
    for key in order:
        children[key[:-1] if len(key) > 1 else ()].append(key)
    return order, inside, children


def _cluster_attrs(key, folded):
    name = key[-1]
    attrs = {"label": escape.label(name), "fontname": FONT, "fontsize": "11", "labelloc": "b"}
    if is_step_scope(name) or (folded and name == "t"):
        attrs.update(style="rounded,filled", fillcolor="#f3f4f8", color="#7a7f99",
                     penwidth="1.4", fontsize="13", **{"class": "step"})
    else:
        attrs.update(style="rounded,dashed", color="#a0a0a0", **{"class": "scope"})
    return attrs


def _node_attrs(box):
    attrs = dict(NODE_STYLES[box.kind])
    attrs["class"] = box.kind.replace(" ", "_") + (" output" if box.output else "")
    if box.output:
        attrs["fillcolor"] = OUTPUT_FILL
    return attrs


def _reversed(line, picture):
    """Recurrent edges run from the top of one step to the bottom of the next; they are
    written target -> source (drawn with the arrow turned back) so that every step keeps
    the same ranks and the steps line up in time order."""
    if line.kind != RECURRENT:
        return False
    return not picture.folded or picture.boxes[line.source].kind == DELAY


def _edge_attrs(line, colours, backwards):
    attrs = {"color": EDGE_COLOURS.get(line.kind, "#404040"), "class": line.kind}
    if line.kind == PARAMETER_EDGE:
        attrs["style"] = "dashed"
    if line.kind == RECURRENT:
        colour = colours.get(line.label, STATE_COLOURS[0])
        attrs.update(color=colour, fontcolor=colour, penwidth="2")
        if line.label:
            attrs["label"] = escape.label(line.label)
    gradient = line.gradient is not None
    if line.shade is not None:
        colour, width = line.shade
        attrs.update(color=colour, penwidth=f"{width:.2f}")
    elif gradient:
        attrs.update(color=UNREACHED, style="dotted")
    if backwards != gradient:
        attrs["dir"] = "back"
    return attrs


def _legend(picture, colours, scale):
    kinds = {b.kind for b in picture.boxes.values() if not b.output} | (
        {"output"} if any(b.output for b in picture.boxes.values()) else set())
    rows = []
    for kind in KIND_ORDER:
        if kind in kinds:
            fill = OUTPUT_FILL if kind == "output" else NODE_STYLES[kind]["fillcolor"]
            rows.append((fill, kind))
    for name, colour in colours.items():
        rows.append((colour, f"{name}: recurrent state"))
    if scale is not None:
        for i in range(scale.bins):
            rows.append((scale.colour(i), f"||dL/dx|| {scale.range_text(i)}"))
        rows.append((UNREACHED, "no gradient"))
    cells = "".join(f'<TR><TD BGCOLOR="{fill}" WIDTH="18"> </TD>'
                    f'<TD ALIGN="LEFT">{escape.html_text(text)}</TD></TR>' for fill, text in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="2">{cells}</TABLE>>'


def step_clusters(picture):
    """recurrence (frame) -> [(t, DOT cluster name)] of the unrolled view's step clusters."""
    if picture.folded:
        return {}
    order, _, _ = _cluster_tree(picture)
    steps = {}
    for number, key in enumerate(order):
        if is_step_scope(key[-1]):
            steps.setdefault(key[:-1], []).append((int(key[-1][2:]), f"cluster_{number}"))
    return steps


def emit(picture, scale=None, title=None, layout=None):
    """The :class:`graphviz.Digraph` of ``picture`` (``scale`` adds the gradient legend).

    With a ``layout`` (:func:`tools.render.placement.time_ordered_layout`) every node and
    cluster gets its position, and the graph is drawn by ``neato -n2`` instead of ``dot``.
    """
    layout = layout or {}
    if layout:
        dot = PlacedDigraph("minigrad", engine="neato",
                            comment="positions fixed: draw with neato -n2")
        dot.attr(**layout["graph"])
    else:
        dot = graphviz.Digraph("minigrad")
    dot.attr(rankdir="BT", newrank="true", nodesep="0.25", ranksep="0.35", fontname=FONT,
             compound="true")
    if title:
        dot.attr(label=escape.label(title), labelloc="t", fontsize="14")
    dot.attr("node", fontname=FONT, fontsize="10", height="0.3", margin="0.06,0.03")
    dot.attr("edge", fontname=FONT, fontsize="9", arrowsize="0.6")
    order, inside, children = _cluster_tree(picture)
    numbers = {key: i for i, key in enumerate(order)}
    node_places, cluster_places = layout.get("nodes", {}), layout.get("clusters", {})

    def fill(graph, key):
        for box in inside[key]:
            graph.node(box.id, escape.label(box.label), **_node_attrs(box),
                       **node_places.get(box.id, {}))
        for child in children[key]:
            name = f"cluster_{numbers[child]}"
            with graph.subgraph(name=name) as sub:
                sub.attr(**_cluster_attrs(child, picture.folded),
                         **cluster_places.get(name, {}))
                fill(sub, child)

    fill(dot, ())
    colours = state_colours(picture)
    edge_places = {ends: list(places) for ends, places in layout.get("edges", {}).items()}
    for line in picture.lines:
        backwards = _reversed(line, picture)
        tail, head = (line.target, line.source) if backwards else (line.source, line.target)
        places = edge_places.get((tail, head))
        dot.edge(tail, head, **_edge_attrs(line, colours, backwards),
                 **(places.pop(0) if places else {}))
    for row in picture.aligned:
        with dot.subgraph() as same:
            same.attr(rank="same")
            for box_id in row:
                same.node(box_id)
    with dot.subgraph(name="cluster_legend") as legend:
        legend.attr(label="legend", style="rounded", color="#a0a0a0", fontname=FONT,
                    **{"class": "legend"}, **cluster_places.get("cluster_legend", {}))
        legend.node("legend", _legend(picture, colours, scale), shape="plaintext",
                    fontsize="9", **{"class": "legend"}, **node_places.get("legend", {}))
    return dot
