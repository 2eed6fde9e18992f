"""``mg.save`` / ``mg.load``: ``.npz`` round trips written atomically, and a clear error
naming the file for a missing, truncated or foreign one."""
import os

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
    target = mg.nn.Linear(3, 2).load_state_dict(loaded)
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
