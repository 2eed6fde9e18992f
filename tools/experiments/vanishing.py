"""(1) Vanilla-RNN gradients vanish geometrically when the spectral radius of W_hh is below 1.

Claim (000_*.txt, "Vanishing Gradients in RNN"): "Gradient vanishes otherwise", i.e.
||dL/dh_t|| ~ rho^(T-t) for rho < 1. Measured: the log10 slope per step of ||dL/dh_t||
next to log10(rho), near the zero state; and with inputs of std 1, where tanh' < 1 makes
the decay faster still (rho is then only a bound).
"""
from .spectral import measure, report

NAME = "vanishing"
TITLE = "vanilla RNN: gradient vanishes for spectral radius < 1"


def run(output_dir, quick=False, seed=0, log=print):
    steps = 60 if quick else 100
    radii = (0.5, 0.8, 0.9, 0.95)
    runs = [measure(rho, steps, seed=seed) for rho in radii]
    runs += [measure(rho, steps, weights="orthogonal", seed=seed) for rho in radii[1:3]]
    saturated = measure(0.95, steps, input_std=1.0, zero_bias=False, seed=seed)
    log(f"{TITLE} (H=64, T={steps}, L = sum h_T)")
    return report(NAME, TITLE, runs, saturated, "rho=0.95, inputs std 1", output_dir, log,
                  ratio_column=False)
