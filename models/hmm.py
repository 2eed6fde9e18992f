"""The hidden Markov model over characters: forward algorithm and Baum-Welch (002_*.txt,
"Hidden Markov Model (HMM)"; 000_*.txt, speech recognition with HMMs; Rabiner 1989)."""
import math

import numpy as np

TRAINING_SYMBOLS = 100_000
"""How much of the training text :func:`hmm_baseline` reads (Baum-Welch is O(T K^2) per
iteration)."""


class HMM:
    """A discrete HMM with ``num_states`` hidden states over ``num_symbols`` symbols. 002_*.txt's
    generative process: "pick h_1 from P(h_1), pick x_1 from p(x_1|h_1); for t = 2 to T choose
    h_t from p(h_t|h_{t-1}), x_t from p(x_t|h_t)", so that

        p(x_1..x_T, h_1..h_T) = P(h_1) prod_{t>=2} P(h_t | h_{t-1}) prod_t p(x_t | h_t)

    with ``initial`` pi_k = P(h_1 = k), ``transition`` A_jk = P(h_t = k | h_{t-1} = j) and
    ``emission`` B_kv = p(x_t = v | h_t = k).

    Generative vs discriminative. "While HMM is a generative model RNN is a discriminative
    model" (002_*.txt): the HMM models the joint p(x, h) of observations and a discrete hidden
    cause, and gets p(x_t | x_{<t}) only by summing over every hidden path, its memory of the
    past a belief over K states (at most log2 K bits). The RNN's state is no random variable:
    h_t = F(h_{t-1}, x_t) is a deterministic summary of the whole past, trained only to
    predict, p(x_{t+1} | x_1..x_t) = softmax(W h_t). Both give bits per character on the
    same text, which is how ``minigrad train charlm --baseline`` compares them.

    The forward algorithm, scaled (Rabiner 1989, eq. 91-92) so that nothing underflows:

        a_1 = pi * B[:, x_1],   a_t = (â_{t-1} A) * B[:, x_t],   c_t = sum_k a_t(k),
        â_t = a_t / c_t,        log p(x_1..x_T) = sum_t log c_t

    and the backward pass b̂_T = 1, b̂_t = A (B[:, x_{t+1}] * b̂_{t+1}) / c_{t+1}, so that the
    posteriors are gamma_t(k) = â_t(k) b̂_t(k) and xi_t(j, k) = â_t(j) A_jk B_k(x_{t+1})
    b̂_{t+1}(k) / c_{t+1}. Baum-Welch (EM) re-estimates pi, A, B from these expected counts;
    each iteration never lowers the likelihood (Baum et al. 1970). ``pseudocount`` > 0 adds
    a symmetric Dirichlet prior (MAP-EM: then log p(x) + log prior never decreases), which
    keeps symbols unseen in training from getting probability 0.

    Observations are int arrays (T,) or (T, B) (B sequences of one length, time-major, as
    everywhere in ``models``), handled as a batch: the loop is over time only.
    """

    def __init__(self, initial, transition, emission):
        initial, transition, emission = (np.array(a, dtype=np.float64)
                                         for a in (initial, transition, emission))
        states = initial.shape[0] if initial.ndim == 1 else -1
        if (initial.ndim != 1 or transition.shape != (states, states) or emission.ndim != 2
                or emission.shape[0] != states):
            raise ValueError(f"HMM: initial (K,), transition (K, K) and emission (K, V) must "
                             f"agree on K, got {initial.shape}, {transition.shape}, "
                             f"{emission.shape}")
        for name, value in (("initial", initial), ("transition", transition),
                            ("emission", emission)):
            if not np.all(np.isfinite(value)) or np.any(value < 0):
                raise ValueError(f"HMM: {name} must hold finite non-negative probabilities")
            sums = value.sum(axis=-1)
            if not np.allclose(sums, 1.0, rtol=0, atol=1e-6):
                row = int(np.argmax(np.abs(sums - 1.0))) if value.ndim == 2 else None
                where = "" if row is None else f" (row {row})"
                raise ValueError(f"HMM: {name} must sum to 1 along its last axis, got "
                                 f"{float(np.ravel(sums)[row or 0]):.6g}{where}")
        self.initial, self.transition, self.emission = initial, transition, emission

    @classmethod
    def random(cls, num_states, num_symbols, rng=None, symbol_frequencies=None):
        """Dirichlet(1) rows, emissions tilted towards ``symbol_frequencies`` when given (a
        common start for EM on text: every state emits roughly the unigram distribution)."""
        for name, value in (("num_states", num_states), ("num_symbols", num_symbols)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"HMM: {name} must be a positive integer, got {value!r}")
        rng = np.random.default_rng(rng)
        emission = rng.dirichlet(np.ones(num_symbols), size=num_states)
        if symbol_frequencies is not None:
            frequencies = np.asarray(symbol_frequencies, dtype=np.float64)
            emission = 0.5 * emission + frequencies / frequencies.sum()
            emission /= emission.sum(axis=1, keepdims=True)
        return cls(rng.dirichlet(np.ones(num_states)),
                   rng.dirichlet(np.ones(num_states), size=num_states), emission)

    @property
    def num_states(self):
        return self.initial.shape[0]

    @property
    def num_symbols(self):
        return self.emission.shape[1]

    def _observations(self, observations):
        try:
            x = np.asarray(observations)
        except ValueError:
            raise ValueError("HMM: observations must be int symbols of shape (T >= 1,) or "
                             "(T, batch), got sequences of different lengths") from None
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0 or x.dtype.kind not in "iu":
            raise ValueError(f"HMM: observations must be int symbols of shape (T >= 1,) or "
                             f"(T, batch), got {x.shape} {x.dtype}")
        bad = (x < 0) | (x >= self.num_symbols)
        if bad.any():
            t, b = np.argwhere(bad)[0]
            raise ValueError(f"HMM: symbol {x[t, b]} at time step {t} (sequence {b}) is "
                             f"outside 0..{self.num_symbols - 1}")
        return x.astype(np.int64)

    def forward(self, observations):
        """Scaled forward variables â (T, B, K) and scales c (T, B): c_t = p(x_t | x_{<t})."""
        return self._forward(self._observations(observations))[:2]

    def _forward(self, x):
        """:meth:`forward` of checked observations, and the B[:, x_t] (T, B, K) it used."""
        likelihoods = np.ascontiguousarray(self.emission.T)[x]          # B[:, x_t]: (T, B, K)
        alphas = np.empty_like(likelihoods)
        scales = np.empty(x.shape)
        alpha = self.initial * likelihoods[0]
        for t in range(x.shape[0]):
            if t:
                alpha = (alphas[t - 1] @ self.transition) * likelihoods[t]
            scales[t] = alpha.sum(axis=1)
            if np.any(scales[t] <= 0):
                b = int(np.argmax(scales[t] <= 0))
                raise ValueError(f"HMM: sequence {b} has probability 0 at time step {t} "
                                 f"(symbol {x[t, b]})")
            alphas[t] = alpha / scales[t][:, None]
        return alphas, scales, likelihoods

    def log_likelihood(self, observations):
        """log p(x_1..x_T) of each sequence (B,), in nats."""
        return np.log(self.forward(observations)[1]).sum(axis=0)

    def bits_per_char(self, observations):
        """-log2 p(x_1..x_T) / T, averaged over the sequences' symbols."""
        x = self._observations(observations)
        return float(-self.log_likelihood(x).sum() / (x.size * math.log(2)))

    def expected_counts(self, observations):
        """E-step: the expected counts under p(h | x) of h_1 = k (K,), of transitions j -> k
        (K, K) and of state k emitting v (K, V), summed over the batch, and the total
        log-likelihood."""
        x = self._observations(observations)
        alphas, scales, likelihoods = self._forward(x)
        backwards = np.ascontiguousarray(self.transition.T)
        betas = np.empty_like(alphas)
        betas[-1] = 1.0
        pairs = np.zeros_like(self.transition)          # sum_t â_t^T (B[:, x_{t+1}] b̂_{t+1} / c_{t+1})
        for t in range(x.shape[0] - 2, -1, -1):
            after = likelihoods[t + 1] * betas[t + 1] / scales[t + 1][:, None]
            betas[t] = after @ backwards
            pairs += alphas[t].T @ after
        gammas = alphas * betas
        states = self.num_states
        transitions = self.transition * pairs
        flat, weights = x.reshape(-1), gammas.reshape(-1, states)
        cells = (flat[:, None] * states + np.arange(states)).reshape(-1)   # (v, k) -> v K + k
        emissions = np.bincount(cells, weights=weights.reshape(-1),
                                minlength=self.num_symbols * states).reshape(-1, states).T
        return gammas[0].sum(axis=0), transitions, emissions, float(np.log(scales).sum())

    def baum_welch_step(self, observations, pseudocount=0.0):
        """One EM iteration in place; returns the log-likelihood *before* it:

            pi_k = E[h_1 = k],   A_jk = E[#(j -> k)] / E[#(j -> .)],
            B_kv = E[#(k emits v)] / E[#(k)]     (+ pseudocount in each count)
        """
        if not pseudocount >= 0:
            raise ValueError(f"HMM: pseudocount must be >= 0 (a Dirichlet prior's extra "
                             f"counts), got {pseudocount!r}")
        initial, transitions, emissions, log_likelihood = self.expected_counts(observations)
        self.initial = _normalise(initial + pseudocount)
        self.transition = _normalise(transitions + pseudocount)
        self.emission = _normalise(emissions + pseudocount)
        return log_likelihood

    def log_prior(self, pseudocount):
        """log of the Dirichlet(1 + pseudocount) prior density, up to a constant."""
        if pseudocount == 0:
            return 0.0
        return pseudocount * sum(np.log(p).sum()
                                 for p in (self.initial, self.transition, self.emission))

    def fit(self, observations, iterations=20, pseudocount=0.0, tolerance=1e-6):
        """Baum-Welch until ``iterations`` or until the log-likelihood per symbol improves
        by less than ``tolerance``; returns the log-likelihood of each iteration (before
        its update)."""
        x = self._observations(observations)
        history = []
        for _ in range(iterations):
            history.append(self.baum_welch_step(x, pseudocount))
            if len(history) > 1 and (history[-1] - history[-2]) / x.size < tolerance:
                break
        return history


def _normalise(counts):
    total = counts.sum(axis=-1, keepdims=True)
    return np.divide(counts, total, out=np.full_like(counts, 1 / counts.shape[-1]),
                     where=total > 0)


def streams(indices, length, count=None):
    """(length, B) streams of a long sequence: as many consecutive ones as fit, or ``count``
    of them starting at evenly spaced offsets (a sample of the whole text)."""
    indices = np.asarray(indices)
    if not isinstance(length, (int, np.integer)) or length <= 0:
        raise ValueError(f"streams: length must be a positive integer, got {length!r}")
    fit = len(indices) // length
    if fit == 0:
        raise ValueError(f"streams: {len(indices)} symbols are fewer than one stream of "
                         f"{length}")
    if count is None or count >= fit:
        return indices[:fit * length].reshape(fit, length).T
    starts = np.linspace(0, len(indices) - length, count).astype(np.int64)
    return indices[starts[None, :] + np.arange(length)[:, None]]


def hmm_baseline(train, validation, num_states=16, iterations=20, max_symbols=TRAINING_SYMBOLS,
                 stream_length=250, pseudocount=0.01, seed=0):
    """Fit an HMM by Baum-Welch on up to ``max_symbols`` of ``train`` (int symbols), read as
    streams of ``stream_length`` spread evenly over the whole of it, and return (bits per
    symbol on ``validation``, read as one sequence, the fitted HMM, the EM history)."""
    train, validation = np.asarray(train), np.asarray(validation)
    for name, symbols in (("train", train), ("validation", validation)):
        if symbols.ndim != 1 or symbols.size == 0:
            raise ValueError(f"hmm_baseline: {name} must be a non-empty 1-D sequence of "
                             f"symbols, got shape {symbols.shape}")
    num_symbols = int(max(train.max(), validation.max())) + 1
    length = min(stream_length, len(train))
    data = streams(train, length, max(1, max_symbols // length))
    frequencies = np.bincount(data.reshape(-1), minlength=num_symbols) + 1.0
    hmm = HMM.random(num_states, num_symbols, seed, frequencies)
    history = hmm.fit(data, iterations, pseudocount)
    return hmm.bits_per_char(validation), hmm, history
