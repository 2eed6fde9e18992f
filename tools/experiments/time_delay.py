"""(6) Time delays: with recurrent connections of delay D the gradient decays like
lambda^(T/D) instead of lambda^T.

Claim (002_*.txt, "Combine short and long paths"): "instead of the vanishing or explosion
going as O(lambda^T) over T steps, the unfolded recurrent network now has paths through
which gradients grow as O(lambda^(T/D))". Measured with :class:`models.TimeDelayCell`
around an Elman cell, near the zero state, with the delayed weight W_D = lambda Q (Q
orthogonal) and W_hh = 0 (only delayed paths): the log10 slope per step next to
log10(lambda)/D. Then with both connections (W_hh = W_D scaled to lambda), where the short
path still exists and the long one sets a floor on the decay.
"""
import numpy as np

import minigrad as mg
import models
from tools import gradflow

from .common import decay_slope, figure_path, gaussian_inputs, orthogonal, print_table

NAME = "time_delay"
TITLE = "time-delay connections: decay ~ lambda^(T/D)"


def delayed_cell(inputs, hidden, delay, lam, seed, with_short_path=False):
    mg.manual_seed(seed)
    inner = models.RNNCell(inputs + hidden, hidden)
    cell = gradflow.cast(models.TimeDelayCell(inner, delay))
    inner.bias_ih.data[:] = 0
    inner.bias_hh.data[:] = 0
    inner.weight_ih.data[:, inputs:] = orthogonal(hidden, seed) * lam
    inner.weight_hh.data = (orthogonal(hidden, seed + 1) * lam if with_short_path
                            else np.zeros((hidden, hidden)))
    return cell


def run(output_dir, quick=False, seed=0, log=print):
    steps, hidden, inputs, lam = 97, 32, 4, 0.5
    xs = gaussian_inputs(steps, 2, inputs, 1e-6, seed)
    curves, rows, results = {}, [], {}
    for delay in (1, 2, 4, 8):
        norms = gradflow.hidden_gradient_norms(delayed_cell(inputs, hidden, delay, lam, seed),
                                               xs)
        predicted = float(np.log10(lam) / delay)
        measured = decay_slope(norms, skip=delay)
        curves[f"D={delay} (delayed path only)"] = norms
        results[f"D={delay}"] = {"predicted_slope": predicted, "measured_slope": measured}
        rows.append((f"D={delay}, W_hh=0", predicted, measured))
    both = gradflow.hidden_gradient_norms(
        delayed_cell(inputs, hidden, 4, lam, seed, with_short_path=True), xs)
    results["D=4 with W_hh"] = {"measured_slope": decay_slope(both)}
    rows.append(("D=4, W_hh = 0.5 Q'", "n/a (both paths add)",
                 results["D=4 with W_hh"]["measured_slope"]))
    curves["D=4 with the short path too"] = both
    log(f"{TITLE} (H={hidden}, T={steps}, lambda={lam}, near the zero state)")
    print_table(("connections", "predicted log10/step = log10(lambda)/D",
                 "measured log10/step"), rows, log)
    figure = gradflow.plot_gradient_flow(curves, figure_path(output_dir, NAME), title=TITLE,
                                         marker=".")
    log(f"figure: {figure}")
    results["figure"] = figure
    return results
