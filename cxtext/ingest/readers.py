"""Readers: find feedback files and stream them as partitions of raw text rows.

Every value is read as text so that validation, not a parser's guess, decides types (an
id "00123" stays "00123"). A broken line becomes a :class:`BrokenRow` with the file and
line in its reason and never stops the file; a file that cannot be read at all becomes
one broken row with ``source_row`` 0. CSV, TSV, JSON lines and Parquet are streamed,
never loaded whole; a ``.json`` file is (an array cannot be cut up before it is parsed),
so large exports should be JSON lines.
"""

from __future__ import annotations

import csv
import datetime
import errno
import itertools
import json
import logging
import os
import re
import sys
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cxtext.ingest.encoding import (
    SAMPLE_BYTES,
    Detection,
    decode_report,
    detect_file_encoding,
    open_bytes,
    read_until_cut,
    sniff_binary,
    text_lines,
)
from cxtext.normalize.pii import SHEET_LABEL, printable_name, redact_file_name, redact_pii
from cxtext.schema import CUSTOMERS, OPTIONAL_INPUT, REQUIRED_INPUT, TRANSACTIONS

log = logging.getLogger(__name__)

FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".txt": "txt",  # Excel's "Text (Tab delimited)" / "Unicode Text": read if it has a header
}
# Formats read as a stream of text, so they may also come gzipped (tickets.csv.gz).
GZIPPED = ("csv", "tsv", "txt", "jsonl", "json")


# What reading a damaged .gz raises part way (BadGzipFile is an OSError).
CUT_SHORT = (OSError, EOFError, zlib.error)


class NotATableError(Exception):
    """A ``.txt`` file whose first row names no column: plain text, listed, not read."""


def file_format(name: str) -> str | None:
    """The reader for a file name (``.csv.gz`` is CSV, gunzipped as it is read), or None.

    >>> file_format("exports/Tickets.CSV.gz"), file_format("book.xlsx.gz")
    ('csv', None)
    """
    lower = name.lower()
    if lower.endswith(".gz"):
        fmt = FORMATS.get(Path(lower[:-3]).suffix)
        return fmt if fmt in GZIPPED else None
    return FORMATS.get(Path(lower).suffix)


ROW_NUMBER = (
    "source_row"  # the column readers add: 1-based line (text files) or row (Parquet, JSON array)
)

# A quoted CSV field may hold newlines; an unclosed quote must not swallow the rest of the
# file, so a record gives up after this many lines or characters and reading resumes at
# the line after the one that opened the quote. The caps are far above any real text
# (``ingest.max_text_chars``) so that one oversized field that does close is one record,
# which validation then quarantines as ``text_too_long``, not one broken row per line.
MAX_RECORD_LINES = 1_000_000
MAX_RECORD_CHARS = 64_000_000
_DELIMITERS = (",", ";", "\t", "|")
# A JSON value nested deeper than this is refused as broken_json: later steps (redaction of
# nested metadata, JSON dumps) walk values recursively, and real exports nest a few levels.
MAX_JSON_DEPTH = 100
MAX_TITLE_ROWS = 5  # rows above a header skipped as a report's title, at most
# Names that mark a row as a header, not a title above it: every table's input columns
# (a source's own names are added by the caller, see read_partitions).
HEADER_NAMES = frozenset([*REQUIRED_INPUT, *OPTIONAL_INPUT, *CUSTOMERS.names, *TRANSACTIONS.names])


class UnreadableFileError(Exception):
    """The file as a whole cannot be read as a table (binary, bad header, corrupt)."""


@dataclass(frozen=True)
class BrokenRow:
    """A line that could not be parsed into fields: it goes to quarantine as it was."""

    source_row: int  # 1-based line, or 0 for the file as a whole
    reason: str
    raw: dict[str, str | None]


@dataclass
class RawPartition:
    """Up to ``partition_rows`` rows of one file, every value a string or null.

    ``rows`` has one ``string`` column per input column, named as :func:`column_name`
    normalizes it, plus :data:`ROW_NUMBER`. ``kinds`` records, per column, values that
    were not strings in a typed format (JSON numbers and objects, Parquet binary), so
    validation can tell a text from a number that happens to print like one.
    """

    source_file: str
    encoding: str | None
    rows: pd.DataFrame
    broken: list[BrokenRow] = field(default_factory=list)
    kinds: dict[str, pd.Series] = field(default_factory=dict)

    @property
    def read(self) -> int:
        return len(self.rows) + len(self.broken)

    def quarantine_entries(self, source: str) -> list[dict[str, Any]]:
        """Its broken rows as quarantine entries, kept as they were read."""
        return [
            {
                "source": source,
                "source_file": self.source_file,
                "source_row": b.source_row,
                "reason": b.reason,
                "raw": b.raw,
            }
            for b in self.broken
        ]


def column_name(name: object) -> str:
    """Column names are matched case-insensitively, with surrounding whitespace, NULs and
    invisible characters (BOM, zero-width space, LRM/RLM and other bidi marks: an RTL
    editor's header) removed.

    Examples
    --------
    >>> column_name("\\ufeff Created_At ")
    'created_at'
    >>> column_name("\\u200fid\\u200b\\x00")
    'id'
    >>> column_name("createdAt"), column_name("CustomerID"), column_name("ticketId")
    ('created_at', 'customer_id', 'ticketid')

    A camelCase name (an API's JSON, a JavaScript tool's CSV) whose words make a known
    column is that column; other names are only lower-cased, so metadata keys and segment
    names stay as earlier runs stored them.
    """
    cleaned = _INVISIBLE_IN_NAMES.sub("", str(name)).strip()
    snake = _CAMEL_HUMP.sub("_", cleaned).lower()
    return snake if snake != cleaned.lower() and snake in HEADER_NAMES else cleaned.lower()


_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


# Cf format characters (BOM, ZWSP, bidi marks; not ZWNJ/ZWJ, which Persian names may hold)
# and control characters other than whitespace.
_INVISIBLE_IN_NAMES = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f\u00ad\u061c\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff]"
)


def unique_names(names: Iterable[object]) -> list[str]:
    """Normalized names; blanks become ``column_N`` and repeats get ``_2``, ``_3`` suffixes."""
    out: list[str] = []
    taken: set[str] = set()  # a set: a 20,000-column header took a minute with a list
    for i, raw in enumerate(names, 1):
        name = column_name(raw) or f"column_{i}"
        base, n = name, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        out.append(name)
        taken.add(name)
    return out


# --- discovery -------------------------------------------------------------------


def discover_files(paths: Sequence[str | Path]) -> tuple[list[str], list[str]]:
    """(files to read, files and folders skipped) under ``paths``, as path strings.

    A folder contributes every file (recursively, sorted), whatever its suffix: an
    unsupported one (a ``.txt`` or ``.docx`` export) is then reported in quarantine as
    ``unsupported_file``. Linked folders are followed, each real folder once. Returned as
    skipped, so the caller can list them (``skipped_file``, see :func:`skip_reason`):
    hidden and ``_`` names (``_SUCCESS``, ``.DS_Store``, a ``_temporary/`` folder, the
    topmost one once), entries that are not regular files (a broken symbolic link, a
    FIFO), a file or folder reached a second time through a link, and a folder that
    cannot be listed. Every entry found is accounted for. A file named directly is read
    whatever its name. A missing path raises.
    """
    found: list[str] = []
    skipped: list[str] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise FileNotFoundError(f"feedback input not found: {str(given)!r}")
        if path.is_dir():
            seen.add(path.resolve())
            _walk_folder(path, found, skipped, seen)
        else:
            found.append(str(given))
    found = _once_per_file(list(dict.fromkeys(found)), skipped)
    return found, list(dict.fromkeys(skipped))


def _walk_folder(folder: Path, found: list[str], skipped: list[str], seen: set[Path]) -> None:
    """Fill ``found`` and ``skipped`` with the entries under ``folder``, sorted, depth first."""
    try:
        entries = sorted(folder.iterdir())
    except OSError:  # unreadable folder: listed, so it is never silently missed
        skipped.append(str(folder))
        return
    for p in entries:
        if p.name.startswith((".", "_")) or not (p.is_file() or p.is_dir()):
            skipped.append(str(p))
            continue
        if p.is_file():
            found.append(str(p))
            continue
        real = p.resolve()
        if real in seen:  # a link loop, or a folder linked twice
            skipped.append(str(p))
            continue
        seen.add(real)
        _walk_folder(p, found, skipped, seen)


def _once_per_file(found: list[str], skipped: list[str]) -> list[str]:
    """``found`` with each real file once: its own path is kept over a link's to it."""
    by_file: dict[Path, list[str]] = {}
    for name in found:
        by_file.setdefault(Path(name).resolve(), []).append(name)
    keep = set()
    for real, names in by_file.items():
        first = next((n for n in names if Path(n).absolute() == real), names[0])
        keep.add(first)
        skipped.extend(n for n in names if n != first)
    return [n for n in found if n in keep]


def skip_reason(name: str) -> str:
    """Why a file or folder found under an input folder is listed but not read."""
    path = Path(name)
    if path.name.startswith((".", "_")):
        return "hidden or marker name (starts with '.' or '_'), not read; rename it or name it directly to read it"
    if path.is_symlink() and not path.exists():
        try:
            os.stat(path)
        except OSError as err:
            if err.errno == errno.ELOOP:
                return (
                    "symbolic link loop (its links lead back to themselves); fix or remove the link"
                )
        return "broken symbolic link (its target is missing); fix or remove the link"
    if not (path.is_file() or path.is_dir()):
        return "not a regular file (a FIFO, socket or device), not read"
    if path.is_dir() and not os.access(path, os.R_OK | os.X_OK):
        return "folder cannot be listed (permissions); fix them to read its files"
    return "the same file or folder as one already found (through a symbolic link), read once"


def skipped_partition(name: str) -> RawPartition:
    """A file or folder listed but not read as one ``skipped_file`` row (:func:`skip_reason`)."""
    why = skip_reason(name)
    log.info("skipped %s: %s", redact_file_name(name), why)
    return _whole_file_broken(name, f"skipped_file: {Path(name).name}: {why}")


def source_name(source_file: str) -> str:
    """The default source of a file: its name without suffix (``tickets`` for ``tickets.csv``
    and ``tickets.csv.gz``, ``book`` for every sheet of ``book.xlsx``).

    Made printable (:func:`~cxtext.normalize.pii.printable_name`): it is stored and shown.
    """
    path = Path(SHEET_LABEL.sub("", source_file))  # a sheet named "v1.2" is no suffix
    if path.suffix.lower() == ".gz" and file_format(source_file):
        path = path.with_suffix("")
    return printable_name(path.stem)


# --- entry point -------------------------------------------------------------------


def read_partitions(
    source_file: str | Path,
    partition_rows: int,
    sheet: str | None = None,
    header_names: Iterable[str] = (),
) -> Iterator[RawPartition]:
    """Stream ``source_file`` as partitions of at most ``partition_rows`` rows (lines).

    An unsupported or unreadable file yields one partition holding one broken row with
    ``source_row`` 0; if it breaks after some rows were read, those rows stand. ``sheet``
    picks one sheet of a workbook (default: every sheet). ``header_names`` are the
    source's own column names (a ``--columns`` map's), which tell a header from a title
    row above it (:func:`past_titles`) besides :data:`HEADER_NAMES`.
    """
    headers = HEADER_NAMES | {column_name(n) for n in header_names}
    if partition_rows < 1:
        raise ValueError(f"partition_rows must be at least 1, got {partition_rows}")
    name = str(source_file)
    fmt = file_format(name)
    if fmt is None:
        known = ", ".join(sorted(FORMATS)) + "; " + ", ".join(f"{f}.gz" for f in GZIPPED)
        why = _archive_hint(name) or f"expected one of {known}"
        log.warning("unsupported file %s (%s): listed in quarantine", redact_file_name(name), why)
        yield _whole_file_broken(name, f"unsupported_file: {name}: {why}")
        return
    readers: dict[str, Callable[[str, int], Iterator[RawPartition]]] = {
        "csv": lambda n, size: _read_csv(n, size, headers),
        "tsv": lambda n, size: _read_csv(n, size, headers),
        "txt": lambda n, size: _read_csv(n, size, headers, plain_text_is_not_a_table=True),
        "jsonl": _read_jsonl,
        "json": lambda n, size: _read_json(n, size, headers),
        "parquet": _read_parquet,
        "xlsx": lambda n, size: _read_xlsx(n, size, sheet, headers),
    }
    reader = readers[fmt]
    done = 0
    try:
        for part in reader(name, partition_rows):
            done += part.read
            yield part
    except NotATableError as err:
        log.warning("unsupported file %s: %s", redact_file_name(name), err)
        yield _whole_file_broken(name, f"unsupported_file: {name}: {err}")
    except (
        *CUT_SHORT,
        ValueError,
        csv.Error,
        pa.ArrowException,
        UnreadableFileError,
    ) as err:
        where = f" (after {done} rows)" if done else ""
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        message = redact_pii(message)  # a parser may quote the line it failed on
        if isinstance(err, PermissionError):
            message += " (fix the file's permissions for the user the run runs as)"
        log.warning("unreadable file %s%s: %s", redact_file_name(name), where, message)
        yield _whole_file_broken(name, f"unreadable_file: {name}{where}: {message}")


def _archive_hint(name: str) -> str | None:
    """What a ``.zip`` holds and how to have it read (a CRM's download is often one), else None.

    Its members are not read in place: the run's per-file accounting, watermarks and
    ``source_file`` name files on disk.
    """
    if not name.lower().endswith(".zip"):
        return None
    try:
        with zipfile.ZipFile(name) as archive:
            members = [m for m in archive.namelist() if not m.endswith("/")]
    except (OSError, zipfile.BadZipFile):
        return "a .zip that cannot be opened; .zip archives are not read"
    shown = ", ".join(redact_file_name(m) for m in members[:3])
    more = f" and {len(members) - 3} more" if len(members) > 3 else ""
    return f"a zip archive ({len(members)} file(s): {shown}{more}): unzip it to have them read"


def _whole_file_broken(name: str, reason: str) -> RawPartition:
    return RawPartition(name, None, _frame([], []), [BrokenRow(0, reason, {"file": name})])


def _frame(
    records: list[dict[str, str | None]] | list[list[str]], names: list[str] | None
) -> pd.DataFrame:
    """A string-typed frame of raw rows; ``names`` given for list rows (CSV)."""
    if names is not None:  # built as strings at once: a per-column cast cost 7 s for 20,000
        df = pd.DataFrame(records, columns=[*names, ROW_NUMBER], dtype="string")
    else:
        df = pd.DataFrame.from_records(records) if records else pd.DataFrame({ROW_NUMBER: []})
        df = df.astype({c: "string" for c in df.columns if c != ROW_NUMBER})
    df[ROW_NUMBER] = df[ROW_NUMBER].astype("Int64")
    return df


class _Batcher:
    """Collects rows and broken rows of one file and cuts them into partitions."""

    def __init__(self, source_file: str, encoding: str | None, size: int):
        self.source_file, self.encoding, self.size = source_file, encoding, size
        self.rows: list = []
        self.broken: list[BrokenRow] = []
        self.kinds: list[tuple[int, str, str]] = []  # (row position, column, kind)
        self.names: list[str] | None = None  # a CSV's header, once read

    def full(self) -> bool:
        return len(self.rows) + len(self.broken) >= self.size

    def flush(self, names: list[str] | None = None) -> RawPartition:
        try:
            df = _frame(self.rows, names)
        except (ValueError, TypeError, pa.ArrowException):
            df = self._frame_row_by_row(names)
        # One column of kinds built at once: a Series per noted value (setdefault built its
        # default every time) and an .iloc write each made a JSON-lines read quadratic in
        # the partition's rows (20k rows with a number and an object each: 19 of 21 CPU-s).
        columns: dict[str, list[str | None]] = {}
        for pos, col, kind in self.kinds:
            if col not in columns:
                columns[col] = [None] * len(df)
            columns[col][pos] = kind  # a position noted twice: the last note, as before
        kinds = {c: pd.Series(v, index=df.index, dtype="string") for c, v in columns.items()}
        part = RawPartition(self.source_file, self.encoding, df, self.broken, kinds)
        self.rows, self.broken, self.kinds = [], [], []
        return part

    def _frame_row_by_row(self, names: list[str] | None) -> pd.DataFrame:
        """The frame without the rows that cannot be held as text; they become broken rows."""
        good, moved = [], {}
        for pos, row in enumerate(self.rows):
            number = row[ROW_NUMBER] if isinstance(row, dict) else row[-1]
            try:
                _frame([row], names)
            except (ValueError, TypeError, pa.ArrowException) as err:
                why = str(err).splitlines()[0] if str(err) else type(err).__name__
                reason = f"unreadable_row: {self.source_file} line {number}: {why}"
                self.broken.append(BrokenRow(number, reason, {}))
            else:
                moved[pos] = len(good)
                good.append(row)
        self.rows = good
        self.kinds = [(moved[p], c, k) for p, c, k in self.kinds if p in moved]
        return _frame(good, names)


def _text_file_encoding(name: str) -> Detection:
    """Detected encoding of a text export; raises for files that are plainly not text."""
    detection = detect_file_encoding(Path(name))
    with open_bytes(name) as f:
        head = read_until_cut(f, SAMPLE_BYTES)
    why = sniff_binary(head, detection.encoding)
    if why:
        raise UnreadableFileError(why)
    log.info("%s: encoding %s (%s)", redact_file_name(name), detection.encoding, detection.method)
    return detection


# --- CSV / TSV ---------------------------------------------------------------------


def _parse_record(text: str, delimiter: str) -> list[str] | csv.Error:
    """Fields of one record (strict RFC 4180 quoting), or the parse error."""
    if '"' not in text:  # most lines: no quoting, so a plain split is exact (and ~10x faster)
        return text.rstrip("\r\n").split(delimiter)
    if csv.field_size_limit() < MAX_RECORD_CHARS:  # the default 128 kB would break a long field
        csv.field_size_limit(MAX_RECORD_CHARS)
    try:
        rows = list(csv.reader([text], delimiter=delimiter, strict=True))
    except csv.Error as err:
        return err
    if len(rows) != 1:
        return csv.Error("record spans several rows")
    return rows[0]


def _unclosed(err: csv.Error) -> bool:
    return str(err).startswith("unexpected end of data")


def _fits(fields: list[str], width: int | None) -> list[str] | None:
    """Fields cut to ``width``: trailing empty extras (Excel pads rows) are dropped."""
    if width is None or len(fields) == width:
        return fields
    if len(fields) > width and not any(f.strip() for f in fields[width:]):
        return fields[:width]
    return None


def _csv_records(
    lines: Iterator[tuple[int, str]], delimiter: str, width_of: Callable[[], int | None], name: str
) -> Iterator[tuple[int, str, list[str] | None, str | None]]:
    """(first line, raw text, fields or None, broken reason or None) per CSV record.

    A record whose quote is still open at its line end takes more lines until the quote
    closes and the whole parses to the header's width; if that fails within the caps,
    only its first line is broken and the lines after it are read again on their own.
    """
    pending: deque[tuple[int, str]] = deque()

    def next_line() -> tuple[int, str] | None:
        return pending.popleft() if pending else next(lines, None)

    while (item := next_line()) is not None:
        start, text = item
        if not text.strip():
            continue
        width = width_of()
        parsed = _parse_record(text, delimiter)
        if isinstance(parsed, list):
            fields = _fits(parsed, width)
            if fields is None:
                reason = f"wrong_field_count: {name} line {start}: {len(parsed)} fields, header has {width}"
                yield start, text, None, reason
            else:
                yield start, text, fields, None
            continue
        if not _unclosed(parsed):
            yield start, text, None, f"broken_csv_quoting: {name} line {start}: {parsed}"
            continue
        buf, size, quotes, fields = [item], len(text), text.count('"'), None
        while fields is None and len(buf) < MAX_RECORD_LINES and size < MAX_RECORD_CHARS:
            nxt = next_line()
            if nxt is None:
                break
            buf.append(nxt)
            size += len(nxt[1])
            quotes += nxt[1].count('"')
            if quotes % 2 == 0:
                whole = _parse_record("".join(t for _, t in buf), delimiter)
                if isinstance(whole, list):
                    fields = _fits(whole, width)
                    if fields is None:
                        break
                elif not _unclosed(whole):
                    break
        if fields is not None:
            yield start, "".join(t for _, t in buf), fields, None
        else:
            yield (
                start,
                text,
                None,
                f"broken_csv_quoting: {name} line {start}: quote opened here is never closed",
            )
            pending.extendleft(reversed(buf[1:]))


_EXCEL_SEPARATOR = re.compile(r"sep=(.)", re.IGNORECASE)


def _sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most columns (comma on ties)."""
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _read_csv(
    name: str, size: int, header_names: Collection[str], plain_text_is_not_a_table: bool = False
) -> Iterator[RawPartition]:
    """Rows of a delimited text file; a ``.txt`` (``plain_text_is_not_a_table``) only when
    its header names a column, else :class:`NotATableError` before any row is read."""
    detection = _text_file_encoding(name)
    batch = _Batcher(name, detection.encoding, size)
    tab = file_format(name) == "tsv"
    lines = enumerate(text_lines(Path(name), detection), 1)
    header_line = next((item for item in lines if item[1].strip()), None)
    said = _EXCEL_SEPARATOR.fullmatch(header_line[1].strip()) if header_line else None
    if said:  # Excel's "sep=;" line names the delimiter; the header follows it
        header_line = next((item for item in lines if item[1].strip()), None)
    if header_line is None:
        return  # empty file: nothing to read
    delimiter = said.group(1) if said else "\t" if tab else _sniff_delimiter(header_line[1])
    lines_filled = (item for item in lines if item[1].strip())
    header_line, lines, titles = past_titles(
        header_line, lines_filled, lambda item: _parse_record(item[1], delimiter), header_names
    )
    _log_titles(name, titles)
    records = _csv_records(
        _chain(header_line, lines),
        delimiter,
        lambda: None if batch.names is None else len(batch.names),
        name,
    )
    yield from _until_cut(
        batch, _csv_partitions(records, batch, header_names, plain_text_is_not_a_table)
    )


def _until_cut(batch: _Batcher, partitions: Iterator[RawPartition]) -> Iterator[RawPartition]:
    """``partitions``; where a .gz is cut short, the rows read so far stand, then the
    error goes on to :func:`read_partitions`, which reports the file."""
    try:
        yield from partitions
    except CUT_SHORT:
        if batch.rows or batch.broken:
            yield batch.flush(batch.names)
        raise


def _csv_partitions(
    records: Iterator[tuple[int, str, list[str] | None, str | None]],
    batch: _Batcher,
    header_names: Collection[str],
    plain_text_is_not_a_table: bool,
) -> Iterator[RawPartition]:
    names: list[str] | None = None
    header: list[str] = []
    last = ""
    repeated: list[int] = []  # lines repeating the header: two exports concatenated
    for start, text, fields, reason in records:
        if names is None:
            if plain_text_is_not_a_table and not _names(fields) & set(header_names):
                raise NotATableError(
                    "plain text, not a table: its first line names no column (id, text, "
                    "created_at); one feedback per line has no id or date to keep, so save "
                    "it as CSV with those columns (a .txt with such a header is read)"
                )
            if fields is None:
                raise UnreadableFileError(f"header line {start} cannot be parsed: {reason}")
            names = batch.names = unique_names(fields)
            header, last = fields, fields[-1].strip() if fields else ""
            continue
        if fields is not None and not "".join(fields).strip():
            continue  # a row of empty cells is a blank line, not a document
        if (
            fields is not None
            and len(fields) == len(header)
            and fields[-1].strip() == last  # cheap first: most rows stop here
            and [column_name(f) for f in fields] == [column_name(f) for f in header]
        ):
            repeated.append(start)  # not a row: `cat a.csv b.csv` repeats the header
            continue
        if fields is None:
            batch.broken.append(BrokenRow(start, reason or "broken_csv", {"line": text}))
        else:
            batch.rows.append([*fields, start])
        if batch.full():
            yield batch.flush(names)
    if repeated:
        log.warning(
            "%s: the header is repeated at line(s) %s (exports concatenated?): not read as rows",
            redact_file_name(batch.source_file),
            ", ".join(map(str, repeated[:5]))
            + (f" and {len(repeated) - 5} more" if len(repeated) > 5 else ""),
        )
    if batch.rows or batch.broken:
        yield batch.flush(names)


def _filled(fields: object) -> int:
    """Non-blank fields of a parsed row (0 for a parse error)."""
    if not isinstance(fields, list):
        return 0
    return sum(1 for f in fields if f is not None and str(f).strip())


def _names(fields: object) -> set[str]:
    """A parsed row's cells as column names would be matched (:func:`column_name`)."""
    if not isinstance(fields, list):
        return set()
    return {column_name(f) for f in fields if f is not None and str(f).strip()}


def past_titles(
    first: Any,
    rest: Iterator[Any],
    fields_of: Callable[[Any], object],
    header_names: Collection[str] = HEADER_NAMES,
) -> tuple[Any, Iterator[Any], list[Any]]:
    """(header row, the rows after it, the title rows skipped) of non-blank rows.

    Report tools write a title ("Tickets export, May 2024") above the header; taken as
    the header, it made every row a wrong_field_count or a missing column. A row is a
    title when the next row has more filled fields and either it has one filled field
    (so a one-column file keeps its header) or it names none of ``header_names`` while
    the next row names one (a title with a comma, ``Export, May 2024``, is two fields).
    At most :data:`MAX_TITLE_ROWS` are skipped. One-field rows naming no column stacked
    above a wider row (a report's name, then its date, each in merged cells) are titles
    together: each alone is followed by a row as narrow as itself.
    """
    known = set(header_names)
    head = [first, *itertools.islice(rest, MAX_TITLE_ROWS)]
    fields = [fields_of(row) for row in head]

    def lone_title(j: int) -> bool:
        return _filled(fields[j]) == 1 and not _names(fields[j]) & known

    i = 0
    while i < len(head) - 1 and (filled := _filled(fields[i])) >= 1:
        j = i + 1
        while lone_title(i) and j < len(head) - 1 and lone_title(j):
            j += 1
        after = fields[j]
        title = _filled(after) > filled and (
            filled == 1 or (not _names(fields[i]) & known and bool(_names(after) & known))
        )
        if not title:
            break
        i = j
    return head[i], _chain_all(head[i + 1 :], rest), head[:i]


def _log_titles(name: str, titles: list[Any]) -> None:
    if titles:
        rows = ", ".join(str(t[0]) for t in titles)
        log.warning(
            "%s: row(s) %s above the header skipped as a title", redact_file_name(name), rows
        )


def _chain_all(first: list[Any], rest: Iterator[Any]) -> Iterator[Any]:
    yield from first
    yield from rest


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


# --- JSON lines and JSON arrays ----------------------------------------------------------


def _kind(value: object) -> str | None:
    """The JSON kind of a non-string value; None for strings and nulls."""
    if value is None or isinstance(value, str):
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "array" if isinstance(value, list) else "object"


def _as_text(value: object) -> str | None:
    """A JSON value as text: strings as they are, numbers as written, containers as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=False)


def _lone_surrogate(obj: dict) -> str | None:
    """The first key whose value holds a lone UTF-16 surrogate (``"\\ud83d"``), else None.

    JSON allows such escapes, but the text cannot be stored as UTF-8 anywhere downstream.
    """
    for key, value in obj.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        try:
            (str(key) + text).encode("utf-8")
        except UnicodeEncodeError:
            return str(key).encode("utf-8", errors="replace").decode("utf-8")
    return None


class _RepeatedKeys(dict):
    """A JSON object that named a key twice with different values (JSON leaves it undefined)."""

    repeated: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> dict:
    """A JSON object as a dict (last value wins, as ``json`` does), marked when that lost data.

    A key written twice with the same value loses nothing and stays a plain dict.
    """
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    first: dict[str, Any] = {}
    repeated = [k for k, v in pairs if first.setdefault(k, v) != v]
    if not repeated:
        return obj
    marked = _RepeatedKeys(obj)
    marked.repeated = tuple(dict.fromkeys(repeated))
    return marked


# One decoder for every JSON value read (building one per json.loads call costs 50% more).
_JSON = json.JSONDecoder(object_pairs_hook=_object)


def _shape(value: object, limit: int) -> tuple[bool, list[tuple[str, str]]]:
    """Whether ``value`` nests more than ``limit`` containers, and (column, key) for each
    object nested in it that named a key twice with different values (walked without
    recursion: the walk already made for the depth finds them at no extra pass)."""
    stack: list[tuple[object, int, str]] = [(value, 0, "")]
    repeats: list[tuple[str, str]] = []
    while stack:
        item, depth, column = stack.pop()
        if isinstance(item, dict):
            if depth >= limit:
                return True, repeats
            if depth and type(item) is _RepeatedKeys:
                repeats += [(column, k) for k in item.repeated]
            if depth:
                stack.extend((child, depth + 1, column) for child in item.values())
            else:
                stack.extend((child, 1, str(k)) for k, child in item.items())
        elif isinstance(item, list):
            if depth >= limit:
                return True, repeats
            stack.extend((child, depth + 1, column) for child in item)
    return False, repeats


def _add_object(batch: _Batcher, obj: object, row: int, where: str, raw: str | None = None) -> None:
    """One parsed JSON value into the batch: an object becomes a row, anything else is broken.

    ``raw``: the value's text as read, kept with a broken row; without it (an element of
    a JSON array) the value is written out again, only for a row that is broken.
    """
    too_deep, nested_repeats = _shape(obj, MAX_JSON_DEPTH)
    if too_deep:  # json.dumps would recurse as deep
        reason = f"broken_json: {where}: nested deeper than {MAX_JSON_DEPTH} levels"
        line = raw if raw is not None else "(nested too deep to show)"
        batch.broken.append(BrokenRow(row, reason, {"line": line}))
        return

    def shown() -> str:
        return raw if raw is not None else json.dumps(obj, ensure_ascii=False)

    if isinstance(obj, dict) and (bad := _lone_surrogate(obj)):
        batch.broken.append(
            BrokenRow(
                row,
                f"bad_unicode: {where}: field {bad!r} holds a lone surrogate escape"
                " (half of an emoji or other character cut in two)",
                {"line": shown()},
            )
        )
        return
    if not isinstance(obj, dict):
        batch.broken.append(
            BrokenRow(
                row,
                f"not_an_object: {where} is a JSON {_kind(obj) or 'string'}, expected an object",
                {"line": shown()},
            )
        )
        return
    # Which of a repeated key's two values is meant cannot be told, at the top or nested
    # (a nested value is stored too, as a column or metadata).
    repeated = [repr(k[:60]) for k in obj.repeated] if isinstance(obj, _RepeatedKeys) else []
    repeated += [f"{k[:60]!r} inside {c[:60]!r}" for c, k in nested_repeats]
    if repeated:
        batch.broken.append(
            BrokenRow(
                row,
                f"duplicate_key: {where}: key {', '.join(repeated[:3])} given twice with"
                " different values; fix the export so each key appears once",
                {"line": shown()},
            )
        )
        return
    names = unique_names(obj)
    record: dict[str, str | None] = {}
    for key, (value) in zip(names, obj.values(), strict=True):
        record[key] = _as_text(value)
        kind = _kind(value)
        if kind:
            batch.kinds.append((len(batch.rows), key, kind))
    record[ROW_NUMBER] = row  # type: ignore[assignment]
    batch.rows.append(record)


def _json_lines(
    batch: _Batcher, lines: Iterable[tuple[int, str]], name: str
) -> Iterator[RawPartition]:
    for number, line in lines:
        text = line.strip().lstrip("\ufeff")  # a BOM inside: JSON-lines files concatenated
        if not text:
            continue
        try:
            obj = _JSON.decode(text)
        except (ValueError, RecursionError) as err:
            msg = err.msg if isinstance(err, json.JSONDecodeError) else _json_error(err)
            col = f" (column {err.colno})" if isinstance(err, json.JSONDecodeError) else ""
            batch.broken.append(
                BrokenRow(number, f"broken_json: {name} line {number}: {msg}{col}", {"line": line})
            )
        else:
            _add_object(batch, obj, number, f"{name} line {number}", text)
        if batch.full():
            yield batch.flush()
    if batch.rows or batch.broken:
        yield batch.flush()


def _json_error(err: Exception) -> str:
    """A parse failure that is not a syntax error, said in one line."""
    if isinstance(err, RecursionError):  # "[[[[...]]]]" thousands deep: the parser's stack
        return f"nested deeper than Python's JSON parser allows ({sys.getrecursionlimit()} levels)"
    return str(err)


def _read_jsonl(name: str, size: int) -> Iterator[RawPartition]:
    detection = _text_file_encoding(name)
    batch = _Batcher(name, detection.encoding, size)
    lines = enumerate(text_lines(Path(name), detection), 1)
    first = next((item for item in lines if item[1].strip()), None)
    if first is None:
        return
    if first[1].strip().lstrip("\ufeff").startswith("["):  # an array saved as .jsonl?
        items = _whole_json_array(name)
        if items is not None:
            log.warning(
                "%s: a JSON array, not JSON lines: read as an array", redact_file_name(name)
            )
            yield from _array_partitions(batch, items, name)
            return
    yield from _until_cut(batch, _json_lines(batch, _chain(first, lines), name))


def _whole_json_array(name: str) -> list | None:
    """The file parsed as one JSON array, or None when it is not one (JSON lines after all)."""
    with open_bytes(name) as f:
        text = decode_report(f.read()).text.lstrip("\ufeff")
    try:
        items = _JSON.decode(text)
    except (ValueError, RecursionError):
        return None
    return items if isinstance(items, list) else None


def _array_partitions(batch: _Batcher, items: list, name: str) -> Iterator[RawPartition]:
    for i, obj in enumerate(items, 1):
        _add_object(batch, obj, i, f"{name} element {i}")
        if batch.full():
            yield batch.flush()
    if batch.rows or batch.broken:
        yield batch.flush()


def _records_inside(obj: dict, headers: Collection[str], depth: int = 3) -> tuple[str, list] | None:
    """The one list of objects an API wraps its records in (``{"results": [...], "next": …}``).

    None when ``obj`` names an input column itself (``headers``: it is one record) or when
    there is not exactly one such list within ``depth`` levels (which one is meant cannot
    be told).
    """
    if any(column_name(k) in headers for k in obj):
        return None
    found: list[tuple[str, list]] = []
    level = [("", obj)]
    for _ in range(depth):
        below = []
        for path, node in level:
            for key, value in node.items():
                where = f"{path}.{key}" if path else str(key)
                if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                    found.append((where, value))
                elif isinstance(value, dict):
                    below.append((where, value))
        level = below
    return found[0] if len(found) == 1 else None


def _read_json(name: str, size: int, headers: Collection[str]) -> Iterator[RawPartition]:
    """A ``.json`` file: an array of objects, one object (or one wrapping a list of them), or
    JSON lines under a .json name."""
    with open_bytes(name) as f:
        data = f.read()
    decoded = decode_report(data)
    why = sniff_binary(data[:SAMPLE_BYTES], decoded.encoding)
    if why:
        raise UnreadableFileError(why)
    batch = _Batcher(name, decoded.encoding, size)
    text = decoded.text.lstrip("\ufeff")
    stripped = text.strip()
    if not stripped:
        return
    if stripped.startswith("["):
        try:
            items = _JSON.decode(stripped)
        except json.JSONDecodeError as err:
            raise UnreadableFileError(
                f"broken JSON array at line {err.lineno} column {err.colno}: {err.msg}"
                " (an array cannot be read in part: fix it or export JSON lines)"
            ) from err
        except RecursionError as err:
            raise UnreadableFileError(
                f"JSON array {_json_error(err)} (export JSON lines, one object per line)"
            ) from err
        yield from _array_partitions(batch, items, name)
        return
    try:
        single = _JSON.decode(stripped)
    except (json.JSONDecodeError, RecursionError):
        single = None
    if isinstance(single, dict):
        inside = _records_inside(single, headers)
        if inside is None:
            _add_object(batch, single, 1, name, stripped)
            yield batch.flush()
            return
        path, items = inside
        log.warning(
            "%s: one JSON object holding %d objects under %r (an API's page): read them as rows",
            redact_file_name(name),
            len(items),
            path,
        )
        yield from _array_partitions(batch, items, name)
        return
    yield from _json_lines(batch, enumerate(text.split("\n"), 1), name)


# --- Parquet -----------------------------------------------------------------------------


def _arrow_column_text(col: pa.Array) -> tuple[list[str | None], str | list[str | None] | None]:
    """(values as text, kind of the column's values, or per value for binary columns)."""
    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return col.to_pylist(), None
    if pa.types.is_dictionary(t):
        return _arrow_column_text(col.dictionary_decode())
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        out: list[str | None] = []
        kinds: list[str | None] = []
        for v in col.to_pylist():
            try:
                out.append(None if v is None else v.decode("utf-8"))
                kinds.append(None)  # UTF-8 bytes are text stored as binary
            except UnicodeDecodeError:
                out.append(f"<{len(v)} undecodable bytes>")
                kinds.append("binary")
        return out, kinds if any(kinds) else None
    if pa.types.is_nested(t):
        values = [
            None if v is None else json.dumps(v, ensure_ascii=False, default=str)
            for v in col.to_pylist()
        ]
        return values, "array" if pa.types.is_list(t) or pa.types.is_large_list(t) else "object"
    if pa.types.is_timestamp(t) and t.tz is not None:
        return [None if v is None else v.isoformat() for v in col.to_pylist()], "timestamp"
    kind = (
        "boolean"
        if pa.types.is_boolean(t)
        else "number"
        if (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))
        else "timestamp"
    )
    try:
        return pc.cast(col, pa.string()).to_pylist(), kind
    except pa.ArrowException:
        return [None if v is None else str(v) for v in col.to_pylist()], kind


def _read_parquet(name: str, size: int) -> Iterator[RawPartition]:
    parquet = pq.ParquetFile(name)
    names = unique_names(parquet.schema_arrow.names)
    row = 0
    for rb in parquet.iter_batches(batch_size=size):
        data: dict[str, list] = {}
        kinds: dict[str, str | list[str | None]] = {}
        for col_name, col in zip(names, rb.columns, strict=True):
            data[col_name], kind = _arrow_column_text(col)
            if kind:
                kinds[col_name] = kind
        df = pd.DataFrame(data, dtype="string") if data else pd.DataFrame(index=range(rb.num_rows))
        df[ROW_NUMBER] = pd.array(range(row + 1, row + rb.num_rows + 1), dtype="Int64")
        row += rb.num_rows
        part_kinds = {
            c: pd.Series(
                k if isinstance(k, list) else [k] * len(df), index=df.index, dtype="string"
            )
            for c, k in kinds.items()
        }
        yield RawPartition(name, None, df, [], part_kinds)


# --- Excel workbooks ---------------------------------------------------------------------


def _cell_text(value: object) -> tuple[str | None, str | None]:
    """(a cell as text, its kind when not a string): ``7.0`` reads ``7``, dates as ISO 8601."""
    if value is None or isinstance(value, str):
        return value, None
    if isinstance(value, bool):
        return ("true" if value else "false"), "boolean"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)), "number"
    if isinstance(value, int | float):
        return str(value), "number"
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat(), "timestamp"
    return str(value), "object"


def _read_xlsx(
    name: str, size: int, sheet: str | None, header_names: Collection[str]
) -> Iterator[RawPartition]:
    """Rows of every sheet (or of ``sheet``), the first non-empty row of each being its header.

    A workbook with several sheets yields each as ``book.xlsx[Sheet]`` so the run
    summary accounts for them apart; ``source_row`` is Excel's row number. Cell values
    are read (``data_only``), never formulas.
    """
    import openpyxl  # noqa: PLC0415 (only runs that read workbooks pay for the import)

    try:
        book = openpyxl.load_workbook(name, read_only=True, data_only=True)
    except Exception as err:  # noqa: BLE001 (zip, XML and openpyxl errors: the file is unreadable)
        raise UnreadableFileError(f"not a readable .xlsx workbook ({type(err).__name__})") from err
    try:
        sheets = book.sheetnames
        if sheet is not None:
            if sheet not in sheets:
                raise UnreadableFileError(f"no sheet {sheet!r} (sheets: {', '.join(sheets)})")
            sheets = [sheet]
        for title in sheets:
            label = name if len(book.sheetnames) == 1 or sheet else f"{name}[{title}]"
            yield from _sheet_partitions(book[title], label, size, header_names, name)
    finally:
        book.close()


# A formula cell without a saved result: `<f>…</f>` then no value or an empty one. Excel and
# LibreOffice save the result beside the formula; a workbook written by a script (openpyxl,
# a report generator) that never calculated it has none, and its cells read as empty.
_UNCALCULATED = re.compile(rb"<f(?:\s[^>]*)?(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>")


def _uncalculated_formulas(book_file: str, ws: Any) -> int:
    """Formula cells of a sheet with no saved value (its XML part scanned, 1 MB at a time)."""
    part = getattr(ws, "_worksheet_path", None)  # openpyxl's read-only sheet: its zip member
    if not part:
        return 0
    count, tail = 0, b""
    with zipfile.ZipFile(book_file) as book, book.open(part) as xml:
        while chunk := xml.read(1 << 20):
            text = tail + chunk
            cut = text.rfind(b"</c>") + 4 if b"</c>" in text else 0
            count += len(_UNCALCULATED.findall(text, 0, cut))
            tail = text[cut:]
    return count


def _sheet_partitions(
    ws: Any, label: str, size: int, header_names: Collection[str], book_file: str = ""
) -> Iterator[RawPartition]:
    empty_formulas = _uncalculated_formulas(book_file, ws) if book_file else 0
    if empty_formulas:
        log.warning(
            "%s: %d formula cell(s) have no saved value (written by a program that does not"
            " calculate them): read as empty; open and save the workbook in Excel or"
            " LibreOffice, then export again",
            redact_file_name(label),
            empty_formulas,
        )
    batch = _Batcher(label, None, size)
    cells_of = (
        (n, [_cell_text(v) for v in values])
        for n, values in enumerate(ws.iter_rows(values_only=True), 1)
    )
    rows = ((n, cells) for n, cells in cells_of if _filled([text for text, _ in cells]))
    first = next(rows, None)
    if first is None:  # an empty sheet is listed (read 0), as an empty file is
        yield batch.flush()
        return
    header, rows, titles = past_titles(
        first, rows, lambda row: [t for t, _ in row[1]], header_names
    )
    _log_titles(label, titles)
    names = unique_names(text or "" for text, _ in header[1])
    flushed = False
    for number, cells in rows:
        texts = [text for text, _ in cells][: len(names)]
        if len(cells) > len(names) and any(t and t.strip() for t, _ in cells[len(names) :]):
            reason = f"wrong_field_count: {label} row {number}: {len(cells)} cells, header has {len(names)}"
            batch.broken.append(
                BrokenRow(number, reason, {"line": ",".join(t or "" for t, _ in cells)})
            )
        else:
            texts += [None] * (len(names) - len(texts))
            for col, (_, kind) in zip(names, cells, strict=False):
                if kind:
                    batch.kinds.append((len(batch.rows), col, kind))
            batch.rows.append([*texts, number])
        if batch.full():
            yield batch.flush(names)
            flushed = True
    if batch.rows or batch.broken or not flushed:  # a sheet of a header only: read 0
        yield batch.flush(names)
