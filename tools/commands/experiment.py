"""``minigrad experiment NAME``: reproduce one claim of the lecture notes."""
from tools.cli import non_negative_int


def add_parser(subparsers):
    from tools.experiments import EXPERIMENTS
    listing = "; ".join(f"{name}: {claim}" for name, claim in EXPERIMENTS.items())
    parser = subparsers.add_parser(
        "experiment", help="reproduce a claim of the lecture notes (prints numbers, writes a "
                           "figure)", description=f"Experiments: {listing}.")
    parser.add_argument("name", help=f"one of {', '.join(EXPERIMENTS)}, 'quick' (the fast "
                                     f"ones) or 'all'")
    parser.add_argument("-o", "--output", default="out/experiments",
                        help="folder for the figures (default: out/experiments)")
    parser.add_argument("--quick", action="store_true",
                        help="shorter runs (the adding problem and seq2seq take minutes "
                             "without it)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default: 0)")
    parser.set_defaults(run=run)


def run(args):
    import os

    from tools import experiments
    from tools.cli import CommandError

    if args.name not in experiments.EXPERIMENTS and args.name not in ("quick", "all"):
        raise CommandError(f"unknown experiment {args.name!r}; choose one of "
                           f"{', '.join(experiments.EXPERIMENTS)}, quick, all")
    if os.path.exists(args.output) and not os.path.isdir(args.output):
        raise CommandError(f"--output {args.output!r} exists and is not a folder")
    if args.name == "quick":
        experiments.run_quick(args.output, seed=args.seed)
    elif args.name == "all":
        for name in experiments.EXPERIMENTS:
            print(f"\n== experiment {name}: {experiments.EXPERIMENTS[name]}")
            experiments.run(name, args.output, quick=args.quick, seed=args.seed)
    else:
        experiments.run(args.name, args.output, quick=args.quick, seed=args.seed)
    return 0
