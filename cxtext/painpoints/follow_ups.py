"""Who each team should contact first: closing the loop on the costliest pain points.

A follow-up is a customer who raised one of the window's top pain points negatively.
Each customer appears once per team, under the theme where they have the most at
stake, with the newest such document as the quote; the team is the theme's ``owner``
in the taxonomy ("unassigned" when it names none). Within a team the order is the
customer's own value at stake, CLV × max(0, churn uplift of the theme) — the same two
factors whose sum over customers is the theme's CLV at risk. Feedback without a
customer id cannot be followed up and is left out (it still counts in the ranking).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from cxtext.painpoints.mentions import theme_mentions
from cxtext.schema import FOLLOW_UPS, conform

UNASSIGNED = "unassigned"


def row_id(team: str, customer_id: str, theme_id: str, source: str, feedback_id: str) -> str:
    """The same follow-up gets the same id in every run (12 hex digits).

    Examples
    --------
    >>> row_id("support", "C1", "delivery", "tickets", "T-9")
    '5c69d7d4c5fa'
    """
    key = "\x1f".join((team, customer_id, theme_id, source, feedback_id))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def follow_ups(
    feedback: pd.DataFrame,
    pain: pd.DataFrame,
    customer_value: pd.DataFrame,
    owners: dict[str, str],
    *,
    top_themes: int,
    currency: str,
) -> pd.DataFrame:
    """FOLLOW_UPS rows for the window of ``pain`` (its "all" segment), best first per team.

    ``top_themes``: only themes ranked this high with something at risk are followed up.
    """
    overall = pain[pain["segment"] == "all"] if len(pain) else pain
    if overall.empty or feedback is None or feedback.empty:
        return FOLLOW_UPS.empty()
    risky = pd.to_numeric(overall["clv_at_risk"], errors="coerce").fillna(0) > 0
    top = overall[risky & (overall["rank"] <= top_themes)].set_index("theme_id")
    if top.empty:
        return FOLLOW_UPS.empty()
    start, end = overall["window_start"].iloc[0], overall["window_end"].iloc[0]

    fb = feedback.reset_index(drop=True)
    created = pd.to_datetime(fb["created_at"], utc=True)
    m = theme_mentions(fb)
    docs = m["doc"].to_numpy()
    keep = (
        m["negative"].to_numpy(bool)
        & m["theme_id"].isin(top.index).to_numpy()
        & ((created.iloc[docs] >= start) & (created.iloc[docs] < end)).to_numpy()
    )
    m = m[keep]
    cid = fb["customer_id"].astype("string").str.strip().iloc[m["doc"].to_numpy()].to_numpy()
    m = m.assign(customer_id=cid)
    m = m[m["customer_id"].notna() & (m["customer_id"] != "")]
    if m.empty:
        return FOLLOW_UPS.empty()

    clv = _clv(customer_value)
    rows = fb.iloc[m["doc"].to_numpy()]
    out = pd.DataFrame(
        {
            "customer_id": m["customer_id"].to_numpy(),
            "theme_id": m["theme_id"].to_numpy(),
            "theme_en": top.loc[m["theme_id"], "theme_en"].to_numpy(),
            "team": [owners.get(t, UNASSIGNED) for t in m["theme_id"]],
            "clv": m["customer_id"].map(clv).to_numpy(dtype=float),
            "churn_uplift": pd.to_numeric(top.loc[m["theme_id"], "churn_uplift"]).to_numpy(float),
            "source": rows["source"].astype("string").to_numpy(),
            "feedback_id": rows["id"].astype("string").to_numpy(),
            "channel": rows["channel"].to_numpy() if "channel" in rows else pd.NA,
            "created_at": created.iloc[m["doc"].to_numpy()].to_numpy(),
            "quote": rows["text_redacted"].to_numpy() if "text_redacted" in rows else pd.NA,
        }
    )
    out["value_at_stake"] = out["clv"] * np.maximum(out["churn_uplift"].fillna(0.0), 0.0)
    # One row per customer and team: the theme with most at stake, its newest document.
    out = out.sort_values(
        ["team", "customer_id", "value_at_stake", "created_at"],
        ascending=[True, True, False, False],
        na_position="last",
    ).drop_duplicates(["team", "customer_id"])
    out = out.sort_values(
        ["team", "value_at_stake", "created_at", "customer_id"],
        ascending=[True, False, False, True],
        na_position="last",
    )
    out["priority"] = out.groupby("team").cumcount() + 1
    out["row_id"] = [
        row_id(*key)
        for key in zip(
            out["team"],
            out["customer_id"],
            out["theme_id"],
            out["source"],
            out["feedback_id"],
            strict=True,
        )
    ]
    out["window_end"] = end
    out["currency"] = currency
    return conform(out, FOLLOW_UPS)


def _clv(customer_value: pd.DataFrame | None) -> pd.Series:
    if customer_value is None or customer_value.empty:
        return pd.Series(dtype=float)
    cv = customer_value.dropna(subset=["customer_id"])
    ids = cv["customer_id"].astype("string").str.strip()
    return (
        pd.Series(pd.to_numeric(cv["clv"], errors="coerce").to_numpy(float), index=ids)
        .groupby(level=0)
        .last()
    )


def team_counts(rows: pd.DataFrame) -> dict[str, int]:
    """Follow-ups per team, largest first (for the report and the CLI summary)."""
    if rows.empty:
        return {}
    counts = rows["team"].value_counts()
    return {str(k): int(v) for k, v in counts.items()}
