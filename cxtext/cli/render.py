"""Terminal rendering of pain points, shared by `cxtext run` and `cxtext pain-points`."""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Console
from rich.table import Table


def _money(x: object) -> str:
    return "–" if x is None or pd.isna(x) else f"{float(x):,.0f}"


def _pct(x: object, signed: bool = False) -> str:
    if x is None or pd.isna(x) or (isinstance(x, float) and math.isinf(x)):
        return "–"
    return f"{float(x):+.0%}" if signed else f"{float(x):.0%}"


def _points(x: object) -> str:
    return "–" if x is None or pd.isna(x) else f"{float(x):+.1f}"


def pain_point_table(pain: pd.DataFrame, top: int = 10, title: str | None = None) -> Table:
    """The ranked themes of one segment as a rich table (CLV at risk with its interval)."""
    table = Table(title=title, title_justify="left", header_style="bold", show_lines=False)
    for name, justify in [
        ("#", "right"), ("theme", "left"), ("mentions", "right"), ("negative", "right"),
        ("customers", "right"), ("mean CLV", "right"), ("churn uplift", "right"),
        ("CLV at risk (interval)", "right"), ("NPS impact", "right"), ("trend", "right"),
    ]:
        table.add_column(name, justify=justify)
    for row in pain.sort_values("rank").head(top).itertuples():
        spike = " [bold red]▲ spike[/]" if row.spike is True else ""
        table.add_row(
            str(row.rank),
            f"{row.theme_en}\n[dim]{row.theme_fa}[/]",
            str(row.mentions),
            _pct(row.negative_rate),
            str(row.customers),
            _money(row.mean_clv),
            f"{_pct(row.churn_uplift)} [dim]({_pct(row.churn_uplift_low)}–{_pct(row.churn_uplift_high)})[/]",
            f"[bold]{_money(row.clv_at_risk)}[/] [dim]({_money(row.clv_at_risk_low)}–{_money(row.clv_at_risk_high)})[/]",
            _points(row.nps_impact),
            _pct(row.trend, signed=True) + spike,
        )
    return table


def print_pain_points(console: Console, pain: pd.DataFrame, top: int, segment: str = "all") -> None:
    """Print one segment's table, or say plainly that there is nothing to show."""
    rows = pain[pain["segment"] == segment] if len(pain) else pain
    if rows.empty:
        console.print(f"[yellow]No pain points for segment {segment!r} yet.[/] Run `cxtext run` first.")
        return
    first = rows.iloc[0]
    title = (
        f"Top pain points by lifetime value at risk — {first['window_start']:%Y-%m-%d} to "
        f"{first['window_end']:%Y-%m-%d} (exclusive), segment {segment}"
    )
    console.print(pain_point_table(rows, top, title))
    console.print(f"[dim]method: {first['method']}[/]")
