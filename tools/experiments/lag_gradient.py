"""(9) Which time lags the gradient of W_hh comes from: tanh RNN vs LSTM vs GRU.

Claim (001_*.txt, "Exploding/Vanishing gradients"): BPTT's gradient is a sum over time,

    dL_T/dW = sum_{k=1..T} (dL_T/dh_k) d+h_k/dW,   dL_T/dh_k = dL_T/dh_T  prod dh_j/dh_{j-1},

and the term of lag T - k carries a product of T - k step Jacobians: for a vanilla RNN
"longer-term dependencies [are] negligible" and "learning focuses on the short-term only".
The LSTM's cell state adds diag(f_t) to each factor (000_*.txt), so with an open forget gate
the distant terms survive. Measured with :func:`tools.gradflow.lag_gradients` (exact, one
copy of W_hh per step) for L = sum h_T on random inputs of std 1, at PyTorch's default init
and with the gate that keeps the state opened (b = 1, Jozefowicz et al. 2015; b = 3): the
norm of each term, the share of the terms' total norm from lags >= 10 and >= 50, and the
longest lag whose term is at least 1e-3 of the largest.
"""
import numpy as np

import minigrad as mg
import models
from tools import gradflow

from .common import gaussian_inputs, print_table, save_figure

NAME = "lag_gradient"
TITLE = "dL/dW_hh by time lag: where the gradient of W_hh comes from"

CELLS = {
    "tanh RNN": lambda d, h: models.RNNCell(d, h),
    "LSTM, b_f=0 (default)": lambda d, h: models.LSTMCell(d, h),
    "LSTM, b_f=1": lambda d, h: models.LSTMCell(d, h, forget_bias=1.0),
    "LSTM, b_f=3": lambda d, h: models.LSTMCell(d, h, forget_bias=3.0),
    "GRU, b_z=0 (default)": lambda d, h: models.GRUCell(d, h),
    "GRU, b_z=1": lambda d, h: gradflow.set_keeping_gate_bias(models.GRUCell(d, h), 1.0),
}


def run(output_dir, quick=False, seed=0, log=print):
    steps, hidden, inputs = (60 if quick else 100), 32, 4
    xs = gaussian_inputs(steps, 4, inputs, 1.0, seed)
    curves, rows, results = {}, [], {}
    for label, make in CELLS.items():
        mg.manual_seed(seed)
        norms = gradflow.lag_gradient_norms(gradflow.cast(make(inputs, hidden)), xs)
        total = norms.sum()
        reach = int(np.nonzero(norms >= 1e-3 * norms.max())[0].max())
        results[label] = {"share_lag_10_plus": float(norms[10:].sum() / total),
                          "share_lag_50_plus": float(norms[50:].sum() / total),
                          "longest_lag_above_1e-3": reach, "norms_by_lag": norms}
        rows.append((label, float(norms[10:].sum() / total), float(norms[50:].sum() / total),
                     reach))
        curves[label] = norms[:-1]   # lag T-1 multiplies h_0 = 0
    log(f"{TITLE} (H={hidden}, T={steps}, L = sum h_T, inputs std 1)")
    log("prediction (001): the term of lag tau carries tau step Jacobians; for a tanh RNN the "
        "far terms are negligible, an open forget gate keeps them")
    print_table(("cell", "share of sum_k ||term_k|| from lags >= 10", "... from lags >= 50",
                 "longest lag with ||term|| >= 1e-3 max"), rows, log)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.2))
    for label, values in curves.items():
        lags = np.arange(len(values))
        shown = values > 0
        axes.plot(lags[shown], values[shown], label=label, linewidth=1.6)
    axes.set_yscale("log")
    axes.set_xlabel("lag T - k (steps between W_hh's use and the loss)")
    axes.set_ylabel(r"$\|(\partial L/\partial h_k)\, \partial^+ h_k/\partial W_{hh}\|$")
    axes.set_title(f"term k of dL/dW_hh by lag (T={steps}, exact per-step terms)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    save_figure(figure, output_dir, NAME, results, log)
    for entry in results.values():
        if isinstance(entry, dict):
            entry.pop("norms_by_lag")
    return results
