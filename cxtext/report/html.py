"""The self-contained HTML report: one file with inline CSS and SVG, no scripts.

Jinja2 autoescaping is on for every value, so feedback text (already redacted) can
never inject markup; charts arrive pre-escaped as ``Markup`` from ``charts``.
"""

from __future__ import annotations

import base64
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from cxtext.ingest.validate import reason_counts
from cxtext.report.context import ReportSettings, report_context
from cxtext.schema import FEEDBACK
from cxtext.store.warehouse import Warehouse

_ENV = Environment(
    loader=PackageLoader("cxtext.report", "templates"),
    autoescape=select_autoescape(["html", "j2"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


FONT = Path(__file__).with_name("fonts") / "vazirmatn-arabic-400-normal.woff2"


@cache
def persian_font() -> str:
    """The embedded Vazirmatn subset as a base64 data: URL (see fonts/README.md)."""
    return "data:font/woff2;base64," + base64.b64encode(FONT.read_bytes()).decode("ascii")


def render_report(
    pain: pd.DataFrame,
    feedback: pd.DataFrame,
    options: ReportSettings,
    run: dict[str, Any] | None = None,
    quarantine_reasons: dict[str, int] | None = None,
    discovered: pd.DataFrame | None = None,
    follow_ups: pd.DataFrame | None = None,
) -> str:
    """The report's HTML for the newest pain-point window."""
    context = report_context(
        pain, feedback, run, quarantine_reasons or {}, options, discovered, follow_ups
    )
    return _ENV.get_template("report.html.j2").render(**context, font_url=persian_font())


def default_report_path(warehouse: str, configured: Path) -> Path:
    """Beside a DuckDB warehouse file (so each warehouse has its own report), else ``configured``."""
    if "://" in warehouse:
        return configured
    return Path(warehouse).resolve().parent / configured.name


def write_report(html: str, path: Path) -> Path:
    """Write atomically, so a reader never opens a half-written report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path


def report_from_warehouse(wh: Warehouse, options: ReportSettings) -> str:
    """Rebuild the report from stored tables alone (what `cxtext report` and the flow call)."""
    pain = wh.latest_pain_points()
    run: dict[str, Any] | None = None
    feedback = FEEDBACK.empty()
    if len(pain):
        end = pd.Timestamp(pain["window_end"].max())
        start = end - pd.Timedelta(weeks=options.trend_weeks)
        feedback = wh.read_feedback(
            start, end, columns=["created_at", "topics", "aspect_sentiment", "sentiment"]
        )
        runs = wh.read_table("runs")
        mine = runs[runs["run_id"].isin(pain["run_id"].unique())]
        if len(mine):
            row = mine.sort_values("finished_at").iloc[-1]
            run = {k: (None if _missing(v) else v) for k, v in row.items()}
            run["finished_at"] = (
                f"{pd.Timestamp(run['finished_at']):%Y-%m-%d %H:%M} UTC"
                if run["finished_at"]
                else None
            )
            run["models"] = _models_line(run.get("model_versions"))
            run["method_changes"], run["other_warnings"] = _run_warnings(run.get("warnings"))
    reasons = reason_counts(wh.read_sql("SELECT reason FROM quarantine")["reason"])
    discovered = follow_ups = None
    if len(pain):
        end = pain["window_end"].max()
        discovered = wh.read_table("discovered_themes")
        discovered = discovered[discovered["window_end"] == end]
        follow_ups = wh.read_table("follow_ups")
        follow_ups = follow_ups[follow_ups["window_end"] == end]
    return render_report(pain, feedback, options, run, reasons, discovered, follow_ups)


# How the flow words a change of method in the run's warnings, which the report lists
METHOD_CHANGED = "method changed since the previous run: "


def _run_warnings(warnings: object) -> tuple[list[str], list[str]]:
    """The run's stored warnings: its :data:`METHOD_CHANGED` ones less the prefix
    (docs/value.md §6), and the others, which the terminal printed after the table."""
    try:
        parsed = json.loads(warnings) if isinstance(warnings, str) else warnings or []
    except ValueError:
        return [], [str(warnings)]
    texts = [w for w in parsed if isinstance(w, str)]
    n = len(METHOD_CHANGED)
    changes = [w[n:] for w in texts if w.startswith(METHOD_CHANGED)]
    return changes, [w for w in texts if not w.startswith(METHOD_CHANGED)]


def _models_line(versions: object) -> str:
    """``{"topic_model": ["topic-v1"], "sentiment_model": ["en:s-en|fa:s-fa"]}`` as
    ``topic model: topic-v1; sentiment model: s-en (en), s-fa (fa)``.

    >>> _models_line('{"sentiment_model": ["en:s-en|fa:s-fa"], "topic_model": "keywords:ab12"}')
    'sentiment model: s-en (en), s-fa (fa); topic model: keywords:ab12'
    """
    try:
        parsed = json.loads(versions) if isinstance(versions, str) else versions
    except ValueError:
        return str(versions)
    if not isinstance(parsed, dict):
        return "" if parsed is None else str(parsed)
    return "; ".join(
        f"{k.replace('_', ' ')}: {', '.join(_by_language(v))}" for k, v in parsed.items()
    )


def _by_language(names: object) -> list[str]:
    """The stage's ``lang:name|lang:name`` (one model per language) as ``name (lang)``."""
    parts = [p for n in (names if isinstance(names, list) else [names]) for p in str(n).split("|")]
    return [re.sub(r"^([a-z]{2}):(.+)$", r"\2 (\1)", p) for p in parts]


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, (str, dict, list)) and bool(pd.isna(value)))
