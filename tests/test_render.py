"""tools.render: the SVG is parsed as XML and checked for what the picture must show."""
import itertools
import os
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from helpers import count_recorded_ops

import minigrad as mg
import models
from tools.render import Drawing, RenderError, picture_of, render, to_dot

SVG = "{http://www.w3.org/2000/svg}"


def _lstm(steps, hidden=3):
    mg.manual_seed(0)
    cell = models.LSTMCell(2, hidden)
    xs = mg.tensor(np.random.default_rng(0).standard_normal((steps, 1, 2)), dtype="float32")
    hs, _ = models.unroll(cell, xs)
    return cell, hs


def _svg(outputs, tmp_path, name="g.svg", **options):
    path = render(outputs, tmp_path / name, **options)
    return ET.parse(path).getroot()


def _groups(root, cls, what="node"):
    """SVG groups of one class: nodes (``what="node"``), edges or clusters."""
    return [g for g in root.iter(SVG + "g")
            if {cls, what} <= set((g.get("class") or "").split())]


def _title(g):
    return g.find(SVG + "title").text


def _texts(g):
    return [t.text for t in g.iter(SVG + "text")]


@pytest.mark.parametrize("detail", ["cell", "op"])
def test_unrolled_has_one_labelled_cluster_per_step(tmp_path, detail):
    cell, hs = _lstm(4)
    root = _svg(hs, tmp_path, module=cell, detail=detail)
    steps = _groups(root, "step", "cluster")
    labels = sorted(_texts(g)[0] for g in steps)
    assert labels == ["t=1", "t=2", "t=3", "t=4"]


def test_folded_has_one_step_and_a_delay_per_state(tmp_path):
    cell, hs = _lstm(5)
    root = _svg(hs, tmp_path, module=cell, view="folded")
    steps = _groups(root, "step", "cluster")
    assert len(steps) == 1 and _texts(steps[0])[0] == "t"
    delays = _groups(root, "delay")
    assert len(delays) == 2
    recurrent = _groups(root, "recurrent", "edge")
    labels = {t for g in recurrent for t in _texts(g)}
    assert labels == {"h_{t-1}", "c_{t-1}"}
    for delay in delays:
        ends = [g.get("id").split(":")[1:] for g in recurrent]
        assert [delay.get("id")] == [tail for tail, _ in ends if tail == delay.get("id")]
        assert any(head == delay.get("id") for _, head in ends)


def test_folded_op_detail_does_not_grow_with_steps(tmp_path):
    counts = []
    for steps in (3, 6):
        cell, hs = _lstm(steps)
        picture, _ = picture_of(hs, view="folded", detail="op", module=cell)
        counts.append(len(picture.ops()))
    unrolled, _ = picture_of(_lstm(3)[1], detail="op")
    assert counts[0] == counts[1] < len(unrolled.ops())


@pytest.mark.parametrize("steps", [1, 4])
def test_each_parameter_drawn_once(tmp_path, steps):
    cell, hs = _lstm(steps)
    root = _svg(hs, tmp_path, module=cell, detail="op")
    params = _groups(root, "parameter")
    names = sorted(_texts(g)[0] for g in params)
    assert names == sorted(name for name, _ in cell.named_parameters())
    weight_hh = next(g for g in params if _texts(g)[0] == "weight_hh")
    edges = [g.get("id").split(":")[1] for g in _groups(root, "parameter", "edge")]
    assert edges.count(weight_hh.get("id")) == steps


def test_parameters_without_names_show_their_shape(tmp_path):
    _, hs = _lstm(2)
    root = _svg(hs, tmp_path)
    labels = [" ".join(_texts(g)) for g in _groups(root, "parameter")]
    assert "parameter (12, 3)" in labels


def test_op_count_in_op_detail_equals_recorded_graph(tmp_path):
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    w = mg.nn.Parameter(np.ones((2, 3), dtype=np.float32))
    with mg.scope("layer"):
        y = ((x @ w).tanh() * 2).sum()
    root = _svg(y, tmp_path, detail="op", params={"w": w})
    assert len(_groups(root, "op")) == count_recorded_ops(y) == 4
    cell, hs = _lstm(3)
    root = _svg(hs, tmp_path, "lstm.svg", detail="op", module=cell)
    assert len(_groups(root, "op")) == count_recorded_ops(hs)


def test_labels_render_literally(tmp_path):
    name = 'a"b<c>&d\\n'
    w = mg.nn.Parameter(np.ones((2, 2), dtype=np.float32))
    x = mg.ones(1, 2)
    with mg.scope(name):
        y = (x @ w).sum()
    root = _svg(y, tmp_path, detail="op", params={'w<"&>': w}, title="<&>")
    texts = [t for g in root.iter(SVG + "g") for t in _texts(g)]
    assert name in texts
    assert 'w<"&>' in texts
    dot = to_dot(y, detail="op", params={'w<"&>': w})
    assert dot.source.count("<<TABLE") == 1


def test_same_graph_gives_same_dot_text():
    first = to_dot(_lstm(3)[1], detail="op", view="unrolled").source
    second = to_dot(_lstm(3)[1], detail="op", view="unrolled").source
    assert first == second
    assert to_dot(_lstm(3)[1], view="folded").source == to_dot(_lstm(3)[1], view="folded").source
    assert first != to_dot(_lstm(4)[1], detail="op").source


def test_legend_lists_node_kinds(tmp_path):
    cell, hs = _lstm(2)
    root = _svg(hs, tmp_path, module=cell, view="folded")
    legend = " ".join(t for g in _groups(root, "legend") for t in _texts(g))
    for kind in ("input", "parameter", "cell", "delay", "h: recurrent state"):
        assert kind in legend


def test_op_detail_falls_back_past_max_nodes(tmp_path):
    cell, hs = _lstm(3)
    with pytest.warns(UserWarning, match="max_nodes"):
        root = _svg(hs, tmp_path, module=cell, detail="op", max_nodes=10)
    assert len(_groups(root, "step", "cluster")) == 3
    assert len(_groups(root, "cell")) >= 3


def test_backward_edges_fade_toward_early_steps():
    mg.manual_seed(0)
    cell = models.RNNCell(2, 4)
    cell.weight_hh.data *= 0.3
    hs, _ = models.unroll(cell, mg.ones(6, 1, 2))
    loss = hs[5].sum()
    picture, _ = picture_of(loss, detail="op", backward=True, module=cell)
    recurrent = [line for line in picture.lines if line.kind == "recurrent"]
    assert len(recurrent) == 5
    norms = [line.gradient for line in sorted(
        recurrent, key=lambda line: picture.boxes[line.source].clusters[0])]
    assert all(a < b for a, b in itertools.pairwise(norms))
    widths = [line.shade[1] for line in recurrent if line.shade]
    assert min(widths) < max(widths)
    source = to_dot(loss, detail="op", backward=True).source
    assert "||gradient||" in source and "backward" in source


def test_backward_shades_each_use_of_a_tensor_by_its_own_gradient():
    """x feeds two ops; each edge carries the VJP of its own consumer (2x and 3x the
    upstream ones), not ||dL/dx|| on both."""
    x = mg.tensor(np.ones((4,)), requires_grad=True)
    loss = (x * 2).sum() + (x * 3).sum()
    picture, scale = picture_of(loss, detail="op", backward=True)
    from_x = sorted(line.gradient for line in picture.lines
                    if picture.boxes[line.source].kind == "input")
    assert from_x == pytest.approx([2 * np.sqrt(4), 3 * np.sqrt(4)])
    assert scale.bins >= 6


def test_backward_needs_a_gradient():
    x = mg.ones(2, 2)
    with pytest.raises(ValueError, match="requires a gradient"):
        to_dot(x * 2, backward=True)


def test_bad_options_name_the_valid_ones(tmp_path):
    hs = _lstm(2)[1]
    with pytest.raises(ValueError, match="unrolled, folded"):
        to_dot(hs, view="sideways")
    with pytest.raises(ValueError, match="svg, png, pdf, dot"):
        render(hs, tmp_path / "x.gif", format="gif")
    assert not (tmp_path / "x.gif").exists()


def test_missing_dot_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RenderError, match="install Graphviz"):
        render(_lstm(2)[1], tmp_path / "x.svg")
    assert not (tmp_path / "x.svg").exists()
    path = render(_lstm(2)[1], tmp_path / "x.dot", format="dot")
    with open(path) as f:
        assert "digraph minigrad {" in f.read()


def test_written_atomically(tmp_path):
    path = render(_lstm(2)[1], tmp_path / "sub" / "g.svg")
    assert os.path.exists(path)
    assert sorted(os.listdir(tmp_path / "sub")) == ["g.svg"]


def test_works_for_tensors_outside_any_cell(tmp_path):
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = (a * a).sum()
    root = _svg(b, tmp_path, view="folded")
    assert _groups(root, "step", "cluster") == []
    assert len(_groups(root, "op")) == 2


@pytest.mark.slow
def test_lstm_100_steps_in_op_detail_falls_back(tmp_path):
    cell, hs = _lstm(100, hidden=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        root = _svg(hs, tmp_path, module=cell, detail="op")
    assert any("max_nodes" in str(w.message) for w in caught)
    assert len(_groups(root, "step", "cluster")) == 100


def test_command_line(tmp_path, capsys):
    from tools.cli import main
    assert main(["render", "--cell", "nope", "-o", str(tmp_path / "x.svg")]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "lstm" in error and "gru" in error
    assert main(["render", "--cell", "gru", "--format", "gif", "-o", str(tmp_path / "x")]) == 2
    assert "svg, png, pdf, dot" in capsys.readouterr().err
    out = tmp_path / "gru.svg"
    assert main(["render", "--cell", "gru", "--steps", "2", "--view", "folded", "-o", str(out)]) == 0
    assert len(_groups(ET.parse(out).getroot(), "delay")) == 1


def test_wrappers_render_from_their_scopes(tmp_path):
    from tools.render import examples
    model, hs, _ = examples.build("bidirectional", 3)
    unrolled = _svg(hs, tmp_path, "u.svg", module=model)
    assert len(_groups(unrolled, "step", "cluster")) == 6
    folded = _svg(hs, tmp_path, "f.svg", module=model, view="folded")
    assert len(_groups(folded, "step", "cluster")) == 2
    assert len(_groups(folded, "delay")) == 2
    model, logits, _ = examples.build("seq2seq", 3)
    root = _svg(logits, tmp_path, "s.svg", module=model, view="folded")
    rows = [t for g in _groups(root, "note") for t in _texts(g)]
    assert "encoder" in rows and "decoder" in rows


def test_render_returns_what_a_notebook_shows(tmp_path):
    cell, hs = _lstm(2)
    drawing = render(hs, module=cell)
    assert isinstance(drawing, Drawing)
    svg = drawing._repr_svg_()
    assert ET.fromstring(svg).tag == SVG + "svg"
    assert drawing._repr_mimebundle_() == {"image/svg+xml": svg}
    path = drawing.save(tmp_path / "d.svg")
    with open(path) as f:
        assert f.read() == svg
    assert drawing.save(tmp_path / "d.dot").endswith("d.dot")
    with open(tmp_path / "d.dot") as f:
        assert "digraph minigrad {" in f.read()
    saved = render(hs, tmp_path / "p.svg", module=cell)
    assert saved == str(tmp_path / "p.svg") and saved._repr_svg_() == svg
