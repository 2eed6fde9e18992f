"""``minigrad gradflow``: plot ||dL/dh_t|| against t for several cells on the same axes."""
from tools.cli import finite_float, non_negative_float, non_negative_int, positive_float, positive_int


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "gradflow", help="plot per-step gradient norms ||dL/dh_t|| for several cells",
        description="Unroll each cell over the same random inputs, backpropagate "
                    "L = sum(h_T) (or sum_t sum(h_t)) and plot ||dL/dh_t|| on a log axis.")
    parser.add_argument("--cells", default="rnn,lstm,gru",
                        help="comma-separated cell kinds (default: rnn,lstm,gru); any kind "
                             "of 'minigrad check'")
    parser.add_argument("--steps", type=positive_int, default=100,
                        help="sequence length T (100)")
    parser.add_argument("--hidden", type=positive_int, default=32, help="hidden size (32)")
    parser.add_argument("--inputs", type=positive_int, default=4, help="input size (4)")
    parser.add_argument("--batch", type=positive_int, default=4, help="batch size (4)")
    parser.add_argument("--input-std", type=non_negative_float, default=1.0,
                        help="standard deviation of the random inputs (1.0)")
    parser.add_argument("--spectral-radius", type=positive_float, default=None,
                        help="scale every recurrent block to this spectral radius first")
    parser.add_argument("--keeping-gate-bias", type=finite_float, default=None, metavar="B",
                        help="set the bias of the gate that keeps the state (LSTM forget "
                             "gate, GRU update gate) to B first; 1 is the recommended init "
                             "(Jozefowicz et al. 2015); cells without such a gate are left "
                             "as they are")
    parser.add_argument("--loss", choices=("last", "all"), default="last",
                        help="L = sum(h_T) ('last', default) or sum over all steps ('all')")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (0)")
    parser.add_argument("-o", "--output", required=True, help="figure file, .png or .svg")
    parser.set_defaults(run=run)


def run(args):
    import numpy as np

    import minigrad as mg
    from tools import gradflow
    from tools.checks.strategies import resolve_cell
    from tools.cli import CommandError

    if not args.output.lower().endswith((".png", ".svg")):
        raise CommandError(f"-o {args.output!r}: the figure file must end in .png or .svg")
    names = [c.strip() for c in args.cells.split(",") if c.strip()]
    if not names:
        raise CommandError("--cells: give at least one cell kind")
    constructors = {}
    for name in names:
        try:
            constructors[name] = resolve_cell(name)
        except KeyError as exc:
            raise CommandError(f"--cells: {exc.args[0]}") from None
    xs = np.random.default_rng(args.seed).standard_normal(
        (args.steps, args.batch, args.inputs)) * args.input_std
    curves = {}
    print(f"{'cell':<22} {'rho(W_hh)':>10} {'||dL/dh_T||':>12} {'||dL/dh_1||':>12} "
          f"{'log10 ratio':>12}")
    for name, constructor in constructors.items():
        mg.manual_seed(args.seed)
        cell = gradflow.cast(constructor(args.inputs, args.hidden))
        if args.spectral_radius is not None:
            gradflow.scale_spectral_radius(cell, args.spectral_radius)
        if args.keeping_gate_bias is not None and set(
                getattr(cell, "gate_names", ())) & set(gradflow.KEEPING_GATES):
            gradflow.set_keeping_gate_bias(cell, args.keeping_gate_bias)
        norms = gradflow.hidden_gradient_norms(cell, xs, loss=args.loss)
        curves[name] = norms
        ratio = np.log10(norms[0] / norms[-1]) if norms[0] > 0 else -np.inf
        print(f"{name:<22} {gradflow.spectral_radius(cell):>10.4g} {norms[-1]:>12.4g} "
              f"{norms[0]:>12.4g} {ratio:>12.3f}")
    title = f"||dL/dh_t||, T={args.steps}, H={args.hidden}" + (
        f", spectral radius {args.spectral_radius:g}" if args.spectral_radius else "") + (
        f", keeping-gate bias {args.keeping_gate_bias:g}"
        if args.keeping_gate_bias is not None else "")
    path = gradflow.plot_gradient_flow(curves, args.output, title=title)
    print(f"wrote {path}")
    return 0
