"""The value chain on the shipped sample, with its planted truth as the classifier output.

data/README.md plants the churn effects: payments_refunds +0.30 and app_bugs +0.22 are
causal, performance is a decoy (0) raised mostly by customers who also raise app_bugs.
Using the true themes isolates the value stage from classifier error, so this checks in
seconds what `cxtext run` must also show (the full flow is checked, slowly, below).
"""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import pytest

from cxtext.config import Settings, load_settings, resolve
from cxtext.ingest.feedback import iter_feedback
from cxtext.ingest.tables import read_customers, read_transactions
from cxtext.schema import FEEDBACK, conform
from cxtext.themes.taxonomy import load_taxonomy
from pipelines import nightly

SAMPLE = resolve("data/sample")
CAUSAL = ("payments_refunds", "app_bugs")
DECOY = "performance"


def _truth_labelled_feedback(settings: Settings) -> pd.DataFrame:
    cfg = settings.ingest
    batches = iter_feedback(
        [SAMPLE / "feedback"],
        partition_rows=100_000,
        max_text_chars=cfg.max_text_chars,
        min_text_chars=cfg.min_text_chars,
        default_channel=cfg.default_channel,
        pseudonym_key=b"k" * 32,
    )
    records = pd.concat([b.records for b in batches], ignore_index=True)
    truth = pd.read_csv(SAMPLE / "truth.csv", dtype=str, keep_default_na=False)
    truth = truth.drop_duplicates(["source", "id"], keep="first").set_index(["source", "id"])
    key = pd.MultiIndex.from_frame(records[["source", "id"]].astype(str))
    theme = truth["theme"].reindex(key).to_numpy()
    sentiment = truth["sentiment"].reindex(key).to_numpy()
    has = pd.notna(theme) & (theme != "none")
    records["topics"] = [json.dumps([t]) if h else "[]" for t, h in zip(theme, has, strict=True)]
    records["aspect_sentiment"] = [
        json.dumps({t: s}) if h else "{}" for t, s, h in zip(theme, sentiment, has, strict=True)
    ]
    records["sentiment"] = pd.Series(sentiment).fillna("neutral").to_numpy()
    records["text_redacted"] = records["text"]
    return conform(records, FEEDBACK)


@pytest.fixture(scope="module")
def sample_run():
    settings = load_settings()
    v = settings.value
    feedback = _truth_labelled_feedback(settings)
    customers, _ = read_customers(SAMPLE / "customers.csv", pseudonym_key=b"k" * 32)
    transactions, _ = read_transactions(SAMPLE / "transactions.csv", pseudonym_key=b"k" * 32)
    taxonomy = load_taxonomy(resolve(settings.paths.taxonomy))
    window_end = feedback["created_at"].max().floor("D") + pd.Timedelta(days=1)
    # The flow's own task bodies, so this test wires settings exactly as a run does.
    painpoints = replace(settings.painpoints, segments=("all", v.segment_column))
    values = nightly.value.fn(customers, transactions, feedback, window_end, v)
    uplift = nightly.churn_uplift.fn(feedback, customers, taxonomy, v)
    pain = nightly.pain_points.fn(feedback, values, uplift, taxonomy, window_end, painpoints, v)
    return feedback, customers, values, uplift.set_index("theme_id"), pain


def test_the_sample_is_a_real_test_of_joint_estimation(sample_run):
    """Compared one theme at a time, the decoy looks almost as harmful as app_bugs."""
    feedback, customers, *_ = sample_run
    churned = customers.set_index("customer_id")["churned"].astype(bool)
    negative = feedback[feedback["sentiment"] == "negative"]

    def raw_difference(theme: str) -> float:
        ids = set(negative.loc[negative["topics"] == json.dumps([theme]), "customer_id"].dropna())
        mask = churned.index.isin(ids)
        return float(churned[mask].mean() - churned[~mask].mean())

    assert raw_difference(DECOY) > 0.15


def test_clv_comes_from_the_crm_and_the_fitted_model(sample_run):
    _, _, values, _, _ = sample_run
    shares = values["method"].value_counts(normalize=True)
    assert len(values) == 2000 and shares["crm"] == pytest.approx(0.3)  # the 600 CRM values win
    # the others are fitted from transactions; only customers who never bought get the default
    assert shares["bgnbd_gammagamma"] > 0.6
    assert set(shares.index) <= {"crm", "bgnbd_gammagamma", "segment_default"}


def test_joint_model_ranks_the_decoy_below_both_causal_themes(sample_run):
    *_, uplift, pain = sample_run
    assert uplift["method"].str.startswith("joint_logit").all()
    assert pain["method"].str.startswith("uplift=joint_logit").all()
    for _segment, rows in pain.groupby("segment"):
        rank = rows.set_index("theme_id")["rank"]
        if DECOY in rank.index:
            assert all(rank[c] < rank[DECOY] for c in CAUSAL if c in rank.index)
    all_rows = pain[pain["segment"] == "all"].set_index("theme_id")
    assert all_rows.loc[list(CAUSAL), "rank"].max() <= 3
    u = uplift["churn_uplift"].astype(float)
    assert u[DECOY] < 0.5 * min(u[c] for c in CAUSAL)
    for theme, true in (("payments_refunds", 0.30), ("app_bugs", 0.22)):
        low, high = (float(uplift.loc[theme, c]) for c in ("churn_uplift_low", "churn_uplift_high"))
        assert low > 0.05 and low - 0.05 <= true <= high + 0.05
    assert (pain["clv_at_risk_low"] >= 0).all()
