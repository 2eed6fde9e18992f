"""(7) The adding problem at T=100: an LSTM solves it, a tanh RNN does not.

Claim (000_*.txt: a basic RNN "not very effective", gates "reduce vanishing gradients";
Hochreiter & Schmidhuber 1997, experiment 4): each step carries a value and a marker; the
target is the sum of the two marked values, one in each half of the sequence. Predicting
1 always scores Var(u1 + u2) = 1/6 ~ 0.167; solving it means held-out MSE < 0.01. Both
models read the whole sequence (H=32) and predict from h_T; same data, Adam (lr 1e-2),
gradients clipped to norm 1, LSTM forget-gate bias 1 (Jozefowicz et al. 2015). Three seeds
each. Measured: held-out MSE every 50 steps and the first step at which it is below 0.01;
a run stops 200 steps after that (it stays solved) or at the step budget. The full run
(T=100, up to 2000 steps) takes a few minutes of CPU; ``--quick`` uses T=30 and 600 steps.
"""
import numpy as np

import minigrad as mg
from minigrad import functional as F
from models.tasks import SequenceRegressor, adding_problem
from models.train import Trainer
from tools import gradflow

from .common import print_table, save_figure

NAME = "adding"
TITLE = "adding problem: LSTM vs tanh RNN"
BASELINE = 1 / 6
"""MSE of always predicting E[u1 + u2] = 1: Var(u1 + u2) = 2/12."""
SOLVED = 0.01
SEEDS = 3


def held_out_mse(model, inputs, targets):
    with mg.no_grad():
        prediction, _ = model(inputs)
    return float(F.mse_loss(prediction, targets).item())


def make_model(cell, seed, hidden=32):
    """A :class:`SequenceRegressor`; gated cells get the gate that keeps the state opened
    (LSTM b_f = 1, GRU b_z = 1)."""
    mg.manual_seed(seed)
    model = SequenceRegressor(cell, 2, hidden, 1)
    if cell in ("lstm", "gru"):
        gradflow.set_keeping_gate_bias(model.cell, 1.0)
    return model


def train(cell, length, steps, seed, hidden=32, batch=64, lr=1e-2, evaluate_every=50,
          stop_after_solved=None, model=None):
    """Train on fresh batches; returns the trainer's history (held-out MSE under "val").
    ``stop_after_solved``: stop that many steps after the held-out MSE first goes below
    0.01 (None: train all ``steps``)."""
    model = model or make_model(cell, seed, hidden)
    inputs, targets = adding_problem(1000, length, np.random.default_rng(seed + 99))
    trainer = Trainer(model, lambda step: adding_problem(
                          batch, length, np.random.default_rng([seed, step])),
                      optimizer="adam", lr=lr, clip_norm=1.0,
                      validate=lambda m: held_out_mse(m, inputs, targets),
                      validate_every=evaluate_every, progress=False, log=lambda *args: None)
    solved_at = None
    while trainer.step < steps:
        trainer.fit(min(steps, trainer.step + evaluate_every))
        if solved_at is None and trainer.history["val"][-1] < SOLVED:
            solved_at = trainer.step
        if (stop_after_solved is not None and solved_at is not None
                and trainer.step >= solved_at + stop_after_solved):
            break
    return trainer.history


def first_step_below(history, threshold=SOLVED):
    """The first evaluated step whose held-out MSE is below ``threshold``, or None."""
    return next((s for s, v in zip(history["val_step"], history["val"]) if v < threshold),
                None)


def run(output_dir, quick=False, seed=0, log=print):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    length, steps = (30, 600) if quick else (100, 2000)
    results, rows = {}, []
    figure, axes = plt.subplots(figsize=(7.5, 4.5))
    for label, cell, color in (("LSTM", "lstm", "C0"), ("tanh RNN", "rnn", "C3")):
        runs = []
        for run_seed in range(seed, seed + SEEDS):
            history = train(cell, length, steps, run_seed, stop_after_solved=200)
            val = np.array(history["val"])
            solved = first_step_below(history)
            runs.append({"seed": run_seed, "first_step_below_0.01": solved,
                         "best_mse": float(val.min()), "final_mse": float(val[-1]),
                         "steps_run": int(history["val_step"][-1])})
            rows.append((label, run_seed, solved if solved else f"not within {steps}",
                         float(val.min()), float(val[-1]), int(history["val_step"][-1])))
            axes.plot(history["val_step"], val, color=color, alpha=0.85,
                      label=label if run_seed == seed else None)
        results[label] = {"runs": runs,
                          "solved": sum(r["first_step_below_0.01"] is not None for r in runs)}
    axes.axhline(BASELINE, color="gray", linestyle="--", label="predict 1 (1/6)")
    axes.axhline(SOLVED, color="gray", linestyle=":", label="solved (0.01)")
    log(f"{TITLE} (T={length}, H=32, batch 64, Adam 1e-2, clip 1, LSTM b_f=1, up to {steps} "
        f"steps, {SEEDS} seeds; predicting 1 scores {BASELINE:.3f})")
    log(f"prediction (000, Hochreiter & Schmidhuber 1997): the LSTM goes below {SOLVED}, "
        f"the tanh RNN stays near {BASELINE:.3f}")
    print_table(("model", "seed", f"first step with held-out MSE < {SOLVED}",
                 "best held-out MSE", "held-out MSE at the end", "steps run"), rows, log)
    for label in ("LSTM", "tanh RNN"):
        log(f"{label}: solved in {results[label]['solved']} of {SEEDS} runs")
    axes.set_yscale("log")
    axes.set_xlabel("training step")
    axes.set_ylabel("held-out MSE (1000 sequences)")
    axes.set_title(f"{TITLE}, T={length}, {SEEDS} seeds each")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    return save_figure(figure, output_dir, NAME, results, log)
