"""The HTML report: self-contained, escaped, and showing the figures it claims to."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxtext.cli import app
from cxtext.config import load_settings
from cxtext.report.context import weekly_negative_mentions
from cxtext.report.html import METHOD_CHANGED, render_report, report_from_warehouse
from cxtext.schema import FEEDBACK, PAIN_POINTS, conform
from cxtext.store import staging
from cxtext.store.warehouse import RunTables, open_warehouse, run_row

END = pd.Timestamp("2026-11-20", tz="UTC")
OPTIONS = load_settings().report
HOSTILE = '<script>alert("x")</script> <img src=x onerror=alert(1)> تحویل دیر شد'


def _pain() -> pd.DataFrame:
    base = {
        "run_id": "r1",
        "window_start": END - pd.Timedelta(days=28),
        "window_end": END,
        "segment": "all",
        "negative_rate": 0.5,
        "mean_clv": 200.0,
        "churn_uplift_low": 0.05,
        "churn_uplift_high": 0.2,
        "nps_impact": -3.0,
        "trend": 0.5,
        "method": "uplift=joint_logit",
        "unlinked_mentions": 0,
    }
    rows = [
        # most mentioned but little value at risk, and the reverse: the rank-shift chart's point
        {
            **base,
            "theme_id": "delivery",
            "theme_en": "Delivery <fast>",
            "theme_fa": "ارسال و تحویل",
            "mentions": 90,
            "customers": 5,
            "churn_uplift": 0.02,
            "clv_at_risk": 20.0,
            "clv_at_risk_low": 0.0,
            "clv_at_risk_high": 60.0,
            "rank": 2,
            "spike": False,
            "examples": json.dumps([HOSTILE, "late again"]),
        },
        {
            **base,
            "theme_id": "payments_refunds",
            "theme_en": "Payments & refunds",
            "theme_fa": "پرداخت",
            "mentions": 12,
            "customers": 10,
            "unlinked_mentions": 2,
            "churn_uplift": 0.25,
            "clv_at_risk": 600.0,
            "clv_at_risk_low": 400.0,
            "clv_at_risk_high": 800.0,
            "rank": 1,
            "spike": True,
            "examples": json.dumps(["refund never came"]),
        },
    ]
    return conform(pd.DataFrame(rows), PAIN_POINTS)


def _feedback() -> pd.DataFrame:
    days = [1, 2, 9, 9, 30, 200]  # days before END; the last is outside the 12-week chart
    return conform(
        pd.DataFrame(
            {
                "source": "t",
                "id": [str(i) for i in range(len(days))],
                "created_at": [END - pd.Timedelta(days=d) for d in days],
                "topics": [json.dumps(["delivery", "payments_refunds"])] * len(days),
                "aspect_sentiment": [
                    json.dumps({"delivery": "negative", "payments_refunds": "positive"})
                ]
                * len(days),
                "sentiment": "negative",
                "text_redacted": "x",
                "run_id": "r1",
            }
        ),
        FEEDBACK,
    )


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)


def test_weekly_negative_mentions_counts_by_week_and_aspect():
    weekly = weekly_negative_mentions(_feedback(), ["delivery", "payments_refunds"], END, 12)
    assert len(weekly) == 12
    assert weekly["delivery"].tolist()[-1] == 2  # days 1 and 2: the last week
    assert weekly["delivery"].tolist()[-2] == 2  # day 9 twice
    assert weekly["delivery"].sum() == 5  # day 200 is outside the chart
    assert weekly["payments_refunds"].sum() == 0  # its own aspect is positive


def test_report_is_self_contained_and_escapes_everything():
    html = render_report(
        _pain(),
        _feedback(),
        OPTIONS,
        {"run_id": "r1", "read": 10, "kept": 8, "quarantined": 1, "duplicates": 1},
        {"bad_created_at": 1},
    )
    parser = _Tags()
    parser.feed(html)
    assert "script" not in parser.tags and "img" not in parser.tags and "link" not in parser.tags
    assert not [a for a in parser.attrs if a[0] in ("src", "href") or a[0].startswith("on")]
    assert "&lt;script&gt;" in html and "&lt;fast&gt;" in html  # quotes and theme names are escaped
    assert parser.tags.count("svg") == 4  # the bar chart twice: desktop and phone layout
    assert "ارسال و تحویل" in html and "تحویل دیر شد" in html
    # the formula inputs of the top theme, and its spike
    assert "(10 customers + 2 unlinked) × mean CLV 200.00 × churn uplift 25.00% = 600" in html
    assert "▲ spike" in html and "bad_created_at 1" in html
    # the top theme by value comes first even though another has more mentions
    assert html.index("Payments &amp; refunds") < html.index("Delivery &lt;fast&gt;")
    assert re.search(r"rank by CLV at risk", html)
    # the method line is one theme's (each records its own): it names the top row
    assert "Method of the Payments &amp; refunds row (each theme has its own" in html


def test_empty_warehouse_says_what_to_do(tmp_path: Path):
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        html = report_from_warehouse(wh, OPTIONS)
    assert "No pain points stored yet" in html and "cxtext run" in html


def test_cli_report_reads_the_warehouse(tmp_path: Path):
    fb = staging.write_partition(_feedback(), tmp_path / "stage", "feedback", 0, FEEDBACK)
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        wh.commit_run(
            RunTables(
                run=run_row(
                    run_id="r1",
                    read=6,
                    kept=6,
                    quarantined=0,
                    duplicates=0,
                    finished_at=pd.Timestamp("2026-11-21T02:00Z"),
                    model_versions=json.dumps(
                        {"topic_model": ["topic-v1"], "sentiment_model": ["en:sen-v1|fa:sfa-v2"]}
                    ),
                    warnings=json.dumps(
                        [
                            f"{METHOD_CHANGED}clv: crm 100% -> bgnbd_gammagamma 76%/crm 24%",
                            "value: 39 of 2,000 customers valued at their segment's default CLV",
                            "<b>x.csv</b>: 1 row(s) repeat an id",
                        ]
                    ),
                ),
                feedback_files=[fb],
                pain_points=_pain(),
            )
        )
    out = tmp_path / "r.html"
    result = CliRunner().invoke(
        app, ["report", "--warehouse", str(tmp_path / "w.duckdb"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Run r1, finished 2026-11-21 02:00 UTC" in html
    assert "Rows read 6" in html
    assert "Models: topic model: topic-v1; sentiment model: sen-v1 (en), sfa-v2 (fa)." in html
    # every warning the terminal printed after the table, the method change once
    assert "changed since the previous run:</strong> clv: crm 100% -&gt; bgnbd" in html
    assert "<li>value: 39 of 2,000 customers valued at their segment&#39;s default CLV</li>" in html
    assert "<li>&lt;b&gt;x.csv&lt;/b&gt;: 1 row(s) repeat an id</li>" in html
    assert html.count("crm 100%") == 1


def test_a_protective_theme_shows_the_clip_in_its_formula():
    pain = _pain()
    pain.loc[pain["theme_id"] == "delivery", ["churn_uplift", "clv_at_risk"]] = [-0.04, 0.0]
    assert "churn uplift max(0, -4.00%) = 0" in render_report(pain, _feedback(), OPTIONS)


def test_the_formula_recomputes_the_figure_with_the_corrected_people():
    pain = _pain()
    pain["mean_clv"] = 179.772926
    pain["churn_uplift"] = 0.159673
    pain["corrected_people"] = [None, 181.107832]  # delivery: not corrected
    pain["clv_at_risk"] = [5 * 179.772926 * 0.159673, 181.107832 * 179.772926 * 0.159673]
    html = render_report(pain, _feedback(), OPTIONS)
    assert (
        "(10 customers + 2 unlinked → 181.1 corrected for misclassification) × mean CLV 179.77"
        " × churn uplift 15.97% = 5,199" in html
    )
    assert "(5 customers + 0 unlinked) × mean CLV 179.77 × churn uplift 15.97% = 144" in html


@pytest.mark.parametrize("missing", ["nps_impact", "clv_at_risk_low"])
def test_missing_figures_render_as_dashes(missing: str):
    pain = _pain()
    pain[missing] = float("nan")
    html = render_report(pain, _feedback(), OPTIONS)
    assert "nan" not in html.lower().replace("nanum", "")


def test_ties_are_ranked_as_ties_and_zero_risk_themes_are_not_drawn():
    from cxtext.report.context import volume_and_value_ranks

    pain = _pain()
    tied = pd.concat(
        [
            pain,
            pain.iloc[[0]].assign(
                theme_id="fees", theme_en="Fees", clv_at_risk=0.0, mentions=90, rank=3
            ),
        ]
    )
    ranks = {name: (v, w) for name, v, w in volume_and_value_ranks(tied, 10)}
    # Delivery and Fees have 90 mentions each: both rank 1 by volume, not 1 and 2.
    assert ranks["Delivery <fast>"][0] == ranks["Fees"][0] == 1
    assert ranks["Payments & refunds"] == (3, 1)
    html = render_report(tied, _feedback(), OPTIONS)
    assert "=1. Delivery &lt;fast&gt;" in html and "=1. Fees" in html
    assert "Nothing at risk, not drawn: Fees." in html
    bars = re.search(r'<svg class="chart bars".*?</svg>', html, re.S).group(0)
    assert "Fees" not in bars and "Payments" in bars


def test_follow_ups_name_their_themes_as_the_table_does():
    from cxtext.report.context import team_rows

    follow_ups = pd.DataFrame(
        {
            "team": ["product", "product", "product", "billing"],
            "theme_id": ["performance", "app_bugs", "app_bugs", "fees"],
            "theme_en": [
                "Speed & performance",
                "App errors & crashes",
                "App errors & crashes",
                None,
            ],
            "value_at_stake": [30.0, 20.0, 15.0, 5.0],
        }
    )
    rows = {r["team"]: r for r in team_rows(follow_ups)}
    assert list(rows) == ["product", "billing"]  # most customers to contact first, as it says
    html = render_report(_pain(), _feedback(), OPTIONS, follow_ups=follow_ups)
    assert "most customers to contact first" in html
    assert "value at stake is not its themes' CLV at risk" in html
    assert rows["product"]["themes"] == "App errors & crashes, Speed & performance"
    assert rows["product"]["at_stake"] == "65" and rows["product"]["first"] == "30"
    assert rows["billing"]["themes"] == "fees"  # no label stored: its id


def test_the_bar_of_a_figure_not_distinguishable_from_no_effect_carries_the_tables_mark():
    pain = _pain()  # delivery's churn uplift interval holds 0: marked in the table
    pain.loc[pain["theme_id"] == "delivery", "churn_uplift_low"] = -0.01
    html = render_report(pain, _feedback(), OPTIONS)
    charts = re.findall(r'<svg class="chart (?:bars|narrow| )+".*?</svg>', html, re.S)
    assert len(charts) == 2  # desktop and phone
    for chart in charts:
        assert 'class="value">20*</text>' in chart and 'class="value">600</text>' in chart
    assert "* after a figure: not distinguishable from no effect" in html
    clear = render_report(_pain().assign(churn_uplift_low=0.01), _feedback(), OPTIONS)
    assert "* after a figure" not in clear and 'class="value">20</text>' in clear


def test_the_weekly_chart_names_the_newest_week():
    from cxtext.report.charts import weekly_lines

    weeks = [f"w{i:02d}" for i in range(12)]
    svg = weekly_lines(weeks, {"Delivery": [1] * 12}, caption="weekly")
    named = re.findall(r'class="axis" text-anchor="middle">(w\d+)</text>', svg)
    assert named == ["w11", "w09", "w07", "w05", "w03", "w01"]
