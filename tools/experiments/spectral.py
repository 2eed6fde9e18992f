"""Vanilla-RNN gradients against the spectral radius of W_hh: the measurement behind the
vanishing and exploding experiments.

Near the zero state (zero biases, tiny inputs) dh_t/dh_{t-1} = diag(tanh'(.)) W_hh ~ W_hh,
so ||dL/dh_t|| ~ rho^(T-t) and the log10 slope per step is log10(rho) (000_*.txt,
"Vanishing Gradients in RNN"). With W = rho Q (Q orthogonal) that holds at every distance;
with a random W it is the asymptote: the other eigenvalues, smaller in modulus, still
contribute at short distances, so the fitted slope sits a little below log10(rho). With
inputs of order one, tanh' < 1 shrinks every factor.

Eigenvalue or singular value? 000_*.txt states the condition with the largest eigenvalue
(rho), 003_*.txt with the largest singular value (sigma_max). Pascanu, Mikolov & Bengio
(2013, section 3.1) prove it with sigma_max: if |tanh'| <= gamma (gamma = 1 for tanh), then
||dh_T/dh_t|| <= (gamma sigma_max)^(T-t), so

    sigma_max(W) < 1/gamma  is SUFFICIENT for vanishing,
    sigma_max(W) > 1/gamma  is NECESSARY for exploding (the same bound read backwards).

Neither is the other way round: a W with sigma_max > 1 can still vanish. rho sets the
rate in the linear regime, where every factor is W: ||W^k||^(1/k) -> rho (Gelfand's
formula), so the gradient decays like rho^k once k is large, whatever sigma_max is; a
non-normal W (sigma_max > rho, as for a random W) can only make it grow for a few steps
first. So rho > 1 is necessary and sufficient for exploding in the linear regime (000's
statement) and rho < 1 for vanishing there. Away from it the factors are diag(tanh') W and
rho(W) decides nothing: W = [[1.5, 1], [-1.5, -0.5]] has rho = 0.87, yet with the second
unit saturated (tanh' ~ 0) each factor is diag(1, 0) W, whose spectral radius is 1.5.
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
    return {"spectral_radius": spectral_radius,
            "largest_singular_value": gradflow.largest_singular_value(cell),
            "input_std": input_std, "weights": weights,
            "norms": norms, "measured_slope": decay_slope(norms),
            "predicted_slope": float(np.log10(spectral_radius))}


def reading(run):
    """Which condition explains a run: the sufficient one for vanishing (sigma_max < 1),
    rho in the linear regime, or saturation (a decay over 1.5 times log10 rho per step, or
    a decay despite rho > 1: tanh' < 1 multiplies every step's Jacobian)."""
    sigma, rho = run["largest_singular_value"], run["spectral_radius"]
    vanished = run["measured_slope"] < 0
    if sigma < 1:
        return "sigma_max < 1: must vanish (sufficient)" + ("" if vanished else " -- VIOLATED")
    if vanished and rho < 1 and run["measured_slope"] < 1.5 * run["predicted_slope"]:
        return "sigma_max > 1, vanishes faster than rho: saturated, tanh' < 1"
    if vanished and rho < 1:
        return "sigma_max > 1 yet vanishes: rho < 1 decides"
    if vanished:
        return "rho > 1 yet vanishes: saturated, tanh' < 1"
    return "explodes; sigma_max > 1 as necessary" + ("" if rho > 1 else ", rho < 1 (!)")


def explain_conditions(log=print):
    log("conditions (gamma = max tanh' = 1; Pascanu et al. 2013, section 3.1): sigma_max(W) < 1"
        " is SUFFICIENT for vanishing,")
    log("  sigma_max(W) > 1 is NECESSARY for exploding; rho(W) sets the rate in the linear "
        "regime (||W^k||^(1/k) -> rho),")
    log("  so there rho < 1 vanishes and rho > 1 explodes, whatever sigma_max (a non-normal W "
        "has sigma_max > rho).")


def report(name, title, runs, saturated, saturated_label, output_dir, log, ratio_column=False):
    """Print measured slopes next to log10(rho) for ``runs`` and the ``saturated`` run, plot
    the norms with the predicted rho^(T-t) lines, and return the numbers and the figure."""
    header = ["rho(W)", "sigma_max(W)", "W", "input std", "predicted log10/step = log10 rho",
              "measured log10/step", "relative error"] + (
        ["||dL/dh_1|| / ||dL/dh_T||"] if ratio_column else []) + ["reading"]
    rows = []
    for r in runs + [saturated]:
        row = [r["spectral_radius"], r["largest_singular_value"], r["weights"], r["input_std"],
               r["predicted_slope"], r["measured_slope"],
               abs(r["measured_slope"] / r["predicted_slope"] - 1)]
        rows.append(row + ([float(r["norms"][0] / r["norms"][-1])] if ratio_column else [])
                    + [reading(r)])
    print_table(header, rows, log)
    explain_conditions(log)
    curves = {f"rho={r['spectral_radius']}, sigma_max={r['largest_singular_value']:.2f} "
              f"({r['weights']} W)": r["norms"] for r in runs}
    curves[saturated_label] = saturated["norms"]
    references = {"rho^(T-t) (predicted)" if i == 0 else f"_rho{i}":
                  predicted_curve(r["norms"], r["spectral_radius"]) for i, r in enumerate(runs)}
    figure = gradflow.plot_gradient_flow(curves, figure_path(output_dir, name), title=title,
                                         references=references)
    log(f"figure: {figure}")
    return {"runs": [{**{k: v for k, v in r.items() if k != "norms"}, "reading": reading(r)}
                     for r in runs],
            "saturated": {**{k: v for k, v in saturated.items() if k != "norms"},
                          "reading": reading(saturated)},
            "figure": figure}
