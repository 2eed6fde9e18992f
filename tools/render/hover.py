"""Tooltips (SVG titles): what a box or a line holds, for a reader who hovers over it.

A box says its scope, op, shape and dtype and the min/max/mean of its value; a line says
what it carries from where to where; in the backward view both add the gradient norm.
"""
import numpy as np


def value_stats(values):
    """``min .. max .. mean ..`` of a float64 array, for a tooltip."""
    if values.size == 0:
        return "empty"
    return f"min {values.min():.3g}  max {values.max():.3g}  mean {values.mean():.3g}"


def _stats(tensor):
    try:
        values = np.asarray(tensor.numpy(), dtype=np.float64)
    except (TypeError, ValueError):
        return ""
    return value_stats(values)


def describe_node(node, norms=None):
    t = node.tensor
    scope = "/".join(node.scope) or "(top level)"
    kind = f"op {t.op}" if t.op else node.kind
    text = [f"scope: {scope}", f"{kind}, shape {tuple(t.shape)}, {t.dtype}", _stats(t)]
    if norms is not None and node.index in norms:
        text.append(f"||dL/d value|| = {norms[node.index]:.3g}")
    return "\n".join(text)


def describe(picture, graph, norms=None):
    """Fill ``tooltip`` on every box and line of ``picture``."""
    boxes = picture.boxes
    for box in boxes.values():
        if box.members:
            main = graph.nodes[max(box.members)]
            head = box.label.replace("\n", " ")
            extra = f"\n{len(box.members)} ops" if len(box.members) > 1 else ""
            box.tooltip = f"{head}\n{describe_node(main, norms)}{extra}"
        elif not box.tooltip:
            box.tooltip = box.label.replace("\n", " ") or box.kind
    for line in picture.lines:
        a, b = boxes[line.source], boxes[line.target]
        what = line.label or line.kind
        text = f"{what}: {a.label.splitlines()[0] if a.label else a.kind} -> " \
               f"{b.label.splitlines()[0] if b.label else b.kind}"
        if line.sources:
            text += "\n" + describe_node(graph.nodes[min(line.sources)])
        if line.gradient is not None:
            text += f"\n||gradient along this edge|| = {line.gradient:.3g}"
        line.tooltip = text
