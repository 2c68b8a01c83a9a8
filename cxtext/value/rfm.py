"""Transactions to the per-customer summary that buy-till-you-die models are fitted on.

BG/NBD and Gamma-Gamma need only four numbers per customer (Fader, Hardie & Lee
2005): ``frequency`` x (repeat purchases), ``recency`` t_x (first to last purchase),
``T`` (first purchase to the evaluation date) and ``monetary_value`` (mean spend of
the repeat purchases). Time is measured in days (fractional when the data has times
of day). Refunds are netted against the purchases they refund first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxtext.errors import InputRejected, SettingsError
from cxtext.schema import utc_timestamp

DAYS_PER_MONTH = 365.25 / 12

SUMMARY_COLUMNS = [
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "n_purchases",
    "total_amount",
    "sum_sq_amount",
    "first_purchase",
]


def summarize_transactions(
    transactions: pd.DataFrame, *, as_of: pd.Timestamp, resolution: str = "auto"
) -> pd.DataFrame:
    """One row per customer (index ``customer_id``) with frequency, recency, T and spend.

    Refunds (negative amounts) are first netted against the purchase they refund
    (:func:`net_refunds`); they never count as purchases, and a customer with only
    refunds gets no row. ``resolution`` is ``"day"`` (purchases on the same calendar day
    are one purchase with their amounts summed, as in the original papers), ``"exact"``
    (event times to the second; only identical timestamps merge) or ``"auto"`` (exact
    when any timestamp has a time of day, else day). Day rounding biases the BG/NBD
    rate scale α by a few percent at large scale (docs/value.md), so exact times are
    used when the data has them. Transactions after ``as_of`` are ignored, and
    ``monetary_value`` is the mean of the *repeat* purchases (0 when there are none),
    the quantity the Gamma-Gamma model describes. ``attrs["refunds"]`` counts how the
    refunds were matched, ``attrs["after_as_of"]`` the transactions left out as later
    than ``as_of`` (said to the user: a typo'd year or a lagging feedback export).

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
    if resolution not in ("auto", "day", "exact"):
        raise SettingsError(f"value.time_resolution must be auto, day or exact, got {resolution!r}")
    as_of = utc_timestamp(as_of)
    if transactions is None or len(transactions) == 0:
        return _empty_summary()
    missing = [c for c in ("customer_id", "date", "amount") if c not in transactions.columns]
    if missing:
        raise InputRejected(
            f"transactions have no {', '.join(repr(c) for c in missing)} column "
            f"(columns found: {', '.join(map(str, transactions.columns)) or 'none'}); "
            "rename the columns or pass --columns"
        )
    order = (
        transactions["order_id"].astype("string").str.strip()
        if "order_id" in transactions.columns
        else pd.Series(pd.NA, index=transactions.index, dtype="string")
    )
    tx = pd.DataFrame(
        {
            "customer_id": transactions["customer_id"].astype("string").str.strip(),
            "date": pd.to_datetime(transactions["date"], utc=True),
            "amount": pd.to_numeric(transactions["amount"], errors="coerce").astype(float),
            "order_id": order.where(order != "", pd.NA),
        }
    )
    later = tx["date"] > as_of
    tx = tx[
        tx["customer_id"].notna()
        & tx["date"].notna()
        & ~later
        & tx["amount"].notna()  # the reader quarantines unreadable amounts; never read as 0
    ]
    purchases, refunds = net_refunds(tx.reset_index(drop=True))
    if purchases.empty:
        out = _empty_summary(refunds)
        out.attrs["after_as_of"] = int(later.sum())
        return out
    exact = resolution == "exact" or (
        resolution == "auto" and bool((purchases["date"] != purchases["date"].dt.floor("D")).any())
    )
    purchases["event"] = purchases["date"] if exact else purchases["date"].dt.floor("D")
    events = (
        purchases.groupby(["customer_id", "event"], sort=True, observed=True)["amount"]
        .sum()
        .reset_index()
    )
    g = events.groupby("customer_id", sort=True, observed=True)
    first = g["event"].min()
    last = g["event"].max()
    n = g["event"].size().astype(float)
    total = g["amount"].sum()
    sum_sq = (events["amount"] ** 2).groupby(events["customer_id"], sort=True, observed=True).sum()
    first_amount = g["amount"].first()
    day = pd.Timedelta(days=1)
    freq = n - 1.0
    repeat_total = total - first_amount
    monetary = np.where(freq > 0, repeat_total / freq.where(freq > 0, 1.0), 0.0)
    end = as_of if exact else as_of.floor("D")
    out = pd.DataFrame(
        {
            "frequency": freq.to_numpy(),
            "recency": ((last - first) / day).to_numpy(dtype=float),
            "T": ((end - first) / day).to_numpy(dtype=float),
            "monetary_value": monetary,
            "n_purchases": n.to_numpy(),
            "total_amount": total.to_numpy(dtype=float),
            "sum_sq_amount": sum_sq.to_numpy(dtype=float),  # the spread of a customer's amounts
            "first_purchase": first.to_numpy(),
        },
        index=pd.Index(first.index, name="customer_id", dtype="string"),
    )
    out.attrs["refunds"] = refunds
    out.attrs["resolution"] = "exact" if exact else "day"
    out.attrs["after_as_of"] = int(later.sum())
    return out


def net_refunds(tx: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """(purchases with refunds subtracted, counts of how each refund was matched).

    A refund (amount < 0) is matched to the same customer's purchase with the same
    ``order_id`` when both carry one, else to that customer's nearest purchase at or
    before the refund. It lowers that purchase's amount (never below 0: a fully
    refunded order stays an order, worth 0) and is never a purchase itself. A refund
    with no earlier purchase (a customer with only refunds) is dropped and counted as
    ``unmatched``; the part of a refund larger than its purchase is ``excess``.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...     "date": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-09", "2024-01-02"], utc=True),
    ...     "amount": [50.0, 30.0, -20.0, -5.0], "order_id": [pd.NA] * 4})
    >>> purchases, counts = net_refunds(tx)
    >>> purchases["amount"].tolist(), counts
    ([50.0, 10.0], {'refunds': 2, 'by_order_id': 0, 'by_date': 1, 'unmatched': 1, 'excess': 0})
    """
    is_refund = (tx["amount"] < 0).to_numpy()
    purchases = tx[~is_refund].copy()
    purchases["_row"] = np.arange(len(purchases))
    refunds = tx[is_refund].copy()
    refunds["_rid"] = np.arange(len(refunds))
    counts = {"refunds": len(refunds), "by_order_id": 0, "by_date": 0, "unmatched": 0, "excess": 0}
    if refunds.empty:
        return purchases.drop(columns="_row").reset_index(drop=True), counts
    match = pd.Series(np.nan, index=refunds["_rid"].to_numpy())
    keyed = refunds[refunds["order_id"].notna()]
    if len(keyed):
        by_order = (
            purchases[purchases["order_id"].notna()]
            .sort_values("date")
            .drop_duplicates(["customer_id", "order_id"], keep="last")
        )
        joined = keyed.merge(
            by_order[["customer_id", "order_id", "_row"]],
            on=["customer_id", "order_id"],
            how="left",
        )
        found = joined["_row"].notna().to_numpy()
        match.loc[joined["_rid"].to_numpy()[found]] = joined["_row"].to_numpy()[found]
        counts["by_order_id"] = int(found.sum())
    rest = refunds[match.reindex(refunds["_rid"].to_numpy()).isna().to_numpy()]
    if len(rest):
        nearest = pd.merge_asof(
            rest.sort_values("date"),
            purchases[["customer_id", "date", "_row"]].sort_values("date"),
            on="date",
            by="customer_id",
            direction="backward",
        )
        found = nearest["_row"].notna().to_numpy()
        match.loc[nearest["_rid"].to_numpy()[found]] = nearest["_row"].to_numpy()[found]
        counts["by_date"] = int(found.sum())
    counts["unmatched"] = int(match.isna().sum())
    matched = match.dropna()
    refunded = (
        pd.Series(-refunds.set_index("_rid")["amount"].reindex(matched.index).to_numpy())
        .groupby(matched.to_numpy().astype(int))
        .sum()
    )
    amounts = purchases["amount"].to_numpy(dtype=float).copy()
    rows = refunded.index.to_numpy(dtype=int)
    netted = amounts[rows] - refunded.to_numpy()
    counts["excess"] = int((netted < 0).sum())
    amounts[rows] = np.maximum(netted, 0.0)
    purchases["amount"] = amounts
    return purchases.drop(columns="_row").reset_index(drop=True), counts


def _empty_summary(refunds: dict[str, int] | None = None) -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=float) for c in SUMMARY_COLUMNS[:-1]})
    out["first_purchase"] = pd.Series(dtype="datetime64[us, UTC]")
    out.index = pd.Index([], name="customer_id", dtype="string")
    if refunds is not None:
        out.attrs["refunds"] = refunds
    return out
