"""``mg.save`` / ``mg.load``: ``.npz`` round trips written atomically, and a clear error
naming the file for a missing, truncated or foreign one."""
import os
import re

import numpy as np
import pytest
from test_engine_support import engine_backend, leaf  # noqa: F401

import minigrad as mg


def test_module_round_trip(tmp_path):
    source = mg.nn.Linear(3, 2)
    path = tmp_path / "model.npz"
    assert mg.save(source, path) == str(path)
    loaded = mg.load(path)
    assert sorted(loaded) == ["bias", "weight"]
    target = mg.nn.Linear(3, 2)
    assert target.load_state_dict(loaded) == ([], [])       # missing, unexpected keys
    for (name, p), (_, q) in zip(source.named_parameters(), target.named_parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)


def test_dict_of_tensors_arrays_and_scalars_round_trip(tmp_path):
    values = {"tensor": leaf([[1.5, -2.0]]), "array": np.arange(4, dtype=np.int32),
              "step": 7, "name": np.array("lstm")}
    loaded = mg.load(mg.save(values, tmp_path / "mixed.npz"))
    np.testing.assert_array_equal(loaded["tensor"], [[1.5, -2.0]])
    assert loaded["array"].dtype == np.int32
    assert int(loaded["step"]) == 7 and str(loaded["name"]) == "lstm"


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "nested" / "model.npz"
    mg.save({"a": np.ones(3)}, path)
    mg.save({"a": np.zeros(3)}, path)                    # overwrite in place
    assert os.listdir(path.parent) == ["model.npz"]
    np.testing.assert_array_equal(mg.load(path)["a"], np.zeros(3))


def test_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "model.npz"
    mg.save({"a": np.ones(2)}, path)
    with pytest.raises(TypeError, match="save: entry 'bad'"):
        mg.save({"a": np.zeros(2), "bad": np.array([{}], dtype=object)}, path)
    np.testing.assert_array_equal(mg.load(path)["a"], np.ones(2))
    assert os.listdir(tmp_path) == ["model.npz"]


def test_missing_file(tmp_path):
    path = tmp_path / "absent.npz"
    with pytest.raises(FileNotFoundError, match=f"load: no such file: .*{path.name}"):
        mg.load(path)


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_file(tmp_path, keep):
    path = tmp_path / "model.npz"
    mg.save(mg.nn.Linear(8, 8), path)
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(ValueError, match=f"load: .*{path.name} is not a readable .npz file"):
        mg.load(path)


def test_corrupted_member_is_reported(tmp_path):
    path = tmp_path / "model.npz"
    mg.save({"a": np.arange(100.0)}, path)
    data = bytearray(path.read_bytes())
    middle = data.find(b"\x00\x00\x00\x00\x00\x00\xf0?")     # the bytes of 1.0 in the array
    assert middle > 0
    data[middle:middle + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=f"load: .*{path.name} is not a readable"):
        mg.load(path)


def test_foreign_files(tmp_path):
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weight=np.ones(3))
    with pytest.raises(ValueError, match=f"load: .*{foreign.name} was not written by "
                                         f"minigrad.save"):
        mg.load(foreign)
    text = tmp_path / "notes.npz"
    text.write_text("not an archive")
    with pytest.raises(ValueError, match=f"load: .*{text.name} is not a readable"):
        mg.load(text)
    single = tmp_path / "array.npy"
    np.save(single, np.ones(3))
    with pytest.raises(ValueError, match=f"load: .*{single.name} is not a readable"):
        mg.load(single)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, __minigrad_format__=np.asarray(1), obj=np.array([{}], dtype=object))
    with pytest.raises(ValueError, match=f"load: .*{pickled.name} is not a readable"):
        mg.load(pickled)


def test_reserved_key_is_refused(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        mg.save({"__minigrad_format__": np.ones(1)}, tmp_path / "x.npz")


def test_keep_freed_memory_reaches_glibc_malloc():
    import platform

    import minigrad as mg
    expected = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert mg.backend.keep_freed_memory() is expected


@pytest.mark.parametrize("key", [1, ("a", 2), None])
def test_non_string_keys_are_refused_before_writing(tmp_path, key):
    path = tmp_path / "model.npz"
    with pytest.raises(TypeError, match=rf"save: keys must be strings, got {re.escape(repr(key))}"):
        mg.save({"a": np.ones(2), key: np.ones(2)}, path)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("depth", [1, 2])
def test_save_under_a_file_names_the_file(tmp_path, depth):
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder")
    path = blocker.joinpath(*["sub"] * (depth - 1), "model.npz")
    with pytest.raises(NotADirectoryError, match="save: cannot write .*model.npz: .*taken is a "
                                                 "file, not a folder"):
        mg.save({"a": np.ones(2)}, path)
    assert blocker.read_text() == "a file, not a folder"


@pytest.mark.parametrize("content", ["just some notes\n", "PK but not a zip", ""])
def test_text_file_is_refused_without_any_mention_of_unpickling(tmp_path, content):
    path = tmp_path / "notes.npz"
    path.write_text(content)
    with pytest.raises(ValueError, match=f"load: .*{path.name} is not a readable .npz file") \
            as info:
        mg.load(path)
    assert "pickle" not in str(info.value).lower()


def test_object_arrays_are_refused_without_any_mention_of_unpickling(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, __minigrad_format__=np.asarray(1), obj=np.array([{}], dtype=object))
    with pytest.raises(ValueError, match="holds Python objects, which minigrad never loads") \
            as info:
        mg.load(path)
    assert "pickle" not in str(info.value).lower()


def _crafted(path, shape):
    """An archive like mg.save's whose entry 'a' declares ``shape`` but holds 4 float64s
    (a valid zip: CRCs match the bytes)."""
    import io
    import zipfile
    with zipfile.ZipFile(path, "w") as archive:
        for name, array, declared in [("__minigrad_format__", np.asarray(1), None),
                                      ("a", np.arange(4.0), shape)]:
            member = io.BytesIO()
            np.lib.format.write_array(member, array)
            if declared is not None:
                member = io.BytesIO()
                np.lib.format.write_array_header_1_0(
                    member, {"descr": "<f8", "fortran_order": False, "shape": declared})
                member.write(array.tobytes())
            archive.writestr(name + ".npy", member.getvalue())


@pytest.mark.parametrize("shape", [(999999999999,), (99999, 99999), (5,)])
def test_a_huge_declared_shape_is_refused_before_allocating(tmp_path, monkeypatch, shape):
    path = tmp_path / "crafted.npz"
    _crafted(path, (4,))
    np.testing.assert_array_equal(mg.load(path)["a"], np.arange(4.0))    # the honest one loads
    _crafted(path, shape)

    def never(*args, **kwargs):
        raise AssertionError("an array was allocated for the crafted header")

    monkeypatch.setattr(np.lib.format, "read_array", never)
    with pytest.raises(ValueError, match=r"load: .*crafted.npz is not a readable .npz file "
                                         r"\(entry 'a.npy' declares shape .* bytes\) but holds 32 "
                                         r"bytes\)"):
        mg.load(path)


def test_arrays_beyond_the_size_limit_are_refused(tmp_path):
    path = tmp_path / "big.npz"
    mg.save({"a": np.zeros(1000), "b": np.zeros(1000)}, path)
    assert set(mg.load(path, max_bytes=16008)) == {"a", "b"}    # with the 8-byte format tag
    with pytest.raises(ValueError, match=r"more than max_bytes=16007 bytes \(at entry 'b.npy'"):
        mg.load(path, max_bytes=16007)


@pytest.mark.parametrize("crash", [OSError("No space left on device"), KeyboardInterrupt()])
def test_a_crash_in_the_middle_of_a_write_keeps_the_old_file(tmp_path, monkeypatch, crash):
    """The write dies after half its bytes (a full disk, Ctrl-C): the old file stays whole
    and no temporary is left. Writing straight into ``path`` fails this test."""
    import io
    path = tmp_path / "model.npz"
    mg.save({"a": np.arange(1000.0)}, path)
    before = path.read_bytes()
    real_savez = np.savez

    def half_then_crash(file, **arrays):
        buffer = io.BytesIO()
        real_savez(buffer, **arrays)
        file.write(buffer.getvalue()[:len(buffer.getvalue()) // 2])
        file.flush()
        raise crash

    monkeypatch.setattr(np, "savez", half_then_crash)
    with pytest.raises(type(crash)):
        mg.save({"a": np.zeros(1000)}, path)
    assert path.read_bytes() == before
    np.testing.assert_array_equal(mg.load(path)["a"], np.arange(1000.0))
    assert os.listdir(tmp_path) == ["model.npz"]
