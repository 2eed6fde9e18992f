"""(9) The encoder's sentence vector depends on word order, not on the choice of words.

Claim (002_*.txt, "Sequence-to-sequence language translation"; Sutskever et al. 2014,
fig. 2): in a "2-dimensional PCA projection of the LSTM hidden states that are obtained
after processing the phrases ... the phrases are clustered by meaning, which in these
examples is primarily a function of word order, which would be difficult to capture with a
bag-of-words model ... the representations are sensitive to the order of words, while
being fairly insensitive to the replacement of an active voice with a passive voice."

Task: a toy language whose meaning lives in word order. A sentence is active, "john sees
mary", or passive, "mary is seen by john"; its translation names the action in a fixed
order, SUBJECT OBJECT VERB ("JOHN MARY SEE"), so "mary sees john" (the same words
reordered) means something else. An LSTM encoder-decoder (:class:`models.Seq2Seq`) learns
the translation; its sentence vector v is the encoder's final h. Measured over every
meaning: the mean distance between v(active) and v(passive) of one meaning (the same
meaning in other words), against the mean distance between v("S V O") and v("O V S")
(the same words, another meaning); how often the nearest passive vector to an active
sentence is its own paraphrase; and the 2-D PCA (NumPy SVD) of a few phrases, drawn with
their labels. A bag-of-words vector (the mean of the word embeddings) cannot tell "john
sees mary" from "mary sees john": their distance is 0.
"""
import itertools

import numpy as np

import minigrad as mg
import models
from minigrad import functional as F
from minigrad.optim import Adam, clip_grad_norm

from .common import print_table, save_figure

NAME = "sentence_pca"
TITLE = "seq2seq sentence vectors: more sensitive to word order than to voice"
NOUNS = ("john", "mary", "bob", "alice", "cat", "dog")
VERBS = (("sees", "seen", "SEE"), ("loves", "loved", "LOVE"), ("helps", "helped", "HELP"),
         ("calls", "called", "CALL"), ("finds", "found", "FIND"))
SOURCE_WORDS = (*NOUNS, *(v[0] for v in VERBS), *(v[1] for v in VERBS), "is", "by")
BOS, EOS = 0, 1
TARGET_WORDS = ("<bos>", "<eos>", *(n.upper() for n in NOUNS), *(v[2] for v in VERBS))
SHOWN = (("john", 0, "mary"), ("mary", 0, "john"), ("john", 1, "mary"), ("mary", 1, "john"),
         ("cat", 4, "dog"), ("dog", 4, "cat"))
"""The meanings (subject, verb, object) drawn in the figure, each with its swapped twin."""


def meanings():
    """Every (subject, verb index, object) with subject != object."""
    return [(s, v, o) for s, o in itertools.permutations(NOUNS, 2) for v in range(len(VERBS))]


def sentence(meaning, voice):
    subject, verb, obj = meaning
    if voice == "active":
        return [subject, VERBS[verb][0], obj]
    return [obj, "is", VERBS[verb][1], "by", subject]


def translation(meaning):
    subject, verb, obj = meaning
    return [subject.upper(), obj.upper(), VERBS[verb][2]]


def encode(batch, voice):
    """Source tokens (S, B) of one voice and target tokens (4, B) ending in EOS."""
    words = {w: i for i, w in enumerate(SOURCE_WORDS)}
    targets = {w: i for i, w in enumerate(TARGET_WORDS)}
    sources = np.array([[words[w] for w in sentence(m, voice)] for m in batch], np.int64).T
    outputs = np.array([[targets[w] for w in translation(m)] + [EOS] for m in batch],
                       np.int64).T
    return sources, outputs


def train(steps, seed, hidden=32, batch=32, lr=1e-2, log=print):
    """An LSTM Seq2Seq trained on batches of active and of passive sentences (one length per
    batch); returns the model and the training losses."""
    mg.manual_seed(seed)
    model = models.Seq2Seq(models.LSTMCell(16, hidden), models.LSTMCell(16, hidden),
                           len(SOURCE_WORDS), len(TARGET_WORDS), bos_index=BOS, eos_index=EOS)
    optimizer = Adam(model.parameters(), lr=lr)
    everything, rng, losses = meanings(), np.random.default_rng(seed), []
    for _ in range(steps):
        picked = [everything[i] for i in rng.choice(len(everything), batch)]
        loss = 0
        for voice in ("active", "passive"):
            sources, targets = encode(picked, voice)
            loss = loss + F.cross_entropy(model(sources, targets), targets)
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm(model.parameters(), 5.0)
        optimizer.step()
        losses.append(loss.item() / 2)
    return model, losses


def sentence_vectors(model, batch, voice):
    """v = the encoder's final hidden state h, (B, H)."""
    with mg.no_grad():
        state = model.encode(encode(batch, voice)[0])
    return state[0].numpy().astype(np.float64)


def exact_match(model, batch, voice):
    sources, targets = encode(batch, voice)
    decoded = model.greedy_decode(sources, targets.shape[0])
    return float((decoded == targets).all(axis=0).mean())


def pca(points, components=2):
    """Projections on the top principal axes (SVD of the centred points) and the fraction of
    the variance each axis explains."""
    centred = points - points.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    return centred @ axes[:components].T, singular[:components] ** 2 / (singular ** 2).sum()


def distances(model):
    """Mean ||v(active) - v(passive)|| of one meaning, mean ||v(S V O) - v(O V S)||, how
    often the first is the smaller, and how often the nearest passive vector to an active
    sentence is its paraphrase."""
    everything = meanings()
    swapped = [(o, v, s) for s, v, o in everything]
    active = sentence_vectors(model, everything, "active")
    passive = sentence_vectors(model, everything, "passive")
    reordered = sentence_vectors(model, swapped, "active")
    to_paraphrase = np.linalg.norm(active - passive, axis=1)
    to_reordering = np.linalg.norm(active - reordered, axis=1)
    gaps = np.linalg.norm(active[:, None] - passive[None], axis=2)
    nearest = float((gaps.argmin(axis=1) == np.arange(len(everything))).mean())
    return {"paraphrase_distance": float(to_paraphrase.mean()),
            "word_order_distance": float(to_reordering.mean()),
            "closer_to_paraphrase": float((to_paraphrase < to_reordering).mean()),
            "nearest_is_paraphrase": nearest}


def bag_of_words_gap(model):
    """||mean embedding of "S V O" - mean embedding of "O V S"|| (zero by construction)."""
    table = model.source_embedding.weight.numpy().astype(np.float64)
    words = {w: i for i, w in enumerate(SOURCE_WORDS)}
    first, second = (table[[words[w] for w in sentence(m, "active")]].mean(axis=0)
                     for m in (SHOWN[0], SHOWN[1]))
    return float(np.linalg.norm(first - second))


def run(output_dir, quick=False, seed=0, log=print):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = 250 if quick else 600
    model, losses = train(steps, seed)
    everything = meanings()
    accuracy = {voice: exact_match(model, everything, voice) for voice in ("active", "passive")}
    measured = distances(model)
    bag = bag_of_words_gap(model)
    ratio = measured["paraphrase_distance"] / measured["word_order_distance"]
    log(f"{TITLE} (LSTM H=32, {steps} steps of Adam; {len(everything)} meanings, each as an "
        f"active and a passive sentence)")
    log(f"exact-match translation: active {accuracy['active']:.3f}, passive "
        f"{accuracy['passive']:.3f}; final loss {np.mean(losses[-20:]):.4f}")
    print_table(("sentence vectors v = encoder's final h", "mean distance"), [
        ("same meaning, other words (active vs passive)", measured["paraphrase_distance"]),
        ("same words, other order (S V O vs O V S)", measured["word_order_distance"]),
        ("bag of words (mean embedding), S V O vs O V S", bag)], log)
    log(f"prediction: order-sensitive, voice-insensitive. Measured: v(S V O) is closer to its "
        f"passive paraphrase than to v(O V S) for "
        f"{100 * measured['closer_to_paraphrase']:.0f}% of meanings; the nearest passive "
        f"vector is the paraphrase for {100 * measured['nearest_is_paraphrase']:.0f}% of active "
        f"sentences (chance {100 / len(everything):.1f}%); on average a paraphrase lies "
        f"{ratio:.2f} times as far as the reordering: less moved by voice, not unmoved")

    phrases, labels, groups, voices = [], [], [], []
    for group, meaning in enumerate(SHOWN):
        for voice in ("active", "passive"):
            phrases.append(sentence_vectors(model, [meaning], voice)[0])
            labels.append(" ".join(sentence(meaning, voice)))
            groups.append(group)
            voices.append(voice)
    projected, explained = pca(np.array(phrases))
    figure, axes = plt.subplots(figsize=(8, 6))
    colours = plt.get_cmap("tab10")
    for point, label, group, voice in zip(projected, labels, groups, voices):
        axes.scatter(*point, color=colours(group), marker="o" if voice == "active" else "s",
                     s=40)
        axes.annotate(label, point, textcoords="offset points", xytext=(5, 4), fontsize=8,
                      color=colours(group))
    axes.set_xlabel(f"principal component 1 ({100 * explained[0]:.0f}% of the variance)")
    axes.set_ylabel(f"principal component 2 ({100 * explained[1]:.0f}% of the variance)")
    axes.grid(True, alpha=0.3)
    axes.set_title(f"{TITLE}\n(circles: active, squares: passive; one colour per meaning)",
                   fontsize=10)
    pair_gaps = [float(np.linalg.norm(projected[2 * g] - projected[2 * g + 1]))
                 for g in range(len(SHOWN))]
    swap_gaps = [float(np.linalg.norm(projected[4 * p] - projected[4 * p + 2]))
                 for p in range(len(SHOWN) // 2)]
    log(f"in the figure (PCA of {len(phrases)} phrases, {100 * explained.sum():.0f}% of the "
        f"variance): active-passive gaps {np.round(pair_gaps, 2).tolist()}, S V O - O V S "
        f"gaps {np.round(swap_gaps, 2).tolist()}")
    results = {"steps": steps, "accuracy": accuracy, **measured, "paraphrase_to_word_order": ratio,
               "bag_of_words_distance": bag, "explained_variance": explained.tolist(),
               "figure_paraphrase_gaps": pair_gaps, "figure_word_order_gaps": swap_gaps,
               "final_loss": float(np.mean(losses[-20:]))}
    return save_figure(figure, output_dir, NAME, results, log)
