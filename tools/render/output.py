"""What ``render`` returns and writes: a :class:`Drawing` that shows itself in a notebook and
saves atomically, with a clear word when Graphviz is missing.

In the SVG, every node and edge carries its tooltip as its ``<title>`` (Graphviz puts the
node's name there; the name stays in the element's ``id``).
"""
import os
import re

import graphviz

from minigrad.serialization import atomic_write

from .build import to_dot

FORMATS = ("svg", "png", "pdf", "dot")
_TOOLTIP = re.compile(r'<title>[^<]*</title>(\s*<g id="a_[^"]*"><a xlink:title="([^"]*)">)')


class RenderError(RuntimeError):
    """Rendering cannot run here (Graphviz's ``dot`` is not installed)."""


def _check(format):
    if format not in FORMATS:
        raise ValueError(f"render: format must be one of {', '.join(FORMATS)}; got {format!r}")


def titled(svg):
    """``svg`` (bytes) with each node's and edge's tooltip as its ``<title>``, and a
    parameter's lighter edges drawn over its darker ones."""
    text = svg.decode("utf-8")
    text = _TOOLTIP.sub(lambda m: f"<title>{m.group(2)}</title>{m.group(1)}", text)
    return _lighter_on_top(text).encode()


_PIECE = re.compile(r"(?=<!-- )")
_PARAMETER_EDGE = re.compile(r'<g id="e\d+:([^:"]+):[^"]*" class="edge parameter"')
_WIDTH = re.compile(r'stroke-width="([\d.]+)"')


def _lighter_on_top(text):
    """In the backward view a shared parameter's edges to the steps run along one lane, and
    Graphviz draws them in step order, so the darkest (the last step's) hides the others.
    Redraw them darkest (widest) first, so every step's shade shows on top of the next."""
    pieces = _PIECE.split(text)
    slots = {}
    for k, piece in enumerate(pieces):
        edge = _PARAMETER_EDGE.search(piece)
        if edge and "</svg>" not in piece:
            slots.setdefault(edge.group(1), []).append(k)
    for ks in slots.values():
        def width(k):
            found = _WIDTH.search(pieces[k])
            return float(found.group(1)) if found else 1.0
        ordered = sorted(ks, key=width, reverse=True)
        reordered = [pieces[k] for k in ordered]
        for k, piece in zip(ks, reordered):
            pieces[k] = piece
    return "".join(pieces)


def dot_bytes(digraph, format="svg"):
    """The file contents of ``digraph`` in ``format``."""
    _check(format)
    if format == "dot":
        return digraph.source.encode("utf-8")
    try:
        data = digraph.pipe(format=format)
    except graphviz.ExecutableNotFound:
        raise RenderError(
            f"render: Graphviz's 'dot' program was not found on PATH, so no {format} can be "
            f"made; install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; macOS: "
            f"brew install graphviz; conda: conda install graphviz) or write format='dot'"
        ) from None
    return titled(data) if format == "svg" else data


def write_atomic(path, data):
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    with atomic_write(path) as f:
        f.write(data)
    return os.fspath(path)


class Drawing:
    """A rendered graph: shown inline by Jupyter (``_repr_svg_``), written by :meth:`save`."""

    def __init__(self, digraph):
        self.digraph = digraph
        self._svg = None

    @property
    def source(self):
        """The DOT text."""
        return self.digraph.source

    def pipe(self, format="svg"):
        if format == "svg":
            if self._svg is None:
                self._svg = dot_bytes(self.digraph, "svg")
            return self._svg
        return dot_bytes(self.digraph, format)

    def svg(self):
        return self.pipe("svg").decode("utf-8")

    def _repr_svg_(self):
        return self.svg()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/svg+xml": self.svg()}

    def save(self, path, format=None):
        """Write the drawing to ``path`` (format from the suffix unless given); returns it."""
        if format is None:
            suffix = os.fspath(path).rsplit(".", 1)[-1].lower() if "." in os.fspath(path) else ""
            format = suffix if suffix in FORMATS else "svg"
        _check(format)
        return write_atomic(path, self.pipe(format))


class SavedDrawing(str):
    """The path a drawing was saved to, which also shows the drawing in a notebook."""

    drawing = None

    def _repr_svg_(self):
        return self.drawing._repr_svg_()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return self.drawing._repr_mimebundle_(include, exclude)

    def save(self, path, format=None):
        return self.drawing.save(path, format)


def render(outputs, path=None, format="svg", **options):
    """Draw the graph of ``outputs`` (options as :func:`to_dot`). Without ``path``, returns a
    :class:`Drawing`; with one, writes it there and returns the path (which also displays)."""
    _check(format)
    drawing = Drawing(to_dot(outputs, **options))
    if path is None:
        return drawing
    saved = SavedDrawing(drawing.save(path, format))
    saved.drawing = drawing
    return saved
