"""(7) The adding problem at T=100: an LSTM solves it, a tanh RNN does not.

Claim (000_*.txt: a basic RNN "not very effective", gates "reduce vanishing gradients";
Hochreiter & Schmidhuber 1997, experiment 4): each step carries a value and a marker; the
target is the sum of the two marked values, one in each half of the sequence. Predicting
1 always scores Var(u1 + u2) = 1/6 ~ 0.167; solving it means MSE < 0.01. Both models read
the whole sequence (H=32) and predict from h_T; same data, Adam (lr 1e-2), gradients
clipped to norm 1, LSTM forget bias 1. Measured: held-out MSE along training. ``--quick``
uses T=50 and fewer steps (the full run takes minutes of CPU).
"""
import numpy as np

import minigrad as mg
from minigrad import functional as F
from models.tasks import SequenceRegressor, adding_problem
from models.train import Trainer

from .common import print_table, save_figure

NAME = "adding"
TITLE = "adding problem: LSTM vs tanh RNN"
BASELINE = 1 / 6


def held_out_mse(model, inputs, targets):
    with mg.no_grad():
        prediction, _ = model(inputs)
    return float(F.mse_loss(prediction, targets).item())


def train(cell, length, steps, seed, hidden=32, batch=64, lr=1e-2, evaluate_every=50):
    mg.manual_seed(seed)
    model = SequenceRegressor(cell, 2, hidden, 1)
    if cell == "lstm":
        model.cell.bias_ih.data[hidden:2 * hidden] = 1.0
        model.cell.bias_hh.data[hidden:2 * hidden] = 0.0
    inputs, targets = adding_problem(1000, length, np.random.default_rng(seed + 99))
    trainer = Trainer(model, lambda step: adding_problem(
                          batch, length, np.random.default_rng([seed, step])),
                      optimizer="adam", lr=lr, clip_norm=1.0,
                      validate=lambda m: held_out_mse(m, inputs, targets),
                      validate_every=evaluate_every, progress=False, log=lambda *args: None)
    return trainer.fit(steps)


def run(output_dir, quick=False, seed=0, log=print):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    length, steps = (50, 800) if quick else (100, 2000)
    results, rows = {}, []
    figure, axes = plt.subplots(figsize=(7, 4.2))
    for label, cell in (("LSTM", "lstm"), ("tanh RNN", "rnn")):
        history = train(cell, length, steps, seed)
        val = np.array(history["val"])
        solved = [s for s, v in zip(history["val_step"], val) if v < 0.01]
        results[label] = {"final_mse": float(val[-1]), "best_mse": float(val.min()),
                          "first_step_below_0.01": solved[0] if solved else None,
                          "solved": bool(val[-1] < 0.01)}
        rows.append((label, float(val[-1]), float(val.min()),
                     solved[0] if solved else f"> {steps}"))
        axes.plot(history["val_step"], val, label=label)
    axes.axhline(BASELINE, color="gray", linestyle="--", label="predict 1 (1/6)")
    axes.axhline(0.01, color="gray", linestyle=":", label="solved (0.01)")
    log(f"{TITLE} (T={length}, H=32, batch 64, Adam 1e-2, clip 1, {steps} steps; "
        f"predicting 1 scores {BASELINE:.3f})")
    print_table(("model", "held-out MSE at the end", "best held-out MSE",
                 "first step with MSE < 0.01"), rows, log)
    axes.set_yscale("log")
    axes.set_xlabel("training step")
    axes.set_ylabel("held-out MSE")
    axes.set_title(f"{TITLE}, T={length}")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    return save_figure(figure, output_dir, NAME, results, log)
