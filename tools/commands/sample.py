"""``minigrad sample CKPT``: print text sampled from a trained char-LM checkpoint."""
from models.charlm import CharLM
from models.train import CheckpointError, load_model_state, read_checkpoint
from tools.cli import CommandError, non_negative_float, non_negative_int


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "sample", help="sample text from a char-LM checkpoint",
        description="Print a prefix and the characters a trained char-LM samples after it.")
    parser.add_argument("checkpoint", metavar="CKPT", help="checkpoint written by "
                                                           "`minigrad train charlm`")
    parser.add_argument("--prefix", default="", help="text to start from (default: none)")
    parser.add_argument("-n", type=non_negative_int, default=200,
                        help="characters to sample (default 200)")
    parser.add_argument("--temperature", type=non_negative_float, default=1.0,
                        help="softmax temperature; 0 picks the most likely character "
                             "(default 1)")
    parser.add_argument("--seed", type=non_negative_int, default=None,
                        help="random seed (default: a fresh one each run)")
    parser.set_defaults(run=run)


def load_charlm(path):
    """The CharLM stored in checkpoint ``path``; CommandError names the file otherwise."""
    try:
        arrays, config = read_checkpoint(path)
        if config.get("model") != "charlm":
            raise CheckpointError(f"checkpoint {path}: holds a {config.get('model')!r} model, "
                                  f"not a char-LM")
        try:
            model = CharLM.from_config(config)
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"checkpoint {path}: its char-LM config is invalid "
                                  f"({exc})") from None
        load_model_state(path, model, arrays)
    except CheckpointError as exc:
        raise CommandError(str(exc)) from None
    return model


def run(args):
    model = load_charlm(args.checkpoint)
    try:
        model.vocabulary.encode(args.prefix)
    except ValueError as exc:
        raise CommandError(f"--prefix: {exc} of checkpoint {args.checkpoint}") from None
    print(model.sample(args.prefix, args.n, args.temperature, args.seed))
    return 0
