"""(3) Gradient clipping keeps training stable where it would diverge.

Claim (000_*.txt, "Gradients"): gradients that are "too large: can be handled with gradient
clipping" (Pascanu et al. 2013). Setup: a tanh RNN (H=32) whose W_hh starts at spectral
radius 2 (the exploding regime), trained by plain SGD (lr 0.1) on the adding problem
(T=20) from the same data, once without clipping and once with ||g|| clipped to 1.
Measured: whether the loss stays finite, the step it blows up at, the largest gradient
norm seen, and the mean loss of the last 20 steps.
"""
import warnings

import numpy as np

import minigrad as mg
from minigrad.optim import SGD
from models.tasks import SequenceRegressor, adding_problem
from models.train import Trainer, TrainingDiverged
from tools import gradflow

from .common import figure_path, print_table

NAME = "clipping"
TITLE = "gradient clipping keeps an exploding RNN trainable"


def train(clip_norm, steps, seed, spectral_radius=2.0, lr=0.1, length=20, batch=16):
    mg.manual_seed(seed)
    model = SequenceRegressor("rnn", 2, 32, 1)
    gradflow.scale_spectral_radius(model.cell, spectral_radius)
    data = [adding_problem(batch, length, np.random.default_rng(seed + 1000 + s))
            for s in range(steps)]
    trainer = Trainer(model, lambda step: data[step], optimizer=SGD(model.parameters(), lr=lr),
                      clip_norm=clip_norm, progress=False, log=lambda *args: None)
    diverged_at = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # the overflow we are showing
        try:
            trainer.fit(steps)
        except TrainingDiverged:
            diverged_at = trainer.step + 1
    return trainer.history, diverged_at


def run(output_dir, quick=False, seed=0, log=print):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = 100 if quick else 300
    results, rows = {}, []
    figure, (loss_axes, norm_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for label, clip in (("no clipping", None), ("clip_norm=1", 1.0)):
        history, diverged_at = train(clip, steps, seed)
        losses, norms = np.array(history["loss"]), np.array(history["grad_norm"])
        finite = diverged_at is None
        tail = float(np.mean(losses[-20:])) if finite else float("nan")
        results[label] = {"diverged_at_step": diverged_at, "max_grad_norm": float(norms.max()),
                          "max_loss": float(losses.max()), "mean_loss_last_20": tail,
                          "steps_run": len(losses)}
        rows.append((label, "no" if finite else f"yes, step {diverged_at}",
                     float(norms.max()), float(losses.max()), tail))
        loss_axes.plot(history["step"], losses, label=label)
        norm_axes.plot(history["step"], norms, label=label)
    log(f"{TITLE} (adding problem T=20, SGD lr 0.1, W_hh at spectral radius 2, "
        f"{steps} steps; predicting 1 scores about 0.167)")
    print_table(("run", "diverged (inf/NaN)", "max ||g|| before clipping", "max loss",
                 "mean loss, last 20 steps"), rows, log)
    for axes, what in ((loss_axes, "training loss (MSE)"), (norm_axes, "||g|| before clipping")):
        axes.set_yscale("log")
        axes.set_xlabel("step")
        axes.set_ylabel(what)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
    figure.suptitle(TITLE)
    try:
        path = gradflow.write_figure(figure, figure_path(output_dir, NAME))
    finally:
        plt.close(figure)
    log(f"figure: {path}")
    results["figure"] = path
    return results
