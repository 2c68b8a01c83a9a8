"""Per-run staging of partitions as Parquet files, so tasks pass paths, not frames.

Paths are cheap to hand between Prefect tasks (also to Dask worker processes), a
partition is in memory only while one task works on it, and the final commit loads the
staged files in one transaction. The staging folder is private (0700) and removed when
the run ends, whatever its outcome, because ingested partitions still hold raw text.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from cxtext.schema import Table, conform


def create_staging(root: Path, run_id: str) -> Path:
    """A fresh private folder for one run's partitions."""
    folder = Path(root) / ".staging" / run_id
    folder.mkdir(parents=True, exist_ok=False, mode=0o700)
    return folder


def write_partition(df: pd.DataFrame, folder: Path, stage: str, index: int, table: Table | None = None) -> Path:
    """``folder/<stage>/part-<index>.parquet``; conformed to ``table`` when given."""
    target = Path(folder) / stage / f"part-{index:05d}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    (conform(df, table) if table is not None else df).to_parquet(target, index=False)
    return target


def read_partition(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    return pd.read_parquet(path, columns=columns)


def read_partitions(paths: list[Path], columns: list[str] | None = None) -> pd.DataFrame:
    """Several partitions as one frame (only for columns or rows that fit in memory)."""
    frames = [pd.read_parquet(p, columns=columns) for p in paths]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def remove_partition(path: Path) -> None:
    Path(path).unlink(missing_ok=True)


def remove_staging(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
