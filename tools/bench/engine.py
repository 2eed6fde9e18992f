"""Engine overhead: what recording and walking the graph costs per op, beyond NumPy.

Each case runs a chain of ``length`` ops forward, then backward, once with minigrad and
once as the bare NumPy calls that the same forward and backward need (the forward op, the
products of its VJPs and the accumulation of a shared operand's gradient). The difference,
divided by ``length``, is the engine's overhead per op, forward+backward.
"""
import numpy as np

import minigrad as mg

from .timing import interleaved, summary


def _mul_chain(length):
    """z_{k+1} = z_k * y on one-element arrays, then z.sum()."""
    x = mg.Tensor(np.ones(1, np.float32), requires_grad=True)
    y = mg.Tensor(np.full(1, 1.0001, np.float32), requires_grad=True)

    def engine():
        x.grad = y.grad = None
        z = x
        for _ in range(length):
            z = z * y
        z.sum().backward()
        return x.grad.numpy(), y.grad.numpy()

    a, b = x.data, y.data

    def bare():
        zs = [a]
        for _ in range(length):
            zs.append(zs[-1] * b)
        g = np.ones_like(zs[-1].sum())  # seed of z.sum()
        g = np.broadcast_to(g, zs[-1].shape)
        grad_b = np.zeros_like(b)
        for z in reversed(zs[:-1]):
            grad_b += g * z
            g = g * b
        return g, grad_b

    return engine, bare


def _matmul_chain(length, rows=8, size=64):
    """z_{k+1} = z_k @ W with W (size, size) shared, z_0 (rows, size), then z.sum()."""
    rng = np.random.default_rng(0)
    w_data = (rng.standard_normal((size, size)) / np.sqrt(size)).astype(np.float32)
    x = mg.Tensor(rng.standard_normal((rows, size)).astype(np.float32), requires_grad=True)
    w = mg.Tensor(w_data, requires_grad=True)

    def engine():
        x.grad = w.grad = None
        z = x
        for _ in range(length):
            z = z @ w
        z.sum().backward()
        return x.grad.numpy(), w.grad.numpy()

    a = x.data

    def bare():
        zs = [a]
        for _ in range(length):
            zs.append(zs[-1] @ w_data)
        g = np.broadcast_to(np.ones_like(zs[-1].sum()), zs[-1].shape)
        grad_w = np.zeros_like(w_data)
        for z in reversed(zs[:-1]):
            grad_w += z.T @ g
            g = g @ w_data.T
        return g, grad_w

    return engine, bare


CASES = {
    "mul_1elem": (_mul_chain, "x*y, 1-element float32"),
    "matmul_8x64x64": (_matmul_chain, "(8,64) @ (64,64) float32"),
}


def run(repeats=7, length=100):
    """One result per case: microseconds per op for the engine and for bare NumPy."""
    results = []
    for name, (build, description) in CASES.items():
        engine, bare = build(length)
        times = interleaved({"minigrad": engine, "numpy": bare}, repeats, warmup=2)
        engine_us = summary(times["minigrad"])["median_s"] / length * 1e6
        numpy_us = summary(times["numpy"])["median_s"] / length * 1e6
        results.append({
            "suite": "engine", "case": name, "description": description,
            "chain_length": length, "repeats": repeats,
            "minigrad_us_per_op": engine_us, "numpy_us_per_op": numpy_us,
            "overhead_us_per_op": engine_us - numpy_us,
            "ratio": engine_us / numpy_us,
            "minigrad_iqr_rel": summary(times["minigrad"])["iqr_rel"],
        })
    single = _single_op(repeats)
    results.append(single)
    return results


def _mul_sum():
    """(x*y).sum() on one-element arrays, with minigrad and with NumPy."""
    x = mg.Tensor(np.ones(1, np.float32), requires_grad=True)
    y = mg.Tensor(np.full(1, 2.0, np.float32), requires_grad=True)
    a, b = x.data, y.data

    def engine():
        x.grad = y.grad = None
        (x * y).sum().backward()
        return x.grad.numpy(), y.grad.numpy()

    def bare():
        z = a * b
        z.sum()
        g = np.ones_like(z)
        return g * b, g * a

    return engine, bare


def _single_op(repeats):
    """(x*y).sum() forward and backward on one-element arrays: one op plus a reduction,
    with everything a call to backward() costs, next to NumPy's 1 + 1 + 2 calls."""
    engine, bare = _mul_sum()
    times = interleaved({"minigrad": engine, "numpy": bare}, repeats, warmup=2)
    engine_us = summary(times["minigrad"])["median_s"] * 1e6
    numpy_us = summary(times["numpy"])["median_s"] * 1e6
    return {"suite": "engine", "case": "mul_sum_backward", "description":
            "(x*y).sum().backward(), 1-element float32, whole call", "chain_length": 1,
            "repeats": repeats, "minigrad_us_per_op": engine_us, "numpy_us_per_op": numpy_us,
            "overhead_us_per_op": engine_us - numpy_us, "ratio": engine_us / numpy_us,
            "minigrad_iqr_rel": summary(times["minigrad"])["iqr_rel"]}
