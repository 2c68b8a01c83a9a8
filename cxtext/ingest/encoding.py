"""Bytes to text: detect the encoding of a feedback export and decode it without crashing.

Exports arrive as UTF-8 (with or without a BOM), UTF-16 from Excel's "Unicode text", and
Windows-1256 from Persian Windows/Excel. Detection goes from the certain to the guessed:
a byte-order mark, then UTF-16 by the pattern of NUL bytes, then strict UTF-8 (which
almost never validates by accident), then Windows-1256 when the decoded text is mostly
Arabic-script letters, and only then ``charset-normalizer``. That order matters because
charset-normalizer often names cp1251, mac_cyrillic or ptcp154 for short Persian
cp1256 text. Bytes that still do not decode become U+FFFD, and the result says so.
"""

from __future__ import annotations

import codecs
import gzip
import io
import logging
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import charset_normalizer

from cxtext.normalize.pii import redact_file_name

log = logging.getLogger(__name__)

SAMPLE_BYTES = 1 << 16  # enough text to judge an encoding, small enough to be instant
_CHUNK = 1 << 20
REPLACEMENT = "\ufffd"

# Byte-order marks, longest first (UTF-32 LE starts with the UTF-16 LE mark).
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# File signatures of things that are not text exports at all, for a helpful reason.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a zip archive (an .xlsx workbook is one: give it an .xlsx suffix)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls / OLE file (export it as CSV)"),
    (b"PAR1", "a Parquet file (give it a .parquet suffix)"),
    (b"\x1f\x8b", "a gzip archive (name it .csv.gz or .jsonl.gz to have it read)"),
    (b"%PDF", "a PDF document"),
)


@dataclass(frozen=True)
class Detection:
    """The codec to decode with and how it was chosen (for logs and quarantine reasons)."""

    encoding: str  # a Python codec name; opening a file with it does the right thing with a BOM
    method: str  # bom | utf16-nul-pattern | utf8 | utf8-damaged | cp1256-arabic-letters | mac-farsi-arabic-letters | cp1252-western-letters | charset-normalizer | fallback


@dataclass(frozen=True)
class Decoded:
    """Decoded text plus what was done to get it."""

    text: str
    encoding: str
    method: str
    replaced: int  # undecodable bytes turned into U+FFFD (0 when the decode was clean)


# Unicode category Cc (C0 and C1 controls, DEL) without tab, newline and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _control_share(text: str) -> float:
    """Share of control characters other than tab/newline: high means binary, not text."""
    if not text:
        return 0.0
    return len(_CONTROL.findall(text)) / len(text)


def _utf16_without_bom(sample: bytes) -> str | None:
    """``utf-16-le``/``-be`` when NULs sit on one byte parity only, as UTF-16 text has them.

    ASCII characters (commas, digits, newlines of any CSV) have a NUL high byte, and Persian
    letters a 0x06 one, so one parity is NUL-rich while the other almost never is; a UTF-8
    file with a few stray NULs has them on both parities.
    """
    n = len(sample) - len(sample) % 2
    if n < 16 or b"\x00" not in sample:
        return None
    # NULs are valid UTF-8 too: when the bytes also read as UTF-8, ask for more evidence
    min_nul = 0.3 if _is_utf8(sample, final=False) else 0.1
    even, odd = sample[0:n:2], sample[1:n:2]
    for encoding, high, low in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        top3 = sum(sorted((high.count(b) for b in set(high)), reverse=True)[:3])
        if (
            high.count(0) / len(high) >= min_nul
            and low.count(0) / len(low) <= 0.02
            and top3 >= 0.9 * len(high)
        ):
            text = sample[:n].decode(encoding, errors="replace")
            if text.count(REPLACEMENT) <= 1 and _control_share(text) < 0.05:
                return encoding
    return None


def _utf8_damage(sample: bytes) -> float:
    """Share of non-ASCII characters that are decode errors when read as UTF-8."""
    text = sample.decode("utf-8", errors="replace")
    non_ascii = sum(1 for c in text if ord(c) > 127)
    return text.count(REPLACEMENT) / non_ascii if non_ascii else 1.0


def _arabic_letter_share(sample: bytes, codec: str = "cp1256") -> float:
    """Share of non-ASCII characters that are Arabic-script letters when read as ``codec``."""
    text = sample.decode(codec, errors="replace")
    non_ascii = [c for c in text if ord(c) > 127]
    if not non_ascii:
        return 0.0
    arabic = sum(1 for c in non_ascii if "\u0600" <= c <= "\u06ff" or "\u200c" <= c <= "\u200f")
    return arabic / len(non_ascii)


_LATIN_BESIDE_HIGH = re.compile(rb"[A-Za-z][\x80-\xff]|[\x80-\xff][A-Za-z]")


def _inside_latin_words(sample: bytes) -> float:
    """Share of high bytes with a Latin letter beside them: accented letters (``café``,
    ``Gebühr``) sit inside Latin words, Persian words stand apart from Latin ones."""
    high = sum(1 for b in sample if b > 127)
    return len(_LATIN_BESIDE_HIGH.findall(sample)) / high if high else 0.0


def _mac_farsi(sample: bytes, cp1256_share: float) -> bool:
    """Whether ``sample`` is Mac OS Farsi (old Mac exports; spaces and punctuation are
    written as high bytes, and letters from 0xE0 on differ from cp1256's).

    A Western file (``café`` in cp1252) also reads as Arabic letters in this code, but its
    high bytes sit inside Latin words (:func:`_inside_latin_words`).
    """
    if _inside_latin_words(sample) > 0.1:
        return False
    share = _arabic_letter_share(sample, "mac_farsi")
    return share >= 0.6 and share > cp1256_share


def _western_share(sample: bytes) -> float:
    """Share of non-ASCII characters that are Western letters or typographic marks in cp1252.

    English exports from Western Windows are cp1252, mostly for curly quotes and dashes;
    charset-normalizer tends to name Baltic or Central European code pages for them.
    """
    try:
        text = sample.decode("cp1252")
    except UnicodeDecodeError:
        return 0.0
    non_ascii = [c for c in text if ord(c) > 127]
    if not non_ascii:
        return 0.0
    western = sum(1 for c in non_ascii if "\u00c0" <= c <= "\u00ff" or c in "‘’“”–—…€•£©®°«»")
    return western / len(non_ascii)


def _is_utf32(sample: bytes, final: bool) -> bool:
    """A UTF-32 mark is also a UTF-16 LE mark followed by U+0000: believe it only if it decodes."""
    if final and len(sample) % 4:
        return False
    try:
        sample[: len(sample) - len(sample) % 4].decode("utf-32")
    except UnicodeDecodeError:
        return False
    return True


def _is_utf8(sample: bytes, final: bool) -> bool:
    """Strict UTF-8 check; a multi-byte character cut at the end of a sample is allowed."""
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=final)
    except UnicodeDecodeError:
        return False
    return True


def _legacy(sample: bytes) -> Detection:
    """Encoding of a sample that is not valid UTF-8: damaged UTF-8, cp1256 or a guess."""
    if _utf8_damage(sample) <= 0.05:
        return Detection("utf-8", "utf8-damaged")
    legacy = b"\n".join(line for line in sample.split(b"\n") if not _is_utf8(line, False))
    if _mac_farsi(legacy, _arabic_letter_share(legacy)):  # UTF-8 lines beside say nothing
        return Detection("mac-farsi", "mac-farsi-arabic-letters")
    if _arabic_letter_share(sample) >= 0.6 and _inside_latin_words(sample) <= 0.5:
        return Detection("cp1256", "cp1256-arabic-letters")  # not German: Ü, ö read Arabic
    if _western_share(sample) >= 0.9:
        return Detection("cp1252", "cp1252-western-letters")
    best = charset_normalizer.from_bytes(sample).best()
    if best is not None:
        return Detection(codecs.lookup(best.encoding).name, "charset-normalizer")
    return Detection("utf-8", "fallback")


def detect_encoding(sample: bytes, *, final: bool = True) -> Detection:
    """The encoding of ``sample``; ``final=False`` when it is only the head of a longer file.

    Examples
    --------
    >>> detect_encoding("سلام، ممنون".encode("cp1256")).encoding
    'cp1256'
    >>> detect_encoding(b"\\xef\\xbb\\xbfid,text").encoding
    'utf-8-sig'
    """
    for bom, encoding in _BOMS:
        if sample.startswith(bom) and (encoding != "utf-32" or _is_utf32(sample, final)):
            return Detection(encoding, "bom")
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return Detection(utf16, "utf16-nul-pattern")
    if _is_utf8(sample, final):
        return Detection("utf-8", "utf8")
    return _legacy(sample)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding) of ``data``; never raises. See :func:`decode_report` for details.

    Examples
    --------
    >>> decode_bytes("id,text\\n1,خیلی کند است\\n".encode("utf-16"))
    ('id,text\\n1,خیلی کند است\\n', 'utf-16')
    """
    decoded = decode_report(data)
    return decoded.text, decoded.encoding


def decode_report(data: bytes) -> Decoded:
    """Decode ``data`` with the detected encoding, replacing undecodable bytes with U+FFFD.

    Replacement keeps a damaged export usable and makes the damage visible in the text;
    the count is logged and returned so the caller can report it.
    """
    found = detect_encoding(data)
    try:
        text, replaced = data.decode(found.encoding), 0
    except UnicodeDecodeError:
        text = data.decode(found.encoding, errors="replace")
        replaced = max(1, text.count(REPLACEMENT))
        log.warning(
            "decoded as %s (%s) with %d undecodable byte sequence(s) replaced by U+FFFD",
            found.encoding,
            found.method,
            replaced,
        )
    return Decoded(text, found.encoding, found.method, replaced)


def open_bytes(path: str | Path) -> BinaryIO:
    """A file's bytes, decompressed when its name ends in ``.gz`` (``tickets.csv.gz``).

    Teams keep exports gzipped; reading them through :mod:`gzip` streams them, so a large
    one never sits in memory decompressed. A damaged archive raises ``OSError``
    (``BadGzipFile``), ``EOFError`` (cut short) or ``zlib.error`` while it is read.
    """
    if str(path).lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")  # noqa: SIM115 (the caller closes it)


def read_until_cut(f: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes; where a .gz is cut short, the bytes before the cut.

    ``read(size)`` of a cut archive raises and drops what it had decompressed; chunks
    from ``read1`` keep it, so the rows before the cut can be read (the reader then meets
    the same error and reports the file).
    """
    out = bytearray()
    try:
        while len(out) < size and (chunk := f.read1(size - len(out))):
            out += chunk
    except (EOFError, zlib.error):
        pass
    return bytes(out)


def detect_file_encoding(path: Path) -> Detection:
    """The encoding of a file, reading it in chunks so a large export never sits in memory.

    The head decides BOM and UTF-16; UTF-8 is then checked over the whole file, because a
    cp1256 export can be pure ASCII for its first thousand rows. On the first invalid
    byte, the head plus the bytes around it decide between damaged UTF-8 and a legacy code.
    """
    with open_bytes(path) as f:
        head = read_until_cut(f, SAMPLE_BYTES)
        found = detect_encoding(head, final=len(head) < SAMPLE_BYTES)
        if found.method != "utf8":
            return found
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        f.seek(0)
        offset = 0
        while chunk := read_until_cut(f, _CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as err:
                start = offset + max(0, err.start - SAMPLE_BYTES // 2)
                f.seek(start)
                return _legacy(head + b"\n" + read_until_cut(f, SAMPLE_BYTES))
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return Detection("utf-8", "utf8-damaged")
    return found


# Detections that are guesses over a file that is not valid UTF-8: such a file is decoded
# line by line, since exports glued together from several systems mix UTF-8 lines with
# Windows-1256 or -1252 ones, and one codec for the whole file garbles one kind silently.
_GUESSED = frozenset(
    {
        "utf8-damaged",
        "cp1256-arabic-letters",
        "mac-farsi-arabic-letters",
        "cp1252-western-letters",
        "charset-normalizer",
        "fallback",
    }
)
_LONE_CR = re.compile(r"(?<=\r)(?!\n|$)")


def decode_line(raw: bytes, legacy: str) -> tuple[str, str]:
    r"""(text, codec) of one line of a file that is not all UTF-8.

    A line that is valid UTF-8 is UTF-8 (a cp1256 or cp1252 line with letters in it
    practically never validates). Otherwise ``legacy`` when the file was judged cp1256 or
    cp1252; when it was a weaker guess (damaged UTF-8, charset-normalizer's pick, which on
    a few foreign lines is often a CJK code), the line is read as cp1256 if that gives
    mostly Arabic-script letters, as cp1252 if Western ones, else with ``legacy`` and
    U+FFFD for the bytes it cannot decode.

    >>> decode_line("بد بود\n".encode("cp1256"), "utf-8")
    ('بد بود\n', 'cp1256')
    >>> decode_line("خوب\n".encode(), "cp1256")
    ('خوب\n', 'utf-8')
    """
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    legacy = codecs.lookup(legacy).name
    if legacy not in ("cp1256", "cp1252", "mac-farsi"):
        if _arabic_letter_share(raw) >= 0.6:
            legacy = "cp1256"
        elif _western_share(raw) >= 0.9:
            legacy = "cp1252"
    return raw.decode(legacy, errors="replace"), legacy


def text_lines(path: Path, detection: Detection) -> Iterator[str]:
    """The lines of a text file, endings kept (``\n``, ``\r\n`` or a lone ``\r``).

    A file whose encoding was certain (a BOM, UTF-16, strict UTF-8) is decoded with it;
    one whose encoding was a guess is decoded line by line (:func:`decode_line`), and a
    log line says how many lines each codec read.
    """
    if detection.method not in _GUESSED:
        with io.TextIOWrapper(
            open_bytes(path), encoding=detection.encoding, errors="replace", newline=""
        ) as f:
            yield from f
        return
    codecs_used: Counter[str] = Counter()
    with open_bytes(path) as f:
        for raw in f:
            if raw.isascii():  # the same in every code: says nothing about the mix
                yield from _LONE_CR.split(raw.decode("ascii"))
                continue
            text, codec = decode_line(raw, detection.encoding)
            codecs_used[codec] += 1
            yield from _LONE_CR.split(text)
    if len(codecs_used) > 1:
        said = ", ".join(f"{n} as {codec}" for codec, n in codecs_used.most_common())
        log.warning("%s mixes encodings: lines read %s", redact_file_name(str(path)), said)


def sniff_binary(head: bytes, encoding: str) -> str | None:
    """Why ``head`` is not a text export (a known file signature, NULs or control characters), else None.

    Thresholds are loose on purpose: a few NULs or stray control characters in a real
    export are a row-level problem (validation warns or rejects that row), not a file-level one.
    """
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return f"looks like {what}"
    text = head.decode(encoding, errors="replace")
    if not text:
        return None
    nul = text.count("\x00") / len(text)
    control = _control_share(text.replace("\x00", ""))
    if nul >= 0.3 or (control >= 0.1 and len(text) >= 64) or control >= 0.3:
        return f"looks binary ({nul + control:.0%} NUL or control characters in the first {len(head)} bytes)"
    return None
