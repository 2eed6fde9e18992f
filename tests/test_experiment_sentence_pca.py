"""(9) sentence_pca: the toy language, the PCA, and what the quick run shows."""
import numpy as np
import pytest

from tools import experiments
from tools.experiments import sentence_pca


def test_the_toy_language_puts_meaning_in_word_order():
    meaning = ("john", 0, "mary")
    assert sentence_pca.sentence(meaning, "active") == ["john", "sees", "mary"]
    assert sentence_pca.sentence(meaning, "passive") == ["mary", "is", "seen", "by", "john"]
    assert sentence_pca.translation(meaning) == ["JOHN", "MARY", "SEE"]
    assert sentence_pca.translation(("mary", 0, "john")) == ["MARY", "JOHN", "SEE"]
    everything = sentence_pca.meanings()
    assert len(everything) == len(set(everything)) == 6 * 5 * 5
    sources, targets = sentence_pca.encode(everything[:3], "passive")
    assert sources.shape == (5, 3) and targets.shape == (4, 3)
    assert (targets[-1] == sentence_pca.EOS).all()


def test_pca_projects_on_the_top_eigenvectors_of_the_covariance(rng):
    points = rng.normal(size=(30, 5)) @ np.diag([5.0, 3.0, 1.0, 0.5, 0.1])
    projected, explained = sentence_pca.pca(points)
    values, vectors = np.linalg.eigh(np.cov(points.T, bias=True))
    top = vectors[:, ::-1][:, :2]
    reference = (points - points.mean(axis=0)) @ top
    np.testing.assert_allclose(np.abs(projected), np.abs(reference), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(explained, values[::-1][:2] / values.sum(), rtol=1e-10)


def test_quick_run_shows_order_sensitive_voice_insensitive_vectors(tmp_path):
    lines = []
    results = experiments.run("sentence_pca", tmp_path, quick=True, log=lines.append)
    assert min(results["accuracy"].values()) > 0.9
    # the gap is a matter of degree (0.9 here): the printout gives the ratio, and claims
    # no more than "more sensitive to order" (it said "much less to voice")
    ratio = results["paraphrase_distance"] / results["word_order_distance"]
    assert 0.5 < ratio < 1 and results["paraphrase_to_word_order"] == ratio
    assert f"a paraphrase lies {ratio:.2f} times as far as the reordering" in "\n".join(lines)
    assert "much less" not in "\n".join(lines)
    assert results["bag_of_words_distance"] == pytest.approx(0, abs=1e-12)
    assert results["closer_to_paraphrase"] > 0.7
    assert results["nearest_is_paraphrase"] > 0.2
    assert max(results["figure_paraphrase_gaps"]) < min(results["figure_word_order_gaps"])
    assert (tmp_path / "sentence_pca.png").read_bytes()[:4] == b"\x89PNG"
