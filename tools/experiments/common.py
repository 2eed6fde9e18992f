"""What the experiments share: building a cell in a known regime, fitting decay rates,
printing a table."""
import os

import numpy as np

import minigrad as mg
import models
from minigrad import functional as F
from tools import gradflow


def orthogonal(size, seed):
    """A random orthogonal matrix (QR of a Gaussian one, signs fixed)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((size, size)))
    return q * np.sign(np.diag(r))


def elman_cell(hidden_size, input_size, spectral_radius, seed, zero_bias=True,
               weights="uniform"):
    """A float64 tanh Elman RNN whose W_hh has the given spectral radius: its default
    U(-k, k) init rescaled (``weights="uniform"``), or rho Q with Q orthogonal
    (``"orthogonal"``: every eigenvalue has modulus rho). Biases are zeroed by default, so
    the zero state is a fixed point where tanh' = 1."""
    mg.manual_seed(seed)
    cell = gradflow.cast(models.RNNCell(input_size, hidden_size))
    if weights == "orthogonal":
        cell.weight_hh.data = orthogonal(hidden_size, seed) * spectral_radius
    elif weights == "uniform":
        gradflow.scale_spectral_radius(cell, spectral_radius)
    else:
        raise ValueError(f"elman_cell: weights must be 'uniform' or 'orthogonal', got {weights!r}")
    if zero_bias:
        cell.bias_ih.data[:] = 0
        cell.bias_hh.data[:] = 0
    return cell


def gaussian_inputs(steps, batch, input_size, std, seed):
    return np.random.default_rng(seed).standard_normal((steps, batch, input_size)) * std


def task_gradient_norms(model, inputs, targets):
    """||dL/dh_t|| for t = 1..T, L = the MSE of a :class:`SequenceRegressor` ``model`` on
    (inputs, targets), in the model's dtype."""
    def loss(hidden):
        prediction = model.head(hidden[-1])
        return F.mse_loss(prediction, np.asarray(targets, dtype=prediction.dtype))
    return gradflow.hidden_gradient_norms(model.cell, inputs, loss=loss)


def decay_slope(norms, skip=10):
    """d log10 ||dL/dh_t|| / d (T - t): least-squares slope over distances >= ``skip``
    from the loss (negative: vanishing, positive: exploding). Zero norms are left out."""
    norms = np.asarray(norms, dtype=np.float64)
    distance = np.arange(len(norms))[::-1]
    keep = (distance >= skip) & (norms > 0)
    if keep.sum() < 2:
        raise ValueError(f"decay_slope: fewer than two nonzero norms at distance >= {skip}")
    slope, _ = np.polyfit(distance[keep], np.log10(norms[keep]), 1)
    return float(slope)


def predicted_curve(norms, factor):
    """factor^(T - t), scaled to meet the measured curve at t = T."""
    norms = np.asarray(norms, dtype=np.float64)
    distance = np.arange(len(norms))[::-1]
    return norms[-1] * factor ** distance.astype(np.float64)


def print_table(header, rows, log=print):
    widths = [max(len(str(h)), *(len(_cell(r[i])) for r in rows)) for i, h in enumerate(header)]
    log("  ".join(str(h).ljust(w) for h, w in zip(header, widths)))
    log("  ".join("-" * w for w in widths))
    for row in rows:
        log("  ".join(_cell(v).ljust(w) for v, w in zip(row, widths)))


def _cell(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def figure_path(output_dir, name, suffix="png"):
    os.makedirs(output_dir, exist_ok=True)
    return os.path.join(output_dir, f"{name}.{suffix}")


def save_figure(figure, output_dir, name, results, log=print):
    """Write ``figure`` as ``output_dir/name.png``, close it, log and record its path."""
    import matplotlib.pyplot as plt

    from tools.gradflow import write_figure
    try:
        path = write_figure(figure, figure_path(output_dir, name))
    finally:
        plt.close(figure)
    log(f"figure: {path}")
    results["figure"] = path
    return results
