"""Language of a document from the scripts of its letters: fa, en, mixed or other.

Script counting is exact for the question that matters here (which normalizer and
which model to use) and needs no model download. Arabic-script text is taken as
Persian and Latin-script text as English; other scripts are "other".
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import pandas as pd

_ARABIC_SCRIPT = ((0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))


@cache
def _script(ch: str) -> str | None:
    """The script a letter counts for ("fa", "en", "other"), or None for a non-letter."""
    if not ch.isalpha():
        return None
    cp = ord(ch)
    if any(lo <= cp <= hi for lo, hi in _ARABIC_SCRIPT):
        return "fa"
    if ch.isascii() or "LATIN" in unicodedata.name(ch, ""):
        return "en"
    return "other"


# Letters of the Arabic-script blocks, ASCII letters, and everything outside both
# (looked up one by one through _script; rare in this feedback): counting them with
# three regexes instead of a Python loop over every character gives the same counts.
_FA_LETTER = re.compile(
    "["
    + "".join(
        re.escape(chr(cp))
        for lo, hi in _ARABIC_SCRIPT
        for cp in range(lo, hi + 1)
        if chr(cp).isalpha()
    )
    + "]"
)
_ASCII_LETTER = re.compile("[A-Za-z]")
_ELSEWHERE = re.compile(
    "[^" + "".join(rf"\u{lo:04x}-\u{hi:04x}" for lo, hi in ((0x00, 0x7F), *_ARABIC_SCRIPT)) + "]"
)


def letter_counts(text: str) -> tuple[int, int]:
    """(Arabic-script letters, Latin letters) of ``text``, as :func:`_script` counts them."""
    fa = len(_FA_LETTER.findall(text))
    en = len(_ASCII_LETTER.findall(text))
    en += sum(_script(ch) == "en" for ch in _ELSEWHERE.findall(text))
    return fa, en


def detect_language(text: str, mixed_min_share: float = 0.2) -> str:
    """fa, en, mixed (both scripts, the minority at least ``mixed_min_share`` of letters) or other.

    Examples
    --------
    >>> detect_language("ارسال خیلی دیر بود")
    'fa'
    >>> detect_language("the app crashes on login")
    'en'
    >>> detect_language("اپ موقع login کرش میکنه و password reset هم کار نمیکنه")
    'mixed'
    """
    fa, en = letter_counts(text)
    if fa + en == 0:
        return "other"
    if fa and en and min(fa, en) / (fa + en) >= mixed_min_share:
        return "mixed"
    return "fa" if fa >= en else "en"


def detect_languages(texts: pd.Series, mixed_min_share: float = 0.2) -> pd.Series:
    """:func:`detect_language` over a column."""
    return texts.map(lambda t: detect_language(t, mixed_min_share)).astype("string")
