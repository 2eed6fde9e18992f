"""Where each box belongs: the grid of (time step x place in the step), read from the scopes.

A recurrence (a *frame*: one direction, one layer, the encoder or the decoder) runs over
steps t; every frame gets a row, and rows share columns, so column t has the same x in every
row. A frame whose first step reads another frame's last step (the decoder after the
encoder) continues that frame's row. Boxes outside the steps are sorted into what feeds the
steps (drawn left of the first column), the initial states (``h_0``, beside the first step,
in their state's lane), per-step inputs ``x_t`` (under their step) and what the steps feed
(right of the last column). Steps are numbered t=1..T as in the notes (x_1..x_T, h_0 the
initial state), whatever the scopes say.
"""
from dataclasses import dataclass, field

from .graph import INPUT, PARAMETER, STATE
from .graph import consumers as graph_consumers
from .picture import CELL, DELAY, RECURRENT, STACK, STATE_VALUE, Box, Line
from .steps import state_name, step_places

STEP, BEFORE, AFTER, INITIAL, INPUT_MARK, OUTPUT_MARK, FREE = (
    "step", "before", "after", "initial", "x_t", "y_t", "free")
#: a leaf used by one step only, beside that step's x_t (a leaky cell's per-step rates)
CONSTANT_IN_STEP = "constant"


@dataclass
class Frame:
    key: tuple
    steps: list
    reverse: bool = False
    row: int = 0
    offset: int = 0
    states: list = field(default_factory=list)
    folded: bool = False

    def first(self):
        return self.steps[-1] if self.reverse else self.steps[0]

    def column(self, t):
        return self.offset + self.steps.index(t)

    def number(self, t):
        """The notes' step number (1..T) of scope step t; ``t`` in the folded view."""
        return "t" if self.folded else t + 1


@dataclass
class Grid:
    frames: dict
    rows: list
    columns: int
    all_steps: dict


def _frames(graph, picture):
    """frame key -> Frame, in order of first appearance; directions and chains from the graph."""
    steps, all_steps = {}, {}
    for box in picture.boxes.values():
        if box.t is not None:
            steps.setdefault(box.frame, set()).add(box.t)
    reverse, follows = {}, {}
    for node in graph.nodes:
        if node.step is None:
            continue
        all_steps.setdefault(node.step.frame, set()).add(node.step.t)
        for p in node.parents:
            parent = graph.nodes[p].step
            if parent is None:
                continue
            if parent.frame == node.step.frame and parent.t != node.step.t:
                reverse.setdefault(node.step.frame, parent.t > node.step.t)
            elif parent.frame != node.step.frame:
                follows.setdefault(node.step.frame, parent.frame)
    made = {}
    for node in graph.nodes:
        if node.step is not None and node.tensor.node is not None:
            made[node.step.frame] = min(made.get(node.step.frame, node.tensor.node.order),
                                        node.tensor.node.order)
    order = sorted((f for f in made if f in steps), key=made.get)
    frames = {f: Frame(f, sorted(steps[f]), reverse.get(f, False)) for f in order}
    rows = []
    for f in order:
        before = follows.get(f)
        if before in frames and before != f and any(f2 == before for row in rows for f2 in row):
            row = next(r for r in rows if before in r)
            row.append(f)
        else:
            rows.append([f])
    columns = 0
    for number, row in enumerate(rows):
        offset = 0
        for f in row:
            frames[f].row, frames[f].offset = number, offset
            offset += len(frames[f].steps)
        columns = max(columns, offset)
    return frames, rows, columns, {f: sorted(ts) for f, ts in all_steps.items()}


def _place_steps(graph, picture):
    for box in picture.boxes.values():
        steps = [graph.nodes[i].step for i in box.members if graph.nodes[i].step is not None]
        if steps and box.kind != STATE:
            box.frame, box.t, box.role = steps[-1].frame, steps[-1].t, STEP
    for line in picture.lines:
        target = picture.boxes[line.target]
        if target.kind == DELAY:
            source = picture.boxes[line.source]
            target.frame, target.t, target.role = source.frame, source.t, DELAY


def _into_cells(picture):
    """In cell detail a line from outside a step into its state box (a GRU's h reads
    h_{t-1}) goes into the cell box of that step instead."""
    cells = {}
    for box in picture.boxes.values():
        if box.role == STEP and box.kind != STATE_VALUE:
            cells.setdefault((box.frame, box.t), box.id)
    for line in picture.lines:
        target, source = picture.boxes[line.target], picture.boxes[line.source]
        if target.kind == STATE_VALUE and (source.kind == DELAY or
                                           (source.frame, source.t) != (target.frame, target.t)):
            line.target = cells.get((target.frame, target.t), line.target)


def _recurrent_targets(graph):
    """place of a node fed by an earlier step -> the state's name (``h``, ``c``)."""
    places = step_places(graph.nodes)
    found = {}
    for node in graph.nodes:
        for p in node.parents:
            parent = graph.nodes[p]
            if (node.step is not None and parent.step is not None
                    and parent.step.frame == node.step.frame and parent.step.t != node.step.t):
                found.setdefault((places.get(node.index), tuple(parent.tensor.shape)),
                                 state_name(parent.step, parent.op))
    return places, found


def _initial_state(box, graph, grid, consumers, places, targets):
    """The state name a free box starts (``h``), when it feeds only the first step of one
    frame, where later steps take that state from the step before; else None."""
    steps = [c for i in box.members for c in consumers.get(i, []) if c.step is not None]
    if not steps or any(c.step.frame != steps[0].step.frame for c in steps):
        return None
    frame = steps[0].step.frame
    ts = grid.all_steps.get(frame, [])
    first = ts[-1] if grid.frames.get(frame) and grid.frames[frame].reverse else ts[0]
    if any(c.step.t != first for c in steps):
        return None
    shapes = {tuple(graph.nodes[i].tensor.shape) for i in box.members}
    for c in steps:
        for shape in shapes:
            name = targets.get((places.get(c.index), shape))
            if name:
                return name
    if len(ts) == 1 and box.kind == STATE:
        return "c" if any("cell_state" in c.step.rest for c in steps) else "h"
    return None


def _reach(free, links, picture, grid, end, pick):
    """Free box id -> the row of the steps it reaches through ``links`` (its out-lines: what
    it feeds, transitively; its in-lines: what feeds it), ``pick`` of the rows when several."""
    reached = {}
    for box in free:
        rows = []
        for line in links.get(box.id, []):
            other = picture.boxes[end(line)]
            if other.role in (STEP, DELAY):
                rows.append(grid.frames[other.frame].row)
            elif other.id in reached:
                rows.append(reached[other.id])
        if rows:
            reached[box.id] = pick(rows)
    return reached


def _roles(graph, picture, grid):
    consumers = graph_consumers(graph.nodes)
    places, targets = _recurrent_targets(graph)
    outs, ins = {}, {}
    for line in picture.lines:
        outs.setdefault(line.source, []).append(line)
        ins.setdefault(line.target, []).append(line)
    free = [b for b in picture.boxes.values() if b.role == ""]
    free.sort(key=lambda b: min(b.members) if b.members else 0)
    feeds = _reach(reversed(free), outs, picture, grid, lambda line: line.target, min)
    fed = _reach(free, ins, picture, grid, lambda line: line.source, max)
    marked = set()
    for box in free:
        if box.kind not in (STATE, PARAMETER) and box.id in feeds:
            for line in outs[box.id]:
                target = picture.boxes[line.target]
                if target.role == STEP:
                    marked.add((target.frame, target.t))
    for box in free:
        if box.id in feeds and box.id not in fed and box.kind != PARAMETER:
            name = _initial_state(box, graph, grid, consumers, places, targets)
            if name:
                target = next(picture.boxes[line.target] for line in outs[box.id]
                              if picture.boxes[line.target].role == STEP)
                box.role, box.frame, box.t = INITIAL, target.frame, target.t
                box.state = name
                continue
            used = {(c.step.frame, c.step.t) if c.step is not None else None
                    for i in box.members for c in consumers.get(i, [])}
            frame_t = next(iter(used))
            if len(used) == 1 and frame_t is not None and box.kind == STATE \
                    and frame_t in marked:
                target = picture.boxes[outs[box.id][0].target]
                box.role, box.frame, box.t = CONSTANT_IN_STEP, target.frame, target.t
                continue
            if len(used) == 1 and frame_t is not None \
                    and len(grid.all_steps.get(frame_t[0], [])) > 1 \
                    and all(picture.boxes[line.target].role == STEP for line in outs[box.id]):
                target = picture.boxes[outs[box.id][0].target]
                box.role, box.frame, box.t = INPUT_MARK, target.frame, target.t
                continue
        if box.id in feeds:
            box.role, box.row = BEFORE, feeds[box.id]
        elif box.id in fed:
            box.role, box.row = AFTER, fed[box.id]
        else:
            box.role, box.row = (AFTER, len(grid.rows) - 1) if grid.rows else (FREE, 0)


def _constants(picture):
    """A step's own constants: drawn inside the step in op detail, part of the cell box in
    cell detail."""
    cell_detail = any(b.kind == CELL for b in picture.boxes.values())
    for box in list(picture.boxes.values()):
        if box.role != CONSTANT_IN_STEP:
            continue
        if cell_detail:
            del picture.boxes[box.id]
            picture.lines = [line for line in picture.lines if line.source != box.id]
        else:
            box.role = STEP
            box.kind = INPUT
            box.label = "constant\n" + box.label.split("\n", 1)[-1]


def _markers(graph, picture, grid):
    """Put an ``x_t`` box under each step for what it reads from a sequence computed outside
    the steps, and a ``y_t`` box above it for what it hands to one."""
    boxes, lines = picture.boxes, []
    made, into = {}, {}

    def marker(key, role, frame, t, label):
        if key not in made:
            box_id = f"{role.replace('_', '')}_{len(made)}"
            made[key] = Box(box_id, "marker", label, frame=frame, t=t, role=role)
        return made[key]

    def through(m, a, b, line):
        """Route ``line`` (a -> b) through marker ``m``: one line into the marker, shared by
        every line that passes it, and one out of it."""
        if m.id not in boxes:
            boxes[m.id] = m
            into[m.id] = Line(a.id, m.id, line.kind, "", 0, set(line.sources), set(line.pairs))
            lines.append(into[m.id])
        else:
            into[m.id].sources |= line.sources
            into[m.id].pairs |= line.pairs
        lines.append(Line(m.id, b.id, line.kind, "", 0, set(line.sources), set(line.pairs)))

    per_step_sources = {}
    for line in picture.lines:
        a, b = boxes[line.source], boxes[line.target]
        if a.role == BEFORE and a.kind != PARAMETER and b.role == STEP:
            per_step_sources.setdefault((b.frame, b.t), set()).add(a.id)
    for line in picture.lines:
        a, b = boxes[line.source], boxes[line.target]
        if a.role == BEFORE and a.kind != PARAMETER and b.role == STEP:
            frame = grid.frames[b.frame]
            n = frame.number(b.t)
            many = len(per_step_sources[(b.frame, b.t)]) > 1
            label = f"{a.label.split(chr(10))[0]}_{n}" if many else f"x_{n}"
            m = marker((a.id, b.frame, b.t), INPUT_MARK, b.frame, b.t, label)
            through(m, a, b, line)
        elif a.role == STEP and b.role in (BEFORE, AFTER):
            node = graph.nodes[min(line.sources)]
            name = a.label if a.kind == STATE_VALUE else state_name(node.step, node.op)
            name = name if len(name) <= 2 else "y"
            n = grid.frames[a.frame].number(a.t)
            m = marker((a.id, "out"), OUTPUT_MARK, a.frame, a.t, f"{name}_{n}")
            through(m, a, b, line)
        else:
            lines.append(line)
    picture.lines = lines


def _layer_to_layer(picture, grid):
    """A row whose x_t is the row below's y_t (a stacked layer reading the layer below):
    draw that as one short edge per step, y_t straight up into x_t, instead of a bus out to the
    stacked sequence and back."""
    boxes = picture.boxes
    inputs = {}
    for b in boxes.values():
        if b.role == INPUT_MARK:
            frame = grid.frames[b.frame]
            inputs[(frame.row, frame.column(b.t))] = b
    replaced, kept = {}, []
    for line in picture.lines:
        a, b = boxes[line.source], boxes[line.target]
        if a.role == OUTPUT_MARK and b.role == BEFORE and b.row > grid.frames[a.frame].row:
            column = grid.frames[a.frame].column(a.t)
            partner = inputs.get((b.row, column))
            if partner:
                kept.append(Line(a.id, partner.id, line.kind, "", 0, set(line.sources),
                                 set(line.pairs)))
                replaced.setdefault(b.id, a)
                continue
        kept.append(line)
    picture.lines = kept
    for box_id, below in replaced.items():
        box = boxes[box_id]
        if box.kind == STACK and not any(line.target == box_id for line in kept):
            _, _, shape = box.label.partition("\n")
            frame = grid.frames[below.frame]
            name = below.label.rsplit("_", 1)[0]
            numbers = [frame.number(t) for t in frame.steps]
            first, last = min(numbers), max(numbers)
            where = "/".join(below.frame) or "the row below"
            span = f"{name}_{first}" if first == last else f"{name}_{first}..{name}_{last}"
            box.label = f"{span} of {where}\n{shape}"


def _name_initial_states(picture, grid):
    for box in picture.boxes.values():
        if box.role == INPUT_MARK and box.kind == STATE:   # a hand-written loop's own x_t
            frame = grid.frames[box.frame]
            box.kind = INPUT
            box.label = f"x_{frame.number(box.t)}\n" + box.label.split("\n", 1)[-1]
        if box.role == INITIAL:
            frame = grid.frames[box.frame]
            number = frame.steps[-1] + 2 if frame.reverse else 0
            name = getattr(box, "state", "h")
            rest = box.label.split("\n", 1)
            shape = rest[1] if len(rest) > 1 else ""
            head = f"{name}_{number}" if box.kind == STATE else f"{name}_{number} = {rest[0]}"
            box.label = head + ("\n" + shape if shape else "")


def arrange(graph, picture):
    """Give every box of ``picture`` its frame, step and role; add the x_t / y_t boxes.
    Returns the :class:`Grid` (None when the graph has no step scopes)."""
    _place_steps(graph, picture)
    frames, rows, columns, all_steps = _frames(graph, picture)
    if not frames:
        for box in picture.boxes.values():
            box.role = FREE
        return None
    grid = Grid(frames, rows, columns, all_steps)
    _into_cells(picture)
    for frame in frames.values():
        frame.folded = picture.folded
    _roles(graph, picture, grid)
    _constants(picture)
    _markers(graph, picture, grid)
    _layer_to_layer(picture, grid)
    _name_initial_states(picture, grid)
    for line in picture.lines:
        a, b = picture.boxes[line.source], picture.boxes[line.target]
        if a.role == STEP and b.role == STEP and a.frame != b.frame:
            line.display = "context"
        if line.kind == RECURRENT and line.label:
            frame = grid.frames.get(picture.boxes[line.source].frame)
            if frame is not None and line.label not in frame.states:
                frame.states.append(line.label)
    return grid
