"""Transactions to the per-customer summary that buy-till-you-die models are fitted on.

BG/NBD and Gamma-Gamma need only four numbers per customer (Fader, Hardie & Lee
2005): ``frequency`` x (repeat purchases), ``recency`` t_x (first to last purchase),
``T`` (first purchase to the evaluation date) and ``monetary_value`` (mean spend of
the repeat purchases). Time is measured in days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxtext.schema import utc_timestamp

DAYS_PER_MONTH = 365.25 / 12

SUMMARY_COLUMNS = [
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "n_purchases",
    "total_amount",
    "first_purchase",
]


def summarize_transactions(transactions: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per customer (index ``customer_id``) with frequency, recency, T and spend.

    Purchases on the same calendar day count as one purchase with their amounts summed,
    as in the original papers; transactions after ``as_of`` are ignored, and
    ``monetary_value`` is the mean of the *repeat* purchases (0 when there are none),
    the quantity the Gamma-Gamma model describes.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-31",
    ...                                            "2024-01-21"], utc=True),
    ...                    "amount": [10.0, 20.0, 40.0, 5.0]})
    >>> s = summarize_transactions(tx, as_of=pd.Timestamp("2024-02-10", tz="UTC"))
    >>> s.loc["a", ["frequency", "recency", "T", "monetary_value"]].tolist()
    [2.0, 30.0, 40.0, 30.0]
    >>> s.loc["b", ["frequency", "recency", "T", "monetary_value"]].tolist()
    [0.0, 0.0, 20.0, 0.0]
    """
    as_of = utc_timestamp(as_of)
    if transactions is None or len(transactions) == 0:
        return _empty_summary()
    tx = pd.DataFrame(
        {
            "customer_id": transactions["customer_id"].astype("string"),
            "date": pd.to_datetime(transactions["date"], utc=True),
            "amount": pd.to_numeric(transactions["amount"], errors="coerce").astype(float),
        }
    )
    tx = tx[tx["customer_id"].notna() & tx["date"].notna() & (tx["date"] <= as_of)]
    if tx.empty:
        return _empty_summary()
    tx["amount"] = tx["amount"].fillna(0.0).clip(lower=0.0)
    tx["day"] = tx["date"].dt.floor("D")
    daily = (
        tx.groupby(["customer_id", "day"], sort=True, observed=True)["amount"].sum().reset_index()
    )
    g = daily.groupby("customer_id", sort=True, observed=True)
    first = g["day"].min()
    last = g["day"].max()
    n = g["day"].size().astype(float)
    total = g["amount"].sum()
    first_amount = g["amount"].first()
    day = pd.Timedelta(days=1)
    freq = n - 1.0
    repeat_total = total - first_amount
    monetary = np.where(freq > 0, repeat_total / freq.where(freq > 0, 1.0), 0.0)
    out = pd.DataFrame(
        {
            "frequency": freq.to_numpy(),
            "recency": ((last - first) / day).to_numpy(dtype=float),
            "T": ((as_of.floor("D") - first) / day).to_numpy(dtype=float),
            "monetary_value": monetary,
            "n_purchases": n.to_numpy(),
            "total_amount": total.to_numpy(dtype=float),
            "first_purchase": first.to_numpy(),
        },
        index=pd.Index(first.index, name="customer_id", dtype="string"),
    )
    return out


def _empty_summary() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=float) for c in SUMMARY_COLUMNS[:-1]})
    out["first_purchase"] = pd.Series(dtype="datetime64[us, UTC]")
    out.index = pd.Index([], name="customer_id", dtype="string")
    return out
