"""The classify stage embeds each distinct text once per partition, for every encoder model.

The e5 runtime is replaced by a fake whose vectors depend on the text alone (as the real
one's do: tested in test_encoder.py), so the test counts encoder calls in seconds.
"""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from cxtext.classify import encoder
from cxtext.classify.embedding_cache import active_cache, shared_embeddings
from cxtext.classify.stage import Classifiers, classify_feedback
from cxtext.classify.training import train_model
from cxtext.themes.taxonomy import parse_taxonomy

TAXONOMY = parse_taxonomy(
    {
        "themes": [
            {"id": "delivery", "label_en": "D", "label_fa": "ارسال",
             "keywords": {"en": ["courier", "late"], "fa": ["پیک"]}},
            {"id": "food", "label_en": "F", "label_fa": "غذا",
             "keywords": {"en": ["food"], "fa": ["غذا"]}},
        ]
    }
)  # fmt: skip
EN = ["great food", "lovely food again", "the courier was late", "late courier, rude too",
      "ok I guess", "food was fine", "courier came on time", "terrible food"] * 3  # fmt: skip
EN_SENT = ["positive", "positive", "negative", "negative", "neutral", "neutral", "positive",
           "negative"] * 3  # fmt: skip
FA = ["غذا عالی بود", "پیک دیر رسید", "غذا سرد بود", "پیک خوب بود"] * 3
TOPIC_TEXTS = EN + FA
TOPIC_LABELS = [["food"] if ("food" in t or "غذا" in t) else ["delivery"] for t in TOPIC_TEXTS]


@pytest.fixture
def calls(monkeypatch) -> list[list[str]]:
    """Every batch the encoder is asked to embed; vectors are a hash of the text."""
    seen: list[list[str]] = []

    def fake(texts, *, prefix=encoder.PASSAGE_PREFIX, **_):
        seen.append(list(texts))
        rows = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha256((prefix + t).encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).normal(size=encoder.EMBEDDING_DIM)
            rows.append(v / np.linalg.norm(v))
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), encoder.EMBEDDING_DIM)

    monkeypatch.setattr(encoder, "embed_texts", fake)
    return seen


@pytest.fixture
def classifiers(calls) -> Classifiers:
    """English sentiment with the encoder concatenated, a late-fusion topic model, TF-IDF Persian."""
    en = train_model(EN, EN_SENT, task="sentiment", lang="en",
                     params={"features": "tfidf+encoder", "feature_weight": 2.0})  # fmt: skip
    fa = train_model(FA, ["positive", "negative"] * 6, task="sentiment", lang="fa")
    topic = train_model(TOPIC_TEXTS, TOPIC_LABELS, task="topic", params={
        "features": "tfidf+encoder", "fusion": "late", "feature_weight": 0.5, "embed_C": 4.0})  # fmt: skip
    calls.clear()  # training's own calls do not count
    return Classifiers(TAXONOMY, {"en": en, "fa": fa}, {"en": "en", "fa": "fa"}, topic, "topic")


def _partition() -> pd.DataFrame:
    texts = [
        "the food was great but the courier was late",  # two topics: clauses are scored too
        "great food",
        "great food",  # a repeated document
        "the courier was late",
        "غذا عالی بود ولی پیک دیر رسید",
        "پیک دیر رسید",
        "",
    ]
    langs = ["en", "en", "en", "en", "fa", "fa", "en"]
    return pd.DataFrame({"id": [f"d{i}" for i in range(len(texts))], "language": langs,
                         "text_redacted": texts})  # fmt: skip


def test_each_distinct_text_is_embedded_once_and_output_is_unchanged(classifiers, calls):
    docs = _partition()
    alone = classify_feedback(
        docs, classifiers, topic_threshold=0.5, neutral_band=0.1, share_embeddings=False
    )
    unshared = [t for batch in calls for t in batch]
    calls.clear()
    shared = classify_feedback(docs, classifiers, topic_threshold=0.5, neutral_band=0.1)
    embedded = [t for batch in calls for t in batch]
    pd.testing.assert_frame_equal(shared, alone)
    # every text the models read is embedded exactly once, whichever model asked first
    assert set(embedded) == set(unshared)
    assert max(Counter(embedded).values()) == 1
    # without sharing, the English documents went to the encoder at least twice (two models)
    counts = Counter(unshared)
    assert counts["great food"] >= 4 and counts["the courier was late"] >= 2
    assert len(unshared) >= 2 * len(embedded) - 2
    # a Persian document: only the topic model embeds it, once either way (its clause
    # "پیک دیر رسید" is also a document: two calls without sharing, one with)
    assert counts["غذا عالی بود ولی پیک دیر رسید"] == 1 and counts["پیک دیر رسید"] == 2
    assert active_cache() is None  # the cache lived for the partition only


def test_cache_serves_repeats_and_keeps_settings_apart(calls):
    with shared_embeddings() as cache:
        e = encoder.E5Embedder()
        first = e.transform(["a", "b", "a"])
        again = encoder.E5Embedder(weight=2.0).transform(["b", "c"])
        query = encoder.E5Embedder(prefix="query: ").transform(["a"])
    assert calls == [["a", "b"], ["c"], ["a"]]  # "query: a" is another string to embed
    assert (cache.embedded, cache.served) == (4, 2)
    np.testing.assert_array_equal(first[0], first[2])
    np.testing.assert_array_equal(again[0], 2.0 * first[1])
    assert not np.allclose(query[0], first[0])
    assert encoder.E5Embedder().transform([]).shape == (0, encoder.EMBEDDING_DIM)


def test_english_only_encoder_topic_model_never_embeds_persian(calls):
    """encoder_languages=en: Persian rows are neither fitted nor scored by the encoder member."""
    topic = train_model(TOPIC_TEXTS, TOPIC_LABELS, task="topic", params={
        "features": "tfidf+encoder", "fusion": "late", "feature_weight": 0.5, "embed_C": 4.0,
        "encoder_languages": "en"})  # fmt: skip
    trained_on = [t for batch in calls for t in batch]
    assert set(trained_on) == set(EN)  # the Persian training texts were never embedded
    en = train_model(EN, EN_SENT, task="sentiment", lang="en",
                     params={"features": "tfidf+encoder", "feature_weight": 2.0})  # fmt: skip
    fa = train_model(FA, ["positive", "negative"] * 6, task="sentiment", lang="fa")
    classifiers = Classifiers(TAXONOMY, {"en": en, "fa": fa}, {"en": "en", "fa": "fa"}, topic, "t")
    calls.clear()
    docs = _partition()
    out = classify_feedback(docs, classifiers, topic_threshold=0.5, neutral_band=0.1)
    embedded = [t for batch in calls for t in batch]
    assert embedded and not any("پیک" in t or "غذا" in t for t in embedded)
    assert max(Counter(embedded).values()) == 1  # shared with the sentiment champion
    # Persian rows: the TF-IDF member's probabilities alone; English rows: the blend
    fa_rows = ["غذا عالی بود ولی پیک دیر رسید", "پیک دیر رسید"]
    np.testing.assert_allclose(topic.predict_proba(fa_rows), topic.tfidf_.predict_proba(fa_rows))
    en_rows = ["the courier was late"]
    blend = 0.5 * topic.tfidf_.predict_proba(en_rows) + 0.5 * topic.encoder_.predict_proba(en_rows)
    np.testing.assert_allclose(topic.predict_proba(en_rows), blend)
    unshared = classify_feedback(
        docs, classifiers, topic_threshold=0.5, neutral_band=0.1, share_embeddings=False
    )
    pd.testing.assert_frame_equal(out, unshared)


def test_language_gate_decides_raw_and_stored_text_alike():
    from cxtext.classify.late_fusion import LanguageGate
    from cxtext.normalize.documents import normalize_text

    raw = [
        "the courier was late",
        "پیک دیر رسید",
        "پیک دیر رسید، ایمیل من john.smith.longname@example.com است",  # Latin only in PII
        "app crashed again اپ کرش کرد",
        "",
    ]
    gate = LanguageGate(languages=("en",))
    stored = [normalize_text(t)[1] for t in raw]
    assert gate.gated(raw).tolist() == gate.gated(stored).tolist() == [
        True, False, False, gate.gated([stored[3]])[0], True]  # fmt: skip
    with pytest.raises(ValueError, match="encoder_languages"):
        train_model(EN, EN_SENT, task="sentiment", lang="en", params={
            "features": "tfidf+encoder", "fusion": "late", "encoder_languages": "en"})  # fmt: skip
