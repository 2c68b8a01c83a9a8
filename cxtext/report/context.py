"""Stored tables to the numbers the HTML report shows; no HTML here.

The report reads only stored, already redacted tables (``pain_points``, ``feedback``,
``runs``, ``quarantine``), so it can be rebuilt at any time from the warehouse and
never sees raw text.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cxtext.config import ReportSettings
from cxtext.display import (
    NO_EFFECT_MARK,
    RANKED_BY,
    finite,
    flag,
    method_caption,
    money,
    number,
    percent,
    points,
    stored_keywords,
    stored_quotes,
)
from cxtext.painpoints.mentions import theme_mentions
from cxtext.painpoints.order import competition_ranks, no_effect
from cxtext.report.charts import interval_bars, rank_shift, weekly_lines
from cxtext.schema import utc_timestamp


def theme_rows(pain: pd.DataFrame, top: int) -> list[dict[str, Any]]:
    """One display row per ranked theme, with the inputs of its CLV-at-risk figure."""
    rows = []
    shown = pain.sort_values("rank").head(top)
    for r, marked in zip(shown.itertuples(), no_effect(shown["churn_uplift_low"]), strict=True):
        linked = int(getattr(r, "customers", 0) or 0)
        unlinked = int(getattr(r, "unlinked_mentions", 0) or 0)
        # Digits enough to recompute the figure, as `cxtext explain` shows it; a protective
        # or null theme puts nothing at risk, which the max(0, …) says.
        u = finite(r.churn_uplift)
        uplift = number(u, ".2%")
        uplift = f"max(0, {uplift})" if u is not None and u < 0 else uplift
        corrected = finite(getattr(r, "corrected_people", None))
        people = f"{linked:,} customers + {unlinked:,} unlinked" + (
            f" → {corrected:,.1f} corrected for misclassification" if corrected is not None else ""
        )
        formula = (
            f"({people}) × mean CLV {number(r.mean_clv, ',.2f')} × "
            f"churn uplift {uplift} = {money(r.clv_at_risk)}"
        )
        rows.append(
            {
                "rank": int(r.rank),
                "theme_id": r.theme_id,
                "theme_en": r.theme_en,
                "theme_fa": r.theme_fa,
                "mentions": int(r.mentions),
                "negative_rate": percent(r.negative_rate),
                "customers": linked,
                "unlinked": unlinked,
                "mean_clv": money(r.mean_clv),
                "uplift": percent(r.churn_uplift),
                "uplift_interval": f"{percent(r.churn_uplift_low)} to {percent(r.churn_uplift_high)}",
                "clv_at_risk": money(r.clv_at_risk),
                "clv_interval": f"{money(r.clv_at_risk_low)} to {money(r.clv_at_risk_high)}",
                "no_effect": bool(marked),
                "nps_impact": points(getattr(r, "nps_impact", None)),
                "trend": percent(r.trend, signed=True),
                "spike": flag(r.spike),
                "formula": formula,
                "examples": stored_quotes(r.examples),
            }
        )
    return rows


def weekly_negative_mentions(
    feedback: pd.DataFrame, themes: list[str], end: pd.Timestamp, weeks: int
) -> pd.DataFrame:
    """Negative mentions per theme per week (rows: week start, columns: themes)."""
    end = utc_timestamp(end)
    starts = [end - pd.Timedelta(weeks=weeks - i) for i in range(weeks)]
    out = pd.DataFrame(0, index=pd.DatetimeIndex(starts), columns=themes, dtype="int64")
    if feedback.empty or not themes:
        return out
    mentions = theme_mentions(feedback)
    mentions = mentions[mentions["negative"] & mentions["theme_id"].isin(themes)]
    created = pd.to_datetime(feedback["created_at"], utc=True).reset_index(drop=True)
    week = (
        (created.iloc[mentions["doc"].to_numpy()] - starts[0]) // pd.Timedelta(weeks=1)
    ).to_numpy()
    keep = (week >= 0) & (week < weeks)
    counts = pd.crosstab(week[keep], mentions["theme_id"].to_numpy()[keep])
    for w, row in counts.iterrows():
        for theme, n in row.items():
            out.iloc[int(w), out.columns.get_loc(theme)] = int(n)
    return out


def discovered_rows(discovered: pd.DataFrame | None, top: int) -> list[dict[str, Any]]:
    """The candidates with most at risk (then most documents), for the "new themes" section."""
    if discovered is None or discovered.empty:
        return []
    ordered = discovered.sort_values(
        ["clv_at_risk", "size"], ascending=False, na_position="last"
    ).head(top)
    return [
        {
            "theme_id": r.theme_id,
            "keywords": stored_keywords(r.keywords),
            "size": int(r.size),
            "negative_rate": percent(r.negative_rate),
            "clv_at_risk": money(r.clv_at_risk),
            "clv_interval": f"{money(r.clv_at_risk_low)} to {money(r.clv_at_risk_high)}",
            "is_new": flag(r.is_new),
            "first_seen": f"{pd.Timestamp(r.first_seen):%Y-%m-%d}"
            if pd.notna(r.first_seen)
            else "",
            "examples": stored_quotes(r.examples),
        }
        for r in ordered.itertuples()
    ]


def team_rows(follow_ups: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Per team: customers to contact and the value at stake of the first of them."""
    if follow_ups is None or follow_ups.empty:
        return []
    out = []
    for team, part in follow_ups.groupby("team", sort=False):
        # Named as in the ranked table, most at stake first.
        names = part["theme_en"].fillna(part["theme_id"])
        stake = part["value_at_stake"].groupby(names).sum().sort_values(ascending=False)
        out.append(
            {
                "team": team,
                "customers": len(part),
                "at_stake": money(part["value_at_stake"].sum()),
                "first": money(part["value_at_stake"].max()),
                "themes": ", ".join(stake.index),
            }
        )
    return sorted(out, key=lambda r: -r["customers"])


def volume_and_value_ranks(overall: pd.DataFrame, top: int) -> list[tuple[str, int, int]]:
    """(theme, rank by mentions, rank by CLV at risk as the table orders it: themes
    distinguishable from no effect first) with ties as ties (competition ranks)."""
    by_volume = overall["mentions"].rank(method="min", ascending=False).astype(int)
    by_value = competition_ranks(overall)
    rows = [
        (r.theme_en, int(v), int(w))
        for r, v, w in zip(overall.itertuples(), by_volume, by_value, strict=True)
    ]
    return [row for row in rows if row[1] <= top or row[2] <= top]


def report_context(
    pain: pd.DataFrame,
    feedback: pd.DataFrame,
    run: dict[str, Any] | None,
    quarantine_reasons: dict[str, int],
    options: ReportSettings,
    discovered: pd.DataFrame | None = None,
    follow_ups: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Everything the template shows, computed from the newest pain-point window."""
    overall = pain[pain["segment"] == "all"].sort_values("rank") if len(pain) else pain
    if overall.empty:
        return {"empty": True, "run": run or {}, "quarantine": quarantine_reasons}
    known = overall["currency"].dropna() if "currency" in overall.columns else pd.Series([])
    currency = str(known.iloc[0]) if len(known) else ""
    first = overall.iloc[0]
    start, end = utc_timestamp(first["window_start"]), utc_timestamp(first["window_end"])
    top = options.top
    shown = overall.head(top)
    label = {r.theme_id: r.theme_en for r in overall.itertuples()}

    created = (
        pd.to_datetime(feedback["created_at"], utc=True)
        if len(feedback)
        else pd.Series(dtype="datetime64[ns, UTC]")
    )
    in_window = feedback[(created >= start) & (created < end)] if len(feedback) else feedback
    negative_share = (
        float((in_window["sentiment"] == "negative").mean()) if len(in_window) else None
    )

    trend_themes = list(shown["theme_id"].head(options.trend_themes))
    weekly = weekly_negative_mentions(feedback, trend_themes, end, options.trend_weeks)
    # A theme with nothing at risk has no bar to draw: it is named under the chart instead.
    at_risk = pd.to_numeric(shown["clv_at_risk"], errors="coerce").fillna(0) > 0
    drawn, not_drawn = shown[at_risk], shown[~at_risk]
    bars = (
        [f"{r.rank}. {r.theme_en}" for r in drawn.itertuples()],
        [finite(v) or 0.0 for v in drawn["clv_at_risk"]],
        [finite(v) for v in drawn["clv_at_risk_low"]],
        [finite(v) for v in drawn["clv_at_risk_high"]],
    )
    # The table's mark on a figure not distinguishable from no effect, on its bar too.
    marks = [NO_EFFECT_MARK if m else "" for m in no_effect(drawn["churn_uplift_low"])]
    unit = f" ({currency})" if currency else ""

    segments = []
    for segment, rows in pain[pain["segment"] != "all"].groupby("segment", sort=True):
        segments.append({"segment": segment, "themes": theme_rows(rows, 3)})

    return {
        "empty": False,
        "window_start": start.strftime("%Y-%m-%d"),
        "window_end": end.strftime("%Y-%m-%d"),
        "run": run or {},
        "method": method_caption(first),
        "ranked_by": RANKED_BY,
        "no_effect_mark": NO_EFFECT_MARK,
        "kpis": {
            "documents": len(in_window),
            "negative_share": percent(negative_share),
            "themes": int((overall["mentions"] > 0).sum()),
            "spikes": [
                label[t]
                for t in overall.loc[overall["spike"].fillna(False).astype(bool), "theme_id"]
            ],
            "top_theme": first["theme_en"],
            "top_clv_at_risk": money(first["clv_at_risk"]),
        },
        "themes": theme_rows(overall, top),
        "segments": segments,
        "quarantine": quarantine_reasons,
        "currency": currency,
        "unit": unit,
        "not_drawn": [r.theme_en for r in not_drawn.itertuples()],
        "marked_bars": any(marks),
        "discovered": discovered_rows(discovered, top),
        "discovered_total": 0 if discovered is None else len(discovered),
        "teams": team_rows(follow_ups),
        "charts": {
            "clv_at_risk": interval_bars(
                *bars,
                caption=f"CLV at risk per theme{unit}, with its interval",
                css_class="bars",
                marks=marks,
            ),
            "clv_at_risk_narrow": interval_bars(
                *bars,
                caption=f"CLV at risk per theme{unit}, with its interval",
                narrow=True,
                marks=marks,
            ),
            "weekly": weekly_lines(
                [d.strftime("%m-%d") for d in weekly.index],
                {label[t]: weekly[t].tolist() for t in trend_themes},
                caption=f"Negative mentions per week, last {options.trend_weeks} weeks",
                css_class="wide",
            ),
            "rank_shift": rank_shift(
                volume_and_value_ranks(overall, top),
                caption="Rank by volume vs rank by lifetime value at risk",
                css_class="wide",
            ),
        },
    }
