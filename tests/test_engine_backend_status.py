"""When do the GPU tests skip? Only when CuPy is not installed: a CuPy that imports but
cannot run (no driver, no GPU, a broken install) fails them, naming the error."""
import sys
import types

import pytest
from test_engine_support import require_cupy

import minigrad as mg


@pytest.fixture
def fake_cupy(monkeypatch):
    """Install a stand-in ``cupy`` module; the test says how it breaks."""
    module = types.ModuleType("cupy")
    module.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace())
    monkeypatch.setitem(sys.modules, "cupy", module)
    monkeypatch.setattr(mg.backend, "_cupy", None)
    return module


def test_a_cupy_whose_driver_fails_is_broken_not_absent(fake_cupy):
    def no_driver():
        raise RuntimeError("cudaErrorInsufficientDriver: CUDA driver version is too old")

    fake_cupy.cuda.runtime.getDeviceCount = no_driver
    status = mg.backend.cupy_status()
    assert status.startswith("broken: RuntimeError: cudaErrorInsufficientDriver")
    assert not mg.backend.cupy_available()
    with pytest.raises(pytest.fail.Exception, match="CuPy is installed but does not work: "
                                                    "broken: RuntimeError"):
        require_cupy(status)


def test_a_cupy_that_sees_no_gpu_is_broken(fake_cupy):
    fake_cupy.cuda.runtime.getDeviceCount = lambda: 0
    assert mg.backend.cupy_status() == "broken: CuPy sees no GPU"


def test_a_cupy_missing_is_a_skip(monkeypatch):
    import importlib.util
    monkeypatch.delitem(sys.modules, "cupy", raising=False)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "cupy" else real_find_spec(name, *args))
    assert mg.backend.cupy_status() == "absent"
    with pytest.raises(pytest.skip.Exception, match="needs CuPy"):
        require_cupy("absent")
