"""The ``minigrad`` command line. Each subcommand lives in its own module under
``tools/commands/`` and exposes ``add_parser(subparsers)`` and ``run(args)``."""
import argparse
import importlib
import math
import sys

import minigrad

COMMANDS = ("train", "sample", "render", "gradflow", "check", "experiment", "bench")


class CommandError(Exception):
    """A bad option, file or checkpoint: printed as one line, exit status 2."""


# -- typed option values: argparse reports a bad one as "argument --x: ..." ------------------
def _typed(kind, expected, accept):
    """An argparse ``type=``: ``kind(text)``, finite and passing ``accept``, or an error
    "expected <expected>, got '<text>'"."""
    def parse(text):
        try:
            value = kind(text)
        except (TypeError, ValueError):
            value = None
        if value is None or (kind is float and not math.isfinite(value)) or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value
    return parse


positive_int = _typed(int, "a positive integer", lambda v: v >= 1)
non_negative_int = _typed(int, "a non-negative integer", lambda v: v >= 0)   # seeds, counts
positive_float = _typed(float, "a positive number", lambda v: v > 0)
non_negative_float = _typed(float, "a non-negative number", lambda v: v >= 0)
finite_float = _typed(float, "a finite number", lambda v: True)
open_fraction = _typed(float, "a number between 0 and 1 (both excluded)", lambda v: 0 < v < 1)


def one_line_errors(parser):
    """Make ``parser`` report a bad option as one line (no usage block), exit status 2."""
    def error(message):
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)
    parser.error = error
    return parser


def _available():
    for name in COMMANDS:
        try:
            yield name, importlib.import_module(f"tools.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"tools.commands.{name}":
                raise


def build_parser():
    parser = argparse.ArgumentParser(
        prog="minigrad", description="Recurrent networks on a from-scratch autodiff engine.")
    parser.add_argument("--version", action="version", version=f"minigrad {minigrad.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in _available():
        module.add_parser(subparsers)
    for command in subparsers.choices.values():
        one_line_errors(command)
    return parser


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:   # a bad option (one line printed), --help or --version
        return exc.code
    if args.command is None:
        parser.print_help()
        return 0
    minigrad.backend.keep_freed_memory()
    try:
        return args.run(args) or 0
    except CommandError as exc:
        print(f"minigrad {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"minigrad {args.command}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"minigrad {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    # the module imported by name, so that its CommandError is the one the commands raise
    from tools.cli import main as cli_main
    sys.exit(cli_main())
