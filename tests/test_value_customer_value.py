"""Customer value: CRM > BG/NBD × Gamma-Gamma > simple rate > segment default."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxtext.schema import CUSTOMER_VALUE
from cxtext.value.customer_value import (
    customers_from_feedback,
    estimate_customer_value,
    simple_rate_clv,
)
from cxtext.value.rfm import DAYS_PER_MONTH, summarize_transactions
from cxtext.value.simulate import simulate_transactions

AS_OF = pd.Timestamp("2025-01-01", tz="UTC")
SETTINGS = dict(
    as_of=AS_OF,
    horizon_months=12,
    annual_discount_rate=0.10,
    default_clv=250.0,
    default_clv_by_segment={"premium": 900.0},
    segment_column="plan",
    min_repeat_buyers=30,
    level=0.9,
)


def _by_id(df: pd.DataFrame) -> pd.DataFrame:
    return df.set_index("customer_id")


def test_empty_inputs_give_an_empty_conformed_table():
    for customers, tx in [(None, None), (pd.DataFrame({"customer_id": []}), None)]:
        out = estimate_customer_value(customers, tx, **SETTINGS)
        assert out.empty and list(out.columns) == CUSTOMER_VALUE.names


def test_crm_wins_then_model_then_default_per_customer():
    sim = simulate_transactions(800, seed=3)
    tx = sim.transactions
    ids = sim.truth.index[:3].tolist()
    customers = pd.DataFrame(
        {
            "customer_id": [*ids, "no_tx_premium", "no_tx_basic", "no_tx_none"],
            "clv": [1234.0, None, None, None, None, None],
            "plan": ["basic", "premium", "basic", "premium", "basic", None],
            "churned": ["yes", "no", "0", "1", None, "true"],
        }
    )
    out = _by_id(estimate_customer_value(customers, tx, **SETTINGS))
    assert len(out) == len(sim.truth) + 3  # customers ∪ transactions
    assert out.loc[ids[0], "method"] == "crm" and out.loc[ids[0], "clv"] == 1234.0
    assert out.loc[ids[0], ["clv_low", "clv_high"]].tolist() == [1234.0, 1234.0]
    assert 0 <= out.loc[ids[0], "p_alive"] <= 1  # the model still describes CRM customers
    assert out.loc[ids[1], "method"] == "bgnbd_gammagamma"
    assert out.loc["no_tx_premium", ["clv", "method"]].tolist() == [900.0, "segment_default"]
    assert out.loc["no_tx_basic", "clv"] == 250.0 and out.loc["no_tx_none", "clv"] == 250.0
    assert bool(out.loc[ids[0], "churned"]) is True and bool(out.loc[ids[2], "churned"]) is False
    assert pd.isna(out.loc["no_tx_basic", "churned"])
    assert out.loc[ids[1], "segment"] == "premium"
    model = out[out["method"] == "bgnbd_gammagamma"]
    assert (model["clv_low"] <= model["clv"]).all() and (model["clv"] <= model["clv_high"]).all()


def test_too_few_repeat_buyers_fall_back_to_the_simple_rate():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c"],
            "date": pd.to_datetime(
                ["2024-07-01", "2024-10-01", "2024-09-01", "2024-12-01"], utc=True
            ),
            "amount": [100.0, 50.0, 30.0, 0.0],
        }
    )
    out = _by_id(estimate_customer_value(None, tx, **SETTINGS))
    assert set(out["method"]) == {"simple_rate"}
    s = summarize_transactions(tx, as_of=AS_OF)
    rate = s["frequency"].sum() / s["T"].sum()
    monthly = 1.1 ** (1 / 12) - 1
    disc_days = sum(DAYS_PER_MONTH / (1 + monthly) ** m for m in range(1, 13))
    assert out.loc["a", "clv"] == pytest.approx(75.0 * rate * disc_days)
    assert out.loc["c", "clv"] == 0.0  # zero spend -> zero value
    assert out.loc["a", "clv_low"] < out.loc["a", "clv"] < out.loc["a", "clv_high"]
    assert out["p_alive"].isna().all()


def test_no_repeat_purchases_at_all_still_gives_a_finite_interval():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "date": pd.to_datetime(["2024-06-01", "2024-08-01"], utc=True),
            "amount": [10.0, 20.0],
        }
    )
    out = simple_rate_clv(
        summarize_transactions(tx, as_of=AS_OF),
        horizon_months=12,
        annual_discount_rate=0.1,
        level=0.9,
    )
    assert (out["clv"] == 0).all() and (out["clv_low"] == 0).all()
    assert np.isfinite(out["clv_high"]).all() and (out["clv_high"] > 0).all()


def test_transactions_after_as_of_are_ignored_and_future_only_customers_get_defaults():
    tx = pd.DataFrame(
        {
            "customer_id": ["late"],
            "date": pd.to_datetime(["2025-06-01"], utc=True),
            "amount": [10.0],
        }
    )
    out = _by_id(estimate_customer_value(None, tx, **SETTINGS))
    assert out.loc["late", ["clv", "method"]].tolist() == [250.0, "segment_default"]


def test_model_with_zero_spend_customers_and_crm_column_all_null():
    sim = simulate_transactions(600, seed=4)
    tx = sim.transactions.copy()
    zero = sim.truth.index[:20]
    tx.loc[tx["customer_id"].isin(zero), "amount"] = 0.0
    customers = pd.DataFrame({"customer_id": sim.truth.index, "clv": np.nan})
    out = _by_id(estimate_customer_value(customers, tx, **SETTINGS))
    assert set(out["method"]) == {"bgnbd_gammagamma"}
    assert np.isfinite(out["clv"]).all() and (out["clv"] >= 0).all()
    assert out.loc[zero, "clv"].median() < out["clv"].median()


def test_feedback_only_customers_get_their_segment_default():
    """No customers or transactions file: the ids in feedback are valued at the defaults."""
    fb = pd.DataFrame(
        {
            "customer_id": ["a", "a ", None, "b", "c", ""],
            "created_at": pd.to_datetime(
                [
                    "2025-01-01",
                    "2025-01-05",
                    "2025-01-02",
                    "2025-01-03",
                    "2025-01-04",
                    "2025-01-04",
                ],
                utc=True,
            ),
            "metadata": [
                '{"plan": "basic"}',
                '{"plan": "premium"}',
                '{"plan": "premium"}',
                "{}",
                "not json",
                "{}",
            ],
        }
    )
    customers = customers_from_feedback(fb, "plan")
    assert customers["customer_id"].tolist() == [
        "a",
        "b",
        "c",
    ]  # stripped, blanks and nulls dropped
    assert customers["plan"].tolist()[0] == "premium"  # the newest document's segment
    assert customers["plan"].isna().tolist() == [False, True, True]
    valued = estimate_customer_value(customers, None, **SETTINGS)
    assert any(
        "3 of 3 customers valued at their segment's default" in n for n in valued.attrs["notes"]
    )
    out = _by_id(valued)
    assert out["clv"].tolist() == [900.0, 250.0, 250.0] and set(out["method"]) == {
        "segment_default"
    }
    assert (out["clv_low"] == out["clv"]).all() and (out["clv_high"] == out["clv"]).all()
    assert customers_from_feedback(fb.drop(columns="customer_id"), "plan").empty
    assert customers_from_feedback(None, "plan").empty


def _gamma_poisson_summary(n: int, seed: int, shape: float) -> tuple[pd.DataFrame, np.ndarray]:
    """A summary of customers whose repeat purchases are Poisson(λT), λ ~ Gamma(shape,
    shape/0.02) per day, spend 40 a purchase; and their rates."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(shape, 0.02 / shape, size=n)
    T = rng.uniform(60, 365, size=n)
    x = rng.poisson(lam * T).astype(float)
    summary = pd.DataFrame(
        {"frequency": x, "T": T, "n_purchases": x + 1, "total_amount": 40.0 * (x + 1)}
    )
    return summary, lam


def test_simple_rate_gives_each_customer_their_own_shrunk_rate_and_spread():
    summary, lam = _gamma_poisson_summary(400, seed=0, shape=2.0)
    out = simple_rate_clv(summary, horizon_months=12, annual_discount_rate=0.0, level=0.9)
    true = 40.0 * lam * 12 * DAYS_PER_MONTH
    assert (out["clv_sd"] > 0).all()  # 0 for everyone before
    inside = ((out["clv_low"] <= true) & (true <= out["clv_high"])).mean()
    assert 0.83 <= inside <= 0.97, inside
    # the shrunk rate ranks customers; the pooled rate (the old figure) cannot
    assert np.corrcoef(out["clv"], true)[0, 1] > 0.7
    errors = (out["clv"] - true) / out["clv_sd"]
    assert 0.7 < errors.std() < 1.3  # the spread is the size of the errors
    assert (out["clv_low"] <= out["clv_mean_low"]).all()
    assert (out["clv_mean_high"] <= out["clv_high"]).all()


def test_simple_rate_with_no_spread_between_customers_says_so():
    summary, _ = _gamma_poisson_summary(400, seed=1, shape=1e9)  # one rate for all
    out = simple_rate_clv(summary, horizon_months=12, annual_discount_rate=0.0, level=0.9)
    pooled = summary["frequency"].sum() / summary["T"].sum()
    np.testing.assert_allclose(out["expected_purchases"], pooled * 12 * DAYS_PER_MONTH)
    assert (out["clv_sd"] == 0).all()  # the data show none: the pooled rate's interval only


def test_a_fit_at_a_limit_keeps_the_model_and_says_so():
    rng = np.random.default_rng(0)  # benchmarks/corpus.py's transactions: one rate, no dropout
    owner = np.repeat(np.arange(500), rng.poisson(4, size=500) + 1)
    tx = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in owner],
            "date": AS_OF - pd.to_timedelta(rng.integers(1, 366, size=len(owner)), unit="D"),
            "amount": np.round(rng.lognormal(3.5, 0.8, size=len(owner)), 2),
        }
    )
    out = estimate_customer_value(None, tx, **SETTINGS)
    assert set(out["method"]) == {"bgnbd_gammagamma"}  # simple_rate for all before
    assert any("BG/NBD fitted at a limit" in note for note in out.attrs["notes"])
    assert (out["clv_sd"] > 0).all()


def test_heavy_tailed_spend_keeps_the_model_for_repeat_buyers():
    # q < 1: the mean spend across customers is infinite. The fit converges (q recovered);
    # only one-time buyers, whose expected spend is that mean, fall back. All customers
    # got the simple rate before ("Gamma-Gamma did not converge").
    sim = simulate_transactions(3000, gamma_gamma={"p": 6.0, "q": 0.8, "gamma": 40.0}, seed=0)
    out = _by_id(estimate_customer_value(None, sim.transactions, **SETTINGS))
    s = sim.summary.reindex(out.index)
    one_time = s["frequency"] == 0
    assert (out.loc[~one_time, "method"] == "bgnbd_gammagamma").all()
    assert (out.loc[one_time, "method"] == "simple_rate_fallback").all()
    assert any("Gamma-Gamma q = 0.7" in n and "one-time buyers" in n for n in out.attrs["notes"])
    assert np.isfinite(out["clv"]).all()


def test_simple_rate_spread_includes_the_customers_own_spend():
    # one purchase rate for all, but each customer's mean spend differs and is known
    # only from their few purchases: that uncertainty is the customer's own spread
    rng = np.random.default_rng(2)
    n = 400
    mean_spend = rng.lognormal(3.5, 0.5, size=n)
    counts = rng.poisson(0.02 * 300, size=n) + 1  # first purchase 300 days before as_of
    owner = np.repeat(np.arange(n), counts)
    days = np.concatenate([np.r_[0, np.sort(rng.uniform(1, 300, size=c - 1))] for c in counts])
    tx = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in owner],
            "date": AS_OF - pd.Timedelta(days=300) + pd.to_timedelta(days, unit="D"),
            "amount": rng.gamma(4.0, mean_spend[owner] / 4.0),
        }
    )
    s = summarize_transactions(tx, as_of=AS_OF, resolution="exact")
    out = simple_rate_clv(s, horizon_months=12, annual_discount_rate=0.0, level=0.9)
    true = pd.Series(mean_spend, index=[f"c{i}" for i in range(n)]).reindex(s.index)
    true *= s["frequency"].sum() / s["T"].sum() * 12 * DAYS_PER_MONTH  # the pooled rate
    assert (out["clv_sd"] > 0).all()  # 0 for everyone before: the rates do not differ
    inside = ((out["clv_low"] <= true) & (true <= out["clv_high"])).mean()
    assert 0.83 <= inside <= 0.97, inside
    relative = out["clv_sd"] / out["clv"]  # ~ cv / sqrt(n): fewer purchases, less known
    few, many = s["n_purchases"] <= 3, s["n_purchases"] >= 10
    assert relative[few].median() > 1.5 * relative[many].median()
