"""Text preparation transformers: Persian/English normalization, negation, placeholders."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from cxtext.classify.features import (
    EMPTY_TOKEN,
    TextPreparer,
    make_text_features,
    prepare_english_tokens,
    prepare_persian_tokens,
)


def test_persian_elongation_arabic_letters_and_zwnj():
    tokens = prepare_persian_tokens("عاااالی بود، ممنون از كيفيت")
    assert "عالی" in tokens
    assert "کیفیت" in tokens  # Arabic kaf/yeh folded to Persian


def test_persian_negated_verb_kept_with_neg_feature():
    tokens = prepare_persian_tokens("غذا نمی‌رسه")
    assert "نمی\u200cرسه" in tokens
    assert "NEG_رسه" in tokens
    assert prepare_persian_tokens("غذا نمیرسه")[-1] == "NEG_رسه"  # without the ZWNJ too


def test_persian_copula_negation_marks_the_word_before():
    assert prepare_persian_tokens("غذا گرم نبود")[:2] == ["غذا", "NEG_گرم"]
    assert prepare_persian_tokens("اصلا راضی نیستم")[1] == "NEG_راضی"
    assert "NEG_کیفیت" in prepare_persian_tokens("بدون کیفیت")


def test_persian_negation_does_not_touch_ordinary_words():
    tokens = prepare_persian_tokens("نان تازه و نوشابه خنک بود")
    assert not any(t.startswith("NEG_") for t in tokens)


def test_english_negation_scope_stops_at_punctuation():
    tokens = prepare_english_tokens("The food was not good, but the driver was nice")
    assert "NOT_good" in tokens
    assert "nice" in tokens and "NOT_nice" not in tokens
    assert "NOT_helpful" in prepare_english_tokens("they weren't helpful")


def test_english_placeholders_and_lowercase():
    tokens = prepare_english_tokens(
        "@united LOST my bag!! http://t.co/x mail me a@b.com 3 hrs soooo bad"
    )
    assert tokens[0] == "xxuser"
    assert {"xxurl", "xxemail", "xxnum"} <= set(tokens)
    assert "lost" in tokens and "soo" in tokens


def test_preparer_auto_language_and_hostile_values():
    prep = TextPreparer()
    out = prep.fit_transform(
        ["Not good", "خوب نبود", None, float("nan"), "", "   ", "😡😡", "<p>bad&nbsp;app</p>", 42]
    )
    assert out[0] == "not NOT_good"
    assert out[1].startswith("NEG_خوب")
    assert out[2] == out[3] == out[4] == out[5] == EMPTY_TOKEN
    assert out[6] == "😡 😡"
    assert out[7] == "bad app"
    assert out[8] == "xxnum"
    assert all(" " not in t for s in out for t in s.split(" "))


def test_preparer_caps_huge_documents():
    prep = TextPreparer(max_chars=1000)
    out = prep.transform(["word " * 20_000])
    assert len(out[0].split()) == 200


def test_preparer_is_a_well_behaved_estimator():
    prep = TextPreparer(lang="fa", negation=False)
    assert clone(prep).get_params() == prep.get_params()
    assert prep.transform(pd.Series(["خوب نبود"])) == ["خوب نبود"]
    assert prep.transform(np.array([["hello"]], dtype=object)) == ["hello"]


def test_text_features_pipeline_keeps_whole_tokens():
    model = make_pipeline(TextPreparer(lang="en"), make_text_features(min_df=1))
    matrix = model.fit_transform(["not good at all", "very good"])
    assert matrix.shape[0] == 2
    vocab = model[-1].transformer_list[0][1].vocabulary_
    assert "NOT_good" in vocab and "very good" in vocab
