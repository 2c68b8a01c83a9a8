"""New documents only, in partitions of a fixed size: what a nightly run has to classify.

:func:`iter_new_records` wraps :func:`cxtext.ingest.feedback.iter_feedback` for an
incremental run: files whose watermark is unchanged are not read at all, documents
already stored (asked through ``stored_keys``, which the pipeline binds to the
warehouse) are skipped, and what remains is cut into partitions of ``partition_rows``
across file boundaries (ninety small daily files make a few large partitions, not
ninety tiny tasks). A backfill passes a date range and no ``stored_keys``: every
document in the range is processed again. :class:`IngestTally` accounts for every row:
``read == kept + quarantined + duplicates`` and ``kept == new + stored``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pandas as pd

from cxtext.ingest.feedback import FileTally, iter_feedback
from cxtext.ingest.sources import SourceSpec
from cxtext.ingest.watermark import batch_marks, combine_marks, in_range, keep_new
from cxtext.normalize.pii import redact_file_name
from cxtext.schema import QUARANTINE, conform

StoredKeys = Callable[[pd.DataFrame], pd.Series]  # (source, id) rows -> stored? per row


@dataclass
class IngestTally:
    """Counts, quarantined rows and watermark marks of what :func:`iter_new_records` read."""

    read: int = 0
    kept: int = 0  # valid, not duplicates
    duplicates: int = 0
    new: int = 0  # handed on to be classified
    stored: int = 0  # kept, but already in the warehouse: skipped
    out_of_range: int = 0  # kept, but outside a backfill's dates: skipped
    quarantine: list[pd.DataFrame] = field(default_factory=list)
    marks: list[pd.DataFrame] = field(default_factory=list)
    files: dict[str, FileTally] = field(default_factory=dict)  # per file read

    def quarantined(self) -> pd.DataFrame:
        frames = [q for q in self.quarantine if len(q)]
        return (
            conform(pd.concat(frames, ignore_index=True), QUARANTINE)
            if frames
            else QUARANTINE.empty()
        )

    def watermark_marks(self) -> pd.DataFrame:
        return combine_marks(self.marks)


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
) -> Iterator[pd.DataFrame]:
    """Validated records to classify, ``partition_rows`` at a time (the last one shorter).

    Of the files under ``paths`` reads only ``read`` (those whose watermark changed);
    updates ``tally`` as it goes.
    """
    buffer: list[pd.DataFrame] = []
    buffered = 0
    if not read:
        return
    for batch in iter_feedback(
        paths,
        columns=columns,
        only=set(read),
        partition_rows=partition_rows,
        max_text_chars=max_text_chars,
        min_text_chars=min_text_chars,
        default_channel=default_channel,
        not_after=not_after,
        pseudonym_key=pseudonym_key,
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
            records, stored = keep_new(records, stored_keys(records[["source", "id"]]))
            tally.stored += stored
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
