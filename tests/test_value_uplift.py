"""Churn uplift per theme: joint regularised logit with bootstrap, or the prior."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from cxtext.painpoints.mentions import theme_mentions
from cxtext.schema import FEEDBACK, conform
from cxtext.themes.taxonomy import Taxonomy, Theme
from cxtext.value.uplift import (
    UPLIFT_COLUMNS,
    _covariate_code,
    _DistinctRows,
    _negative_mentions,
    _uplift_from,
    estimate_churn_uplift,
    fit_logit,
)

TAXONOMY = Taxonomy(
    (
        Theme("delivery", "Delivery", "ارسال"),
        Theme("price", "Price", "قیمت", churn_prior=0.30),
        Theme("rare", "Rare", "نادر"),
    )
)
T0 = pd.Timestamp("2025-01-01", tz="UTC")
UPLIFT = dict(
    prior=0.15,
    segment_column="plan",
    tenure_hints=["tenure"],
    seed=0,
    n_bootstrap=200,
    prior_sd=1.0,
    level=0.9,
)


def _doc(
    i: int,
    cust: str | None,
    topics: list[str],
    aspects: dict[str, str],
    sentiment: str,
    day: int = 0,
) -> dict:
    return {
        "source": "t",
        "id": str(i),
        "customer_id": cust,
        "created_at": T0 + pd.Timedelta(days=day),
        "topics": json.dumps(topics),
        "aspect_sentiment": json.dumps(aspects),
        "sentiment": sentiment,
    }


def _feedback(rows: list[dict]) -> pd.DataFrame:
    return conform(pd.DataFrame(rows), FEEDBACK)


def test_without_labels_the_prior_is_scaled_by_negativity():
    fb = _feedback(
        [
            _doc(1, "a", ["delivery"], {"delivery": "negative"}, "negative"),
            _doc(2, "b", ["delivery"], {}, "negative"),  # aspect missing -> document sentiment
            _doc(3, "c", ["delivery"], {"delivery": "positive"}, "negative"),
            _doc(4, "d", ["delivery", "price"], {"price": "negative"}, "positive"),
        ]
    )
    out = estimate_churn_uplift(fb, None, TAXONOMY, **UPLIFT).set_index("theme_id")
    assert list(out.reset_index().columns) == UPLIFT_COLUMNS
    assert out.loc["delivery", "churn_uplift"] == pytest.approx(0.15 * 2 / 4)
    assert out.loc["delivery", "customers"] == 2
    assert out.loc["delivery", "churn_uplift_high"] == pytest.approx(0.30 * 2 / 4)
    assert out.loc["price", "churn_uplift"] == pytest.approx(
        0.30 * 1.0
    )  # taxonomy churn_prior wins
    assert "taxonomy churn_prior" in out.loc["price", "method"]
    assert "no churn labels" in out.loc["delivery", "method"]
    assert any("not estimated: no churn labels" in n for n in out.attrs["notes"])
    assert out.loc["rare", "churn_uplift"] == 0.0 and out.loc["rare", "customers"] == 0


@pytest.mark.parametrize(
    "churned, reason",
    [(True, "all labelled customers churned"), (False, "no labelled customer churned")],
)
def test_constant_labels_fall_back_to_the_prior_and_say_why(churned, reason):
    fb = _feedback([_doc(1, "a", ["delivery"], {"delivery": "negative"}, "negative")])
    customers = pd.DataFrame({"customer_id": ["a", "b"], "churned": [churned, churned]})
    out = estimate_churn_uplift(fb, customers, TAXONOMY, **UPLIFT)
    assert out["method"].str.contains(reason).all()
    assert out.set_index("theme_id").loc["delivery", "churn_uplift"] == pytest.approx(0.15)


def test_empty_feedback_gives_one_row_per_theme():
    out = estimate_churn_uplift(FEEDBACK.empty(), None, TAXONOMY, **UPLIFT)
    assert out["theme_id"].tolist() == TAXONOMY.ids and (out["churn_uplift"] == 0).all()


def _labelled_population(seed: int = 0, n: int = 3000):
    """delivery raises churn (+1.2 log-odds); price has no effect; rare: 3 customers, all churned."""
    rng = np.random.default_rng(seed)
    ids = [f"c{i}" for i in range(n)]
    plan = rng.choice(["basic", "premium"], n)
    delivery = rng.random(n) < 0.2
    price = rng.random(n) < 0.2
    rare = np.zeros(n, dtype=bool)
    rare[:3] = True
    eta = -1.8 + 1.2 * delivery - 0.5 * (plan == "premium")
    churned = rng.random(n) < 1 / (1 + np.exp(-eta))
    churned[:3] = True
    rows, k = [], 0
    for i in range(n):
        for theme, flag in (("delivery", delivery[i]), ("price", price[i]), ("rare", rare[i])):
            if flag:
                rows.append(_doc(k, ids[i], [theme], {theme: "negative"}, "negative"))
                k += 1
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "plan": plan,
            "tenure_days": rng.uniform(10, 900, n),
            "churned": churned,
        }
    )
    return _feedback(rows), customers


def test_joint_model_recovers_effects_and_shrinks_small_themes():
    fb, customers = _labelled_population()
    out = estimate_churn_uplift(fb, customers, TAXONOMY, **{**UPLIFT, "n_bootstrap": 100})
    out = out.set_index("theme_id")
    assert out["method"].str.startswith("joint_logit").all()
    d, p, r = (out.loc[t] for t in ("delivery", "price", "rare"))
    assert 0.12 < d["churn_uplift"] < 0.26  # true ~0.19
    assert abs(p["churn_uplift"]) < 0.04
    assert d["churn_uplift_low"] < d["churn_uplift"] < d["churn_uplift_high"]
    assert d["churn_uplift_low"] > 0.08 and p["churn_uplift_low"] < 0 < p["churn_uplift_high"]
    # rare: raw difference would be ~0.8 (3 of 3 churned); the N(0,1) prior shrinks it hard
    assert r["customers"] == 3 and r["churn_uplift"] < 0.45
    assert d["customers"] == int(
        customers["customer_id"]
        .isin(fb.loc[fb["topics"].str.contains("delivery"), "customer_id"])
        .sum()
    )


def test_bootstrap_is_reproducible_with_a_seed():
    fb, customers = _labelled_population(n=800)
    a = estimate_churn_uplift(fb, customers, TAXONOMY, **{**UPLIFT, "seed": 7, "n_bootstrap": 30})
    b = estimate_churn_uplift(fb, customers, TAXONOMY, **{**UPLIFT, "seed": 7, "n_bootstrap": 30})
    pd.testing.assert_frame_equal(a, b)


def test_feedback_after_churn_does_not_count():
    fb, customers = _labelled_population(n=1500)
    # churned the day before any feedback was written
    customers["churned_at"] = pd.Series(T0 - pd.Timedelta(days=1), index=customers.index).where(
        customers["churned"]
    )
    out = estimate_churn_uplift(fb, customers, TAXONOMY, **{**UPLIFT, "n_bootstrap": 20})
    # with every churner's mentions dropped, delivery now looks protective, not harmful
    assert out.set_index("theme_id").loc["delivery", "churn_uplift"] < 0


def test_newton_logit_matches_scikit_learn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4))
    y = (rng.random(500) < 1 / (1 + np.exp(-(X @ [1.0, -0.5, 0.0, 2.0] + 0.3)))).astype(float)
    w = fit_logit(X, y, prior_sd=0.7)
    sk = LogisticRegression(C=0.49, tol=1e-10, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(w, np.r_[sk.intercept_, sk.coef_[0]], atol=1e-5)


def test_weighted_fit_is_the_resample_fit():
    # the bootstrap fits the drawn customers weighted by their copies, from the point
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.random((400, 3)) < 0.2, rng.normal(size=400)]).astype(float)
    y = (rng.random(400) < 1 / (1 + np.exp(-(X @ [1.0, 0.5, 0.0, -1.0] - 1.0)))).astype(float)
    idx = rng.integers(0, 400, 400)
    count = np.bincount(idx, minlength=400)
    drawn = count > 0
    point = fit_logit(X, y, prior_sd=1.0)
    weighted = fit_logit(X[drawn], y[drawn], 1.0, start=point, weight=count[drawn].astype(float))
    copies = fit_logit(X[idx], y[idx], prior_sd=1.0)
    np.testing.assert_allclose(weighted, copies, rtol=1e-10)
    np.testing.assert_allclose(
        _uplift_from(X[drawn], weighted, 3, count[drawn].astype(float)),
        _uplift_from(X[idx], copies, 3),
        rtol=1e-10,
    )


def test_fit_on_distinct_rows_is_the_fit_on_every_customer():
    # the augmentation's fits run on the distinct (indicators, covariates) rows, weighted
    rng = np.random.default_rng(2)
    covariates = np.column_stack([rng.random(3000) < 0.3, rng.integers(0, 5, 3000) / 4.0])
    indicators = rng.random((3000, 6)) < 0.1
    X = np.column_stack([indicators, covariates]).astype(float)
    y = (
        rng.random(3000) < 1 / (1 + np.exp(-(X @ [1.0, 0.5, 0.0, -1.0, 0, 0, 0.3, -0.2] - 1)))
    ).astype(float)
    distinct = _DistinctRows(_covariate_code(covariates.astype(float)), 6)
    assert len(np.unique(X, axis=0)) < 1000  # really fewer rows
    start = fit_logit(X[::2], y[::2], prior_sd=1.0)
    np.testing.assert_allclose(
        distinct.fit(X, y, 1.0, start), fit_logit(X, y, 1.0, start=start), rtol=1e-10
    )


def test_sparse_design_fits_as_the_dense_one():
    # the uncorrected model (discovery's candidates: hundreds of theme columns) fits a
    # sparse design, a bootstrap replicate weighting undrawn customers 0
    rng = np.random.default_rng(3)
    indicators = (rng.random((2000, 40)) < 0.03).astype(float)
    covariates = np.column_stack([rng.random(2000) < 0.4, rng.normal(size=2000)])
    X = np.column_stack([indicators, covariates])
    eta = X @ np.r_[rng.normal(0, 0.8, 40), -0.5, 0.3] - 1.2
    y = (rng.random(2000) < 1 / (1 + np.exp(-eta))).astype(float)
    sparse_X = sparse.csr_matrix(X)
    dense_w = fit_logit(X, y, 1.0)
    np.testing.assert_allclose(fit_logit(sparse_X, y, 1.0), dense_w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        _uplift_from(sparse_X, dense_w, 40), _uplift_from(X, dense_w, 40), rtol=1e-12
    )
    count = np.bincount(rng.integers(0, 2000, 2000), minlength=2000)
    drawn = count > 0
    subset = fit_logit(X[drawn], y[drawn], 1.0, start=dense_w, weight=count[drawn].astype(float))
    zeros = fit_logit(sparse_X, y, 1.0, start=dense_w, weight=count.astype(float))
    np.testing.assert_allclose(zeros, subset, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        _uplift_from(sparse_X, zeros, 40, count.astype(float)),
        _uplift_from(X[drawn], subset, 40, count[drawn].astype(float)),
        rtol=1e-9,
    )


def test_uncorrected_model_with_many_themes_matches_a_dense_fit():
    # estimate_churn_uplift's point = a dense joint logit on the same indicators
    fb, customers = _labelled_population(n=600)
    out = estimate_churn_uplift(fb, customers, TAXONOMY, **{**UPLIFT, "n_bootstrap": 5})
    out = out.set_index("theme_id")
    ids = customers["customer_id"]
    raised = np.column_stack(
        [
            ids.isin(fb.loc[fb["topics"].str.contains(t), "customer_id"]).to_numpy(float)
            for t in ("delivery", "price", "rare")
        ]
    )
    plan = (customers["plan"] == "premium").to_numpy(float)
    tenure = customers["tenure_days"].to_numpy()
    X = np.column_stack([raised, plan, (tenure - tenure.mean()) / tenure.std()])
    w = fit_logit(X, customers["churned"].to_numpy(float), 1.0)
    np.testing.assert_allclose(
        out.loc[["delivery", "price", "rare"], "churn_uplift"].to_numpy(float),
        _uplift_from(X, w, 3),
        rtol=1e-9,
    )


def _mentions_per_document(fb: pd.DataFrame) -> list[tuple[int, str, bool]]:
    """What a mention is, document by document (theme_mentions parses per signature)."""
    out = []
    for i, (topics, aspects, sentiment) in enumerate(
        zip(fb["topics"], fb["aspect_sentiment"], fb["sentiment"], strict=True)
    ):
        tops = (
            topics
            if isinstance(topics, list)
            else json.loads(topics)
            if isinstance(topics, str)
            else []
        )
        asp = json.loads(aspects) if isinstance(aspects, str) else {}
        negative = isinstance(sentiment, str) and sentiment == "negative"
        for t in dict.fromkeys(map(str, tops)):
            label = asp.get(t)
            out.append((i, t, label == "negative" if label else negative))
    return out


def test_mentions_parsed_per_signature_are_the_per_document_ones():
    # one parse per distinct (topics, aspects, sentiment): same rows, same order
    rows = [
        _doc(1, "a", ["delivery", "price"], {"price": "negative"}, "positive"),
        _doc(2, " b ", ["delivery", "delivery"], {}, "negative"),
        _doc(3, None, [], {}, "negative"),
        _doc(4, "a", ["delivery", "price"], {"price": "negative"}, "positive"),
        _doc(5, "c", ["price"], {"price": "neutral"}, "negative"),
    ]
    fb = _feedback(rows)
    fb.loc[2, "topics"] = None
    fb.loc[4, "sentiment"] = None
    parsed = fb.astype({"topics": object})
    parsed.loc[0, "topics"] = ["delivery", "price"]  # an already parsed cell
    for frame in (fb, parsed):
        got = theme_mentions(frame)
        assert got.dtypes.astype(str).tolist() == ["int64", "string", "bool"]
        assert list(got.itertuples(index=False, name=None)) == _mentions_per_document(frame)
    m = _negative_mentions(fb)
    assert m["customer_id"].tolist() == ["a", "a", "b", "a", "a", "c"]
    assert m["created_at"].tolist() == [T0] * 6
