"""How figures read (pain points, quarantine reasons), in the terminal and in the HTML report alike.

Missing, NaN and infinite values all read as a dash, so no table ever shows "nan".
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import pandas as pd

DASH = "–"


def finite(x: object) -> float | None:
    """``x`` as a float, or None when it is missing, not a number or infinite."""
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def number(x: object, fmt: str = ",.0f") -> str:
    v = finite(x)
    return DASH if v is None else format(v, fmt)


def money(x: object) -> str:
    return number(x, ",.0f")


def percent(x: object, signed: bool = False) -> str:
    return number(x, "+.0%" if signed else ".0%")


def points(x: object) -> str:
    return number(x, "+.1f")


def stored_quotes(raw: object) -> list[str]:
    """A stored JSON list of example quotes (pain points' ``examples``); [] when unreadable.

    >>> stored_quotes('["slow app", "no refund"]'), stored_quotes(None), stored_quotes("{")
    (['slow app', 'no refund'], [], [])
    """
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return []
    return [str(q) for q in parsed] if isinstance(parsed, list) else []


def stored_keywords(raw: object) -> dict[str, list[str]]:
    """A discovered theme's stored keywords per language (JSON); {} when unreadable.

    >>> stored_keywords('{"en": ["staking"]}'), stored_keywords(None), stored_keywords("[1]")
    ({'en': ['staking']}, {}, {})
    """
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def reason_summary(counts: dict[str, int], most: int | None = None) -> str:
    """Quarantine reason codes by count, most first (ties in the given order), e.g. for
    :func:`cxtext.ingest.validate.reason_counts`; the first ``most`` of them when given.

    >>> reason_summary({"empty_text": 2, "bad_created_at": 1200}), reason_summary({})
    ('bad_created_at 1,200, empty_text 2', '')
    >>> reason_summary({"a": 3, "b": 2, "c": 1}, most=2)
    'a 3, b 2'
    """
    ranked = sorted(counts.items(), key=lambda item: -item[1])[:most]
    return ", ".join(f"{code} {n:,}" for code, n in ranked)


def flag(x: object) -> bool:
    """True for a stored true (Python, NumPy or pandas boolean), False for false or missing."""
    return x is not None and not pd.isna(x) and bool(x)


# What the rank orders by, and the mark of a theme the data cannot tell from a harmless
# one (painpoints.order.no_effect); said under every ranked table, terminal and
# report, so that a reader who sees a smaller figure above a larger one knows why.
NO_EFFECT_MARK = "*"
RANKED_BY = (
    "Ranked by CLV at risk; themes marked * rank after the others: their churn uplift's "
    "interval holds 0, so they are not distinguishable from no effect."
)


def method_caption(row: Mapping[str, object]) -> str:
    """The method line under a ranked table: each theme records its own (its CLV sources,
    its unlinked mentions), so the line names whose it is.

    >>> method_caption({"theme_en": "App errors", "theme_id": "app_bugs", "method": "uplift=x"})
    'method of the App errors row (each theme has its own: `cxtext explain THEME`): uplift=x'
    """
    name = row.get("theme_en") or row.get("theme_id")
    return f"method of the {name} row (each theme has its own: `cxtext explain THEME`): " + str(
        row.get("method")
    )
