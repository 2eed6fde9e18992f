"""(2) Vanilla-RNN gradients explode geometrically when the spectral radius exceeds 1.

Claim (000_*.txt): "Gradient blows up if largest eigenvalue of W_h is larger than 1".
Measured near the zero state, where the claim is exact: the log10 growth per step of
||dL/dh_t|| going back from T, next to log10(rho). With inputs of std 1 the state
saturates (tanh' -> 0) and the growth stops: the claim is about the linear regime.
"""
from tools.gradflow import plot_gradient_flow

from .common import figure_path, predicted_curve, print_table
from .spectral import measure

NAME = "exploding"
TITLE = "vanilla RNN: gradient explodes for spectral radius > 1"


def run(output_dir, quick=False, seed=0, log=print):
    steps = 40 if quick else 50
    radii = (1.05, 1.1, 1.2)
    runs = [measure(rho, steps, input_std=1e-8, seed=seed) for rho in radii]
    runs += [measure(rho, steps, input_std=1e-8, weights="orthogonal", seed=seed)
             for rho in radii[:2]]
    saturated = measure(1.2, steps, input_std=1.0, zero_bias=False, seed=seed)
    log(f"{TITLE} (H=64, T={steps}, L = sum h_T)")
    rows = [(r["spectral_radius"], r["weights"], r["input_std"], r["predicted_slope"], r["measured_slope"],
             abs(r["measured_slope"] / r["predicted_slope"] - 1),
             float(r["norms"][0] / r["norms"][-1])) for r in runs + [saturated]]
    print_table(("rho", "W", "input std", "predicted log10/step", "measured log10/step",
                 "relative error", "||dL/dh_1|| / ||dL/dh_T||"), rows, log)
    curves = {f"rho={r['spectral_radius']} ({r['weights']} W)": r["norms"] for r in runs}
    curves["rho=1.2, inputs std 1 (saturated)"] = saturated["norms"]
    references = {"rho^(T-t) (predicted)" if i == 0 else f"_rho{i}":
                  predicted_curve(r["norms"], r["spectral_radius"]) for i, r in enumerate(runs)}
    figure = plot_gradient_flow(curves, figure_path(output_dir, NAME), title=TITLE,
                                references=references)
    log(f"figure: {figure}")
    return {"runs": [{k: v for k, v in r.items() if k != "norms"} for r in runs],
            "saturated": {k: v for k, v in saturated.items() if k != "norms"},
            "figure": figure}
