"""The unrolled view: every recorded edge, with the ones that carry a state from step t to a
later step of the same recurrence marked as recurrent (delay = how many steps later)."""


def step_delay(source, target):
    """Steps between ``source`` and ``target`` when both are different steps of the same frame
    (a backward-running recurrence goes from t to t-1), else 0."""
    a, b = source.step, target.step
    if a is None or b is None or a.frame != b.frame:
        return 0
    return abs(b.t - a.t)


def unrolled_edges(graph):
    """(source index, target index, delay) for every parent -> op edge, in graph order."""
    edges = []
    for node in graph.nodes:
        for p in node.parents:
            edges.append((p, node.index, step_delay(graph.nodes[p], node)))
    return edges


def unrolled_scope(node):
    return node.scope
