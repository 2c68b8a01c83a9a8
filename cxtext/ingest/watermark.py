"""Watermarks: what a nightly run has already read, so the next one reads only what is new.

A watermark is one row per input file (:data:`cxtext.schema.WATERMARKS`): its size and
SHA-256 when it was last read, the documents kept from it and the newest
``created_at`` (with that document's id). A run skips a file whose fingerprint is
unchanged without reading it; a changed file (a daily export that grew, a corrected
re-export) is read again and only the documents whose key is not stored yet are
classified. A document whose text changed under the same key is not detected: that is
what ``cxtext backfill --from --to`` is for (it ignores the watermarks for a date range).
The warehouse persists the watermarks in the run's own transaction, so a failed run
leaves the previous watermarks, and its files are read again next time.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from cxtext.normalize.pii import redact_file_name
from cxtext.schema import WATERMARKS, conform

_BLOCK = 1 << 20


@dataclass(frozen=True)
class Fingerprint:
    """Size and content hash of a file: equal fingerprints mean the same bytes."""

    size: int
    sha256: str


def fingerprint(path: str | Path) -> Fingerprint:
    """The file's size and SHA-256 (read in 1 MiB blocks: ~1 s per GB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return Fingerprint(Path(path).stat().st_size, digest.hexdigest())


def file_key(path: str) -> str:
    """How a file is named in the watermarks table: redacted, plus a hash of its real path.

    File names can hold personal data (exports named after a customer), so the stored
    name is redacted; the hash keeps two files whose names redact alike apart.

    >>> file_key("in/0912 345 6789.csv").startswith("in/[PHONE].csv#")
    True
    """
    digest = hashlib.sha256(os.fsencode(str(path))).hexdigest()[:16]  # a name's own bytes
    return f"{redact_file_name(str(path))}#{digest}"


@dataclass
class FilePlan:
    """Which files a run reads, and what it skips without reading."""

    read: list[str]
    unchanged: list[str] = field(default_factory=list)
    skipped_documents: int = 0  # documents of unchanged files, kept by earlier runs
    fingerprints: dict[str, Fingerprint] = field(default_factory=dict)


def plan_files(
    files: Sequence[str], stored: pd.DataFrame, fingerprints: dict[str, Fingerprint]
) -> FilePlan:
    """Split ``files`` into those to read and those whose stored watermark is still true.

    ``stored`` holds WATERMARKS rows (keyed by :func:`file_key`); a file with no row, or
    whose size or hash differs, is read.

    Examples
    --------
    >>> fp = {"a.csv": Fingerprint(10, "x"), "b.csv": Fingerprint(5, "y")}
    >>> marks = pd.DataFrame({"source_file": [file_key("a.csv"), file_key("b.csv")], "size": [10, 5],
    ...                       "sha256": ["x", "old"], "documents": [7, 3]})
    >>> plan = plan_files(["a.csv", "b.csv"], marks, fp)
    >>> plan.read, plan.unchanged, plan.skipped_documents
    (['b.csv'], ['a.csv'], 7)
    """
    by_file = {row.source_file: row for row in stored.itertuples(index=False)}
    plan = FilePlan(read=[], fingerprints=dict(fingerprints))
    for file in files:
        mark, fp = by_file.get(file_key(file)), fingerprints[file]
        if mark is not None and int(mark.size) == fp.size and mark.sha256 == fp.sha256:
            plan.unchanged.append(file)
            plan.skipped_documents += int(mark.documents) if pd.notna(mark.documents) else 0
        else:
            plan.read.append(file)
    return plan


def file_marks(records: pd.DataFrame) -> pd.DataFrame:
    """Per ``source_file`` of validated records: documents, newest created_at and its id."""
    if records.empty:
        return WATERMARKS.empty()
    return conform(batch_marks(records), WATERMARKS)


def batch_marks(records: pd.DataFrame) -> pd.DataFrame:
    """:func:`file_marks` before typing: what a run collects per batch read.

    Typing a one-row frame to the table's eight columns costs more than finding the
    marks (~6 of ~12 ms a batch, ninety daily files a night); :func:`combine_marks`
    types the run's marks once.
    """
    keys = records[["source_file", "created_at", "id"]]  # sorted alone, not with the texts
    ordered = keys.sort_values(["created_at", "id"], kind="stable")
    last = ordered.groupby("source_file", sort=True).tail(1).set_index("source_file")
    counts = keys.groupby("source_file").size()
    return pd.DataFrame(
        {
            "source_file": last.index,
            "documents": counts.reindex(last.index).to_numpy(),
            "newest_created_at": last["created_at"].to_numpy(),
            "newest_id": last["id"].to_numpy(),
        }
    )


def combine_marks(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Marks of several batches of the same run merged per file (documents add up)."""
    frames = [p for p in parts if len(p)]
    if not frames:
        return WATERMARKS.empty()
    both = pd.concat(frames, ignore_index=True).sort_values(
        ["newest_created_at", "newest_id"], kind="stable"
    )
    newest = both.groupby("source_file", sort=True).tail(1).set_index("source_file")
    documents = both.groupby("source_file")["documents"].sum()
    newest["documents"] = documents.reindex(newest.index)
    return conform(newest.reset_index(), WATERMARKS)


def new_watermarks(
    marks: pd.DataFrame, plan: FilePlan, run_id: str, now: pd.Timestamp
) -> pd.DataFrame:
    """The rows a run stores for the files it read: their fingerprints and marks.

    A read file that kept no document still gets a row (0 documents), so an unchanged
    empty or all-quarantined file is not read again.
    """
    marks = marks.set_index("source_file") if len(marks) else None
    rows = []
    for file in plan.read:
        fp = plan.fingerprints[file]
        mark = marks.loc[file] if marks is not None and file in marks.index else None
        rows.append(
            {
                "source_file": file_key(file),
                "size": fp.size,
                "sha256": fp.sha256,
                "documents": int(mark["documents"]) if mark is not None else 0,
                "newest_created_at": mark["newest_created_at"] if mark is not None else pd.NaT,
                "newest_id": mark["newest_id"] if mark is not None else None,
                "run_id": run_id,
                "updated_at": now,
            }
        )
    return conform(pd.DataFrame(rows, columns=WATERMARKS.names), WATERMARKS)


class NewRecords(NamedTuple):
    records: pd.DataFrame  # to process: new keys, edited texts, rows stored without a hash
    stored: int  # stored already with this very text: skipped
    edited: int  # stored with another text: processed again, the new text replaces it
    unhashed: int  # stored by a cxtext that kept no text hash: processed again once


def keep_new(records: pd.DataFrame, stored: pd.Series) -> NewRecords:
    """The records a run has to process, given each one's stored ``text_hash``.

    ``stored`` is aligned with ``records`` (:meth:`Warehouse.stored_text_hashes`): ``<NA>``
    for a key not stored, ``""`` for a row stored before hashes were kept. A key stored
    with the same text is skipped; with another text (a ticket edited between two
    exports) it is processed again and replaces the stored row, instead of the warehouse
    keeping the first text for ever. A row without a hash cannot be compared: it is
    processed again once, and from then on has one.

    >>> recs = pd.DataFrame({"id": ["1", "2", "3", "4"], "text_hash": ["a", "b", "c", "d"]})
    >>> out = keep_new(recs, pd.Series([pd.NA, "b", "x", ""], dtype="string"))
    >>> out.records["id"].tolist(), out.stored, out.edited, out.unhashed
    (['1', '3', '4'], 1, 1, 1)
    """
    known = stored.notna().to_numpy(dtype=bool)
    hashes = stored.fillna("").to_numpy(dtype=object)
    unhashed = known & (hashes == "")
    same = known & ~unhashed & (hashes == records["text_hash"].to_numpy(dtype=object))
    edited = known & ~unhashed & ~same
    return NewRecords(
        records[~same].reset_index(drop=True),
        int(same.sum()),
        int(edited.sum()),
        int(unhashed.sum()),
    )


def in_range(
    records: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> pd.DataFrame:
    """Records with ``start <= created_at < end`` (a backfill's range; either bound optional)."""
    keep = pd.Series(True, index=records.index)
    if start is not None:
        keep &= records["created_at"] >= start
    if end is not None:
        keep &= records["created_at"] < end
    return records[keep.to_numpy()].reset_index(drop=True)
