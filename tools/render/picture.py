"""What gets drawn: boxes (nodes) nested in scope clusters, and lines (edges) between them.

Both views and both details come down to one :class:`Picture`. In op detail every recorded
op is a box; in cell detail the ops of one cell step (``t=3/lstm/...``) share one box, and
ops of any other scope (``inputs/lstm/input_projection``) one box per scope, and the
``stack`` of the steps' outputs (``mg.stack(hs)``) one box ``hs``.
"""
from dataclasses import dataclass, field

from .graph import CONSTANT, OP
from .steps import state_name

DATA, PARAMETER_EDGE, RECURRENT = "data", "parameter", "recurrent"
CELL, DELAY, STATE_VALUE, STACK = "cell", "delay", "state", "stacked"
_PREFIX = {OP: "op", CELL: "cell", "parameter": "param", "input": "input",
           "initial state": "state"}


@dataclass
class Box:
    id: str
    kind: str
    label: str
    clusters: tuple = ()
    members: list = field(default_factory=list)
    output: bool = False
    frame: tuple = None
    t: int = None
    role: str = ""
    tooltip: str = ""
    row: int = 0
    state: str = ""


@dataclass
class Line:
    source: str
    target: str
    kind: str
    label: str = ""
    delay: int = 0
    sources: set = field(default_factory=set)
    pairs: set = field(default_factory=set)
    display: str = ""
    gradient: float = None
    shade: tuple = None
    tooltip: str = ""


@dataclass
class Picture:
    boxes: dict
    lines: list
    folded: bool = False
    hint: str = ""
    grid: object = None
    notes: dict = field(default_factory=dict)

    def ops(self):
        return [b for b in self.boxes.values() if b.kind == OP]


def _prefixes(scope):
    return tuple(scope[:i] for i in range(1, len(scope) + 1))


def _cell_group(node, scope):
    """The (drawn) scope of the cell box an op belongs to, or None for an op drawn alone."""
    if node.step is not None:
        i = len(node.step.frame)
        return scope[:i + 2] if len(scope) > i + 1 else scope[:i + 1] + ("step",)
    return scope or None


def _box_for(node, detail, scope, boxes, groups):
    if node.kind != OP:
        box_id = f"{_PREFIX[node.kind]}{node.index}"
        return boxes.setdefault(box_id, Box(box_id, node.kind, node.label))
    group = _cell_group(node, scope) if detail == CELL else None
    if group is None:
        box_id = f"op{node.index}"
        return boxes.setdefault(box_id, Box(box_id, OP, node.label, _prefixes(scope)))
    if group not in groups:
        box_id = f"cell{len(groups)}"
        groups[group] = box_id
        boxes[box_id] = Box(box_id, CELL, group[-1], _prefixes(group[:-1]))
    return boxes[groups[group]]


def _stacks(graph):
    """The ``stack`` ops outside the steps whose inputs are all step outputs (what
    ``mg.stack(hs)`` records)."""
    return {node.index for node in graph.nodes
            if node.op == "stack" and node.step is None and node.parents
            and all(graph.nodes[p].step is not None and graph.nodes[p].kind == OP
                    for p in node.parents)}


def _stack_label(graph, stack):
    node = graph.nodes[stack]
    first = graph.nodes[node.parents[0]]
    name = node.tensor.name or state_name(first.step, first.op) + "s"
    return name + "\n" + node.label.split("\n", 1)[-1]


def build(graph, edges, outputs, detail, scope_of, folded=False):
    """The :class:`Picture` of ``edges`` (source, target, delay) over ``graph``'s nodes."""
    boxes, groups, owner = {}, {}, {}
    stacks = _stacks(graph) if detail == CELL else set()
    for node in graph.nodes:
        if node.kind == CONSTANT:
            continue
        if node.index in stacks:
            box_id = f"stack{node.index}"
            box = boxes.setdefault(box_id, Box(box_id, STACK, _stack_label(graph, node.index)))
        else:
            box = _box_for(node, detail, scope_of(node), boxes, groups)
        box.members.append(node.index)
        owner[node.index] = box
    if detail == CELL:
        stacked = {p for i in stacks for p in graph.nodes[i].parents
                   if graph.nodes[p].step is not None}
        _add_state_boxes(graph, edges, boxes, owner, stacked)
    for index in outputs:
        owner[index].output = True
    lines, by_key = [], {}
    for source, target, delay in edges:
        if source not in owner or target not in owner:
            continue
        a, b = owner[source], owner[target]
        if a is b and delay == 0:
            continue
        node = graph.nodes[source]
        if delay:
            kind, label = RECURRENT, state_name(node.step, node.op)
        else:
            kind, label = (PARAMETER_EDGE if node.kind == "parameter" else DATA), ""
        key = (a.id, b.id, kind, label, delay)
        if key not in by_key:
            by_key[key] = Line(a.id, b.id, kind, label, delay)
            lines.append(by_key[key])
        by_key[key].sources.add(source)
        by_key[key].pairs.add((source, target))
    drawn = {line.source for line in lines} | {line.target for line in lines}
    drawn.update(owner[i].id for i in outputs)
    boxes = {k: b for k, b in boxes.items() if k in drawn}
    picture = Picture(boxes, lines, folded)
    if folded:
        _add_delays(picture, graph)
    return picture


def _add_state_boxes(graph, edges, boxes, owner, stacked=()):
    """In cell detail, give each recurrent state a box of its own (``h``, ``c``) on top of its
    cell, so the state that leaves step t and enters step t+1 can be seen; so too each step
    output that is ``stacked`` into the sequence of outputs."""
    for source, _, delay in edges:
        cell = owner.get(source)
        if not (delay or source in stacked) or cell is None or cell.kind != CELL:
            continue
        node = graph.nodes[source]
        box_id = f"state{source}"
        if box_id in boxes:
            continue
        boxes[box_id] = Box(box_id, STATE_VALUE, state_name(node.step, node.op), cell.clusters,
                            [source])
        owner[source] = boxes[box_id]
        cell.members.remove(source)


def _add_delays(picture, graph):
    """Route each recurrent line through a delay square that sits beside its step."""
    lines, into = [], {}
    for line in picture.lines:
        if line.kind != RECURRENT:
            lines.append(line)
            continue
        source = picture.boxes[line.source]
        frame = graph.nodes[min(line.sources)].step.frame
        delay_id = f"delay_{line.source}_{line.delay}_{_safe(line.label)}"
        if delay_id not in picture.boxes:
            label = "" if line.delay == 1 else f"D={line.delay}"
            picture.boxes[delay_id] = Box(delay_id, DELAY, label,
                                          tuple(c for c in source.clusters if len(c) <= len(frame)))
            into[delay_id] = Line(line.source, delay_id, RECURRENT, line.label, line.delay,
                                  set(line.sources), set(line.pairs))
            lines.append(into[delay_id])
        else:
            into[delay_id].sources |= line.sources
            into[delay_id].pairs |= line.pairs
        lines.append(Line(delay_id, line.target, RECURRENT, line.label, line.delay,
                          set(line.sources), set(line.pairs)))
    picture.lines = lines


def _safe(text):
    return "".join(ch if ch.isalnum() else "_" for ch in text)
