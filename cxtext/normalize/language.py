"""Language of a document from the scripts of its letters: fa, en, mixed or other.

Script counting is exact for the question that matters here (which normalizer and
which model to use) and needs no model download. Arabic-script text is taken as
Persian and Latin-script text as English; other scripts are "other".
"""

from __future__ import annotations

import unicodedata

import pandas as pd


def _script(ch: str) -> str | None:
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
    if ch.isascii() or "LATIN" in unicodedata.name(ch, ""):
        return "en"
    return "other"


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
    counts = {"fa": 0, "en": 0, "other": 0}
    for ch in text:
        script = _script(ch)
        if script:
            counts[script] += 1
    fa, en = counts["fa"], counts["en"]
    if fa + en == 0:
        return "other"
    if fa and en and min(fa, en) / (fa + en) >= mixed_min_share:
        return "mixed"
    return "fa" if fa >= en else "en"


def detect_languages(texts: pd.Series, mixed_min_share: float = 0.2) -> pd.Series:
    """:func:`detect_language` over a column."""
    return texts.map(lambda t: detect_language(t, mixed_min_share)).astype("string")
