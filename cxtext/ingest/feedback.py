"""The ingest stage's entry point: files in, validated and deduplicated batches out.

One :class:`IngestBatch` per partition read, so the flow can hand each to the next stage
as it comes and memory stays bounded by ``partition_rows``. Over a run,
``sum(read) == sum(len(records)) + sum(len(quarantine)) + sum(duplicates)``.
"""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxtext.display import reason_summary
from cxtext.errors import InputRejected
from cxtext.ingest.dedupe import SeenKeys
from cxtext.ingest.readers import (
    RawPartition,
    discover_files,
    read_partitions,
    skipped_partition,
    source_name,
)
from cxtext.ingest.sources import SourceSpec, column_renames
from cxtext.ingest.validate import quarantine_frame, reason_counts, validate_rows
from cxtext.normalize.pii import redact_file_name, redact_pii
from cxtext.schema import CHANNELS, QUARANTINE, RECORD, conform

log = logging.getLogger(__name__)
LISTED_ONLY = ("unsupported_file", "skipped_file")  # files listed in quarantine, never read


@dataclass
class IngestBatch:
    """One partition of one file after validation and deduplication."""

    records: pd.DataFrame  # conformed to schema.RECORD, deduplicated against the run so far
    quarantine: pd.DataFrame  # schema.QUARANTINE columns; run_id null (the flow fills it)
    read: int  # rows read for this batch (an unreadable file counts as 1)
    duplicates: int
    source_file: str = ""


@dataclass
class FileTally:
    """One input file's accounting over a run: ``read == kept + quarantined + duplicates``."""

    read: int = 0
    kept: int = 0
    quarantined: int = 0
    duplicates: int = 0
    unsupported: bool = False  # only listed, not read (unsupported_file or skipped_file)
    reasons: dict[str, int] = field(default_factory=dict)  # quarantined rows per reason code

    def add(self, batch: IngestBatch) -> None:
        reasons = batch.quarantine["reason"].astype("string")
        self.unsupported = bool(reasons.str.startswith(LISTED_ONLY).any())
        for code, n in reason_counts(reasons).items():
            self.reasons[code] = self.reasons.get(code, 0) + n
        self.read += batch.read
        self.kept += len(batch.records)
        self.quarantined += len(batch.quarantine)
        self.duplicates += batch.duplicates

    @property
    def balanced(self) -> bool:
        return self.read == self.kept + self.quarantined + self.duplicates


def _broken_quarantine(part: RawPartition, pseudonym_key: bytes) -> pd.DataFrame:
    return quarantine_frame(part.quarantine_entries(source_name(part.source_file)), pseudonym_key)


CONFLICT = "conflicting_duplicate"


def _conflict_quarantine(conflicts: pd.DataFrame, source_file: str, key: bytes) -> pd.DataFrame:
    """Rows repeating a kept key with another text: held in quarantine, never dropped as copies.

    The first row of a key in a run is the one kept (as for plain duplicates); the other
    text stays in ``raw_redacted`` for a person to decide which one is right.
    """
    if not len(conflicts):
        return QUARANTINE.empty()
    log.warning(
        "%s: %d row(s) repeat an id already read in this run with another text: "
        "the first kept, these quarantined as %s",
        redact_file_name(source_file),
        len(conflicts),
        CONFLICT,
    )
    raw_columns = [
        c for c in ("id", "text", "created_at", "channel", "customer_id") if c in conflicts
    ]
    return quarantine_frame(
        (
            {
                "source": row["source"],
                "source_file": source_file,
                "source_row": row.get("source_row"),
                "id": row["id"],
                "reason": (
                    f"{CONFLICT}: {source_file} line {row.get('source_row')}: id "
                    f"{str(row['id'])[:60]!r} was already read in this run with another text; "
                    "the first kept, this one held here for review"
                ),
                "raw": {c: None if pd.isna(row[c]) else str(row[c]) for c in raw_columns},
            }
            for row in conflicts.to_dict("records")
        ),
        key,
    )


def ingest_together(
    parts: Sequence[RawPartition],
    seen: SeenKeys,
    *,
    spec: SourceSpec,
    max_text_chars: int,
    min_text_chars: int,
    default_channel: str,
    not_after: pd.Timestamp | None,
    not_before: pd.Timestamp | None = None,
    pseudonym_key: bytes,
    max_id_chars: int | None = None,
) -> list[IngestBatch]:
    """One batch per part, the parts (of one source, with the same columns) validated in
    one call: validation costs ~25 ms a call whatever its size, so a folder of 3,000
    one-ticket files took 225 CPU-s one by one. Deduplication stays in file order.
    """
    renames = column_renames(parts[0].rows.columns, spec.columns)
    sizes = [len(part.rows) for part in parts]
    bounds = np.cumsum([0, *sizes])
    one = len(parts) == 1
    rows = parts[0].rows if one else pd.concat([p.rows for p in parts], ignore_index=True)
    kinds: dict[str, pd.Series] = {}
    for col in dict.fromkeys(c for p in parts for c in p.kinds):
        kinds[renames.get(col, col)] = pd.concat(
            [p.kinds.get(col, pd.Series(pd.NA, index=p.rows.index, dtype="string")) for p in parts],
            ignore_index=True,
        )

    def per_row(values: list[str]) -> pd.Series:  # object: a name may hold lone surrogates
        return pd.Series(np.repeat(np.array(values, dtype=object), sizes), dtype=object)

    records, rejected = validate_rows(
        rows.rename(columns=renames),
        source_file=parts[0].source_file if one else per_row([p.source_file for p in parts]),
        default_source=(
            source_name(parts[0].source_file)
            if one
            else per_row([source_name(p.source_file) for p in parts])
        ),
        max_text_chars=max_text_chars,
        min_text_chars=min_text_chars,
        default_channel=spec.channel or default_channel,
        kinds=kinds,
        not_after=not_after,
        not_before=not_before,
        date_format=spec.date_format,
        timezone=spec.timezone,
        pseudonym_key=pseudonym_key,
        max_id_chars=max_id_chars,
    )
    batches = []
    for k, part in enumerate(parts):
        if one:
            mine, theirs = records, rejected
        else:
            lo, hi = bounds[k], bounds[k + 1]
            mine = records[(records.index >= lo) & (records.index < hi)].reset_index(drop=True)
            theirs = rejected[(rejected.index >= lo) & (rejected.index < hi)]
        kept, duplicates, conflicts = seen.keep_first(mine)
        broken = _broken_quarantine(part, pseudonym_key)
        conflicting = _conflict_quarantine(conflicts, part.source_file, pseudonym_key)
        found = [q for q in (broken, theirs, conflicting) if len(q)]
        quarantine = (
            conform(pd.concat(found, ignore_index=True), QUARANTINE)
            if found
            else QUARANTINE.empty()
        )
        batches.append(IngestBatch(kept, quarantine, part.read, duplicates, part.source_file))
    return batches


def iter_feedback(
    paths: Sequence[str | Path | SourceSpec],
    *,
    partition_rows: int,
    max_text_chars: int,
    min_text_chars: int,
    default_channel: str,
    not_after: pd.Timestamp | None = None,
    not_before: pd.Timestamp | None = None,
    small_file_rows: int = 0,
    columns: Mapping[str, str] | None = None,
    pseudonym_key: bytes,
    only: Collection[str] | None = None,
    max_id_chars: int | None = None,
) -> Iterator[IngestBatch]:
    """Batches of validated, deduplicated feedback from files and folders, file by file.

    ``only``: read just these of the files found (an incremental run's changed files;
    marker files are still listed). ``not_after`` / ``not_before``: the latest and
    earliest plausible ``created_at`` (``future_date`` / ``past_date``); files of at most
    ``small_file_rows`` rows are validated together; ids longer than ``max_id_chars`` are
    quarantined (the run passes ``ingest.*``; ``max_id_chars`` defaults to the shipped one).

    ``paths`` are files, folders, globs or :class:`SourceSpec` s; ``columns`` (the
    ``--columns`` map) applies to the plain paths; ``pseudonym_key`` is the warehouse's
    secret for ids that are personal data (:mod:`cxtext.normalize.pseudonym_key`). Bad rows and unreadable files go to
    each batch's quarantine and never stop the run; a path that does not exist, or a
    setting that makes no sense, raises at once (before anything is read) because that is
    the caller's mistake, not the data's; so does finding no file at all
    (:class:`~cxtext.errors.InputRejected`). Every file yields at least one batch (an
    empty one for an empty file), so each can be accounted for.
    """
    if partition_rows < 1:
        raise ValueError(f"partition_rows must be at least 1, got {partition_rows}")
    if default_channel not in CHANNELS:
        raise ValueError(f"default_channel {default_channel!r} is not one of {', '.join(CHANNELS)}")
    if not 0 <= min_text_chars <= max_text_chars:
        raise ValueError(
            f"need 0 <= min_text_chars <= max_text_chars, got {min_text_chars} and {max_text_chars}"
        )
    files = input_files(paths, columns)
    if only is not None:
        files = [(f, spec, skip) for f, spec, skip in files if skip or f in only]
    return _noting_copies(
        _batches(
            files,
            partition_rows,
            max_text_chars,
            min_text_chars,
            default_channel,
            {
                "not_after": not_after,
                "not_before": not_before,
                "pseudonym_key": pseudonym_key,
                "max_id_chars": max_id_chars,
            },
            small_file_rows,
        )
    )


COPY_PROBE_ROWS = 50  # a file's first kept rows, compared with earlier files' first rows


def _noting_copies(batches: Iterator[IngestBatch]) -> Iterator[IngestBatch]:
    """The batches, with a warning for a file whose first rows repeat another file's.

    A second download of an export (``tickets (1).csv``, ``social_copy.jsonl.gz``) is
    another source, since the source is the file's name, so its documents are stored and
    counted twice. Only said, not undone: two systems may share ids and texts on purpose.
    Costs one set of at most :data:`COPY_PROBE_ROWS` hashes a file.
    """
    probes = _CopyProbes()
    current: str | None = None
    for batch in batches:
        if batch.source_file != current and current is not None:
            probes.say_copy(current)
        current = batch.source_file
        probes.add(current, batch.records)
        yield batch
    if current is not None:
        probes.say_copy(current)


@dataclass
class _CopyProbes:
    """Each file's first rows as (id, text) hashes, indexed by the hash of its first row."""

    probes: dict[str, frozenset[int]] = field(default_factory=dict)
    by_first: dict[int, list[str]] = field(default_factory=dict)
    first_of: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, records: pd.DataFrame) -> None:
        probe = self.probes.get(name, frozenset())
        if len(probe) >= COPY_PROBE_ROWS or not len(records):
            return
        head = records.head(COPY_PROBE_ROWS - len(probe))
        pairs = list(map(hash, zip(head["id"], head["text"], strict=True)))
        if name not in self.first_of:
            self.first_of[name] = pairs[0]
            self.by_first.setdefault(pairs[0], []).append(name)
        self.probes[name] = probe | frozenset(pairs)

    def say_copy(self, name: str) -> None:
        """Warn when the first rows of ``name``, a file just read, repeat an earlier file's."""
        probe = self.probes.get(name, frozenset())
        if len(probe) < 5:  # a few rows alike say little
            return
        alike = self.by_first[self.first_of[name]]
        copied = next((f for f in alike if f != name and probe <= self.probes[f]), None)
        if copied is not None:
            log.warning(
                "%s: its first %d rows repeat %s's (same ids and texts): a second copy? Its"
                " documents are stored as another source; remove the copy, or give both"
                " files one `source`",
                redact_file_name(name),
                len(probe),
                redact_file_name(Path(copied).name),
            )


def input_files(
    paths: Sequence[str | Path | SourceSpec], columns: Mapping[str, str] | None = None
) -> list[tuple[str, SourceSpec, bool]]:
    """(file, its source, skipped) for every file found (a file named twice counts once).

    ``skipped`` marks hidden and marker files (``_SUCCESS``), listed but not read. Raises
    :class:`~cxtext.errors.InputRejected` when a path does not exist or no file to read
    is found: the run must say so and fail, not complete over no data.
    """
    specs = [
        p if isinstance(p, SourceSpec) else SourceSpec(str(p), columns=dict(columns or {}))
        for p in paths
    ]
    try:
        found = [(discover_files(spec.files()), spec) for spec in specs]
    except FileNotFoundError as err:
        raise InputRejected(f"{err}: check the path, or the source's path in the settings") from err
    if not any(files for (files, _), _ in found):
        given = ", ".join(spec.path for spec in specs) or "(nothing given)"
        hidden = [redact_file_name(Path(s).name) for (_, skipped), _ in found for s in skipped]
        also = f" (only hidden or marker files: {', '.join(hidden[:5])})" if hidden else ""
        raise InputRejected(f"no feedback file found in {given}{also}: nothing to read")
    entries = [
        (f, spec, skip)
        for (files, skipped), spec in found
        for f, skip in [*((f, True) for f in skipped), *((f, False) for f in files)]
    ]
    return list({f: (f, spec, skip) for f, spec, skip in entries}.values())


def _batches(
    files: list[tuple[str, SourceSpec, bool]],
    partition_rows: int,
    max_text_chars: int,
    min_text_chars: int,
    default_channel: str,
    checks: dict[str, Any],
    small_file_rows: int,
) -> Iterator[IngestBatch]:
    """Files of at most ``small_file_rows`` rows are validated together (ingest_together)."""
    seen = SeenKeys()
    settings = {
        "max_text_chars": max_text_chars,
        "min_text_chars": min_text_chars,
        "default_channel": default_channel,
        **checks,
    }
    held: list[RawPartition] = []  # small files waiting to be validated together
    held_spec: SourceSpec | None = None

    def release() -> list[IngestBatch]:
        nonlocal held
        out = ingest_together(held, seen, spec=held_spec, **settings) if held else []
        held = []
        return out

    for file, spec, skip in files:
        empty = True
        parts = (
            [skipped_partition(file)]
            if skip
            else read_partitions(file, partition_rows, spec.sheet, spec.columns.values())
        )
        for part in parts:
            empty = False
            small = part.read <= small_file_rows and not skip
            fits = (
                held
                and spec is held_spec
                and list(part.rows.columns) == list(held[0].rows.columns)
                and sum(p.read for p in held) + part.read <= partition_rows
            )
            if held and not (small and fits):
                yield from release()
            if small:
                held.append(part)
                held_spec = spec
                continue
            yield from ingest_together([part], seen, spec=spec, **settings)
        if empty:
            yield from release()  # in file order
            yield IngestBatch(RECORD.empty(), QUARANTINE.empty(), 0, 0, file)
    yield from release()


def check_accepted(tallies: Mapping[str, FileTally], quarantine_reasons: pd.Series) -> None:
    """Raise :class:`~cxtext.errors.InputRejected` when the run would store nothing useful.

    That is: no row kept at all, or a file whose every row was quarantined (a nightly job
    must show red, not "completed" over a misnamed column). Files listed only as
    ``unsupported_file`` or ``skipped_file`` do not count as sources, nor do files whose
    rows repeat ids already read (duplicates or conflicting duplicates: a re-sent export
    with edits); partial quarantine is a success.
    """
    lost = [
        f"{redact_file_name(Path(file).name)} ({t.quarantined} of {t.read} rows quarantined)"
        for file, t in tallies.items()
        if t.read
        and not t.kept
        and not t.duplicates
        and not t.reasons.get(CONFLICT)  # rows read before, in another file: not a lost file
        and not _only_unsupported(t)
    ]
    kept = sum(t.kept for t in tallies.values())
    if not lost and kept:
        return
    codes = reason_counts(quarantine_reasons)
    top = reason_summary(codes, most=4) or "none"
    first = _first_missing_column(quarantine_reasons)
    what = f"every row quarantined in {', '.join(lost)}" if lost else "no feedback row kept"
    empty = [redact_file_name(Path(file).name) for file, t in tallies.items() if not t.read]
    if empty and not lost:  # say which files held nothing, not just "reasons: none"
        shown = ", ".join(empty[:5]) + (f" and {len(empty) - 5} more" if len(empty) > 5 else "")
        what += f" ({len(empty)} file(s) empty or header-only: {shown})"
    if first is None:  # nothing is stored, so `cxtext quarantine` could not show it: say it
        shown = quarantine_reasons.dropna()
        first = f"first: {redact_pii(str(shown.iloc[0]))[:300]}" if len(shown) else None
    hint = f"; {first}" if first else ""
    reasons = f" (reasons: {top})" if codes else ""
    raise InputRejected(f"input rejected: {what}{reasons}{hint}; nothing was stored")


def _only_unsupported(tally: FileTally) -> bool:
    return tally.read == 1 and tally.quarantined == 1 and tally.unsupported


def _first_missing_column(reasons: pd.Series) -> str | None:
    """The missing-column hints of the first row that has one, as one line.

    ``no 'text' column; found: ticket_id, comment, date — did you mean --columns
    text=comment?`` for one column; several are merged into one ``--columns`` suggestion.
    """
    text = reasons.astype("string")
    has = text[text.str.contains("column; found: ", regex=False).fillna(False)]
    if not len(has):
        return None
    hints = re.findall(r"no '(\w+)' column; found: ([^;]*?)(?: — (.*?))?(?:;|$)", has.iloc[0])
    if len(hints) == 1:
        name, found, advice = hints[0]
        return f"no {name!r} column; found: {found}" + (f" — {advice}" if advice else "")
    names = ", ".join(repr(h[0]) for h in hints)
    pairs = [m.group(1) for h in hints if (m := re.search(r"--columns '?(\w+=[^?']+)'?\?", h[2]))]
    advice = f" — did you mean --columns {shlex.quote(','.join(pairs))}?" if pairs else ""
    return f"no {names} columns; found: {hints[0][1]}{advice}"
