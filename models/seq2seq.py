"""Sequence to sequence: an encoder RNN reads the source, a decoder RNN writes the target
(Sutskever, Vinyals & Le 2014; 001_*.txt "Machine Translation", 002_*.txt)."""
import numpy as np

import minigrad as mg
from minigrad.nn import Embedding, Linear, Module
from minigrad.random import generator

from .sequence import batch_size, run_sequence, run_step, state_layout
from .topology import feed_back


class Seq2Seq(Module):
    """Model p(y_1..y_T' | x_1..x_T) = prod_t p(y_t | v, y_1..y_{t-1}), v the encoder's last
    state (002_*.txt, "Sequence-to-sequence language translation"):

        v = encoder(x_T, ..., x_1)          (source reversed when ``reverse_source``)
        s_0 = v,   s_t = decoder(E y_{t-1}, s_{t-1}),   y_0 = BOS
        p(y_t | ...) = softmax(W s_t + b)

    "It is valuable to reverse the order of the words of the input sequence" (Sutskever et
    al. 2014), so ``reverse_source`` defaults to True. Encoder and decoder states must have
    the same shapes (e.g. two LSTMCells with one hidden size). Either may be a cell or a
    :class:`models.Stacked` of cells: "use two layers of LSTMs (one LSTM stacked on top of
    another)" (002_*.txt, video to text; 000_*.txt's figure); layer l of the decoder then
    starts from layer l's final state in the encoder, v = (v^0, ..., v^{L-1}).

    ``source``: int tokens (S, B) when ``source_vocab_size`` is given, else vectors
    (S, B, encoder.input_size) (e.g. video frame features). ``target``: int tokens (T', B).
    ``model(source, target, teacher_forcing=1.0) -> logits (T', B, target_vocab_size)``:
    step t is fed the true y_{t-1} with probability ``teacher_forcing`` and the model's own
    argmax otherwise (1.0: always the truth, one unroll; below 1 the choices are made in
    Python, so :func:`minigrad.compile` refuses to capture it). ``model.greedy_decode(source,
    max_length)`` -> int64 tokens (L, B), stopping at EOS. Scopes: ``encoder/...``,
    ``decoder/...``.
    """

    def __init__(self, encoder_cell, decoder_cell, source_vocab_size, target_vocab_size,
                 reverse_source=True, bos_index=0, eos_index=1):
        super().__init__()
        layouts = []
        for role, core in (("encoder", encoder_cell), ("decoder", decoder_cell)):
            try:
                layouts.append(state_layout(core))
            except ValueError as exc:
                raise ValueError(f"Seq2Seq: the {role}: {exc}") from None
        if layouts[0] != layouts[1]:
            raise ValueError(f"Seq2Seq: the decoder ({type(decoder_cell).__name__}, state sizes "
                             f"{layouts[1]}) must start from the encoder's final state "
                             f"({type(encoder_cell).__name__}, state sizes {layouts[0]})")
        self.encoder, self.decoder = encoder_cell, decoder_cell
        self.reverse_source, self.bos_index, self.eos_index = reverse_source, bos_index, eos_index
        self.source_embedding = (Embedding(source_vocab_size, encoder_cell.input_size)
                                 if source_vocab_size else None)
        self.target_embedding = Embedding(target_vocab_size, decoder_cell.input_size)
        self.head = Linear(decoder_cell.output_size, target_vocab_size)

    def encode(self, source):
        """The encoder's final state v."""
        with mg.scope("encoder"):
            xs = self.source_embedding(source) if self.source_embedding is not None else source
            if self.reverse_source:
                with mg.scope("reverse"):
                    xs = xs[::-1]
            _, state = run_sequence(self.encoder, xs)
        return state

    def _tokens(self, target):
        data = target.data if isinstance(target, mg.Tensor) else target
        data = np.asarray(data if isinstance(data, np.ndarray) else mg.Tensor(data).numpy())
        if data.ndim != 2 or data.shape[0] == 0 or data.dtype.kind not in "iu":
            raise ValueError(f"Seq2Seq: target must be int tokens of shape (T' >= 1, batch), "
                             f"got {data.shape} {data.dtype}")
        return data.astype(np.int64, copy=False)

    def forward(self, source, target, teacher_forcing=1.0, rng=None):
        if teacher_forcing < 1 and mg.is_compiling():
            raise mg.CompileError(
                f"Seq2Seq: teacher_forcing={teacher_forcing} < 1 picks each step's input "
                f"in Python (a random draw, then the argmax of the previous logits), which "
                f"a compiled step would replay frozen; train it eagerly "
                f"(Trainer(compile=False), --no-compile) or with teacher_forcing=1")
        target = self._tokens(target)
        state = self.encode(source)
        if batch_size(state) != target.shape[1]:
            raise ValueError(f"Seq2Seq: source batch {batch_size(state)} and target batch "
                             f"{target.shape[1]} differ")
        steps, batch = target.shape
        bos = np.full((1, batch), self.bos_index, dtype=np.int64)
        # joined by an op, so that a compiled step reads the targets of each call
        inputs = mg.concat([mg.Tensor(bos), mg.Tensor(target[:-1])], axis=0)
        with mg.scope("decoder"):
            if teacher_forcing >= 1:
                hs, _ = run_sequence(self.decoder, self.target_embedding(inputs), state)
                with mg.scope("head"):
                    return self.head(hs)
            rng = generator() if rng is None else rng
            logits, previous = [], None
            for t in range(steps):
                tokens = inputs[t]
                if previous is not None and rng.random() >= teacher_forcing:
                    tokens = previous.numpy().argmax(axis=1)
                with mg.scope(f"t={t}"):
                    output, state = run_step(self.decoder, self.target_embedding(tokens), state)
                    with mg.scope("head"):
                        previous = self.head(output)
                logits.append(previous)
            return mg.stack(logits)

    def greedy_decode(self, source, max_length):
        """argmax y_t at every step, fed back, from BOS until EOS or ``max_length``."""
        with mg.no_grad():
            state = self.encode(source)
            with mg.scope("decoder"):
                first = np.full(batch_size(state), self.bos_index, dtype=np.int64)
                return feed_back(self.decoder, self.target_embedding, self.head, state, first,
                                 max_length, self.eos_index)
