"""The engine's random numbers: one NumPy generator, seeded with :func:`manual_seed`."""
import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed):
    """Reseed the generator used for parameter initialisation and dropout."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def generator():
    return _generator
