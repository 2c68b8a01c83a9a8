"""Readers for the optional side tables: customers (CRM export) and transactions.

They use the same file formats and encoding detection as feedback. Side tables are small
next to feedback and the value stage needs them whole, so they are returned as one frame.
A bad row goes to quarantine with a reason (id = customer_id) and never stops the run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxtext.config import shipped_settings
from cxtext.display import reason_summary
from cxtext.errors import InputRejected
from cxtext.ingest.readers import ROW_NUMBER, discover_files, read_partitions, skipped_partition
from cxtext.ingest.sources import column_renames
from cxtext.ingest.validate import (
    RowReasons,
    key_values,
    parse_bools,
    parse_numbers,
    parse_timestamps,
    quarantine_frame,
    reason_counts,
    timestamp_problem,
    too_long_keys,
)
from cxtext.normalize.pii import (
    find_pii,
    pseudonymize,
    pseudonymize_column,
    redact_file_name,
    redact_pii,
)
from cxtext.schema import CUSTOMERS, TRANSACTIONS, TYPES
from cxtext.value.amounts import parse_amounts

_PARTITION = 100_000
_FILE = "_source_file"


def _read_raw(path: str | Path, source: str) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """All rows of ``path`` (a file or folder) as strings, plus quarantine entries for broken lines."""
    frames: list[pd.DataFrame] = []
    broken: list[dict[str, Any]] = []
    files, skipped = discover_files([path])
    read = (part for file in files for part in read_partitions(file, _PARTITION))
    canonical = CUSTOMERS.names if source == "customers" else TRANSACTIONS.names
    for part in chain(map(skipped_partition, skipped), read):
        broken += part.quarantine_entries(source)
        if len(part.rows):  # "Customer ID" is customer_id
            rows = part.rows.rename(columns=column_renames(part.rows.columns, {}, canonical))
            frames.append(rows.assign(**{_FILE: part.source_file}))
    if not frames:
        return pd.DataFrame(
            {ROW_NUMBER: pd.array([], dtype="Int64"), _FILE: pd.array([], dtype="string")}
        ), broken
    return pd.concat(frames, ignore_index=True), broken


def _text(raw: pd.DataFrame, name: str) -> pd.Series:
    """A column stripped, blanks as null; all-null when the column is absent."""
    if name not in raw.columns:
        return pd.Series(pd.NA, index=raw.index, dtype="string")
    values = raw[name].astype("string").str.replace("\x00", "", regex=False).str.strip()
    return values.where(values != "", pd.NA)


def _require(raw: pd.DataFrame, name: str, reasons: RowReasons, key: bool = False) -> pd.Series:
    """The column's values (as keys: :func:`key_values`); rows without one get ``missing_<name>``."""
    values = key_values(_text(raw, name)) if key else _text(raw, name)
    if name not in raw.columns:
        listed = ", ".join(c for c in raw.columns if c not in (ROW_NUMBER, _FILE)) or "none"
        reasons.add(
            pd.Series(True, index=raw.index),
            f"missing_{name}: no {name!r} column (columns: {listed}); rename yours to {name!r}",
        )
    else:
        reasons.add(values.isna(), f"missing_{name}")
    return values


def _ts_shown(values: pd.Series) -> pd.Series:
    return values.map(
        lambda v: f"{v[:60]!r} {timestamp_problem(v)}" if isinstance(v, str) else ""
    ).astype("string")


_NOT_MONEY = "looks like a phone or card number, not money"
# No customer's lifetime value and no single purchase is larger than `ingest.max_amount`
# (1e15: a billion dollars in rials): a larger value is a typo or a placeholder such as
# 1e308, whose square overflowed in the ranking and ended the night with a traceback.


def _limit(max_amount: float | None) -> float:
    """A caller that passes no bound (a benchmark, a notebook) still gets the shipped one."""
    return shipped_settings().ingest.max_amount if max_amount is None else max_amount


def _too_large(limit: float) -> str:
    return f" is larger than {limit:g} (ingest.max_amount): not a plausible amount"


_DIGIT_RUNS = ("national_id", "long_number")


def _personal(values: pd.Series) -> pd.Series:
    """Values holding a phone, card, IBAN or email: a phone typed into a money column
    (``0935 412 77 08``) reads as 935 million once its spaces are taken for thousands
    separators. Bare digit runs are not counted: an amount in rials has ten digits."""
    return values.map(
        lambda v: isinstance(v, str) and any(k not in _DIGIT_RUNS for k, _ in find_pii(v))
    ).astype(bool)


def _shown(values: pd.Series) -> pd.Series:
    return values.map(lambda v: repr(v[:60]) if isinstance(v, str) else "").astype("string")


def _quarantine(
    raw: pd.DataFrame, bad: np.ndarray, reasons: pd.Series, ids: pd.Series, source: str
) -> list[dict[str, Any]]:
    columns = [c for c in raw.columns if c not in (ROW_NUMBER, _FILE)]
    return [
        {
            "source": source,
            "source_file": raw[_FILE].iloc[pos],
            "source_row": raw[ROW_NUMBER].iloc[pos],
            "id": ids.iloc[pos],
            "reason": reasons.iloc[pos],
            "raw": {c: raw[c].iloc[pos] for c in columns},
        }
        for pos in np.flatnonzero(bad)
    ]


def _typed(
    frame: Mapping[str, pd.Series], types: Mapping[str, str], rest: pd.DataFrame, key: bytes
) -> pd.DataFrame:
    """The typed columns in order, then the remaining columns as strings."""
    out = pd.DataFrame(
        {name: frame[name].astype(TYPES[logical][0]) for name, logical in types.items()}
    )
    # Keys that are personal data are pseudonymized the same way as in feedback (so they
    # still join); free-text columns (notes, names, segments) are redacted before storing.
    # Other key columns (order_id, ...) are pseudonymized too: redacting "ORD-1234567890"
    # to "ORD-[NUMBER]" would make every long order id the same.
    out["customer_id"] = pseudonymize_column(out["customer_id"], key)
    for col in rest.columns:
        values = rest[col]
        keyed = str(col).lower().endswith("id")
        distinct = {
            v: pseudonymize(v, key) if keyed else redact_pii(v)
            for v in values.dropna().unique().tolist()
        }
        out[redact_pii(str(col))] = values.map(distinct.get).astype("string")
    return out.reset_index(drop=True)


def read_customers(
    path: str | Path,
    *,
    pseudonym_key: bytes,
    max_amount: float | None = None,
    max_id_chars: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(customers, quarantine) from a customers export.

    ``customer_id`` is required; ``clv`` must be an amount >= 0 (``$1,200.50``, ``۱۲٬۰۰۰
    تومان``: :func:`cxtext.value.amounts.parse_amount`), ``churned`` one of
    true/false/1/0/yes/no, ``churned_at`` ISO 8601 (a row with a bad value is quarantined
    rather than kept with a guess). ``churned`` is taken as true when only ``churned_at``
    is given. Other columns are kept as string segment columns. A repeated customer_id
    keeps its first row and quarantines the rest. Ids that are personal data are
    pseudonymized under ``pseudonym_key``, the same as in feedback, so they still join.
    A clv above ``max_amount`` (the run passes ``ingest.max_amount``; default: its shipped
    value) is ``bad_clv``; a customer_id longer than ``max_id_chars`` (default: the shipped
    ``ingest.max_id_chars``) is ``customer_id_too_long``.
    """
    max_amount = _limit(max_amount)
    raw, entries = _read_raw(path, "customers")
    reasons = RowReasons(raw.index)
    ids = _require(raw, "customer_id", reasons, key=True)
    long = too_long_keys(ids, "customer_id", max_id_chars)
    reasons.add(long.notna(), long)

    given_clv = _text(raw, "clv")
    amounts, clv_problem = parse_amounts(given_clv)  # money, as transactions' amounts are
    scientific = given_clv.str.contains(r"\d[eE][+-]?\d", regex=True).fillna(False)
    clv = amounts.fillna(parse_numbers(given_clv).where(scientific))  # 1.2e3 is 1200
    reasons.add(given_clv.notna() & clv.isna(), "bad_clv: " + clv_problem.fillna(""))
    reasons.add(clv.notna() & _personal(given_clv), "bad_clv: " + _NOT_MONEY)
    reasons.add(clv < 0, "bad_clv: " + clv.astype("string") + " is negative")
    reasons.add(clv > max_amount, "bad_clv: " + _shown(given_clv) + _too_large(max_amount))

    given_churned = _text(raw, "churned")
    churned, bad_churned = parse_bools(given_churned)
    reasons.add(
        bad_churned, "bad_churned: " + _shown(given_churned) + " is not true/false/1/0/yes/no"
    )

    given_at = _text(raw, "churned_at")
    churned_at = parse_timestamps(given_at)
    reasons.add(
        given_at.notna() & churned_at.isna(),
        "bad_churned_at: " + _ts_shown(given_at),
    )
    churned = churned.mask(churned.isna() & churned_at.notna(), True)

    bad = reasons.values.notna().to_numpy(dtype=bool)
    valid_ids = ids.where(~bad)
    repeat = (valid_ids.notna() & valid_ids.duplicated(keep="first")).to_numpy(dtype=bool)
    if repeat.any():
        first = {}
        for pos, cid in enumerate(valid_ids.tolist()):
            if isinstance(cid, str) and cid not in first:
                first[cid] = f"{raw[_FILE].iloc[pos]}:{raw[ROW_NUMBER].iloc[pos]}"
        where = valid_ids.map(lambda c: first.get(c, "") if isinstance(c, str) else "").astype(
            "string"
        )
        reasons.add(
            pd.Series(repeat, index=raw.index), "duplicate_customer_id: first kept at " + where
        )
    bad = reasons.values.notna().to_numpy(dtype=bool)

    segments = [c for c in raw.columns if c not in (*CUSTOMERS.names, ROW_NUMBER, _FILE)]
    rest = pd.DataFrame({c: _text(raw, c) for c in segments}, index=raw.index)[~bad]
    columns = {"customer_id": ids, "clv": clv, "churned": churned, "churned_at": churned_at}
    customers = _typed(
        {k: v[~bad] for k, v in columns.items()}, CUSTOMERS.columns, rest, pseudonym_key
    )
    entries += _quarantine(raw, bad, reasons.values, ids, "customers")
    return customers, quarantine_frame(entries, pseudonym_key)


def read_transactions(
    path: str | Path,
    *,
    pseudonym_key: bytes,
    max_amount: float | None = None,
    max_id_chars: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(transactions, quarantine) from a transactions export.

    ``customer_id``, ``date`` (ISO 8601, stored UTC) and ``amount`` (a finite number;
    text such as ``1,200,000 ریال`` or ``12,5`` is read by
    :func:`cxtext.value.amounts.parse_amount`, else quarantined with its reason) are
    required. Negative amounts are kept: they are refunds, and whether to net them or
    drop them is the value stage's decision, not a data error. Rows are not deduplicated
    (the same amount twice on one day is a normal second purchase). Other columns are
    kept as strings. Ids are pseudonymized under ``pseudonym_key`` as in feedback. An
    amount beyond ±``max_amount`` (default: the shipped ``ingest.max_amount``) is ``bad_amount``,
    and a customer_id longer than ``max_id_chars`` is ``customer_id_too_long``.
    """
    max_amount = _limit(max_amount)
    raw, entries = _read_raw(path, "transactions")
    reasons = RowReasons(raw.index)
    ids = _require(raw, "customer_id", reasons, key=True)
    long = too_long_keys(ids, "customer_id", max_id_chars)
    reasons.add(long.notna(), long)
    given_date = _require(raw, "date", reasons)
    date = parse_timestamps(given_date)
    reasons.add(
        given_date.notna() & date.isna(),
        "bad_date: " + _ts_shown(given_date),
    )
    given_amount = _require(raw, "amount", reasons)
    amount, amount_problem = parse_amounts(given_amount)  # text amounts: cxtext/value/amounts.py
    reasons.add(given_amount.notna() & amount.isna(), "bad_amount: " + amount_problem.fillna(""))
    reasons.add(amount.notna() & _personal(given_amount), "bad_amount: " + _NOT_MONEY)
    reasons.add(
        amount.abs() > max_amount, "bad_amount: " + _shown(given_amount) + _too_large(max_amount)
    )

    bad = reasons.values.notna().to_numpy(dtype=bool)
    others = [c for c in raw.columns if c not in (*TRANSACTIONS.names, ROW_NUMBER, _FILE)]
    rest = pd.DataFrame({c: _text(raw, c) for c in others}, index=raw.index)[~bad]
    columns = {"customer_id": ids, "date": date, "amount": amount}
    transactions = _typed(
        {k: v[~bad] for k, v in columns.items()}, TRANSACTIONS.columns, rest, pseudonym_key
    )
    entries += _quarantine(raw, bad, reasons.values, ids, "transactions")
    return transactions, quarantine_frame(entries, pseudonym_key)


def _side_losses(
    tables: Mapping[str, pd.DataFrame | None], quarantine: pd.DataFrame
) -> Iterator[tuple[str, pd.DataFrame, pd.DataFrame, str]]:
    """(kind, rows kept, rows quarantined, file name as shown) of each side file given
    that lost rows."""
    for kind, table in tables.items():
        mine = quarantine[quarantine["source"] == kind]
        if table is not None and len(mine):
            yield kind, table, mine, redact_file_name(Path(str(mine["source_file"].iloc[0])).name)


def check_side_accepted(
    tables: Mapping[str, pd.DataFrame | None], quarantine: pd.DataFrame
) -> None:
    """Raise :class:`~cxtext.errors.InputRejected` when a customers or transactions file
    was given and read but none of its rows was kept.

    Ranking on without them (every customer at the default value, the churn prior for
    uplift) is not what the run was asked for, so it stops before anything is stored, as
    it does for a feedback file whose every row is quarantined. ``tables`` maps
    ``customers``/``transactions`` to the frame read (None: no file given); an empty
    file (no rows, nothing quarantined) is not rejected.
    """
    for kind, table, mine, name in _side_losses(tables, quarantine):
        if len(table):
            continue
        top = reason_summary(reason_counts(mine["reason"]), most=3)
        first = redact_pii(str(mine["reason"].iloc[0]))[:300]
        raise InputRejected(
            f"input rejected: every row of the {kind} file {name} quarantined ({top});"
            f" first: {first}; nothing was stored"
        )


def side_quarantine_notes(
    tables: Mapping[str, pd.DataFrame | None], quarantine: pd.DataFrame
) -> list[str]:
    """One line per customers/transactions file that lost rows, for the run's warnings.

    The per-file table counts feedback files only; without this a customers file losing
    rows (an ambiguous ``1.234``, a negative clv) was said nowhere but the quarantine table.

    >>> q = pd.DataFrame({"source": ["customers"] * 2, "source_file": ["x/crm.csv"] * 2,
    ...                   "reason": ["bad_clv: '-5' is negative", "bad_clv: 'x'"]})
    >>> side_quarantine_notes({"customers": pd.DataFrame({"customer_id": ["C1"]})}, q)
    ['customers file crm.csv: 2 of 3 rows quarantined (bad_clv 2): `cxtext quarantine` lists them']
    """
    notes = []
    for kind, table, mine, name in _side_losses(tables, quarantine):
        codes = reason_summary(reason_counts(mine["reason"]))
        notes.append(
            f"{kind} file {name}: {len(mine):,} of {len(mine) + len(table):,} rows quarantined"
            f" ({codes}): `cxtext quarantine` lists them"
        )
    return notes
