"""The Markov (n-gram) character model, the baseline a recurrent model should beat.

"Markov models assume dependence on most recent observations" (002_*.txt): a Markov model
of order m conditions on the m previous characters,

    first-order:   p(x_1..x_T) = prod_t p(x_t | x_{t-1})
    second-order:  p(x_1..x_T) = prod_t p(x_t | x_{t-1}, x_{t-2})
    order m:       p(x_1..x_T) = prod_t p(x_t | x_{t-m}..x_{t-1})   (an (m+1)-gram model)

and order 0 is the unigram model (characters independent). Probabilities are estimated by
counting, with add-k smoothing:

    p(c | context) = (count(context, c) + k) / (count(context) + k V)

The first characters of a text, with fewer than m predecessors, use the shorter context.
"""
import math
from collections import Counter


class MarkovModel:
    """Character Markov model of order ``order`` (the number of previous characters it
    conditions on: 1 = first-order, as in 002_*.txt; 0 = unigram) over ``vocabulary``."""

    def __init__(self, order=2, k=0.1, vocabulary=None):
        if not isinstance(order, int) or isinstance(order, bool) or order < 0:
            raise ValueError(f"MarkovModel: order (previous characters conditioned on) must be "
                             f"a non-negative integer, got {order!r}")
        if not k > 0:
            raise ValueError(f"MarkovModel: k must be positive, got {k!r}")
        self.order, self.k = order, k
        self.vocabulary = None if vocabulary is None else list(vocabulary)
        self.counts = Counter()
        self.context_counts = Counter()

    @property
    def n(self):
        """The n of the equivalent n-gram model: order + 1."""
        return self.order + 1

    def fit(self, text):
        """Count every (context, next character) pair with a context of 0..order characters."""
        if self.vocabulary is None:
            self.vocabulary = sorted(set(text))
        for length in range(self.order + 1):
            for i in range(length, len(text)):
                context = text[i - length:i]
                self.counts[context, text[i]] += 1
                self.context_counts[context] += 1
        return self

    def probability(self, context, char):
        """p(char | the last ``order`` characters of ``context``)."""
        context = context[max(0, len(context) - self.order):] if self.order else ""
        size = len(self.vocabulary)
        return ((self.counts[context, char] + self.k)
                / (self.context_counts[context] + self.k * size))

    def bits_per_char(self, text):
        """Average -log2 p(x_t | previous characters) over ``text``."""
        if not text:
            raise ValueError("bits_per_char: empty text")
        total = 0.0
        for i, char in enumerate(text):
            total -= math.log2(self.probability(text[max(0, i - self.order):i], char))
        return total / len(text)


def describe(order):
    """How printouts name a Markov model: "order 1 (bigram)", "order 3 (4-gram)"."""
    names = {1: "unigram", 2: "bigram", 3: "trigram"}
    return f"order {order} ({names.get(order + 1, f'{order + 1}-gram')})"


def best_baseline(train, validation, orders=(0, 1, 2, 3, 4), k=0.1, vocabulary=None):
    """(Markov order, bits per char on ``validation``) for each order, and the best pair."""
    results = []
    for order in orders:
        model = MarkovModel(order, k, vocabulary).fit(train)
        results.append((order, model.bits_per_char(validation)))
    return results, min(results, key=lambda pair: pair[1])
