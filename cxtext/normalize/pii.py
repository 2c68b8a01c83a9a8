"""Redaction of personal data before any text is stored or shown.

Patterns live in ``pii_patterns.yaml`` (a language resource, not code) and match
digits in Latin, Persian and Arabic-Indic forms, so redaction works on raw text and
on hazm-normalized text alike. Ten-digit runs are redacted whether or not they pass
the Iranian national-id checksum: a false positive costs a number, a miss leaks one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
import yaml

PATTERNS_FILE = Path(__file__).with_name("pii_patterns.yaml")
_DIGIT = "[0-9\u06f0-\u06f9\u0660-\u0669]"
_SEP = "[ \\-.\u200c]"


@dataclass(frozen=True)
class PiiPattern:
    kind: str
    placeholder: str
    regex: re.Pattern[str]


@cache
def load_patterns(path: Path = PATTERNS_FILE) -> tuple[PiiPattern, ...]:
    """The ordered patterns of ``path`` with {D} and {S} expanded."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(
        PiiPattern(
            e["kind"],
            e["placeholder"],
            re.compile(e["pattern"].replace("{D}", _DIGIT).replace("{S}", _SEP)),
        )
        for e in entries
    )


@cache
def placeholder_pattern() -> re.Pattern[str]:
    """Matches any placeholder that :func:`redact_pii` writes."""
    return re.compile("|".join(sorted({re.escape(p.placeholder) for p in load_patterns()})))


def redact_pii(text: str) -> str:
    """Replace emails, phone numbers, card numbers, IBANs, national ids and token URLs.

    Examples
    --------
    >>> redact_pii("call me on 0912 345 6789 or mail ali@example.com")
    'call me on [PHONE] or mail [EMAIL]'
    >>> redact_pii("شماره کارتم ۶۰۳۷-۹۹۱۱-۲۲۳۳-۴۴۵۵ است")
    'شماره کارتم [CARD] است'
    """
    for p in load_patterns():
        text = p.regex.sub(p.placeholder, text)
    return text


def find_pii(text: str) -> list[tuple[str, str]]:
    """(kind, matched text) for every pattern hit, for tests and audits."""
    hits = []
    for p in load_patterns():
        hits += [(p.kind, m.group(0)) for m in p.regex.finditer(text)]
        text = p.regex.sub(p.placeholder, text)
    return hits


def redact_column(texts: pd.Series) -> pd.Series:
    """:func:`redact_pii` over a column, nulls kept."""
    return texts.map(lambda t: redact_pii(t) if isinstance(t, str) else t).astype("string")
