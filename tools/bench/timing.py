"""Timing that is fair between systems: interleaved runs and their medians."""
import gc
import statistics
import time


def time_call(fn, inner=1):
    """Seconds per call of ``fn``, timed over ``inner`` consecutive calls."""
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) / inner


def interleaved(systems, repeats, warmup=1, inner=None, min_sample_s=0.02):
    """Time each of ``systems`` (name -> callable) ``repeats`` times, as A B C A B C ...

    Returns name -> list of seconds per call. Interleaving spreads slow drifts of the
    machine (frequency, other processes) evenly over the systems being compared. Each
    sample times ``inner`` consecutive calls; by default as many as fill ``min_sample_s``
    (judged from the last warm-up call), so that fast calls are not lost in timer noise.
    Garbage is collected before each round, and the collector stays on while timing (the
    cyclic garbage a system leaves is part of its cost).
    """
    counts = {}
    for name, fn in systems.items():
        seconds = 0.0
        for _ in range(warmup):
            seconds = time_call(fn)
        counts[name] = inner or max(1, min(1000, int(min_sample_s / max(seconds, 1e-9))))
    times = {name: [] for name in systems}
    for _ in range(repeats):
        gc.collect()
        for name, fn in systems.items():
            times[name].append(time_call(fn, counts[name]))
    return times


def summary(seconds):
    """Median, minimum and spread (interquartile range / median) of a list of times."""
    ordered = sorted(seconds)
    median = statistics.median(ordered)
    if len(ordered) >= 4:
        q1, _, q3 = statistics.quantiles(ordered, n=4)
        spread = (q3 - q1) / median if median else 0.0
    else:
        spread = (ordered[-1] - ordered[0]) / median if median else 0.0
    return {"median_s": median, "min_s": ordered[0], "iqr_rel": spread, "runs": len(ordered)}
