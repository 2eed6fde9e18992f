"""(9) The Pascanu et al. (2013) regularizer keeps the error signal from vanishing.

Claim (001_*.txt, "Fixing vanishing gradients": "regularization on the recurrent weights,
force the error signal not to vanish", Omega = sum_k (||dL/dx_{k+1} dx_{k+1}/dx_k|| /
||dL/dx_{k+1}|| - 1)^2; :mod:`models.regularizer`). Setup: a tanh RNN (H=32, W_hh scaled to
spectral radius 1) on the adding problem at T=100, trained by Adam (lr 0.01) on the same
batches from the same initial weights, with the penalty's weight 0, 0.1 and 1. Measured: how many
decades ||dL/dh_t|| (L the model's MSE on a held-out batch) loses from t=T back to t=1
before and after training, W_hh's spectral radius and largest singular value, Omega, and
the held-out MSE next to the 0.167 of always predicting 1 (the mean). Prediction: with the
penalty the curve stays flatter. Whether the penalty also helps to solve the task is
measured, not assumed; in a run this short it does not, its held-out MSE is higher
(Pascanu et al. trained for millions of sequences, with clipping).
"""
import numpy as np

import minigrad as mg
from models.regularizer import penalty_of, recording_unrolls
from models.tasks import SequenceRegressor, adding_problem
from models.train import Trainer
from tools import gradflow

from .adding import BASELINE
from .common import print_table, save_figure, task_gradient_norms

NAME = "regularizer"
TITLE = "Pascanu et al. regularizer: a flatter ||dL/dh_t||, and the adding problem"
WEIGHTS = (0.0, 0.1, 1.0)


def _held_out(length, seed):
    inputs, targets = adding_problem(64, length, np.random.default_rng(seed + 10 ** 6))
    return inputs.astype(np.float32), targets.astype(np.float32)


def measure(model, inputs, targets):
    norms = task_gradient_norms(model, inputs, targets)
    weights = model.cell.weight_hh.numpy()
    with recording_unrolls() as unrolls:
        loss, _ = model.loss(inputs, targets)
    return {"log10_ratio": float(np.log10(norms[0] / norms[-1])), "norms": norms,
            "spectral_radius": float(gradflow.spectral_radius(weights)),
            "largest_singular_value": float(gradflow.largest_singular_value(weights)),
            "omega": float(penalty_of(loss, unrolls).item()), "mse": float(loss.item())}


def train(weight, steps, length, seed, hidden=32, batch=16, lr=0.01):
    mg.manual_seed(seed)
    model = SequenceRegressor("rnn", 2, hidden, 1)
    gradflow.scale_spectral_radius(model.cell, 1.0)
    data = [adding_problem(batch, length, np.random.default_rng([seed, step]))
            for step in range(steps)]
    trainer = Trainer(model, lambda step: data[step], lr=lr, jacobian_penalty=weight,
                      progress=False, log=lambda *args: None)
    before = measure(model, *_held_out(length, seed)) if weight == 0 else None
    trainer.fit(steps)
    return before, measure(model, *_held_out(length, seed)), trainer.history


def run(output_dir, quick=False, seed=0, log=print):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    length, steps = (50, 10) if quick else (100, 40)
    results, rows, curves, losses = {}, [], {}, {}
    colours = {"initial weights": "gray", "penalty weight 0": "C0", "penalty weight 0.1": "C2",
               "penalty weight 1": "C1"}
    for weight in WEIGHTS:
        before, after, history = train(weight, steps, length, seed)
        if before is not None:
            results["initial"] = {k: v for k, v in before.items() if k != "norms"}
            rows.append(("initial weights", *_row(before)))
            curves["initial weights"] = before["norms"]
        label = f"penalty weight {weight:g}"
        results[label] = {k: v for k, v in after.items() if k != "norms"}
        results[label]["mean_loss_last_10"] = float(np.mean(history["loss"][-10:]))
        rows.append((f"trained, {label}", *_row(after)))
        curves[label] = after["norms"]
        losses[label] = history["loss"]
    plain, penalised = results["penalty weight 0"], [results[f"penalty weight {w:g}"]
                                                     for w in WEIGHTS[1:]]
    flatter = all(r["log10_ratio"] > plain["log10_ratio"] for r in penalised)
    best = min(r["mse"] for r in penalised)
    helps = best < min(plain["mse"], BASELINE)
    results["flatter_with_penalty"], results["helps_on_adding"] = flatter, helps
    log(f"{TITLE} (tanh RNN H=32, adding problem T={length}, Adam lr 0.01, {steps} steps, "
        f"W_hh at spectral radius 1)")
    print_table(("run", "log10 ||dL/dh_1||/||dL/dh_T||", "rho(W_hh)", "sigma_max(W_hh)",
                 "Omega", "held-out MSE"), rows, log)
    log("prediction: the penalty keeps ||dL/dh_t|| flatter -> "
        + ("yes" if flatter else "NO") + ": "
        + ", ".join(f"{results[f'penalty weight {w:g}']['log10_ratio']:.3g} decades at "
                    f"weight {w:g}" for w in WEIGHTS))
    verdict = ("the penalty helps" if helps else
               f"the penalty does not help in {steps} steps"
               + (" (its held-out MSE is higher)" if best > plain["mse"] else ""))
    log("adding problem: held-out MSE "
        + ", ".join(f"{results[f'penalty weight {w:g}']['mse']:.4f} at weight {w:g}"
                    for w in WEIGHTS)
        + f"; {BASELINE:.4f} predicting the mean -> {verdict}")

    figure, (flow_axes, loss_axes) = plt.subplots(1, 2, figsize=(11, 4))
    for label, norms in curves.items():
        flow_axes.plot(np.arange(1, len(norms) + 1), norms, color=colours[label],
                       label=label if label.startswith("initial") else
                       f"trained {steps} steps, {label}")
    flow_axes.set_yscale("log")
    flow_axes.set_xlabel("t")
    flow_axes.set_ylabel("||dL/dh_t|| (held-out MSE)")
    for label, values in losses.items():
        loss_axes.plot(np.arange(1, len(values) + 1), values, color=colours[label], label=label)
    loss_axes.axhline(BASELINE, color="gray", ls="--", label="predicting the mean (1/6)")
    loss_axes.set_xlabel("step")
    loss_axes.set_ylabel("training MSE")
    for axes in (flow_axes, loss_axes):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    figure.suptitle(TITLE)
    return save_figure(figure, output_dir, NAME, results, log)


def _row(entry):
    return (entry["log10_ratio"], entry["spectral_radius"], entry["largest_singular_value"],
            entry["omega"], entry["mse"])
