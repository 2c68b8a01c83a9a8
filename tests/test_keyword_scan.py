"""The keyword matcher's one-pass scan finds exactly the themes that one search per theme finds."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxtext.classify import topics
from cxtext.classify.topics import _build_matcher, _keywords_key
from cxtext.themes.taxonomy import load_taxonomy, parse_taxonomy

SHIPPED = load_taxonomy(Path(__file__).resolve().parents[1] / "data" / "taxonomy.yaml")
# Keywords that overlap across themes: "card" and "card arrival" start at the same
# word, and so do "app" and "app crash"; one theme's keyword ends inside another's.
OVERLAPPING = parse_taxonomy(
    {
        "themes": [
            {"id": "cards", "label_en": "Cards", "label_fa": "کارت",
             "keywords": {"en": ["card", "pin"], "fa": ["کارت", "رمز"]}},
            {"id": "arrival", "label_en": "Arrival", "label_fa": "رسیدن",
             "keywords": {"en": ["card arrival"], "fa": ["کارت نرسیده"]}},
            {"id": "app", "label_en": "App", "label_fa": "اپ",
             "keywords": {"en": ["app", "app crash", "crash"], "fa": ["اپ", "برنامه"]}},
            {"id": "pins", "label_en": "Pins", "label_fa": "پین",
             "keywords": {"en": ["pin code", "pinned"], "fa": ["رمز دوم"]}},
        ]
    }
)  # fmt: skip


@cache
def _matchers(key: str) -> tuple[topics.KeywordMatcher, topics.KeywordMatcher]:
    """Two fresh matchers of one taxonomy: one that always searches per theme, one that scans."""
    per_theme, scanning = _build_matcher(key), _build_matcher(key)
    per_theme.texts_seen = -sys.maxsize  # never reaches SCAN_AFTER_TEXTS: one search per theme
    scanning.scans = topics._keyword_scans(scanning.keywords)
    return per_theme, scanning


def _both_ways(taxonomy, texts, languages):
    """(one search per theme, the scan) for the same texts."""
    per_theme, scanning = _matchers(_keywords_key(taxonomy))
    return (
        [per_theme.themes_in(t, lang) for t, lang in zip(texts, languages, strict=True)],
        [scanning.themes_in(t, lang) for t, lang in zip(texts, languages, strict=True)],
    )


@pytest.mark.parametrize("language", ["en", "fa", "mixed"])
def test_overlapping_keywords_at_one_word_start(language: str) -> None:
    texts = [
        "my card arrival is late",  # cards and arrival start at "card"
        "card-arrival, app crash and a pinned pin code",
        "xcard arrival",  # not at a word start
        "pin code",  # two themes, both only at the first word
        "app crashed",  # suffix
        "appcrash",  # joined phrase
        "کارت نرسیده و رمز دوم",
        "کارتهایم نرسیده",
        "کارت نرسیده",
        "",
        "no keyword here",
    ]
    per_theme, scanning = _both_ways(OVERLAPPING, texts, [language] * len(texts))
    assert scanning == per_theme
    if language == "en":
        assert scanning[:4] == [
            ["cards", "arrival"],
            ["cards", "arrival", "app", "pins"],
            [],
            ["cards", "pins"],
        ]


def test_shipped_taxonomy_on_the_sample() -> None:
    import pandas as pd

    folder = Path(__file__).resolve().parents[1] / "data" / "sample" / "feedback"
    texts = [
        str(t)
        for name in ("tickets_en.csv", "tickets_fa.csv")
        for t in pd.read_csv(folder / name, dtype=str, encoding="utf-8-sig")["text"].dropna()
    ]
    assert len(texts) > 1000
    for language in ("fa", "en", "other"):
        per_theme, scanning = _both_ways(SHIPPED, texts, [language] * len(texts))
        assert scanning == per_theme
        assert sum(map(bool, scanning)) > 100  # the sample does hold keywords


_WORDS = [w for t in SHIPPED.themes for ws in t.keywords.values() for w in ws][::7]
_PIECES = st.sampled_from(_WORDS + ["x", "ها", "s", "ed", "-", " ", "\u200c", "a", "ی"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_PIECES, max_size=8).map("".join), st.sampled_from(["fa", "en", "mixed"]))
def test_scan_equals_search_on_keyword_fragments(text: str, language: str) -> None:
    per_theme, scanning = _both_ways(SHIPPED, [text], [language])
    assert scanning == per_theme


def test_scans_are_built_after_enough_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(topics, "SCAN_AFTER_TEXTS", 2)
    matcher = _build_matcher(_keywords_key(OVERLAPPING))
    got = [matcher.themes_in("card arrival", "en") for _ in range(4)]
    assert matcher.scans is not None
    assert got == [["cards", "arrival"]] * 4
