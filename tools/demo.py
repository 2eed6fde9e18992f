"""``python -m tools.demo`` (what ``make demo`` runs): a tour of the project in a few minutes.

The demo is a list of sections, each a function ``section(context)`` that prints what it
shows and writes its files into ``context["out"]``; ``context`` carries results from one
section to the next (e.g. the trained char-LM). Add a section by appending to ``SECTIONS``.
"""
import os
import sys
import time

# The demo's matrices are small: one BLAS thread each is fastest, and several threads
# competing for two busy cores can make a training step ten times slower.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np

import minigrad as mg
from minigrad.serialization import atomic_write
from models.charlm import CharLM, Vocabulary, stream_batch
from models.corpus import split_text, stdlib_docstrings
from models.ngram import best_baseline, describe
from models.tasks import HELLO, HELLO_VOCABULARY, hello_batch
from models.train import Trainer

OUT = "out"
CORPUS_CHARS = 300_000
TRAIN_SECONDS = 90


def heading(title):
    print(f"\n== {title} " + "=" * max(0, 74 - len(title)), flush=True)


def hello(context):
    """The [h, e, l, o] example of 003_*.txt: one-hot input, a tanh RNN, trained on "hello"."""
    heading('"hello": a char-RNN over the vocabulary [h, e, l, o]')
    mg.manual_seed(0)
    model = CharLM(Vocabulary(HELLO_VOCABULARY), "rnn", hidden_size=8)
    inputs, targets = hello_batch()
    trainer = Trainer(model, lambda step: (inputs, targets), lr=0.05, progress=False)
    trainer.fit(80)
    print(f"loss: {trainer.history['loss'][0]:.3f} at step 1 -> "
          f"{trainer.history['loss'][-1]:.5f} at step {trainer.step}")
    with mg.no_grad():
        logits, _ = model(inputs)
    probabilities = mg.functional.softmax(logits).numpy()[:, 0]
    for t, row in enumerate(probabilities):
        shown = "  ".join(f"{c}:{p:.2f}" for c, p in zip(HELLO_VOCABULARY, row))
        print(f"  input {HELLO[t]!r} -> predicts {HELLO_VOCABULARY[row.argmax()]!r}  ({shown})")
    sample = model.sample("h", len(HELLO) - 1, temperature=0)
    print(f"greedy sample from 'h': {sample!r}")
    context["hello"] = sample


def charlm(context):
    """An LSTM char-LM on the default corpus, next to the Markov (n-gram) baseline."""
    heading("char-LM on Python's standard-library docstrings")
    text = stdlib_docstrings(CORPUS_CHARS)
    train_text, val_text = split_text(text, 0.1)
    vocabulary = Vocabulary.from_text(text)
    data = vocabulary.encode(train_text)
    print(f"corpus: the first {len(text):,} characters of the standard-library docstrings "
          f"(Python {sys.version.split()[0]}), vocabulary {len(vocabulary)}; "
          f"{len(train_text):,} for training, {len(val_text):,} held out")
    mg.manual_seed(0)
    model = CharLM(vocabulary, "lstm", hidden_size=128, embedding_dim=32)
    checkpoint = os.path.join(context["out"], "charlm.npz")
    trainer = Trainer(model, lambda step: stream_batch(data, step, 32, 64), lr=3e-3,
                      carry_state=True, clip_norm=5.0, checkpoint=checkpoint,
                      checkpoint_every=200, validate=lambda m: m.bits_per_char(val_text[:8000]),
                      validate_every=100, max_seconds=TRAIN_SECONDS)
    print(f"training a 1 x 128 LSTM (batch 32 x 64 characters, Adam, clip 5) for up to "
          f"{TRAIN_SECONDS} s ...", flush=True)
    began = time.perf_counter()
    trainer.fit(3000)
    seconds = time.perf_counter() - began
    bits = model.bits_per_char(val_text)
    results, (order, best) = best_baseline(train_text, val_text, orders=(0, 1, 2, 3),
                                           vocabulary=vocabulary.symbols)
    print(f"{trainer.step} steps in {seconds:.0f} s; checkpoint: {checkpoint}")
    print("validation bits per character:")
    for m, value in results:
        print(f"  Markov {describe(m):<17} {value:.3f}   (add-0.1 smoothing)")
    print(f"  {'LSTM char-LM':<24} {bits:.3f}   ({best - bits:+.3f} vs the best "
          f"Markov model, {describe(order)})")
    for temperature in (0.5, 1.0):
        sample = model.sample("Return ", 160, temperature=temperature, seed=1)
        print(f"sample at temperature {temperature}:\n  " + sample.replace("\n", "\n  "))
    context.update(charlm=model, charlm_trainer=trainer, charlm_bits=bits,
                   ngram_bits=best)


def loss_curve(context):
    """Training loss and validation bits per character against the step, as a PNG."""
    heading("loss curve")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    history = context["charlm_trainer"].history
    figure, axis = plt.subplots(figsize=(7, 4))
    steps = np.asarray(history["step"]) + 1
    axis.plot(steps, np.asarray(history["loss"]) / np.log(2), lw=0.8, label="training batch")
    axis.plot(history["val_step"], history["val"], "o-", label="validation")
    axis.axhline(context["ngram_bits"], color="gray", ls="--",
                 label="best Markov (n-gram) model")
    axis.set_xlabel("step")
    axis.set_ylabel("bits per character")
    axis.set_title("LSTM char-LM on standard-library docstrings")
    axis.legend()
    figure.tight_layout()
    path = os.path.join(context["out"], "charlm_loss.png")
    with atomic_write(path) as f:
        figure.savefig(f, format="png", dpi=100)
    plt.close(figure)
    print(f"wrote {path}")


def pictures(context):
    """The unrolled and folded graphs of every cell (docs/gallery/, what the README shows),
    and an LSTM's BPTT graph with edges shaded by gradient norm."""
    heading("unrolled and folded graphs (SVG)")
    from tools import gallery
    from tools.render import examples, render
    gallery.main([os.path.join("docs", "gallery")])
    module, outputs, title = examples.build("lstm", 6)
    for view in ("unrolled", "folded"):
        path = render(outputs, os.path.join(context["out"], f"lstm_{view}.svg"), view=view,
                      module=module, title=title)
        print(path)
    module, outputs, title = examples.build("rnn", 8)
    path = render(examples.last_step_loss(outputs),
                  os.path.join(context["out"], "rnn_backward.svg"), detail="op",
                  backward=True, module=module, title=title)
    print(path)


def gradient_flow(context):
    """||dL/dh_t|| of a tanh RNN, an LSTM and a GRU on one plot, then the quick experiments
    of the lecture notes (vanishing, exploding, clipping, LSTM memory, leaky units, delays)."""
    heading("gradient flow through time")
    from tools import experiments
    from tools.cli import main as cli
    print("at PyTorch's default init (the gates that keep the state sit near 0.5):")
    cli(["gradflow", "--cells", "rnn,lstm,gru", "--steps", "100",
         "-o", os.path.join(context["out"], "gradflow.png")])
    print("with that gate's bias at 1 (LSTM forget gate, GRU update gate; Jozefowicz et al. "
          "2015):")
    cli(["gradflow", "--cells", "rnn,lstm,gru", "--steps", "100", "--keeping-gate-bias", "1",
         "-o", os.path.join(context["out"], "gradflow_open_gate.png")])
    print("the gated cells keep the gradient only when the gate that keeps the state is open; "
          "see experiment lstm_memory below for the same after training")
    experiments.run_quick(os.path.join(context["out"], "experiments"))


SECTIONS = [hello, charlm, loss_curve, pictures, gradient_flow]


def main(out=OUT):
    mg.backend.keep_freed_memory()
    os.makedirs(out, exist_ok=True)
    context = {"out": out}
    began = time.perf_counter()
    for section in SECTIONS:
        section(context)
    print(f"\ndone in {time.perf_counter() - began:.0f} s; files in {out}/")
    return context


if __name__ == "__main__":
    main()
