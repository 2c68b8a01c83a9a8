"""Pain points for any segment or window, computed on demand from the stored tables.

The nightly run stores the "all" segment (plus any ``painpoints.segments``); a reader
asking for ``plan=premium``, ``channel=chat`` or the last 7 days gets the same ranking
function run again over the stored feedback and customer values, with each theme's
churn uplift as stored for the window (uplift is estimated on all history, not per
segment, so a segment's figures add up with the overall table's).
"""

from __future__ import annotations

import json
import re

import pandas as pd

from cxtext.schema import CUSTOMER_ATTRIBUTES, conform

UPLIFT_FROM_ROW = ("churn_uplift", "churn_uplift_low", "churn_uplift_high")
_SINCE = re.compile(r"^\s*(\d+)\s*([dw]?)\s*$")


def parse_days(text: str) -> int:
    """ "7d" -> 7, "2w" -> 14, "30" -> 30; anything else is a ValueError naming the form.

    Examples
    --------
    >>> parse_days("7d"), parse_days("2w"), parse_days("30")
    (7, 14, 30)
    """
    m = _SINCE.match(str(text))
    if not m or int(m.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a number of days such as 7d, 2w or 28")
    return int(m.group(1)) * (7 if m.group(2) == "w" else 1)


def parse_segment(spec: str) -> tuple[str, str | None]:
    """ "plan=premium" -> ("plan", "premium"); "plan" -> ("plan", None); "all" -> ("all", None)."""
    column, sep, value = spec.partition("=")
    column, value = column.strip(), value.strip()
    if not column or (sep and not value):
        raise ValueError(f"segment {spec!r}: expected COLUMN=VALUE, e.g. plan=premium")
    return column, (value if sep else None)


def uplift_from_pain_points(pain: pd.DataFrame) -> pd.DataFrame:
    """Each theme's stored churn uplift (the "all" rows) in the shape ``rank_pain_points`` takes."""
    rows = pain[pain["segment"] == "all"] if len(pain) else pain
    out = pd.DataFrame({"theme_id": rows["theme_id"].astype("string")} if len(rows) else {})
    if rows.empty:
        return pd.DataFrame(columns=["theme_id", *UPLIFT_FROM_ROW, "method"])
    for c in UPLIFT_FROM_ROW:
        out[c] = pd.to_numeric(rows[c], errors="coerce")
    out["method"] = [_uplift_method(m) for m in rows["method"].astype("string").fillna("")]
    return out.reset_index(drop=True)


def _uplift_method(method: str) -> str:
    """The ``uplift=...`` part of a stored method string (it may hold "; " itself)."""
    body = method.removeprefix("uplift=")
    for marker in ("; clv=", "; unlinked "):
        body = body.split(marker, 1)[0]
    return body or "stored"


TENURE_BANDS = ((6, "<6m"), (12, "6-12m"), (24, "1-2y"), (float("inf"), "2y+"))


def tenure_band(months: float) -> str | None:
    """Months of tenure as a band a reader can filter on.

    Examples
    --------
    >>> [tenure_band(m) for m in (2, 6, 18, 61)]
    ['<6m', '6-12m', '1-2y', '2y+']
    """
    if months is None or pd.isna(months) or months < 0:
        return None
    return next(label for upper, label in TENURE_BANDS if months < upper)


def customer_attributes(customers: pd.DataFrame | None, typed: tuple[str, ...]) -> pd.DataFrame:
    """CUSTOMER_ATTRIBUTES rows: each customer's other columns as strings, plus ``tenure_band``.

    ``typed`` are the customers columns with a meaning of their own (clv, churned, ...),
    left out. A numeric column whose name has "tenure" gives ``tenure_band`` (months;
    "year" in the name means years).
    """
    if customers is None or customers.empty or "customer_id" not in customers.columns:
        return CUSTOMER_ATTRIBUTES.empty()
    cust = customers.dropna(subset=["customer_id"]).drop_duplicates("customer_id", keep="last")
    columns = [c for c in cust.columns if c not in typed and c != "customer_id"]
    tenure = next((c for c in columns if "tenure" in c.lower()), None)
    bands = None
    if tenure is not None:
        months = pd.to_numeric(cust[tenure], errors="coerce")
        if "year" in tenure.lower():
            months = months * 12
        bands = [tenure_band(m) for m in months]
    records = []
    for i, row in enumerate(cust[columns].astype("string").itertuples(index=False)):
        attrs = {c: v for c, v in zip(columns, row, strict=True) if not pd.isna(v) and v != ""}
        if bands is not None and bands[i] is not None:
            attrs["tenure_band"] = bands[i]
        records.append(json.dumps(attrs, ensure_ascii=False, sort_keys=True))
    out = pd.DataFrame(
        {"customer_id": cust["customer_id"].astype("string").str.strip(), "attributes": records}
    )
    return conform(out, CUSTOMER_ATTRIBUTES)
