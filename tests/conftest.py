import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import minigrad as mg

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _fresh_engine_state():
    """Every test starts on NumPy with a seeded generator and leaves no mode behind."""
    mg.set_backend("numpy")
    mg.manual_seed(0)
    yield
    mg.set_backend("numpy")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
