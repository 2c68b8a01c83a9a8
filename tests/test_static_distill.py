"""The Tokenlearn fit of the static table: text means of word rows regress text embeddings."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cxtext.classify.static import (
    count_matrix,
    distill_table,
    fit_token_table,
    weighted_mean_matrix,
)


def _corpus(seed: int = 0, words: int = 40, texts: int = 400, dims: int = 6):
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(words)]
    truth = rng.normal(size=(words, dims))
    prepared = [" ".join(rng.choice(vocab, size=rng.integers(2, 8))) for _ in range(texts)]
    return vocab, truth, prepared


def test_count_matrix_drops_negation_marks_and_unknown_words():
    counts = count_matrix(["a NOT_b a zz", ""], ["a", "b"])
    assert counts.toarray().tolist() == [[2, 1], [0, 0]]


def test_fit_recovers_word_rows_that_explain_the_texts():
    vocab, truth, prepared = _corpus()
    counts = count_matrix(prepared, vocab)
    weights = np.linspace(0.5, 1.5, len(vocab))
    M = weighted_mean_matrix(counts, weights)
    targets = M @ truth
    prior = np.zeros_like(truth)
    fitted = fit_token_table(M, targets, prior, l2=1e-6)
    assert np.abs(M @ fitted - targets).max() < 1e-3
    assert np.abs(fitted - truth).max() < 0.05
    # a strong ridge keeps the rows at the prior
    assert np.abs(fit_token_table(M, targets, truth * 0.5, l2=1e6) - truth * 0.5).max() < 1e-3


def test_words_in_no_text_keep_their_prior():
    M = sp.csr_matrix(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    prior = np.arange(6, dtype=float).reshape(3, 2)
    fitted = fit_token_table(M, np.ones((2, 2)), prior, l2=0.1)
    assert np.allclose(fitted[2], prior[2])
    assert np.allclose(fitted[:2], (1 + 0.1 * prior[:2]) / 1.1, atol=1e-5)


def test_distilled_table_beats_the_word_embeddings_alone():
    vocab, truth, prepared = _corpus(seed=1, dims=16)
    counts = np.asarray(count_matrix(prepared, vocab).sum(axis=0)).ravel()
    text_vectors = np.asarray(
        weighted_mean_matrix(count_matrix(prepared, vocab), np.ones(40)) @ truth
    )
    noisy_words = truth + np.random.default_rng(2).normal(scale=2.0, size=truth.shape)
    table, fit = distill_table(vocab, counts, noisy_words, prepared, text_vectors, dims=8)
    assert table.shape == (40, 8) and table.dtype == np.float16
    cosines = fit["validation_cosine"]
    assert cosines[str(fit["l2"])] > cosines["prior only"] + 0.1
    assert cosines[str(fit["l2"])] > 0.9
