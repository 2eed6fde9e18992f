"""``minigrad bench``: the benchmark suites of ``tools/bench`` (engine, LSTM, memory)."""
from tools.bench.runner import add_arguments, run


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "bench", help="time the engine, the LSTM training step and long-sequence memory",
        description="Time minigrad's engine overhead, its LSTM language-model training step "
                    "next to NumPy and PyTorch references, and the memory of long sequences.")
    add_arguments(parser)
    parser.set_defaults(run=run)
    return parser
