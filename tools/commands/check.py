"""``minigrad check``: property-based checks of recurrent cells, as a table."""
from tools.cli import non_negative_int, positive_int


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "check", help="run property-based gradient checks on recurrent cells",
        description="Run hypothesis properties (gradients vs finite differences, causality, "
                    "VJP dot-product test, LSTM cell-state Jacobian closed form) on cells. "
                    "Exit status 1 when a property fails.")
    parser.add_argument("--cell", default="all",
                        help="a kind (rnn, lstm, gru, ...), 'all', a comma-separated list, or "
                             "module:ClassName for your own cell, built as Class(input_size, "
                             "hidden_size) (default: all)")
    parser.add_argument("--property", default="all",
                        help="comma-separated property names or 'all' (default: all)")
    parser.add_argument("--examples", type=positive_int, default=20,
                        help="hypothesis examples per property and cell (default: 20)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="hypothesis seed (default: 0)")
    parser.set_defaults(run=run)


def run(args):
    from tools.checks import runner
    from tools.checks.properties import PROPERTIES
    from tools.checks.strategies import resolve_cell
    from tools.cli import CommandError

    cells = list(runner.ALL_CELLS) if args.cell == "all" else [
        c.strip() for c in args.cell.split(",") if c.strip()]
    for name in cells:
        try:
            resolve_cell(name)
        except KeyError as exc:
            raise CommandError(f"--cell: {exc.args[0]}") from None
    names = list(PROPERTIES) if args.property == "all" else [
        p.strip() for p in args.property.split(",") if p.strip()]
    unknown = [n for n in names if n not in PROPERTIES]
    if unknown:
        raise CommandError(f"--property: unknown {', '.join(unknown)}; known: "
                           f"{', '.join(PROPERTIES)}")
    results = runner.run_properties(cells, args.examples, args.seed, names)
    print(runner.format_table(results))
    if "cell_state_jacobian" in names:
        from tools.jacobian import NOTE_ON_000
        print(f"\ncell_state_jacobian: dc_t/dc_(t-1) of the network as built; {NOTE_ON_000}")
    failures = runner.format_failures(results)
    if failures:
        print()
        print(failures)
        return 1
    print(f"\nall properties hold ({args.examples} examples each, seed {args.seed})")
    return 0
