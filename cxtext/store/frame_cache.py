"""Frames a run derived from unchanged inputs, kept between runs under a key of everything they depend on.

A nightly run re-reads the customers and transactions files and refits lifetime values
although those files rarely change between two nights (benchmarks/README.md: about a
third of an incremental night's CPU). An entry is stored under a key hashed from all
its inputs: the files' fingerprints (size and SHA-256), the pseudonym key's digest, the
settings and dates used, and :func:`code_digest` (every source file of ``cxtext``), so
a change to any of them is a miss and the work is redone; nothing is ever reused on a
guess. One entry per name is kept (the latest), as Parquet with a small JSON of notes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

_PACKAGE = Path(__file__).resolve().parents[1]  # cxtext/
_META = "meta.json"


@cache
def code_digest() -> str:
    """SHA-256 over every ``cxtext`` source file: a code change invalidates every entry.

    Coarser than the functions an entry depends on, but never wrong (~150 small files,
    read once per process).
    """
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(_PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(*parts: Any) -> str:
    """A key over ``parts`` (JSON-able, else their ``repr``) and the code's digest."""
    text = json.dumps([code_digest(), *parts], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _entry(folder: Path, name: str, key: str) -> Path:
    return Path(folder) / f"{name}-{key[:32]}"


def load_frames(
    folder: Path, name: str, key: str
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]] | None:
    """(frames, meta) stored under ``name`` and ``key``, or None (no entry, or unreadable)."""
    entry = _entry(folder, name, key)
    try:
        meta = json.loads((entry / _META).read_text(encoding="utf-8"))
        if meta.get("key") != key:
            return None
        frames = {f: pd.read_parquet(entry / f"{f}.parquet") for f in meta["frames"]}
    except (OSError, ValueError, KeyError):  # a damaged entry is a miss, redone and replaced
        return None
    return frames, meta.get("meta", {})


def save_frames(
    folder: Path,
    name: str,
    key: str,
    frames: dict[str, pd.DataFrame],
    meta: dict[str, Any] | None = None,
) -> Path:
    """Store ``frames`` under ``name`` and ``key``, replacing any older entry of ``name``.

    Written to a temporary folder and renamed, so a reader never sees half an entry.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    entry = _entry(folder, name, key)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=folder))
    for f, frame in frames.items():
        frame.to_parquet(tmp / f"{f}.parquet", index=False)
    (tmp / _META).write_text(
        json.dumps({"key": key, "frames": list(frames), "meta": meta or {}}, default=str),
        encoding="utf-8",
    )
    shutil.rmtree(entry, ignore_errors=True)
    os.replace(tmp, entry)
    for old in folder.glob(f"{name}-*"):
        if old != entry and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    return entry
