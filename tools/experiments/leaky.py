"""(5) Leaky units: the larger the time constant tau, the slower the gradient decays.

Claim (002_*.txt, "Leaky units with self-connections"): with
h_t = (1 - 1/tau) h_{t-1} + (1/tau) tanh(W x_t + U h_{t-1}), "when tau > 1, this linear
recurrence allows gradients to propagate more easily". Near the zero state the step
Jacobian is J = (1 - 1/tau) I + U/tau, so the predicted log10 decay per step is
log10 rho(J); for U = rho Q (Q orthogonal) that is about log10(1 - (1 - rho)/tau).
"""
import numpy as np

import minigrad as mg
import models
from tools import gradflow

from .common import decay_slope, figure_path, gaussian_inputs, orthogonal, print_table

NAME = "leaky"
TITLE = "leaky units: larger tau, slower gradient decay"


def run(output_dir, quick=False, seed=0, log=print):
    steps, hidden, inputs, rho = (100 if quick else 200), 32, 4, 0.5
    xs = gaussian_inputs(steps, 2, inputs, 1e-6, seed)
    taus = (1, 2, 4, 8, 16)
    curves, rows, results = {}, [], {}
    for tau in taus:
        mg.manual_seed(seed)
        cell = gradflow.cast(models.LeakyRNNCell(inputs, hidden, tau=float(tau)))
        recurrent = orthogonal(hidden, seed) * rho
        cell.weight_hh.data = recurrent
        cell.bias_ih.data[:] = 0
        cell.bias_hh.data[:] = 0
        norms = gradflow.hidden_gradient_norms(cell, xs)
        step_jacobian = (1 - 1 / tau) * np.eye(hidden) + recurrent / tau
        predicted = float(np.log10(gradflow.spectral_radius(step_jacobian)))
        measured = decay_slope(norms, skip=steps // 4)
        curves[f"tau={tau}"] = norms
        results[f"tau={tau}"] = {"predicted_slope": predicted, "measured_slope": measured}
        rows.append((tau, predicted, float(np.log10(1 - (1 - rho) / tau)), measured))
    log(f"{TITLE} (H={hidden}, T={steps}, U = {rho} Q, near the zero state)")
    print_table(("tau", "predicted log10 rho(J)", "log10(1-(1-rho)/tau)",
                 "measured log10/step"), rows, log)
    slopes = [results[f"tau={tau}"]["measured_slope"] for tau in taus]
    results["monotone"] = bool(np.all(np.diff(slopes) > 0))
    log(f"decay slower for every larger tau: {results['monotone']}")
    figure = gradflow.plot_gradient_flow(curves, figure_path(output_dir, NAME), title=TITLE)
    log(f"figure: {figure}")
    results["figure"] = figure
    return results
