"""(4) The LSTM keeps the gradient over 100+ steps: with its forget gate open, and after
training on a long-range task.

Claim (000_*.txt, LSTM discussion): the cell state's Jacobian has the direct term
diag(f_t), so "when repeatedly multiplying four different terms added together, there is
a smaller chance of vanishing"; "f_t can be chosen to be larger or smaller ... f_t is
learned, so [the] neural network learns to control gradient propagation". Three
measurements of ||dL/dh_t||:

1. At initialisation, L = sum h_T on random inputs of std 1: a tanh RNN, GRUs and LSTMs at
   PyTorch's default (every bias ~ U(-k, k): gates ~ 0.5) and with the gate that keeps the
   state opened: LSTM forget-gate bias b_f = 1 (Jozefowicz et al. 2015; 3 and 5 to show the
   trend) and the GRU's update-gate bias b_z = 1 (z weights h_{t-1}). At the default init
   the keeping gate is about one half and the gated cells vanish almost as fast as the RNN
   (and faster once every recurrent block is scaled to spectral radius 0.9, as
   ``minigrad gradflow --spectral-radius 0.9`` does): the claim is about the open gate, not
   about the LSTM as such.
2. After training on the adding problem (:mod:`.adding`: the target depends on steps in
   the first half, so a network that solves it must keep the gradient): L = the task's MSE
   on held-out sequences, at the recommended init and after training, for the tanh RNN,
   the LSTM (b_f = 1) and the GRU (b_z = 1).
3. The LSTM's cell-state path alone, ||dc_T/dc_t|| from :mod:`tools.jacobian`: exact (the
   full (h, c) state Jacobians) and the notes' product of one-step dc_k/dc_(k-1), each
   labelled.
"""
import copy

import numpy as np

import minigrad as mg
import models
from models.tasks import adding_problem
from tools import gradflow, jacobian

from . import adding
from .common import gaussian_inputs, print_table, save_figure, task_gradient_norms

NAME = "lstm_memory"
TITLE = "LSTM keeps the gradient over 100+ steps (when its forget gate is open)"

CELLS = {
    "tanh RNN": lambda d, h: models.RNNCell(d, h),
    "GRU, b_z=0 (default)": lambda d, h: models.GRUCell(d, h),
    "GRU, b_z=1": lambda d, h: gradflow.set_keeping_gate_bias(models.GRUCell(d, h), 1.0),
    "LSTM, b_f=0 (default)": lambda d, h: models.LSTMCell(d, h),
    "LSTM, b_f=1": lambda d, h: models.LSTMCell(d, h, forget_bias=1.0),
    "LSTM, b_f=3": lambda d, h: models.LSTMCell(d, h, forget_bias=3.0),
    "LSTM, b_f=5": lambda d, h: models.LSTMCell(d, h, forget_bias=5.0),
}
TRAINED = {"tanh RNN": "rnn", "LSTM, b_f=1": "lstm", "GRU, b_z=1": "gru"}


def float64_task_gradient_norms(model, inputs, targets):
    """:func:`task_gradient_norms` of a float64 copy of ``model``."""
    return task_gradient_norms(gradflow.cast(copy.deepcopy(model)), inputs, targets)


def decades(norms):
    """log10 ||dL/dh_1|| / ||dL/dh_T||: how many decades the gradient loses back to t=1."""
    return float(np.log10(norms[0] / norms[-1]))


def at_initialisation(steps, hidden, inputs, seed, log):
    xs = gaussian_inputs(steps, 4, inputs, 1.0, seed)
    curves, rows, results = {}, [], {}
    for label, make in CELLS.items():
        mg.manual_seed(seed)
        norms = gradflow.hidden_gradient_norms(gradflow.cast(make(inputs, hidden)), xs)
        curves[label] = norms
        results[label] = {"log10_ratio_100_steps": float(np.log10(norms[-101] / norms[-1])),
                          "log10_ratio_all": decades(norms)}
        rows.append((label, results[label]["log10_ratio_100_steps"],
                     results[label]["log10_ratio_all"]))
    log(f"1. at initialisation (H={hidden}, T={steps}, L = sum h_T, inputs std 1)")
    print_table(("cell", "log10 ||dL/dh_(T-100)||/||dL/dh_T||",
                 f"log10 ||dL/dh_1||/||dL/dh_T|| ({steps - 1} steps)"), rows, log)
    rnn = results["tanh RNN"]["log10_ratio_100_steps"]
    for cell, default, opened in (("LSTM", "LSTM, b_f=0 (default)", "LSTM, b_f=1"),
                                  ("GRU", "GRU, b_z=0 (default)", "GRU, b_z=1")):
        before, after = (results[default]["log10_ratio_100_steps"],
                         results[opened]["log10_ratio_100_steps"])
        log(f"   {cell}: {before:.1f} decades over 100 steps at the default init "
            f"({'more' if before < rnn else 'less'} than the RNN's {rnn:.1f}), {after:.1f} "
            f"with the keeping gate's bias at 1")
    return curves, results, xs


def after_training(length, steps, hidden, seed, log):
    inputs, targets = adding_problem(256, length, np.random.default_rng(seed + 7))
    inputs = inputs.astype(np.float64)
    curves, rows, results = {}, [], {}
    for label, cell in TRAINED.items():
        model = adding.make_model(cell, seed, hidden)
        before = float64_task_gradient_norms(model, inputs, targets)
        history = adding.train(cell, length, steps, seed, hidden=hidden, model=model,
                               stop_after_solved=100)
        after = float64_task_gradient_norms(model, inputs, targets)
        curves[label] = (before, after)
        results[label] = {"log10_ratio_init": decades(before),
                          "log10_ratio_trained": decades(after),
                          "held_out_mse": float(history["val"][-1]),
                          "first_step_below_0.01": adding.first_step_below(history),
                          "steps_run": int(history["val_step"][-1])}
        rows.append((label, decades(before), decades(after), float(history["val"][-1]),
                     results[label]["first_step_below_0.01"] or "not solved",
                     results[label]["steps_run"]))
    log(f"2. trained on the adding problem (T={length}, up to {steps} steps, H={hidden}); "
        f"L = the task's MSE on 256 held-out sequences")
    print_table(("cell (recommended init)", "log10 ||dL/dh_1||/||dL/dh_T||, init",
                 "... after training", "held-out MSE", "first step < 0.01", "steps"),
                rows, log)
    return curves, results


def cell_state_path(steps, hidden, inputs, xs, seed, log):
    mg.manual_seed(seed)
    lstm = gradflow.cast(CELLS["LSTM, b_f=3"](inputs, hidden))
    curves, results = {}, {}
    for method, label in jacobian.MULTI_STEP_LABELS.items():
        if method == "cell_product":
            label += ",\nthe product of per-step cell-state Jacobians (the notes' approximation)"
        norms = jacobian.cell_state_gradient_norms(lstm, xs, method=method)
        results[f"cell_state_path_b_f=3_{method}"] = {
            "dc_T/dc_1": float(norms[0]), "dc_T/dc_(T-100)": float(norms[-101])}
        log(f"3. LSTM b_f=3, cell-state path, {label.replace(chr(10), ' ')}: ||dc_T/dc_(T-100)||_2 = "
            f"{norms[-101]:.3g}, ||dc_T/dc_1||_2 = {norms[0]:.3g}")
        curves[f"LSTM, b_f=3, cell path: {label}"] = norms
    log(f"   (exact: the full (h, c) state Jacobians multiplied; prod: the notes' product of "
        f"one-step dc_k/dc_(k-1); {jacobian.NOTE_ON_000})")
    return curves, results


def run(output_dir, quick=False, seed=0, log=print):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, hidden, inputs = (120 if quick else 150), 32, 4
    length, train_steps = (30, 600) if quick else (100, 2000)
    log(TITLE)
    init_curves, results, xs = at_initialisation(steps, hidden, inputs, seed, log)
    trained_curves, results["trained"] = after_training(length, train_steps, hidden, seed, log)
    path_curves, path_results = cell_state_path(steps, hidden, inputs, xs, seed, log)
    results.update(path_results)

    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 6))
    for label, norms in init_curves.items():
        left.plot(np.arange(1, steps + 1), norms, label=label, linewidth=1.4)
    for label, norms in path_curves.items():
        left.plot(np.arange(1, steps + 1), norms, ":", label=label, linewidth=1.4)
    left.set_title(f"at initialisation: L = sum h_T, random inputs, T={steps}", fontsize=9)
    for index, (label, (before, after)) in enumerate(trained_curves.items()):
        color = f"C{index}"
        right.plot(np.arange(1, length + 1), before, "--", color=color, linewidth=1,
                   label=f"{label}, at init")
        right.plot(np.arange(1, length + 1), after, color=color, linewidth=1.8,
                   label=f"{label}, trained (MSE {results['trained'][label]['held_out_mse']:.2g})")
    right.set_title(f"adding problem, T={length}: L = the task's MSE, before and after "
                    f"training", fontsize=9)
    for axes in (left, right):
        axes.set_yscale("log")
        axes.set_xlabel("time step t")
        axes.set_ylabel(r"$\|\partial L/\partial h_t\|$")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    figure.suptitle(TITLE, fontsize=10)
    return save_figure(figure, output_dir, NAME, results, log)
