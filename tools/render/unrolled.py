"""The unrolled view: every recorded edge, with the ones that carry a state from step t to a
later step of the same recurrence marked as recurrent (delay = how many steps later)."""

from .graph import consumers


def step_delay(source, target):
    """Steps between ``source`` and ``target`` when both are different steps of the same frame
    (a backward-running recurrence goes from t to t-1), else 0."""
    a, b = source.step, target.step
    if a is None or b is None or a.frame != b.frame:
        return 0
    return abs(b.t - a.t)


def _picked_rows(graph):
    """stack index -> {getitem index: the stacked input it picks}, for a ``stack`` of step
    outputs that is only ever read one row at a time (``hs[-1]`` of many-to-one)."""
    used_by = consumers(graph.nodes)
    picked = {}
    for node in graph.nodes:
        if node.op != "stack" or node.step is not None or node.index in graph.outputs:
            continue
        uses = used_by.get(node.index, [])
        rows = {}
        for use in uses:
            index = use.tensor.node.kwargs.get("index") if use.op == "getitem" else None
            if not isinstance(index, int) or not -len(node.parents) <= index < len(node.parents):
                break
            rows[use.index] = node.parents[index]
        else:
            if uses:
                picked[node.index] = rows
    return picked


def unrolled_edges(graph, see_through=False):
    """(source index, target index, delay) for every parent -> op edge, in graph order.

    ``see_through``: a stack of step outputs read one row at a time is skipped, so that the
    head of a many-to-one model is drawn reading h_T alone."""
    picked = _picked_rows(graph) if see_through else {}
    rows = {use: source for uses in picked.values() for use, source in uses.items()}
    edges = []
    for node in graph.nodes:
        if node.index in picked:
            continue
        for p in node.parents:
            if p in picked:
                p = rows[node.index]
            edges.append((p, node.index, step_delay(graph.nodes[p], node)))
    return edges


def unrolled_scope(node):
    return node.scope
