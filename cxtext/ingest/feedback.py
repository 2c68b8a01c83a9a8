"""The ingest stage's entry point: files in, validated and deduplicated batches out.

One :class:`IngestBatch` per partition read, so the flow can hand each to the next stage
as it comes and memory stays bounded by ``partition_rows``. Over a run,
``sum(read) == sum(len(records)) + sum(len(quarantine)) + sum(duplicates)``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cxtext.ingest.dedupe import SeenKeys
from cxtext.ingest.readers import RawPartition, discover_files, read_partitions, source_name
from cxtext.ingest.validate import quarantine_frame, validate_rows
from cxtext.schema import CHANNELS, QUARANTINE, conform

log = logging.getLogger(__name__)


@dataclass
class IngestBatch:
    """One partition of one file after validation and deduplication."""

    records: pd.DataFrame  # conformed to schema.RECORD, deduplicated against the run so far
    quarantine: pd.DataFrame  # schema.QUARANTINE columns; run_id null (the flow fills it)
    read: int  # rows read for this batch (an unreadable file counts as 1)
    duplicates: int


def _broken_quarantine(part: RawPartition) -> pd.DataFrame:
    source = source_name(part.source_file)
    return quarantine_frame(
        {
            "source": source,
            "source_file": part.source_file,
            "source_row": b.source_row,
            "reason": b.reason,
            "raw": b.raw,
        }
        for b in part.broken
    )


def ingest_partition(
    part: RawPartition,
    seen: SeenKeys,
    *,
    max_text_chars: int,
    min_text_chars: int,
    default_channel: str,
) -> IngestBatch:
    """Validate one raw partition and drop keys already kept in this run (``seen`` is updated)."""
    records, rejected = validate_rows(
        part.rows,
        source_file=part.source_file,
        default_source=source_name(part.source_file),
        max_text_chars=max_text_chars,
        min_text_chars=min_text_chars,
        default_channel=default_channel,
        kinds=part.kinds,
    )
    records, duplicates = seen.keep_first(records)
    broken = _broken_quarantine(part)
    parts = [q for q in (broken, rejected) if len(q)]
    quarantine = (
        conform(pd.concat(parts, ignore_index=True), QUARANTINE) if parts else QUARANTINE.empty()
    )
    return IngestBatch(records, quarantine, part.read, duplicates)


def iter_feedback(
    paths: Sequence[str | Path],
    *,
    partition_rows: int,
    max_text_chars: int,
    min_text_chars: int,
    default_channel: str,
) -> Iterator[IngestBatch]:
    """Batches of validated, deduplicated feedback from files and folders, file by file.

    Bad rows and unreadable files go to each batch's quarantine and never stop the run; a
    path that does not exist, or a setting that makes no sense, raises at once (before
    anything is read) because that is the caller's mistake, not the data's.
    """
    if partition_rows < 1:
        raise ValueError(f"partition_rows must be at least 1, got {partition_rows}")
    if default_channel not in CHANNELS:
        raise ValueError(f"default_channel {default_channel!r} is not one of {', '.join(CHANNELS)}")
    if not 0 <= min_text_chars <= max_text_chars:
        raise ValueError(
            f"need 0 <= min_text_chars <= max_text_chars, got {min_text_chars} and {max_text_chars}"
        )
    files = discover_files(paths)
    if not files:
        log.warning("no feedback files found under %s", [str(p) for p in paths])
    return _batches(files, partition_rows, max_text_chars, min_text_chars, default_channel)


def _batches(
    files: list[str],
    partition_rows: int,
    max_text_chars: int,
    min_text_chars: int,
    default_channel: str,
) -> Iterator[IngestBatch]:
    seen = SeenKeys()
    for file in files:
        for part in read_partitions(file, partition_rows):
            yield ingest_partition(
                part,
                seen,
                max_text_chars=max_text_chars,
                min_text_chars=min_text_chars,
                default_channel=default_channel,
            )
