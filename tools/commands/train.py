"""``minigrad train charlm|adding|copy ...``: train a model with (truncated) BPTT and write
an ``.npz`` checkpoint."""
import os
import tempfile

import numpy as np

import minigrad as mg
from models.charlm import CharLM, Vocabulary, stream_batch
from models.corpus import DataError, read_text, split_text, stdlib_docstrings
from models.hmm import TRAINING_SYMBOLS as HMM_TRAINING_CHARACTERS
from models.hmm import hmm_baseline
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
from models.registry import CELLS, canonical_cell_name
from models.train import (
    CheckpointError,
    Trainer,
    TrainingDiverged,
    read_checkpoint,
    read_progress,
)
from tools.cli import (
    CommandError,
    non_negative_float,
    non_negative_int,
    one_line_errors,
    open_fraction,
    positive_float,
    positive_int,
)


#: options that shape the model or the data stream, with their defaults per task: on
#: --resume they come from the checkpoint, and a different value given is an error
SHAPING = {
    "charlm": {"cell": "lstm", "hidden": 128, "layers": 1, "embedding": 32, "head_hidden": [],
               "batch": 32, "seq_len": 64, "optimizer": "adam"},
    "adding": {"cell": "lstm", "hidden": 64, "batch": 32, "length": 100, "optimizer": "adam"},
    "copy": {"cell": "lstm", "hidden": 64, "batch": 32, "length": 5, "delay": 10,
             "symbols": 8, "optimizer": "adam"},
    "seq2seq": {"cell": "lstm", "hidden": 64, "batch": 32, "task": "words", "max_digits": 5,
                "reverse_source": True, "optimizer": "adam"},
}
#: the model-config key of each shaping option (checkpoints older than the saved settings)
CONFIG_KEYS = {"cell": "cell", "hidden": "hidden_size", "layers": "num_layers",
               "embedding": "embedding_dim", "head_hidden": "head_hidden", "task": "kind",
               "reverse_source": "reverse_source"}


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "train", help="train a recurrent model with BPTT",
        description="Train a recurrent model with (truncated) backpropagation through time.")
    tasks = parser.add_subparsers(dest="task", metavar="TASK")
    tasks.required = True

    charlm = one_line_errors(tasks.add_parser(
        "charlm", help="character-level language model on a UTF-8 text file"))
    charlm.add_argument("--data", help="UTF-8 text file (default: Python standard-library "
                                       "docstrings)")
    _model_options(charlm, "charlm", lr=2e-3, steps=1000)
    charlm.add_argument("--layers", type=positive_int, default=None,
                        help="stacked layers (default 1)")
    charlm.add_argument("--embedding", type=non_negative_int, default=None,
                        help="embedding size; 0 feeds one-hot vectors (default 32)")
    charlm.add_argument("--head-hidden", type=positive_int, nargs="+", default=None,
                        metavar="N",
                        help="hidden layers of an MLP between h_t and the logits (002's deep "
                             "hidden-to-output; default: one linear layer)")
    charlm.add_argument("--seq-len", type=positive_int, default=None,
                        help="characters per step and stream (default 64)")
    charlm.add_argument("--tbptt", type=positive_int, default=None,
                        help="truncate BPTT every K steps (default: full BPTT over --seq-len; "
                             "the state is carried across steps either way)")
    charlm.add_argument("--val-fraction", type=open_fraction, default=0.1,
                        help="held-out tail of the text (default 0.1)")
    charlm.add_argument("--baseline", action="store_true",
                        help="also report Markov (n-gram) baselines' bits per char, orders 0-4 "
                             "(previous characters conditioned on)")
    charlm.add_argument("--hmm-states", type=positive_int, default=16,
                        help="hidden states of the HMM baseline (default 16)")
    charlm.set_defaults(run=run_charlm)

    adding = one_line_errors(tasks.add_parser(
        "adding", help="the adding problem (Hochreiter & Schmidhuber 1997)"))
    _model_options(adding, "adding", lr=1e-3, steps=2000)
    adding.add_argument("--length", type=positive_int, default=None,
                        help="sequence length T, at least 2 (default 100)")
    adding.set_defaults(run=run_adding)

    copy = one_line_errors(tasks.add_parser("copy", help="the copy task"))
    _model_options(copy, "copy", lr=2e-3, steps=2000)
    copy.add_argument("--length", type=positive_int, default=None,
                      help="symbols to copy (default 5)")
    copy.add_argument("--delay", type=non_negative_int, default=None,
                      help="blank steps before recall (default 10)")
    copy.add_argument("--symbols", type=positive_int, default=None,
                      help="alphabet size (default 8)")
    copy.add_argument("--tbptt", type=positive_int, default=None,
                      help="truncate BPTT every K steps (default: full BPTT)")
    copy.set_defaults(run=run_copy)

    seq2seq = one_line_errors(tasks.add_parser(
        "seq2seq", help="encoder-decoder on digit strings -> words, or reversal"))
    _model_options(seq2seq, "seq2seq", lr=5e-3, steps=1500)
    seq2seq.add_argument("--task", choices=("words", "reverse"), default=None,
                         help="'307' -> 'three zero seven' (words, the default) or '703' "
                              "(reverse)")
    seq2seq.add_argument("--max-digits", type=positive_int, default=None,
                         help="longest source string (default 5)")
    seq2seq.add_argument("--no-reverse-source", dest="reverse_source", action="store_const",
                         const=False, default=None,
                         help="feed the source in reading order (Sutskever et al. 2014 "
                              "reverse it)")
    seq2seq.set_defaults(run=run_seq2seq)


def _model_options(parser, task, lr, steps):
    defaults = SHAPING[task]
    parser.set_defaults(shaping=task)
    parser.add_argument("--cell", default=None,
                        help=f"recurrent cell: {', '.join(CELLS)} (default lstm)")
    parser.add_argument("--hidden", type=positive_int, default=None,
                        help=f"hidden units (default {defaults['hidden']})")
    parser.add_argument("--batch", type=positive_int, default=None,
                        help=f"batch size (default {defaults['batch']})")
    parser.add_argument("--steps", type=positive_int, default=steps,
                        help=f"train until this step count (default {steps})")
    parser.add_argument("--lr", type=positive_float, default=lr,
                        help=f"learning rate (default {lr})")
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default=None,
                        help="adam, or sgd with momentum 0.9 (default adam)")
    parser.add_argument("--clip", type=positive_float, default=None,
                        help="clip the global gradient norm to X")
    parser.add_argument("--clip-value", type=positive_float, default=None,
                        help="clip every gradient element to [-X, X]")
    parser.add_argument("--jacobian-penalty", type=non_negative_float, default=0.0,
                        help="weight of the Pascanu et al. (2013) regularizer, 001's Omega "
                             "on every unroll's states (default 0: off; turns compile off)")
    parser.add_argument("--minutes", type=positive_float, default=None,
                        help="stop after this much training time")
    parser.add_argument("--validate-every", type=positive_int, default=100,
                        help="measure the validation score every N steps and at the end "
                             "(default 100)")
    parser.add_argument("--save-every", type=positive_int, default=100,
                        help="write the checkpoint every N steps, at the end and on Ctrl-C "
                             "(default 100)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="random seed of the initial weights and the batches (default 0)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the checkpoint at --out; the options that shape "
                             "the model or the data (cell, sizes, batch, lengths, optimizer) "
                             "then default to the checkpoint's, and must not differ from them")
    parser.add_argument("--force", action="store_true",
                        help="overwrite an existing checkpoint at --out (without --resume)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--no-compile", dest="compile", action="store_false",
                        help="run every step eagerly instead of replaying a captured step "
                             "(minigrad.compile)")
    parser.add_argument("--out", required=True, metavar="CKPT", help="checkpoint file (.npz)")


def _check_out(args):
    """Refuse an --out that cannot be written, or that would overwrite a checkpoint by
    accident, before anything trains."""
    out = args.out
    folder = os.path.dirname(os.path.abspath(out))
    if os.path.isdir(out):
        raise CommandError(f"--out {out}: is a directory")
    if not os.path.exists(folder):
        raise CommandError(f"--out {out}: folder {folder} does not exist")
    if not os.path.isdir(folder):
        raise CommandError(f"--out {out}: {folder} is not a folder")
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".minigrad-write-test-")
        os.close(handle)
        os.remove(probe)
    except OSError as exc:
        raise CommandError(f"--out {out}: cannot write in folder {folder} "
                           f"({exc.strerror or exc})") from None
    if args.resume and not os.path.exists(out):
        raise CommandError(f"--resume: checkpoint {out}: no such file")
    if os.path.exists(out) and not args.resume and not args.force:
        raise CommandError(f"--out {out}: a checkpoint is already there; pass --resume to "
                           f"continue it or --force to overwrite it")


def _check_common(args):
    _check_out(args)
    if args.cell is not None and args.cell not in CELLS:
        raise CommandError(f"--cell: unknown cell {args.cell!r}; choose one of "
                           f"{', '.join(CELLS)}")


def _plain(value):
    if isinstance(value, (list, tuple)):
        return " ".join(map(str, value)) or "none"
    return value


def _show(option, value):
    if option == "reverse_source":
        return "source reversed" if value else "--no-reverse-source"
    return f"--{option.replace('_', '-')} {_plain(value)}"


def _settle(args, kind):
    """Fill in the shaping options: from the checkpoint on --resume (naming every option
    given with a different value), else from the task's defaults. Returns the checkpoint's
    model config, or None."""
    defaults = SHAPING[args.shaping]
    config = None
    if args.resume:
        try:
            arrays, config = read_checkpoint(args.out)
            settings = read_progress(args.out, arrays).get("settings") or {}
        except CheckpointError as exc:
            raise CommandError(str(exc)) from None
        if config.get("model") != kind:
            raise CommandError(f"checkpoint {args.out}: holds a {config.get('model')!r} model, "
                               f"not {kind!r}")
        saved = {option: settings.get(option) for option in defaults}
        for option, key in CONFIG_KEYS.items():
            if option in defaults and saved[option] is None and key in config:
                saved[option] = config[key]
        if saved.get("embedding", 0) is None:
            saved["embedding"] = 0
        if "cell" in saved:
            saved["cell"] = canonical_cell_name(saved["cell"])
        conflicts = [f"{_show(option, getattr(args, option))} (the checkpoint has "
                     f"{_plain(saved[option])})" for option in defaults
                     if getattr(args, option) is not None and saved[option] is not None
                     and getattr(args, option) != saved[option]]
        if conflicts:
            raise CommandError(f"--resume: checkpoint {args.out} was trained with other "
                               f"options: {'; '.join(conflicts)}; leave them out, or start "
                               f"anew with --force")
        for option, value in saved.items():
            if getattr(args, option) is None and value is not None:
                setattr(args, option, value)
    for option, value in defaults.items():
        if getattr(args, option) is None:
            setattr(args, option, value)
    return config


def _settings(args):
    return {option: getattr(args, option) for option in SHAPING[args.shaping]}


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
    except CheckpointError as exc:
        raise CommandError(f"checkpoint {args.out}: {exc}") from None
    print(f"trained {trainer.step} steps; checkpoint written to {args.out}")
    return trainer


def _trainer(args, model, batches, validate, tbptt=None, carry_state=False,
             validation_name="val"):
    return Trainer(model, batches, optimizer=args.optimizer, lr=args.lr, tbptt=tbptt,
                   carry_state=carry_state, clip_norm=args.clip, clip_value=args.clip_value,
                   jacobian_penalty=args.jacobian_penalty, validate=validate,
                   validate_every=args.validate_every, checkpoint=args.out,
                   checkpoint_every=args.save_every, progress=not args.quiet,
                   max_seconds=None if args.minutes is None else args.minutes * 60,
                   compile=args.compile, settings=_settings(args),
                   validation_name=validation_name)


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
    config = _settle(args, "charlm")
    text = load_text(args.data)
    source = args.data or "the standard-library docstrings"
    if len(text) < 20:
        raise CommandError(f"--data {source}: too short to split into training and "
                           f"validation text ({len(text)} characters)")
    train_text, val_text = split_text(text, args.val_fraction)
    mg.manual_seed(args.seed)
    if config:
        model = CharLM.from_config(config)
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
                       carry_state=True, validation_name="val bits/char")
    print(f"char-LM: {model.cell_name}, {model.num_layers} x {model.hidden_size} hidden, "
          f"vocabulary "
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
        hmm_bits, hmm, history = hmm_baseline(model.vocabulary.encode(train_text),
                                              model.vocabulary.encode(val_text),
                                              num_states=args.hmm_states, seed=args.seed)
        print(f"HMM baseline ({hmm.num_states} hidden states, {len(history)} Baum-Welch "
              f"iterations on {min(len(train_text), HMM_TRAINING_CHARACTERS)} training "
              f"characters): {hmm_bits:.4f}")
        print(f"validation bits/char: {model.cell_name} {bits:.4f} vs best Markov model, "
              f"{describe(order)}: {best:.4f} vs HMM: {hmm_bits:.4f}")
    print("sample: " + model.sample("", 200, temperature=0.8, seed=args.seed))
    return 0


# -- the adding problem ------------------------------------------------------------------
def run_adding(args):
    _check_common(args)
    config = _settle(args, "regressor")
    if args.length < 2:
        raise CommandError(f"--length: must be at least 2, got {args.length}")
    mg.manual_seed(args.seed)
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
    config = _settle(args, "charlm")
    mg.manual_seed(args.seed)
    if config:
        model = CharLM.from_config(config)
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
    config = _settle(args, "seq2seq")
    mg.manual_seed(args.seed)
    if config:
        model = TranslationModel.from_config(config)
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
