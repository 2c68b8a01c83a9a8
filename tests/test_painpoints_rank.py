"""Pain-point ranking on a hand-built window where every figure can be checked by hand."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cxtext.painpoints.nps import csat, nps, score_impact
from cxtext.painpoints.rank import clv_at_risk_interval, pick_examples, rank_pain_points
from cxtext.schema import CUSTOMER_VALUE, FEEDBACK, PAIN_POINTS, conform
from cxtext.themes.taxonomy import Taxonomy, Theme

END = pd.Timestamp("2025-03-01", tz="UTC")
TAX = Taxonomy((Theme("delivery", "Delivery", "ارسال"), Theme("price", "Price", "قیمت")))
KW = dict(
    window_end=END,
    window_days=28,
    segments=["all", "plan"],
    segment_column="plan",
    spike_ratio=1.5,
    spike_min_mentions=2,
    spike_alpha=0.01,
    examples=2,
    example_chars=(20, 280),
    default_clv=250.0,
    default_clv_by_segment={"premium": 900.0},
)


def _doc(
    i,
    cust,
    topics,
    aspects,
    sentiment,
    days_ago,
    score=None,
    stype=None,
    text="text",
    sscore=-0.5,
    plan=None,
):
    return {
        "source": "s",
        "id": str(i),
        "customer_id": cust,
        "created_at": END - pd.Timedelta(days=days_ago),
        "topics": json.dumps(topics),
        "aspect_sentiment": json.dumps(aspects),
        "sentiment": sentiment,
        "score": score,
        "score_type": stype,
        "text_redacted": text,
        "sentiment_score": sscore,
        "metadata": json.dumps({"plan": plan} if plan else {}),
    }


@pytest.fixture
def inputs():
    fb = conform(
        pd.DataFrame(
            [
                _doc(
                    1,
                    "a",
                    ["delivery"],
                    {"delivery": "negative"},
                    "negative",
                    1,
                    0,
                    "nps",
                    "Late again, the parcel never came.",
                    -0.9,
                ),
                _doc(
                    2,
                    "a",
                    ["delivery"],
                    {"delivery": "negative"},
                    "negative",
                    2,
                    text="Late.",
                    sscore=-0.95,
                ),
                _doc(
                    3,
                    "b",
                    ["delivery", "price"],
                    {"delivery": "negative", "price": "positive"},
                    "negative",
                    3,
                    10,
                    "nps",
                    "Delivery was slow but the price is fair.",
                    -0.4,
                ),
                _doc(
                    4,
                    None,
                    ["delivery"],
                    {},
                    "negative",
                    4,
                    text="Courier lost my order, unacceptable.",
                    sscore=-0.8,
                    plan="premium",
                ),
                _doc(5, "c", ["price"], {"price": "neutral"}, "neutral", 5, 9, "nps", sscore=0.0),
                _doc(
                    6,
                    "zzz",
                    ["price"],
                    {"price": "negative"},
                    "negative",
                    6,
                    2,
                    "csat",
                    "Too expensive for what it is.",
                    -0.7,
                ),
                _doc(7, "c", [], {}, "positive", 7, 10, "nps", sscore=0.8),
                _doc(
                    8, "a", ["delivery"], {"delivery": "negative"}, "negative", 30
                ),  # previous window
                _doc(
                    9, "a", ["delivery"], {"delivery": "negative"}, "negative", 60
                ),  # before both windows
                _doc(
                    10, "c", ["price"], {"price": "negative"}, "negative", 0
                ),  # at window_end: excluded
            ]
        ),
        FEEDBACK,
    )
    cv = conform(
        pd.DataFrame(
            {
                "customer_id": ["a", "b", "c"],
                "segment": ["premium", "basic", "basic"],
                "clv": [1000.0, 200.0, 300.0],
                "clv_low": [800.0, 150.0, 300.0],
                "clv_high": [1300.0, 260.0, 300.0],
                "method": ["bgnbd_gammagamma", "bgnbd_gammagamma", "crm"],
            }
        ),
        CUSTOMER_VALUE,
    )
    up = pd.DataFrame(
        {
            "theme_id": ["delivery", "price"],
            "churn_uplift": [0.2, 0.05],
            "churn_uplift_low": [0.1, -0.02],
            "churn_uplift_high": [0.3, 0.1],
            "customers": [2, 1],
            "method": ["joint_logit(x)", "joint_logit(x)"],
        }
    )
    return fb, cv, up


def test_hand_computed_figures(inputs):
    fb, cv, up = inputs
    out = rank_pain_points(fb, cv, up, TAX, **KW)
    assert list(out.columns) == PAIN_POINTS.names
    allr = out[out["segment"] == "all"].set_index("theme_id")
    d = allr.loc["delivery"]
    assert (d["mentions"], d["negative_mentions"], d["customers"], d["unlinked_mentions"]) == (
        4,
        4,
        2,
        1,
    )
    mean_all = (1000 + 200 + 300) / 3
    assert d["mean_clv"] == pytest.approx((1000 + 200 + mean_all) / 3)
    assert d["clv_at_risk"] == pytest.approx((1000 + 200 + mean_all) * 0.2)
    assert d["share"] == pytest.approx(4 / 7) and d["negative_rate"] == 1.0
    assert d["previous_mentions"] == 1 and d["trend"] == pytest.approx(3.0)
    # 4 mentions in 7 documents after 1 in the previous window's few: more feedback, not a
    # higher rate of delivery complaints, so no spike (tests/test_painpoints_spikes.py)
    assert not bool(d["spike"])
    # NPS over docs 1,3,5,7 = (3 promoters - 1 detractor)/4 = 50; without delivery (5,7) = 100
    assert d["nps_impact"] == pytest.approx(50 - 100)
    assert json.loads(d["examples"]) == [
        "Late again, the parcel never came.",
        "Courier lost my order, unacceptable.",
    ]
    assert d["rank"] == 1 and d["theme_fa"] == "ارسال"
    assert "uplift=joint_logit(x)" in d["method"] and "clv=bgnbd_gammagamma 100%" in d["method"]
    assert "unlinked 1" in d["method"]
    p = allr.loc["price"]
    # doc 3 price positive, doc 5 neutral, doc 6 negative by an id unknown to customer_value
    assert (p["mentions"], p["negative_mentions"], p["customers"], p["unlinked_mentions"]) == (
        3,
        1,
        0,
        1,
    )
    assert p["clv_at_risk"] == pytest.approx(mean_all * 0.05) and p["rank"] == 2
    assert p["csat_impact"] is pd.NA or np.isnan(
        p["csat_impact"]
    )  # the only CSAT answer mentions price
    # new theme, but 3 mentions against a previous window of 1 document prove nothing
    assert pd.isna(p["trend"]) and not bool(p["spike"])
    assert out["window_start"].iloc[0] == END - pd.Timedelta(days=28)


def test_segments_use_metadata_then_customer_value(inputs):
    fb, cv, up = inputs
    out = rank_pain_points(fb, cv, up, TAX, **KW)
    assert list(dict.fromkeys(out["segment"])) == ["all", "plan=basic", "plan=premium"]
    prem = out[out["segment"] == "plan=premium"].set_index("theme_id")
    # a (premium via customer_value) + the unlinked doc whose metadata says premium
    assert prem.loc["delivery", ["customers", "unlinked_mentions"]].tolist() == [1, 1]
    assert prem.loc["delivery", "mean_clv"] == pytest.approx(1000.0)  # premium's mean CLV is a's
    basic = out[out["segment"] == "plan=basic"].set_index("theme_id")
    assert basic.loc["delivery", "customers"] == 1 and basic.loc[
        "delivery", "clv_at_risk"
    ] == pytest.approx(200 * 0.2)
    for _, rows in out.groupby("segment"):
        assert sorted(rows["rank"]) == list(range(1, len(rows) + 1))


@pytest.mark.parametrize("case", ["no_feedback", "empty_window", "no_topics", "no_customers"])
def test_empty_inputs_give_empty_or_well_formed_tables(inputs, case):
    fb, cv, up = inputs
    if case == "no_feedback":
        out = rank_pain_points(FEEDBACK.empty(), cv, up, TAX, **KW)
        assert out.empty and list(out.columns) == PAIN_POINTS.names
    elif case == "empty_window":
        out = rank_pain_points(
            fb, cv, up, TAX, **{**KW, "window_end": END + pd.Timedelta(days=400)}
        )
        assert out.empty and list(out.columns) == PAIN_POINTS.names
    elif case == "no_topics":
        out = rank_pain_points(fb.assign(topics="[]"), cv, up, TAX, **KW)
        assert out.empty and list(out.columns) == PAIN_POINTS.names
    else:  # no customer values at all: every negative mention counts at the configured default
        out = rank_pain_points(fb, CUSTOMER_VALUE.empty(), up, TAX, **KW)
        allr = out[out["segment"] == "all"].set_index("theme_id")
        assert allr["clv_at_risk"].notna().all()
        assert allr.loc["delivery", "rank"] == 1 and allr.loc["delivery", "unlinked_mentions"] == 3


def test_feedback_without_customer_values_counts_at_the_segment_default(inputs):
    """A feedback-only run: no customer has a value, so unlinked mentions take the default."""
    fb, _, up = inputs
    out = rank_pain_points(fb, CUSTOMER_VALUE.empty(), up, TAX, **KW)
    d = out[(out["segment"] == "all") & (out["theme_id"] == "delivery")].iloc[0]
    # a, b and the id-less ticket: 3 unlinked × default_clv 250 × uplift 0.2
    assert (d["customers"], d["unlinked_mentions"]) == (0, 3)
    assert d["mean_clv"] == 250.0 and d["clv_at_risk"] == pytest.approx(3 * 250 * 0.2)
    # defaults are exact: only the uplift interval widens the figure
    assert (d["clv_at_risk_low"], d["clv_at_risk_high"]) == pytest.approx((750 * 0.1, 750 * 0.3))
    assert "unlinked 3 at default clv 250" in d["method"]
    prem = out[(out["segment"] == "plan=premium") & (out["theme_id"] == "delivery")].iloc[0]
    # the id-less ticket says plan=premium in its metadata: default_clv_by_segment applies
    assert prem["unlinked_mentions"] == 1 and prem["clv_at_risk"] == pytest.approx(900 * 0.2)
    assert "unlinked 1 at default clv 900" in prem["method"]


def test_unlinked_mentions_are_flagged_and_valued_at_the_segment_mean(inputs):
    fb, cv, up = inputs
    out = rank_pain_points(fb, cv, up, TAX, **KW)
    d = out[(out["segment"] == "all") & (out["theme_id"] == "delivery")].iloc[0]
    # one ticket without customer id, counted at the mean of a, b and c: (1000 + 200 + 300) / 3
    assert d["unlinked_mentions"] == 1 and "unlinked 1 at segment mean clv" in d["method"]
    people = d["customers"] + d["unlinked_mentions"]
    assert people * d["mean_clv"] == pytest.approx(1000 + 200 + 500)
    # an id unknown to customer_value counts once, however often it appears
    twice = pd.concat([fb, fb[fb["id"] == "6"].assign(id="6b")], ignore_index=True)
    p = rank_pain_points(twice, cv, up, TAX, **KW)
    p = p[(p["segment"] == "all") & (p["theme_id"] == "price")].iloc[0]
    assert (p["negative_mentions"], p["unlinked_mentions"]) == (2, 1)


def test_a_theme_that_may_protect_puts_nothing_at_risk(inputs):
    fb, cv, up = inputs
    up = up.copy()
    up.loc[up["theme_id"] == "price", ["churn_uplift", "churn_uplift_low", "churn_uplift_high"]] = [
        -0.05,
        -0.1,
        0.02,
    ]
    out = rank_pain_points(fb, cv, up, TAX, **KW)
    p = out[(out["segment"] == "all") & (out["theme_id"] == "price")].iloc[0]
    # the uplift interval is reported as estimated; the value at risk is clipped at 0
    assert (p["churn_uplift"], p["churn_uplift_low"]) == pytest.approx((-0.05, -0.1))
    assert p["clv_at_risk"] == 0 and p["clv_at_risk_low"] == 0
    assert p["clv_at_risk_high"] == pytest.approx(500 * 0.02)  # 1 unlinked at mean 500 × 0.02
    assert (out["clv_at_risk_low"] >= 0).all() and (out["clv_at_risk"] >= 0).all()
    # with the original uplift (0.05, interval -0.02 to 0.10) the low end is floored at 0, not negative
    orig = rank_pain_points(fb, cv, inputs[2], TAX, **KW)
    q = orig[(orig["segment"] == "all") & (orig["theme_id"] == "price")].iloc[0]
    assert q["clv_at_risk"] == pytest.approx(25.0) and q["clv_at_risk_low"] == 0.0


def test_nps_and_csat_impact_by_hand():
    """Impact = overall score − score without the theme's respondents (points)."""
    docs = [  # (topics, score, type)
        (["price"], 10, "nps"),
        (["price"], 9, "nps"),
        (["delivery"], 2, "nps"),
        (["delivery"], 5, "nps"),
        ([], 8, "nps"),
        ([], 10, "nps"),
        (["delivery"], 2, "csat"),
        (["delivery"], 1, "csat"),
        ([], 5, "csat"),
        ([], 4, "csat"),
        ([], 3, "csat"),
    ]
    fb = conform(
        pd.DataFrame(
            [
                _doc(i, f"c{i}", t, {}, "neutral", 1, score, stype)
                for i, (t, score, stype) in enumerate(docs)
            ]
        ),
        FEEDBACK,
    )
    up = pd.DataFrame(
        {
            "theme_id": ["delivery", "price"],
            "churn_uplift": [0.1, 0.1],
            "churn_uplift_low": [0.1, 0.1],
            "churn_uplift_high": [0.1, 0.1],
            "customers": [0, 0],
            "method": ["x", "x"],
        }
    )
    out = rank_pain_points(
        fb, CUSTOMER_VALUE.empty(), up, TAX, **{**KW, "segments": ["all"]}
    ).set_index("theme_id")
    # NPS overall: promoters 3/6, detractors 2/6 -> 16.67; without delivery: 3/4 - 0 -> 75
    assert out.loc["delivery", "nps_impact"] == pytest.approx(
        100 * (3 / 6 - 2 / 6) - 75.0
    )  # -58.3: drags it down
    # without price: promoters 1/4, detractors 2/4 -> -25; price lifts NPS
    assert out.loc["price", "nps_impact"] == pytest.approx(100 * (3 / 6 - 2 / 6) + 25.0)  # +41.7
    # CSAT = % of 4-5: overall 2/5 = 40; without delivery 2/3 = 66.7
    assert out.loc["delivery", "csat_impact"] == pytest.approx(40.0 - 200 / 3)
    assert pd.isna(out.loc["price", "csat_impact"])  # no CSAT answer mentions price


def test_missing_uplift_leaves_figure_null_and_says_so(inputs):
    fb, cv, up = inputs
    out = rank_pain_points(fb, cv, up[up["theme_id"] == "delivery"], TAX, **KW)
    p = out[(out["segment"] == "all") & (out["theme_id"] == "price")].iloc[0]
    assert pd.isna(p["clv_at_risk"]) and "uplift=missing" in p["method"]


def test_scores():
    assert nps(np.array([10, 9, 8, 3])) == 25.0 and np.isnan(nps(np.array([])))
    assert csat(np.array([5, 4, 3, 1])) == 50.0
    assert score_impact(np.array([10, 10, 0, 0]), np.array([0, 0, 1, 1], bool), "nps") == -100.0
    assert score_impact(np.array([5, 5, 1]), np.array([0, 0, 1], bool), "csat") == pytest.approx(
        200 / 3 - 100
    )
    assert np.isnan(score_impact(np.array([5, 5]), np.array([1, 1], bool), "csat"))


def test_interval_propagation():
    risk, low, high = clv_at_risk_interval(1000, 900, 1100, 0.1, 0.05, 0.15)
    assert (
        risk == 100
        and low == pytest.approx(100 - np.hypot(10, 50))
        and high == pytest.approx(100 + np.hypot(10, 50))
    )
    # exact CLV: only the uplift interval matters
    assert clv_at_risk_interval(1000, 1000, 1000, 0.1, 0.0, 0.3) == pytest.approx((100, 0, 300))
    # a negative low end of the uplift cannot make the value at risk negative
    risk, low, high = clv_at_risk_interval(1000, 900, 1100, 0.02, -0.05, 0.08)
    assert (risk, low) == (20, 0.0) and high == pytest.approx(20 + np.hypot(0.02 * 100, 60))
    # a protective point estimate puts nothing at risk; the high end still shows the doubt
    assert clv_at_risk_interval(1000, 500, 1000, -0.1, -0.2, 0.05) == pytest.approx((0, 0, 50))
    assert clv_at_risk_interval(1000, 500, 1000, -0.1, -0.2, -0.01) == (0, 0, 0)


def test_examples_prefer_quotes_about_the_theme_alone():
    info = pd.DataFrame(
        {
            "text": [
                "app crashes and my card is declined and delivery late",
                "the app crashes on login",
                "x",
            ],
            "n": [55, 24, 1],
            "themes": [3, 1, 1],
            "sentiment_score": [-0.99, -0.6, -1.0],
        }
    )
    # the most negative quote raises three themes; the single-theme one goes first,
    # and a 1-character quote only when nothing else is left
    assert pick_examples(info, np.array([0, 1, 2]), 2, (20, 280)) == [
        "the app crashes on login",
        "app crashes and my card is declined and delivery late",
    ]
