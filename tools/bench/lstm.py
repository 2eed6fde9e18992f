"""The LSTM language-model training step: minigrad next to NumPy and PyTorch references.

Every system runs one training step (forward over T steps, cross-entropy at every step,
backward; float32) on the same parameters and data; the systems' runs are interleaved and
their medians compared (``ratio_to_*``: ratio of medians; ``paired_ratio_to_*``: median
of the ratios within each round, steadier when the machine's load drifts). Achieved GFLOP/s counts only the matmul FLOPs of
:func:`tools.bench.configs.step_matmul_flops`.
"""
import statistics

from . import matmul, torch_lstm
from .configs import step_matmul_flops
from .numpy_lstm import loss_and_grads
from .problem import MinigradLM, make_problem
from .threads import blas_threads
from .timing import interleaved, summary

DEFAULT_REPEATS = {"tiny": 3, "small": 20, "medium": 7, "large": 5}


def systems(config, with_torch=True):
    """name -> step callable for every available system, all on one problem."""
    params, xs, targets = make_problem(config)
    model = MinigradLM(params, xs, targets)
    found = {"minigrad": model.step,
             "numpy-reference": lambda: loss_and_grads(params, xs, targets)}
    if with_torch and torch_lstm.available():
        threads = blas_threads()
        fused = torch_lstm.TorchLM(params, xs, targets, threads)
        loop = torch_lstm.TorchLM(params, xs, targets, threads, loop=True)
        found["torch.nn.LSTM"] = fused.step
        found["torch.nn.LSTMCell-loop"] = loop.step
    return found


def agreement(config):
    """Largest relative difference between minigrad's float32 losses and the NumPy
    reference's: a guard that the systems being timed compute the same thing."""
    params, xs, targets = make_problem(config)
    reference, _ = loss_and_grads(params, xs, targets)
    return abs(MinigradLM(params, xs, targets).step() - reference) / abs(reference)


def run(config, repeats=None, with_torch=True, peak=None):
    """One result per system: seconds per step (median), achieved GFLOP/s, ratios."""
    repeats = repeats or DEFAULT_REPEATS.get(config.name, 5)
    found = systems(config, with_torch)
    times = interleaved(found, repeats, warmup=1)
    flops = step_matmul_flops(config)
    shapes = matmul.matmul_shapes(config)
    shape_gflops = {name: matmul.gflops(*shape) for name, shape in shapes.items()}
    peak = peak if peak is not None else matmul.peak_gflops()
    medians = {name: summary(t)["median_s"] for name, t in times.items()}

    def paired(name, reference):
        """Median over rounds of the ratio of two systems timed side by side in a round."""
        return statistics.median(a / b for a, b in zip(times[name], times[reference]))

    loss_gap = agreement(config)
    results = []
    for name, seconds in times.items():
        stats = summary(seconds)
        achieved = flops / stats["median_s"] / 1e9
        row = {"suite": "lstm", "config": config.name, "system": name, **config.as_dict(),
               "dtype": "float32", "threads": blas_threads(), **stats,
               "matmul_gflop_per_step": flops / 1e9, "achieved_gflops": achieved,
               "peak_gflops": peak, "percent_of_peak": 100 * achieved / peak,
               "matmul_gflops_at_shapes": shape_gflops,
               "ratio_to_numpy_reference": stats["median_s"] / medians["numpy-reference"],
               "paired_ratio_to_numpy_reference": paired(name, "numpy-reference")}
        if "torch.nn.LSTM" in medians:
            row["ratio_to_torch_lstm"] = stats["median_s"] / medians["torch.nn.LSTM"]
            row["paired_ratio_to_torch_lstm"] = paired(name, "torch.nn.LSTM")
        if name == "minigrad":
            row["loss_rel_diff_vs_numpy"] = loss_gap
        results.append(row)
    return results
