"""``examples/word_language_model.py``, PyTorch's word-level language model written with
minigrad, trains on a small generated text: its loss falls, toward but not below the
text's entropy, and the best model's state_dict is saved and loaded back."""
import importlib.util
import math
import pathlib

import numpy as np
import pytest

import minigrad as mg

EXAMPLE = pathlib.Path(__file__).resolve().parent.parent / "examples" / "word_language_model.py"
SUBJECTS = ["the cat", "a dog", "my friend", "the king"]
VERBS = ["sees", "likes", "eats"]
OBJECTS = ["the fish", "a bone", "the bread", "his crown"]


def load_example():
    spec = importlib.util.spec_from_file_location("word_language_model", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sentences(rng, count):
    """'<subject> <verb> <object> .': the subject picks the object, so per word the text
    carries (log 4 + log 3) / 7 nats (seven tokens a line, <eos> included)."""
    return [f"{SUBJECTS[i % 4]} {VERBS[(i // 4) % 3]} {OBJECTS[i % 4]} ."
            for i in rng.integers(0, 12, count)]


@pytest.fixture
def corpus(tmp_path):
    rng = np.random.default_rng(0)
    for name, count in (("train", 300), ("valid", 60), ("test", 60)):
        (tmp_path / f"{name}.txt").write_text("\n".join(sentences(rng, count)) + "\n")
    return tmp_path


def test_word_language_model_learns_and_round_trips_its_checkpoint(corpus, tmp_path):
    example = load_example()
    saved = tmp_path / "model.npz"
    logged = []
    history = example.main(["--data", str(corpus), "--epochs", "4", "--emsize", "16",
                            "--nhid", "16", "--nlayers", "2", "--bptt", "10",
                            "--batch_size", "8", "--lr", "5", "--dropout", "0.1", "--tied",
                            "--save", str(saved), "--log-interval", "10"], log=logged.append)
    first, last = history["train"][0], history["train"][-1]
    assert len(first) == 27                                # 300 lines * 7 words / 8 / 10
    vocabulary = 17
    assert abs(np.mean(first[:3]) - math.log(vocabulary)) < 0.3       # starts near uniform
    assert np.mean(last[-5:]) < np.mean(first[:5]) - 0.8
    entropy = (math.log(4) + math.log(3)) / 7
    assert entropy - 0.05 < min(history["valid"]) < history["valid"][0] - 0.5
    assert history["test"] < 2.0 and history["test"] > entropy - 0.05
    assert any("| epoch   1 |    10/   26 batches" in line for line in logged)
    # the best model by validation loss is the saved one: reload it and score the test set
    state = mg.load(saved)
    assert "decoder.weight" not in state and state["encoder.weight"].shape == (17, 16)
    assert {"rnn.weight_ih_l1", "rnn.bias_hh_l0"} <= set(state)
    corpus_data = example.Corpus(str(corpus))
    model = example.RNNModel("LSTM", 17, 16, 16, 2, 0.1, tie_weights=True)
    assert model.load_state_dict(state) == ([], [])
    assert model.decoder.weight is model.encoder.weight
    test = example.batchify(corpus_data.test, 10)
    loss = example.evaluate(model, mg.nn.NLLLoss(), test, 10, 10)
    assert loss == pytest.approx(history["test"], rel=1e-6)


def test_batchify_and_get_batch_follow_pytorchs_layout():
    example = load_example()
    data = mg.arange(23)
    columns = example.batchify(data, 4)                    # 5 rows: 20 words kept
    np.testing.assert_array_equal(columns.numpy()[:, 1], np.arange(5, 10))
    inputs, targets = example.get_batch(columns, 1, 3)
    np.testing.assert_array_equal(inputs.numpy(), np.arange(20).reshape(4, 5).T[1:4])
    np.testing.assert_array_equal(targets.numpy(), np.arange(20).reshape(4, 5).T[2:5].reshape(-1))
    last_inputs, last_targets = example.get_batch(columns, 3, 3)       # clipped at the end
    assert last_inputs.shape == (1, 4) and last_targets.shape == (4,)


def test_bad_options_are_named(tmp_path):
    example = load_example()
    with pytest.raises(FileNotFoundError, match="train.txt"):
        example.main(["--data", str(tmp_path), "--epochs", "1"])
    with pytest.raises(ValueError, match="nhid must be equal to emsize"):
        example.RNNModel("LSTM", 10, 8, 16, 1, tie_weights=True)
    with pytest.raises(ValueError, match="--model"):
        example.RNNModel("TCN", 10, 8, 8, 1)


def test_a_text_too_short_for_its_splits_is_named_not_scored(tmp_path, capsys):
    """Three lines split 80/10/10 leave no validation words: the run reported 'test ppl 1.00'
    (a loss of 0 summed over nothing) instead of saying so."""
    example = load_example()
    text = tmp_path / "tiny.txt"
    text.write_text("a b c\nd e f\ng h i\n")
    with pytest.raises(ValueError, match="the valid split holds 0 words, too few for 10 columns"):
        example.main(["--data", str(text), "--batch_size", "1", "--epochs", "1",
                      "--save", str(tmp_path / "m.npz")], log=lambda line: None)
    with pytest.raises(SystemExit):
        example.parse_args(["--bptt", "0"])
    assert "--bptt: must be a positive integer, got 0" in capsys.readouterr().err
