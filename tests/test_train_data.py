"""Data for training: the default corpus, UTF-8 files, batching, the n-gram baseline and the
synthetic tasks."""
import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.charlm import Vocabulary, stream_batch
from models.corpus import DataError, read_text, split_text, stdlib_docstrings
from models.ngram import MarkovModel, best_baseline, describe
from models.tasks import (
    adding_problem,
    copy_task,
    copy_vocabulary,
    digits_to_words,
    translation_pairs,
)


def test_default_corpus_is_deterministic_text():
    first, second = stdlib_docstrings(50_000), stdlib_docstrings(50_000)
    assert first == second
    assert 40_000 < len(first) <= 50_000
    assert "Return" in first
    assert len(set(first)) > 40


@pytest.mark.parametrize("content,needle", [
    (b"", "is empty"), (b"\xff\xfe\x00bad", "not UTF-8"),
])
def test_read_text_errors_name_the_file(tmp_path, content, needle):
    path = tmp_path / "data.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=needle) as info:
        read_text(path)
    assert str(path) in str(info.value)
    with pytest.raises(DataError, match="no such file"):
        read_text(tmp_path / "absent.txt")


def test_read_text_returns_unicode(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("naïve café ☕\n", encoding="utf-8")
    assert read_text(path) == "naïve café ☕\n"


def test_split_text_holds_out_the_tail():
    train, validation = split_text("abcdefghij" * 10, 0.2)
    assert train + validation == "abcdefghij" * 10
    assert len(validation) == 20


@given(st.text(min_size=1, max_size=30))
def test_vocabulary_round_trip(text):
    vocabulary = Vocabulary.from_text(text)
    assert vocabulary.decode(vocabulary.encode(text)) == text
    assert len(vocabulary) == len(set(text))


def test_stream_batches_continue_each_stream():
    data = np.arange(101)
    first_in, first_out = stream_batch(data, 0, batch=4, seq_len=5)
    second_in, _ = stream_batch(data, 1, batch=4, seq_len=5)
    assert first_in.shape == (5, 4)
    np.testing.assert_array_equal(first_out[:-1], first_in[1:])
    np.testing.assert_array_equal(second_in[0], first_out[-1])
    np.testing.assert_array_equal(first_in[0], [0, 25, 50, 75])


# -- Markov (n-gram) baseline -----------------------------------------------------------
@pytest.mark.parametrize("order", [0, 1, 2])
def test_markov_probabilities_sum_to_one(order):
    model = MarkovModel(order, k=0.5).fit("abracadabra")
    for context in ("", "a", "ab", "zz"):
        total = sum(model.probability(context, c) for c in model.vocabulary)
        assert total == pytest.approx(1.0)


def test_unigram_bits_equal_the_cross_entropy_of_the_smoothed_frequencies():
    train, validation, k = "aaabbc", "abcab", 0.1
    model = MarkovModel(0, k=k).fit(train)
    counts = Counter(train)
    expected = -np.mean([math.log2((counts[c] + k) / (len(train) + 3 * k)) for c in validation])
    assert model.bits_per_char(validation) == pytest.approx(expected)


def test_first_order_conditions_on_exactly_one_character():
    """002_*.txt: a first-order Markov model is p(x_t | x_{t-1}); its probabilities are the
    smoothed bigram counts, whatever came before x_{t-1}."""
    train, k = "abcabdabcacb", 0.1
    model = MarkovModel(1, k=k).fit(train)
    pairs = Counter(zip(train, train[1:]))
    for previous in "abcd":
        for before in ("", "a", "dc"):
            for char in "abcd":
                expected = (pairs[previous, char] + k) / (
                    sum(pairs[previous, c] for c in "abcd") + 4 * k)
                assert model.probability(before + previous, char) == pytest.approx(expected)
    assert model.n == 2 and describe(1) == "order 1 (bigram)" and describe(4) == "order 4 (5-gram)"


def test_higher_order_wins_on_structured_text():
    text = "abcd" * 50
    bits = [MarkovModel(m, k=0.01).fit(text).bits_per_char("abcd" * 25) for m in (0, 1)]
    assert bits[0] == pytest.approx(2.0, abs=0.01)
    assert bits[1] < 0.1
    results, best = best_baseline("abcd" * 50, "abcd" * 25)
    assert [m for m, _ in results] == [0, 1, 2, 3, 4] and best[0] >= 1


def test_markov_order_must_be_a_count():
    with pytest.raises(ValueError, match="order"):
        MarkovModel(-1)
    with pytest.raises(ValueError, match="order"):
        MarkovModel(1.5)


# -- synthetic tasks ---------------------------------------------------------------------
def test_adding_problem_targets_are_the_sum_of_the_marked_values():
    inputs, targets = adding_problem(64, 20, np.random.default_rng(0))
    assert inputs.shape == (20, 64, 2) and targets.shape == (64, 1)
    values, markers = inputs[..., 0], inputs[..., 1]
    assert (markers.sum(axis=0) == 2).all()
    assert (markers[:10].sum(axis=0) == 1).all()
    np.testing.assert_allclose((values * markers).sum(axis=0), targets[:, 0], rtol=1e-6)


def test_predicting_one_in_the_adding_problem_scores_about_a_sixth():
    _, targets = adding_problem(20000, 10, np.random.default_rng(1))
    assert np.mean((targets - 1) ** 2) == pytest.approx(1 / 6, abs=0.01)


def test_copy_task_layout():
    inputs, targets = copy_task(3, length=4, delay=5, rng=np.random.default_rng(2))
    vocabulary = copy_vocabulary()
    blank, delimiter = vocabulary.index("-"), vocabulary.index(":")
    assert inputs.shape == targets.shape == (13, 3)
    np.testing.assert_array_equal(targets[-4:], inputs[:4])
    assert (inputs[:4] < 8).all() and (targets[:9] == blank).all()
    assert (inputs[8] == delimiter).all() and (inputs[4:8] == blank).all()


def test_translation_pairs():
    assert digits_to_words("307") == "three zero seven"
    pairs = translation_pairs(20, np.random.default_rng(3), kind="reverse")
    assert all(target == source[::-1] and source.isdigit() for source, target in pairs)
    words = translation_pairs(5, np.random.default_rng(3))
    assert all(len(target.split()) == len(source) for source, target in words)
