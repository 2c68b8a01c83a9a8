"""Monetary data: refunds net against the purchase they refund, text amounts, missing columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cxtext.value.customer_value as customer_value
from cxtext.errors import InputRejected
from cxtext.ingest.tables import read_transactions
from cxtext.value.amounts import parse_amount
from cxtext.value.customer_value import estimate_customer_value
from cxtext.value.rfm import summarize_transactions
from cxtext.value.simulate import simulate_transactions

AS_OF = pd.Timestamp("2025-01-01", tz="UTC")
SETTINGS = dict(
    as_of=AS_OF,
    horizon_months=12,
    annual_discount_rate=0.10,
    default_clv=250.0,
    default_clv_by_segment={},
    segment_column="plan",
    min_repeat_buyers=30,
    level=0.9,
)


def _tx(rows: list[tuple]) -> pd.DataFrame:
    cols = ["customer_id", "date", "amount", "order_id"]
    df = pd.DataFrame([r + (None,) * (4 - len(r)) for r in rows], columns=cols)
    return df.assign(date=pd.to_datetime(df["date"], utc=True))


def test_a_refund_on_a_later_day_is_not_a_purchase():
    tx = _tx([("a", "2024-06-01", 100.0), ("a", "2024-06-20", 40.0), ("a", "2024-06-25", -40.0)])
    s = summarize_transactions(tx, as_of=AS_OF)
    # before: frequency 2 with a 0-amount "purchase" on the refund day, mean spend halved
    assert s.loc["a", ["frequency", "recency", "n_purchases", "total_amount"]].tolist() == [
        1.0,
        19.0,
        2.0,
        100.0,
    ]
    assert s.loc["a", "monetary_value"] == 0.0  # the refunded repeat purchase is worth 0
    assert s.attrs["refunds"]["by_date"] == 1


def test_refunds_match_by_order_id_before_date():
    tx = _tx(
        [
            ("a", "2024-06-01", 100.0, "o1"),
            ("a", "2024-06-10", 30.0, "o2"),
            ("a", "2024-06-12", -60.0, "o1"),  # refunds the first order, not the nearest
            ("a", "2024-06-14", -10.0),  # no order id: the nearest earlier purchase (o2)
        ]
    )
    s = summarize_transactions(tx, as_of=AS_OF)
    assert s.loc["a", ["frequency", "total_amount", "monetary_value"]].tolist() == [
        1.0,
        60.0,
        20.0,
    ]
    assert s.attrs["refunds"] == {
        "refunds": 2,
        "by_order_id": 1,
        "by_date": 1,
        "unmatched": 0,
        "excess": 0,
    }


def test_a_refund_larger_than_its_purchase_floors_at_zero_and_is_counted():
    tx = _tx([("a", "2024-06-01", 50.0), ("a", "2024-06-03", 20.0), ("a", "2024-06-04", -35.0)])
    s = summarize_transactions(tx, as_of=AS_OF)
    assert s.loc["a", "total_amount"] == 50.0
    assert s.attrs["refunds"]["excess"] == 1


def test_a_customer_with_only_refunds_gets_no_purchase_based_clv():
    sim = simulate_transactions(400, seed=2)
    refunds_only = _tx([("r1", "2024-10-01", -25.0), ("r1", "2024-11-01", -5.0)])
    tx = pd.concat([sim.transactions, refunds_only[["customer_id", "date", "amount"]]])
    out = estimate_customer_value(None, tx, **SETTINGS).set_index("customer_id")
    assert out.loc["r1", ["clv", "method"]].tolist() == [250.0, "segment_default"]
    assert pd.isna(out.loc["r1", "p_alive"])
    assert any("2 with no earlier purchase ignored" in n for n in out.attrs["notes"])


def test_transactions_after_the_as_of_date_are_left_out_and_said():
    # a mistyped year (2099) or an export newer than the feedback: not silently dropped
    tx = _tx([("a", "2024-06-01", 50.0), ("a", "2024-07-01", 20.0), ("a", "2099-06-01", 9e6)])
    assert summarize_transactions(tx, as_of=AS_OF).loc["a", "total_amount"] == 70.0
    out = estimate_customer_value(None, tx, **SETTINGS)
    said = [n for n in out.attrs["notes"] if "after the as-of date 2025-01-01" in n]
    assert said and said[0].startswith("1 transaction dated")
    quiet = estimate_customer_value(None, tx.iloc[:2], **SETTINGS)
    assert not any("as-of" in n for n in quiet.attrs["notes"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,200,000 ریال", 1_200_000.0),
        ("۱٬۲۰۰٬۰۰۰ تومان", 1_200_000.0),
        ("١٢٫٥", 12.5),
        ("12,5", 12.5),
        ("12,50", 12.5),
        ("1.234,50 €", 1234.5),
        ("1.200.000", 1_200_000.0),
        ("$1,234.50", 1234.5),
        ("IRR 35000", 35000.0),
        ("-35", -35.0),
        ("35-", -35.0),
        ("(35.00)", -35.0),
        ("  7 ", 7.0),
        (12, 12.0),
    ],
)
def test_text_amounts_are_parsed(text, expected):
    assert parse_amount(text) == (expected, None)


@pytest.mark.parametrize("text", ["ten", "1,5,0", "12..5", "ریال", "", "inf", "1e400", "--3"])
def test_unreadable_amounts_get_a_reason_never_zero(text):
    amount, reason = parse_amount(text)
    assert amount is None and reason


def test_reader_parses_text_amounts_and_quarantines_the_rest(tmp_path):
    path = tmp_path / "transactions.csv"
    path.write_text(
        "customer_id,date,amount\n"
        'c1,2024-01-01,"1,200,000 ریال"\n'
        'c1,2024-01-02,"12,5"\n'
        "c2,2024-01-03,۳۵۰۰۰ تومان\n"
        "c3,2024-01-04,about ten\n",
        encoding="utf-8",
    )
    tx, quarantine = read_transactions(path, pseudonym_key=b"k" * 32)
    assert tx["amount"].tolist() == [1_200_000.0, 12.5, 35_000.0]
    assert quarantine["reason"].tolist() == [
        "bad_amount: 'about ten' is not an amount (digits with one decimal mark, optional "
        "thousands separators and currency word)"
    ]


def test_a_missing_amount_column_is_an_input_error_naming_the_columns():
    tx = pd.DataFrame({"customer_id": ["a"], "date": [AS_OF], "total": [3.0]})
    with pytest.raises(
        InputRejected, match=r"no 'amount' column \(columns found: customer_id, date, total\)"
    ):
        estimate_customer_value(None, tx, **SETTINGS)


def test_one_non_finite_customer_falls_back_alone(monkeypatch):
    sim = simulate_transactions(600, seed=4)
    real = customer_value.predict_clv

    def broken_for_one(*args, **kwargs):
        pred = real(*args, **kwargs)
        pred.iloc[0, pred.columns.get_loc("clv")] = np.nan
        return pred

    monkeypatch.setattr(customer_value, "predict_clv", broken_for_one)
    out = estimate_customer_value(None, sim.transactions, **SETTINGS)
    counts = out["method"].value_counts()
    assert counts["simple_rate_fallback"] == 1
    assert counts["bgnbd_gammagamma"] == len(out) - 1
    assert np.isfinite(out["clv"]).all()
    assert any("simple rate for 1 of" in n for n in out.attrs["notes"])
