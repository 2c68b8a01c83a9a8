"""Language id, hazm normalization of real Persian strings, cleaning of ugly text."""

from __future__ import annotations

import unicodedata
from functools import cache

import pandas as pd
import pytest
from hazm import Lemmatizer, Normalizer, WordTokenizer
from hypothesis import given, settings
from hypothesis import strategies as st

from cxtext.normalize.documents import normalize_feedback
from cxtext.normalize.english import tokenize_english
from cxtext.normalize.language import detect_language, letter_counts
from cxtext.normalize.markup import clean_text
from cxtext.normalize.persian import ZWNJ, normalize_persian, tokenize_persian


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ارسال خیلی دیر بود و پشتیبانی جواب نداد", "fa"),
        ("The refund still hasn't arrived after two weeks", "en"),
        ("اپلیکیشن موقع login کرش میکنه، password reset هم کار نمیکنه", "mixed"),
        ("😡😡😡 !!!", "other"),
        ("12345", "other"),
        ("Приложение не работает", "other"),
        ("پشتیبانی خیلی عالی بود و سریع جواب دادن، thanks", "fa"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def _reference_script(ch: str) -> str | None:
    """The per-character definition letter_counts must reproduce."""
    if not ch.isalpha():
        return None
    cp = ord(ch)
    if (
        0x0600 <= cp <= 0x06FF
        or 0x0750 <= cp <= 0x077F
        or 0xFB50 <= cp <= 0xFDFF
        or 0xFE70 <= cp <= 0xFEFF
    ):
        return "fa"
    return "en" if ch.isascii() or "LATIN" in unicodedata.name(ch, "") else "other"


def test_letter_counts_equal_the_per_character_definition_over_all_of_unicode() -> None:
    for start in range(0, 0x110000, 0x4000):
        block = "".join(
            chr(cp) for cp in range(start, start + 0x4000) if not 0xD800 <= cp <= 0xDFFF
        )
        scripts = [_reference_script(ch) for ch in block]
        assert letter_counts(block) == (scripts.count("fa"), scripts.count("en")), hex(start)


def test_hazm_fixes_arabic_letters_digits_and_zwnj() -> None:
    out = normalize_persian("كيفيت خوبه ولي ميخواستم زودتر برسه 123")
    assert "ك" not in out and "ي" not in out
    assert "کیفیت" in out and "ولی" in out
    assert f"می{ZWNJ}خواستم" in out
    assert "۱۲۳" in out


def test_persian_tokens_keep_zwnj_words() -> None:
    tokens = tokenize_persian(normalize_persian("پشتیبانی جواب نمیده و کتاب‌ها دیر رسید"))
    assert "پشتیبانی" in tokens
    assert f"کتاب{ZWNJ}ها" in tokens


def test_english_tokenizer_splits_negation() -> None:
    assert tokenize_english("I can't log in!") == ["I", "ca", "n't", "log", "in", "!"]


def test_clean_text_strips_markup_and_controls() -> None:
    raw = "<div><script>alert('x')</script>Refund&amp;fees\x00 <br/>  ﻻ</div>"
    assert clean_text(raw) == "Refund&fees لا"


def test_the_joiner_stays_inside_emoji_and_goes_between_digits() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one family, not three faces
    assert clean_text(f"{family} app") == f"{family} app"
    assert (
        clean_text("0912\u200d345\u200d6789 a\u200db \U0001f621\u200d")
        == "09123456789 ab \U0001f621"
    )


def test_normalize_feedback_drops_raw_text() -> None:
    df = pd.DataFrame(
        {"id": ["1", "2"], "text": ["ايميل من را جواب بدهید: a@b.com", "call 0912 111 2233"]}
    )
    out = normalize_feedback(df)
    assert "text" not in out.columns
    assert list(out["language"]) == ["fa", "en"]
    assert out["text_redacted"].str.contains("@|0912", regex=True).sum() == 0


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_normalize_never_fails_and_is_stable(text: str) -> None:
    out = normalize_feedback(pd.DataFrame({"text": [text]}))
    assert out["language"].iloc[0] in {"fa", "en", "mixed", "other"}
    assert isinstance(out["text_redacted"].iloc[0], str)


@cache
def _hazm() -> Normalizer:
    return Normalizer()  # hazm's own, built once (it loads word lists: about a second)


PERSIAN_SAMPLES = [
    "ميخواستم كارت 123 را ٤٥٦ بگيرم %50",
    "اِعلاممممم کَرد : « زمین لرزه ای به بُزرگیِ 6 دهم ریشتر ...»",
    "پیک ها دیر رسیدند و پشتیبانی جواب نمی دهد!!! ﷺ",
    "کتاب‌ها را می خواهم ، ولی  قیمت ها بالاست ؟",
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from([*PERSIAN_SAMPLES, "abc", " ", "\u200c", "ـــ", "٪", "ي", "5"]), max_size=6
    ).map("".join)
    | st.text(max_size=200)
)
def test_hazm_normalizer_with_tables_built_once_gives_hazms_output(text: str) -> None:
    assert normalize_persian(text) == _hazm().normalize(text)


def test_normalizer_verb_forms_are_the_ones_hazms_lemmatizer_gives() -> None:
    """Built without hazm's throwaway Lemmatizer: the same 346k verb forms."""
    from cxtext.normalize.persian import _normalizer

    assert _normalizer()._verbs == set(Lemmatizer(joined_verb_parts=False).verbs)
    assert _normalizer()._seperate_mi


@cache
def _hazm_tokenizer() -> WordTokenizer:
    return WordTokenizer(replace_emails=False, replace_links=False, replace_numbers=False)


VERB_SAMPLES = ["گفته شده است", "خواهد رفت", "رفته بودند", "خسته شدید", "نخواهند شد"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from([*PERSIAN_SAMPLES, *VERB_SAMPLES, " ", "!!", "۴.۸", "@id", "😂"]),
        max_size=8,
    ).map(" ".join)
    | st.text(max_size=200)
)
def test_persian_tokens_without_the_word_list_are_hazms(text: str) -> None:
    """Our tokenizer skips hazm's word list (never read by ``tokenize``): same tokens."""
    normalized = normalize_persian(text)
    assert tokenize_persian(normalized) == _hazm_tokenizer().tokenize(normalized)
