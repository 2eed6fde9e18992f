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
def _number(kind, text, name):
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected {name}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {name}, got {text!r}")
    return value


def positive_int(text):
    """An integer >= 1."""
    value = _number(int, text, "a positive integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def non_negative_int(text):
    """An integer >= 0 (seeds, counts that may be zero)."""
    value = _number(int, text, "a non-negative integer")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def positive_float(text):
    """A finite number > 0."""
    value = _number(float, text, "a positive number")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def non_negative_float(text):
    """A finite number >= 0."""
    value = _number(float, text, "a non-negative number")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}")
    return value


def open_fraction(text):
    """A number strictly between 0 and 1."""
    value = _number(float, text, "a number between 0 and 1")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1 (both "
                                         f"excluded), got {text!r}")
    return value


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
