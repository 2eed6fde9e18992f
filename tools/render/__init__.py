"""Draw the graph of any output tensor, grouped by time step and scope.

``to_dot(outputs, view, detail, backward)`` gives a :class:`graphviz.Digraph`;
``render(outputs, path, format)`` writes SVG/PNG/PDF/DOT. Modules: ``steps`` (time steps in
scope paths), ``graph`` (the recorded graph), ``unrolled`` and ``folded`` (the two views),
``picture`` (boxes, clusters, lines; cell detail), ``gradients`` (backward shading), ``dot``
and ``escape`` (DOT text), ``build`` (``to_dot``), ``output`` (files), ``examples`` (small
networks of every cell, for the command line and the gallery).
"""
from .build import DETAILS, MAX_NODES, VIEWS, picture_of, to_dot
from .output import FORMATS, RenderError, render

__all__ = [
           "DETAILS",
           "FORMATS",
           "MAX_NODES",
           "VIEWS",
           "RenderError",
           "picture_of",
           "render",
           "to_dot",
]
