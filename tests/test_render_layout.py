"""tools.render layout: time runs left to right, titles name the view, stacked outputs."""
import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from tools.render import examples, to_dot

SVG = "{http://www.w3.org/2000/svg}"
CELLS = ("rnn", "lstm", "gru", "peephole_lstm", "coupled_lstm", "leaky_rnn", "jordan_rnn")


def _svg(dot):
    return ET.fromstring(dot.pipe(format="svg"))


def _groups(root, cls, what):
    return [g for g in root.iter(SVG + "g")
            if {cls, what} <= set((g.get("class") or "").split())]


def _texts(g):
    return [t.text for t in g.iter(SVG + "text")]


def _left(cluster):
    """Leftmost x of a cluster's outline (a polygon, or a path for rounded corners)."""
    shape = cluster.find(SVG + "polygon")
    if shape is not None:
        return min(float(p.split(",")[0]) for p in shape.get("points").split())
    shape = cluster.find(SVG + "path")
    return min(float(x) for x in re.findall(r"(-?[\d.]+),-?[\d.]+", shape.get("d")))


def _step_lefts(root):
    return {_texts(g)[0]: _left(g) for g in _groups(root, "step", "cluster")}


@pytest.mark.parametrize("detail", ["cell", "op"])
@pytest.mark.parametrize("cell", CELLS)
def test_steps_run_left_to_right(cell, detail):
    for steps in (2, 3, 5, 6, 9):
        module, outputs, _ = examples.build(cell, steps)
        lefts = _step_lefts(_svg(to_dot(outputs, module=module, detail=detail)))
        xs = [lefts[f"t={t}"] for t in range(steps)]
        assert all(a < b for a, b in itertools.pairwise(xs)), (cell, detail, steps, xs)


def test_wrapper_steps_run_left_to_right():
    """Two layers side by side or one above the other: read left to right, t goes down only
    where the second layer's steps begin."""
    module, outputs, _ = examples.build("stacked", 4)
    root = _svg(to_dot(outputs, module=module))
    steps = sorted((_left(g), int(_texts(g)[0][2:])) for g in _groups(root, "step", "cluster"))
    assert len(steps) == 8
    order = [t for _, t in steps]
    descents = sum(b < a for a, b in itertools.pairwise(order))
    assert descents <= 1 and sorted(order) == [0, 0, 1, 1, 2, 2, 3, 3]


def test_title_names_the_view():
    _, _, unrolled = examples.build("lstm", 4)
    _, _, folded = examples.build("lstm", 4, "folded")
    assert "unrolled over 4" in unrolled
    assert "folded" in folded and "unrolled" not in folded


@pytest.mark.parametrize("view", ["unrolled", "folded"])
def test_cell_detail_stacks_the_outputs_in_one_box(view):
    steps = 4
    module, outputs, _ = examples.build("gru", steps)
    root = _svg(to_dot(outputs, module=module, view=view))
    assert _groups(root, "op", "node") == []
    stacked = _groups(root, "stacked", "node")
    assert len(stacked) == 1
    assert _texts(stacked[0]) == ["hs", f"({steps}, 1, {examples.HIDDEN_SIZE})"]
    name = stacked[0].find(SVG + "title").text
    into = [g for g in _groups(root, "data", "edge") if
            g.find(SVG + "title").text.endswith("->" + name)]
    states = {g.find(SVG + "title").text: _texts(g) for g in _groups(root, "state", "node")}
    sources = [g.find(SVG + "title").text.split("->")[0] for g in into]
    assert len(sources) == (steps if view == "unrolled" else 1)
    assert all(states[s] == ["h"] for s in sources)


def test_op_detail_keeps_the_stacking_op():
    steps = 3
    module, outputs, _ = examples.build("rnn", steps)
    root = _svg(to_dot(outputs, module=module, detail="op"))
    ops = [_texts(g)[0] for g in _groups(root, "op", "node")]
    assert ops.count("stack") == 1
    assert _groups(root, "stacked", "node") == []


def test_tcn_picture_shows_dilations():
    module, outputs, _ = examples.build("tcn", 4)
    root = _svg(to_dot(outputs, module=module))
    labels = " ".join(t for g in _groups(root, "scope", "cluster") for t in _texts(g))
    for dilation in module.dilations:
        assert f"dilation={dilation}" in labels
