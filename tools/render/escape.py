"""Labels that render literally: a scope or parameter name with quotes, backslashes, ``<``,
``>`` or ``&`` must show those characters, not be read as DOT escapes or an HTML label."""
import html

import graphviz


def label(text):
    """A plain DOT label (graphviz quotes it; backslashes and ``<...>`` lose their meaning)."""
    return graphviz.escape(str(text))


def html_text(text):
    """Text inside an HTML-like label (the legend)."""
    return html.escape(str(text), quote=True)
