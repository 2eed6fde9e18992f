"""The LSTM language-model training step: minigrad (eager, and compiled with
``mg.compile``) next to NumPy and PyTorch references.

Every system runs one training step (forward over T steps, cross-entropy at every step,
backward; float32) on the same parameters and data; the systems' runs are interleaved and
their medians compared (``ratio_to_*``: ratio of medians; ``paired_ratio_to_*``: median
of the ratios within each round, steadier when the machine's load drifts). Achieved
GFLOP/s counts only the matmul FLOPs of :func:`tools.bench.configs.step_matmul_flops`.
"""
import statistics

import numpy as np

from . import matmul, torch_lstm
from .configs import step_matmul_flops
from .numpy_lstm import NumpyLM
from .problem import CompiledMinigradLM, MinigradLM, make_problem
from .threads import blas_threads
from .timing import interleaved, summary

CEILING = "numpy-matmul-1024"  # timed in every round too: the peak under the same load
DEFAULT_REPEATS = {"tiny": 3, "small": 20, "medium": 7, "large": 5}


def systems(config, with_torch=True):
    """name -> model with ``step()`` and ``grads()``, for every available system, all on
    one problem."""
    params, xs, targets = make_problem(config)
    found = {"minigrad": MinigradLM(params, xs, targets),
             "minigrad-compiled": CompiledMinigradLM(params, xs, targets),
             "numpy-reference": NumpyLM(params, xs, targets)}
    if with_torch and torch_lstm.available():
        threads = blas_threads()
        found["torch.nn.LSTM"] = torch_lstm.TorchLM(params, xs, targets, threads)
        found["torch.nn.LSTMCell-loop"] = torch_lstm.TorchLM(params, xs, targets, threads,
                                                             loop=True)
    return found


def gradient_gap(model, reference):
    """Largest difference between two systems' gradients, relative to the largest entry of
    each reference gradient: a guard that the systems timed compute the same thing."""
    ours, theirs = model.grads(), reference.grads()
    return max(float(np.abs(ours[name] - theirs[name]).max() / np.abs(theirs[name]).max())
               for name in theirs)


def run(config, repeats=None, with_torch=True, peak=None):
    """One result per system: seconds per step (median), achieved GFLOP/s, ratios.

    The matmul peak is the larger of ``peak`` (measured before) and the fastest (1024,
    1024) product timed within the rounds, so that a load that comes and goes during the
    run cannot put a system above 100% of a peak measured while the machine was busy."""
    repeats = repeats or DEFAULT_REPEATS.get(config.name, 5)
    models = systems(config, with_torch)
    square, square_flops = matmul.square_product()
    times = interleaved({**{name: model.step for name, model in models.items()},
                         CEILING: square}, repeats, warmup=1)
    peak_in_rounds = square_flops / min(times.pop(CEILING)) / 1e9
    flops = step_matmul_flops(config)
    shapes = matmul.matmul_shapes(config)
    shape_gflops = {name: matmul.gflops(*shape) for name, shape in shapes.items()}
    peak = max(peak if peak is not None else matmul.peak_gflops(), peak_in_rounds)
    medians = {name: summary(t)["median_s"] for name, t in times.items()}

    def paired(name, reference):
        """Median over rounds of the ratio of two systems timed side by side in a round."""
        return statistics.median(a / b for a, b in zip(times[name], times[reference]))

    results = []
    for name, seconds in times.items():
        stats = summary(seconds)
        achieved = flops / stats["median_s"] / 1e9
        row = {"suite": "lstm", "config": config.name, "system": name, **config.as_dict(),
               "dtype": "float32", "threads": blas_threads(), **stats,
               "matmul_gflop_per_step": flops / 1e9, "achieved_gflops": achieved,
               "peak_gflops": peak, "peak_gflops_in_rounds": peak_in_rounds,
               "percent_of_peak": 100 * achieved / peak,
               "matmul_gflops_at_shapes": shape_gflops,
               "ratio_to_numpy_reference": stats["median_s"] / medians["numpy-reference"],
               "paired_ratio_to_numpy_reference": paired(name, "numpy-reference")}
        if "torch.nn.LSTM" in medians:
            row["ratio_to_torch_lstm"] = stats["median_s"] / medians["torch.nn.LSTM"]
            row["paired_ratio_to_torch_lstm"] = paired(name, "torch.nn.LSTM")
        row["grad_rel_diff_vs_numpy"] = gradient_gap(models[name], models["numpy-reference"])
        results.append(row)
    return results
