"""Small networks of every kind, built to be drawn (by ``minigrad render`` and the gallery).

Each example is a function ``(steps) -> (module, outputs, title)``; an example whose model is
not in :mod:`models` (yet) is listed as unavailable instead of failing on import.
"""
import numpy as np

import minigrad as mg
import models

INPUT_SIZE, HIDDEN_SIZE, BATCH = 3, 4, 1

#: example name -> the models class it needs (a cell's example has its registry name,
#: :data:`models.CELLS`)
CLASSES = {
    "rnn": "RNNCell", "lstm": "LSTMCell", "gru": "GRUCell", "peephole_lstm": "PeepholeLSTMCell",
    "coupled_lstm": "CoupledLSTMCell", "leaky_rnn": "LeakyRNNCell", "jordan_rnn": "JordanRNNCell",
    "bidirectional": "Bidirectional", "stacked": "Stacked", "tcn": "TCN", "seq2seq": "Seq2Seq",
    "many-to-one": "ManyToOne", "one-to-many": "OneToMany",
}
NAMES = tuple(CLASSES)


def available():
    """The example names whose model class exists in :mod:`models`."""
    return tuple(name for name in NAMES if hasattr(models, CLASSES[name]))


def _sequence(steps, size=INPUT_SIZE):
    rng = np.random.default_rng(0)
    return mg.tensor(rng.standard_normal((steps, BATCH, size)), dtype="float32")


def _cell(name):
    return getattr(models, CLASSES[name])(INPUT_SIZE, HIDDEN_SIZE)


def _unrolled(name, steps, view):
    cell = _cell(name)
    hs, _ = models.unroll(cell, _sequence(steps))
    if view == "folded":
        return cell, hs, f"{type(cell).__name__}, folded: one step, a delay on each state"
    return cell, hs, f"{type(cell).__name__}, unrolled over {steps} time steps"


def _bidirectional(steps):
    model = models.Bidirectional(models.GRUCell(INPUT_SIZE, HIDDEN_SIZE),
                                 models.GRUCell(INPUT_SIZE, HIDDEN_SIZE))
    hs, _ = model(_sequence(steps))
    return model, hs, "Bidirectional GRU (forward and backward recurrences)"


def _stacked(steps):
    model = models.Stacked([models.RNNCell(INPUT_SIZE, HIDDEN_SIZE),
                            models.RNNCell(INPUT_SIZE + HIDDEN_SIZE, HIDDEN_SIZE)], skip=True)
    hs, _ = model(_sequence(steps))
    return model, hs, "Stacked RNN, two layers with skip connections"


def _tcn(steps):
    model = models.TCN(INPUT_SIZE, [HIDDEN_SIZE, HIDDEN_SIZE], kernel_size=2, dilations=[1, 2])
    ys = model(_sequence(steps))
    return model, ys, f"TCN, kernel 2, dilations {model.dilations} per block"


def _seq2seq(steps):
    model = models.Seq2Seq(models.GRUCell(INPUT_SIZE, HIDDEN_SIZE),
                           models.GRUCell(INPUT_SIZE, HIDDEN_SIZE), 5, 5)
    source = np.arange(steps).reshape(steps, 1) % 5
    target = (np.arange(steps).reshape(steps, 1) + 2) % 5
    logits = model(source, target)
    return model, logits, "Seq2Seq: GRU encoder (reversed source) and GRU decoder"


def _many_to_one(steps):
    model = models.ManyToOne(models.RNNCell(INPUT_SIZE, HIDDEN_SIZE), 2)
    logits, _ = model(_sequence(steps))
    return model, logits, "Many-to-one: RNN with a head on the last step"


def _one_to_many(steps):
    model = models.OneToMany(models.RNNCell(INPUT_SIZE, HIDDEN_SIZE), 5, 2)
    condition = mg.ones(BATCH, 2)
    tokens = np.arange(steps).reshape(steps, 1) % 5
    logits, _ = model(condition, tokens)
    return model, logits, "One-to-many: RNN conditioned through its initial state"


BUILDERS = {"bidirectional": _bidirectional, "stacked": _stacked, "tcn": _tcn,
            "seq2seq": _seq2seq, "many-to-one": _many_to_one, "one-to-many": _one_to_many}


def last_step_loss(outputs):
    """sum(y_T): a loss on the last step only, whose gradient must travel back through every
    step (the vanishing-gradient picture)."""
    return outputs[outputs.shape[0] - 1].sum()


def build(name, steps, view="unrolled"):
    """``(module, outputs, title)`` of example ``name`` over ``steps`` time steps; the title
    of a single cell says which ``view`` it is drawn in."""
    if name not in NAMES:
        raise ValueError(f"unknown cell {name!r}; valid: {', '.join(available())}")
    if name not in available():
        raise ValueError(f"cell {name!r} needs models.{CLASSES[name]}, which is not there yet; "
                         f"available: {', '.join(available())}")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    mg.manual_seed(0)
    builder = BUILDERS.get(name)
    return builder(steps) if builder else _unrolled(name, steps, view)
