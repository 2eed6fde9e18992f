"""The recorded graph of some output tensors, as plain numbered nodes.

Walks ``Tensor.node`` (op, parents, scope) back from the outputs, without recursion, and
numbers every tensor reached so that parents come before the ops that use them. Numbering
depends only on the graph's structure, so the same network gives the same numbers.
"""
from dataclasses import dataclass, field

from minigrad import Tensor
from minigrad.nn import Parameter

from .steps import Step, parse_step

OP, PARAMETER, INPUT, STATE, CONSTANT = "op", "parameter", "input", "initial state", "constant"


@dataclass
class GraphNode:
    index: int
    tensor: Tensor
    kind: str
    label: str
    scope: tuple = ()
    step: Step = None
    parents: list = field(default_factory=list)

    @property
    def op(self):
        return self.tensor.op


@dataclass
class Graph:
    nodes: list
    outputs: list

    def ops(self):
        return [n for n in self.nodes if n.kind == OP]


def flatten(outputs):
    """The tensors in ``outputs``: a tensor, or nested tuples/lists of them."""
    stack, found = [outputs], []
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            found.append(item)
        elif isinstance(item, (tuple, list)):
            stack.extend(reversed(item))
        elif item is not None:
            raise TypeError(f"render: outputs must be tensors or tuples/lists of tensors, "
                            f"got {type(item).__name__}")
    if not found:
        raise ValueError("render: no output tensor given")
    return found


def parameter_names(module=None, params=None):
    """id(parameter) -> name, from ``module.named_parameters()`` and/or a name->tensor map."""
    names = {}
    if module is not None:
        for name, p in module.named_parameters():
            names.setdefault(id(p), name)
    for name, p in (params or {}).items():
        names.setdefault(id(p), name)
    return names


def _topological(outputs):
    """Tensors reachable from ``outputs``, each after its parents (iterative DFS)."""
    order, seen = [], set()
    stack = [(t, False) for t in reversed(outputs)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        stack.extend((p, False) for p in reversed(t.parents) if id(p) not in seen)
    return order


def _shape(t):
    return "(" + ", ".join(str(n) for n in t.shape) + ("," if t.ndim == 1 else "") + ")"


def _leaf_kind(t, names, consumers):
    if isinstance(t, Parameter) or id(t) in names:
        return PARAMETER
    if t.numel() == 1 and not t.requires_grad:
        return CONSTANT
    steps = {None if c.step is None else c.step.t for c in consumers}
    if len(steps) == 1 and None not in steps:
        return STATE
    return INPUT


def consumers(nodes):
    """graph index -> the nodes that read it, in graph order."""
    used_by = {}
    for node in nodes:
        for p in node.parents:
            used_by.setdefault(p, []).append(node)
    return used_by


def extract(outputs, names=None):
    """The :class:`Graph` reached from ``outputs`` (labels parameters with ``names``)."""
    names = names or {}
    outputs = flatten(outputs)
    order = _topological(outputs)
    index = {id(t): i for i, t in enumerate(order)}
    nodes = []
    for i, t in enumerate(order):
        scope = tuple(t.node.scope) if t.node is not None else ()
        node = GraphNode(i, t, OP, t.op or "", scope, parse_step(scope))
        node.parents = [index[id(p)] for p in t.parents]
        nodes.append(node)
    used_by = consumers(nodes)
    for node in nodes:
        t = node.tensor
        if t.node is None:
            node.kind = _leaf_kind(t, names, used_by.get(node.index, []))
            name = names.get(id(t)) or t.name or node.kind
            node.label = f"{name}\n{_shape(t)}"
        else:
            node.label = f"{t.op}\n{_shape(t)}"
    wanted = []
    for t in outputs:
        if index[id(t)] not in wanted:
            wanted.append(index[id(t)])
    return Graph(nodes, wanted)
