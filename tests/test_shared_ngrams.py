"""The shared n-gram pass gives exactly scikit-learn's features and probabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import FunctionTransformer

from cxtext.classify.features import CompactTfidfVectorizer
from cxtext.classify.registry import load_model
from cxtext.classify.shared_ngrams import SharedNgrams, _char_wb_ngrams, _split_model
from cxtext.classify.stage import _split_preparation
from cxtext.classify.text_input import stored_texts
from cxtext.normalize.documents import normalize_text

REPO = Path(__file__).resolve().parents[1]
MODELS = ("sentiment-fa-v1", "sentiment-en-v1", "topic-v1", "topic-static-v1")
ODD = [
    "",
    "a",
    "aaaa aaaa",
    "xxempty",
    "NEG_خوب نبود NEG_بود",
    "not NOT_good NOT_at NOT_all !",
    "the app crashes on login, refund [EMAIL] please",
    "اپ موقع login کرش میکنه\tو\u00a0password  reset هم کار نمیکنه",
]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """Sample feedback as the normalize stage stores it, plus odd strings."""
    frames = [
        pd.read_csv(REPO / "data" / "sample" / "feedback" / f, encoding_errors="replace")
        for f in ("tickets_en.csv", "tickets_fa.csv")
    ]
    raw = pd.concat(frames)["text"].dropna().astype(str).tolist()[::4]
    return [normalize_text(t)[1] for t in raw] + ODD


def _same(a, b) -> bool:
    return (
        a.shape == b.shape
        and a.dtype == b.dtype
        and a.indices.dtype == b.indices.dtype
        and np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.data, b.data)
    )


@pytest.mark.parametrize("name", MODELS)
def test_shipped_models_features_and_probabilities_are_identical(name: str, texts) -> None:
    model, _ = load_model(name, REPO / "models")
    prep, rest = _split_preparation(model)
    prepared = prep.transform_normalized(texts)
    parts = _split_model(rest)
    assert parts is not None, f"{name}: the shared pass should apply"
    shared = SharedNgrams()
    shared.predict_proba(rest, prepared[::3])  # a first batch fills the word cache
    union = rest.steps[0][1]
    for _, vec in union.transformer_list:
        if isinstance(vec, CompactTfidfVectorizer):
            assert _same(vec.transform(prepared), shared.tfidf(vec, prepared)), vec.analyzer
    np.testing.assert_array_equal(
        shared.predict_proba(rest, prepared), rest.predict_proba(prepared)
    )


def test_the_encoder_models_nested_tfidf_branch_takes_the_shared_pass(texts) -> None:
    """The concatenated tfidf+encoder champion: TF-IDF nested after its TextPreparer,
    beside the e5 block; the union's features and the probabilities are sklearn's."""
    model, _ = load_model("sentiment-en-encoder-v1", REPO / "models")
    assert _split_model(model) is not None, "the shared pass should apply"
    batch = texts[::2]
    union = model.steps[0][1]
    with stored_texts():  # as the classify stage calls it
        expected = union.transform(batch)
        shared = SharedNgrams()
        got = sparse.hstack([shared._block(t, batch) for _, t in union.transformer_list])
        assert _same(expected.tocsr(), got.tocsr())
        np.testing.assert_array_equal(
            shared.predict_proba(model, batch), model.predict_proba(batch)
        )


def test_a_word_vectorizer_with_its_own_analyzer_counts_the_same() -> None:
    docs = ["Good food  good FOOD", "bad food", "late courier, late", "great", "a b c d"]
    union = make_union(
        CompactTfidfVectorizer(analyzer="word", lowercase=True, ngram_range=(1, 3)),
        CompactTfidfVectorizer(
            analyzer="word", token_pattern=r"\S+", lowercase=False, ngram_range=(2, 3)
        ),
        CompactTfidfVectorizer(analyzer="char_wb", lowercase=False, ngram_range=(1, 4)),
    )
    model = make_pipeline(union, LogisticRegression()).fit(docs, [1, 1, 0, 1, 0])
    assert _split_model(model) is not None
    shared = SharedNgrams()
    for _, vec in union.transformer_list:
        assert _same(vec.transform(docs), shared.tfidf(vec, docs))
    np.testing.assert_array_equal(shared.predict_proba(model, docs), model.predict_proba(docs))


def test_a_model_it_does_not_know_is_called_as_it_is() -> None:
    docs = ["good food", "bad food", "late courier", "great"]
    y = [1, 0, 0, 1]
    plain = make_pipeline(
        make_union(CompactTfidfVectorizer(analyzer="char_wb", lowercase=True)),
        LogisticRegression(),
    ).fit(docs, y)
    odd = make_pipeline(
        FunctionTransformer(lambda x: np.c_[[len(t) for t in x]]), LogisticRegression()
    )
    odd.fit(docs, y)
    assert _split_model(plain) is None  # lower-casing: char n-grams are not per word
    assert _split_model(odd) is None
    shared = SharedNgrams()
    for model in (plain, odd):
        np.testing.assert_array_equal(
            shared.predict_proba(model, ["GOOD food", "late"]),
            model.predict_proba(["GOOD food", "late"]),
        )


@pytest.mark.parametrize("ngram_range", [(1, 5), (2, 5), (1, 1), (3, 3), (4, 6)])
def test_char_wb_ngrams_of_a_word_are_sklearns(ngram_range: tuple[int, int]) -> None:
    vec = CompactTfidfVectorizer(analyzer="char_wb", lowercase=False, ngram_range=ngram_range)
    analyze = vec.build_analyzer()
    for word in ["a", "ab", "abc", "abcd", "abcdefgh", "aaaa", "!", "نمی\u200cخواهم", "NEG_خوب"]:
        assert _char_wb_ngrams(word, *ngram_range) == analyze(word), word
