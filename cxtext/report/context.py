"""Stored tables to the numbers the HTML report shows; no HTML here.

The report reads only stored, already redacted tables (``pain_points``, ``feedback``,
``runs``, ``quarantine``), so it can be rebuilt at any time from the warehouse and
never sees raw text.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cxtext.painpoints.mentions import theme_mentions
from cxtext.report.charts import interval_bars, rank_shift, weekly_lines


@dataclass(frozen=True)
class ReportOptions:
    """The `report` section of the settings (defaults live in cxtext/defaults.yaml)."""

    top: int  # themes in the ranked table and the bar chart
    trend_weeks: int  # weeks of negative mentions in the trend chart
    trend_themes: int  # lines in the trend chart


def _num(x: object) -> float | None:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _fmt_money(x: object) -> str:
    v = _num(x)
    return "–" if v is None else f"{v:,.0f}"


def _fmt_pct(x: object, signed: bool = False) -> str:
    v = _num(x)
    return "–" if v is None else (f"{v:+.0%}" if signed else f"{v:.0%}")


def _fmt_points(x: object) -> str:
    v = _num(x)
    return "–" if v is None else f"{v:+.1f}"


def _examples(raw: object) -> list[str]:
    if isinstance(raw, list):
        return [str(x) for x in raw]
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else []
    except ValueError:
        return []
    return [str(x) for x in parsed] if isinstance(parsed, list) else []


def theme_rows(pain: pd.DataFrame, top: int) -> list[dict[str, Any]]:
    """One display row per ranked theme, with the inputs of its CLV-at-risk figure."""
    rows = []
    for r in pain.sort_values("rank").head(top).itertuples():
        linked = int(getattr(r, "customers", 0) or 0)
        unlinked = int(getattr(r, "unlinked_mentions", 0) or 0)
        # A protective or null theme puts nothing at risk: the formula says so.
        u = _num(r.churn_uplift)
        uplift = f"max(0, {_fmt_pct(u)})" if u is not None and u < 0 else _fmt_pct(u)
        formula = (
            f"({linked:,} customers + {unlinked:,} unlinked) × mean CLV {_fmt_money(r.mean_clv)} × "
            f"churn uplift {uplift} = {_fmt_money(r.clv_at_risk)}"
        )
        rows.append(
            {
                "rank": int(r.rank),
                "theme_id": r.theme_id,
                "theme_en": r.theme_en,
                "theme_fa": r.theme_fa,
                "mentions": int(r.mentions),
                "negative_rate": _fmt_pct(r.negative_rate),
                "customers": linked,
                "unlinked": unlinked,
                "mean_clv": _fmt_money(r.mean_clv),
                "uplift": _fmt_pct(r.churn_uplift),
                "uplift_interval": f"{_fmt_pct(r.churn_uplift_low)} to {_fmt_pct(r.churn_uplift_high)}",
                "clv_at_risk": _fmt_money(r.clv_at_risk),
                "clv_interval": f"{_fmt_money(r.clv_at_risk_low)} to {_fmt_money(r.clv_at_risk_high)}",
                "nps_impact": _fmt_points(getattr(r, "nps_impact", None)),
                "trend": _fmt_pct(r.trend, signed=True),
                "spike": bool(r.spike) if not pd.isna(r.spike) else False,
                "formula": formula,
                "examples": _examples(r.examples),
            }
        )
    return rows


def weekly_negative_mentions(
    feedback: pd.DataFrame, themes: list[str], end: pd.Timestamp, weeks: int
) -> pd.DataFrame:
    """Negative mentions per theme per week (rows: week start, columns: themes)."""
    end = pd.Timestamp(end)
    end = end.tz_localize("UTC") if end.tz is None else end
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


def report_context(
    pain: pd.DataFrame,
    feedback: pd.DataFrame,
    run: dict[str, Any] | None,
    quarantine_reasons: dict[str, int],
    options: ReportOptions,
) -> dict[str, Any]:
    """Everything the template shows, computed from the newest pain-point window."""
    overall = pain[pain["segment"] == "all"].sort_values("rank") if len(pain) else pain
    if overall.empty:
        return {"empty": True, "run": run or {}, "quarantine": quarantine_reasons}
    first = overall.iloc[0]
    start, end = pd.Timestamp(first["window_start"]), pd.Timestamp(first["window_end"])
    top = options.top
    shown = overall.head(top)
    label = {r.theme_id: r.theme_en for r in overall.itertuples()}

    created = (
        pd.to_datetime(feedback["created_at"], utc=True)
        if len(feedback)
        else pd.Series(dtype="datetime64[ns, UTC]")
    )
    start_utc = start.tz_localize("UTC") if start.tz is None else start
    end_utc = end.tz_localize("UTC") if end.tz is None else end
    in_window = (
        feedback[(created >= start_utc) & (created < end_utc)] if len(feedback) else feedback
    )
    negative_share = (
        float((in_window["sentiment"] == "negative").mean()) if len(in_window) else None
    )

    trend_themes = list(shown["theme_id"].head(options.trend_themes))
    weekly = weekly_negative_mentions(feedback, trend_themes, end_utc, options.trend_weeks)
    volume_rank = overall["mentions"].rank(method="first", ascending=False).astype(int)
    shift_rows = [
        (r.theme_en, int(v), int(r.rank))
        for r, v in zip(overall.itertuples(), volume_rank, strict=True)
    ]
    shift_rows = [row for row in shift_rows if row[1] <= top or row[2] <= top]

    segments = []
    for segment, rows in pain[pain["segment"] != "all"].groupby("segment", sort=True):
        segments.append({"segment": segment, "themes": theme_rows(rows, 3)})

    return {
        "empty": False,
        "window_start": start.strftime("%Y-%m-%d"),
        "window_end": end.strftime("%Y-%m-%d"),
        "run": run or {},
        "method": str(first.get("method", "")),
        "kpis": {
            "documents": len(in_window),
            "negative_share": _fmt_pct(negative_share),
            "themes": int((overall["mentions"] > 0).sum()),
            "spikes": [
                label[t]
                for t in overall.loc[overall["spike"].fillna(False).astype(bool), "theme_id"]
            ],
            "top_theme": first["theme_en"],
            "top_clv_at_risk": _fmt_money(first["clv_at_risk"]),
        },
        "themes": theme_rows(overall, top),
        "segments": segments,
        "quarantine": quarantine_reasons,
        "charts": {
            "clv_at_risk": interval_bars(
                [f"{r.rank}. {r.theme_en}" for r in shown.itertuples()],
                [_num(v) or 0.0 for v in shown["clv_at_risk"]],
                [_num(v) for v in shown["clv_at_risk_low"]],
                [_num(v) for v in shown["clv_at_risk_high"]],
                caption="CLV at risk per theme, with its interval",
            ),
            "weekly": weekly_lines(
                [d.strftime("%m-%d") for d in weekly.index],
                {label[t]: weekly[t].tolist() for t in trend_themes},
                caption=f"Negative mentions per week, last {options.trend_weeks} weeks",
            ),
            "rank_shift": rank_shift(
                shift_rows, caption="Rank by volume vs rank by lifetime value at risk"
            ),
        },
    }
