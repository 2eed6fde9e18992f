"""The backward view: shade each edge by the norm of the gradient that flows along it.

For an edge u -> f (f uses u), the gradient that flows back along it is the VJP that f sends
to u through that input: ``vjp_i(dL/df)``. It is computed here edge by edge, by running each
op's VJP on dL/df (from ``minigrad.grad(loss, tensors, retain_graph=True)``). A tensor used
twice has two edges with two different shades, and an edge that carries nothing (h_1 into
the stack of outputs when L = sum(h_T)) is grey. Norms are binned by decade (log10), so a
gradient vanishing through BPTT (Pascanu et al. 2013; 002_*.txt) fades toward early steps.
"""
import math

import numpy as np

import minigrad as mg

#: Light to dark, a purple family (the states are blue, red, green, orange).
PALETTE = ("#e7e1ef", "#d4b9da", "#c994c7", "#b06ab3", "#8c4da8", "#6a2c91", "#4a1477",
           "#2d0a4e")
UNREACHED = "#c8c8c8"
MIN_BINS = 6


def default_loss(outputs):
    """The output itself when it is one number, else the sum of all output elements."""
    if len(outputs) == 1 and outputs[0].numel() == 1:
        return outputs[0]
    total = None
    for t in outputs:
        total = t.sum() if total is None else total + t.sum()
    return total


def _array(t):
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t, dtype=np.float64)


def node_gradients(graph, loss=None):
    """graph index -> dL/d tensor (a NumPy array) for every tensor that requires a gradient
    and is reached."""
    outputs = [graph.nodes[i].tensor for i in graph.outputs]
    if not any(t.requires_grad for t in outputs):
        raise ValueError("render(backward=True): no output requires a gradient, so there is no "
                         "backward graph to draw (make the inputs or parameters require grad)")
    loss = default_loss(outputs) if loss is None else loss
    nodes = [n for n in graph.nodes if n.tensor.requires_grad]
    grads = mg.grad(loss, [n.tensor for n in nodes], retain_graph=True, allow_unused=True)
    return {node.index: g.data for node, g in zip(nodes, grads) if g is not None}


def edge_gradients(graph, grads):
    """(parent index, child index) -> the VJP array the child sends to that parent."""
    flows = {}
    with mg.no_grad():
        for node in graph.nodes:
            t = node.tensor
            g = grads.get(node.index)
            if t.node is None or g is None or not node.parents:
                continue
            op, parents, kwargs = t.node.op, t.node.parents, t.node.kwargs
            values = tuple(p.data for p in parents)
            if op.vjp_all is not None:
                results = list(op.vjp_all(g, t.data, *values, **kwargs))
            else:
                results = []
                for i, p in enumerate(parents):
                    results.append(op.vjps[i](g, t.data, *values, **kwargs)
                                   if p.requires_grad else None)
            for parent, result in zip(node.parents, results):
                if result is None or not graph.nodes[parent].tensor.requires_grad:
                    continue
                result = result.data if isinstance(result, mg.Tensor) else result
                key = (parent, node.index)
                flows[key] = result if key not in flows else flows[key] + result
    return flows


def line_norm(pairs, flows):
    """||the gradient along a drawn line||: the VJPs of the recorded edges it stands for,
    summed per producer, then the norm over producers."""
    per_source = {}
    for pair in pairs:
        if pair in flows:
            source = pair[0]
            value = _array(flows[pair])
            per_source[source] = value if source not in per_source else per_source[source] + value
    if not per_source:
        return 0.0
    return float(math.sqrt(sum(float((v * v).sum()) for v in per_source.values())))


class Scale:
    """Maps a gradient norm to a colour and a pen width, one bin per decade (at least 6)."""

    def __init__(self, norms):
        logs = [math.log10(v) for v in norms if v > 0 and math.isfinite(v)]
        high = math.ceil(max(logs)) if logs else 1
        low = math.floor(min(logs)) if logs else 0
        high = max(high, low + 1)
        self.bins = min(len(PALETTE), max(MIN_BINS, high - low))
        self.width = max(1, math.ceil((high - low) / self.bins))
        self.low = high - self.bins * self.width

    def bin(self, norm):
        if not (norm > 0 and math.isfinite(norm)):
            return None
        i = int((math.log10(norm) - self.low) // self.width)
        return min(max(i, 0), self.bins - 1)

    def colour(self, i):
        return PALETTE[len(PALETTE) - self.bins + i]

    def penwidth(self, i):
        return 0.8 + 3.2 * (i + 1) / self.bins

    def range_text(self, i):
        a, b = self.low + i * self.width, self.low + (i + 1) * self.width
        first = "below " if i == 0 else ""
        return f"{first}1e{a} .. 1e{b}"


def shade(picture, graph, loss=None):
    """Set ``gradient``/``shade`` on every line of ``picture``; returns the :class:`Scale`
    and graph index -> ||dL/d tensor||."""
    grads = node_gradients(graph, loss)
    flows = edge_gradients(graph, grads)
    for line in picture.lines:
        line.gradient = line_norm(line.pairs, flows)
    scale = Scale([line.gradient for line in picture.lines])
    for line in picture.lines:
        b = scale.bin(line.gradient)
        line.shade = None if b is None else (scale.colour(b), scale.penwidth(b))
    norms = {i: float(np.sqrt((_array(g) ** 2).sum())) for i, g in grads.items()}
    return scale, norms
