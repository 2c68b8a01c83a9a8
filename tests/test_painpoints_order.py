"""The pain points' order: themes distinguishable from no effect first, then the rest.

A frequent harmless theme whose uplift is noise must not outrank a theme with a real
effect just because noise × many customers is a large figure; its interval reaches 0,
and the table says so. The figures themselves are not changed by the order.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from cxtext.cli.render import print_pain_points
from cxtext.config import load_settings
from cxtext.painpoints.order import competition_ranks, distinguishable, ranks
from cxtext.painpoints.rank import rank_pain_points
from cxtext.report.context import volume_and_value_ranks
from cxtext.report.html import render_report
from cxtext.schema import CUSTOMER_VALUE, FEEDBACK, conform
from cxtext.themes.taxonomy import Taxonomy, Theme

END = pd.Timestamp("2025-03-01", tz="UTC")
# theme: (customers who raised it, uplift, its 90% interval): a frequent decoy whose
# uplift is noise around 0.07, two real themes, three quiet ones
THEMES = {
    "decoy": (450, 0.07, -0.03, 0.17),
    "lost_luggage": (150, 0.20, 0.12, 0.28),
    "cancelled": (120, 0.15, 0.08, 0.22),
    "food": (80, 0.00, -0.05, 0.05),
    "seats": (80, -0.01, -0.06, 0.04),
    "wifi": (60, 0.01, -0.05, 0.07),
}
KW = dict(
    window_end=END,
    window_days=28,
    segments=["all"],
    segment_column="plan",
    spike_ratio=1.5,
    spike_min_mentions=10,
    spike_alpha=0.01,
    examples=1,
    example_chars=(1, 280),
    default_clv=100.0,
    default_clv_by_segment={},
)


def _uplift() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "theme_id": t,
                "churn_uplift": u,
                "churn_uplift_low": lo,
                "churn_uplift_high": hi,
                "customers": n,
                "method": "joint_logit(l2 prior sd 1, bootstrap 200)",
            }
            for t, (n, u, lo, hi) in THEMES.items()
        ]
    )


def _inputs() -> tuple[pd.DataFrame, pd.DataFrame, Taxonomy]:
    docs, customers = [], []
    for t, (n, *_rest) in THEMES.items():
        for i in range(n):
            cid = f"{t}-{i}"
            customers.append(cid)
            docs.append(
                {
                    "source": "s",
                    "id": cid,
                    "customer_id": cid,
                    "created_at": END - pd.Timedelta(days=1 + i % 20),
                    "topics": json.dumps([t]),
                    "aspect_sentiment": json.dumps({t: "negative"}),
                    "sentiment": "negative",
                    "text_redacted": f"{t} was bad",
                    "sentiment_score": -0.5,
                }
            )
    fb = conform(pd.DataFrame(docs), FEEDBACK)
    cv = conform(
        pd.DataFrame({"customer_id": customers, "clv": 100.0, "method": "crm"}), CUSTOMER_VALUE
    )
    tax = Taxonomy(tuple(Theme(t, t.title(), t) for t in THEMES))
    return fb, cv, tax


def test_a_noisy_harmless_theme_does_not_outrank_real_ones():
    fb, cv, tax = _inputs()
    rows = rank_pain_points(fb, cv, _uplift(), tax, **KW).set_index("theme_id")
    # the case is a real test: by the point figure the decoy would rank first
    assert rows["clv_at_risk"].idxmax() == "decoy"
    assert rows.loc["decoy", "clv_at_risk"] == pytest.approx(450 * 100 * 0.07)
    assert rows.loc["decoy", "churn_uplift_low"] < 0  # its interval says it may be harmless
    assert rows.loc["decoy", "clv_at_risk_low"] == 0
    assert rows.loc["decoy", "rank"] == 3  # after both real themes, first of the others
    assert rows.loc["lost_luggage", "rank"] == 1 and rows.loc["cancelled", "rank"] == 2
    assert rows.loc["lost_luggage", "clv_at_risk"] == pytest.approx(150 * 100 * 0.20)
    ordered = rows.sort_values("rank")
    first = distinguishable(ordered["churn_uplift_low"])
    assert list(first) == sorted(first, reverse=True)  # every distinguishable row first
    for part in (ordered[first], ordered[~first]):  # each part by the figure
        assert (np.diff(part["clv_at_risk"].to_numpy()) <= 0).all()


def test_ties_and_missing_figures():
    rows = pd.DataFrame(
        {
            "clv_at_risk": [0.0, 0.0, np.nan, 50.0, 10.0],
            "churn_uplift_low": [-0.1, 0.0, np.nan, -0.01, 0.01],
            "negative_mentions": [5, 9, 30, 1, 1],
        }
    )
    assert list(distinguishable(rows["churn_uplift_low"])) == [False] * 4 + [True]
    # 10 (interval above 0) first; then 50; the zeros by negative mentions; missing last
    assert list(ranks(rows)) == [4, 3, 5, 2, 1]
    # ties as ties: the two zeros share 3rd place, the missing figure comes after them
    assert list(competition_ranks(rows)) == [3, 3, 5, 2, 1]
    two_missing = rows.assign(clv_at_risk=[0.0, 0.0, np.nan, np.nan, 10.0])
    assert list(competition_ranks(two_missing)) == [2, 2, 4, 4, 1]


def test_competition_ranks_are_the_table_order_where_nothing_ties():
    rng = np.random.default_rng(0)
    rows = pd.DataFrame(
        {
            "clv_at_risk": rng.uniform(0, 100, 40),
            "churn_uplift_low": rng.uniform(-0.1, 0.1, 40),
            "negative_mentions": rng.integers(1, 50, 40),
        }
    )
    assert list(competition_ranks(rows)) == list(ranks(rows))


def test_a_prior_uplift_ranks_by_the_figure_alone():
    """With no churn labels every uplift's interval starts at 0: nothing is told from no
    effect, and the figure alone orders the table."""
    fb, cv, tax = _inputs()
    prior = _uplift().assign(
        churn_uplift=0.15 * 0.5, churn_uplift_low=0.0, churn_uplift_high=0.15,
        method="prior(churn_uplift_prior 0.15 × negativity 1.00; no churn labels)",
    )  # fmt: skip
    rows = rank_pain_points(fb, cv, prior, tax, **KW)
    assert not distinguishable(rows["churn_uplift_low"]).any()
    by_figure = rows.sort_values(["clv_at_risk", "negative_mentions"], ascending=False)
    assert list(by_figure["rank"]) == list(range(1, len(rows) + 1))


def test_the_terminal_table_says_what_it_ranks_by_and_marks_possible_no_effect():
    fb, cv, tax = _inputs()
    pain = rank_pain_points(fb, cv, _uplift(), tax, **KW)
    out = io.StringIO()
    print_pain_points(Console(file=out, width=80, color_system=None), pain, top=10)
    text = out.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "Ranked by CLV at risk" in text and "not distinguishable from no effect" in text
    assert "3,150*" in text  # the decoy: its interval reaches 0
    assert "3,000*" not in text and "3,000" in text  # lost luggage: it does not
    assert text.index("3,000") < text.index("1,800") < text.index("3,150*")


def test_the_report_marks_them_and_its_value_ranks_follow_the_table():
    fb, cv, tax = _inputs()
    pain = rank_pain_points(fb, cv, _uplift(), tax, **KW).assign(run_id="r1")
    html = render_report(pain, fb, load_settings().report)
    assert "not distinguishable from no effect" in html
    assert "<b>3,150</b><span" in html and "<b>3,000</b><br>" in html
    by_value = {name: w for name, _, w in volume_and_value_ranks(pain, 10)}
    table = dict(zip(pain["theme_en"], pain["rank"], strict=True))
    assert table["Food"] == 5 and table["Seats"] == 6  # 0 each: the table breaks the tie
    assert by_value == {**table, "Seats": 5}  # the chart shows it as a tie
