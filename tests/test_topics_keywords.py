"""Keyword tagger: whole words and phrases, ZWNJ/space variants, Arabic letter variants."""

from __future__ import annotations

import pytest

from cxtext.classify.topics import fold_for_matching, keyword_topics, taxonomy_hash
from cxtext.themes.taxonomy import parse_taxonomy

TAXONOMY = parse_taxonomy(
    {
        "themes": [
            {
                "id": "delivery",
                "label_en": "Delivery",
                "label_fa": "ارسال",
                "keywords": {
                    "en": ["late delivery", "courier", "log in"],
                    "fa": ["پیک", "دیر رسید", "می خواهم"],
                },
            },
            {
                "id": "support",
                "label_en": "Support",
                "label_fa": "پشتیبانی",
                "keywords": {"en": ["support", "agent"], "fa": ["پشتيباني", "پس‌انداز", "كارت"]},
            },
        ]
    }
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Late delivery AGAIN", ["delivery"]),
        ("late   delivery", ["delivery"]),
        ("the courier was rude", ["delivery"]),
        ("couriers never come", ["delivery"]),  # inflection
        ("I cannot log-in or login", ["delivery"]),  # phrase with hyphen / joined
        ("supportive words", []),  # not a whole word
        ("agentic systems", []),
        ("support agent", ["support"]),
        ("", []),
    ],
)
def test_english_whole_words_and_phrases(text: str, expected: list[str]) -> None:
    assert keyword_topics([text], ["en"], TAXONOMY) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "پشتیبانی جواب نداد",  # Persian yeh in the text, Arabic yeh in the keyword
        "پشتيباني جواب نداد",  # Arabic yeh in both
        "كارت من",  # Arabic kaf
        "کارتم کجاست",  # possessive suffix
        "کارت‌ها کجاست",  # plural with ZWNJ
        "پس انداز",  # keyword has ZWNJ, text a space
        "پسانداز",  # ... or nothing
        "پس‌انداز من",
    ],
)
def test_persian_letter_and_zwnj_variants(text: str) -> None:
    assert keyword_topics([text], ["fa"], TAXONOMY) == [["support"]]


@pytest.mark.parametrize("text", ["می‌خواهم", "میخواهم", "می خواهم", "پیک‌ها دیر رسید"])
def test_persian_phrase_variants(text: str) -> None:
    assert keyword_topics([text], ["fa"], TAXONOMY) == [["delivery"]]


def test_persian_whole_word_only() -> None:
    # "پیکان" (a car) and "پیکنیک" contain "پیک" but are other words.
    assert keyword_topics(["پیکان قدیمی", "پیکنیک"], ["fa", "fa"], TAXONOMY) == [[], []]


def test_language_picks_keyword_lists() -> None:
    texts = ["پیک دیر رسید and the courier", "پیک دیر رسید and the support"]
    assert keyword_topics(texts, ["en", "fa"], TAXONOMY) == [["delivery"], ["delivery"]]
    assert keyword_topics(texts, ["mixed", "mixed"], TAXONOMY) == [
        ["delivery"],
        ["delivery", "support"],
    ]
    assert keyword_topics(texts, None, TAXONOMY) == [["delivery"], ["delivery", "support"]]


def test_hostile_inputs() -> None:
    texts = ["😀😀😀", "x" * 200_000 + " courier", "\u200c\u200c", "(((", None]
    assert keyword_topics(texts, ["other", "en", "fa", "en", "en"], TAXONOMY) == [
        [],
        ["delivery"],
        [],
        [],
        [],
    ]


def test_fold_and_hash() -> None:
    assert fold_for_matching("ي ك\u200cة") == "ی که"
    assert taxonomy_hash(TAXONOMY) == taxonomy_hash(
        parse_taxonomy(
            {
                "themes": [
                    {
                        "id": t.id,
                        "label_en": "x",
                        "label_fa": "y",
                        "keywords": {k: list(v) for k, v in t.keywords.items()},
                    }
                    for t in TAXONOMY.themes
                ]
            }
        )
    )
