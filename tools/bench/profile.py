"""Where minigrad's LSTM step spends its time: cProfile, functions sorted by own time."""
import cProfile
import io
import pstats

from .problem import MinigradLM, make_problem


def profile_step(config, steps=3, top=15):
    """The top ``top`` functions by total own time over ``steps`` training steps."""
    model = MinigradLM(*make_problem(config))
    model.step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        model.step()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()
