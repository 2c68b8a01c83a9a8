"""The classify stage: row order and count on hostile input, valid JSON columns, registry fallback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from cxtext.classify.features import TextPreparer, make_text_features
from cxtext.classify.registry import promote, save_model
from cxtext.classify.stage import Classifiers, classify_feedback, load_classifiers
from cxtext.classify.topics import build_topic_model, labels_to_indicator, taxonomy_hash
from cxtext.schema import FEEDBACK, SENTIMENTS
from cxtext.themes.taxonomy import parse_taxonomy

TAXONOMY = parse_taxonomy(
    {
        "themes": [
            {
                "id": "delivery",
                "label_en": "Delivery",
                "label_fa": "ارسال",
                "keywords": {"en": ["delivery", "courier", "late"], "fa": ["پیک", "ارسال", "دیر"]},
            },
            {
                "id": "product_quality",
                "label_en": "Product",
                "label_fa": "کیفیت",
                "keywords": {"en": ["food", "quality"], "fa": ["غذا", "کیفیت"]},
            },
        ]
    }
)
EN = (
    ["great food", "excellent quality", "love it", "good", "very good service"],
    ["very bad", "terrible and late", "awful", "hate it", "worst courier"],
    ["ok", "it is a thing", "fine I guess", "average", "normal"],
)
FA = (
    ["غذا عالی بود", "کیفیت عالی", "خوب بود", "عالی", "خیلی خوب"],
    ["خیلی بد بود", "پیک دیر رسید", "افتضاح", "بد", "بد بود"],
    ["معمولی", "متوسط", "نه خوب نه بد", "عادی", "همینطور"],
)


def _sentiment(texts: tuple[list[str], list[str], list[str]], lang: str):
    x = texts[0] + texts[1] + texts[2]
    y = ["positive"] * 5 + ["negative"] * 5 + ["neutral"] * 5
    return make_pipeline(
        TextPreparer(lang=lang), make_text_features(min_df=1), LogisticRegression(C=10)
    ).fit(x, y)


@pytest.fixture(scope="module")
def classifiers() -> Classifiers:
    return Classifiers(
        TAXONOMY,
        {"fa": _sentiment(FA, "fa"), "en": _sentiment(EN, "en")},
        {"fa": "s-fa-v0", "en": "s-en-v0"},
    )


HOSTILE = pd.DataFrame(
    {
        "id": [f"d{i}" for i in range(9)],
        "language": ["en", "fa", "other", "other", "en", "mixed", None, "fa", "xx"],
        "text_redacted": [
            "the delivery was late but the food was great",
            "غذا عالی بود ولی پیک خیلی دیر رسید",
            "",
            "😀😀😀🔥",
            "late " * 40_000,
            "اپ موقع login کرش میکنه ولی delivery خوب بود",
            None,
            "   \u200c ",
            "((((((",
        ],
        "customer_id": ["c1", None, "c3", "c4", "c5", "c6", "c7", "c8", "c9"],
    },
    index=[10, 3, 7, 1, 2, 5, 4, 8, 0],  # a non-default index must not matter
)


def test_hostile_input_keeps_rows_and_gives_valid_columns(classifiers: Classifiers) -> None:
    out = classify_feedback(HOSTILE, classifiers, topic_threshold=0.5, neutral_band=0.2)
    assert len(out) == len(HOSTILE)
    assert list(out["id"]) == list(HOSTILE["id"])
    assert list(out.index) == list(HOSTILE.index)
    assert out["customer_id"].tolist() == HOSTILE["customer_id"].tolist()
    for col in (
        "topics",
        "topic_scores",
        "sentiment",
        "sentiment_score",
        "aspect_sentiment",
        "topic_model",
        "sentiment_model",
    ):
        assert col in FEEDBACK.columns and out[col].notna().all(), col
    for _, row in out.iterrows():
        topics = json.loads(row["topics"])
        scores = json.loads(row["topic_scores"])
        aspects = json.loads(row["aspect_sentiment"])
        assert isinstance(topics, list) and set(topics) <= set(TAXONOMY.ids)
        assert isinstance(scores, dict) and all(0 <= v <= 1 for v in scores.values())
        assert set(aspects) == set(topics) and set(aspects.values()) <= set(SENTIMENTS)
        assert row["sentiment"] in SENTIMENTS and -1 <= row["sentiment_score"] <= 1
    empty = out[out["id"].isin(["d2", "d6", "d7"])]
    assert (empty["sentiment"] == "neutral").all() and (empty["topics"] == "[]").all()
    assert (empty["sentiment_score"] == 0).all()
    assert out["topic_model"].iloc[0] == f"keywords:{taxonomy_hash(TAXONOMY)}"
    assert out["sentiment_model"].iloc[0] == "en:s-en-v0|fa:s-fa-v0"


def test_aspects_of_late_but_great(classifiers: Classifiers) -> None:
    out = classify_feedback(HOSTILE.iloc[:2], classifiers, topic_threshold=0.5, neutral_band=0.2)
    for raw in out["aspect_sentiment"]:
        assert json.loads(raw) == {"delivery": "negative", "product_quality": "positive"}


def test_empty_partition(classifiers: Classifiers) -> None:
    out = classify_feedback(HOSTILE.iloc[:0], classifiers, topic_threshold=0.5, neutral_band=0.2)
    assert len(out) == 0 and "topics" in out.columns


def test_registry_round_trip_with_and_without_topic_model(
    tmp_path: Path, classifiers: Classifiers
) -> None:
    for lang in ("fa", "en"):
        save_model(
            classifiers.sentiment[lang], f"sentiment-{lang}-v0", {"task": "sentiment"}, tmp_path
        )
        promote(f"sentiment-{lang}-v0", f"sentiment-{lang}", tmp_path)
    loaded = load_classifiers(tmp_path, TAXONOMY)
    assert loaded.topic is None
    assert loaded.topic_model == f"keywords:{taxonomy_hash(TAXONOMY)}"
    assert loaded.sentiment_model == "en:sentiment-en-v0|fa:sentiment-fa-v0"

    texts = [*EN[0], *EN[1], *FA[0], *FA[1]] * 2
    labels = [
        ["product_quality"],
        ["product_quality"],
        [],
        [],
        [],
        [],
        ["delivery"],
        [],
        [],
        ["delivery"],
    ] * 4
    topic = build_topic_model(TAXONOMY.ids, min_df=1, cv=2).fit(
        texts, labels_to_indicator(labels, TAXONOMY.ids)
    )
    save_model(topic, "topic-v0", {"task": "topic"}, tmp_path)
    promote("topic-v0", "topic", tmp_path)
    loaded = load_classifiers(tmp_path, TAXONOMY)
    assert loaded.topic is not None and loaded.topic_model == "topic-v0"
    out = classify_feedback(HOSTILE, loaded, topic_threshold=0.5, neutral_band=0.2)
    scores = json.loads(out["topic_scores"].iloc[0])
    assert set(scores) == set(TAXONOMY.ids)
    # Shared text preparation gives exactly the topic model's own probabilities.
    live = [t if isinstance(t, str) else "" for t in HOSTILE["text_redacted"]]
    direct = topic.predict_proba(live)
    for k, raw in enumerate(out["topic_scores"]):
        got = json.loads(raw)
        if got:
            assert np.allclose([got[t] for t in TAXONOMY.ids], direct[k].round(3), atol=1e-9)
    assert "delivery" in json.loads(
        out["topics"].iloc[0]
    )  # keyword hit even if the model is unsure


def test_missing_sentiment_champion_is_an_actionable_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="sentiment-fa"):
        load_classifiers(tmp_path, TAXONOMY)


def test_a_text_counts_as_empty_exactly_when_only_spaces_and_invisible_marks_remain() -> None:
    """The search for a visible character equals deleting the marks and stripping."""
    from cxtext.classify.stage import _VISIBLE

    marks = "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"
    drop = str.maketrans(dict.fromkeys(marks))
    for cp in range(0x110000):
        ch = chr(cp)
        assert (_VISIBLE.search(f" {ch}\u200c ") is not None) == bool(
            f" {ch}\u200c ".translate(drop).strip()
        ), hex(cp)
