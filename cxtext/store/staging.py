"""Per-run staging of partitions as Parquet files, so tasks pass paths, not frames.

Paths are cheap to hand between Prefect tasks (also to Dask worker processes), a
partition is in memory only while one task works on it, and the final commit loads the
staged files in one transaction. The staging folder is private (0700) and removed when
the run ends, whatever its outcome. Only redacted text is ever staged (the ingest task
normalizes each partition before writing it); a run killed before its cleanup leaves a
folder that the next run on the same machine sweeps (:func:`sweep_dead`).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path

import pandas as pd

from cxtext.schema import Table, conform

OWNER = "owner.json"  # which process on which host made the folder


def create_staging(root: Path, run_id: str) -> Path:
    """A fresh private folder for one run's partitions, marked with its owner process."""
    folder = Path(root) / ".staging" / run_id
    folder.mkdir(parents=True, exist_ok=False, mode=0o700)
    owner = {"pid": os.getpid(), "host": socket.gethostname()}
    (folder / OWNER).write_text(json.dumps(owner), encoding="utf-8")
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep_dead(root: Path, grace_seconds: float = 60.0) -> list[Path]:
    """Remove staging folders under ``root`` whose run died (killed before its cleanup).

    A folder is dead when its owner process on this host is gone, or when it has no
    owner file and is older than ``grace_seconds``. Returns the folders removed.
    """
    removed = []
    base = Path(root) / ".staging"
    if not base.is_dir():
        return removed
    host = socket.gethostname()
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        try:
            owner = json.loads((folder / OWNER).read_text(encoding="utf-8"))
            dead = owner.get("host") == host and not _alive(int(owner["pid"]))
        except (OSError, ValueError, KeyError, TypeError):
            dead = time.time() - folder.stat().st_mtime > grace_seconds
        if dead:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def write_partition(
    df: pd.DataFrame, folder: Path, stage: str, index: int, table: Table | None = None
) -> Path:
    """``folder/<stage>/part-<index>.parquet``; conformed to ``table`` when given."""
    target = Path(folder) / stage / f"part-{index:05d}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    (conform(df, table) if table is not None else df).to_parquet(target, index=False)
    return target


def read_partition(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    return pd.read_parquet(path, columns=columns)


def read_partitions(
    paths: list[Path],
    columns: list[str] | None = None,
    created: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """Several partitions as one frame (only for columns or rows that fit in memory).

    ``created``: only rows with ``start <= created_at < end``, filtered while reading,
    so a full run's window does not load every staged document first.
    """
    filters = None
    if created is not None:
        filters = [("created_at", ">=", created[0]), ("created_at", "<", created[1])]
    frames = [pd.read_parquet(p, columns=columns, filters=filters) for p in paths]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def remove_partition(path: Path) -> None:
    Path(path).unlink(missing_ok=True)


def remove_staging(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
