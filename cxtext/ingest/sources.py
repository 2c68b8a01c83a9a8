"""Where feedback comes from and how its columns are named: ``--columns`` and ``sources:``.

Exports name their columns as the tool that wrote them likes (``ticket_id``, ``comment``,
``date``). A :class:`SourceSpec` says, per file, folder or glob, which input column is
which canonical one, and how to read its dates (ISO 8601 or Jalali, a time zone for
times written without one), so validation itself only ever sees canonical names.
"""

from __future__ import annotations

import difflib
import glob
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cxtext.errors import SettingsError
from cxtext.schema import CHANNELS, OPTIONAL_INPUT, REQUIRED_INPUT

CANONICAL = (*REQUIRED_INPUT, *OPTIONAL_INPUT)
SPEC_KEYS = ("path", "columns", "channel", "date_format", "timezone", "sheet")

# Names exports commonly give the required columns, best guess first; the "did you
# mean" hint takes the first one found, else the closest spelling.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("ticket_id", "feedback_id", "response_id", "review_id", "message_id", "case_id",
           "ticket", "key", "number", "no", "uuid", "شناسه", "کد"),
    "text": ("comment", "comments", "feedback", "message", "body", "review", "content",
             "description", "verbatim", "answer", "response", "note", "notes", "متن", "نظر",
             "پیام", "توضیحات"),
    "created_at": ("date", "created", "created_date", "timestamp", "time", "datetime",
                   "submitted_at", "created_on", "date_time", "تاریخ", "زمان"),
}  # fmt: skip


@dataclass(frozen=True)
class SourceSpec:
    """One input (file, folder or glob) and how to read it.

    ``columns`` maps a canonical name to the file's column (``{"text": "comment"}``);
    ``channel`` is the channel of rows that name none; ``date_format`` is ``None`` (ISO
    8601 or Jalali, told apart by the year) or a ``strptime`` pattern (``%d/%m/%Y``);
    ``timezone`` is the IANA zone of times written without an offset; ``sheet`` picks one
    sheet of a workbook (all sheets when ``None``).
    """

    path: str
    columns: Mapping[str, str] = field(default_factory=dict)
    channel: str | None = None
    date_format: str | None = None
    timezone: str = "UTC"
    sheet: str | None = None

    def files(self) -> list[str]:
        """The path itself, or what a glob pattern matches (sorted); a glob matching nothing is []."""
        if any(ch in self.path for ch in "*?["):
            return sorted(p for p in glob.glob(self.path, recursive=True) if Path(p).is_file())
        return [self.path]


def parse_column_map(text: str, where: str = "--columns") -> dict[str, str]:
    """``id=ticket_id,text=comment`` as ``{"id": "ticket_id", "text": "comment"}``.

    Examples
    --------
    >>> parse_column_map("id=ticket_id, text=comment,created_at=date")
    {'id': 'ticket_id', 'text': 'comment', 'created_at': 'date'}
    """
    out: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, column = item.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise SettingsError(
                f"{where}: {item!r} is not NAME=COLUMN (e.g. {where} text=comment,created_at=date)"
            )
        out[name.strip().lower()] = column.strip()
    return check_column_map(out, where)


def check_column_map(columns: Mapping[str, object], where: str) -> dict[str, str]:
    """The map with its canonical names checked (a typo is an error with a suggestion)."""
    out: dict[str, str] = {}
    for name, column in columns.items():
        key = str(name).strip().lower()
        if key not in CANONICAL:
            close = difflib.get_close_matches(key, CANONICAL, n=1)
            hint = f" — did you mean {close[0]!r}?" if close else ""
            raise SettingsError(
                f"{where}: {name!r} is not a feedback column (one of {', '.join(CANONICAL)}){hint}"
            )
        if not isinstance(column, str) or not column.strip():
            raise SettingsError(f"{where}: the column for {key!r} must be a column name")
        out[key] = column.strip()
    return out


def sources_from_settings(
    entries: Iterable[object] | None, where: str = "sources", base: Path | None = None
) -> list[SourceSpec]:
    """:class:`SourceSpec` per entry of the settings file's ``sources:`` list, checked.

    A relative path (or glob) is taken relative to ``base``, the settings file's folder.
    """
    specs = []
    for i, entry in enumerate(entries or [], 1):
        at = f"{where}[{i}]"
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, Mapping) or "path" not in entry:
            raise SettingsError(f"{at}: each source needs at least a path (file, folder or glob)")
        unknown = sorted(set(entry) - set(SPEC_KEYS))
        if unknown:
            close = difflib.get_close_matches(str(unknown[0]), SPEC_KEYS, n=1)
            hint = f" — did you mean {close[0]!r}?" if close else ""
            raise SettingsError(
                f"{at}: unknown key(s) {unknown} (known: {', '.join(SPEC_KEYS)}){hint}"
            )
        channel = entry.get("channel")
        if channel is not None and channel not in CHANNELS:
            raise SettingsError(f"{at}.channel: {channel!r} is not one of {', '.join(CHANNELS)}")
        timezone = str(entry.get("timezone") or "UTC")
        check_timezone(timezone, f"{at}.timezone")
        path = Path(str(entry["path"])).expanduser()
        specs.append(
            SourceSpec(
                path=str(path if path.is_absolute() or base is None else base / path),
                columns=check_column_map(entry.get("columns") or {}, f"{at}.columns"),
                channel=channel,
                date_format=entry.get("date_format"),
                timezone=timezone,
                sheet=None if entry.get("sheet") is None else str(entry["sheet"]),
            )
        )
    return specs


def check_timezone(name: str, where: str) -> None:
    """An IANA zone name, else a settings error naming the key."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise SettingsError(
            f"{where}: {name!r} is not an IANA time zone (e.g. Asia/Tehran)"
        ) from err


def _loose(name: str) -> str:
    """A column name compared loosely: case, spaces and hyphens do not matter ("Ticket ID")."""
    return re.sub(r"[\s\-.]+", "_", name.strip().lower())


def column_renames(
    names: Iterable[str], columns: Mapping[str, str], canonical: Iterable[str] = CANONICAL
) -> dict[str, str]:
    """Renames that give mapped input columns their canonical names (case-insensitive).

    ``canonical``: the names a column written loosely is matched to (feedback's by default;
    the side tables pass theirs).

    A canonical column already present under its own name and also mapped from another
    column yields to the mapped one and is kept as ``<name>_original`` (metadata,
    redacted like the rest), so nothing is silently dropped.

    Examples
    --------
    >>> column_renames(["ticket_id", "comment", "text"], {"id": "ticket_id", "text": "comment"})
    {'ticket_id': 'id', 'text': 'text_original', 'comment': 'text'}
    >>> column_renames(["id", "text", "created at", "customer-id"], {})
    {'created at': 'created_at', 'customer-id': 'customer_id'}
    >>> column_renames(["ticket id", "comment", "Created At"], {"id": "Ticket ID", "text": "comment"})
    {'ticket id': 'id', 'comment': 'text', 'Created At': 'created_at'}
    """
    present = list(names)
    found = {_loose(c): c for c in present}
    renames: dict[str, str] = {}
    for name, given in columns.items():
        actual = found.get(_loose(given))
        if actual is None or actual == name:
            continue
        if name in present:
            renames[name] = f"{name}_original"
        renames[actual] = name
    # "Created At", "created-at", "Customer.ID": a canonical name written with spaces,
    # hyphens or dots is that column (unless it is mapped or present already)
    taken = set(present) | set(renames.values()) | set(columns)
    wanted = set(canonical)
    for loose, actual in found.items():
        if loose in wanted and loose not in taken and actual not in renames:
            renames[actual] = loose
            taken.add(loose)
    return renames


def missing_column_hint(name: str, found: Iterable[str], flag: str = "--columns") -> str:
    """``no 'text' column; found: ticket_id, comment, date — did you mean --columns text=comment?``."""
    found = list(found)
    columns = [c for c in found if c not in CANONICAL]
    listed = ", ".join(found) or "none"
    by_loose = {_loose(c): c for c in columns}
    guess = next((by_loose[s] for s in _SYNONYMS.get(name, ()) if s in by_loose), None)
    if guess is None and name == "id":  # any other "..._id" column but the customer's
        guess = next(
            (c for c in columns if _loose(c).endswith("_id") and _loose(c) != "customer_id"), None
        )
    if guess is None:
        close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
        guess = close[0] if close else None
    hint = (
        f" — did you mean {flag} {shlex.quote(f'{name}={guess}')}?"
        if guess
        else f" — map one with {flag} {name}=COLUMN"
    )
    return f"no {name!r} column; found: {listed}{hint}"
