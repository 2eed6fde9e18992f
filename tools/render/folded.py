"""The folded view: the unrolled graph collapsed onto one step per recurrence.

Derived from the recorded scopes, not drawn by hand: the steps ``t=0, t=1, ...`` of a frame
repeat the same ops, so each op of step t is matched with the op in the same place of the
last step (same scope inside the cell, same op, same occurrence). Edges from an earlier step
become loops through a delay (the black square of 002_*.txt: "a delay of 1 time step").
Ops outside the steps that only differ by which step fed them (a loss term per step, say)
are merged the same way.
"""
from .graph import STATE
from .steps import is_step_scope, step_places
from .unrolled import unrolled_edges


def _representatives(graph):
    """index -> index of the node that stands for it in the folded picture."""
    last_step = {}
    for node in graph.nodes:
        if node.step is not None:
            last_step[node.step.frame] = node.step.t
    place = step_places(graph.nodes)
    standing = {place[i]: i for i in place
                if graph.nodes[i].step.t == last_step[graph.nodes[i].step.frame]}
    rep, merged = {}, {}
    for node in graph.nodes:
        if node.index in place:
            rep[node.index] = standing.get(place[node.index], node.index)
        elif node.tensor.node is not None:
            key = (node.op, node.scope, tuple(rep[p] for p in node.parents),
                   repr(sorted(node.tensor.node.kwargs.items())))
            rep[node.index] = merged.setdefault(key, node.index)
        else:
            rep[node.index] = node.index
    return rep


def folded_edges(graph, see_through=False):
    """(source, target, delay) between representatives; the initial state is left out (it is
    what the delay holds before the first step)."""
    rep = _representatives(graph)
    edges, seen = [], set()
    for source, target, delay in unrolled_edges(graph, see_through):
        if graph.nodes[source].kind == STATE:
            continue
        edge = (rep[source], rep[target], delay)
        if (delay == 0 and edge[0] == edge[1]) or edge in seen:
            continue
        seen.add(edge)
        edges.append(edge)
    outputs = sorted({rep[i] for i in graph.outputs})
    return edges, outputs


def folded_scope(node):
    """The node's scope with its ``t=N`` written as ``t``."""
    return tuple("t" if is_step_scope(part) else part for part in node.scope)
