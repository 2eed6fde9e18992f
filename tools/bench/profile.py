"""Where minigrad's LSTM step spends its time: cProfile, functions sorted by own time."""
import cProfile
import linecache
import os
import pstats

from .problem import MinigradLM, make_problem


def _where(filename, line, name):
    """``file:line name``, with the source line for lambdas (ops.py's VJPs are lambdas)."""
    if filename == "~":
        return name
    place = f"{os.path.relpath(filename) if filename.startswith(os.getcwd()) else filename}" \
            f":{line} {name}"
    if name == "<lambda>":
        place += "  " + linecache.getline(filename, line).strip()[:70]
    return place


def profile_step(config, steps=3, top=15):
    """A table of the ``top`` functions by own time over ``steps`` training steps."""
    model = MinigradLM(*make_problem(config))
    model.step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        model.step()
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = sum(entry[2] for entry in stats.values())
    rows = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    lines = [f"{steps} steps, {total:.3f} s of own time in all (profiled)",
             f"{'calls':>8} {'own s':>8} {'own %':>6} {'cum s':>8}  function"]
    for (filename, line, name), (_, calls, own, cumulative, _) in rows:
        lines.append(f"{calls:>8} {own:>8.3f} {100 * own / total:>6.1f} {cumulative:>8.3f}  "
                     f"{_where(filename, line, name)}")
    return "\n".join(lines)
