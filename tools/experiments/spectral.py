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

from .common import decay_slope, elman_cell, gaussian_inputs


def measure(spectral_radius, steps, hidden_size=64, input_size=4, batch=4, input_std=1e-6,
            zero_bias=True, weights="uniform", seed=0):
    """Norms ||dL/dh_t|| (L = sum h_T), the fitted slope and log10(rho)."""
    cell = elman_cell(hidden_size, input_size, spectral_radius, seed, zero_bias, weights)
    xs = gaussian_inputs(steps, batch, input_size, input_std, seed + 1)
    norms = gradflow.hidden_gradient_norms(cell, xs, loss="last")
    return {"spectral_radius": spectral_radius, "input_std": input_std, "weights": weights,
            "norms": norms, "measured_slope": decay_slope(norms),
            "predicted_slope": float(np.log10(spectral_radius))}
