"""(8) Sequence to sequence: reversing the source makes learning faster.

Claim (002_*.txt, "Sequence-to-sequence language translation"; Sutskever et al. 2014):
"instead of mapping a, b, c to alpha, beta, gamma, the LSTM is asked to map c, b, a to
alpha, beta, gamma ... It introduces many short term dependencies in the data that make
the optimization problem much easier." Task: digit strings of fixed length to their words
("307" -> "three zero seven", :func:`models.tasks.translation_pairs`, word tokens), a
monotone word-for-word translation. Two LSTM encoder-decoders with the same initial weights
and the same batches differ only in ``reverse_source``. Measured: training loss and
held-out token accuracy (teacher forcing) along training, and the first step at which
the held-out accuracy reaches 90%.
"""
import numpy as np

import minigrad as mg
import models
from minigrad import functional as F
from minigrad.optim import Adam, clip_grad_norm
from models.tasks import DIGIT_WORDS, translation_pairs

from .common import print_table, save_figure

NAME = "seq2seq_reversal"
TITLE = "seq2seq: reversing the source learns faster"
BOS, EOS = 0, 1


def encode(pairs):
    """Sources (L, B) digit tokens; targets (L + 1, B) word tokens then EOS."""
    sources = np.array([[int(d) for d in source] for source, _ in pairs], dtype=np.int64).T
    words = {word: i + 2 for i, word in enumerate(DIGIT_WORDS)}
    targets = np.array([[words[w] for w in target.split()] + [EOS] for _, target in pairs],
                       dtype=np.int64).T
    return sources, targets


def token_accuracy(model, sources, targets):
    with mg.no_grad():
        logits = model(sources, targets)
    return float((logits.numpy().argmax(axis=-1) == targets).mean())


def train(reverse, steps, length, seed, batch=32, hidden=48, lr=5e-3, evaluate_every=10):
    mg.manual_seed(seed)
    model = models.Seq2Seq(models.LSTMCell(16, hidden), models.LSTMCell(16, hidden), 10,
                           len(DIGIT_WORDS) + 2, reverse_source=reverse, bos_index=BOS,
                           eos_index=EOS)
    optimizer = Adam(model.parameters(), lr=lr)
    held_out = encode(translation_pairs(256, np.random.default_rng(seed + 7), length, length))
    history = {"step": [], "loss": [], "eval_step": [], "accuracy": []}
    for step in range(1, steps + 1):
        pairs = translation_pairs(batch, np.random.default_rng([seed, step]), length, length)
        sources, targets = encode(pairs)
        loss = F.cross_entropy(model(sources, targets), targets)
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm(model.parameters(), 5.0)
        optimizer.step()
        history["step"].append(step)
        history["loss"].append(loss.item())
        if step % evaluate_every == 0 or step == steps:
            history["eval_step"].append(step)
            history["accuracy"].append(token_accuracy(model, *held_out))
    return history


def first_step_reaching(history, level):
    for step, accuracy in zip(history["eval_step"], history["accuracy"]):
        if accuracy >= level:
            return step
    return None


def run(output_dir, quick=False, seed=0, log=print):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, length = (150, 6) if quick else (400, 8)
    results, rows = {}, []
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for label, reverse in (("source reversed", True), ("source in order", False)):
        history = train(reverse, steps, length, seed)
        reached = first_step_reaching(history, 0.9)
        losses = np.array(history["loss"])
        results[label] = {"first_step_90pct": reached,
                          "final_accuracy": history["accuracy"][-1],
                          "mean_loss_last_20": float(losses[-20:].mean()),
                          "accuracy_at": dict(zip(history["eval_step"], history["accuracy"]))}
        middle = len(history["eval_step"]) // 2
        mid_step = history["eval_step"][middle]
        rows.append((label, reached if reached is not None else f"> {steps}",
                     history["accuracy"][middle],
                     history["accuracy"][-1], float(losses[-20:].mean())))
        loss_axes.plot(history["step"], losses, label=label)
        accuracy_axes.plot(history["eval_step"], history["accuracy"], label=label)
    log(f"{TITLE} (digits -> words, length {length}, LSTM H=48, Adam 5e-3, batch 32, "
        f"{steps} steps)")
    print_table(("source", "first step with 90% held-out token accuracy",
                 f"accuracy at step {mid_step}", f"accuracy at step {steps}",
                 "mean loss, last 20 steps"), rows, log)
    loss_axes.set_yscale("log")
    for axes, what in ((loss_axes, "training loss (cross-entropy)"),
                       (accuracy_axes, "held-out token accuracy")):
        axes.set_xlabel("step")
        axes.set_ylabel(what)
        axes.grid(True, alpha=0.3)
        axes.legend()
    figure.suptitle(TITLE)
    return save_figure(figure, output_dir, NAME, results, log)
