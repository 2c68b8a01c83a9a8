"""Aspect sentiment: clause splitting and per-theme sentiment on the "late but great" examples."""

from __future__ import annotations

import numpy as np

from cxtext.classify.aspects import (
    SENTIMENT_CLASSES,
    aspect_sentiments,
    label_from_proba,
    sentiment_score,
    split_clauses,
)
from cxtext.classify.topics import keyword_matcher
from cxtext.themes.taxonomy import parse_taxonomy

TAXONOMY = parse_taxonomy(
    {
        "themes": [
            {
                "id": "delivery",
                "label_en": "Delivery",
                "label_fa": "ارسال",
                "keywords": {"en": ["delivery", "courier"], "fa": ["پیک", "ارسال"]},
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
NEGATIVE = ("late", "dir", "دیر", "bad", "بد")
POSITIVE = ("great", "عالی", "good", "خوب")


def lexicon_scores(clauses: list[str], langs: list[str]) -> np.ndarray:
    """A stand-in sentiment model: counts of cue words -> probabilities."""
    out = []
    for c in clauses:
        neg = sum(w in c for w in NEGATIVE)
        pos = sum(w in c for w in POSITIVE)
        out.append(
            [0.8, 0.1, 0.1] if neg > pos else [0.1, 0.1, 0.8] if pos > neg else [0.1, 0.8, 0.1]
        )
    return np.array(out)


def argmax_labels(proba: np.ndarray, langs: list[str]) -> list[str]:
    return label_from_proba(proba, SENTIMENT_CLASSES, 0.2)


def test_split_english_and_persian() -> None:
    assert split_clauses("delivery was late but the food was great") == [
        "delivery was late",
        "the food was great",
    ]
    assert split_clauses("غذا عالی بود ولی پیک خیلی دیر رسید") == [
        "غذا عالی بود",
        "پیک خیلی دیر رسید",
    ]
    assert split_clauses("غذا عالی بود. اما پیک دیر رسید!") == ["غذا عالی بود", "پیک دیر رسید"]
    assert split_clauses("غذا خوب بود ولیکن ارسال دیر بود") == ["غذا خوب بود", "ارسال دیر بود"]
    assert split_clauses("Food was great; however, delivery was late") == [
        "Food was great",
        "delivery was late",
    ]
    assert split_clauses("") == []
    assert split_clauses("!!! ... 😀") == []


def test_conjunction_inside_a_word_does_not_split() -> None:
    assert split_clauses("butter is buttery") == ["butter is buttery"]
    assert split_clauses("امانت من") == ["امانت من"]


def test_late_but_great_in_both_languages() -> None:
    texts = ["delivery was late but the food was great", "غذا عالی بود ولی پیک خیلی دیر رسید"]
    topics = [["delivery", "product_quality"], ["delivery", "product_quality"]]
    out = aspect_sentiments(
        texts,
        ["en", "fa"],
        topics,
        ["neutral", "neutral"],
        matcher=keyword_matcher(TAXONOMY),
        score_clauses=lexicon_scores,
        label_clauses=argmax_labels,
    )
    expected = {"delivery": "negative", "product_quality": "positive"}
    assert out == [expected, expected]


def test_unmentioned_theme_keeps_document_sentiment_and_single_topic_is_not_split() -> None:
    out = aspect_sentiments(
        ["the food was great but slow", "delivery late but great", "nothing here"],
        ["en", "en", "en"],
        [["delivery", "product_quality"], ["delivery"], []],
        ["negative", "positive", "neutral"],
        matcher=keyword_matcher(TAXONOMY),
        score_clauses=lexicon_scores,
        label_clauses=argmax_labels,
    )
    assert out == [
        {"delivery": "negative", "product_quality": "positive"},
        {"delivery": "positive"},
        {},
    ]


def test_labels_and_scores() -> None:
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7], [0.2, 0.6, 0.2]])
    assert label_from_proba(proba, SENTIMENT_CLASSES, 0.2) == ["negative", "positive", "neutral"]
    binary = np.array([[0.55, 0.45], [0.9, 0.1], [0.2, 0.8]])
    assert label_from_proba(binary, ["negative", "positive"], 0.2) == [
        "neutral",
        "negative",
        "positive",
    ]
    assert np.allclose(sentiment_score(proba, SENTIMENT_CLASSES), [-0.6, 0.6, 0.0])
