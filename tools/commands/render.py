"""``minigrad render``: draw an example network of one cell, unrolled or folded."""
import warnings

from tools.cli import CommandError, positive_int


def add_parser(subparsers):
    from tools.render import DETAILS, FORMATS, VIEWS, examples
    parser = subparsers.add_parser(
        "render", help="draw the unrolled (or folded) graph of a cell to SVG/PNG/PDF/DOT",
        description="Draw the computational graph of a small network of one cell.")
    parser.add_argument("--cell", required=True,
                        help=f"one of: {', '.join(examples.available())}")
    parser.add_argument("--steps", type=positive_int, default=3,
                        help="time steps to unroll (default 3)")
    parser.add_argument("--view", default="unrolled",
                        help=f"{' or '.join(VIEWS)} (default unrolled)")
    parser.add_argument("--detail", default="cell",
                        help=f"{' or '.join(DETAILS)}: one box per cell step, or every op "
                             f"(default cell)")
    parser.add_argument("--backward", action="store_true",
                        help="shade edges by the gradient norm flowing back along them")
    parser.add_argument("--format", default=None,
                        help=f"{', '.join(FORMATS)} (default: from the file name, else svg)")
    parser.add_argument("--max-nodes", type=positive_int, default=None,
                        help="past this many nodes, op detail falls back to cell detail "
                             "(default: render's MAX_NODES)")
    parser.add_argument("-o", "--output", required=True, help="file to write")
    parser.set_defaults(run=run)


def _check(option, value, valid):
    if value not in valid:
        raise CommandError(f"{option} {value!r} is not one of: {', '.join(valid)}")


def run(args):
    from tools.render import DETAILS, FORMATS, MAX_NODES, VIEWS, RenderError, examples, render
    _check("--cell", args.cell, examples.available())
    _check("--view", args.view, VIEWS)
    _check("--detail", args.detail, DETAILS)
    fmt = args.format
    if fmt is None:
        suffix = args.output.rsplit(".", 1)[-1].lower() if "." in args.output else ""
        fmt = suffix if suffix in FORMATS else "svg"
    _check("--format", fmt, FORMATS)
    module, outputs, title = examples.build(args.cell, args.steps, args.view)
    if args.backward:
        outputs = examples.last_step_loss(outputs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            path = render(outputs, args.output, format=fmt, view=args.view, detail=args.detail,
                          backward=args.backward, module=module, title=title,
                          max_nodes=MAX_NODES if args.max_nodes is None
                          else args.max_nodes)
        except (RenderError, OSError) as exc:
            raise CommandError(str(exc)) from None
    for warning in caught:
        print(f"minigrad render: warning: {warning.message}")
    print(f"wrote {path}")
