"""(2) Vanilla-RNN gradients explode geometrically when the spectral radius exceeds 1.

Claim (000_*.txt): "Gradient blows up if largest eigenvalue of W_h is larger than 1".
Measured near the zero state, where the claim is exact: the log10 growth per step of
||dL/dh_t|| going back from T, next to log10(rho). With inputs of std 1 the state
saturates (tanh' -> 0) and the growth stops: the claim is about the linear regime.
"""
from .spectral import measure, report

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
    return report(NAME, TITLE, runs, saturated, "rho=1.2, inputs std 1 (saturated)",
                  output_dir, log, ratio_column=True)
