"""Input/output topologies around a recurrent core (000_*.txt, "Sequential input / output";
002_*.txt): many-to-many, many-to-one, one-to-many with generation."""
import numpy as np

import minigrad as mg
from minigrad.nn import Embedding, Linear, Module
from minigrad.random import generator

from .cell import unroll
from .head import output_head
from .sequence import run_sequence, run_step

CONDITIONING = ("initial", "input", "both", "first_input")


class ManyToMany(Module):
    """x_{1:T} -> z_{1:T}: an output head on every step, "z_t = W_z h_t" (000_*.txt,
    "Outputs"; the softmax of z_t is 002_*.txt's p(y_t = c) = z_{t,c}):

        h_t = core(h_{t-1}, x_t),      z_t = W_hz h_t + b_z

    ``core`` is a cell or a sequence wrapper (Bidirectional, Stacked, TCN).
    ``head_hidden=(n_1, ...)`` makes the hidden-to-output map an MLP, "depth can also be
    added in the hidden-to-output transform" (002_*.txt (c); :class:`models.DeepOutput`).
    ``model(xs, state=None) -> (logits (T, B, output_size), state)``; the head runs in scope
    ``head``.
    """

    def __init__(self, core, output_size, head_hidden=()):
        super().__init__()
        self.core, self.head = core, output_head(core.output_size, output_size, head_hidden)
        self.input_size, self.output_size = core.input_size, output_size

    def forward(self, xs, state=None):
        hs, state = run_sequence(self.core, xs, state)
        with mg.scope("head"):
            return self.head(hs), state


class ManyToOne(ManyToMany):
    """x_{1:T} -> z: "predict a single output at the end of the sequence" (002_*.txt):
    z = W_hz h_T + b_z, the head on the last step only (for a Bidirectional core that is
    [g_T ; h_T], the backward half having seen x_T alone).
    ``model(xs, state=None) -> (logits (B, output_size), state)``.
    """

    def forward(self, xs, state=None):
        hs, state = run_sequence(self.core, xs, state)
        with mg.scope("head"):
            return self.head(hs[hs.shape[0] - 1]), state


def choose_tokens(logits, temperature, rng):
    """argmax of each row of ``logits`` (B, V) (``temperature=None``), else one sample per row
    from softmax(logits / temperature)."""
    if temperature is None:
        return logits.argmax(axis=1)
    scaled = logits / temperature
    p = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return np.array([rng.choice(len(row), p=row) for row in p])


def feed_back(cell, embedding, head, state, first_tokens, max_length, eos_index=None,
              temperature=None, condition=None, rng=None):
    """Generate by feeding each sample back as the next input (002_*.txt, "Generative RNN":
    "that generated sample x_{t+1} is fed back as input for computing the next state").

        x_t = E[y_{t-1}] (joined with ``condition`` when given),   h_t = cell(x_t, h_{t-1}),
        y_t = argmax z_t (``temperature=None``) or y_t ~ softmax(z_t / temperature)

    Starts from ``first_tokens`` (B,), stops when every sequence has produced ``eos_index``
    or after ``max_length`` tokens. Returns an int64 array (L, B), L <= max_length; after its
    EOS a sequence is padded with EOS. Runs without recording a graph.
    """
    if max_length < 1:
        raise ValueError(f"generation: max_length must be >= 1, got {max_length}")
    if temperature is not None and temperature <= 0:
        raise ValueError(f"generation: temperature must be > 0, got {temperature}")
    rng = generator() if rng is None else rng
    tokens = np.asarray(first_tokens, dtype=np.int64).reshape(-1)
    finished = np.zeros(tokens.shape, dtype=bool)
    out = []
    with mg.no_grad():
        for t in range(max_length):
            with mg.scope(f"t={t}"):
                x = embedding(tokens)
                if condition is not None:
                    x = mg.concat([x, condition], axis=1)
                output, state = run_step(cell, x, state)
                with mg.scope("head"):
                    logits = head(output).numpy().astype(np.float64)
            tokens = choose_tokens(logits, temperature, rng)
            if eos_index is not None:
                tokens = np.where(finished, eos_index, tokens)
                finished |= tokens == eos_index
            out.append(tokens)
            if eos_index is not None and finished.all():
                break
    return np.stack(out)


class OneToMany(Module):
    """x -> y_{1:S} for a fixed-size conditioning vector v (image features, a code):
    "as an extra input at each time step, or as the initial state h_0, or both"
    (002_*.txt, "RNNs to represent conditional distributions P(y|x)"; Vinyals et al. 2014):

        initial: h_0 = tanh(W_v v + b_v) (one map per state tensor, e.g. h_0 and c_0)
        input:   x_t = [E y_{t-1} ; v]
        z_t = W_hz h_t + b_z,    P(y_t | v, y_{<t}) = softmax(z_t)

    ``"first_input"`` is the captioning form of 002_*.txt ("Generate image caption"; Vinyals
    et al. 2014, eq. 10-12): "the image I is only input once", as the input of one step
    before the first word, mapped into the word-embedding space, and that step's output
    is not scored:

        x_{-1} = W_v v + b_v,   h_{-1} = cell(x_{-1}, 0),   x_t = W_e S_t (t = 0..N-1),
        P_{t+1} = softmax(head(cell(x_t, h_{t-1})))

    The cell's input_size is the token embedding size (+ condition_size for "input"/"both").
    ``model(v, tokens) -> (logits (S, B, vocab), state)`` with teacher forcing: ``tokens``
    (S, B) are the inputs y_0 (a start token) .. y_{S-1}. ``model.generate(v, start_index,
    max_length, eos_index)`` feeds samples back (see :func:`feed_back`). ``head_hidden``: an
    MLP head as in :class:`ManyToMany`.
    """

    def __init__(self, cell, vocab_size, condition_size, conditioning="initial", head_hidden=()):
        super().__init__()
        if conditioning not in CONDITIONING:
            raise ValueError(f"OneToMany: conditioning must be one of {CONDITIONING}, got "
                             f"{conditioning!r}")
        self.conditioning = conditioning
        embedding_size = cell.input_size - (condition_size if self.condition_in_input else 0)
        if embedding_size <= 0:
            raise ValueError(f"OneToMany: the cell's input_size {cell.input_size} leaves no room "
                             f"for a token embedding next to the condition ({condition_size})")
        self.cell, self.condition_size = cell, condition_size
        self.embedding = Embedding(vocab_size, embedding_size)
        self.head = output_head(cell.output_size, vocab_size, head_hidden)
        if conditioning == "first_input":
            self.condition_to_input = Linear(condition_size, embedding_size)
        elif conditioning != "input":
            for name, size in zip(cell.state_names, cell.state_sizes()):
                setattr(self, f"condition_to_{name}", Linear(condition_size, size))

    @property
    def condition_in_input(self):
        """Whether v is concatenated to every step's input ("input", "both")."""
        return self.conditioning in ("input", "both")

    def _check(self, condition):
        if condition.ndim != 2 or condition.shape[1] != self.condition_size:
            raise ValueError(f"OneToMany: the condition must have shape (batch, "
                             f"{self.condition_size}), got {condition.shape}")

    def initial_state(self, condition):
        if self.conditioning == "input":
            return self.cell.initial_state(condition.shape[0], condition.dtype)
        if self.conditioning == "first_input":
            with mg.scope("condition"), mg.scope("t=-1"):
                return self.cell(self.condition_to_input(condition))
        with mg.scope("condition"):
            return tuple(getattr(self, f"condition_to_{name}")(condition).tanh()
                         for name in self.cell.state_names)

    def forward(self, condition, tokens):
        self._check(condition)
        xs = self.embedding(tokens)
        if self.condition_in_input:
            steps = xs.shape[0]
            repeated = condition.reshape(1, *condition.shape) * mg.Tensor(
                condition.xp.ones((steps, 1, 1), condition.dtype))
            xs = mg.concat([xs, repeated], axis=2)
        hs, state = unroll(self.cell, xs, self.initial_state(condition))
        with mg.scope("head"):
            return self.head(hs), state

    def generate(self, condition, start_index, max_length, eos_index=None, temperature=None,
                 rng=None):
        """Tokens (L, B) sampled (or argmax when ``temperature`` is None) until EOS or
        ``max_length``."""
        self._check(condition)
        with mg.no_grad():
            state = self.initial_state(condition)
        first = np.full(condition.shape[0], start_index, dtype=np.int64)
        extra = condition if self.condition_in_input else None
        return feed_back(self.cell, self.embedding, self.head, state, first, max_length,
                         eos_index, temperature, extra, rng)


class ConditionalManyToMany(Module):
    """x_{1:T} -> y_{1:T} with the past outputs fed back, 002_*.txt's dashed lines ("RNNs to
    represent conditional distributions P(y|x)"): without them (:class:`ManyToMany`) the
    y_t are independent given the inputs, P(y_t | y_{<t}, x_{<=t}) = P(y_t | x_{<=t}); "add
    the dash lines and the prediction of y_{t+1} is based on both the past x's and past y's":

        h_t = core([x_t ; E y_{t-1}], h_{t-1}),   y_0 = the start token,
        z_t = W_hz h_t + b_z,   P(y_1..y_T | x_1..x_T) = prod_t softmax(z_t)[y_t]

    ``core`` is a cell or a Stacked of cells whose input_size is ``input_size`` + the token
    embedding size. Training feeds the true y_{t-1} (teacher forcing, one unroll):
    ``model(xs, targets) -> (logits (T, B, vocab), state)``. ``model.generate(xs)`` feeds
    back its own argmax (or a sample at ``temperature``) and returns int64 tokens (T, B).
    ``head_hidden``: an MLP head as in :class:`ManyToMany`.
    """

    def __init__(self, core, vocab_size, input_size, start_index=0, head_hidden=()):
        super().__init__()
        embedding_size = core.input_size - input_size
        if embedding_size <= 0:
            raise ValueError(f"ConditionalManyToMany: the core's input_size {core.input_size} "
                             f"leaves no room for a token embedding next to x_t ({input_size})")
        if not 0 <= start_index < vocab_size:
            raise ValueError(f"ConditionalManyToMany: start_index {start_index} is not a token "
                             f"of the vocabulary of {vocab_size}")
        self.core, self.input_size, self.start_index = core, input_size, start_index
        self.embedding = Embedding(vocab_size, embedding_size)
        self.head = output_head(core.output_size, vocab_size, head_hidden)

    def _check(self, xs, targets=None):
        if xs.ndim != 3 or xs.shape[2] != self.input_size:
            raise ValueError(f"ConditionalManyToMany: xs must have shape (T, batch, "
                             f"{self.input_size}), got {xs.shape}")
        if targets is not None and tuple(targets.shape) != tuple(xs.shape[:2]):
            raise ValueError(f"ConditionalManyToMany: targets must have shape (T, batch) = "
                             f"{tuple(xs.shape[:2])} to match xs, got {tuple(targets.shape)}")

    def forward(self, xs, targets):
        targets = np.asarray(targets, dtype=np.int64)
        self._check(xs, targets)
        start = np.full((1, targets.shape[1]), self.start_index, dtype=np.int64)
        previous = self.embedding(np.concatenate([start, targets[:-1]], axis=0))
        with mg.scope("feedback"):
            inputs = mg.concat([xs, previous], axis=2)
        hs, state = run_sequence(self.core, inputs)
        with mg.scope("head"):
            return self.head(hs), state

    def generate(self, xs, temperature=None, rng=None):
        """y_t = argmax z_t (or y_t ~ softmax(z_t / temperature)), fed back as y_{t-1} of the
        next step; no graph is recorded."""
        self._check(xs)
        if temperature is not None and temperature <= 0:
            raise ValueError(f"generation: temperature must be > 0, got {temperature}")
        rng = generator() if rng is None else rng
        tokens = np.full(xs.shape[1], self.start_index, dtype=np.int64)
        state, out = None, []
        with mg.no_grad():
            for t in range(xs.shape[0]):
                with mg.scope(f"t={t}"):
                    x = mg.concat([xs[t], self.embedding(tokens)], axis=1)
                    output, state = run_step(self.core, x, state)
                    with mg.scope("head"):
                        logits = self.head(output).numpy().astype(np.float64)
                tokens = choose_tokens(logits, temperature, rng)
                out.append(tokens)
        return np.stack(out)
