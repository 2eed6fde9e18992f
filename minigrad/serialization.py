"""Saving and loading arrays as ``.npz``: written to a temporary file and renamed, so a file
is either complete or absent; read back without pickle."""
import contextlib
import math
import os
import re
import tempfile
import zipfile

import numpy as np

FORMAT_KEY = "__minigrad_format__"
FORMAT_VERSION = 1


def _process_is_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:        # it exists but belongs to someone else, or the test is unsupported
        return True
    return True


def remove_stale_temporaries(path):
    """Delete the temporary files that writes of ``path`` left behind when their process was
    killed: ``.<name>.<pid>-<random>.tmp`` beside it, whose process is gone (or is this one,
    which writes one file at a time). Temporaries of other files are left alone."""
    folder, name = os.path.split(os.path.abspath(path))
    pattern = re.compile(rf"\.{re.escape(name)}\.(\d+)-[A-Za-z0-9_]+\.tmp")
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    for entry in entries:
        match = pattern.fullmatch(entry)
        if match and (int(match.group(1)) == os.getpid()
                      or not _process_is_alive(int(match.group(1)))):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(folder, entry))


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """A file to write ``path`` through: a temporary file beside it
    (``.<name>.<pid>-<random>.tmp``), renamed onto ``path`` only once everything is
    written, and removed if anything fails. Temporaries that killed writes of ``path`` left
    are removed first."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    remove_stale_temporaries(path)
    handle, temporary = tempfile.mkstemp(
        dir=folder, prefix=f".{os.path.basename(path)}.{os.getpid()}-", suffix=".tmp")
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


def _check_folder(path):
    """Refuse, before anything is written, a path under a file."""
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(folder):
        folder = os.path.dirname(folder)
    if not os.path.isdir(folder):
        raise NotADirectoryError(f"save: cannot write {path}: {folder} is a file, not a folder")


def save(obj, path):
    """Save a module's ``state_dict()`` or a dict of arrays/tensors/scalars to ``path``."""
    arrays = obj.state_dict() if hasattr(obj, "state_dict") else dict(obj)
    _check_folder(os.fspath(path))
    payload = {FORMAT_KEY: np.asarray(FORMAT_VERSION)}
    for key, value in arrays.items():
        if not isinstance(key, str):
            raise TypeError(f"save: keys must be strings, got {key!r} ({type(key).__name__})")
        if key == FORMAT_KEY:
            raise ValueError(f"save: key {key!r} is reserved")
        value = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
        if value.dtype == object:
            raise TypeError(f"save: entry {key!r} is not an array of numbers or strings")
        payload[key] = value
    with atomic_write(path) as f:
        np.savez(f, **payload)
    return os.fspath(path)


MAX_BYTES = 1 << 33      # 8 GiB: what load() allocates at most unless told otherwise

_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}


def _declared_sizes(path, max_bytes):
    """Read every member's ``.npy`` header (not its data) and refuse, before anything is
    allocated, object arrays, a shape larger than the bytes the member holds, or more than
    ``max_bytes`` in all."""
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version not in _HEADER_READERS:
                    raise ValueError(f"entry {info.filename!r} has .npy format {version}")
                shape, _, dtype = _HEADER_READERS[version](member)
                if dtype.hasobject:
                    raise ValueError(f"entry {info.filename!r} holds Python objects, which "
                                     f"minigrad never loads")
                size = dtype.itemsize * math.prod(shape)
                header = member.tell()
            if size > info.file_size - header:
                raise ValueError(f"entry {info.filename!r} declares shape {shape} of {dtype} "
                                 f"({size} bytes) but holds {info.file_size - header} bytes")
            total += size
            if total > max_bytes:
                raise ValueError(f"its arrays declare more than max_bytes={max_bytes} bytes "
                                 f"(at entry {info.filename!r} of shape {shape}, {dtype}); "
                                 f"pass a larger max_bytes if the file is trusted")


def load(path, max_bytes=MAX_BYTES):
    """The dict of NumPy arrays saved by :func:`save`; a clear error for anything else.
    Nothing is allocated for arrays whose declared sizes exceed ``max_bytes`` in all."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path}")
    try:
        if not zipfile.is_zipfile(path):
            raise ValueError("not a zip archive, which is what minigrad.save writes")
        _declared_sizes(path, max_bytes)
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ValueError(f"load: {path} is not a readable .npz file ({exc})") from None
    if FORMAT_KEY not in arrays:
        raise ValueError(f"load: {path} was not written by minigrad.save (no {FORMAT_KEY})")
    del arrays[FORMAT_KEY]
    return arrays
