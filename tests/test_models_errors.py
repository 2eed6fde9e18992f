"""Library misuse of the sequence models: one clear ValueError naming the argument and what
was expected, never a NumPy traceback from deep inside or a silent garbage result."""
import numpy as np
import pytest

import minigrad as mg
from models.charlm import CharLM, Vocabulary
from models.tasks import TranslationModel


@pytest.fixture
def one_hot_lm():
    mg.manual_seed(0)
    return CharLM(Vocabulary("abc"), "rnn", 4)


@pytest.mark.parametrize("indices", [np.array([[0.0, 1.5]]), np.array([[0.5], [1.0]]),
                                     np.array([[0, 3]]), np.array([[-1, 0]])])
@pytest.mark.parametrize("embedding", [None, 2])
def test_charlm_indices_must_be_vocabulary_integers(indices, embedding):
    mg.manual_seed(0)
    model = CharLM(Vocabulary("abc"), "rnn", 4, embedding_dim=embedding)
    with pytest.raises(ValueError, match=r"CharLM: indices") as info:
        model(indices)
    assert "[0, 3)" in str(info.value)


def test_charlm_whole_number_floats_are_refused_too(one_hot_lm):
    with pytest.raises(ValueError, match="integer"):
        one_hot_lm(np.array([[0.0, 1.0]]))


@pytest.mark.parametrize("temperature", [np.nan, np.inf, -1.0, "hot"])
def test_sample_temperature_must_be_a_finite_non_negative_number(one_hot_lm, temperature):
    with pytest.raises(ValueError, match=r"sample: temperature"):
        one_hot_lm.sample("a", 5, temperature=temperature)


@pytest.mark.parametrize("n", [-1, 2.5, np.nan])
def test_sample_length_must_be_a_non_negative_integer(one_hot_lm, n):
    with pytest.raises(ValueError, match=r"sample: n"):
        one_hot_lm.sample("a", n)


@pytest.mark.parametrize("digits", ["", "12a", " 1", 307])
def test_translate_needs_a_string_of_digits(digits):
    mg.manual_seed(0)
    model = TranslationModel("gru", 4, 3)
    with pytest.raises(ValueError, match=r"translate: digits"):
        model.translate(digits)
    assert isinstance(model.translate("12"), str)
