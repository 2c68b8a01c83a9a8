"""New documents only, in partitions of a fixed size: what a nightly run has to classify.

:func:`iter_new_records` wraps :func:`cxtext.ingest.feedback.iter_feedback` for an
incremental run: files whose watermark is unchanged are not read at all, documents
already stored (asked through ``stored_keys``, which the pipeline binds to the
warehouse) are skipped, and what remains is cut into partitions of ``partition_rows``
across file boundaries (ninety small daily files make a few large partitions, not
ninety tiny tasks). A backfill passes a date range and no ``stored_keys``: every
document in the range is processed again. A stored key read with another text (a ticket
edited between two exports) is processed again and replaces the stored document (its raw
text's hash is stored with it). :class:`IngestTally` accounts for every row:
``read == kept + quarantined + duplicates`` and ``kept == new + stored`` (``new`` includes
the ``edited`` ones).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd

from cxtext.ingest.feedback import FileTally, iter_feedback
from cxtext.ingest.sources import SourceSpec
from cxtext.ingest.watermark import batch_marks, combine_marks, in_range, keep_new
from cxtext.normalize.pii import redact_file_name
from cxtext.schema import QUARANTINE, conform

# (source, id) rows -> each one's stored text_hash (<NA>: not stored; see Warehouse.stored_text_hashes)
StoredKeys = Callable[[pd.DataFrame], pd.Series]


@dataclass
class IngestTally:
    """Counts, quarantined rows and watermark marks of what :func:`iter_new_records` read."""

    read: int = 0
    kept: int = 0  # valid, not duplicates
    duplicates: int = 0
    new: int = 0  # handed on to be classified
    stored: int = 0  # kept, but already in the warehouse with the same text: skipped
    edited: int = 0  # of ``new``: stored by an earlier run with another text, replaced
    unhashed: int = 0  # of ``new``: stored by a cxtext that kept no text hash, processed again
    out_of_range: int = 0  # kept, but outside a backfill's dates: skipped
    quarantine: list[pd.DataFrame] = field(default_factory=list)
    marks: list[pd.DataFrame] = field(default_factory=list)
    files: dict[str, FileTally] = field(default_factory=dict)  # per file read
    # Ingest's warnings (a conflicting duplicate, a repeated column, mixed encodings), for
    # the run to say with its other warnings (on screen after the table, and in `runs`)
    notes: list[str] = field(default_factory=list)

    def quarantined(self) -> pd.DataFrame:
        frames = [q for q in self.quarantine if len(q)]
        return (
            conform(pd.concat(frames, ignore_index=True), QUARANTINE)
            if frames
            else QUARANTINE.empty()
        )

    def watermark_marks(self) -> pd.DataFrame:
        return combine_marks(self.marks)

    def warnings(self) -> list[str]:
        """:attr:`notes` once each, at most :data:`NOTES_SHOWN` of them and a count of the rest."""
        unique = list(dict.fromkeys(self.notes))
        if len(unique) <= NOTES_SHOWN:
            return unique
        rest = len(unique) - NOTES_SHOWN
        return [
            *unique[:NOTES_SHOWN],
            f"ingest: {rest} more warning(s) like these; the per-file table names the files",
        ]


NOTES_SHOWN = 20  # a folder of 3,000 damaged files must not print 3,000 lines


class _Notes(logging.Handler):
    """Collects ingest's warnings into a list instead of the console; passes the rest on.

    Without it they printed as raw log lines above the progress bars, before the run said
    anything else, and were not kept in the run's record.
    """

    def __init__(self, notes: list[str], parent: logging.Logger):
        super().__init__()
        self.notes, self.parent = notes, parent

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.notes.append(record.getMessage())
        else:
            self.parent.handle(record)  # info (encodings found, files skipped) for --verbose


def _note_replaced(notes: list[str], source_file: str, edited: int, unhashed: int) -> None:
    name = redact_file_name(source_file)
    if edited:
        notes.append(
            f"{name}: {edited} document(s) stored by an earlier run have another text here "
            "(edited since): re-normalized, re-classified and stored with the new text"
        )
    if unhashed:
        notes.append(
            f"{name}: {unhashed} document(s) stored by an older cxtext (no text hash) read "
            "again: processed once more so that a later edit is caught"
        )


@contextmanager
def _collecting(notes: list[str]) -> Iterator[None]:
    logger = logging.getLogger("cxtext.ingest")
    handler = _Notes(notes, logging.getLogger("cxtext"))
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def iter_new_records(
    paths: list[str | SourceSpec],
    read: list[str],
    tally: IngestTally,
    *,
    stored_keys: StoredKeys | None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    partition_rows: int,
    max_text_chars: int,
    min_text_chars: int,
    default_channel: str,
    pseudonym_key: bytes,
    columns: dict[str, str] | None = None,
    not_after: pd.Timestamp | None = None,
    not_before: pd.Timestamp | None = None,
    small_file_rows: int = 0,
    max_id_chars: int | None = None,
) -> Iterator[pd.DataFrame]:
    """Validated records to classify, ``partition_rows`` at a time (the last one shorter).

    Of the files under ``paths`` reads only ``read`` (those whose watermark changed);
    updates ``tally`` as it goes.
    """
    buffer: list[pd.DataFrame] = []
    buffered = 0
    if not read:
        return
    with _collecting(tally.notes):
        for batch in iter_feedback(
            paths,
            columns=columns,
            only=set(read),
            partition_rows=partition_rows,
            max_text_chars=max_text_chars,
            min_text_chars=min_text_chars,
            default_channel=default_channel,
            not_after=not_after,
            not_before=not_before,
            small_file_rows=small_file_rows,
            pseudonym_key=pseudonym_key,
            max_id_chars=max_id_chars,
        ):
            tally.files.setdefault(redact_file_name(batch.source_file), FileTally()).add(batch)
            tally.read += batch.read
            tally.duplicates += batch.duplicates
            tally.kept += len(batch.records)
            tally.quarantine.append(batch.quarantine)
            records = batch.records
            if not len(records):
                continue
            tally.marks.append(batch_marks(records))
            if start is not None or end is not None:
                ranged = in_range(records, start, end)
                tally.out_of_range += len(records) - len(ranged)
                records = ranged
            if stored_keys is not None and len(records):
                kept = keep_new(records, stored_keys(records[["source", "id"]]))
                records = kept.records
                tally.stored += kept.stored
                tally.edited += kept.edited
                tally.unhashed += kept.unhashed
                _note_replaced(tally.notes, batch.source_file, kept.edited, kept.unhashed)
            tally.new += len(records)
            if len(records):
                buffer.append(records)
                buffered += len(records)
            while buffered >= partition_rows:
                joined = pd.concat(buffer, ignore_index=True)
                yield joined.iloc[:partition_rows].reset_index(drop=True)
                rest = joined.iloc[partition_rows:].reset_index(drop=True)
                buffer, buffered = ([rest] if len(rest) else []), len(rest)
    if buffered:
        yield pd.concat(buffer, ignore_index=True)
