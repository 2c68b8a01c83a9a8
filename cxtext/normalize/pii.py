"""Redaction of personal data before any text is stored or shown.

Patterns live in ``pii_patterns.yaml`` (a language resource, not code) and match
digits in Latin, Persian and Arabic-Indic forms, so redaction works on raw text and
on hazm-normalized text alike. Ten-digit runs are redacted whether or not they pass
the Iranian national-id checksum: a false positive costs a number, a miss leaks one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

PATTERNS_FILE = Path(__file__).with_name("pii_patterns.yaml")
# Latin, Persian, Arabic-Indic and full-width digits (a CJK input method types ０９１２)
_DIGIT = "[0-9\u06f0-\u06f9\u0660-\u0669\uff10-\uff19]"
_ZERO = "[0\u06f0\u0660\uff10]"
# space, no-break and ideographic spaces, hyphens and dashes, dot, ZWNJ, LRM, RLM, ALM
_SEP = "(?:[ \u00a0\u202f\u2009\u3000\\-\u2010\u2011\u2013.\u200c\u200e\u200f\u061c]{1,3})"


@dataclass(frozen=True)
class PiiPattern:
    kind: str
    placeholder: str
    regex: re.Pattern[str]


@cache
def load_patterns(path: Path = PATTERNS_FILE) -> tuple[PiiPattern, ...]:
    """The ordered patterns of ``path`` with {D}, {Z} and {S} expanded."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(
        PiiPattern(
            e["kind"],
            e["placeholder"],
            re.compile(
                e["pattern"].replace("{D}", _DIGIT).replace("{Z}", _ZERO).replace("{S}", _SEP)
            ),
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
    text = text.translate(_LOOKALIKES)
    if not _may_hold_pii(text):
        return text
    for p in load_patterns():
        text = p.regex.sub(p.placeholder, text)
    return text


# Full-width and small forms of "@" and "." (an address typed on a CJK or Arabic keyboard,
# or written so on purpose): the patterns' ASCII classes would not see the address.
_LOOKALIKES = str.maketrans({"\uff20": "@", "\ufe6b": "@", "\uff0e": ".", "\ufe52": "."})
_ANY_DIGIT = re.compile(_DIGIT)
_SPELLED_AT = re.compile(r"(?i)[\[({]\s*at\s*[\])}]")
_SPELLED_DOT = re.compile(r"(?i)\sdot\s")
_DOMAIN_PATH = re.compile(r"(?i)[a-z0-9-]\.[a-z]{2,}/")


def _may_hold_pii(text: str) -> bool:
    """False when no pattern can match: cheap, so ids and segment values skip the regexes.

    Every pattern needs "@" (emails, credentials), "?" or "#" (token URLs), "://",
    "www." or a domain before a "/" (a token in a URL's path), "at" in brackets or " at " with " dot " (a
    spelled-out email), or at least ten digits (phones, cards, IBANs, ids), except
    international numbers ("+" and five).
    """
    if "@" in text or "?" in text or "#" in text or "://" in text or "www." in text:
        return True
    if "/" in text and _DOMAIN_PATH.search(text):  # t.me/joinchat/…: a scheme-less link
        return True
    if _SPELLED_AT.search(text) or (_SPELLED_DOT.search(text) and " at " in text.lower()):
        return True
    digits = len(_ANY_DIGIT.findall(text))
    return digits >= 10 or (digits >= 5 and "+" in text)


# Unicode's direction controls: the LRM/RLM/ALM marks, embeddings and overrides, isolates.
# An override shows "gnp.exe" as "exe.png" and a key "TK-0042" reversed.
DIRECTION_CONTROLS = "\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069"
# Control characters and direction controls, escaped in a shown file name
_NAME_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{DIRECTION_CONTROLS}]")


def printable_name(path: str) -> str:
    r"""A file name as text that can be stored and shown: never a terminal escape.

    A name that is not UTF-8 (Python holds its bytes as lone surrogates, which no
    database or JSON encoder accepts) and control characters (an escape sequence in a
    name would drive the terminal it is printed on) are written as ``\xNN``; direction
    controls (a right-to-left override shows ``gnp.exe`` as ``exe.png``) as ``\uNNNN``.

    >>> printable_name("tickets\udcff\x1b[31m.csv"), printable_name("\u202egnp.exe.csv")
    ('tickets\\xff\\x1b[31m.csv', '\\u202egnp.exe.csv')
    """
    try:
        raw = os.fsencode(path)  # the name's own bytes, non-UTF-8 ones included
    except UnicodeEncodeError:  # a surrogate that no file system produced
        raw = path.encode("utf-8", "backslashreplace")
    text = raw.decode("utf-8", "backslashreplace")
    return _NAME_CONTROL.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# Suffixes kept readable beside a redacted name (``[EMAIL].csv``). Only these: a name's
# last dot may also start an address's domain (a file or sheet named ``ali@example.com``
# would otherwise be shown as ``[EMAIL].com``).
_FILE_SUFFIXES = frozenset(
    {"csv", "tsv", "tab", "txt", "json", "jsonl", "ndjson", "parquet", "pq", "xlsx", "xlsm"}
    | {"xls", "ods", "gz", "bz2", "xz", "zip", "7z", "rar", "tar", "pdf", "doc", "docx"}
    | {"xml", "html", "htm", "eml", "msg", "log", "png", "jpg", "jpeg"}
)
# A workbook's sheet as the readers label it (``book.xlsx[Sheet1]``); Excel forbids
# brackets in a sheet's name, so the last ``[...]`` after .xlsx/.xlsm is the sheet.
SHEET_LABEL = re.compile(r"(?i)(?<=\.xlsx|\.xlsm)\[[^\[\]]*\]\Z")


def _split_suffixes(name: str) -> tuple[str, str]:
    """``name`` as (stem, known suffixes): ``tickets.csv.gz`` -> (``tickets``, ``.csv.gz``)."""
    stem, suffix = name, ""
    for _ in range(2):
        dot = stem.rfind(".")
        if dot <= 0 or stem[dot + 1 :].lower() not in _FILE_SUFFIXES:
            break
        stem, suffix = stem[:dot], stem[dot:] + suffix
    return stem, suffix


def redact_file_name(path: str) -> str:
    """A file path made printable and redacted like text, its extension kept (``[PHONE].csv``).

    Exports are often named after a customer or an agent, and so are a workbook's
    sheets; the name is stored (``source_file``) and shown, so it is redacted too. A
    known extension is split off first (an email pattern would otherwise take
    ``ali@example.com.csv`` whole) and a sheet's name is redacted on its own; any other
    dot is part of the name, so nothing of an address named ``ali@example.com`` shows.

    >>> redact_file_name("exports/0912 345 6789.csv")
    'exports/[PHONE].csv'
    >>> redact_file_name("in/ali@example.com.xlsx[reza@gmail.com]")
    'in/[EMAIL].xlsx[[EMAIL]]'
    >>> redact_file_name("in/ali@example.com")
    'in/[EMAIL]'
    """
    text = printable_name(path)
    sheet = SHEET_LABEL.search(text)
    shown_sheet = f"[{redact_pii(sheet.group()[1:-1])}]" if sheet else ""
    parts = re.split(r"([/\\])", text[: sheet.start()] if sheet else text)
    parts[-1], suffix = _split_suffixes(parts[-1])  # each folder and the name on its own
    return "".join(redact_pii(p) for p in parts) + suffix + shown_sheet


def find_pii(text: str) -> list[tuple[str, str]]:
    """(kind, matched text) for every pattern hit, for tests, audits and money columns.

    The text is read as :func:`redact_pii` reads it (full-width ``＠``/``．`` as ``@``/``.``),
    so whatever redact_pii would redact is found; a matched address is returned in that
    form.

    >>> find_pii("ali＠example．com")
    [('email', 'ali@example.com')]
    """
    text = text.translate(_LOOKALIKES)
    if not _may_hold_pii(text):  # the same cheap test: money columns ask this of every row
        return []
    hits = []
    for p in load_patterns():
        hits += [(p.kind, m.group(0)) for m in p.regex.finditer(text)]
        text = p.regex.sub(p.placeholder, text)
    return hits


def redact_column(texts: pd.Series) -> pd.Series:
    """:func:`redact_pii` over a column, nulls kept."""
    return texts.map(lambda t: redact_pii(t) if isinstance(t, str) else t).astype("string")


def redact_value(value: Any) -> Any:
    """:func:`redact_pii` over every string in a JSON-like value (keys included), nested."""
    if isinstance(value, str):
        return redact_pii(value)
    if isinstance(value, dict):
        return {redact_pii(str(k)): redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def redact_json_text(text: str) -> str:
    """A value that may itself be JSON (a nested object from a JSON export), redacted inside.

    Redacting the JSON text as a whole could miss an address written with escapes
    (``ali\\u0040example.com``); parsing first sees the string the reader will see.
    """
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            return redact_pii(text)
        return json.dumps(redact_value(parsed), ensure_ascii=False)
    return redact_pii(text)


def pseudonymize(value: str, key: bytes) -> str:
    """A key that is itself personal data (an email or phone used as id) as placeholder + hash.

    The hash is HMAC-SHA256 under the warehouse's secret ``key``
    (:mod:`cxtext.normalize.pseudonym_key`), cut to 64 bits: the same input and key always
    give the same pseudonym, so feedback, customers and transactions still join, and
    without the key nobody can recover a phone number by hashing every possible one. A
    key without PII is returned unchanged.

    Examples
    --------
    >>> pseudonymize("C00042", b"k" * 32)
    'C00042'
    >>> pseudonymize("ali@example.com", b"k" * 32)
    '[EMAIL]#4333d326068d6834'
    """
    redacted = redact_pii(value)
    if redacted == value:
        return value
    message = _same_key(value).encode("utf-8", "replace")
    digest = hmac.new(key, message, hashlib.sha256).hexdigest()[:16]
    return f"{redacted[:40]}#{digest}"


_TO_LATIN = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩０１２３４５６７８９", "0123456789" * 3)
_KEY_SEPARATORS = re.compile("[\\s\u00a0\u200c\u200e\u200f\u061c()\\-]")


def _same_key(value: str) -> str:
    """One spelling of a key written in several: digits in Latin and, unless it is an email,
    no spaces, hyphens, brackets or direction marks.

    A Persian export writes the customer's phone ``۰۹۱۲ ۱۲۳ ۴۵۶۷`` where the CRM has
    ``09121234567``; both must get one pseudonym or the feedback never joins its
    customer. A key already in that form (Latin digits, no separators) hashes as before.

    >>> _same_key("۰۹۱۲ ۱۲۳-۴۵۶۷"), _same_key(" ali.r@example.com ")
    ('09121234567', 'ali.r@example.com')
    """
    key = value.strip().translate(_TO_LATIN)
    return key if "@" in key else _KEY_SEPARATORS.sub("", key)


def pseudonymize_column(values: pd.Series, key: bytes) -> pd.Series:
    """:func:`pseudonymize` over a column of keys, nulls kept."""
    return values.map(lambda v: pseudonymize(v, key) if isinstance(v, str) else v).astype("string")
