"""NumPy's float32 matrix product speed on this machine: the ceiling for any system here."""
import numpy as np

from .timing import interleaved, summary


def matmul_shapes(config):
    """(m, k, n) of the products in one LSTM step: the recurrence, the input projection
    and the head (forward shapes; the backward products have the same sizes)."""
    n = config.steps * config.batch
    h = config.hidden_size
    return {"recurrence": (config.batch, h, 4 * h),
            "input_projection": (n, config.input_size, 4 * h),
            "head": (n, h, config.vocab)}


def gflops(m, k, n, repeats=5, seed=0):
    """GFLOP/s of a float32 (m, k) @ (k, n) product (2mkn FLOPs), from the fastest of
    ``repeats`` samples: a ceiling, which other processes can only lower."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    out = np.empty((m, n), np.float32)
    seconds = interleaved({"matmul": lambda: np.matmul(a, b, out=out)}, repeats)["matmul"]
    return 2 * m * k * n / summary(seconds)["min_s"] / 1e9


def peak_gflops(size=2048, repeats=5):
    """GFLOP/s of a big square product: what the BLAS reaches when shapes are kind."""
    return gflops(size, size, size, repeats)


def square_product(size=1024, seed=0):
    """(callable, FLOPs) of one float32 (size, size) product, to time next to other work."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((size, size)).astype(np.float32)
    b = rng.standard_normal((size, size)).astype(np.float32)
    out = np.empty((size, size), np.float32)
    return (lambda: np.matmul(a, b, out=out)), 2 * size ** 3
