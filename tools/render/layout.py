"""Positions and edge paths from the grid, in one pass; Graphviz only draws them.

Columns are time steps (shared by every row), rows are frames (layer, direction, encoder
then decoder). Inside a step, boxes are layered bottom to top by data flow, a gate's ops kept
together; every step of a frame repeats the same layout. Recurrent states leave a step on the
side time runs to, in a fixed order (c above h), and enter the next step straight across the
gap between the two columns. Inputs come from below (``x_t``), outputs leave upward (``y_t``)
to a bus that runs to what collects them; parameters reach the steps along a lane of their own
under the steps, so that their edges run side by side instead of braiding.
Units are points, y grows upward (Graphviz's convention).
"""
from dataclasses import dataclass, field

from .graph import PARAMETER
from .grid import AFTER, BEFORE, FREE, INITIAL, INPUT_MARK, OUTPUT_MARK, STEP
from .picture import CELL, DELAY, RECURRENT, STATE_VALUE

CHAR, LINE = 5.8, 12.5
GAP_X, GAP_Y = 14.0, 20.0
PAD, LABEL = 8.0, 16.0
COLUMN_GAP = 46.0
LANE = 6.0
MARK_H = 18.0
PORT_STEP = 30.0
ROW_GAP = 34.0
ARROW = 6.0


@dataclass
class Layout:
    nodes: dict = field(default_factory=dict)        # id -> [x, y, w, h] (centre, size)
    clusters: dict = field(default_factory=dict)     # key -> (x0, y0, x1, y1)
    cluster_labels: dict = field(default_factory=dict)
    routes: dict = field(default_factory=dict)       # line index -> bezier points
    line_labels: dict = field(default_factory=dict)  # line index -> (x, y)
    texts: list = field(default_factory=list)        # (id, text, x, y, attrs)
    box_clusters: dict = field(default_factory=dict)  # box id -> cluster keys it is inside
    cluster_ids: dict = field(default_factory=dict)   # key -> SVG id (steps: row, column, t)
    bb: tuple = (0.0, 0.0, 0.0, 0.0)


def size(box):
    if box.kind == DELAY:
        return 16.0, 16.0
    if box.kind == STATE_VALUE:
        return 24.0, 24.0
    lines = box.label.split("\n")
    width = max(len(line) for line in lines) * CHAR + 16
    if box.role in (INPUT_MARK, OUTPUT_MARK) and box.kind == "marker":
        return max(width, 28.0), MARK_H
    return max(width, 40.0), max(len(lines) * LINE + 8, 24.0)


# -- paths ------------------------------------------------------------------------------
def _lerp(a, b, f):
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)


def polyline(points):
    """Bezier control points that draw straight segments through ``points``."""
    pts = [points[0]]
    for a, b in zip(points, points[1:]):
        if a == b:
            continue
        pts += [_lerp(a, b, 1 / 3), _lerp(a, b, 2 / 3), b]
    return pts


def s_curve(a, b, vertical=True):
    if vertical:
        mid = (a[1] + b[1]) / 2
        return [a, (a[0], mid), (b[0], mid), b]
    mid = (a[0] + b[0]) / 2
    return [a, (mid, a[1]), (mid, b[1]), b]


def _samples(points, steps):
    """Points at s = n/16 (n in ``steps``) along each cubic piece of the bezier ``points``."""
    for k in range(0, len(points) - 3, 3):
        p0, p1, p2, p3 = points[k:k + 4]
        for n in steps:
            s = n / 16
            a, b, c, d = (1 - s) ** 3, 3 * s * (1 - s) ** 2, 3 * s * s * (1 - s), s ** 3
            yield (a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                   a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1])


def _top(n):
    return (n[0], n[1] + n[3] / 2)


def _bottom(n):
    return (n[0], n[1] - n[3] / 2)


def _left(n):
    return (n[0] - n[2] / 2, n[1])


def _right(n):
    return (n[0] + n[2] / 2, n[1])


# -- inside one step ----------------------------------------------------------------------
def _longest(order, preds, limit=None):
    """item -> length of the longest chain of ``preds`` that ends in it (whatever the order
    of ``order``; a cycle stops growing after len(order) passes, or at ``limit``)."""
    level = {item: 0 for item in order}
    for _ in range(len(order)):
        changed = False
        for item in order:
            new = 1 + max((level[p] for p in preds.get(item, ()) if p in level), default=-1)
            if new > level[item] and (limit is None or new < limit):
                level[item], changed = new, True
        if not changed:
            break
    return level


def layered(ids, edges, group_of, sizes, clusters):
    """Bottom-to-top layers of ``ids`` (in topological order) joined by ``edges``; boxes of
    one group stay together (a gate). Returns (positions relative to (0, 0), width, height,
    group rectangles of the groups in ``clusters``)."""
    preds = {}
    for s, t in edges:
        preds.setdefault(t, []).append(s)
    groups = list(dict.fromkeys(group_of[i] for i in ids))
    members = {g: [i for i in ids if group_of[i] == g] for g in groups}
    gpreds = {}
    for s, t in edges:
        if group_of[s] != group_of[t]:
            gpreds.setdefault(group_of[t], set()).add(group_of[s])
    glevel = _longest(groups, gpreds, limit=len(groups))
    geometry = {}
    for g in groups:
        inner = {i: [p for p in preds.get(i, ()) if group_of.get(p) == g] for i in members[g]}
        sub = _longest(members[g], inner)
        rows = {}
        for i in members[g]:
            rows.setdefault(sub[i], []).append(i)
        pad = PAD if g in clusters else 0.0
        # a gate's name sits in a column of its own on the left, clear of the edges
        label = len(str(g[-1])) * CHAR * 0.92 + 4 if g in clusters else 0.0
        row_dims = [(sum(sizes[i][0] for i in r) + GAP_X * (len(r) - 1),
                     max(sizes[i][1] for i in r)) for _, r in sorted(rows.items())]
        width = max(w for w, _ in row_dims) + 2 * pad + label
        height = sum(h for _, h in row_dims) + GAP_Y * 0.7 * (len(row_dims) - 1) + 2 * pad
        height = height + 8 if g in clusters else height
        geometry[g] = (width, height, [r for _, r in sorted(rows.items())], row_dims, pad,
                       label)
    layers = {}
    for g in groups:
        layers.setdefault(glevel[g], []).append(g)
    _order(layers, gpreds)
    layer_dims = []
    for _, gs in sorted(layers.items()):
        layer_dims.append((gs, sum(geometry[g][0] for g in gs) + GAP_X * (len(gs) - 1),
                           max(geometry[g][1] for g in gs)))
    total_w = max(w for _, w, _ in layer_dims)
    pos, rects, y = {}, {}, 0.0
    for gs, width, height in layer_dims:
        x = (total_w - width) / 2
        for g in gs:
            gw, gh, rows, dims, pad, label = geometry[g]
            gy = y + (height - gh) / 2
            if g in clusters:
                rects[g] = (x, gy, x + gw, gy + gh)
            ry = gy + pad
            for r, (rw, rh) in zip(rows, dims):
                rx = x + label + (gw - label - rw) / 2
                for i in r:
                    w, h = sizes[i]
                    pos[i] = (rx + w / 2, ry + rh / 2)
                    rx += w + GAP_X
                ry += rh + GAP_Y * 0.7
            x += gw + GAP_X
        y += height + GAP_Y
    return pos, total_w, y - GAP_Y, rects


def _order(layers, preds, sweeps=4):
    """Order the groups of each layer by the mean place of what they connect to in the
    other layers (the barycentre heuristic of Sugiyama et al. 1981), so edges cross less."""
    succs = {}
    for g, ps in preds.items():
        for p in ps:
            succs.setdefault(p, set()).add(g)

    def place():
        return {g: (k + 0.5) / len(gs) for gs in layers.values() for k, g in enumerate(gs)}

    for sweep in range(sweeps):
        neighbours = preds if sweep % 2 == 0 else succs
        for level in sorted(layers, reverse=sweep % 2 == 1):
            where = place()
            gs = layers[level]

            def key(g, where=where, neighbours=neighbours):
                near = [where[n] for n in neighbours.get(g, ()) if n in where]
                return sum(near) / len(near) if near else where[g]
            gs.sort(key=key)


def _step_index(clusters):
    from .steps import is_step_scope
    for k, key in enumerate(clusters):
        if is_step_scope(key[-1]) or key[-1] == "t":
            return k
    return None


class Layouter:
    def __init__(self, picture, grid, notes=None):
        self.picture, self.grid, self.notes = picture, grid, notes or {}
        self.layout = Layout()
        self.sizes = {b.id: size(b) for b in picture.boxes.values()}
        self.outs, self.ins = {}, {}
        for i, line in enumerate(picture.lines):
            self.outs.setdefault(line.source, []).append(i)
            self.ins.setdefault(line.target, []).append(i)

    # steps --------------------------------------------------------------------------------
    def _regions(self):
        """(frame, t) -> relative layout of that step: body positions, ports, size."""
        by_step = {}
        for box in self.picture.boxes.values():
            if box.role == STEP:
                by_step.setdefault((box.frame, box.t), []).append(box)
        regions = {}
        for key, boxes in by_step.items():
            frame = self.grid.frames[key[0]]
            ports = sorted((b for b in boxes if b.kind == STATE_VALUE), key=lambda b: b.label)
            body = [b for b in boxes if b.kind != STATE_VALUE]
            body.sort(key=lambda b: min(b.members) if b.members else 0)
            ids = [b.id for b in body]
            inside = set(ids)
            edges = [(self.picture.lines[i].source, self.picture.lines[i].target)
                     for b in ids for i in self.outs.get(b, [])
                     if self.picture.lines[i].target in inside
                     and self.picture.lines[i].kind != RECURRENT]
            group_of, clusters = {}, set()
            for b in body:
                k = _step_index(b.clusters)
                if k is not None and len(b.clusters) > k + 2:
                    group_of[b.id] = b.clusters[k + 2]
                    clusters.add(b.clusters[k + 2])
                else:
                    group_of[b.id] = b.id
            sizes = dict(self.sizes)
            if ports:
                for b in body:
                    if b.kind == CELL:
                        w, h = sizes[b.id]
                        sizes[b.id] = (w, max(h, len(ports) * PORT_STEP + 4))
                        self.sizes[b.id] = sizes[b.id]
            pos, width, height, rects = layered(ids, edges, group_of, sizes, clusters)
            port_w = max((self.sizes[p.id][0] for p in ports), default=0.0)
            body_dx = 0.0
            if ports:
                anchor = next((pos[b.id][1] for b in body if b.kind == CELL), height / 2)
                port_pos = {}
                for n, p in enumerate(ports):
                    y = anchor + ((len(ports) - 1) / 2 - n) * PORT_STEP
                    port_pos[p.id] = y
                low = min(min(port_pos.values()) - 14, 0)
                high = max(max(port_pos.values()) + 14, height)
                if low < 0:
                    pos = {k: (x, y - low) for k, (x, y) in pos.items()}
                    rects = {k: (a, b - low, c, d - low) for k, (a, b, c, d) in rects.items()}
                    port_pos = {k: y - low for k, y in port_pos.items()}
                    high -= low
                height = high
                if frame.reverse:
                    body_dx = port_w + 16
                    for p in ports:
                        pos[p.id] = (port_w / 2, port_pos[p.id])
                else:
                    for p in ports:
                        pos[p.id] = (width + 16 + port_w / 2, port_pos[p.id])
                width += port_w + 16
                if body_dx:
                    for b in body:
                        x, y = pos[b.id]
                        pos[b.id] = (x + body_dx, y)
                    rects = {k: (a + body_dx, b, c + body_dx, d) for k, (a, b, c, d) in
                             rects.items()}
            regions[key] = (pos, width, height, rects)
        return regions

    # margins ------------------------------------------------------------------------------
    def _band(self, boxes):
        """Boxes laid out left to right by data flow, stacked within a level; relative."""
        ids = [b.id for b in boxes]
        inside = set(ids)
        preds = {}
        for b in ids:
            for i in self.ins.get(b, []):
                s = self.picture.lines[i].source
                if s in inside:
                    preds.setdefault(b, []).append(s)
        level = _longest(ids, preds)
        for b in ids:   # a source sits just before what it feeds, not under the chain
            if b not in preds:
                after = [level[t] for i in self.outs.get(b, [])
                         if (t := self.picture.lines[i].target) in inside]
                if after:
                    level[b] = max(level[b], min(after) - 1)
        # parameters used only by the steps go on top, so their lanes run over the rest
        on_top = [b for b in ids if self.picture.boxes[b].kind == PARAMETER and b not in preds
                  and not any(self.picture.lines[i].target in inside
                              for i in self.outs.get(b, []))]
        if len(on_top) == len(ids):
            on_top = []
        columns = {}
        for b in ids:
            if b not in on_top:
                columns.setdefault(level[b], []).append(b)
        for col in columns.values():   # the data along the bottom, parameters above it
            col.sort(key=lambda b: self.picture.boxes[b].kind == PARAMETER)
        pos, x, height = {}, 0.0, 0.0
        for _, col in sorted(columns.items()):
            w = max(self.sizes[b][0] for b in col)
            y = 0.0
            for b in col:
                h = self.sizes[b][1]
                pos[b] = (x + w / 2, y + h / 2)
                y += h + 10
            height = max(height, y - 10)
            x += w + 26
        if on_top:
            first = min(columns)
            w = max(self.sizes[b][0] for b in on_top + columns[first])
            x0 = pos[columns[first][0]][0] - max(self.sizes[b][0] for b in columns[first]) / 2
            y = height + 10
            for b in on_top:
                h = self.sizes[b][1]
                pos[b] = (x0 + w / 2, y + h / 2)
                y += h + 10
            height = y - 10
            x = max(x, x0 + w + 26)
        return pos, max(x - 26, 0.0), height

    def _consumer_frame(self, box_id, seen=None):
        seen = set() if seen is None else seen
        for i in self.outs.get(box_id, []):
            target = self.picture.boxes[self.picture.lines[i].target]
            if target.role in (STEP, INPUT_MARK, INITIAL, DELAY) and target.frame is not None:
                return target.frame
        for i in self.outs.get(box_id, []):
            t = self.picture.lines[i].target
            if t not in seen:
                seen.add(t)
                found = self._consumer_frame(t, seen)
                if found is not None:
                    return found
        return None

    # the whole picture ----------------------------------------------------------------------
    def run(self):
        if self.grid is None:
            return self._free_layout()
        picture, grid, nodes = self.picture, self.grid, self.layout.nodes
        boxes = picture.boxes
        regions = self._regions()
        widths = [0.0] * grid.columns
        for (frame_key, t), (_, w, _, _) in regions.items():
            frame = grid.frames[frame_key]
            extra = 2 * 26 if picture.folded else 0
            c = frame.column(t)
            widths[c] = max(widths[c], w + 2 * PAD + extra, 44.0)
        for box in boxes.values():
            if box.role in (INPUT_MARK, OUTPUT_MARK) and box.frame in grid.frames:
                c = grid.frames[box.frame].column(box.t)
                widths[c] = max(widths[c], self.sizes[box.id][0] + 8)
        rows = len(grid.rows)
        # margins: what feeds each row (left, or under the columns of a chained frame)
        left, under, after, initial = {}, {}, {}, {}
        for box in boxes.values():
            if box.role == BEFORE:
                frame = self._consumer_frame(box.id)
                f = grid.frames.get(frame)
                if f is not None and f.offset > 0:
                    under.setdefault((f.row, frame), []).append(box)
                else:
                    left.setdefault(box.row if f is None else f.row, []).append(box)
            elif box.role in (AFTER, FREE):
                after.setdefault(box.row, []).append(box)
            elif box.role == INITIAL:
                initial.setdefault(box.frame, []).append(box)
        for group in (*left.values(), *under.values(), *after.values()):
            group.sort(key=lambda b: min(b.members) if b.members else 0)
        bands = {r: self._band(bs) for r, bs in left.items()}
        under_bands = {k: self._band(bs) for k, bs in under.items()}
        after_bands = {r: self._band(bs) for r, bs in after.items()}
        # lanes per row
        in_lanes = {r: [] for r in range(rows)}
        param_lanes = {r: [] for r in range(rows)}
        out_lanes = {r: [] for r in range(rows)}
        loops = {r: [] for r in range(rows)}
        for i, line in enumerate(picture.lines):
            a, b = boxes[line.source], boxes[line.target]
            if a.role == BEFORE and b.role == INPUT_MARK:
                r = grid.frames[b.frame].row
                if a.id not in in_lanes[r]:
                    in_lanes[r].append(a.id)
            elif a.role == BEFORE and b.role == STEP:
                r = grid.frames[b.frame].row
                if a.id not in param_lanes[r]:
                    param_lanes[r].append(a.id)
            elif a.role == OUTPUT_MARK and b.role != INPUT_MARK:
                r = grid.frames[a.frame].row
                if b.id not in out_lanes[r]:
                    out_lanes[r].append(b.id)
            elif a.kind == DELAY:
                loops[grid.frames[a.frame].row].append(i)
        riser_count = max((len(in_lanes[r]) + len(param_lanes[r]) for r in range(rows)),
                          default=0)
        init_w = max((self.sizes[b.id][0] for bs in initial.values() for b in bs
                      if not grid.frames[b.frame].reverse), default=0.0)
        band_w = max((w for _, w, _ in bands.values()), default=0.0)
        risers = riser_count * 5 + 12
        x0 = band_w + risers + (init_w + 22 if init_w else 12) + 20
        column_x, x = [], x0
        for w in widths:
            column_x.append((x, x + w))
            x += w + COLUMN_GAP
        right_edge = x - COLUMN_GAP
        init_right = max((self.sizes[b.id][0] for bs in initial.values() for b in bs
                          if grid.frames[b.frame].reverse), default=0.0)
        after_x = right_edge + (init_right + 22 if init_right else 0) + 36
        # rows, bottom to top
        base = 0.0
        row_geometry = []
        for r, frame_keys in enumerate(grid.rows):
            under_h = max((h for (rr, _), (_, _, h) in under_bands.items() if rr == r),
                          default=0.0)
            y = base + (under_h + 14 if under_h else 0.0)
            in_lane_y = [y + 6 + LANE * k for k in range(len(in_lanes[r]))]
            y += 6 + LANE * len(in_lanes[r]) if in_lanes[r] else 0.0
            has_in = any(b.role == INPUT_MARK and b.frame in frame_keys for b in boxes.values())
            mark_y = y + 6 + MARK_H / 2
            y += MARK_H + 12 if has_in else 0.0
            param_lane_y = [y + 4 + LANE * k for k in range(len(param_lanes[r]))]
            y += 8 + LANE * len(param_lanes[r]) if param_lanes[r] else 0.0
            loop_lane_y = [y + 10 + 22 * k for k in range(len(loops[r]))][::-1]
            y += 22 * len(loops[r]) + 8 if loops[r] else 0.0
            cluster_bottom = y + 4
            body_h = max((regions[(f, t)][2] for f in frame_keys
                          for t in grid.frames[f].steps), default=0.0)
            cluster_top = cluster_bottom + body_h + 2 * PAD + LABEL
            y = cluster_top
            has_out = any(b.role == OUTPUT_MARK and b.frame in frame_keys
                          for b in boxes.values())
            out_mark_y = y + 10 + MARK_H / 2
            y += MARK_H + 14 if has_out else 0.0
            out_lane_y = [y + 4 + LANE * k for k in range(len(out_lanes[r]))]
            y += 8 + LANE * len(out_lanes[r]) if out_lanes[r] else 0.0
            top = max(y, base + bands.get(r, (None, 0, 0))[2])
            row_geometry.append(dict(
                base=base, in_lane_y=in_lane_y, mark_y=mark_y, param_lane_y=param_lane_y,
                loop_lane_y=loop_lane_y, cluster=(cluster_bottom, cluster_top),
                out_mark_y=out_mark_y, out_lane_y=out_lane_y, top=top))
            base = top + ROW_GAP
        self.rows = row_geometry
        # steps
        step_rects = {}
        for (frame_key, t), (pos, w, h, rects) in regions.items():
            frame = grid.frames[frame_key]
            g = row_geometry[frame.row]
            c0, c1 = column_x[frame.column(t)]
            cx = (c0 + c1) / 2
            rx0, ry0 = cx - w / 2, g["cluster"][0] + PAD
            step = (frame_key, t)
            for b, (px, py) in pos.items():
                nodes[b] = [rx0 + px, ry0 + py, *self.sizes[b]]
                self.layout.box_clusters[b] = {step}
            for key, (a, b_, c, d) in rects.items():
                rect = (rx0 + a, ry0 + b_, rx0 + c, ry0 + d)
                self._cluster((frame_key, t, key), rect, str(key[-1]), 9)
            for b in pos:
                box = boxes[b]
                k = _step_index(box.clusters)
                if k is not None and len(box.clusters) > k + 2:
                    self.layout.box_clusters[b].add((frame_key, t, box.clusters[k + 2]))
            rect = (cx - w / 2 - PAD, g["cluster"][0], cx + w / 2 + PAD,
                    g["cluster"][0] + h + 2 * PAD + LABEL)
            step_rects[step] = rect
            self._cluster(step, rect, "t" if picture.folded else f"t={frame.number(t)}", 11)
            self.layout.cluster_ids[step] = (f"step-r{frame.row}-c{frame.column(t)}-"
                                             f"n{frame.number(t)}")
        self.step_rects = step_rects
        self.column_x = column_x
        # markers, initial states, delays
        for box in boxes.values():
            if box.role in (INPUT_MARK, OUTPUT_MARK) and box.frame in grid.frames:
                frame = grid.frames[box.frame]
                g = row_geometry[frame.row]
                c0, c1 = column_x[frame.column(box.t)]
                y = g["mark_y"] if box.role == INPUT_MARK else g["out_mark_y"]
                x = (c0 + c1) / 2
                if box.role == INPUT_MARK:   # under the right of what it feeds: a straight line
                    fed = [nodes[t] for i in self.outs.get(box.id, [])
                           if boxes[t := self.picture.lines[i].target].role == STEP]
                    if len(fed) == 1:
                        w = self.sizes[box.id][0]
                        x = min(max(fed[0][0] + fed[0][2] / 4, c0 + w / 2), c1 - w / 2)
                nodes[box.id] = [x, y, *self.sizes[box.id]]
        for frame_key, bs in initial.items():
            frame = grid.frames[frame_key]
            rect = step_rects[(frame_key, frame.first())]
            for n, box in enumerate(bs):
                w, h = self.sizes[box.id]
                y = self._lane_of(box, rect, n)
                x = rect[2] + 22 + w / 2 if frame.reverse else rect[0] - 22 - w / 2
                nodes[box.id] = [x, y, w, h]
        for box in boxes.values():
            if box.kind == DELAY:
                source = next(self.picture.lines[i].source for i in self.ins[box.id])
                sx, sy, sw, _ = nodes[source]
                rect = step_rects[(box.frame, box.t)]
                reverse = grid.frames[box.frame].reverse
                x = rect[0] - 14 if reverse else rect[2] + 14
                nodes[box.id] = [x, sy, *self.sizes[box.id]]
        # bands
        self.band_left = {}
        for r, (pos, w, h) in bands.items():
            bx0 = x0 - 20 - (init_w + 22 if init_w else 12) - risers - w
            for b, (px, py) in pos.items():
                nodes[b] = [bx0 + px, row_geometry[r]["base"] + py, *self.sizes[b]]
            left_x = min(nodes[b][0] - nodes[b][2] / 2 for b in pos)
            self.band_left.update({b: (r, left_x) for b in pos})
        self.risers_x = x0 - 20 - (init_w + 22 if init_w else 12) - risers + 8
        for (r, frame_key), (pos, w, h) in under_bands.items():
            frame = grid.frames[frame_key]
            bx0 = column_x[frame.offset][0]
            for b, (px, py) in pos.items():
                nodes[b] = [bx0 + px, row_geometry[r]["base"] + py, *self.sizes[b]]
        for r, (pos, w, h) in after_bands.items():
            g = row_geometry[min(r, rows - 1)]
            by0 = g["cluster"][0]
            for b, (px, py) in pos.items():
                nodes[b] = [after_x + px, by0 + py, *self.sizes[b]]
        self.in_lanes, self.param_lanes, self.out_lanes, self.loops = (
            in_lanes, param_lanes, out_lanes, loops)
        self._routes()
        self._texts()
        self._bounds()
        return self.layout

    def _cluster(self, key, rect, label, height):
        self.layout.clusters[key] = rect
        x = rect[0] + 5 + len(label) * CHAR * (0.85 if height < 10 else 0.7) / 2
        self.layout.cluster_labels[key] = (label, (x, rect[3] - height - (3 if height < 10
                                                                          else 0)))

    def _lane_of(self, box, rect, n):
        """y of the state an initial-state box starts: the port of that state in the first
        step, else the first box it feeds."""
        frame = self.grid.frames[box.frame]
        for b in self.picture.boxes.values():
            if (b.kind == STATE_VALUE and b.frame == box.frame and b.t == frame.first()
                    and b.label == box.state):
                return self.layout.nodes[b.id][1]
        targets = [self.picture.lines[i].target for i in self.outs.get(box.id, [])]
        ys = [self.layout.nodes[t][1] for t in targets if t in self.layout.nodes]
        return ys[0] if ys else (rect[1] + rect[3]) / 2 + n * 30

    # edges ----------------------------------------------------------------------------------
    def _routes(self):
        picture, nodes, boxes = self.picture, self.layout.nodes, self.picture.boxes
        routes, labels = self.layout.routes, self.layout.line_labels
        riser = {}
        for r in range(len(self.grid.rows)):
            for k, b in enumerate(self.in_lanes[r] + self.param_lanes[r]):
                riser.setdefault((r, b), self.risers_x + 5 * k)
        for i, line in enumerate(picture.lines):
            a, b = boxes[line.source], boxes[line.target]
            na, nb = nodes[a.id], nodes[b.id]
            fa = self.grid.frames.get(a.frame) if a.frame is not None else None
            fb = self.grid.frames.get(b.frame) if b.frame is not None else None
            if a.role == STEP and b.role == STEP and (a.frame, a.t) != (b.frame, b.t):
                routes[i], labels[i] = self._hop(na, nb, a, b, fa)
            elif a.role == STEP and b.kind == DELAY:
                routes[i] = polyline([_left(na) if fa.reverse else _right(na),
                                      _right(nb) if fa.reverse else _left(nb)])
            elif a.kind == DELAY:
                routes[i], labels[i] = self._loop(i, na, nb, a, fa)
            elif a.role == INITIAL:
                start = _left(na) if fa.reverse else _right(na)
                end = _right(nb) if fa.reverse else _left(nb)
                if abs(nb[1] - na[1]) < nb[3] / 2 - 2:
                    end = (end[0], na[1])
                    routes[i] = polyline([start, end])
                else:
                    routes[i] = self._clear(s_curve(start, end, vertical=False), na, nb,
                                            (b.frame, b.t))
            elif a.role == BEFORE and b.role in (INPUT_MARK, STEP) and fb is not None:
                r = fb.row
                lanes = (self.in_lanes if b.role == INPUT_MARK else self.param_lanes)[r]
                ys = self.rows[r]["in_lane_y" if b.role == INPUT_MARK else "param_lane_y"]
                k = lanes.index(a.id)
                lane_y = ys[k]
                # parameters come up into the left of the box, clear of x_t on its right
                drop_x = nb[0] - (0 if b.role == INPUT_MARK else min(nb[2] / 2 - 4, 4 + 5 * k))
                end = (drop_x, nb[1] - nb[3] / 2)
                tail = [(drop_x, lane_y), end]
                if b.role == STEP and self._blocked(b, drop_x, lane_y, end[1]):
                    rect = self.step_rects[(b.frame, b.t)]
                    side_x = rect[0] + 3 + 2 * k
                    below = end[1] - 6   # in the gap under the box's row, then up into it
                    tail = [(side_x, lane_y), (side_x, below), (drop_x, below), end]
                if (r, a.id) in riser and na[0] < self.risers_x:
                    rx = riser[(r, a.id)]
                    routes[i] = polyline([_right(na), (rx, na[1]), (rx, lane_y), *tail])
                elif b.role == STEP:   # a band under the columns: rise in the gap before
                    rx = self.column_x[fb.offset][0] - COLUMN_GAP / 2 + 5 * k
                    routes[i] = polyline([_left(na), (rx, na[1]), (rx, lane_y), *tail])
                else:   # rise beside the box, not through x_t
                    rx = na[0] + na[2] / 2 + 6 + 5 * k
                    routes[i] = polyline([_right(na), (rx, na[1]), (rx, lane_y), *tail])
            elif a.role == INPUT_MARK:
                end = _bottom(nb)
                if abs(na[0] - nb[0]) < nb[2] / 2 - 4:
                    end = (na[0], end[1])
                routes[i] = s_curve(_top(na), end)
            elif b.role == OUTPUT_MARK:
                routes[i] = self._clear(s_curve(_top(na), _bottom(nb)), na, nb, (a.frame, a.t))
            elif a.role == OUTPUT_MARK and b.role == INPUT_MARK:
                routes[i] = polyline([_top(na), _bottom(nb)])
            elif a.role == OUTPUT_MARK:
                r = fa.row
                k = self.out_lanes[r].index(b.id)
                lane_y = self.rows[r]["out_lane_y"][k]
                if nb[0] - nb[2] / 2 > self.column_x[-1][1]:
                    dx = nb[0] - nb[2] / 2 - 14 - 5 * k
                    routes[i] = polyline([_top(na), (na[0], lane_y), (dx, lane_y),
                                          (dx, nb[1]), _left(nb)])
                else:
                    end = _bottom(nb) if nb[1] > lane_y else _top(nb)
                    routes[i] = polyline([_top(na), (na[0], lane_y), (nb[0], lane_y), end])
            elif a.role == STEP and b.role == STEP:
                first = s_curve(_top(na), _bottom(nb)) if nb[1] > na[1] else \
                    s_curve(_right(na), _left(nb), vertical=False)
                routes[i] = self._clear(first, na, nb, (b.frame, b.t))
            elif (a.kind == PARAMETER and b.role == BEFORE and na[1] > nb[1] + nb[3] / 2
                  and nb[0] - nb[2] / 2 > na[0] + na[2] / 2):
                # right, then down onto the top of the box that uses it
                k = sorted(j for j in self.ins[b.id]
                           if boxes[picture.lines[j].source].kind == PARAMETER).index(i)
                drop_x = nb[0] - nb[2] / 2 + 10 + 8 * k
                path = [_right(na), (drop_x, na[1]), (drop_x, nb[1] + nb[3] / 2)]
                y = nb[1] + min(4 + 4 * k, nb[3] / 4)
                side_x = nb[0] - nb[2] / 2 - 8 - 5 * k
                while self._band_blocked(path, (a.id, b.id)) and side_x > na[0] + na[2] / 2:
                    path = [_right(na), (side_x, na[1]), (side_x, y), (nb[0] - nb[2] / 2 + 2, y)]
                    side_x -= 6   # in from the left, in the first free gap
                routes[i] = polyline(path)
            elif a.role == BEFORE and b.role == AFTER and nb[0] > self.column_x[-1][1]:
                # from the left margin to the right one: over the top of the row (out by the
                # left of the margin where a box stands above)
                over = self.rows[min(b.row, len(self.rows) - 1)]["top"] + 6 + 5 * (i % 4)
                path = [_top(na), (na[0], over), (nb[0], over), _top(nb)]
                if self._band_blocked(path[:2], (a.id, b.id)) and a.id in self.band_left:
                    side_x = self.band_left[a.id][1] - 8
                    path = [_left(na), (side_x, na[1]), (side_x, over), (nb[0], over),
                            _top(nb)]
                routes[i] = polyline(path)
            elif (a.role == BEFORE and b.role == BEFORE and a.id in self.band_left
                  and b.id in self.band_left
                  and self.band_left[b.id][0] > self.band_left[a.id][0]):
                # into the margin of a row above: out by the left, up in the gap under that
                # row's margin, then into the box from below
                k = self.outs[a.id].index(i)
                side_x = self.band_left[a.id][1] - 8 - 5 * k
                gap_y = self.rows[self.band_left[b.id][0]]["base"] - ROW_GAP / 2 + 4 * k
                routes[i] = polyline([_left(na), (side_x, na[1]), (side_x, gap_y),
                                      (nb[0], gap_y), _bottom(nb)])
            else:
                routes[i] = self._plain(na, nb)

    def _label_rects(self):
        if not hasattr(self, "_labels"):
            self._labels = []
            for key, (text, (x, y)) in self.layout.cluster_labels.items():
                half = len(text) * 3.2 + 2
                self._labels.append((x - half, y - 7, x + half, y + 9))
        return self._labels

    def _crosses(self, points):
        rects = self._label_rects()
        return any(r[0] <= x <= r[2] and r[1] <= y <= r[3]
                   for x, y in _samples(points, range(17)) for r in rects)

    def _hits(self, points, na, nb, step):
        """How many samples of the path ``points`` lie in a box of ``step`` other than its
        ends."""
        boxes = [n for b, n in self.layout.nodes.items() if n is not na and n is not nb
                 and step in self.layout.box_clusters.get(b, ())]
        return sum(any(abs(x - bx) < bw / 2 - 2 and abs(y - by) < bh / 2 - 2
                       for bx, by, bw, bh in boxes)
                   for x, y in _samples(points, range(1, 16)))

    def _clear(self, first, na, nb, step):
        """``first``, or the first of a few other paths from ``na`` to ``nb`` that crosses no
        cluster label: S-curves turning at other heights, then around by a side of the step."""
        if not self._crosses(first):
            return first
        candidates = []
        a, b = (_top(na), _bottom(nb)) if nb[1] > na[1] else (_bottom(na), _top(nb))
        for f in (0.2, 0.8, 0.05, 0.95):
            y = a[1] + (b[1] - a[1]) * f
            candidates.append(polyline([a, (a[0], y)])[:-1] + s_curve((a[0], y), (b[0], y))[:-1]
                              + polyline([(b[0], y), b]))
        rect = self.step_rects.get(step)
        if rect is not None:
            for side_x, start, end in ((rect[2] - 4, _right(na), _right(nb)),
                                       (rect[0] + 4, _left(na), _left(nb))):
                candidates.append(polyline([start, (side_x, start[1]), (side_x, end[1]), end]))
        clean = [p for p in candidates if not self._crosses(p)]
        if not clean:
            return first
        # of those, the one that runs through the fewest other boxes of the step
        return min(clean, key=lambda p: self._hits(p, na, nb, step))

    def _blocked(self, target, x, y0, y1):
        """Whether a box of ``target``'s step stands on the vertical line x, y0..y1."""
        for box in self.picture.boxes.values():
            if box.id == target.id or (box.frame, box.t) != (target.frame, target.t) \
                    or box.role != STEP:
                continue
            bx, by, bw, bh = self.layout.nodes[box.id]
            if abs(bx - x) < bw / 2 + 2 and y0 < by < y1:
                return True
        return False

    def _band_blocked(self, path, ends):
        """Whether a box of the margins (other than the ``ends``) stands on the straight
        horizontal and vertical pieces of ``path``."""
        for box in self.picture.boxes.values():
            if box.id in ends or box.role not in (BEFORE, AFTER, FREE) \
                    or box.id not in self.layout.nodes:
                continue
            bx, by, bw, bh = self.layout.nodes[box.id]
            for (x0, y0), (x1, y1) in zip(path, path[1:]):
                if (min(x0, x1) < bx + bw / 2 + 2 and bx - bw / 2 - 2 < max(x0, x1)
                        and min(y0, y1) < by + bh / 2 + 2 and by - bh / 2 - 2 < max(y0, y1)):
                    return True
        return False

    def _plain(self, na, nb):
        if nb[0] - nb[2] / 2 > na[0] + na[2] / 2 + 8:
            return s_curve(_right(na), _left(nb), vertical=False)
        if nb[0] + nb[2] / 2 < na[0] - na[2] / 2 - 8:
            return s_curve(_left(na), _right(nb), vertical=False)
        if nb[1] >= na[1]:
            return s_curve(_top(na), _bottom(nb))
        return s_curve(_bottom(na), _top(nb))

    def _hop(self, na, nb, a, b, frame):
        """From step t to the next step: across the gap between the two columns."""
        reverse = nb[0] < na[0]
        rect_a = self.step_rects[(a.frame, a.t)]
        rect_b = self.step_rects[(b.frame, b.t)]
        start = _left(na) if reverse else _right(na)
        exit_x = rect_a[0] - 3 if reverse else rect_a[2] + 3
        entry_x = rect_b[2] + 3 if reverse else rect_b[0] - 3
        end = _right(nb) if reverse else _left(nb)
        if abs(nb[1] - na[1]) < nb[3] / 2 - 2:
            end = (end[0], na[1])
            points = polyline([start, end])
        else:
            points = polyline([start, (exit_x, na[1])])[:-1] + s_curve(
                (exit_x, na[1]), (entry_x, nb[1]), vertical=False)[:-1] + \
                polyline([(entry_x, nb[1]), end])
            points = _fix(points)
        label = ((exit_x + entry_x) / 2, na[1] + 8)
        return points, label

    def _loop(self, i, na, nb, a, frame):
        """The delay's way back into the step: around under the step, in on the other side."""
        r = frame.row
        k = self.loops[r].index(i)
        lane_y = self.rows[r]["loop_lane_y"][k]
        target = self.picture.boxes[self.picture.lines[i].target]
        rect = self.step_rects[(target.frame, target.t) if target.role == STEP
                               else (a.frame, a.t)]
        if frame.reverse:
            out_x, in_x = na[0] - 8 - 5 * k - 8, rect[2] + 8 + 5 * k
            start, end = _left(na), _right(nb)
        else:
            out_x, in_x = na[0] + 8 + 5 * k + 8, rect[0] - 8 - 5 * k
            start, end = _right(na), _left(nb)
        if abs(nb[1] - na[1]) < nb[3] / 2 - 2:
            end = (end[0], na[1])
        points = polyline([start, (out_x, na[1]), (out_x, lane_y), (in_x, lane_y),
                           (in_x, end[1]), end])
        return points, ((out_x + in_x) / 2, lane_y - 8)

    # texts and bounds -------------------------------------------------------------------------
    def _texts(self):
        grid, texts = self.grid, self.layout.texts
        for r, frame_keys in enumerate(grid.rows):
            names = []
            for f in frame_keys:
                frame = grid.frames[f]
                name = "/".join(f) if f else ""
                if name:
                    arrow = " (runs t+1 \u2192 t)" if frame.reverse else ""
                    names.append((f, name + arrow))
            for f, name in names:
                frame = grid.frames[f]
                c0 = self.column_x[frame.offset][0]
                g = self.rows[r]
                x = c0 - 8 - len(name) * 2.9 if frame.offset == 0 else c0 + len(name) * 2.9
                y = g["cluster"][1] - 8 if frame.offset == 0 else g["cluster"][1] + 7
                texts.append((f"row_{r}_{len(texts)}", name, x, y,
                              {"fontsize": "10", "fontcolor": "#4a4f6a"}))
        for (frame_key, t), note in self.notes.items():
            frame = grid.frames.get(frame_key)
            if frame is None or (frame_key, t) not in self.step_rects:
                continue
            rect = self.step_rects[(frame_key, t)]
            marks = [self.layout.nodes[b.id] for b in self.picture.boxes.values()
                     if b.role == INPUT_MARK and (b.frame, b.t) == (frame_key, t)]
            if marks:
                x, y = marks[0][0] + marks[0][2] / 2 + 4 + len(note) * 2.2, marks[0][1]
            else:
                x, y = (rect[0] + rect[2]) / 2, rect[1] - 7
            texts.append((f"note_{len(texts)}", note, x, y,
                          {"fontsize": "8", "fontcolor": "#4a1477"}))

    def _bounds(self):
        xs, ys = [], []
        for x, y, w, h in self.layout.nodes.values():
            xs += [x - w / 2, x + w / 2]
            ys += [y - h / 2, y + h / 2]
        for rect in list(self.layout.clusters.values()) + list(getattr(self, "step_rects",
                                                                       {}).values()):
            xs += [rect[0], rect[2]]
            ys += [rect[1], rect[3]]
        for pts in self.layout.routes.values():
            xs += [p[0] for p in pts]
            ys += [p[1] for p in pts]
        for _, text, x, y, _ in self.layout.texts:
            xs += [x - len(text) * 3, x + len(text) * 3]
            ys += [y - 6, y + 6]
        self.layout.bb = (min(xs, default=0) - 6, min(ys, default=0) - 6,
                          max(xs, default=0) + 6, max(ys, default=0) + 6)

    def _free_layout(self):
        """No step scopes: boxes layered bottom to top, grouped by their first scope."""
        boxes = list(self.picture.boxes.values())
        boxes.sort(key=lambda b: min(b.members) if b.members else 0)
        ids = [b.id for b in boxes]
        group_of, clusters = {}, set()
        for b in boxes:
            if b.clusters:
                group_of[b.id] = b.clusters[0]
                clusters.add(b.clusters[0])
            else:
                group_of[b.id] = b.id
        edges = [(line.source, line.target) for line in self.picture.lines]
        pos, w, h, rects = layered(ids, edges, group_of, self.sizes, clusters)
        for b, (x, y) in pos.items():
            self.layout.nodes[b] = [x, y, *self.sizes[b]]
        for key, rect in rects.items():
            self._cluster(key, rect, str(key[-1]), 9)
        for b in ids:
            if group_of[b] in clusters:
                self.layout.box_clusters[b] = {group_of[b]}
        for i, line in enumerate(self.picture.lines):
            self.layout.routes[i] = self._plain(self.layout.nodes[line.source],
                                                self.layout.nodes[line.target])
        self.step_rects = {}
        self._bounds()
        return self.layout


def _fix(points):
    """Pad with repeated joints so the bezier list keeps 3n+1 points."""
    out = list(points)
    while (len(out) - 1) % 3:
        out.insert(-1, out[-2])
    return out


def arrange_positions(picture, grid, notes=None):
    return Layouter(picture, grid, notes).run()
