"""Writing a rendered graph to a file: atomically, and with a clear word when ``dot`` is
missing."""
import os

import graphviz

from minigrad.serialization import atomic_write

from .build import to_dot

FORMATS = ("svg", "png", "pdf", "dot")


class RenderError(RuntimeError):
    """Rendering cannot run here (Graphviz's ``dot`` is not installed)."""


def dot_bytes(digraph, format="svg"):
    """The file contents of ``digraph`` in ``format``."""
    if format not in FORMATS:
        raise ValueError(f"render: format must be one of {', '.join(FORMATS)}; got {format!r}")
    if format == "dot":
        return digraph.source.encode("utf-8")
    try:
        return digraph.pipe(format=format)
    except graphviz.ExecutableNotFound:
        raise RenderError(
            f"render: Graphviz's 'dot' program was not found on PATH, so no {format} can be "
            f"made; install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; macOS: "
            f"brew install graphviz; conda: conda install graphviz) or write format='dot'"
        ) from None


def write_atomic(path, data):
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    with atomic_write(path) as f:
        f.write(data)
    return os.fspath(path)


def render(outputs, path, format="svg", **options):
    """Draw the graph of ``outputs`` (options as :func:`to_dot`) into ``path``; returns it."""
    if format not in FORMATS:
        raise ValueError(f"render: format must be one of {', '.join(FORMATS)}; got {format!r}")
    return write_atomic(path, dot_bytes(to_dot(outputs, **options), format))
