"""(3) Gradient clipping keeps training stable where it would diverge.

Claim (000_*.txt, "Gradients"): gradients that are "too large: can be handled with gradient
clipping" (Pascanu et al. 2013). Setup: a tanh RNN (H=32) whose W_hh starts at spectral
radius 1.5 (the exploding regime), trained by SGD (lr 0.1, momentum 0.5) on the adding
problem (T=20) from the same data, once without clipping and once with ||g|| clipped to 1.
Measured: whether the loss stays finite, the step it blows up at, the largest gradient
norm seen, and the mean loss of the last 20 steps next to the 1/6 ~ 0.167 of always
predicting the mean: the clipped run must learn, not only stay finite.
"""
import warnings

import numpy as np

import minigrad as mg
from minigrad.optim import SGD
from models.tasks import SequenceRegressor, adding_problem
from models.train import Trainer, TrainingDiverged
from tools import gradflow

from .adding import BASELINE
from .common import print_table, save_figure

NAME = "clipping"
TITLE = "gradient clipping keeps an exploding RNN trainable"


def train(clip_norm, steps, seed, spectral_radius=1.5, lr=0.1, momentum=0.5, length=20,
          batch=64):
    mg.manual_seed(seed)
    model = SequenceRegressor("rnn", 2, 32, 1)
    gradflow.scale_spectral_radius(model.cell, spectral_radius)
    data = [adding_problem(batch, length, np.random.default_rng(seed + 1000 + s))
            for s in range(steps)]
    trainer = Trainer(model, lambda step: data[step], optimizer=SGD(model.parameters(), lr=lr, momentum=momentum),
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

    steps = 1000   # about two seconds: --quick changes nothing
    results, rows = {}, []
    figure, (loss_axes, norm_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for label, clip in (("no clipping", None), ("clip_norm=1", 1.0)):
        history, diverged_at = train(clip, steps, seed)
        losses, norms = np.array(history["loss"]), np.array(history["grad_norm"])
        finite = diverged_at is None
        tail = float(np.mean(losses[-20:])) if finite else float("nan")
        results[label] = {"diverged_at_step": diverged_at, "max_grad_norm": float(norms.max()),
                          "max_loss": float(losses.max()), "mean_loss_last_20": tail,
                          "steps_run": len(losses),
                          "learned": bool(finite and tail < BASELINE)}
        rows.append((label, "no" if finite else f"yes, step {diverged_at}",
                     float(norms.max()), float(losses.max()), tail))
        line, = loss_axes.plot(history["step"], losses, alpha=0.3, linewidth=0.8)
        if len(losses) >= 20:
            mean_20 = np.convolve(losses, np.ones(20) / 20, mode="valid")
            loss_axes.plot(history["step"][19:], mean_20, color=line.get_color(),
                           label=f"{label} (mean of 20 steps)")
        else:
            line.set_label(label)
        norm_axes.plot(history["step"], norms, label=label)
        if not finite:
            loss_axes.axvline(diverged_at, color=line.get_color(), linestyle=":",
                              label=f"{label}: loss inf/NaN at step {diverged_at}")
    log(f"{TITLE} (adding problem T=20, batch 64, SGD lr 0.1 momentum 0.5, W_hh at spectral "
        f"radius 1.5, {steps} steps)")
    print_table(("run", "diverged (inf/NaN)", "max ||g|| before clipping", "max loss",
                 "mean loss, last 20 steps"), rows, log)
    clipped = results["clip_norm=1"]
    log(f"baseline, always predicting 1: {BASELINE:.3f}. Clipped run, last 20 steps: "
        f"{clipped['mean_loss_last_20']:.3f} -> "
        f"{'learns (below the baseline)' if clipped['learned'] else 'does NOT beat the baseline'}")
    loss_axes.axhline(BASELINE, color="gray", linestyle="--", label="predict 1 (1/6)")
    norm_axes.axhline(1.0, color="gray", linestyle="--", label="clip threshold 1")
    loss_axes.set_ylim(1e-2, 10)   # the diverging run leaves the axes upwards
    for axes, what in ((loss_axes, "training loss (MSE)"), (norm_axes, "||g|| before clipping")):
        axes.set_yscale("log")
        axes.set_xlabel("step")
        axes.set_ylabel(what)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    figure.suptitle(TITLE)
    return save_figure(figure, output_dir, NAME, results, log)
