"""Text to train on: UTF-8 files, and a default corpus that every machine already has.

The default corpus is the docstrings of the top-level modules of Python's standard library
(every module, class and function docstring, in file-name order, then source order). It is
read with :mod:`ast`, so nothing is imported or executed, and the same Python version gives
the same bytes on every machine.
"""
import ast
import os
import sysconfig


class DataError(ValueError):
    """A data file that is missing, empty, unreadable or not UTF-8; the message names it."""


def read_text(path):
    """The contents of the UTF-8 text file ``path``, or a :class:`DataError` naming it."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise DataError(f"data file {path}: no such file")
    if os.path.isdir(path):
        raise DataError(f"data file {path}: is a directory, not a text file")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise DataError(f"data file {path}: cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"data file {path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at "
                        f"offset {exc.start})") from None
    if not text:
        raise DataError(f"data file {path}: is empty")
    return text


def _docstrings(source):
    tree = ast.parse(source)
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    for node in ast.walk(tree):
        if isinstance(node, kinds):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield doc


def stdlib_docstrings(max_chars=None):
    """The default corpus: standard-library docstrings joined by blank lines, cut to at most
    ``max_chars`` characters (at a paragraph boundary) when given."""
    folder = sysconfig.get_paths()["stdlib"]
    names = sorted(name for name in os.listdir(folder) if name.endswith(".py"))
    pieces, total = [], 0
    for name in names:
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                source = f.read()
            docs = list(_docstrings(source))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for doc in docs:
            if max_chars is not None and total + len(doc) + 2 > max_chars:
                return "\n\n".join(pieces) + "\n"
            pieces.append(doc)
            total += len(doc) + 2
    if not pieces:
        raise DataError(f"default corpus: no docstrings found under {folder}")
    return "\n\n".join(pieces) + "\n"


def split_text(text, validation_fraction=0.1):
    """(train, validation): the last ``validation_fraction`` of the text is held out."""
    if not 0 < validation_fraction < 1:
        raise ValueError(f"split_text: validation_fraction must lie in (0, 1), "
                         f"got {validation_fraction}")
    cut = len(text) - max(1, int(len(text) * validation_fraction))
    return text[:cut], text[cut:]
