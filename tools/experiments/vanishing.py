"""(1) Vanilla-RNN gradients vanish geometrically when the spectral radius of W_hh is below 1.

Claim (000_*.txt, "Vanishing Gradients in RNN"): "Gradient vanishes otherwise", i.e.
||dL/dh_t|| ~ rho^(T-t) for rho < 1. Measured: the log10 slope per step of ||dL/dh_t||
next to log10(rho), near the zero state; and with inputs of std 1, where tanh' < 1 makes
the decay faster still (rho is then only a bound).
"""
from tools.gradflow import plot_gradient_flow

from .common import figure_path, predicted_curve, print_table
from .spectral import measure

NAME = "vanishing"
TITLE = "vanilla RNN: gradient vanishes for spectral radius < 1"


def run(output_dir, quick=False, seed=0, log=print):
    steps = 60 if quick else 100
    radii = (0.5, 0.8, 0.9, 0.95)
    runs = [measure(rho, steps, seed=seed) for rho in radii]
    runs += [measure(rho, steps, weights="orthogonal", seed=seed) for rho in radii[1:3]]
    saturated = measure(0.95, steps, input_std=1.0, zero_bias=False, seed=seed)
    log(f"{TITLE} (H=64, T={steps}, L = sum h_T)")
    rows = [(r["spectral_radius"], r["weights"], r["input_std"], r["predicted_slope"], r["measured_slope"],
             abs(r["measured_slope"] / r["predicted_slope"] - 1)) for r in runs + [saturated]]
    print_table(("rho", "W", "input std", "predicted log10/step", "measured log10/step",
                 "relative error"), rows, log)
    curves = {f"rho={r['spectral_radius']} ({r['weights']} W)": r["norms"] for r in runs}
    curves["rho=0.95, inputs std 1"] = saturated["norms"]
    references = {"rho^(T-t) (predicted)" if i == 0 else f"_rho{i}":
                  predicted_curve(r["norms"], r["spectral_radius"]) for i, r in enumerate(runs)}
    figure = plot_gradient_flow(curves, figure_path(output_dir, NAME), title=TITLE,
                                references=references)
    log(f"figure: {figure}")
    return {"runs": [{k: v for k, v in r.items() if k != "norms"} for r in runs],
            "saturated": {k: v for k, v in saturated.items() if k != "norms"},
            "figure": figure}
