"""``minigrad train charlm|adding|copy ...``: train a model with (truncated) BPTT and write
an ``.npz`` checkpoint."""
import math
import os
import sys

import numpy as np

import minigrad as mg
from models.charlm import CharLM, Vocabulary, cell_types, stream_batch
from models.corpus import DataError, read_text, split_text, stdlib_docstrings
from models.ngram import best_baseline, describe
from models.tasks import (
    SequenceRegressor,
    TranslationModel,
    adding_problem,
    copy_accuracy,
    copy_task,
    copy_vocabulary,
    translation_accuracy,
    translation_batch,
    translation_pairs,
)
from models.train import CheckpointError, Trainer, TrainingDiverged, read_checkpoint
from tools.cli import CommandError


def one_line_errors(parser):
    """Make ``parser`` report a bad option as one line (no usage block), exit status 2."""
    def error(message):
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)
    parser.error = error
    return parser


def add_parser(subparsers):
    parser = one_line_errors(subparsers.add_parser(
        "train", help="train a recurrent model with BPTT",
        description="Train a recurrent model with (truncated) backpropagation through time."))
    tasks = parser.add_subparsers(dest="task", metavar="TASK")
    tasks.required = True

    charlm = one_line_errors(tasks.add_parser(
        "charlm", help="character-level language model on a UTF-8 text file"))
    charlm.add_argument("--data", help="UTF-8 text file (default: Python standard-library "
                                       "docstrings)")
    _model_options(charlm, hidden=128, lr=2e-3, steps=1000, batch=32)
    charlm.add_argument("--layers", type=int, default=1, help="stacked layers (default 1)")
    charlm.add_argument("--embedding", type=int, default=32,
                        help="embedding size; 0 feeds one-hot vectors (default 32)")
    charlm.add_argument("--head-hidden", type=int, nargs="+", default=[], metavar="N",
                        help="hidden layers of an MLP between h_t and the logits (002's deep "
                             "hidden-to-output; default: one linear layer)")
    charlm.add_argument("--seq-len", type=int, default=64, help="characters per step and "
                        "stream (default 64)")
    charlm.add_argument("--tbptt", type=int, default=None, help="truncate BPTT every K steps "
                        "(default: full BPTT over --seq-len; the state is carried across "
                        "steps either way)")
    charlm.add_argument("--val-fraction", type=float, default=0.1,
                        help="held-out tail of the text (default 0.1)")
    charlm.add_argument("--baseline", action="store_true",
                        help="also report Markov (n-gram) baselines' bits per char, orders 0-4 "
                             "(previous characters conditioned on)")
    charlm.set_defaults(run=run_charlm)

    adding = one_line_errors(tasks.add_parser(
        "adding", help="the adding problem (Hochreiter & Schmidhuber 1997)"))
    _model_options(adding, hidden=64, lr=1e-3, steps=2000, batch=32)
    adding.add_argument("--length", type=int, default=100, help="sequence length T "
                                                                "(default 100)")
    adding.set_defaults(run=run_adding)

    copy = one_line_errors(tasks.add_parser("copy", help="the copy task"))
    _model_options(copy, hidden=64, lr=2e-3, steps=2000, batch=32)
    copy.add_argument("--length", type=int, default=5, help="symbols to copy (default 5)")
    copy.add_argument("--delay", type=int, default=10, help="blank steps before recall "
                                                            "(default 10)")
    copy.add_argument("--symbols", type=int, default=8, help="alphabet size (default 8)")
    copy.add_argument("--tbptt", type=int, default=None, help="truncate BPTT every K steps")
    copy.set_defaults(run=run_copy)

    seq2seq = one_line_errors(tasks.add_parser(
        "seq2seq", help="encoder-decoder on digit strings -> words, or reversal"))
    _model_options(seq2seq, hidden=64, lr=5e-3, steps=1500, batch=32)
    seq2seq.add_argument("--task", choices=("words", "reverse"), default="words",
                         help="'307' -> 'three zero seven' (words) or '703' (reverse)")
    seq2seq.add_argument("--max-digits", type=int, default=5,
                         help="longest source string (default 5)")
    seq2seq.add_argument("--no-reverse-source", dest="reverse_source", action="store_false",
                         help="feed the source in reading order (Sutskever et al. 2014 "
                              "reverse it)")
    seq2seq.set_defaults(run=run_seq2seq)


def _model_options(parser, hidden, lr, steps, batch):
    parser.add_argument("--cell", default="lstm",
                        help=f"recurrent cell: {', '.join(sorted(cell_types()))} (default lstm)")
    parser.add_argument("--hidden", type=int, default=hidden,
                        help=f"hidden units (default {hidden})")
    parser.add_argument("--batch", type=int, default=batch, help=f"batch size (default {batch})")
    parser.add_argument("--steps", type=int, default=steps,
                        help=f"training steps (default {steps})")
    parser.add_argument("--lr", type=float, default=lr, help=f"learning rate (default {lr})")
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    parser.add_argument("--clip", type=float, default=None,
                        help="clip the global gradient norm to X")
    parser.add_argument("--clip-value", type=float, default=None,
                        help="clip every gradient element to [-X, X]")
    parser.add_argument("--jacobian-penalty", type=float, default=0.0,
                        help="weight of the Pascanu et al. (2013) regularizer (default 0)")
    parser.add_argument("--minutes", type=float, default=None,
                        help="stop after this much training time")
    parser.add_argument("--validate-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true",
                        help="continue from the checkpoint at --out")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--no-compile", dest="compile", action="store_false",
                        help="run every step eagerly instead of replaying a captured step "
                             "(minigrad.compile)")
    parser.add_argument("--out", required=True, metavar="CKPT", help="checkpoint file (.npz)")


def _check(args, *names, positive=True, allow_none=False):
    for name in names:
        value = getattr(args, name)
        if value is None and allow_none:
            continue
        if value is None or not math.isfinite(value) or not (value > 0 if positive
                                                             else value >= 0):
            bound = "positive" if positive else "non-negative"
            raise CommandError(f"--{name.replace('_', '-')}: must be {bound}, got {value}")


def _check_common(args):
    _check(args, "hidden", "batch", "steps", "lr", "validate_every")
    _check(args, "clip", "clip_value", "minutes", allow_none=True)
    _check(args, "jacobian_penalty", positive=False)
    if args.cell not in cell_types():
        raise CommandError(f"--cell: unknown cell {args.cell!r}; choose one of "
                           f"{', '.join(sorted(cell_types()))}")
    if getattr(args, "tbptt", None) is not None:
        _check(args, "tbptt")
    folder = os.path.dirname(os.path.abspath(args.out))
    if os.path.isdir(args.out):
        raise CommandError(f"--out {args.out}: is a directory")
    if os.path.exists(folder) and not os.access(folder, os.W_OK):
        raise CommandError(f"--out {args.out}: folder is not writable")
    if args.resume and not os.path.exists(args.out):
        raise CommandError(f"--resume: checkpoint {args.out}: no such file")


def _resume_config(args, kind):
    try:
        _, config = read_checkpoint(args.out)
    except CheckpointError as exc:
        raise CommandError(str(exc)) from None
    if config.get("model") != kind:
        raise CommandError(f"checkpoint {args.out}: holds a {config.get('model')!r} model, "
                           f"not {kind!r}")
    return config


def _fit(args, trainer):
    if args.resume:
        try:
            trainer.resume(args.out)
        except CheckpointError as exc:
            raise CommandError(str(exc)) from None
        print(f"resumed from {args.out} at step {trainer.step}")
    try:
        trainer.fit(args.steps)
    except TrainingDiverged as exc:
        kept = (f"; the last checkpoint {args.out} is unchanged" if os.path.exists(args.out)
                else "; no checkpoint was written")
        raise CommandError(f"{exc}{kept}") from None
    print(f"trained {trainer.step} steps; checkpoint written to {args.out}")
    return trainer


def _trainer(args, model, batches, validate, tbptt=None, carry_state=False):
    return Trainer(model, batches, optimizer=args.optimizer, lr=args.lr, tbptt=tbptt,
                   carry_state=carry_state, clip_norm=args.clip, clip_value=args.clip_value,
                   jacobian_penalty=args.jacobian_penalty, validate=validate,
                   validate_every=args.validate_every, checkpoint=args.out,
                   checkpoint_every=args.validate_every, progress=not args.quiet,
                   max_seconds=None if args.minutes is None else args.minutes * 60,
                   compile=args.compile)


# -- charlm ------------------------------------------------------------------------------
def load_text(path):
    if path is None:
        return stdlib_docstrings()
    try:
        return read_text(path)
    except DataError as exc:
        raise CommandError(f"--data: {exc}") from None


def run_charlm(args):
    _check_common(args)
    _check(args, "layers", "seq_len")
    _check(args, "embedding", positive=False)
    if any(n <= 0 for n in args.head_hidden):
        raise CommandError(f"--head-hidden: sizes must be positive, got {args.head_hidden}")
    if not 0 < args.val_fraction < 1:
        raise CommandError(f"--val-fraction: must lie in (0, 1), got {args.val_fraction}")
    text = load_text(args.data)
    source = args.data or "the standard-library docstrings"
    if len(text) < 20:
        raise CommandError(f"--data {source}: too short to split into training and "
                           f"validation text ({len(text)} characters)")
    train_text, val_text = split_text(text, args.val_fraction)
    mg.manual_seed(args.seed)
    if args.resume:
        model = CharLM.from_config(_resume_config(args, "charlm"))
    else:
        model = CharLM(Vocabulary.from_text(text), args.cell, args.hidden, args.layers,
                       args.embedding or None, args.head_hidden)
    try:
        data = model.vocabulary.encode(train_text)
        model.vocabulary.encode(val_text)
    except ValueError as exc:
        raise CommandError(f"--data {source}: {exc} of checkpoint {args.out}") from None
    batch, seq_len = args.batch, args.seq_len
    if (len(data) - 1) // batch < seq_len:
        raise CommandError(f"--seq-len/--batch: the training text ({len(data)} characters) "
                           f"is too short for {batch} streams of {seq_len} characters")
    val_sample = val_text[:20000]
    trainer = _trainer(args, model, lambda step: stream_batch(data, step, batch, seq_len),
                       lambda m: m.bits_per_char(val_sample), tbptt=args.tbptt,
                       carry_state=True)
    print(f"char-LM: {args.cell}, {args.layers} x {args.hidden} hidden, vocabulary "
          f"{len(model.vocabulary)}, {len(train_text)} training / {len(val_text)} validation "
          f"characters of {source}")
    _fit(args, trainer)
    bits = model.bits_per_char(val_text)
    print(f"validation bits/char: {bits:.4f}")
    if args.baseline:
        results, (order, best) = best_baseline(train_text, val_text,
                                               vocabulary=model.vocabulary.symbols)
        print("Markov (n-gram) baseline, order = previous characters conditioned on: "
              + ", ".join(f"{describe(m)}: {b:.4f}" for m, b in results))
        print(f"validation bits/char: {model.cell_name} {bits:.4f} vs best Markov model, "
              f"{describe(order)}: {best:.4f}")
    print("sample: " + model.sample("", 200, temperature=0.8, seed=args.seed))
    return 0


# -- the adding problem ------------------------------------------------------------------
def run_adding(args):
    _check_common(args)
    if args.length < 2:
        raise CommandError(f"--length: must be at least 2, got {args.length}")
    mg.manual_seed(args.seed)
    config = _resume_config(args, "regressor") if args.resume else None
    model = (SequenceRegressor.from_config(config) if config
             else SequenceRegressor(args.cell, 2, args.hidden, 1))
    val_inputs, val_targets = adding_problem(1000, args.length, np.random.default_rng(10 ** 6))

    def batches(step):
        return adding_problem(args.batch, args.length,
                              np.random.default_rng([args.seed, step]))

    def validate(m):
        with mg.no_grad():
            return m.loss(val_inputs, val_targets)[0].item()

    trainer = _trainer(args, model, batches, validate)
    print(f"adding problem, T = {args.length}: {args.cell}, {args.hidden} hidden")
    _fit(args, trainer)
    print(f"validation MSE: {trainer.history['val'][-1]:.4f} (always predicting 1 scores "
          f"{np.mean((val_targets - 1) ** 2):.4f})")
    return 0


# -- the copy task -----------------------------------------------------------------------
def run_copy(args):
    _check_common(args)
    _check(args, "length", "symbols")
    _check(args, "delay", positive=False)
    mg.manual_seed(args.seed)
    if args.resume:
        model = CharLM.from_config(_resume_config(args, "charlm"))
    else:
        model = CharLM(Vocabulary(copy_vocabulary(args.symbols)), args.cell, args.hidden)
    if len(model.vocabulary) != args.symbols + 2:
        raise CommandError(f"--symbols: the checkpoint {args.out} was trained with "
                           f"{len(model.vocabulary) - 2} symbols, not {args.symbols}")
    val_inputs, val_targets = copy_task(500, args.length, args.delay,
                                        np.random.default_rng(10 ** 6), args.symbols)

    def batches(step):
        return copy_task(args.batch, args.length, args.delay,
                         np.random.default_rng([args.seed, step]), args.symbols)

    trainer = _trainer(args, model, batches,
                       lambda m: copy_accuracy(m, val_inputs, val_targets, args.length),
                       tbptt=args.tbptt)
    print(f"copy task: {args.length} symbols of {args.symbols}, delay {args.delay}: "
          f"{args.cell}, {args.hidden} hidden")
    _fit(args, trainer)
    print(f"validation accuracy on the recalled symbols: {trainer.history['val'][-1]:.4f} "
          f"(chance {1 / args.symbols:.4f})")
    return 0


# -- sequence to sequence ----------------------------------------------------------------
def run_seq2seq(args):
    _check_common(args)
    _check(args, "max_digits")
    if args.jacobian_penalty:
        raise CommandError("--jacobian-penalty: not available for seq2seq")
    mg.manual_seed(args.seed)
    if args.resume:
        model = TranslationModel.from_config(_resume_config(args, "seq2seq"))
    else:
        model = TranslationModel(args.cell, args.hidden, 16, args.task, args.reverse_source)
    val_pairs = translation_pairs(200, np.random.default_rng(10 ** 6), 1, args.max_digits,
                                  model.kind)

    def batches(step):
        return translation_batch(args.batch, np.random.default_rng([args.seed, step]),
                                 model.kind, 1, args.max_digits)

    trainer = _trainer(args, model, batches, lambda m: translation_accuracy(m, val_pairs))
    print(f"seq2seq: digit strings -> {model.kind}, up to {args.max_digits} digits, "
          f"{args.cell} {args.hidden} hidden, source "
          f"{'reversed' if model.reverse_source else 'in reading order'}")
    _fit(args, trainer)
    print(f"validation exact-match accuracy: {trainer.history['val'][-1]:.3f}")
    for source, target in val_pairs[:3]:
        print(f"  {source} -> {model.translate(source)!r} (expected {target!r})")
    return 0
