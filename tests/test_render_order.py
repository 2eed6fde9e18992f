"""Time runs left to right: the t=0, t=1, ... clusters of an unrolled picture sit at
increasing x, whatever order Graphviz's crossing minimisation would have chosen."""
import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from tools.render import examples, render

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
SVG = "{http://www.w3.org/2000/svg}"


def step_lefts(path):
    """{t: left x of the cluster labelled t=...}, read from the SVG."""
    lefts = {}
    for group in ET.parse(path).getroot().iter(f"{SVG}g"):
        if "cluster" not in (group.get("class") or "").split():
            continue
        labels = [t.text for t in group.iter(f"{SVG}text") if t.text]
        label = next((text for text in labels if re.fullmatch(r"t=\d+", text)), None)
        outline = group.find(f"{SVG}polygon")
        if outline is None:
            outline = group.find(f"{SVG}path")
        if label is None or outline is None:
            continue
        numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", outline.get("points")
                                                 or outline.get("d"))]
        lefts[int(label[2:])] = min(numbers[0::2])
    return lefts


CASES = [(name, steps, "cell") for name in ("rnn", "lstm", "gru", "peephole", "coupled",
                                            "leaky", "jordan") for steps in (2, 3, 5, 6, 9)]
CASES += [(name, steps, "op") for name in ("rnn", "lstm", "gru") for steps in (3, 6, 9)]


@pytest.mark.parametrize("name,steps,detail", CASES)
def test_step_clusters_run_left_to_right(tmp_path, name, steps, detail):
    module, outputs, title = examples.build(name, steps)
    path = render(outputs, tmp_path / "graph.svg", module=module, title=title, detail=detail,
                  max_nodes=None)
    lefts = step_lefts(path)
    assert sorted(lefts) == list(range(steps))
    xs = [lefts[t] for t in range(steps)]
    assert all(a < b for a, b in zip(xs, xs[1:])), xs
