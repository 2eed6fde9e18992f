"""A temporal convolutional network on a time axis: one node per time step per level, and the
dilated taps between them (the causal dilated convolution figure of 000_*.txt, Bai, Kolter &
Koltun 2018).

A TCN computes each level over the whole sequence at once, so its recorded graph has no step
scopes; its blocks are read from the scopes ``block={i} dilation={d}/conv1|conv2|residual``
and the kernel size from the convolution weights (out, in, k). Level L at step t reads level
L-1 at t, t-d, ..., t-(k-1)d; a block's output also adds its input at t (the residual). The
taps that reach the last output (its receptive field) are drawn dark, the others light.
"""
import re

import numpy as np

from .graph import INPUT, PARAMETER
from .grid import INPUT_MARK, STEP
from .hover import value_stats
from .layout import Layout, polyline, s_curve
from .picture import DATA, STATE_VALUE, Box, Line, Picture

_BLOCK = re.compile(r"block=(\d+) dilation=(\d+)")
FIELD, OUTSIDE = "#0f7b6c", "#c4c4c4"
COLUMN, LEVEL = 64.0, 62.0


def tcn_levels(graph):
    """[(name, dilation, graph index of the level's output, taps)] bottom to top, or None
    when the graph is not a TCN's. The first level is the input (index None)."""
    blocks = {}
    for node in graph.nodes:
        if not node.scope:
            continue
        match = _BLOCK.fullmatch(node.scope[0])
        if match is None or len(node.scope) < 2:
            continue
        block = blocks.setdefault(int(match.group(1)), {"dilation": int(match.group(2))})
        part = node.scope[1]
        if len(node.scope) == 2 and node.op == "relu":
            block[part] = node.index
        for p in node.parents:
            parent = graph.nodes[p]
            if parent.kind == PARAMETER and parent.tensor.ndim == 3 and part == "conv1":
                block["kernel"] = parent.tensor.shape[2]
    if not blocks or any("conv1" not in b or "residual" not in b for b in blocks.values()):
        return None
    levels = [("x", 1, None, 0)]
    for i in sorted(blocks):
        b = blocks[i]
        k, d = b.get("kernel", 2), b["dilation"]
        levels.append((f"block {i} conv1 (d={d})", d, b["conv1"], k))
        levels.append((f"block {i} output (d={d})", d, b["residual"], k))
    return levels


def _row_stats(tensor, t):
    values = np.asarray(tensor.numpy()[t], dtype=np.float64)
    return f"shape {tuple(values.shape)}, {tensor.dtype}\n{value_stats(values)}"


def tcn_picture(graph, levels, folded=False):
    """The picture and its layout: levels are rows, time steps columns."""
    steps = graph.nodes[levels[-1][2]].tensor.shape[0]
    ts = [steps - 1] if folded else list(range(steps))
    boxes, lines, layout = {}, [], Layout()
    top = len(levels) - 1

    def node_id(level, t):
        return f"l{level}t{t}"

    field = {(top, steps - 1)}
    for level in range(top, 0, -1):
        _, d, _, k = levels[level]
        for (lv, t) in list(field):
            if lv != level:
                continue
            for j in range(k):
                if t - j * d >= 0:
                    field.add((level - 1, t - j * d))
            if level % 2 == 0:
                field.add((level - 2, t))
    stubs = 40.0 * max(k for *_, k in levels) if folded else 0.0
    x0 = 150.0 + stubs
    for level, (name, d, index, k) in enumerate(levels):
        y = 40 + level * LEVEL
        layout.texts.append((f"level{level}", name, x0 - stubs - 14 - len(name) * 2.9, y,
                             {"fontsize": "9", "fontcolor": "#4a4f6a"}))
        for column, t in enumerate(ts):
            label = ("x_t" if folded else f"x_{t + 1}") if level == 0 else (
                ("y_t" if folded else f"y_{t + 1}") if level == top else "")
            kind = INPUT if level == 0 else STATE_VALUE
            box = Box(node_id(level, t), "marker" if level == 0 else kind, label,
                      frame=("tcn",), t=t, role=INPUT_MARK if level == 0 else STEP)
            box.output = level == top
            if index is not None:
                box.members = [index]
                box.tooltip = (f"{name}, row t={t + 1}\nscope: "
                               f"{'/'.join(graph.nodes[index].scope)}\n"
                               f"{_row_stats(graph.nodes[index].tensor, t)}")
            else:
                box.tooltip = f"input x_{t + 1}"
            boxes[box.id] = box
            w = 30.0 if level in (0, top) else 18.0
            layout.nodes[box.id] = [x0 + column * COLUMN + COLUMN / 2, y, w, 18.0]
    for level in range(1, len(levels)):
        _, d, _, k = levels[level]
        for t in ts:
            sources = [(level - 1, t - j * d, f"t-{j * d}" if j else "", j) for j in range(k)]
            if level % 2 == 0:
                sources.append((level - 2, t, "residual", 0))
            for src_level, src_t, tap, j in sources:
                if src_t < 0 and not folded:
                    continue
                target = node_id(level, t)
                if folded and src_t != t:
                    stub = f"tap{level}_{src_t}"
                    if stub not in boxes:
                        boxes[stub] = Box(stub, "marker", tap, frame=("tcn",), t=t,
                                          role=INPUT_MARK, tooltip=f"level {src_level} at {tap}")
                        x, y = layout.nodes[node_id(src_level, t)][:2]
                        layout.nodes[stub] = [x - 22 - 40 * j, y, 34.0, 16.0]
                    source = stub
                else:
                    source = node_id(src_level, src_t)
                line = Line(source, target, DATA, "")
                line.display = "residual" if tap == "residual" else ""
                inside = folded or ((level, t) in field and (src_level, src_t) in field)
                line.tooltip = f"{levels[level][0]} at t={t + 1} reads level {src_level} " \
                               f"at t={src_t + 1}" + (" (residual)" if tap == "residual" else "")
                line.colour = FIELD if inside else OUTSIDE
                line.style = "dashed" if tap == "residual" else ""
                layout.routes[len(lines)] = _route(layout.nodes[source], layout.nodes[target],
                                                   tap == "residual")
                lines.append(line)
    picture = Picture(boxes, lines, folded)
    for column, t in enumerate(ts):
        x = x0 + column * COLUMN
        rect = (x + 4, 20.0, x + COLUMN - 4, 40 + top * LEVEL + 34)
        key = (("tcn",), t)
        layout.clusters[key] = rect
        label = "t" if folded else f"t={t + 1}"
        layout.cluster_labels[key] = (label, (rect[0] + 16, rect[3] - 9))
        layout.cluster_ids[key] = f"step-r0-c{column}-n{'t' if folded else t + 1}"
        for level in range(len(levels)):
            layout.box_clusters[node_id(level, t)] = {key}
    xs = [n[0] for n in layout.nodes.values()]
    layout.bb = (min(xs) - 160, 0.0, max(xs) + 60, 40 + top * LEVEL + 40)
    picture.extra_legend = [(FIELD, "taps that reach the last output (receptive field)"),
                            (OUTSIDE, "other taps"), ("#404040", "residual: the block's input (dashed)", "dashed")]
    return picture, layout


def _route(a, b, residual):
    start, end = (a[0], a[1] + a[3] / 2), (b[0], b[1] - b[3] / 2)
    if residual:
        bend = a[0] + 14
        return polyline([(a[0] + a[2] / 2, a[1]), (bend, a[1] + 8), (bend, b[1] - 8),
                         (b[0] + b[2] / 2, b[1])])
    return s_curve(start, end)
