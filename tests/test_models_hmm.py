"""The HMM: forward probabilities against brute-force enumeration of every hidden path,
Baum-Welch's expected counts against finite differences of the log-likelihood, and EM
never lowering the likelihood."""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.hmm import HMM, hmm_baseline, streams


def brute_force(hmm, x):
    """p(x) and p(h_t = k | x), p(h_t = j, h_{t+1} = k | x) by summing over all K^T paths."""
    K, T = hmm.num_states, len(x)
    total, gamma, xi = 0.0, np.zeros((T, K)), np.zeros((max(T - 1, 0), K, K))
    for path in itertools.product(range(K), repeat=T):
        p = hmm.initial[path[0]] * hmm.emission[path[0], x[0]]
        for t in range(1, T):
            p *= hmm.transition[path[t - 1], path[t]] * hmm.emission[path[t], x[t]]
        total += p
        for t in range(T):
            gamma[t, path[t]] += p
        for t in range(T - 1):
            xi[t, path[t], path[t + 1]] += p
    return total, gamma / total, xi / total


models_and_sequences = st.tuples(st.integers(1, 3), st.integers(2, 4), st.integers(1, 5),
                                 st.integers(1, 3), st.integers(0, 2 ** 32 - 1))


def build(states, symbols, steps, batch, seed):
    rng = np.random.default_rng(seed)
    return HMM.random(states, symbols, rng), rng.integers(0, symbols, size=(steps, batch))


@settings(max_examples=25)
@given(models_and_sequences)
def test_forward_probabilities_equal_the_sum_over_every_hidden_path(case):
    hmm, x = build(*case)
    alphas, scales = hmm.forward(x)
    for b in range(x.shape[1]):
        total, gamma, _ = brute_force(hmm, x[:, b])
        assert math.exp(hmm.log_likelihood(x)[b]) == pytest.approx(total, rel=1e-10)
        for t in range(1, x.shape[0] + 1):        # c_t = p(x_t | x_{<t}), â_T = p(h_T | x)
            assert np.prod(scales[:t, b]) == pytest.approx(brute_force(hmm, x[:t, b])[0],
                                                           rel=1e-10)
        np.testing.assert_allclose(alphas[-1, b], gamma[-1], rtol=1e-9, atol=1e-14)


@settings(max_examples=25)
@given(models_and_sequences)
def test_expected_counts_are_the_brute_force_posteriors(case):
    hmm, x = build(*case)
    initial, transitions, emissions, log_likelihood = hmm.expected_counts(x)
    want_initial, want_transitions = np.zeros(hmm.num_states), np.zeros_like(hmm.transition)
    want_emissions, want_log = np.zeros_like(hmm.emission), 0.0
    for b in range(x.shape[1]):
        total, gamma, xi = brute_force(hmm, x[:, b])
        want_log += math.log(total)
        want_initial += gamma[0]
        want_transitions += xi.sum(axis=0)
        for t, v in enumerate(x[:, b]):
            want_emissions[:, v] += gamma[t]
    assert log_likelihood == pytest.approx(want_log, rel=1e-10)
    for got, want in ((initial, want_initial), (transitions, want_transitions),
                      (emissions, want_emissions)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_expected_counts_are_the_likelihoods_derivatives():
    """Fisher's identity, d log p(x) / d theta = E[count] / theta (parameters taken as free,
    unnormalised), checked by central differences in float64."""
    hmm, x = build(3, 4, 6, 2, 7)
    counts = hmm.expected_counts(x)[:3]
    for name, count in zip(("initial", "transition", "emission"), counts):
        values = getattr(hmm, name)
        numeric = np.zeros_like(values)
        for index in np.ndindex(values.shape):
            original = values[index]
            values[index] = original + 1e-6
            plus = hmm.log_likelihood(x).sum()
            values[index] = original - 1e-6
            minus = hmm.log_likelihood(x).sum()
            values[index] = original
            numeric[index] = (plus - minus) / 2e-6
        np.testing.assert_allclose(count / values, numeric, rtol=1e-6, atol=1e-8)


@settings(max_examples=30)
@given(models_and_sequences, st.sampled_from([0.0, 0.5]))
def test_baum_welch_never_lowers_the_likelihood(case, pseudocount):
    hmm, x = build(*case)
    objective = []
    for _ in range(6):
        objective.append(hmm.log_likelihood(x).sum() + hmm.log_prior(pseudocount))
        hmm.baum_welch_step(x, pseudocount)
        for p in (hmm.initial, hmm.transition, hmm.emission):
            np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)
    assert np.all(np.diff(objective) >= -1e-9 * np.abs(objective[:-1]).max()), objective


def test_em_learns_a_two_state_source_and_beats_the_unigram():
    """Data from a sticky two-state source whose states emit disjoint halves of the
    alphabet: EM finds a model whose bits per symbol approach the source's own."""
    rng = np.random.default_rng(0)
    source = HMM([0.5, 0.5], [[0.95, 0.05], [0.05, 0.95]],
                 [[0.25] * 4 + [0.0] * 4, [0.0] * 4 + [0.25] * 4])
    h = np.zeros(20000, np.int64)
    for t in range(1, len(h)):
        h[t] = h[t - 1] if rng.random() < 0.95 else 1 - h[t - 1]
    x = h * 4 + rng.integers(0, 4, size=len(h))
    train, test = x[:16000], x[16000:]
    bits, hmm, history = hmm_baseline(train, test, num_states=2, iterations=60,
                                      stream_length=400, pseudocount=0.0, seed=0)
    assert np.all(np.diff(history) > -1e-6)            # (seed 1 stalls at a saddle: EM is local)
    assert bits == pytest.approx(source.bits_per_char(test), abs=0.02)
    order = np.argsort(hmm.emission[:, 0])[::-1]
    np.testing.assert_allclose(hmm.transition[order][:, order], source.transition, atol=0.02)
    assert bits < 2.9                                    # unigram: 3 bits per symbol


def test_bad_input_names_the_problem():
    hmm = HMM.random(2, 3, 0)
    with pytest.raises(ValueError, match=r"HMM: symbol 3 at time step 1 \(sequence 0\)"):
        hmm.forward(np.array([0, 3, 1]))
    with pytest.raises(ValueError, match="HMM: observations must be int symbols"):
        hmm.forward(np.zeros((0, 2), np.int64))
    with pytest.raises(ValueError, match="must agree on K"):
        HMM([0.5, 0.5], np.eye(3), np.ones((2, 3)) / 3)
    with pytest.raises(ValueError, match="HMM: transition must hold finite non-negative"):
        HMM([0.5, 0.5], [[1.5, -0.5], [0.5, 0.5]], np.ones((2, 3)) / 3)
    zero = HMM([1.0, 0.0], np.eye(2), [[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="probability 0 at time step 1"):
        zero.forward(np.array([0, 1]))
    with pytest.raises(ValueError, match="streams: 3 symbols"):
        streams(np.arange(3), 4)


def test_streams_are_consecutive_or_spread_over_the_text():
    np.testing.assert_array_equal(streams(np.arange(10), 3), [[0, 3, 6], [1, 4, 7], [2, 5, 8]])
    spread = streams(np.arange(100), 5, count=3)
    np.testing.assert_array_equal(spread[:, 0], np.arange(5))
    np.testing.assert_array_equal(spread[:, -1], np.arange(95, 100))
    assert spread.shape == (5, 3) and spread[0, 1] == 47


def test_train_charlm_baseline_reports_the_hmm_next_to_the_markov_models(tmp_path, capsys):
    from tools import cli
    text = tmp_path / "text.txt"
    text.write_text("the cat sat on the mat. the dog sat on the log. " * 40, encoding="utf-8")
    status = cli.main(["train", "charlm", "--data", str(text), "--hidden", "8", "--embedding",
                       "4", "--seq-len", "8", "--batch", "4", "--steps", "2", "--quiet",
                       "--baseline", "--hmm-states", "6", "--out", str(tmp_path / "lm.npz")])
    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    hmm_line = next(line for line in lines if line.startswith("HMM baseline (6 hidden states"))
    hmm_bits = float(hmm_line.rsplit(":", 1)[1])
    markov = next(line for line in lines if line.startswith("Markov"))
    order_0 = float(markov.split("order 0")[1].split(":")[1].split(",")[0])
    assert 0 < hmm_bits < order_0 - 0.5        # the states learn the text's structure
    summary = next(line for line in lines if line.startswith("validation bits/char: lstm"))
    assert summary.endswith(f"vs HMM: {hmm_bits:.4f}")


def test_inputs_that_gave_wrong_numbers_or_raw_errors_are_named():
    """Rows not summing to 1 gave a 'likelihood' above the truth, a negative pseudocount
    lowered the likelihood EM must raise, and empty or ragged data ended in NumPy's words."""
    with pytest.raises(ValueError, match=r"HMM: initial must sum to 1 along its last axis, got 1.1"):
        HMM([0.5, 0.6], np.eye(2), np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match=r"HMM: emission must sum to 1 .*got 0.5 \(row 1\)"):
        HMM([0.5, 0.5], np.eye(2), [[0.5, 0.5], [0.25, 0.25]])
    hmm = HMM.random(2, 3, 0)
    with pytest.raises(ValueError, match="HMM: pseudocount must be >= 0"):
        hmm.fit([0, 1, 2, 1], iterations=3, pseudocount=-1)
    with pytest.raises(ValueError, match="got sequences of different lengths"):
        hmm.log_likelihood([[0, 1], [1]])
    with pytest.raises(ValueError, match=r"hmm_baseline: train must be a non-empty 1-D .*\(0,\)"):
        hmm_baseline(np.array([], np.int64), np.array([0, 1]), num_states=2, iterations=1)
    with pytest.raises(ValueError, match="hmm_baseline: validation must be a non-empty"):
        hmm_baseline(np.array([0, 1] * 5), np.array([], np.int64), num_states=2, iterations=1)
    with pytest.raises(ValueError, match="streams: length must be a positive integer, got 0"):
        streams(np.arange(10), 0)
