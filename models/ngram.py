"""The n-gram (Markov) character model, the baseline a recurrent model should beat.

An order-n Markov model conditions on the n-1 previous characters (002_*.txt, "Markov
models": p(x_1..x_T) = prod_t p(x_t | x_{t-n+1}..x_{t-1})), estimated by counting with
add-k smoothing:

    p(c | context) = (count(context, c) + k) / (count(context) + k V)

The first characters of a text, with fewer than n-1 predecessors, use the shorter context.
"""
import math
from collections import Counter


class NGramModel:
    """Character n-gram model of order ``order`` (1 = unigram) over ``vocabulary`` symbols."""

    def __init__(self, order=3, k=0.1, vocabulary=None):
        if not isinstance(order, int) or order < 1:
            raise ValueError(f"NGramModel: order must be a positive integer, got {order!r}")
        if not k > 0:
            raise ValueError(f"NGramModel: k must be positive, got {k!r}")
        self.order, self.k = order, k
        self.vocabulary = None if vocabulary is None else list(vocabulary)
        self.counts = Counter()
        self.context_counts = Counter()

    def fit(self, text):
        """Count every (context, next character) pair of each length up to ``order``."""
        if self.vocabulary is None:
            self.vocabulary = sorted(set(text))
        for length in range(self.order):
            for i in range(length, len(text)):
                context = text[i - length:i]
                self.counts[context, text[i]] += 1
                self.context_counts[context] += 1
        return self

    def probability(self, context, char):
        context = context[-(self.order - 1):] if self.order > 1 else ""
        size = len(self.vocabulary)
        return ((self.counts[context, char] + self.k)
                / (self.context_counts[context] + self.k * size))

    def bits_per_char(self, text):
        """Average -log2 p(x_t | previous characters) over ``text``."""
        if not text:
            raise ValueError("bits_per_char: empty text")
        total = 0.0
        for i, char in enumerate(text):
            total -= math.log2(self.probability(text[max(0, i - self.order + 1):i], char))
        return total / len(text)


def best_baseline(train, validation, orders=(1, 2, 3, 4, 5), k=0.1, vocabulary=None):
    """(order, bits per char on ``validation``) for each order, and the best pair."""
    results = []
    for order in orders:
        model = NGramModel(order, k, vocabulary).fit(train)
        results.append((order, model.bits_per_char(validation)))
    return results, min(results, key=lambda pair: pair[1])
