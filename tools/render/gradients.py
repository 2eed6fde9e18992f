"""The backward view: shade each edge by the norm of the gradient that flows along it.

For an edge from tensor u to the op that uses it, the gradient flowing back is dL/du; its
norm ||dL/du|| is taken from ``minigrad.grad(loss, tensors, retain_graph=True)``. Norms are
binned by decade (log10) so that a gradient vanishing through BPTT (Pascanu et al. 2013;
002_*.txt) shows as edges fading toward the early steps.
"""
import math

import numpy as np

import minigrad as mg

#: Light to dark: small gradients fade, large ones stand out.
PALETTE = ("#fde4cf", "#f9c29c", "#f19a6b", "#e0663f", "#c1372b", "#8a1424")
UNREACHED = "#c8c8c8"


def default_loss(outputs):
    """The output itself when it is one number, else the sum of all output elements."""
    if len(outputs) == 1 and outputs[0].numel() == 1:
        return outputs[0]
    total = None
    for t in outputs:
        total = t.sum() if total is None else total + t.sum()
    return total


def gradient_norms(graph, loss=None):
    """graph index -> ||dL/d tensor|| (float) for every tensor that requires a gradient."""
    outputs = [graph.nodes[i].tensor for i in graph.outputs]
    if not any(t.requires_grad for t in outputs):
        raise ValueError("render(backward=True): no output requires a gradient, so there is no "
                         "backward graph to draw (make the inputs or parameters require grad)")
    loss = default_loss(outputs) if loss is None else loss
    nodes = [n for n in graph.nodes if n.tensor.requires_grad]
    grads = mg.grad(loss, [n.tensor for n in nodes], retain_graph=True, allow_unused=True)
    norms = {}
    for node, g in zip(nodes, grads):
        values = np.asarray(g.numpy(), dtype=np.float64)
        norms[node.index] = float(np.sqrt((values * values).sum()))
    return norms


class Scale:
    """Maps a gradient norm to a colour and a pen width, by bins of whole decades."""

    def __init__(self, norms):
        logs = [math.log10(v) for v in norms if v > 0 and math.isfinite(v)]
        low = math.floor(min(logs)) if logs else 0
        high = math.ceil(max(logs)) if logs else 1
        high = max(high, low + 1)
        self.width = max(1, math.ceil((high - low) / len(PALETTE)))
        self.low = low
        self.bins = min(len(PALETTE), math.ceil((high - low) / self.width))

    def bin(self, norm):
        if not (norm > 0 and math.isfinite(norm)):
            return None
        i = int((math.log10(norm) - self.low) // self.width)
        return min(max(i, 0), self.bins - 1)

    def colour(self, i):
        return PALETTE[len(PALETTE) - self.bins + i]

    def penwidth(self, i):
        return 0.6 + 3.4 * (i + 1) / self.bins

    def range_text(self, i):
        a, b = self.low + i * self.width, self.low + (i + 1) * self.width
        return f"1e{a} .. 1e{b}"


def shade(picture, norms):
    """Set ``colour``/``penwidth`` on every line of ``picture``; returns the :class:`Scale`."""
    scale = Scale([v for v in norms.values()])
    for line in picture.lines:
        norm = max((norms.get(i, 0.0) for i in line.sources), default=0.0)
        line.gradient = norm
        b = scale.bin(norm)
        line.shade = None if b is None else (scale.colour(b), scale.penwidth(b))
    return scale
