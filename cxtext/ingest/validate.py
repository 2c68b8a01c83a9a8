"""Validation: raw text rows in, typed :data:`~cxtext.schema.RECORD` rows and quarantine rows out.

A row missing something required (id, text, created_at) goes to quarantine with a reason
that starts with a stable code (``missing_id``, ``bad_created_at``, ...) followed by what
was found, so reasons can be counted by code and fixed by reading them. A bad *optional*
value never costs the row: the field is left empty and a note goes to
``metadata["_warnings"]``.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jdatetime
import numpy as np
import pandas as pd

from cxtext.config import shipped_settings
from cxtext.ingest.dedupe import raw_text_hashes
from cxtext.ingest.sources import missing_column_hint
from cxtext.normalize.markup import BLANK, clean_text
from cxtext.normalize.pii import (
    DIRECTION_CONTROLS,
    pseudonymize,
    pseudonymize_column,
    redact_file_name,
    redact_json_text,
    redact_pii,
)
from cxtext.schema import (
    CHANNELS,
    OPTIONAL_INPUT,
    QUARANTINE,
    RECORD,
    REQUIRED_INPUT,
    SCORE_RANGES,
    conform,
)

log = logging.getLogger(__name__)

ROW_NUMBER = "source_row"
RAW_VALUE_CHARS = 2000  # quarantine keeps this much of each raw value: enough to see the problem
_PII_MARGIN = 200  # redact a little past the cut so a number straddling it is still caught
_KIND_WORDS = {
    "number": "a number",
    "boolean": "a boolean",
    "object": "a JSON object",
    "array": "a JSON array",
    "binary": "binary data",
    "timestamp": "a timestamp",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NATIVE_DIGIT = "[۰-۹٠-٩]"
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
# A date's Persian/Arabic spellings made Latin: digits, the Arabic decimal mark used as a
# separator (۱۴۰۳٫۰۵٫۱۲), Arabic yeh and kaf in month names (Windows-1256 exports)
_NATIVE = _DIGITS | str.maketrans("٫يك", ".یک")
# ISO 8601 / RFC 3339 as exports write it: date, optional time (T or space), optional zone.
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d{1,9})?)?)?)?"
    r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?"
)
_OFFSET = r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"
# Jalali (Solar Hijri) as Iranian exports write it: 1403/05/12, 1403-5-12, optional time.
# Dots as well (1403.05.12), an offset after the time as an ISO timestamp writes it.
_JALALI = re.compile(
    r"(1[34]\d\d)([/.-])(\d{1,2})\2(\d{1,2})(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?)?"
    r"((?:[Zz]|[+-]\d{2}(?::?\d{2})?))?"
)
# A Jalali date as Persian prose writes it: ۱۲ مرداد ۱۴۰۳, optionally after the weekday
# (شنبه ۱۲ مرداد ۱۴۰۳) and before a time (… ۱۴:۳۰, … ساعت ۱۴:۳۰); Arabic yeh/kaf too.
_JALALI_MONTHS = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)  # fmt: skip
_JALALI_MONTH_WORD = re.compile(
    r"(?:(?:\S*شنبه|جمعه)[،,]?\s+)?(\d{1,2})\s+(ا?مرداد|"
    + "|".join(_JALALI_MONTHS)
    + r")[،,]?\s+(1[34]\d\d)(?:[،,]?\s+(?:ساعت\s+)?(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)
# Spellings rewritten before any layout is tried: a 12-hour clock (AM/PM, or the Persian
# ق.ظ / ب.ظ that Windows' Persian locale writes), and a space or a zone word between a
# year-first timestamp and its offset (`2024-05-01 10:00 +03:30`, BigQuery's `… UTC`).
_MERIDIEM = re.compile(
    r"(?<![\d:])(\d{1,2}):(\d{2})(:\d{2}(?:[.,]\d{1,9})?)?\s*"
    r"(ق\.?\s?ظ|ب\.?\s?ظ|[AaPp]\.?[Mm]\.?)$"
)
_RESPELL_HINT = re.compile(
    r"(?:[AaPp]\.?[Mm]\.?|ظ|UTC|GMT|\s[+-]\d{2}:?\d{2}|\s[+-]\d{2}|\s[Zz]|\])$"
)
# An offset followed by its zone's name in brackets, as Java's ZonedDateTime and RFC 9557
# write it (`2024-05-01T10:00+03:30[Asia/Tehran]`): the offset says the instant.
_BRACKETED_ZONE = re.compile(r"(.*(?:[+-]\d{2}:?\d{2}|[Zz]))\[[A-Za-z0-9_/+-]+\]")
_SPACED_OFFSET = re.compile(
    r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)\s+"
    r"([+-]\d{2}(?::?\d{2})?|[Zz]|UTC|GMT)$"
)
# Other unambiguous layouts, rewritten as ISO 8601 when the source sets no date_format:
# Unix time in seconds or milliseconds (10 or 13 digits), RFC 2822 as mail and some APIs
# write it, and year/month/day with slashes (no locale puts the day second after a year).
_EPOCH = re.compile(r"(\d{10}|\d{13})(?:\.\d{1,6})?")
_RFC2822 = re.compile(
    r"(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?"
    r"(?:\s+(?:[+-]\d{4}|[A-Za-z]{1,5}))?"
)
_YEAR_FIRST_SLASHED = re.compile(
    r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)
# Year first with dashes but a month, day or hour left unpadded (2024-5-1, as Jalali
# 1403-5-12 is read; Excel's `yyyy-mm-dd h:mm`); padded ones are ISO's and never pay for this. Then ISO 8601's basic form,
# 20240501 or 20240501T1430 (eight digits: never Unix time, which has ten or thirteen).
_YEAR_FIRST_UNPADDED = re.compile(
    r"(\d{4})-(?=\d-|\d\d-\d(?!\d)|\d\d-\d\d[T ]+\d:)"
    r"(\d{1,2})-(\d{1,2})(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)
_BASIC = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?)?")
# JavaScript's Date.toString(), what a web tool's export writes:
# `Wed May 01 2024 10:00:00 GMT+0330 (Iran Standard Time)`
_JS_DATE = re.compile(
    r"[A-Za-z]{3} ([A-Za-z]{3}) (\d{1,2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT([+-]\d{4})"
    r"(?: \([^)]*\))?"
)
# A month written as a word cannot be confused with a day: 01-May-2024, 1 May 2024,
# May 1, 2024 (spreadsheets' and CRMs' display formats); four-digit years only (the
# century of "01-May-24" is a guess).
_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december",
)  # fmt: skip
_MONTH_WORD = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_CLOCK = r"(?:(?:[T ]+|,\s*)(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
_DAY_MONTH_WORD = re.compile(rf"(?i)(\d{{1,2}})[ /-]{_MONTH_WORD}[ /-](\d{{4}}){_CLOCK}")
_MONTH_WORD_DAY = re.compile(
    rf"(?i){_MONTH_WORD}[ /-](\d{{1,2}})(?:st|nd|rd|th)?,?[ /-]+(\d{{4}}){_CLOCK}"
)
YEAR_RANGE = (1900, 2200)
_ANY_SCALE = (
    min(low for low, _ in SCORE_RANGES.values()),
    max(high for _, high in SCORE_RANGES.values()),
)  # outside it a date is a typo or another calendar, not feedback time
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}([,٬]\d{3})+(\.\d+)?$")

# Channel spellings seen in exports, and words in a source name that give its channel.
CHANNEL_ALIASES: dict[str, str] = {
    "tickets": "ticket", "support": "ticket", "helpdesk": "ticket", "zendesk": "ticket",
    "reviews": "review", "app_review": "review", "appstore": "review",
    "surveys": "survey", "nps": "survey", "csat": "survey", "ces": "survey",
    "twitter": "social", "tweet": "social", "tweets": "social", "instagram": "social",
    "facebook": "social", "x": "social", "chats": "chat", "livechat": "chat",
    "e-mail": "email", "mail": "email", "emails": "email",
}  # fmt: skip
SOURCE_HINTS: tuple[tuple[str, str], ...] = (
    ("ticket", "ticket"), ("review", "review"), ("survey", "survey"), ("nps", "survey"),
    ("csat", "survey"), ("social", "social"), ("tweet", "social"), ("twitter", "social"),
    ("instagram", "social"), ("chat", "chat"), ("email", "email"), ("mail", "email"),
)  # fmt: skip


# --- value parsers shared with the side tables -----------------------------------------


def parse_timestamps(
    values: pd.Series, date_format: str | None = None, timezone: str = "UTC"
) -> pd.Series:
    """Timestamps as UTC: ISO 8601 or Jalali, or ``date_format`` (a ``strptime`` pattern).

    Times written without an offset are taken in ``timezone``. Persian and Arabic-Indic
    digits are read as ASCII digits. A Jalali (Solar Hijri) date such as ``1403/05/12``
    or ``۱۴۰۳-۰۵-۱۲ ۱۴:۳۰`` is told from a Gregorian one by its year (1300-1499) and
    converted. Without a ``date_format``, Unix time (10 or 13 digits), RFC 2822 and
    year-first slashed dates (``2024/05/01``) are read too; day- or month-first dates
    like 05/01/2024 are rejected unless ``date_format`` says how to read them (day/month
    order cannot be guessed). NaT where not parsed.

    Examples
    --------
    >>> parse_timestamps(pd.Series(["2024-05-01T10:00+03:30", "2024-05-01", "01/05/2024"])).tolist()
    [Timestamp('2024-05-01 06:30:00+0000', tz='UTC'), Timestamp('2024-05-01 00:00:00+0000', tz='UTC'), NaT]
    >>> parse_timestamps(pd.Series(["۱۴۰۳/۰۵/۱۲ ۱۴:۳۰"]), timezone="Asia/Tehran").tolist()
    [Timestamp('2024-08-02 11:00:00+0000', tz='UTC')]
    """
    text = values.astype("string").str.strip()
    native = _flag(text.str.contains(_NATIVE_DIGIT) | text.str.contains("[يك]"))
    if native.any():
        text = text.mask(native, text[native].str.translate(_NATIVE))
    spelled = _flag(text.str.contains(_RESPELL_HINT)) & (date_format is None)  # %p is the format's
    if spelled.any():
        text = text.mask(spelled, text[spelled].map(_respelled).astype("string"))
    rewritten = pd.Series(False, index=values.index)
    layouts = [(_JALALI, _jalali_to_iso), (_JALALI_MONTH_WORD, _jalali_words_to_iso)]
    if not date_format:
        layouts += [(_EPOCH, _epoch_to_iso), (_RFC2822, _rfc2822_to_iso)]
        layouts += [(_YEAR_FIRST_SLASHED, _year_first_to_iso)]
        layouts += [(_YEAR_FIRST_UNPADDED, _year_first_to_iso), (_BASIC, _year_first_to_iso)]
        layouts += [(_JS_DATE, _js_date_to_iso)]
        layouts += [(_DAY_MONTH_WORD, _month_word_to_iso), (_MONTH_WORD_DAY, _month_word_to_iso)]
    for layout, to_iso in layouts:
        hit = ~rewritten & _flag(text.str.fullmatch(layout))
        if hit.any():
            text = text.mask(hit, text[hit].map(to_iso).astype("string"))
            rewritten |= hit
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    if date_format:
        custom = ~rewritten & text.notna()
        parsed = pd.to_datetime(text.where(custom), format=date_format, errors="coerce")
        out = _to_utc(parsed, timezone).where(custom, out)
        text = text.where(rewritten)  # only the converted Jalali values are left for ISO
    iso = _flag(text.str.fullmatch(_ISO))  # pandas alone also takes 2024/01/05
    aware = iso & _flag(text.str.contains(_OFFSET))
    if aware.any():
        parsed = pd.to_datetime(text.where(aware), format="ISO8601", utc=True, errors="coerce")
        out = out.mask(aware, parsed.astype("datetime64[us, UTC]"))
    naive = iso & ~aware
    if naive.any():
        parsed = pd.to_datetime(text.where(naive), format="ISO8601", errors="coerce")
        out = out.mask(naive, _to_utc(parsed, timezone))
    out = out.where((out.dt.year >= YEAR_RANGE[0]) & (out.dt.year <= YEAR_RANGE[1]))
    return out.astype("datetime64[us, UTC]")


def _to_utc(parsed: pd.Series, timezone: str) -> pd.Series:
    """Naive (or already aware) timestamps as UTC, naive ones read in ``timezone``."""
    parsed = pd.to_datetime(parsed, errors="coerce")
    if getattr(parsed.dt, "tz", None) is None:
        parsed = parsed.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward")
    return parsed.dt.tz_convert("UTC").astype("datetime64[us, UTC]")


def _respelled(value: str) -> str | None:
    """A 12-hour clock as 24 hours, and a spaced offset or zone word joined ISO's way.

    >>> _respelled("1403/05/12 02:30 ب.ظ"), _respelled("2024-05-01 10:00:00 UTC")
    ('1403/05/12 14:30', '2024-05-01 10:00:00Z')
    >>> _respelled("5/1/2024 12:05 AM"), _respelled("2024-05-01 13:00 PM") is None
    ('5/1/2024 00:05', True)
    """
    if m := _MERIDIEM.search(value):
        hour, minute, seconds, marker = m.groups()
        if not 1 <= int(hour) <= 12:
            return None
        after_noon = marker.startswith(("ب", "P", "p"))
        hour = int(hour) % 12 + (12 if after_noon else 0)
        value = f"{value[: m.start()]}{hour:02d}:{minute}{seconds or ''}"
    if m := _BRACKETED_ZONE.fullmatch(value):
        value = m.group(1)
    if m := _SPACED_OFFSET.fullmatch(value):
        zone = m.group(2)
        value = m.group(1) + ("Z" if zone.upper() in ("Z", "UTC", "GMT") else zone)
    return value


def _jalali_to_iso(value: str) -> str | None:
    """``1403/05/12 14:30`` as the Gregorian ``2024-08-02T14:30:00`` (naive unless it names
    an offset), None if no such day."""
    m = _JALALI.fullmatch(value)
    if m is None:
        return None
    year, _, month, day, hour, minute, second, offset = m.groups()
    year, month, day, hour, minute, second = (
        int(g) if g else 0 for g in (year, month, day, hour, minute, second)
    )
    try:
        day_g = jdatetime.date(year, month, day).togregorian()
    except ValueError:
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    return f"{day_g.isoformat()}T{hour:02d}:{minute:02d}:{second:02d}{offset or ''}"


def _jalali_words_to_iso(value: str) -> str | None:
    """``۱۲ مرداد ۱۴۰۳`` (digits already Latin) as ``1403/5/12`` read by :func:`_jalali_to_iso`.

    >>> _jalali_words_to_iso("شنبه 13 مرداد 1403 ساعت 14:30")
    '2024-08-03T14:30:00'
    """
    m = _JALALI_MONTH_WORD.fullmatch(value)
    if m is None:
        return None
    day, word, year, hour, minute, second = m.groups()
    month = 5 if word.endswith("مرداد") else _JALALI_MONTHS.index(word) + 1
    clock = f" {hour}:{minute}" + (f":{second}" if second else "") if hour else ""
    return _jalali_to_iso(f"{year}/{month}/{day}{clock}")


def _epoch_to_iso(value: str) -> str:
    """Unix time (seconds, or milliseconds when 13 digits) as ISO 8601 in UTC."""
    seconds = float(value) / (1000 if len(value.split(".")[0]) == 13 else 1)
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat()


def _rfc2822_to_iso(value: str) -> str | None:
    """``Wed, 01 May 2024 10:00:00 +0330`` as ISO 8601 (naive when it names no offset)."""
    try:
        return email.utils.parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError):
        return None


def _year_first_to_iso(value: str) -> str | None:
    """``2024/5/1 14:30``, ``2024.05.01``, ``2024-5-1``, ``20240501`` as ``2024-05-01T…`` (naive).

    >>> _year_first_to_iso("2024.5.1 9:05"), _year_first_to_iso("20240501T1430")
    ('2024-05-01T09:05:00', '2024-05-01T14:30:00')
    """
    layouts = (_YEAR_FIRST_SLASHED, _YEAR_FIRST_UNPADDED, _BASIC)
    m = next((m for layout in layouts if (m := layout.fullmatch(value))), None)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in m.groups())
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"


def _js_date_to_iso(value: str) -> str | None:
    """``Wed May 01 2024 10:00:00 GMT+0330 (…)`` as ``2024-05-01T10:00:00+03:30``.

    >>> _js_date_to_iso("Wed May 01 2024 10:00:00 GMT+0330 (Iran Standard Time)")
    '2024-05-01T10:00:00+03:30'
    """
    m = _JS_DATE.fullmatch(value)
    if m is None:
        return None
    word, day, year, hour, minute, second, offset = m.groups()
    month = next((i for i, n in enumerate(_MONTHS, 1) if n.startswith(word.lower())), None)
    if month is None:
        return None
    zone = f"{offset[:3]}:{offset[3:]}"
    return f"{year}-{month:02d}-{int(day):02d}T{hour}:{minute}:{second}{zone}"


def _month_word_to_iso(value: str) -> str | None:
    """``01-May-2024 14:30`` or ``May 1, 2024`` as ``2024-05-01T14:30:00`` (naive).

    >>> _month_word_to_iso("May 1st, 2024"), _month_word_to_iso("01-Sept-2024 9:05")
    ('2024-05-01T00:00:00', '2024-09-01T09:05:00')
    """
    if m := _DAY_MONTH_WORD.fullmatch(value):
        day, word, year, hour, minute, second = m.groups()
    elif m := _MONTH_WORD_DAY.fullmatch(value):
        word, day, year, hour, minute, second = m.groups()
    else:
        return None
    month = next(i for i, name in enumerate(_MONTHS, 1) if name.startswith(word.lower()[:3]))
    hour, minute, second = (int(g) if g else 0 for g in (hour, minute, second))
    return f"{int(year):04d}-{month:02d}-{int(day):02d}T{hour:02d}:{minute:02d}:{second:02d}"


_EXCEL_SERIAL = re.compile(r"[2-7]\d{4}(?:\.\d+)?")  # days since 1899-12-30: 1954-2119


def timestamp_problem(value: str, date_format: str | None = None) -> str:
    """Why ``value`` is not accepted as a timestamp, in words a user can act on."""
    text = value.translate(_DIGITS).strip()
    if date_format:
        return f"does not match the source's date_format {date_format!r}"
    year = re.match(r"^(\d{4})\D", text)
    if (year and 1300 <= int(year.group(1)) <= 1500) or any(m in text for m in _JALALI_MONTHS):
        return "is not a valid Jalali date (year/month/day, e.g. 1403/05/12 or 1403-05-12 14:30)"
    if year and _ISO.fullmatch(text):
        if not YEAR_RANGE[0] <= int(year.group(1)) <= YEAR_RANGE[1]:
            return f"year outside {YEAR_RANGE[0]}-{YEAR_RANGE[1]}"
        return "is not a calendar date (month 1-12, a day the month has)"
    if hint := _date_format_hint(text):
        return f"is not ISO 8601 or Jalali; {hint}"
    if _EXCEL_SERIAL.fullmatch(text):
        return (
            "looks like an Excel serial date (days since 1899-12-30): format the column "
            "as a date (yyyy-mm-dd hh:mm) in the spreadsheet before exporting"
        )
    return "is not an ISO 8601 or Jalali timestamp (e.g. 2024-05-01T14:30:00+03:30 or 1403/05/12)"


# Where a source's date_format is set, said in each hint
_DATE_FORMAT_WHERE = "on this source (`sources:` in your settings, docs/ingest.md)"
_DAY_FIRST = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:[ T]\d{1,2}:\d{2}(:\d{2})?)?")


def _date_format_hint(text: str) -> str | None:
    """The ``date_format`` that reads a day/month/year (or month/day/year) export.

    Spreadsheets write dates this way and the CLI has no option for it, so the fix must
    name the setting. A first number over 12 is a day, a second over 12 a month's day;
    otherwise both readings are offered.

    >>> _date_format_hint("18/11/2024 04:11")
    "day/month/year: set date_format: '%d/%m/%Y %H:%M' on this source (`sources:` in your settings, docs/ingest.md)"
    """
    m = _DAY_FIRST.fullmatch(text)
    if not m:
        return None
    first, sep, second, seconds = int(m.group(1)), m.group(2), int(m.group(3)), m.group(5)
    clock = (" %H:%M" + (":%S" if seconds else "")) if " " in text or "T" in text else ""
    clock = clock.replace(" ", "T") if "T" in text else clock
    day_first = f"%d{sep}%m{sep}%Y{clock}"
    month_first = f"%m{sep}%d{sep}%Y{clock}"
    if first > 12 or second > 12:
        order, fmt = (
            ("day/month/year", day_first) if first > 12 else ("month/day/year", month_first)
        )
        return f"{order}: set date_format: {fmt!r} {_DATE_FORMAT_WHERE}"
    return (
        f"day/month/year or month/day/year: set date_format: {day_first!r} or {month_first!r}"
        f" {_DATE_FORMAT_WHERE}"
    )


# Invisible characters a copy from a spreadsheet or an RTL editor leaves around a key:
# zero-width space/joiner/non-joiner, LRM/RLM/ALM, bidi embeddings and isolates, BOM.
_EDGE = f"[\\s\u200b-\u200d\ufeff{DIRECTION_CONTROLS}]+"
_KEY_EDGE = re.compile(f"^{_EDGE}|{_EDGE}$")
# Direction controls inside a key: an override (U+202E) makes `cxtext quarantine` and the
# follow-up list show the id reversed (a spoofed id), and no system means one in a key.
_KEY_BIDI = re.compile(f"[{DIRECTION_CONTROLS}]")


def key_values(values: pd.Series) -> pd.Series:
    """Ids as keys: invisible characters and spaces at either end removed, digits in Latin.

    A Persian export writes ``۰۰۱۲۳`` where the CRM has ``00123``, and an RTL editor
    leaves a mark before ``C42``; either way the row would not match its customer nor be
    told a duplicate. Blanks become null.

    >>> key_values(pd.Series(["\u200f C۰۰۴۲ ", "٧", "  ", "TK\u202e-0042"])).tolist()
    ['C0042', '7', <NA>, 'TK-0042']
    """
    keys = values.astype("string").str.replace(_KEY_EDGE, "", regex=True)
    keys = keys.str.replace(_KEY_BIDI, "", regex=True).str.translate(_DIGITS)
    return keys.where(keys != "", pd.NA)


def too_long_keys(keys: pd.Series, name: str, max_chars: int | None) -> pd.Series:
    """The ``<name>_too_long`` reason of each key longer than ``max_chars`` (else null).

    A 5,000-character id is a text or a whole row pasted into the id column, not a key:
    kept, it became a document's identity and every later join's. ``None``: the shipped
    ``ingest.max_id_chars`` (a library caller that passes no bound still gets one).
    """
    limit = shipped_settings().ingest.max_id_chars if max_chars is None else max_chars
    lengths = keys.str.len()
    reasons = pd.Series(pd.NA, index=keys.index, dtype="string")
    long = _flag(lengths > limit)
    if long.any():  # the common case pays one length per key
        reasons[long] = [
            f"{name}_too_long: {name} is {n:,} characters, more than ingest.max_id_chars"
            f" ({limit:,}): a text or row pasted into the column? fix the export, or raise"
            " ingest.max_id_chars"
            for n in lengths[long]
        ]
    return reasons


def parse_number(value: object) -> float | None:
    """A finite number from text (Persian digits, ``1,234.5`` grouping allowed), else None.

    Examples
    --------
    >>> parse_number("۱۲٫۵"), parse_number("1,200"), parse_number("nan")
    (12.5, 1200.0, None)
    """
    if value is None or value is pd.NA or not isinstance(value, str | int | float):
        return None
    text = str(value).translate(_DIGITS).replace("٫", ".").strip()
    if _THOUSANDS.match(text):
        text = text.replace(",", "").replace("٬", "")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_numbers(values: pd.Series) -> pd.Series:
    """:func:`parse_number` over a column, as ``Float64``."""
    return pd.Series([parse_number(v) for v in values], index=values.index, dtype="Float64")


_TRUE = {"true", "t", "yes", "y", "1", "1.0", "بله", "آری"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", "خیر", "نه"}


def parse_bools(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(booleans, mask of values that were given but are not a boolean word)."""
    text = values.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out = out.mask(text.isin(_TRUE).fillna(False), True).mask(
        text.isin(_FALSE).fillna(False), False
    )
    bad = text.notna() & (text != "") & out.isna()
    return out, bad.fillna(False).astype(bool)


def infer_channel(source: str) -> str | None:
    """The channel a source name implies (``tickets_2024`` -> ``ticket``), or None.

    Examples
    --------
    >>> infer_channel("app_reviews"), infer_channel("crm_export")
    ('review', None)
    """
    name = source.lower()
    if name in CHANNELS:
        return name
    if name in CHANNEL_ALIASES:
        return CHANNEL_ALIASES[name]
    return next((channel for hint, channel in SOURCE_HINTS if hint in name), None)


# --- quarantine ----------------------------------------------------------------------


def safe_text(text: str) -> str:
    """``text`` with lone surrogates replaced, so it can be stored as UTF-8 anywhere."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="replace").decode("utf-8")
    return text


def _redact_value(value: object) -> object:
    if not isinstance(value, str):
        return None if value is None or value is pd.NA else value
    if len(value) <= RAW_VALUE_CHARS:
        return redact_pii(value)
    head = redact_pii(value[: RAW_VALUE_CHARS + _PII_MARGIN])[:RAW_VALUE_CHARS]
    return f"{head}…[truncated; {len(value)} chars in all]"


def redact_raw(raw: Mapping[str, object]) -> str:
    """A rejected row as JSON with PII redacted and long values cut (the quarantine's raw)."""
    clean = {redact_pii(str(k)): _redact_value(v) for k, v in raw.items()}
    return safe_text(json.dumps(clean, ensure_ascii=False, default=str))


def quarantine_frame(entries: Iterable[Mapping[str, Any]], key: bytes) -> pd.DataFrame:
    """:data:`~cxtext.schema.QUARANTINE` rows from dicts with a ``raw`` mapping; ``run_id`` null.

    Reasons may quote the value they reject, so they are redacted like the raw row; a
    key that is personal data (an email as id) is pseudonymized with ``key`` as it would
    be if kept; a file name is redacted (a file named after a customer's phone).
    """
    rows = [
        {
            "source": _safe_redacted(e.get("source")),
            "source_file": _safe_file(e.get("source_file")),
            "source_row": e.get("source_row"),
            "id": _safe_key(e.get("id"), key),
            "reason": _safe_redacted(_file_shown(e["reason"], e.get("source_file"))),
            "raw_redacted": redact_raw(e.get("raw") or {}),
        }
        for e in entries
    ]
    return conform(pd.DataFrame(rows), QUARANTINE) if rows else QUARANTINE.empty()


def _safe_redacted(value: object) -> object:
    return redact_pii(safe_text(value)) if isinstance(value, str) else value


def _file_shown(reason: object, file: object) -> object:
    """``reason`` with the file it names as :func:`redact_file_name` shows it: redacted as
    free text, ``in/ali@example.com.csv line 3`` would lose its folders and extension."""
    if not (isinstance(reason, str) and isinstance(file, str) and file):
        return reason
    for named in (file, Path(file).name):
        if named and named in reason:
            return reason.replace(named, redact_file_name(safe_text(named)))
    return reason


def _safe_key(value: object, key: bytes) -> object:
    return pseudonymize(safe_text(value), key) if isinstance(value, str) else value


def _safe_file(value: object) -> object:
    return redact_file_name(safe_text(value)) if isinstance(value, str) else value


def reason_counts(reasons: pd.Series) -> dict[str, int]:
    """Quarantined rows per reason code (the part of a reason before its first colon).

    >>> reason_counts(pd.Series(["empty_text", "bad_created_at: 'x'", "empty_text"]))
    {'empty_text': 2, 'bad_created_at': 1}
    """
    codes = reasons.astype("string").str.split(":").str[0].value_counts()
    return {str(code): int(n) for code, n in codes.items()}


# --- feedback rows -------------------------------------------------------------------


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    if name in rows.columns:
        return rows[name]
    return pd.Series(pd.NA, index=rows.index, dtype="string")


def _short(value: object, limit: int = 60) -> str:
    """A value quoted in a warning or reason: cut and redacted (a phone typed into a score)."""
    text = redact_pii(str(value))
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _fmt(number: float) -> str:
    return f"{number:g}"


def _redacted_names(files: list[str], index: pd.Index) -> pd.Series:
    """Each row's file name redacted, each distinct name once (names may hold surrogates)."""
    names = {f: redact_file_name(f) for f in set(files)}
    return pd.Series([names[f] for f in files], index=index, dtype="string")


def _no_nul(value: object) -> object:
    return value.replace("\x00", "") if isinstance(value, str) else value


def _metadata(block: np.ndarray, keys: list[str], warnings: list[list[str]]) -> list[str]:
    """Each row's extra columns (``block``: rows x columns of strings or None) as JSON.

    Values are redacted (nested JSON values too), each distinct value once: segment
    values repeat. The block is walked row by row, so a header of 20,000 columns costs
    no per-column pandas work (it took 40 s).
    """
    redacted: dict[object, str | None] = {None: None}
    metadata = []
    for pos, cells in enumerate(block.tolist()):
        meta: dict[str, Any] = {}
        for key, v in zip(keys, cells, strict=True):
            r = redacted.get(v, "")
            if r == "":  # first time this value is seen
                text = redact_json_text(_no_nul(v)) if isinstance(v, str) else ""
                r = redacted[v] = text if text.strip() else None
            if r is not None:
                meta[key] = r
        if warnings[pos]:
            meta["_warnings"] = warnings[pos]
        metadata.append(json.dumps(meta, ensure_ascii=False) if meta else "{}")
    return metadata


def _flag(mask: pd.Series) -> pd.Series:
    """A nullable comparison as plain bool, null counting as False."""
    return mask.fillna(False).astype(bool)


class RowReasons:
    """Per-row reasons, joined with '; ' so every problem of a row is reported at once."""

    def __init__(self, index: pd.Index):
        self.values = pd.Series(pd.NA, index=index, dtype="string")

    def add(self, mask: pd.Series, why: str | pd.Series) -> None:
        mask = _flag(mask)
        if not mask.any():
            return
        why = (
            why if isinstance(why, pd.Series) else pd.Series(why, index=mask.index, dtype="string")
        )
        joined = (self.values + "; " + why).fillna(why)
        self.values = self.values.mask(mask, joined)


def _markup_only(text: pd.Series) -> pd.Series:
    """Texts that clean to nothing (``<b></b>``, ``<script>…</script>``, ``&nbsp;``).

    Only texts holding ``<`` or ``&`` are cleaned here, so the check costs nothing on the rest.
    """
    maybe = _flag(text.str.contains("[<&]", regex=True))
    out = pd.Series(False, index=text.index)
    if maybe.any():
        out[maybe] = [not clean_text(t) for t in text[maybe]]
    return out


# What a spreadsheet shows for a formula that failed (a lookup that found no text)
_EXCEL_ERRORS = frozenset(
    ["#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!"]
)


def _long(keys: pd.Series, name: str, max_chars: int | None) -> tuple[pd.Series, pd.Series]:
    """(mask, reasons) for :meth:`RowReasons.add` from :func:`too_long_keys`."""
    reason = too_long_keys(keys, name, max_chars)
    return reason.notna(), reason


def _text_checks(
    text: pd.Series,
    kind: pd.Series,
    reasons: RowReasons,
    max_chars: int,
    min_chars: int,
    no_column: str | None,
) -> None:
    """Reasons for a text that is missing, not text, empty, binary, too long or too short."""
    if no_column:
        reasons.add(pd.Series(True, index=text.index), no_column)
        return
    not_text = kind.notna() & text.notna()
    what = kind.map(lambda k: _KIND_WORDS.get(k, k) if isinstance(k, str) else "").astype("string")
    reasons.add(not_text, "not_text: text is " + what + ", not a string")
    missing = text.isna() & ~not_text
    reasons.add(missing, "missing_text")
    rest = ~(not_text | missing)
    blank = _flag(text.str.match(BLANK)) & rest
    empty = _flag(text == "")
    reasons.add(blank & empty, "empty_text")
    reasons.add(blank & ~empty, "empty_text: whitespace only")
    rest &= ~blank
    excel_error = rest & _flag(text.str.strip().str.upper().isin(_EXCEL_ERRORS))
    reasons.add(
        excel_error,
        "not_text: " + text.str.strip() + " is a spreadsheet error value (a formula that "
        "failed before the export), not feedback",
    )
    rest &= ~excel_error
    markup_only = rest & _markup_only(text.where(rest))
    reasons.add(markup_only, "empty_text: markup only (nothing left once tags are removed)")
    rest &= ~markup_only
    length = text.str.len().fillna(0).astype("int64")
    control = text.str.count(_CONTROL.pattern).fillna(0).astype("int64")
    binary = rest & (control > 0.1 * length)
    share = (100 * control / length.clip(lower=1)).round().astype("int64").astype("string")
    reasons.add(binary, "not_text: " + share + "% control characters (binary data?)")
    rest &= ~binary
    reasons.add(
        rest & (length > max_chars),
        "text_too_long: " + length.astype("string") + f" chars > {max_chars}",
    )
    core = text.str.strip().str.len().fillna(0).astype("int64")
    reasons.add(
        rest & (core < min_chars),
        "text_too_short: " + core.astype("string") + f" chars < {min_chars}",
    )


def _score_fields(
    raw_score: pd.Series, raw_type: pd.Series, warnings: list[list[str]]
) -> tuple[list, list]:
    """(score, score_type) per row; a bad score or type is dropped with a warning.

    score_type is kept only with a score, so "has a type" always means "has a score".
    """
    scores: list[float | None] = []
    types: list[str | None] = []
    for i, (given, kind) in enumerate(zip(raw_score.tolist(), raw_type.tolist(), strict=True)):
        given = None if given is pd.NA or given is None else str(given).strip()
        kind = (
            None
            if kind is pd.NA or kind is None or not str(kind).strip()
            else str(kind).strip().lower()
        )
        score, stype = None, None
        if given:
            number = parse_number(given)
            if number is None:
                warnings[i].append(f"score {_short(given)} is not a number")
            elif kind not in SCORE_RANGES and not _ANY_SCALE[0] <= number <= _ANY_SCALE[1]:
                # no score scale goes this far: a phone or id typed into the column
                warnings[i].append(
                    f"score outside every scale ({_fmt(_ANY_SCALE[0])}-{_fmt(_ANY_SCALE[1])}); dropped"
                )
            elif kind is None:
                score = number
                warnings[i].append(
                    f"score {_fmt(number)} has no score_type ({', '.join(SCORE_RANGES)}); range not checked"
                )
            elif kind not in SCORE_RANGES:
                score = number
                warnings[i].append(
                    f"score_type {_short(kind)} is not one of {', '.join(SCORE_RANGES)}"
                )
            else:
                low, high = SCORE_RANGES[kind]
                if low <= number <= high:
                    score, stype = number, kind
                else:
                    warnings[i].append(
                        f"score {_fmt(number)} outside {kind} {_fmt(low)}-{_fmt(high)}"
                    )
        scores.append(score)
        types.append(stype)
    return scores, types


def _channels(
    sources: pd.Series, given: pd.Series, default_channel: str, warnings: list[list[str]]
) -> pd.Series:
    """The channel column if valid, else what the source name implies, else the default."""
    inferred_of = {s: infer_channel(s) or default_channel for s in sources.dropna().unique()}
    inferred = sources.map(inferred_of).astype("string")
    wanted = given.str.strip().str.lower()
    wanted = wanted.map(lambda v: CHANNEL_ALIASES.get(v, v) if isinstance(v, str) else v).astype(
        "string"
    )
    valid = wanted.isin(CHANNELS).fillna(False).astype(bool)
    bad = wanted.notna() & (wanted != "") & ~valid
    for pos in np.flatnonzero(bad.to_numpy(dtype=bool)):
        warnings[pos].append(
            f"channel {_short(given.iloc[pos])} is not one of {', '.join(CHANNELS)}; used {inferred.iloc[pos]!r}"
        )
    return wanted.where(valid, inferred)


def validate_rows(
    rows: pd.DataFrame,
    *,
    source_file: str | pd.Series,
    default_source: str | pd.Series,
    max_text_chars: int,
    min_text_chars: int,
    default_channel: str,
    kinds: Mapping[str, pd.Series] | None = None,
    not_after: pd.Timestamp | None = None,
    not_before: pd.Timestamp | None = None,
    date_format: str | None = None,
    timezone: str = "UTC",
    pseudonym_key: bytes,
    max_id_chars: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(records conformed to RECORD, quarantine rows) from raw string rows of one file.

    ``rows`` holds one string column per input column and ``source_row``; ``kinds``
    marks values that were not strings in the input (see ``readers.RawPartition``).
    A ``created_at`` later than ``not_after`` (run time plus a tolerance) is quarantined
    as ``future_date``: a clock or typo error must not steer the pain-point window; one
    earlier than ``not_before`` as ``past_date`` (a placeholder such as 1970-01-01).
    ``date_format`` and ``timezone`` are the source's (see :func:`parse_timestamps`);
    ids that are personal data are pseudonymized under ``pseudonym_key``; an id or
    customer_id longer than ``max_id_chars`` is ``id_too_long`` / ``customer_id_too_long``.

    ``source_file`` and ``default_source`` are one file's, or a value per row when rows of
    several small files are validated at once (a folder of one-ticket files: validation
    has a fixed cost per call); then both returned frames are indexed by the row's
    position in ``rows``, so the caller can tell the files' rows apart.
    """
    per_row = isinstance(source_file, pd.Series)
    files = source_file.reset_index(drop=True) if per_row else None
    rows = rows.rename(columns=lambda c: c if c == ROW_NUMBER else str(c).strip().lower())
    rows = rows.reset_index(drop=True)
    idx = rows.index
    columns = [c for c in rows.columns if c != ROW_NUMBER]
    known = set(REQUIRED_INPUT) | set(OPTIONAL_INPUT)
    extra = [c for c in columns if c not in known]
    clean = {
        c: rows[c].astype("string").str.replace("\x00", "", regex=False)
        for c in columns
        if c in known
    }
    raw_text = _column(rows, "text").astype("string")
    no_values = pd.Series(pd.NA, index=idx, dtype="string")

    def get(name: str) -> pd.Series:
        return clean.get(name, no_values)

    def kind_of(name: str) -> pd.Series:
        return (kinds or {}).get(name, no_values).reset_index(drop=True)

    reasons = RowReasons(idx)
    warnings: list[list[str]] = [[] for _ in range(len(rows))]

    ids = key_values(get("id"))
    if "id" not in clean:
        reasons.add(pd.Series(True, index=idx), "missing_id: " + missing_column_hint("id", columns))
    else:
        reasons.add(ids.isna(), "missing_id")
        reasons.add(*_long(ids, "id", max_id_chars))

    text = get("text")
    no_text = None if "text" in clean else "missing_text: " + missing_column_hint("text", columns)
    _text_checks(text, kind_of("text"), reasons, max_text_chars, min_text_chars, no_text)
    nuls = raw_text.str.count("\x00").fillna(0).astype("int64")
    for pos in np.flatnonzero((nuls > 0).to_numpy()):
        warnings[pos].append(f"removed {nuls.iloc[pos]} NUL character(s) from text")
    for pos in np.flatnonzero(
        text.str.contains("\ufffd", regex=False).fillna(False).to_numpy(dtype=bool)
    ):
        warnings[pos].append(
            "text has undecodable bytes, shown as U+FFFD (check the file's encoding)"
        )

    given_ts = get("created_at").str.strip()
    created = parse_timestamps(given_ts, date_format, timezone)
    if "created_at" not in clean:
        reasons.add(
            pd.Series(True, index=idx),
            "missing_created_at: " + missing_column_hint("created_at", columns),
        )
    else:
        blank_ts = given_ts.isna() | (given_ts == "")
        reasons.add(blank_ts, "missing_created_at")
        bad_ts = ~blank_ts & created.isna()
        shown = given_ts[_flag(bad_ts)].map(
            lambda v: f"{_short(v)} {timestamp_problem(v, date_format)}"
        )
        reasons.add(bad_ts, ("bad_created_at: " + shown).reindex(idx).astype("string"))
        if not_after is not None:
            future = _flag(created > not_after)
            reasons.add(
                future,
                "future_date: "
                + created.dt.strftime("%Y-%m-%d %H:%M UTC").astype("string")
                + f" is after the run time plus the tolerance ({not_after:%Y-%m-%d %H:%M} UTC)",
            )
        if not_before is not None:
            reasons.add(
                _flag(created < not_before),
                "past_date: "
                + created.dt.strftime("%Y-%m-%d").astype("string")
                + f" is before {not_before:%Y-%m-%d} (ingest.earliest_year): a placeholder "
                "date (1970-01-01, 1900-01-01)? fix it in the export, or lower earliest_year",
            )

    sources = get("source").str.strip()
    if isinstance(default_source, pd.Series):  # made printable by readers.source_name
        default_source = default_source.reset_index(drop=True).astype("string")
    sources = sources.where(sources.notna() & (sources != ""), default_source).astype("string")
    channels = _channels(sources, get("channel"), default_channel, warnings)
    customer = key_values(get("customer_id"))
    reasons.add(*_long(customer, "customer_id", max_id_chars))
    scores, score_types = _score_fields(get("score"), get("score_type"), warnings)

    repeated = [c for c in extra if re.fullmatch(r"(\w+)_\d+", c) and c.rsplit("_", 1)[0] in known]
    if repeated:
        log.warning(
            "%s: column(s) %s repeat a known column; kept as metadata, redacted like the rest",
            redact_file_name(source_file if files is None else files.iloc[0]),
            ", ".join(repeated),
        )
    # Every stored free-text value is redacted: extra columns become metadata, so they
    # are redacted here (nested JSON values included), keys too (a header row may be data).
    block = np.empty((len(rows), 0), dtype=object)
    if extra:
        extras = rows[extra]
        dtypes = extras.dtypes
        not_string = dtypes.index[dtypes != "string"].tolist()  # readers give strings
        if not_string:
            extras = extras.astype(dict.fromkeys(not_string, "string"))
        block = extras.to_numpy(dtype=object, na_value=None)
    extra_at = {c: j for j, c in enumerate(extra)}
    metadata = _metadata(block, [redact_pii(c) for c in extra], warnings)

    records = pd.DataFrame(
        {
            "source": pseudonymize_column(sources, pseudonym_key),
            "id": pseudonymize_column(ids, pseudonym_key),
            "text": text,
            "text_hash": raw_text_hashes(text, pseudonym_key),
            "created_at": created,
            "channel": channels,
            "customer_id": pseudonymize_column(customer, pseudonym_key),
            "score": pd.array(scores, dtype="Float64"),
            "score_type": pd.array(score_types, dtype="string"),
            "metadata": metadata,
            "source_file": (
                redact_file_name(source_file)
                if files is None
                else _redacted_names(files.tolist(), idx)
            ),
            "source_row": _column(rows, ROW_NUMBER).astype("Int64"),
        },
        index=idx,
    )
    bad = reasons.values.notna().to_numpy(dtype=bool)
    kept = conform(records[~bad], RECORD)
    quarantined = quarantine_frame(
        (
            {
                "source": sources.iloc[pos],
                "source_file": source_file if files is None else files.iloc[pos],
                "source_row": rows[ROW_NUMBER].iloc[pos] if ROW_NUMBER in rows else None,
                "id": ids.iloc[pos],
                "reason": reasons.values.iloc[pos],
                "raw": {
                    c: clean[c].iloc[pos] if c in clean else _no_nul(block[pos][extra_at[c]])
                    for c in columns
                },
            }
            for pos in np.flatnonzero(bad)
        ),
        pseudonym_key,
    )
    if per_row:  # positions in ``rows``: the caller splits the files apart
        kept.index = np.flatnonzero(~bad)
        quarantined.index = np.flatnonzero(bad)
    return kept, quarantined
