"""Vanilla-RNN gradients against the spectral radius of W_hh: the measurement behind the
vanishing and exploding experiments.

Near the zero state (zero biases, tiny inputs) dh_t/dh_{t-1} = diag(tanh'(.)) W_hh ~ W_hh,
so ||dL/dh_t|| ~ rho^(T-t) and the log10 slope per step is log10(rho) (000_*.txt,
"Vanishing Gradients in RNN"). With W = rho Q (Q orthogonal) that holds at every distance;
with a random W it is the asymptote: the other eigenvalues, smaller in modulus, still
contribute at short distances, so the fitted slope sits a little below log10(rho). With
inputs of order one, tanh' < 1 shrinks every factor.
"""
import numpy as np

from tools import gradflow

from .common import (
    decay_slope,
    elman_cell,
    figure_path,
    gaussian_inputs,
    predicted_curve,
    print_table,
)


def measure(spectral_radius, steps, hidden_size=64, input_size=4, batch=4, input_std=1e-6,
            zero_bias=True, weights="uniform", seed=0):
    """Norms ||dL/dh_t|| (L = sum h_T), the fitted slope and log10(rho)."""
    cell = elman_cell(hidden_size, input_size, spectral_radius, seed, zero_bias, weights)
    xs = gaussian_inputs(steps, batch, input_size, input_std, seed + 1)
    norms = gradflow.hidden_gradient_norms(cell, xs, loss="last")
    return {"spectral_radius": spectral_radius, "input_std": input_std, "weights": weights,
            "norms": norms, "measured_slope": decay_slope(norms),
            "predicted_slope": float(np.log10(spectral_radius))}


def report(name, title, runs, saturated, saturated_label, output_dir, log, ratio_column=False):
    """Print measured slopes next to log10(rho) for ``runs`` and the ``saturated`` run, plot
    the norms with the predicted rho^(T-t) lines, and return the numbers and the figure."""
    header = ["rho", "W", "input std", "predicted log10/step", "measured log10/step",
              "relative error"] + (["||dL/dh_1|| / ||dL/dh_T||"] if ratio_column else [])
    rows = []
    for r in runs + [saturated]:
        row = [r["spectral_radius"], r["weights"], r["input_std"], r["predicted_slope"],
               r["measured_slope"], abs(r["measured_slope"] / r["predicted_slope"] - 1)]
        rows.append(row + ([float(r["norms"][0] / r["norms"][-1])] if ratio_column else []))
    print_table(header, rows, log)
    curves = {f"rho={r['spectral_radius']} ({r['weights']} W)": r["norms"] for r in runs}
    curves[saturated_label] = saturated["norms"]
    references = {"rho^(T-t) (predicted)" if i == 0 else f"_rho{i}":
                  predicted_curve(r["norms"], r["spectral_radius"]) for i, r in enumerate(runs)}
    figure = gradflow.plot_gradient_flow(curves, figure_path(output_dir, name), title=title,
                                         references=references)
    log(f"figure: {figure}")
    return {"runs": [{k: v for k, v in r.items() if k != "norms"} for r in runs],
            "saturated": {k: v for k, v in saturated.items() if k != "norms"},
            "figure": figure}
