"""Draw the graph of any output tensor, grouped by time step and scope.

``to_dot(outputs, view, detail, backward)`` gives a :class:`graphviz.Digraph` with every
position fixed; ``render(outputs)`` a :class:`Drawing` (shown inline in Jupyter, ``.save``),
``render(outputs, path, format)`` writes SVG/PNG/PDF/DOT. Modules: ``steps`` (time steps in
scope paths), ``graph`` (the recorded graph), ``unrolled`` and ``folded`` (the two views),
``picture`` (boxes and lines; cell detail), ``grid`` (rows, columns and roles), ``layout``
(positions and edge paths), ``tcn`` (the convolution's time axis), ``gradients`` (per-edge
backward shading), ``hover`` (tooltips), ``dot`` and ``escape`` (DOT text), ``build``
(``to_dot``), ``output`` (files), ``examples`` (small networks of every kind, for the
command line and the gallery).
"""
from .build import DETAILS, MAX_NODES, VIEWS, picture_of, to_dot
from .output import FORMATS, Drawing, RenderError, render

__all__ = [
           "DETAILS",
           "Drawing",
           "FORMATS",
           "MAX_NODES",
           "VIEWS",
           "RenderError",
           "picture_of",
           "render",
           "to_dot",
]
