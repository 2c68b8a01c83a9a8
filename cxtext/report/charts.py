"""Inline SVG charts for the HTML report: no JavaScript, no CDN, so the file stands alone.

Every label that can come from data (theme names, segment values) is escaped here, so
a chart can be dropped into the template as ``Markup``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from markupsafe import Markup, escape

from cxtext.display import money

PALETTE = ("#c0392b", "#2471a3", "#d68910", "#1e8449", "#7d3c98", "#566573")


def _fit(label: str, chars: int) -> str:
    """``label`` cut to ``chars`` characters with an ellipsis: a chart's margin is fixed."""
    return label if len(label) <= chars else label[: chars - 1] + "…"


def _nice_max(value: float) -> float:
    """The next 1/1.5/2/2.5/3/4/5/6/8 × 10^k at or above ``value`` (a round axis end)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    return next(m * exp for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * exp >= value)


def interval_bars(
    labels: Sequence[str],
    values: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    *,
    caption: str,
    width: int = 760,
    narrow: bool = False,
    css_class: str = "",
    marks: Sequence[str] | None = None,
) -> Markup:
    """Horizontal bars with interval whiskers, largest first, one row per label.

    ``narrow`` lays it out for a phone (360 units wide, each label on its own line
    above its bar), so that drawn at a phone's width its text stays at 11-12 px.
    ``marks``: a suffix per bar for its value (the table's "*"), "" for none.
    """
    marks = marks or [""] * len(labels)
    if narrow:
        width, row_h, left, right, top, label_h = 360, 40, 8, 64, 20, 14
    else:
        row_h, left, right, top, label_h = 26, 220, 70, 28, 0
    height = top + row_h * len(labels) + 24
    finite = [v for v in (*values, *highs) if v is not None and math.isfinite(v)]
    axis_max = _nice_max(max(finite, default=0.0))
    plot_w = width - left - right

    def x(v: float) -> float:
        return left + plot_w * max(0.0, min(v, axis_max)) / axis_max

    parts = [
        f'<svg class="chart {css_class}{" narrow" if narrow else ""}" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(caption)}</title>'
    ]
    for k in range(5 if not narrow else 3):  # grid and axis labels
        v = axis_max * k / (4 if not narrow else 2)
        parts.append(
            f'<line x1="{x(v):.1f}" y1="{top - 6}" x2="{x(v):.1f}" y2="{height - 22}" class="grid"/>'
            f'<text x="{x(v):.1f}" y="{height - 6}" class="axis" text-anchor="{"start" if narrow and k == 0 else "middle"}">{money(v)}</text>'
        )
    rows = zip(labels, values, lows, highs, marks, strict=True)
    for i, (label, v, lo, hi, mark) in enumerate(rows):
        y = top + i * row_h + label_h
        v = 0.0 if v is None or not math.isfinite(v) else v
        if narrow:
            parts.append(
                f'<text x="{left}" y="{y - 3}" class="label">{escape(_fit(label, 44))}</text>'
            )
        else:
            parts.append(
                f'<text x="{left - 8}" y="{y + 15}" class="label" text-anchor="end">{escape(_fit(label, 30))}</text>'
            )
        bar_h = row_h - label_h - 8
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{x(v) - left:.1f}" height="{bar_h}" class="bar"/>'
        )
        mid = y + 3 + bar_h / 2
        if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi):
            parts.append(
                f'<line x1="{x(lo):.1f}" y1="{mid}" x2="{x(hi):.1f}" y2="{mid}" class="whisker"/>'
                f'<line x1="{x(lo):.1f}" y1="{y + 4}" x2="{x(lo):.1f}" y2="{y + 2 + bar_h}" class="whisker"/>'
                f'<line x1="{x(hi):.1f}" y1="{y + 4}" x2="{x(hi):.1f}" y2="{y + 2 + bar_h}" class="whisker"/>'
            )
        parts.append(
            f'<text x="{x(max(v, hi or v)) + 6:.1f}" y="{mid + 4}" class="value">{money(v)}{escape(mark)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def weekly_lines(
    weeks: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    caption: str,
    width: int = 760,
    css_class: str = "",
) -> Markup:
    """One line per series over the weeks, with a legend; for a handful of themes."""
    height, left, right, top, bottom = 260, 48, 190, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    axis_max = _nice_max(max((max(s, default=0) for s in series.values()), default=0))
    n = max(len(weeks) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + plot_w * i / n, top + plot_h * (1 - v / axis_max)

    parts = [
        f'<svg class="chart {css_class}" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(caption)}</title>'
    ]
    for k in range(5):
        v = axis_max * k / 4
        _, y = xy(0, v)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{v:g}</text>'
        )
    step = max(1, len(weeks) // 6)
    for i in range(len(weeks) - 1, -1, -step):  # from the newest week, which is always named
        x, _ = xy(i, 0)
        parts.append(
            f'<text x="{x:.1f}" y="{height - 18}" class="axis" text-anchor="middle">{escape(weeks[i])}</text>'
        )
    for j, (name, values) in enumerate(series.items()):
        color = PALETTE[j % len(PALETTE)]
        points = " ".join(
            f"{px:.1f},{py:.1f}" for px, py in (xy(i, v) for i, v in enumerate(values))
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2.2"/>'
        )
        ly = top + 14 + 20 * j
        parts.append(
            f'<rect x="{left + plot_w + 14}" y="{ly - 9}" width="12" height="12" fill="{color}"/>'
            f'<text x="{left + plot_w + 32}" y="{ly + 1}" class="label">{escape(_fit(name, 24))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def rank_shift(
    rows: Sequence[tuple[str, int, int]], *, caption: str, width: int = 760, css_class: str = ""
) -> Markup:
    """Slope chart: each theme's rank by volume (left) and by CLV at risk (right).

    Ranks are competition ranks ("=3" when tied), so a tie reads as a tie: tied themes
    sit in neighbouring slots with the same rank number, and a theme whose two ranks
    are equal gets a grey "same" line even if its slots differ.
    """
    n = len(rows)
    row_h, top = 24, 34
    height = top + row_h * max(n, 1) + 8
    xl, xr = 250, width - 250
    tied_l = Counter(v for _, v, _ in rows)
    tied_r = Counter(r for _, _, r in rows)
    # Slots: by rank, ties broken by the other side's rank then the name, on both sides.
    left = {
        i: k
        for k, i in enumerate(sorted(range(n), key=lambda i: (rows[i][1], rows[i][2], rows[i][0])))
    }
    right = {
        i: k
        for k, i in enumerate(sorted(range(n), key=lambda i: (rows[i][2], rows[i][1], rows[i][0])))
    }

    def name(rank: int, counts: Counter) -> str:
        return f"={rank}" if counts[rank] > 1 else f"{rank}"

    parts = [
        f'<svg class="chart {css_class}" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(caption)}</title>',
        f'<text x="{xl}" y="16" class="axis" text-anchor="middle">rank by mentions</text>',
        f'<text x="{xr}" y="16" class="axis" text-anchor="middle">rank by CLV at risk</text>',
    ]
    for i, (label, by_volume, by_value) in enumerate(rows):
        yl, yr = top + left[i] * row_h, top + right[i] * row_h
        moved = "up" if by_value < by_volume else "down" if by_value > by_volume else "same"
        parts.append(
            f'<line x1="{xl}" y1="{yl}" x2="{xr}" y2="{yr}" class="slope {moved}"/>'
            f'<text x="{xl - 10}" y="{yl + 4}" class="label" text-anchor="end">{name(by_volume, tied_l)}. {escape(_fit(label, 32))}</text>'
            f'<text x="{xr + 10}" y="{yr + 4}" class="label">{name(by_value, tied_r)}. {escape(_fit(label, 32))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
