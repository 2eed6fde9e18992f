"""Synthetic tasks: "hello", the adding problem, the copy task, and string translation.

Each generator is deterministic given its ``rng`` and returns time-major arrays (axis 0 is
time), the layout :class:`models.train.Trainer` expects.
"""
import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad.nn import Linear, Module

from .registry import canonical_cell_name, make_cell

HELLO = "hello"
HELLO_VOCABULARY = ("h", "e", "l", "o")


def hello_batch():
    """The 003_*.txt example: inputs "hell", targets "ello", over the vocabulary [h, e, l, o];
    indices of shape (4, 1)."""
    data = np.array([HELLO_VOCABULARY.index(c) for c in HELLO], dtype=np.int64)
    return data[:-1].reshape(-1, 1), data[1:].reshape(-1, 1)


# -- the adding problem ------------------------------------------------------------------
def adding_problem(batch, length, rng):
    """Hochreiter & Schmidhuber (1997), experiment 4, in the form of Le et al. (2015): each
    step carries a value in U(0, 1) and a marker; exactly two steps are marked, one in
    each half of the sequence, and the target is the sum of their two values.

    Returns inputs (length, batch, 2) float32 and targets (batch, 1). Always predicting 1
    gives a mean squared error of Var(u1 + u2) = 1/6 ~ 0.167."""
    if length < 2:
        raise ValueError(f"adding_problem: length must be at least 2, got {length}")
    values = rng.uniform(0, 1, size=(length, batch)).astype(np.float32)
    markers = np.zeros((length, batch), dtype=np.float32)
    half = length // 2
    first = rng.integers(0, half, size=batch)
    second = rng.integers(half, length, size=batch)
    columns = np.arange(batch)
    markers[first, columns] = 1
    markers[second, columns] = 1
    targets = (values[first, columns] + values[second, columns]).reshape(batch, 1)
    return np.stack([values, markers], axis=-1), targets.astype(np.float32)


class SequenceRegressor(Module):
    """Many-to-one: a cell reads the whole sequence, y = W h_T + b."""

    def __init__(self, cell="lstm", input_size=2, hidden_size=64, output_size=1):
        super().__init__()
        self.cell_name, self.input_size = cell, input_size
        self.hidden_size, self.output_size = hidden_size, output_size
        self.cell = make_cell(cell, input_size, hidden_size)
        self.head = Linear(hidden_size, output_size)

    def config(self):
        return {"model": "regressor", "cell": self.cell_name, "input_size": self.input_size,
                "hidden_size": self.hidden_size, "output_size": self.output_size}

    @classmethod
    def from_config(cls, config):
        return cls(canonical_cell_name(config["cell"]), config["input_size"], config["hidden_size"],
                   config["output_size"])

    def forward(self, inputs, state=None):
        from .cell import unroll
        xs = mg.Tensor(np.asarray(inputs, dtype=self.head.weight.dtype))
        if state is None:
            state = self.cell.initial_state(xs.shape[1], xs.dtype)
        hs, state = unroll(self.cell, xs, state)
        with mg.scope("head"):
            return self.head(hs[-1]), state

    def loss(self, inputs, targets, state=None):
        prediction, state = self(inputs, state)
        return F.mse_loss(prediction, np.asarray(targets, dtype=prediction.dtype)), state


# -- the copy task -----------------------------------------------------------------------
COPY_BLANK, COPY_DELIMITER = "-", ":"


def copy_vocabulary(symbols=8):
    """Data symbols a, b, c, ..., then the blank and the delimiter."""
    return [chr(ord("a") + i) for i in range(symbols)] + [COPY_BLANK, COPY_DELIMITER]


def copy_task(batch, length, delay, rng, symbols=8):
    """The copy task (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016): read ``length``
    random symbols, wait ``delay`` blank steps, see the delimiter, then write the symbols
    back. Inputs and targets are indices (length + delay + length, batch) over
    :func:`copy_vocabulary`; the targets are blank until the recall starts.

    Predicting blanks and then uniform symbols scores length log(symbols) / T nats."""
    blank, delimiter = symbols, symbols + 1
    total = 2 * length + delay
    data = rng.integers(0, symbols, size=(length, batch))
    inputs = np.full((total, batch), blank, dtype=np.int64)
    targets = np.full((total, batch), blank, dtype=np.int64)
    inputs[:length] = data
    inputs[length + delay - 1] = delimiter
    targets[length + delay:] = data
    return inputs, targets


def copy_accuracy(model, inputs, targets, length):
    """Fraction of the recalled symbols (the last ``length`` steps) predicted exactly."""
    with mg.no_grad():
        logits, _ = model(inputs)
    predicted = logits.numpy()[-length:].argmax(axis=-1)
    return float((predicted == targets[-length:]).mean())


# -- a translation-like task: digits to words, or reversal ------------------------------
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def digits_to_words(digits):
    """"307" -> "three zero seven"."""
    return " ".join(DIGIT_WORDS[int(d)] for d in digits)


def translation_pairs(count, rng, min_digits=1, max_digits=5, kind="words"):
    """``count`` (source, target) string pairs: random digit strings and their spelled-out
    words (``kind="words"``) or the strings reversed (``kind="reverse"``)."""
    if kind not in ("words", "reverse"):
        raise ValueError(f"translation_pairs: kind must be 'words' or 'reverse', got {kind!r}")
    pairs = []
    for _ in range(count):
        n = int(rng.integers(min_digits, max_digits + 1))
        source = "".join(str(d) for d in rng.integers(0, 10, size=n))
        pairs.append((source, digits_to_words(source) if kind == "words" else source[::-1]))
    return pairs


BOS, EOS = "^", "$"
SOURCE_SYMBOLS = tuple("0123456789")


def target_symbols(kind):
    """BOS, EOS, then what the targets of ``kind`` are written with."""
    body = sorted(set(" ".join(DIGIT_WORDS))) if kind == "words" else list(SOURCE_SYMBOLS)
    return [BOS, EOS] + body


def translation_batch(batch, rng, kind="words", min_digits=1, max_digits=5):
    """Source indices (S, batch) of one random length S, and target indices (T', batch):
    each target followed by EOS and padded with EOS to the longest."""
    length = int(rng.integers(min_digits, max_digits + 1))
    pairs = translation_pairs(batch, rng, length, length, kind)
    symbols = target_symbols(kind)
    longest = max(len(target) for _, target in pairs) + 1
    source = np.array([[int(d) for d in s] for s, _ in pairs], dtype=np.int64).T
    target = np.full((longest, batch), symbols.index(EOS), dtype=np.int64)
    for column, (_, text) in enumerate(pairs):
        target[:len(text), column] = [symbols.index(c) for c in text]
    return source, target


class TranslationModel(Module):
    """:class:`models.Seq2Seq` (two cells of one kind) on digit strings, with what the
    trainer and checkpoints need: ``loss`` and ``config``."""

    def __init__(self, cell="lstm", hidden_size=64, embedding_dim=16, kind="words",
                 reverse_source=True):
        super().__init__()
        from .seq2seq import Seq2Seq
        self.cell_name, self.hidden_size, self.embedding_dim = cell, hidden_size, embedding_dim
        self.kind, self.reverse_source = kind, reverse_source
        self.symbols = target_symbols(kind)
        self.seq2seq = Seq2Seq(make_cell(cell, embedding_dim, hidden_size),
                               make_cell(cell, embedding_dim, hidden_size),
                               len(SOURCE_SYMBOLS), len(self.symbols),
                               reverse_source=reverse_source,
                               bos_index=self.symbols.index(BOS),
                               eos_index=self.symbols.index(EOS))

    def config(self):
        return {"model": "seq2seq", "cell": self.cell_name, "hidden_size": self.hidden_size,
                "embedding_dim": self.embedding_dim, "kind": self.kind,
                "reverse_source": self.reverse_source}

    @classmethod
    def from_config(cls, config):
        return cls(canonical_cell_name(config["cell"]), config["hidden_size"],
                   config["embedding_dim"], config["kind"], config["reverse_source"])

    def loss(self, inputs, targets, state=None):
        logits = self.seq2seq(inputs, targets)
        return F.cross_entropy(logits, np.asarray(targets)), None

    def translate(self, digits):
        """Greedy decoding of one digit string."""
        if not isinstance(digits, str) or not digits or not all(c in "0123456789"
                                                               for c in digits):
            raise ValueError(f"translate: digits must be a non-empty string of the digits "
                             f"0-9, got {digits!r}")
        source = np.array([[int(d)] for d in digits], dtype=np.int64)
        tokens = np.asarray(self.seq2seq.greedy_decode(source, 8 * len(digits) + 2))
        out = []
        for token in tokens.reshape(-1):
            if self.symbols[int(token)] == EOS:
                break
            out.append(self.symbols[int(token)])
        return "".join(out)


def translation_accuracy(model, pairs):
    """Fraction of ``pairs`` translated exactly by greedy decoding."""
    return float(np.mean([model.translate(source) == target for source, target in pairs]))
