"""Character-level language model: x_t -> cell(s) -> softmax over the vocabulary.

003_*.txt ("Example: Character-level Language Model", vocabulary [h, e, l, o]): each
character of the training text is the input at one step and the target of the step before,

    h_t = cell(E x_t, h_{t-1}),   p(x_{t+1} | x_1..x_t) = softmax(W_hy h_t + b_y),

trained on L = -sum_t log p(x_{t+1} | x_1..x_t); at test time characters are sampled one at
a time and fed back. Bits per character is L / (T ln 2).
"""
import math

import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad.nn import Embedding, Module

from .head import output_head
from .registry import canonical_cell_name, make_cell
from .stacked import Stacked


class Vocabulary:
    """The symbols a model reads and writes, each with an integer index."""

    def __init__(self, symbols):
        symbols = list(symbols)
        if not symbols:
            raise ValueError("Vocabulary: no symbols")
        if len(set(symbols)) != len(symbols):
            raise ValueError("Vocabulary: symbols must be unique")
        self.symbols = symbols
        self.index = {s: i for i, s in enumerate(symbols)}

    @classmethod
    def from_text(cls, text):
        """Every distinct character of ``text``, sorted by code point."""
        return cls(sorted(set(text)))

    def __len__(self):
        return len(self.symbols)

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self.symbols == other.symbols

    def __repr__(self):
        return f"Vocabulary({''.join(self.symbols)!r})"

    def encode(self, text):
        """Indices of the characters of ``text`` (int64 array)."""
        try:
            return np.fromiter((self.index[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as exc:
            position = next(i for i, c in enumerate(text) if c not in self.index)
            raise ValueError(f"character {exc.args[0]!r} at position {position} is not in the "
                             f"vocabulary of {len(self)} symbols") from None

    def decode(self, indices):
        return "".join(self.symbols[int(i)] for i in np.asarray(indices).reshape(-1))


class CharLM(Module):
    """Embedding (or one-hot) input, ``num_layers`` cells in a :class:`models.Stacked`, a
    linear softmax output.

    ``embedding_dim=None`` feeds one-hot vectors, as in the [h, e, l, o] example.
    ``head_hidden=(n_1, ...)`` puts an MLP between h_t and the logits (002_*.txt (c), deep
    hidden-to-output; :class:`models.DeepOutput`).
    """

    def __init__(self, vocabulary, cell="lstm", hidden_size=64, num_layers=1,
                 embedding_dim=None, head_hidden=()):
        super().__init__()
        if not isinstance(vocabulary, Vocabulary):
            vocabulary = Vocabulary(vocabulary)
        for option, value in (("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"CharLM: {option} must be a positive integer, got {value!r}")
        if embedding_dim is not None and embedding_dim <= 0:
            raise ValueError(f"CharLM: embedding_dim must be positive or None, "
                             f"got {embedding_dim!r}")
        self.vocabulary = vocabulary
        self.cell_name, self.hidden_size = cell, int(hidden_size)
        self.num_layers, self.embedding_dim = int(num_layers), embedding_dim
        size = len(vocabulary)
        if embedding_dim is not None:
            self.embedding = Embedding(size, embedding_dim)
            size = embedding_dim
        cells = []
        for _ in range(self.num_layers):
            cells.append(make_cell(cell, size, hidden_size))
            size = hidden_size
        self.rnn = Stacked(cells)
        self.layers = self.rnn.layers
        self.head_hidden = tuple(int(n) for n in head_hidden or ())
        self.head = output_head(hidden_size, len(vocabulary), self.head_hidden)

    # -- configuration (what a checkpoint stores besides the weights) -------------------
    def config(self):
        return {"model": "charlm", "vocabulary": self.vocabulary.symbols, "cell": self.cell_name,
                "hidden_size": self.hidden_size, "num_layers": self.num_layers,
                "embedding_dim": self.embedding_dim, "head_hidden": list(self.head_hidden)}

    @classmethod
    def from_config(cls, config):
        return cls(Vocabulary(config["vocabulary"]), cell=canonical_cell_name(config["cell"]),
                   hidden_size=config["hidden_size"], num_layers=config["num_layers"],
                   embedding_dim=config["embedding_dim"],
                   head_hidden=config.get("head_hidden", ()))

    # -- forward -------------------------------------------------------------------------
    def embed(self, indices):
        """(T, B) integer indices -> (T, B, D) inputs."""
        if self.embedding_dim is None:
            return F.one_hot(mg.Tensor(np.asarray(indices)), len(self.vocabulary),
                             dtype=self.dtype)
        return self.embedding(np.asarray(indices))

    def _check_indices(self, indices):
        size = len(self.vocabulary)
        if indices.dtype.kind not in "iu":
            raise ValueError(f"CharLM: indices must be integers in [0, {size}) (positions in "
                             f"the vocabulary), got {indices.dtype} values of shape "
                             f"{indices.shape}")
        mg.check_values(_indices_in_vocabulary, indices, size=size)

    def initial_state(self, batch):
        return [cell.initial_state(batch, self.dtype) for cell in self.layers]

    @property
    def dtype(self):
        """The parameters' dtype: what the inputs and the initial state are made in."""
        return next(self.head.parameters()).dtype

    def forward(self, indices, state=None):
        """Logits (T, B, V) for indices (T, B), and the final state (one tuple per layer)."""
        indices = np.asarray(indices)
        if indices.ndim != 2:
            raise ValueError(f"CharLM: indices must have shape (T, batch), got {indices.shape}")
        self._check_indices(indices)
        state = self.initial_state(indices.shape[1]) if state is None else list(state)
        x, final = self.rnn(self.embed(indices), state)
        with mg.scope("head"):
            return self.head(x), final

    def loss(self, inputs, targets, state=None):
        """Mean cross-entropy (nats per character) and the final state."""
        logits, state = self(inputs, state)
        return F.cross_entropy(logits, np.asarray(targets)), state

    # -- evaluation and sampling ---------------------------------------------------------
    def bits_per_char(self, text, batch=32, seq_len=128):
        """Average -log2 p(x_{t+1} | x_1..x_t) over ``text``, read as up to ``batch``
        contiguous streams of at least ``seq_len`` characters (the state carried along each
        one)."""
        data = self.vocabulary.encode(text)
        if len(data) < 2:
            raise ValueError("bits_per_char: the text needs at least 2 characters")
        batch = max(1, min(batch, (len(data) - 1) // seq_len))
        length = (len(data) - 1) // batch
        inputs = data[:batch * length].reshape(batch, length).T
        targets = data[1:batch * length + 1].reshape(batch, length).T
        total, state = 0.0, None
        with mg.no_grad():
            for start in range(0, length, seq_len):
                logits, state = self(inputs[start:start + seq_len], state)
                nats = F.cross_entropy(logits, targets[start:start + seq_len], reduction="sum")
                total += nats.item()
        return total / (batch * length * math.log(2))

    def sample(self, prefix="", n=100, temperature=1.0, seed=None):
        """``prefix`` followed by ``n`` characters drawn one at a time from
        softmax(logits / temperature) and fed back; ``temperature=0`` takes the most likely
        character each time. An empty prefix starts from a newline (or the first symbol)."""
        if not isinstance(temperature, (int, float, np.integer, np.floating)) \
                or not math.isfinite(temperature) or temperature < 0:
            raise ValueError(f"sample: temperature must be a finite number >= 0 (0: the most "
                             f"likely character), got {temperature!r}")
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"sample: n (characters to draw) must be an integer >= 0, "
                             f"got {n!r}")
        rng = np.random.default_rng(seed)
        start = prefix or ("\n" if "\n" in self.vocabulary.index else self.vocabulary.symbols[0])
        indices = self.vocabulary.encode(start)
        out = []
        with mg.no_grad():
            logits, state = self(indices.reshape(-1, 1))
            for _ in range(n):
                last = logits.numpy()[-1, 0].astype(np.float64)
                if temperature == 0:
                    choice = int(np.argmax(last))
                else:
                    scaled = last / temperature
                    p = np.exp(scaled - scaled.max())
                    choice = int(rng.choice(len(p), p=p / p.sum()))
                out.append(choice)
                logits, state = self(np.array([[choice]]), state)
        return prefix + self.vocabulary.decode(out)


def stream_batch(data, step, batch, seq_len):
    """Inputs and next-character targets (seq_len, batch) for training step ``step``: the
    data is read as ``batch`` contiguous streams, each step taking the next ``seq_len``
    characters of every stream (so a carried state continues where it left off)."""
    length = (len(data) - 1) // batch
    if length < seq_len:
        raise ValueError(f"the training text ({len(data)} characters) is too short for "
                         f"batch {batch} x seq-len {seq_len}")
    chunks = length // seq_len
    start = (step % chunks) * seq_len
    rows = np.arange(batch)[:, None] * length + start + np.arange(seq_len)[None, :]
    return data[rows].T, data[rows + 1].T


def _indices_in_vocabulary(indices, size):
    """CharLM's indices lie in the vocabulary (run at every compiled replay too)."""
    if indices.size and (indices.min() < 0 or indices.max() >= size):
        raise ValueError(f"CharLM: indices must be integers in [0, {size}) (positions in "
                         f"the vocabulary), got values from {indices.min()} to "
                         f"{indices.max()}")
