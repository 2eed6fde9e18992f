"""Saving and loading arrays as ``.npz``: written to a temporary file and renamed, so a file
is either complete or absent; read back without pickle."""
import contextlib
import os
import tempfile
import zipfile

import numpy as np

FORMAT_KEY = "__minigrad_format__"
FORMAT_VERSION = 1


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """A file to write ``path`` through: a temporary file beside it, renamed onto ``path``
    only once everything is written, and removed if anything fails."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-",
                                         suffix=os.path.splitext(path)[1])
    try:
        with os.fdopen(handle, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)   # mkstemp makes it private; give it open()'s mode
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def save(obj, path):
    """Save a module's ``state_dict()`` or a dict of arrays/tensors/scalars to ``path``."""
    arrays = obj.state_dict() if hasattr(obj, "state_dict") else dict(obj)
    payload = {FORMAT_KEY: np.asarray(FORMAT_VERSION)}
    for key, value in arrays.items():
        if key == FORMAT_KEY:
            raise ValueError(f"save: key {key!r} is reserved")
        value = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
        if value.dtype == object:
            raise TypeError(f"save: entry {key!r} is not an array of numbers or strings")
        payload[key] = value
    with atomic_write(path) as f:
        np.savez(f, **payload)
    return os.fspath(path)


def load(path):
    """The dict of NumPy arrays saved by :func:`save`; a clear error for anything else."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path}")
    try:
        archive = np.load(path, allow_pickle=False)
        if not hasattr(archive, "files"):
            raise ValueError("a single .npy array, not an .npz archive")
        with archive:
            arrays = {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ValueError(f"load: {path} is not a readable .npz file ({exc})") from None
    if FORMAT_KEY not in arrays:
        raise ValueError(f"load: {path} was not written by minigrad.save (no {FORMAT_KEY})")
    del arrays[FORMAT_KEY]
    return arrays
