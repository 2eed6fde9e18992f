"""DOT emission: every box, cluster and line at the place :mod:`tools.render.layout` gave it.

Graphviz only draws (``neato -n2`` keeps the positions and the edge paths it is given), so
the same graph gives the same DOT text and the same picture. Time runs left to right, data
flows bottom to top (inputs below, outputs above).
"""
import graphviz

from . import escape
from .gradients import UNREACHED
from .graph import INPUT, PARAMETER, STATE
from .grid import INPUT_MARK, OUTPUT_MARK
from .picture import CELL, DATA, DELAY, OP, PARAMETER_EDGE, RECURRENT, STACK, STATE_VALUE
from .steps import is_step_scope
from .tcn import OUTSIDE

FONT = "Helvetica"
MARKER = "marker"
NODE_STYLES = {
    PARAMETER: {"shape": "box", "style": "rounded,filled", "fillcolor": "#ffe08a"},
    INPUT: {"shape": "box", "style": "rounded,filled", "fillcolor": "#bcdcf5"},
    STATE: {"shape": "box", "style": "rounded,filled,dashed", "fillcolor": "#e4eef7"},
    OP: {"shape": "ellipse", "style": "filled", "fillcolor": "#ffffff"},
    CELL: {"shape": "box", "style": "rounded,filled", "fillcolor": "#c9ebc3"},
    STACK: {"shape": "box", "style": "rounded,filled", "fillcolor": "#ffffff"},
    STATE_VALUE: {"shape": "circle", "style": "filled", "fillcolor": "#ececec",
                  "fixedsize": "true"},
    DELAY: {"shape": "square", "style": "filled", "fillcolor": "#000000", "fixedsize": "true",
            "fontcolor": "#000000"},
    MARKER: {"shape": "box", "style": "rounded,filled", "fillcolor": "#e3f0fb", "color": "#7f9fbf",
             "fontsize": "9"},
}
OUTPUT_FILL = "#f7b6a8"
KIND_ORDER = (INPUT, STATE, PARAMETER, CELL, STATE_VALUE, OP, STACK, "output", DELAY)
KIND_TEXT = {INPUT: "input (rounded box)", STATE: "initial state (dashed box)",
             PARAMETER: "parameter, shared by all steps (rounded box)",
             CELL: "one cell step (rounded box)", STATE_VALUE: "state leaving a step (circle)",
             OP: "primitive op (ellipse)", STACK: "outputs stacked over time (box)",
             "output": "what was drawn (red fill)",
             DELAY: "delay: holds a state for one step (black square)"}
STATE_COLOURS = ("#1f5fbf", "#c03a2b", "#2a8a3e", "#c07a12", "#7a5230")
EDGE_COLOURS = {DATA: "#404040", PARAMETER_EDGE: "#b89a3c"}


def state_colours(picture):
    labels = sorted({line.label for line in picture.lines if line.kind == RECURRENT and line.label})
    return {name: STATE_COLOURS[i % len(STATE_COLOURS)] for i, name in enumerate(labels)}


def _cluster_attrs(key, folded):
    name = key[-1]
    attrs = {"fontname": FONT, "fontsize": "10", "labeljust": "l"}
    if is_step_scope(name) or (folded and name == "t"):
        attrs.update(style="rounded,filled", fillcolor="#f3f4f8", color="#7a7f99",
                     penwidth="1.4", fontsize="12", **{"class": "step"})
    else:
        attrs.update(style="rounded,dashed", color="#a0a0a0", fontcolor="#606060",
                     **{"class": "scope"})
    return attrs


def _node_attrs(box):
    attrs = dict(NODE_STYLES.get(box.kind, NODE_STYLES[OP]))
    cls = box.kind.replace(" ", "_")
    if box.kind == MARKER:
        cls = "marker " + ("x_t" if box.role == INPUT_MARK else "y_t")
        if box.role == OUTPUT_MARK:
            attrs.update(fillcolor="#fbe3dd", color="#c98a7c")
    if box.role == INPUT_MARK and box.kind != MARKER:
        cls += " x_t"
    attrs["class"] = cls + (" output" if box.output else "")
    if box.output:
        attrs["fillcolor"] = OUTPUT_FILL
    return attrs


def _edge_attrs(line, colours):
    attrs = {"color": EDGE_COLOURS.get(line.kind, "#404040"), "class": line.kind}
    if line.kind == PARAMETER_EDGE:
        attrs["style"] = "dashed"
    if line.kind == RECURRENT:
        colour = colours.get(line.label, STATE_COLOURS[0])
        attrs.update(color=colour, fontcolor=colour, penwidth="2")
    if getattr(line, "colour", None):
        attrs.update(color=line.colour, penwidth="1" if line.colour == OUTSIDE else "1.6")
    if getattr(line, "style", None):
        attrs["style"] = line.style
    if line.gradient is not None:
        if line.shade is not None:
            colour, width = line.shade
            attrs.update(color=colour, penwidth=f"{width:.2f}")
        else:
            attrs.update(color=UNREACHED, penwidth="1")
    return attrs


def _cell(attrs=""):
    return f'<TD FIXEDSIZE="TRUE" {attrs}></TD>'


def _key(colour, style):
    """A legend key drawn as table cells, not as a character (so no font can change it): a
    filled box (``box``, ``rounded``, ``dashed``: its border), or a line (``solid``,
    ``thick``, ``dashed``) in ``colour``."""
    if style in ("box", "rounded", "dashed-box"):
        look = {"rounded": ' STYLE="rounded"', "dashed-box": ' STYLE="dashed"'}.get(style, "")
        inner = _cell(f'WIDTH="16" HEIGHT="10" BGCOLOR="{colour}" BORDER="1" '
                      f'COLOR="#606060"{look}')
    elif style == "dashed":
        inner = "".join(_cell(f'WIDTH="4" HEIGHT="1" BGCOLOR="{colour}"') for _ in range(3))
    else:
        inner = _cell(f'WIDTH="18" HEIGHT="{3 if style == "thick" else 1}" '
                      f'BGCOLOR="{colour}"')
    spacing = 2 if style == "dashed" else 0
    return (f'<TD ALIGN="CENTER" VALIGN="MIDDLE"><TABLE BORDER="0" CELLBORDER="0" '
            f'CELLSPACING="{spacing}" CELLPADDING="0"><TR>{inner}</TR></TABLE></TD>')


def _swatch(colour, text, style="box"):
    """One legend row: a key (:func:`_key`) in ``colour``, and text."""
    return f'<TR>{_key(colour, style)}<TD ALIGN="LEFT">{escape.html_text(text)}</TD></TR>'


def _legend(picture, colours, scale):
    kinds = {b.kind for b in picture.boxes.values() if not b.output} | (
        {"output"} if any(b.output for b in picture.boxes.values()) else set())
    looks = {OP: "rounded", STATE_VALUE: "rounded", STATE: "dashed-box"}
    rows = []
    for kind in KIND_ORDER:
        if kind in kinds:
            fill = OUTPUT_FILL if kind == "output" else NODE_STYLES[kind]["fillcolor"]
            rows.append(_swatch("#000000" if kind == DELAY else fill, KIND_TEXT[kind],
                                looks.get(kind, "box")))
    if MARKER in kinds:
        rows.append(_swatch("#7f9fbf", "x_t / y_t: a step's slice of a sequence", "thick"))
    lines = {line.kind for line in picture.lines}
    extra = getattr(picture, "extra_legend", None)
    if extra:
        rows += [_swatch(colour, text, *style or ("thick",)) for colour, text, *style in extra]
    elif scale is None:
        if DATA in lines:
            rows.append(_swatch(EDGE_COLOURS[DATA], "data (solid line)", "solid"))
        if PARAMETER_EDGE in lines:
            rows.append(_swatch(EDGE_COLOURS[PARAMETER_EDGE], "parameter use (dashed line)",
                                "dashed"))
        for name, colour in colours.items():
            rows.append(_swatch(colour, f"{name}: recurrent state (thick line)", "thick"))
    else:
        rows.append('<TR><TD ALIGN="CENTER"><FONT COLOR="#404040">\u2190</FONT></TD>'
                    '<TD ALIGN="LEFT">arrows point back: gradient flows to the producer'
                    '</TD></TR>')
        for i in range(scale.bins):
            rows.append(_swatch(scale.colour(i), f"||gradient|| {scale.range_text(i)}",
                                "thick"))
        rows.append(_swatch(UNREACHED, "grey: no gradient flows along this edge", "thick"))
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="1">'
            + "".join(rows) + "</TABLE>>")


def _point(p):
    return f"{p[0]:.1f},{p[1]:.1f}"


def _edge_pos(points):
    """``e,tip`` and the spline (3n+1 points), the spline ending one arrow before the tip."""
    points = list(points)
    while len(points) < 4:
        points.append(points[-1])
    tip = points[-1]
    before = next((p for p in reversed(points[:-1]) if p != tip), tip)
    dx, dy = tip[0] - before[0], tip[1] - before[1]
    length = (dx * dx + dy * dy) ** 0.5 or 1.0
    arrow = min(6.0, length * 0.8)
    end = (tip[0] - dx / length * arrow, tip[1] - dy / length * arrow)
    points[-1] = end
    if points[-2] == tip:
        points[-2] = end
    return f"e,{_point(tip)} " + " ".join(_point(p) for p in points)


class PlacedDigraph(graphviz.Digraph):
    """A graph whose nodes, clusters and edges already have positions: drawn by ``neato -n2``."""

    def pipe(self, *args, **kwargs):
        kwargs.setdefault("neato_no_op", 2)
        kwargs.setdefault("engine", "neato")
        return super().pipe(*args, **kwargs)

    def render(self, *args, **kwargs):
        kwargs.setdefault("neato_no_op", 2)
        kwargs.setdefault("engine", "neato")
        return super().render(*args, **kwargs)


def _nested(key_list):
    """Cluster keys, parents before children: (key, parent key or None)."""
    keys = sorted(key_list, key=lambda k: (len(k), k))
    out = []
    for key in keys:
        parent = None
        for other in keys:
            if len(other) < len(key) and key[:len(other)] == other:
                if parent is None or len(other) > len(parent):
                    parent = other
        out.append((key, parent))
    return out


def emit(picture, layout, scale=None, title=None, hint=None):
    """The :class:`graphviz.Digraph` of ``picture`` placed by ``layout``."""
    dot = PlacedDigraph("minigrad", engine="neato", comment="positions fixed: draw with neato -n2")
    colours = state_colours(picture)
    legend = _legend(picture, colours, scale)
    legend_rows = legend.count('<TD ALIGN="LEFT">')   # one text cell per row
    x0, y0, x1, y1 = layout.bb
    legend_w, legend_h = 240.0, 13.0 * legend_rows + 8
    top = y1 + (22 if title else 0) + (16 if hint else 0)
    lx, ly = x1 - legend_w / 2, y0 - 8 - legend_h / 2
    bb = (min(x0, lx - legend_w / 2), ly - legend_h / 2 - 4, max(x1, lx + legend_w / 2), top + 4)
    dot.attr(bb=",".join(f"{v:.1f}" for v in bb), fontname=FONT, splines="true",
             outputorder="edgesfirst")
    if title:
        dot.attr(label=escape.label(title), labelloc="t", fontsize="14",
                 lp=_point(((bb[0] + bb[2]) / 2, top - 10)))
    dot.attr("node", fontname=FONT, fontsize="10", margin="0.04,0.02")
    dot.attr("edge", fontname=FONT, fontsize="9", arrowsize="0.6")
    # clusters: (frame, t, group) keys from the layout, step rectangles
    clusters = layout.clusters
    members = {key: [] for key in clusters}
    placed = set()
    for box in picture.boxes.values():
        best = None
        for key in clusters:
            if key in layout.box_clusters.get(box.id, ()) and (best is None or len(key) > len(best)):
                best = key
        if best is not None:
            members[best].append(box)
            placed.add(box.id)
    subgraphs = []
    for number, (key, parent) in enumerate(_nested(list(clusters))):
        subgraphs.append((key, parent, f"cluster_{number}"))

    def node(graph, box):
        x, y, w, h = layout.nodes[box.id]
        attrs = _node_attrs(box)
        attrs.update(pos=_point((x, y)) + "!", width=f"{w / 72:.3f}", height=f"{h / 72:.3f}",
                     tooltip=box.tooltip or box.label, id=box.id)
        graph.node(box.id, escape.label(box.label), **attrs)

    def fill(graph, key):
        for box in members.get(key, []):
            node(graph, box)
        for child, parent, name in subgraphs:
            if parent == key:
                with graph.subgraph(name=name) as sub:
                    rect = clusters[child]
                    label = layout.cluster_labels.get(child, (str(child[-1]), None))
                    attrs = _cluster_attrs((label[0],), picture.folded)
                    attrs["bb"] = ",".join(f"{v:.1f}" for v in rect)
                    attrs["label"] = escape.label(label[0])
                    if label[1] is not None:
                        attrs["lp"] = _point(label[1])
                    if child in layout.cluster_ids:
                        attrs["id"] = layout.cluster_ids[child]
                    attrs["tooltip"] = " / ".join(str(part) for part in child[0]) + \
                        f" {label[0]}" if isinstance(child[0], tuple) else label[0]
                    sub.attr(**attrs)
                    fill(sub, child)

    for box in picture.boxes.values():
        if box.id not in placed:
            node(dot, box)
    fill(dot, None)
    for ident, text, x, y, attrs in layout.texts:
        dot.node(ident, escape.label(text), shape="plaintext", pos=_point((x, y)) + "!",
                 width="0.1", height="0.1", margin="0", tooltip=text,
                 **{"class": "note", **attrs})
    if hint:
        dot.node("hint", escape.label(hint), shape="plaintext", fontsize="10",
                 fontcolor="#a04000", pos=_point(((bb[0] + bb[2]) / 2, top - (30 if title else 10)))
                 + "!", tooltip=hint, **{"class": "hint"})
    for i, line in enumerate(picture.lines):
        points = layout.routes[i]
        attrs = _edge_attrs(line, colours)
        tail, head = line.source, line.target
        if line.gradient is not None:
            points = list(reversed(points))
        attrs["pos"] = _edge_pos(points)
        attrs["tooltip"] = line.tooltip or f"{tail} -> {head}"
        attrs["id"] = f"e{i}:{tail}:{head}"
        if line.kind == RECURRENT and line.label:
            attrs["class"] += f" state-{line.label}"
        if i in layout.line_labels and (line.display or line.label):
            text = line.display or line.label
            attrs.update(label=escape.label(text), lp=_point(layout.line_labels[i]))
        dot.edge(tail, head, **attrs)
    dot.node("legend", legend, shape="plaintext", fontsize="9", pos=_point((lx, ly)) + "!",
             width=f"{legend_w / 72:.2f}", height=f"{legend_h / 72:.2f}", tooltip="legend",
             **{"class": "legend"})
    return dot
