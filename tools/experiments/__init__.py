"""One module per claim of the lecture notes; each prints its numbers and writes a figure.

    minigrad experiment vanishing -o out/          # or: tools.experiments.run("vanishing", "out")
"""
import importlib
import time

EXPERIMENTS = {
    "vanishing": "(1) vanilla RNN: gradient vanishes geometrically for spectral radius < 1",
    "exploding": "(2) vanilla RNN: gradient explodes geometrically for spectral radius > 1",
    "clipping": "(3) gradient clipping keeps training stable where it diverges",
    "lstm_memory": "(4) the LSTM keeps the gradient over 100+ steps with its forget gate open "
                   "and after training on the adding problem",
    "leaky": "(5) leaky units: larger tau, slower decay",
    "time_delay": "(6) time delay D: decay ~ lambda^(T/D)",
    "adding": "(7) adding problem, T=100 (--quick: T=30), 3 seeds: LSTM solves it, a tanh RNN "
              "does not",
    "seq2seq_reversal": "(8) seq2seq with a reversed source learns faster",
    "regularizer": "(9) the Pascanu et al. regularizer keeps ||dL/dh_t|| flatter",
    "sentence_pca": "(10) seq2seq sentence vectors (PCA): word order moves them more than voice",
    "lag_gradient": "(11) dL/dW_hh by time lag: a tanh RNN learns from short lags only",
    "deep_transition": "(12) deep transition: a shortcut keeps the gradient; stacked skip "
                       "connections shorten depth, not time",
}
"""Name -> the claim it reproduces, in the lecture's order."""

QUICK = ("vanishing", "exploding", "lstm_memory", "leaky", "time_delay", "clipping",
         "lag_gradient", "deep_transition")
"""Experiments that take seconds; :func:`run_quick` runs them (``make demo``)."""


def module(name):
    if name not in EXPERIMENTS:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    return importlib.import_module(f"{__name__}.{name}")


def run(name, output_dir, quick=False, seed=0, log=print):
    """Run one experiment; returns its numbers (and the figure's path under "figure")."""
    return module(name).run(output_dir, quick=quick, seed=seed, log=log)


def run_quick(output_dir, seed=0, log=print, names=QUICK):
    """Run the quick experiments into ``output_dir``; {name: results}."""
    results = {}
    for name in names:
        began = time.perf_counter()
        log(f"\n== experiment {name}: {EXPERIMENTS[name]}")
        results[name] = run(name, output_dir, quick=True, seed=seed, log=log)
        log(f"({time.perf_counter() - began:.1f} s)")
    return results
