"""Segments on demand add up with the overall table; follow-ups route and order by value."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cxtext.painpoints.follow_ups import follow_ups, row_id
from cxtext.painpoints.rank import rank_pain_points
from cxtext.painpoints.segments import (
    customer_attributes,
    parse_days,
    parse_segment,
    uplift_from_pain_points,
)
from cxtext.schema import CUSTOMER_VALUE, CUSTOMERS, FEEDBACK, FOLLOW_UPS, conform
from cxtext.themes.taxonomy import Taxonomy, Theme

END = pd.Timestamp("2026-03-01", tz="UTC")
TAX = Taxonomy(
    (
        Theme("delivery", "Delivery", "ارسال", owner="logistics"),
        Theme("fees", "Fees", "کارمزد", owner="billing"),
        Theme("app", "App", "اپ"),
    )
)
RANK = dict(
    window_end=END,
    window_days=28,
    segment_column="segment_not_used",
    spike_ratio=1.5,
    spike_min_mentions=5,
    spike_alpha=0.01,
    examples=2,
    example_chars=(5, 280),
    default_clv=250.0,
    default_clv_by_segment={},
)


@pytest.fixture(scope="module")
def window():
    rng = np.random.default_rng(3)
    n, people = 400, 60
    themes = ["delivery", "fees", "app"]
    rows = []
    for i in range(n):
        picked = [t for t in themes if rng.random() < 0.35]
        neg = {t: ("negative" if rng.random() < 0.6 else "neutral") for t in picked}
        rows.append(
            {
                "source": "tickets",
                "id": f"T{i}",
                "channel": ["ticket", "chat", "survey"][i % 3],
                "customer_id": f"C{int(rng.integers(0, people)):02d}",
                "created_at": END - pd.Timedelta(hours=int(rng.integers(1, 27 * 24))),
                "topics": json.dumps(picked),
                "aspect_sentiment": json.dumps(neg),
                "sentiment": "negative" if "negative" in neg.values() else "neutral",
                "sentiment_score": -0.5,
                "text_redacted": f"feedback number {i} about {' and '.join(picked) or 'nothing'}",
                "metadata": "{}",
            }
        )
    fb = conform(pd.DataFrame(rows), FEEDBACK)
    ids = [f"C{k:02d}" for k in range(people)]
    clv = rng.gamma(2.0, 300.0, size=people)
    cv = conform(
        pd.DataFrame({"customer_id": ids, "clv": clv, "clv_low": clv * 0.8, "clv_high": clv * 1.2}),
        CUSTOMER_VALUE,
    )
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "clv": clv,
            "plan": [["basic", "plus", "premium"][k % 3] for k in range(people)],
            "tenure_months": [k for k in range(people)],
        }
    )
    attrs = customer_attributes(customers, tuple(CUSTOMERS.columns))
    up = pd.DataFrame(
        {
            "theme_id": themes,
            "churn_uplift": [0.2, 0.1, 0.05],
            "churn_uplift_low": [0.1, 0.0, -0.01],
            "churn_uplift_high": [0.3, 0.2, 0.1],
            "method": ["joint_logit(x)"] * 3,
        }
    )
    overall = rank_pain_points(fb, cv, up, TAX, segments=["all"], **RANK)
    return fb, cv, attrs, overall


def _sum_by_theme(seg: pd.DataFrame, column: str) -> pd.Series:
    return seg.groupby("theme_id")[column].sum()


def test_channel_segments_sum_to_the_overall_mentions(window):
    fb, cv, attrs, overall = window
    up = uplift_from_pain_points(overall)
    seg = rank_pain_points(fb, cv, up, TAX, segments=["channel"], customer_attributes=attrs, **RANK)
    assert set(seg["segment"]) == {"channel=chat", "channel=survey", "channel=ticket"}
    allr = overall.set_index("theme_id")
    for column in ("mentions", "negative_mentions"):
        pd.testing.assert_series_equal(
            _sum_by_theme(seg, column), allr[column].sort_index(), check_names=False
        )


def test_customer_column_segments_sum_to_the_overall_value_at_risk(window):
    fb, cv, attrs, overall = window
    up = uplift_from_pain_points(overall)
    seg = rank_pain_points(fb, cv, up, TAX, segments=["plan"], customer_attributes=attrs, **RANK)
    assert set(seg["segment"]) == {"plan=basic", "plan=plus", "plan=premium"}
    allr = overall.set_index("theme_id")
    # Every customer has one plan and every mention is linked: the parts add up exactly.
    assert (allr["unlinked_mentions"] == 0).all()
    for column in ("customers", "clv_at_risk", "negative_mentions"):
        got = _sum_by_theme(seg, column).astype(float)
        np.testing.assert_allclose(got.to_numpy(), allr[column].sort_index().astype(float))
    one = rank_pain_points(
        fb, cv, up, TAX, segments=["plan=premium"], customer_attributes=attrs, **RANK
    )
    pd.testing.assert_frame_equal(
        one.reset_index(drop=True),
        seg[seg["segment"] == "plan=premium"].reset_index(drop=True),
    )


def test_tenure_band_is_a_segment(window):
    fb, cv, attrs, overall = window
    seg = rank_pain_points(
        fb,
        cv,
        uplift_from_pain_points(overall),
        TAX,
        segments=["tenure_band"],
        customer_attributes=attrs,
        **RANK,
    )
    assert set(seg["segment"]) == {f"tenure_band={b}" for b in ("<6m", "6-12m", "1-2y", "2y+")}


def test_stored_uplift_is_read_back_with_its_method(window):
    *_, overall = window
    up = uplift_from_pain_points(overall).set_index("theme_id")
    assert up.loc["delivery", "churn_uplift"] == pytest.approx(0.2)
    assert up.loc["delivery", "method"] == "joint_logit(x)"


def test_parsers_name_the_expected_form():
    assert parse_segment("plan = premium") == ("plan", "premium")
    with pytest.raises(ValueError, match="COLUMN=VALUE"):
        parse_segment("plan=")
    with pytest.raises(ValueError, match="7d"):
        parse_days("a week")


def test_follow_ups_route_to_owners_and_order_by_value_at_stake(window):
    fb, cv, _, overall = window
    rows = follow_ups(fb, overall, cv, TAX.owners, top_themes=3, currency="USD")
    assert list(rows.columns) == FOLLOW_UPS.names
    assert set(rows["team"]) == {"logistics", "billing", "unassigned"}
    clv = cv.set_index("customer_id")["clv"]
    uplift = overall.set_index("theme_id")["churn_uplift"]
    for team, part in rows.groupby("team"):
        assert part["priority"].tolist() == list(range(1, len(part) + 1))
        assert part["value_at_stake"].is_monotonic_decreasing
        assert part["customer_id"].is_unique  # one row per customer and team
        for r in part.itertuples():
            assert r.value_at_stake == pytest.approx(clv[r.customer_id] * uplift[r.theme_id])
            assert TAX.owners.get(r.theme_id, "unassigned") == team
    # Each row is negative feedback on its theme, inside the window, quoted from its document.
    doc = fb.set_index("id")
    for r in rows.itertuples():
        aspects = json.loads(doc.loc[r.feedback_id, "aspect_sentiment"])
        assert aspects[r.theme_id] == "negative"
        assert r.quote == doc.loc[r.feedback_id, "text_redacted"]
        assert r.row_id == row_id(r.team, r.customer_id, r.theme_id, r.source, r.feedback_id)
    again = follow_ups(fb, overall, cv, TAX.owners, top_themes=3, currency="USD")
    assert again["row_id"].tolist() == rows["row_id"].tolist()  # stable ids
    only_top = follow_ups(fb, overall, cv, TAX.owners, top_themes=1, currency="USD")
    top_theme = overall.loc[overall["rank"] == 1, "theme_id"].iloc[0]
    assert set(only_top["theme_id"]) == {top_theme}
