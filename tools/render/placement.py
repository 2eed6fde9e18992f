"""Time runs left to right, whatever ``dot`` decides.

``dot`` orders the boxes of one rank to cross few edges, and with shared parameters and
recurrent edges between step clusters it sometimes mirrors or shuffles the steps (neither
flat edges between clusters nor ``ordering`` constrain clusters reliably). So the picture is
laid out once by ``dot`` (``-Tjson``); when a recurrence's steps do not come out as t=0, t=1,
... from left to right, each step cluster is moved into its place in time order (the
clusters keep their width, the gaps between them are reused), together with what hangs only
on that step (its initial state, the reshape of its output). The moved picture is then drawn
by ``neato -n2``, which keeps every position it is given and routes the edges that were cut.
"""
import itertools
import json

import graphviz

MIN_GAP = 8.0
#: Up to this many nodes, cut edges are routed around the boxes (slow on big graphs: past it
#: they are drawn as plain curves).
ROUTED_NODES = 100


class PlacedDigraph(graphviz.Digraph):
    """A graph whose nodes and clusters already have positions: drawn by ``neato -n2``."""

    def pipe(self, *args, **kwargs):
        kwargs.setdefault("neato_no_op", 2)
        return super().pipe(*args, **kwargs)

    def render(self, *args, **kwargs):
        kwargs.setdefault("neato_no_op", 2)
        return super().render(*args, **kwargs)


def _numbers(text):
    return [float(v) for v in text.split(",")]


def _point(x, y):
    return f"{x:.2f},{y:.2f}"


def _shift(text, dx):
    """A ``pos``/``lp`` value (points, optionally ``e,``/``s,`` prefixed) moved by ``dx``."""
    moved = []
    for token in text.split():
        prefix = ""
        if token[:2] in ("e,", "s,"):
            prefix, token = token[:2], token[2:]
        x, y = _numbers(token)
        moved.append(prefix + _point(x + dx, y))
    return " ".join(moved)


def _step_offsets(clusters, steps):
    """cluster name -> dx that puts every recurrence's steps in time order, left to right."""
    offsets = {}
    for frame_steps in steps.values():
        boxes = [(_numbers(clusters[name]["bb"]), name) for _, name in sorted(frame_steps)]
        lefts = [bb[0] for bb, _ in boxes]
        if all(a < b for a, b in itertools.pairwise(lefts)):
            continue
        slots = sorted(bb for bb, _ in boxes)
        gaps = [max(b[0] - a[2], MIN_GAP) for a, b in itertools.pairwise(slots)] + [0.0]
        x = slots[0][0]
        for (bb, name), gap in zip(boxes, gaps):
            offsets[name] = x - bb[0]
            x += bb[2] - bb[0] + gap
    return offsets


def _cluster_members(objects, index, found):
    """Indices of the cluster ``index`` and of every subgraph nested in it."""
    found.append(index)
    for child in objects[index].get("subgraphs", []):
        _cluster_members(objects, child, found)
    return found


def _box(item, dx=0.0):
    x, y = _numbers(item["pos"])
    half_width, half_height = float(item["width"]) * 36, float(item["height"]) * 36
    return (x + dx - half_width, y - half_height, x + dx + half_width, y + half_height)


def _overlaps(a, b, margin=MIN_GAP / 2):
    return (a[0] < b[2] + margin and b[0] < a[2] + margin and a[1] < b[3] + margin
            and b[1] < a[3] + margin)


def _node_offsets(objects, edges, offsets):
    """node index -> dx, subgraph index -> dx: the nodes and clusters in a moved step, and the
    free nodes (in no cluster) whose neighbours in steps all sit in one step, when they fit
    in their new place."""
    step_of, clustered, subgraph_shift = {}, set(), {}
    for index, item in enumerate(objects):
        if not item.get("name", "").startswith("cluster"):
            continue
        clustered.update(item.get("nodes", []))
        if item["name"] in offsets:
            for member in _cluster_members(objects, index, []):
                subgraph_shift[member] = offsets[item["name"]]
        if "step" in item.get("class", "").split():
            for node in item.get("nodes", []):
                step_of[node] = item["name"]
    shift = {node: offsets.get(name, 0.0) for node, name in step_of.items()}
    neighbours = {}
    for edge in edges:
        neighbours.setdefault(edge["tail"], set()).add(edge["head"])
        neighbours.setdefault(edge["head"], set()).add(edge["tail"])
    nodes = [i for i, item in enumerate(objects) if "pos" in item]
    taken = {i: _box(objects[i], shift.get(i, 0.0)) for i in nodes}
    taken.update({("cluster", i): _numbers(objects[i]["bb"]) for i in range(len(objects))
                  if "bb" in objects[i] and "pos" not in objects[i]})
    for i, dx in subgraph_shift.items():
        x0, y0, x1, y1 = taken[("cluster", i)]
        taken[("cluster", i)] = (x0 + dx, y0, x1 + dx, y1)
    for index in nodes:
        if index in clustered:
            continue
        steps = {step_of[n] for n in neighbours.get(index, ()) if n in step_of}
        dx = offsets.get(steps.pop(), 0.0) if len(steps) == 1 else 0.0
        if not dx:
            continue
        moved = _box(objects[index], dx)
        if not any(_overlaps(moved, box) for key, box in taken.items() if key != index):
            shift[index] = dx
            taken[index] = moved
    return shift, subgraph_shift


def time_ordered_layout(digraph, steps):
    """Positions that draw ``digraph`` with each recurrence's steps in time order.

    ``steps``: recurrence -> [(t, cluster name)]. Returns None when ``dot`` already put them
    in order (or is not installed), else ``{"graph": attrs, "nodes": name -> attrs, "clusters":
    name -> attrs, "edges": (tail, head) -> [attrs of each such edge]}``.
    """
    if not steps:
        return None
    try:
        drawn = json.loads(digraph.pipe(format="json", engine="dot"))
    except graphviz.ExecutableNotFound:
        return None
    objects, edges = drawn.get("objects", []), drawn.get("edges", [])
    clusters = {o["name"]: o for o in objects if "bb" in o and o.get("name", "").startswith(
        "cluster")}
    offsets = _step_offsets(clusters, steps)
    if not offsets:
        return None
    shift, moved_subgraphs = _node_offsets(objects, edges, offsets)
    layout = {"nodes": {}, "clusters": {}, "edges": {}}
    left, bottom, right, top = _numbers(drawn["bb"])
    for index, item in enumerate(objects):
        if "pos" in item:
            x, y = _numbers(item["pos"])
            x += shift.get(index, 0.0)
            layout["nodes"][item["name"]] = {"pos": _point(x, y)}
            half = float(item.get("width", 0)) * 36
            left, right = min(left, x - half), max(right, x + half)
        elif "bb" in item and item.get("name", "").startswith("cluster"):
            dx = moved_subgraphs.get(index, 0.0)
            x0, y0, x1, y1 = _numbers(item["bb"])
            attrs = {"bb": f"{x0 + dx:.2f},{y0:.2f},{x1 + dx:.2f},{y1:.2f}"}
            if "lp" in item:
                attrs["lp"] = _shift(item["lp"], dx)
            layout["clusters"][item["name"]] = attrs
            left, right = min(left, x0 + dx), max(right, x1 + dx)
    for edge in sorted(edges, key=lambda e: e["_gvid"]):
        dx_tail, dx_head = shift.get(edge["tail"], 0.0), shift.get(edge["head"], 0.0)
        attrs = {}
        if dx_tail == dx_head and "pos" in edge:
            attrs["pos"] = _shift(edge["pos"], dx_tail)
            if "lp" in edge:
                attrs["lp"] = _shift(edge["lp"], dx_tail)
        ends = (objects[edge["tail"]]["name"], objects[edge["head"]]["name"])
        layout["edges"].setdefault(ends, []).append(attrs)
    splines = "true" if len(layout["nodes"]) <= ROUTED_NODES else "curved"
    graph = {"bb": f"{left:.2f},{bottom:.2f},{right:.2f},{top:.2f}", "splines": splines,
             "sep": "+2", "esep": "+1"}
    if "lp" in drawn:
        graph["lp"] = _point((left + right) / 2, _numbers(drawn["lp"])[1])
    layout["graph"] = graph
    return layout
