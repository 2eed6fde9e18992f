"""(10) Deep transitions and skip connections (002_*.txt (b), (c), (d)).

Claims: (b) "add a deep hidden-to-hidden transformation"; (c) "skip connections ... allow
gradients to flow more easily backwards in spite of the extra non-linearity due to the
intermediate hidden layer" (Pascanu, Gulcehre, Cho & Bengio 2014, DT(S)-RNN).

Deep transition (:class:`models.DeepTransitionRNNCell`, depth L): near the zero state
(zero biases, tiny inputs, tanh' = 1) one step's Jacobian is

    without shortcut:  J = W_L ... W_2 W_hh          (a product: rho shrinks with L)
    with shortcut:     J = W_L ... W_2 W_hh + W_s     (the one-layer path h_{t-1} -> h_t)

so ||dL/dh_t|| decays like rho(J)^(T-t): predicted log10 rho(J) per step, next to a tanh RNN
with the same W_hh. Measured with the same weights with and without the shortcut, near
the zero state and with inputs of std 1.

Stacked (:class:`models.Stacked`, 002 (d)) with and without skip connections (Graves 2013:
the input reaches every layer, every layer the output): the same weights, L = sum of the
top layer's h_T in both, ||dL/dx_t||. A skip connection shortens the path through depth
(lag 0), not through time: the decay per step is each layer's own recurrence.
"""
import numpy as np

import minigrad as mg
import models
from tools import gradflow

from .common import decay_slope, gaussian_inputs, print_table, save_figure

NAME = "deep_transition"
TITLE = "deep transition: the shortcut keeps the gradient; stacked skip shortens depth, not time"


def transition_cells(inputs, hidden, depth, seed, zero_bias):
    """(tanh RNN, DT-RNN, DT(S)-RNN) sharing W_ih, W_hh, biases and transition weights."""
    mg.manual_seed(seed)
    shortcut = gradflow.cast(models.DeepTransitionRNNCell(inputs, hidden, depth, shortcut=True))
    plain = gradflow.cast(models.DeepTransitionRNNCell(inputs, hidden, depth))
    rnn = gradflow.cast(models.RNNCell(inputs, hidden))
    for cell in (plain, rnn):
        for name, p in cell.named_parameters():
            p.data = getattr(shortcut, name).data.copy()
    if zero_bias:
        for cell in (rnn, plain, shortcut):
            for name, p in cell.named_parameters():
                if "bias" in name:
                    p.data[:] = 0
    return rnn, plain, shortcut


def linear_step_jacobian(cell):
    """dh_t/dh_{t-1} at the zero state with zero biases (every tanh' = 1)."""
    jacobian = cell.weight_hh.numpy()
    for layer in range(2, getattr(cell, "transition_depth", 1) + 1):
        jacobian = getattr(cell, f"transition_weight_{layer}").numpy() @ jacobian
    if getattr(cell, "shortcut", False):
        jacobian = jacobian + cell.weight_shortcut.numpy()
    return jacobian


def stacked_pair(inputs, hidden, layers, seed):
    """(plain, skip) stacks of tanh RNNs with the same weights; the skip stack's layers >= 1
    also read x_t (their extra input columns), the plain stack's do not."""
    mg.manual_seed(seed)
    skip = gradflow.cast(models.Stacked(
        [models.RNNCell(inputs if index == 0 else inputs + hidden, hidden)
         for index in range(layers)], skip=True))
    plain = gradflow.cast(models.Stacked(
        [models.RNNCell(inputs if index == 0 else hidden, hidden) for index in range(layers)]))
    for source, target in zip(skip.layers, plain.layers):
        for name, p in target.named_parameters():
            data = getattr(source, name).data
            p.data = data[:, -p.shape[1]:].copy() if name == "weight_ih" else data.copy()
    return plain, skip


def input_gradient_norms(stacked, xs, hidden):
    """||dL/dx_t|| for L = sum of the top layer's h_T (the last ``hidden`` output columns)."""
    x = mg.Tensor(xs.copy(), requires_grad=True)
    outputs, _ = stacked(x)
    grad, = mg.grad(outputs[-1][:, -hidden:].sum(), [x])
    return np.sqrt((grad.numpy().astype(np.float64) ** 2).reshape(len(xs), -1).sum(axis=1))


def stacked_gain(stacked, layers, lag):
    """||dL/dx|| with skip connections over without, at ``lag`` ("lag_0" or "lag_10")."""
    return stacked[f"{layers} layers, skip"][lag] / stacked[f"{layers} layers, no skip"][lag]


def run(output_dir, quick=False, seed=0, log=print):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, hidden, inputs = (40 if quick else 60), 32, 4
    tiny = gaussian_inputs(steps, 4, inputs, 1e-6, seed)
    unit = gaussian_inputs(steps, 4, inputs, 1.0, seed)
    results, rows = {"transition": {}, "stacked": {}}, []
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    for depth in (2, 3):
        linear = transition_cells(inputs, hidden, depth, seed, zero_bias=True)
        default = transition_cells(inputs, hidden, depth, seed, zero_bias=False)
        for label, cell, cell_unit in zip(("tanh RNN (same W_hh)", f"DT-RNN, depth {depth}",
                                           f"DT(S)-RNN, depth {depth} (shortcut)"),
                                          linear, default):
            if label.startswith("tanh") and depth > 2:
                continue
            predicted = float(np.log10(gradflow.spectral_radius(linear_step_jacobian(cell))))
            near_zero = gradflow.hidden_gradient_norms(cell, tiny)
            saturating = gradflow.hidden_gradient_norms(cell_unit, unit)
            entry = {"predicted_slope": predicted, "measured_slope": decay_slope(near_zero),
                     "measured_slope_inputs_std_1": decay_slope(saturating)}
            results["transition"][label] = entry
            rows.append((label, predicted, entry["measured_slope"],
                         entry["measured_slope_inputs_std_1"]))
            line, = left.plot(np.arange(1, steps + 1), near_zero, label=label)
            left.plot(np.arange(1, steps + 1), near_zero[-1] * (10 ** predicted) ** np.arange(
                steps)[::-1], "--", color=line.get_color(), linewidth=0.8)
    log(f"{TITLE}\n(b), (c) deep transition (H={hidden}, T={steps}, L = sum h_T; predicted: "
        f"log10 rho(J), J = W_L..W_2 W_hh [+ W_s] at the zero state)")
    print_table(("cell", "predicted log10/step", "measured, near the zero state",
                 "measured, inputs std 1"), rows, log)

    rows = []
    for layers in (2, 4):
        for label, stacked in zip(("no skip", "skip"), stacked_pair(inputs, hidden, layers, seed)):
            norms = input_gradient_norms(stacked, unit, hidden)
            entry = {"lag_0": float(norms[-1]), "lag_10": float(norms[-11]),
                     "measured_slope": decay_slope(norms)}
            results["stacked"][f"{layers} layers, {label}"] = entry
            rows.append((f"{layers} layers, {label}", entry["lag_0"], entry["lag_10"],
                         entry["measured_slope"]))
            shown = norms[::-1][:21]   # lags 0..20: where the two differ
            right.plot(np.arange(len(shown)), shown, label=f"{layers} layers, {label}",
                       linestyle="-" if label == "skip" else ":", marker=".")
    log("(d) stacked tanh RNNs, the same weights with and without skip connections (inputs "
        "std 1, L = sum of the top layer's h_T)")
    print_table(("stack", "||dL/dx_T|| (lag 0)", "||dL/dx_(T-10)||", "log10/step over t"),
                rows, log)
    gain = {lag: [stacked_gain(results["stacked"], layers, lag) for layers in (2, 4)]
            for lag in ("lag_0", "lag_10")}
    log("reading: the shortcut gives back (at least) the one-layer decay rate the extra "
        "non-linearity took away; a stack's skip connections multiply ||dL/dx_t|| by "
        f"{gain['lag_0'][0]:.2g} (2 layers) and {gain['lag_0'][1]:.2g} (4 layers) at lag 0, "
        "a shorter path through depth, and by "
        f"{gain['lag_10'][0]:.2g} and {gain['lag_10'][1]:.2g} at lag 10 "
        + ("(the gain lasts)" if min(gain["lag_10"]) > 1 else "(the gain is gone by then)")
        + "; the decay per step is left alone.")
    left.set_title("deep transition, near the zero state (dashed: rho(J)^(T-t))", fontsize=9)
    left.set_ylabel(r"$\|\partial L/\partial h_t\|$")
    right.set_title("stacked tanh RNNs, inputs std 1 (same weights; the last 20 steps)",
                    fontsize=9)
    right.set_ylabel(r"$\|\partial L/\partial x_t\|$")
    right.set_xlabel("lag T - t")
    left.set_xlabel("time step t")
    for axes in (left, right):
        axes.set_yscale("log")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    figure.suptitle(TITLE, fontsize=10)
    return save_figure(figure, output_dir, NAME, results, log)
