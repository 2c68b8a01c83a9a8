"""The normalize stage: clean markup, detect language, normalize per language, redact PII.

The redacted text is what gets classified and stored, so the models never see personal
data and every stored prediction can be reproduced from the stored text.
"""

from __future__ import annotations

import pandas as pd

from cxtext.normalize.english import normalize_english
from cxtext.normalize.language import detect_language
from cxtext.normalize.markup import clean_text
from cxtext.normalize.persian import normalize_persian
from cxtext.normalize.pii import placeholder_pattern, redact_pii


def normalize_text(text: str, mixed_min_share: float = 0.2) -> tuple[str, str]:
    """(language, redacted normalized text) of one raw document.

    Redaction comes before hazm: hazm re-spaces punctuation ("a.b@x.io" becomes
    "a. b@x. io", "0912-345" becomes "۰۹۱۲ - ۳۴۵"), which would hide PII from the patterns.
    Placeholders such as "[EMAIL]" pass through hazm unchanged.
    """
    redacted = redact_pii(clean_text(text))
    # Emails and URLs are Latin letters in any language: detect on the redacted text.
    language = detect_language(placeholder_pattern().sub(" ", redacted), mixed_min_share)
    if language in ("fa", "mixed"):
        return language, normalize_persian(redacted)
    return language, normalize_english(redacted)


def normalize_feedback(records: pd.DataFrame, mixed_min_share: float = 0.2) -> pd.DataFrame:
    """Records plus ``language`` and ``text_redacted``; the raw ``text`` column is dropped.

    Dropping the raw text here means no later stage can store personal data by mistake.
    """
    pairs = [normalize_text(t, mixed_min_share) for t in records["text"].astype(str)]
    out = records.drop(columns=["text"]).copy()
    out["language"] = pd.array([p[0] for p in pairs], dtype="string")
    out["text_redacted"] = pd.array([p[1] for p in pairs], dtype="string")
    return out
