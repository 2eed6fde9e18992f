"""The benchmark's options and the order in which it runs its suites.

``python -m tools.bench`` and ``minigrad bench`` share :func:`add_arguments` and :func:`run`.
"""
import argparse
import os
import platform
import subprocess
import sys

import numpy as np

import minigrad
from tools.cli import CommandError

from . import engine, lstm, matmul, memory, report, torch_lstm
from .configs import CONFIGS, PUBLIC_CONFIGS
from .threads import blas_threads, set_blas_threads

SUITES = ("engine", "lstm", "memory")


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_arguments(parser):
    parser.add_argument("--config", choices=PUBLIC_CONFIGS + ("all",), default="all",
                        help="LSTM configuration(s) to time (default: all)")
    parser.add_argument("--suite", choices=SUITES + ("all",), default="all",
                        help="which suite to run (default: all)")
    parser.add_argument("--repeats", type=_positive, default=None,
                        help="timed runs per system (default: 20 small, 7 medium, 5 large; "
                             "7 for the engine suite)")
    parser.add_argument("--json", metavar="FILE", default=None,
                        help="also write the JSON lines to FILE")
    parser.add_argument("--long-steps", type=_positive, default=None,
                        help="T of the long-sequence run of the memory suite (default 100000; "
                             "10000 with --config small)")
    parser.add_argument("--threads", type=_positive, default=None,
                        help="threads of NumPy's BLAS and of torch (default: BLAS's own "
                             "setting, usually one per CPU)")
    parser.add_argument("--no-torch", action="store_true",
                        help="leave the PyTorch references out even when torch imports")
    parser.add_argument("--profile", action="store_true",
                        help="instead of the suites, print cProfile's top 15 functions of "
                             "minigrad's LSTM step for each chosen config")
    return parser


def _git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False,
                              capture_output=True, text=True, timeout=5,
                              cwd=os.path.dirname(__file__)).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def machine(peak):
    """What the figures depend on: versions, threads, load, the matmul peak."""
    torch_version = torch_lstm.version()
    return {"suite": "machine", "python": platform.python_version(), "numpy": np.__version__,
            "minigrad": minigrad.__version__, "commit": _git_commit(), "torch": torch_version,
            "cpus": os.cpu_count(), "blas_threads": blas_threads(),
            "load_average_1min": os.getloadavg()[0], "peak_gflops_float32_2048": peak}


def _emit(results, show, collected):
    print(show(results), flush=True)
    print(report.json_lines(results), flush=True)
    print(flush=True)
    collected.extend(results)


def run(args):
    if args.json:
        directory = os.path.dirname(os.path.abspath(args.json))
        if not os.path.isdir(directory):
            raise CommandError(f"--json {args.json}: directory {directory} does not exist")
    if args.threads and not set_blas_threads(args.threads):
        raise CommandError(f"--threads {args.threads}: could not reach OpenBLAS to set its "
                           f"thread count; set OPENBLAS_NUM_THREADS={args.threads} instead")
    minigrad.backend.keep_freed_memory()   # for every system measured in this process
    configs = [CONFIGS[name] for name in (PUBLIC_CONFIGS if args.config == "all"
                                          else (args.config,))]
    if args.profile:
        from .profile import profile_step
        for config in configs:
            print(f"== cProfile of minigrad's {config.name} LSTM step, by own time ==")
            print(profile_step(config))
        return 0
    suites = SUITES if args.suite == "all" else (args.suite,)
    collected = []
    peak = matmul.peak_gflops()
    header = machine(peak)
    _emit([header], lambda r: (
        f"minigrad {header['minigrad']} ({header['commit']}), numpy {header['numpy']}, "
        f"torch {header['torch'] or 'not importable'}, {header['blas_threads']} BLAS "
        f"threads, float32 matmul peak {peak:.1f} GFLOP/s"), collected)
    if header["load_average_1min"] > 0.5 * header["cpus"]:
        print(f"warning: load average {header['load_average_1min']:.2f} on "
              f"{header['cpus']} CPUs; other processes compete for the CPU, so trust the "
              f"ratios of interleaved runs more than absolute times (and try --threads 1)",
              file=sys.stderr)
    if "engine" in suites:
        print("== engine overhead per op (forward+backward) ==")
        _emit(engine.run(repeats=args.repeats or 7), report.engine_table, collected)
    if "lstm" in suites:
        print("== LSTM LM training step (float32) ==")
        for config in configs:
            results = lstm.run(config, args.repeats, with_torch=not args.no_torch, peak=peak)
            _emit(results, report.lstm_table, collected)
    if "memory" in suites:
        print("== memory: plain BPTT vs recompute checkpointing ==")
        long_steps = args.long_steps or (10_000 if args.config == "small" else 100_000)
        _emit([memory.compare(2000), memory.long_sequence(long_steps)], report.memory_table,
              collected)
    if args.json:
        report.write_atomic(args.json, report.json_lines(collected) + "\n")
    return 0


def main(argv=None):
    parser = add_arguments(argparse.ArgumentParser(
        prog="python -m tools.bench", description=__doc__.splitlines()[0]))
    args = parser.parse_args(argv)
    try:
        return run(args)
    except CommandError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
