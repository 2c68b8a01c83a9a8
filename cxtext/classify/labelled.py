"""Labelled and to-be-scored files, read by the same readers as the nightly ingest.

Training, evaluation and prediction files go through :func:`cxtext.ingest.readers.read_partitions`,
so they get the same encoding detection (UTF-8 with or without BOM, UTF-16,
Windows-1256), the same formats and the same column-name matching as feedback: a file
the nightly run reads, ``cxtext train`` reads the same way. Lines that cannot be parsed
are counted and named, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cxtext.ingest.readers import ROW_NUMBER, BrokenRow, column_name, read_partitions

READ_CHUNK_ROWS = 50_000


@dataclass
class LabelledFile:
    """A whole file as text columns (missing cells are ``pd.NA``), plus its broken lines."""

    path: Path
    rows: pd.DataFrame
    broken: list[BrokenRow] = field(default_factory=list)
    encoding: str | None = None
    kinds: dict[str, pd.Series] = field(default_factory=dict)  # JSON kind of non-text cells

    def texts(self, name: str) -> tuple[list[str | None], list[str]]:
        """A column's cells as text (None when missing or not text) and why a cell is not text.

        A JSON number or object in a text column is not text, as ingest rules it.
        """
        column = self.column(name)
        kinds = self.kinds.get(column)
        values, reasons = [], []
        for i, value in enumerate(self.rows[column].tolist()):
            kind = None if kinds is None or pd.isna(kinds.iloc[i]) else str(kinds.iloc[i])
            values.append(None if kind or pd.isna(value) else str(value))
            reasons.append(f"not text ({kind})" if kind else "")
        return values, reasons

    def column(self, name: str) -> str:
        """The frame's column for a user-given name (case and spaces ignored), or raise."""
        wanted = column_name(name)
        if wanted in self.rows.columns:
            return wanted
        found = ", ".join(map(str, self.rows.columns)) or "none"
        raise KeyError(f"{self.path}: no column {name!r}; columns are {found}")

    def broken_summary(self) -> str:
        """One line naming the unreadable lines ("" when there are none)."""
        if not self.broken:
            return ""
        lines = ", ".join(str(b.source_row) for b in self.broken[:5])
        more = f" and {len(self.broken) - 5} more" if len(self.broken) > 5 else ""
        return f"{self.path}: {len(self.broken)} unreadable line(s) skipped: {lines}{more} ({self.broken[0].reason})"


def read_labelled(path: str | Path) -> LabelledFile:
    """Read a CSV/TSV/JSONL/JSON/Parquet file (and whatever ingest reads) into one frame.

    A file that cannot be read at all raises ``ValueError`` with the reader's reason.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    frames, kinds, broken, encoding = [], [], [], None
    for part in read_partitions(path, READ_CHUNK_ROWS):
        encoding = encoding or part.encoding
        broken += part.broken
        if len(part.rows):
            frames.append(part.rows.drop(columns=[ROW_NUMBER], errors="ignore"))
            kinds.append(pd.DataFrame(part.kinds, index=part.rows.index, dtype="string"))
    whole = [b for b in broken if b.source_row == 0]
    if whole and not frames:
        raise ValueError(whole[0].reason)
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    kind_frame = pd.concat(kinds, ignore_index=True) if kinds else pd.DataFrame()
    return LabelledFile(path, rows, broken, encoding, {c: kind_frame[c] for c in kind_frame})
