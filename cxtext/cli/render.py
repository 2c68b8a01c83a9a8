"""Terminal rendering of pain points, shared by `cxtext run` and `cxtext pain-points`."""

from __future__ import annotations

from pathlib import PurePath

import pandas as pd
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cxtext.display import (
    NO_EFFECT_MARK,
    RANKED_BY,
    flag,
    method_caption,
    money,
    percent,
    points,
    reason_summary,
)
from cxtext.normalize.pii import redact_file_name
from cxtext.painpoints.order import no_effect

WIDE = 120  # below this many columns the table drops the uplift and mean-CLV columns


def pain_point_table(
    pain: pd.DataFrame, top: int = 10, title: str | None = None, width: int = WIDE
) -> Table:
    """The ranked themes of one segment as a rich table (CLV at risk with its interval).

    Intervals go on a second, dim line so that numbers never wrap; narrower than
    ``WIDE`` columns the table keeps only what ranks a theme (the rest is in
    `cxtext explain THEME`). A theme whose churn uplift's interval holds 0 is marked
    (``NO_EFFECT_MARK``): not distinguishable from no effect, it ranks after the others.
    """
    wide = width >= WIDE
    unit = currency_of(pain)
    table = Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    columns = [
        ("#", "right"),
        ("theme", "left"),
        ("mentions\n(negative)", "right"),
        ("customers", "right"),
    ]
    if wide:
        columns += [(f"mean CLV{unit}", "right"), ("churn uplift", "right")]
    columns += [(f"CLV at risk{unit}", "right"), ("NPS", "right"), ("trend", "right")]
    for name, justify in columns:
        # Only the theme name may wrap: numbers are never cut.
        table.add_column(name, justify=justify, no_wrap=name != "theme")
    shown = pain.sort_values("rank").head(top)
    for row, marked in zip(shown.itertuples(), no_effect(shown["churn_uplift_low"]), strict=True):
        cells = [
            str(row.rank),
            f"{row.theme_en}\n[dim]{row.theme_fa}[/]",
            f"{row.mentions}\n[dim]{percent(row.negative_rate)}[/]",
            str(row.customers),
        ]
        if wide:
            cells += [
                money(row.mean_clv),
                f"{percent(row.churn_uplift)}\n[dim]{percent(row.churn_uplift_low)}–{percent(row.churn_uplift_high)}[/]",
            ]
        mark = NO_EFFECT_MARK if marked else ""
        cells += [
            f"[bold]{money(row.clv_at_risk)}[/]{mark}\n[dim]{money(row.clv_at_risk_low)}–{money(row.clv_at_risk_high)}[/]",
            points(row.nps_impact),
            percent(row.trend, signed=True) + ("\n[bold red]▲ spike[/]" if flag(row.spike) else ""),
        ]
        table.add_row(*cells)
    return table


def currency_of(rows: pd.DataFrame) -> str:
    """ " (USD)" from the rows' stored currency, "" when they carry none."""
    if "currency" not in rows.columns or rows.empty:
        return ""
    known = rows["currency"].dropna()
    return f"\n({known.iloc[0]})" if len(known) else ""


def print_pain_points(console: Console, pain: pd.DataFrame, top: int, segment: str = "all") -> None:
    """Print one segment's table, or say plainly that there is nothing to show."""
    rows = pain[pain["segment"] == segment] if len(pain) else pain
    if rows.empty:
        console.print(
            f"[yellow]No pain points for segment {segment!r} yet.[/] Run `cxtext run` first."
        )
        return
    first = rows.iloc[0]
    title = (
        f"Top pain points by lifetime value at risk — {first['window_start']:%Y-%m-%d} to "
        f"{first['window_end']:%Y-%m-%d} (exclusive), segment {segment}"
    )
    console.print(pain_point_table(rows, top, title, console.width))
    console.print(f"[dim]{RANKED_BY}[/]")
    console.print(f"[dim]{method_caption(first)}[/]")


FILES_SHOWN = 40  # a folder of thousands of one-ticket files: the rest in one summary line


def print_file_accounts(console: Console, files: dict) -> None:
    """One line per input file: read = kept + quarantined + duplicates, so no row goes unseen.

    Beyond :data:`FILES_SHOWN` files, those with quarantined rows or duplicates are shown
    first and the clean rest is summed in one line (every file stays in the ``runs`` row).
    """
    if not files:
        return
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("file")
    for name in ("read", "kept", "quarantined", "duplicates"):
        table.add_column(name, justify="right")
    shown = dict(files)
    if len(files) > FILES_SHOWN:  # files with problems first, then the clean ones, in file order
        ordered = sorted(files, key=lambda p: not (files[p].quarantined or files[p].duplicates))
        picked = set(ordered[:FILES_SHOWN])
        shown = {p: t for p, t in files.items() if p in picked}
    for path, t in shown.items():
        name = redact_file_name(PurePath(path).name)  # the platform's separators only: a
        # printable name writes a control character as "\x1b", not a folder
        quarantined = f"[yellow]{t.quarantined:,}[/]" if t.quarantined else "0"
        if t.unsupported:
            quarantined = "not read " + quarantined  # unsupported_file or skipped_file
        table.add_row(Text(name), f"{t.read:,}", f"{t.kept:,}", quarantined, f"{t.duplicates:,}")
    rest = [t for p, t in files.items() if p not in shown]
    if rest:
        table.add_row(
            Text(f"… {len(rest):,} more files"),
            f"{sum(t.read for t in rest):,}",
            f"{sum(t.kept for t in rest):,}",
            f"{sum(t.quarantined for t in rest):,}",
            f"{sum(t.duplicates for t in rest):,}",
        )
    console.print(table)
    reasons: dict[str, int] = {}
    for t in files.values():
        for code, n in t.reasons.items():
            reasons[code] = reasons.get(code, 0) + n
    if reasons:
        console.print(
            f"quarantined by reason: {reason_summary(reasons)} (`cxtext quarantine` lists each row)"
        )
