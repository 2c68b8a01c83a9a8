"""Every output table to files a spreadsheet or a data tool opens: CSV or Parquet.

CSV is written as UTF-8 with a byte-order mark, so Excel shows Persian text instead of
mojibake, and timestamps in ISO 8601 UTC. A text cell that a spreadsheet would run as a
formula (feedback starting ``=HYPERLINK(...)``) is written with a leading ``'``. Tables with money columns carry a
``currency`` column (stored with the figures, or the settings' currency for tables
stored without one), so a figure never travels without its unit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from cxtext.schema import TABLES
from cxtext.store.warehouse import Warehouse

FORMATS = ("csv", "parquet")
MONEY_TABLES = ("customer_value", "pain_points", "discovered_themes", "follow_ups")


# OWASP's CSV-injection triggers; a plain signed number ("-5", "+98.5") is left as it is
_FORMULA = re.compile(r"[=+\-@\t\r]")
_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)*(?:[eE][+-]?\d+)?")


def formula_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would evaluate, prefixed with ``'`` (shown, never run).

    Feedback is written by anyone: ``=HYPERLINK("http://evil", "click")`` in a ticket
    would become a live link, or a command, when an analyst opens the export in Excel.

    >>> formula_safe(pd.DataFrame({"t": ["=1+1", "-5", "@ali ok", "fine"]}))["t"].tolist()
    ["'=1+1", '-5', "'@ali ok", 'fine']
    """
    out = df.copy()
    for column in out.columns:
        values = out[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        text = values.astype("string")
        risky = text.str.match(_FORMULA) & ~text.str.fullmatch(_NUMBER)
        risky = risky.fillna(False).astype(bool)
        if risky.any():
            out.loc[risky, column] = "'" + values[risky].astype(str)
    return out


def write_table(df: pd.DataFrame, path: Path, fmt: str) -> Path:
    """One frame as ``path`` in ``fmt``, written to a temporary name first."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if fmt == "csv":
        formula_safe(df).to_csv(
            tmp, index=False, encoding="utf-8-sig", date_format="%Y-%m-%dT%H:%M:%S%z"
        )
    else:
        df.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def export_tables(
    wh: Warehouse, folder: Path, fmt: str, currency: str, names: Iterable[str] | None = None
) -> dict[str, Path]:
    """``folder/<table>.<fmt>`` for each named table (default: all); returns the paths."""
    wanted = list(names) if names else list(TABLES)
    unknown = [n for n in wanted if n not in TABLES]
    if unknown:
        raise ValueError(f"unknown table {unknown[0]!r}; tables: {', '.join(TABLES)}")
    written = {}
    for name in wanted:
        df = wh.read_table(name)
        if name in MONEY_TABLES:
            if "currency" not in df.columns:
                df["currency"] = currency
            else:
                df["currency"] = df["currency"].fillna(currency)
        written[name] = write_table(df, Path(folder) / f"{name}.{fmt}", fmt)
    return written
