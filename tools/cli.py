"""The ``minigrad`` command line. Each subcommand lives in its own module under
``tools/commands/`` and exposes ``add_parser(subparsers)`` and ``run(args)``."""
import argparse
import importlib
import sys

import minigrad

COMMANDS = ("train", "sample", "render", "gradflow", "check", "experiment", "bench")


class CommandError(Exception):
    """A bad option, file or checkpoint: printed as one line, exit status 2."""


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
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    minigrad.backend.keep_freed_memory()
    try:
        return args.run(args) or 0
    except CommandError as exc:
        print(f"minigrad {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"minigrad {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
