"""A run's bookkeeping, so the nightly flow reads as its stage calls.

:func:`open_run` takes the warehouse lock, sweeps staging folders of dead runs, opens the
warehouse for writing and gives the flow a :class:`RunBook`: the run id, stage timings
and progress events, counts, the ``runs`` row and the staging folder. The commit happens
once; after it, a failure (Parquet export, report) is a warning on the completed run,
and a failure before it is recorded as a failed run with the counts known so far.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from prefect import get_run_logger

from cxtext.config import Settings
from cxtext.ingest.feedback import FileTally
from cxtext.schema import PAIN_POINTS, QUARANTINE, TABLES, WATERMARKS, conform
from cxtext.store import staging
from cxtext.store.lock import warehouse_lock
from cxtext.store.warehouse import RunTables, open_warehouse, run_row
from pipelines import progress
from pipelines.preflight import RunPlan

T = TypeVar("T")


@dataclass
class RunSummary:
    """What a run did and where it wrote; returned by the flow and printed by the CLI."""

    run_id: str
    warehouse: str
    counts: dict[str, int]
    window_start: str | None
    window_end: str | None
    pain_points: pd.DataFrame
    parquet: dict[str, str] = field(default_factory=dict)
    report: str | None = None  # the HTML report, None if it could not be written
    stage_seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # after the commit: the data is safe
    files: dict[str, Any] = field(default_factory=dict)  # per input file: ingest.feedback.FileTally


@dataclass
class RunBook:
    """What one run has done so far; the flow fills it through :meth:`stage` and :meth:`count`."""

    plan: RunPlan
    run_id: str
    started: pd.Timestamp
    staging: Path
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    model_versions: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, dict[str, int | bool]] = field(default_factory=dict)
    committed: bool = False
    warnings_committed: int = 0  # warnings the committed ``runs`` row already holds

    @property
    def cache(self) -> Path:
        """This warehouse's reusable frames (:mod:`cxtext.store.frame_cache`), beside staging."""
        where = hashlib.sha256(self.plan.warehouse.encode()).hexdigest()[:16]
        return self.plan.staging_root / ".cache" / where

    def stage(
        self, name: str, fn: Callable[..., T], *args: Any, steps: int | None = None, **kwargs: Any
    ) -> T:
        """Run one stage, timed and reported to the progress listener."""
        progress.emit(name, "start", steps)
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn(*args, **kwargs)
        self.timings[name] = round(time.perf_counter() - t0, 3)
        # the flow process's CPU seconds too: on a shared machine wall time counts others'
        # work (worker processes' CPU is not in it: "partitions:*_cpu" has theirs)
        self.timings[f"{name}:cpu"] = round(time.process_time() - c0, 3)
        progress.emit(name, "done")
        return result

    def after_commit(self, name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """A stage whose failure cannot hurt the committed data: a warning, not a failed run."""
        try:
            return self.stage(name, fn, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 (the run's data is safe; say so and go on)
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.warn(f"{name} failed after the commit: {reason}")
            progress.emit(name, "done")
            return None

    def commit(self, fn: Callable[..., object], *args: Any) -> None:
        """The one write of the run's data; from here on a failure is only a warning."""
        self.stage("store", fn, *args)
        self.committed = True
        self.warnings_committed = len(self.warnings)

    def summary(
        self,
        pain_points: pd.DataFrame,
        window_end: pd.Timestamp,
        window_days: int,
        parquet: dict[str, str] | None,
        report: str | None,
    ) -> RunSummary:
        return RunSummary(
            run_id=self.run_id,
            warehouse=self.plan.warehouse,
            counts=dict(self.counts),
            window_start=str((window_end - pd.Timedelta(days=window_days)).date()),
            window_end=str(window_end.date()),
            pain_points=pain_points,
            parquet=parquet or {},
            report=report,
            stage_seconds=dict(self.timings),
            warnings=list(self.warnings),
        )

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        get_run_logger().warning(message)

    def count(self, **counts: int) -> None:
        self.counts.update({k: int(v) for k, v in counts.items()})

    def account_files(self, tallies: Mapping[str, FileTally]) -> None:
        """Per-file counts for the ``runs`` row's ``files`` (a failed run's row too)."""
        self.files = {
            name: {
                "read": t.read,
                "kept": t.kept,
                "quarantined": t.quarantined,
                "duplicates": t.duplicates,
                "not_read": t.unsupported,
                "reasons": t.reasons,
            }
            for name, t in tallies.items()
        }

    def row(self, status: str, error: str | None = None) -> pd.DataFrame:
        """The run's ``runs`` row as of now."""
        c = self.counts
        return run_row(
            run_id=self.run_id,
            started_at=self.started,
            finished_at=pd.Timestamp.now(tz="UTC"),
            status=status,
            parameters=json.dumps(self.plan.parameters),
            read=c.get("read"),
            kept=c.get("kept"),
            quarantined=c.get("quarantined"),
            duplicates=c.get("duplicates"),
            model_versions=json.dumps(self.model_versions),
            stage_seconds=json.dumps(self.timings),
            counts=json.dumps(c),
            warnings=json.dumps(self.warnings),
            error=error,
            files=json.dumps(self.files, ensure_ascii=False),
        )

    def tables(
        self,
        feedback_files: Sequence[Path],
        quarantine: Sequence[pd.DataFrame],
        customer_value: pd.DataFrame | None,
        pain_points: pd.DataFrame | None,
        watermarks: pd.DataFrame | None = None,
    ) -> RunTables:
        """Everything the commit writes, each row stamped with this run's id.

        ``None`` leaves that table as it is (a run with nothing new keeps its pain points).
        """
        self.model_versions = _model_versions(feedback_files)
        customer_value = (
            TABLES["customer_value"].empty() if customer_value is None else customer_value
        )
        pain_points = PAIN_POINTS.empty() if pain_points is None else pain_points
        return RunTables(
            run=self.row("completed"),
            feedback_files=feedback_files,
            quarantine=_stamped(
                conform(
                    pd.concat([QUARANTINE.empty(), *quarantine], ignore_index=True), QUARANTINE
                ),
                self.run_id,
            ),
            customer_value=_stamped(customer_value, self.run_id),
            pain_points=_stamped(pain_points, self.run_id),
            watermarks=WATERMARKS.empty() if watermarks is None else watermarks,
        )


def new_run_id() -> str:
    """Sortable by start time, unique across machines."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def _stamped(df: pd.DataFrame, run_id: str) -> pd.DataFrame:
    out = df.copy()
    out["run_id"] = run_id
    return out


def _model_versions(feedback_paths: Sequence[Path]) -> dict[str, list[str]]:
    cols = staging.read_partitions(list(feedback_paths), ["topic_model", "sentiment_model"])
    return {c: sorted(cols[c].dropna().unique().tolist()) for c in cols.columns}


def _record(warehouse: str, row: pd.DataFrame, what: str) -> None:
    """Best effort: the original error matters more than a failure to log it."""
    try:
        with open_warehouse(warehouse) as wh:
            wh.record_run(row)
    except Exception as exc:  # noqa: BLE001
        get_run_logger().warning("could not record the %s in %s: %s", what, warehouse, exc)


@contextmanager
def open_run(plan: RunPlan, settings: Settings) -> Iterator[RunBook]:
    """Hold the warehouse for one run and keep its books (see the module docstring)."""
    run_id = new_run_id()
    started = pd.Timestamp.now(tz="UTC")
    with warehouse_lock(
        plan.warehouse,
        run_id,
        started.isoformat(timespec="seconds"),
        settings.run.lock_wait_seconds,
    ):
        swept = staging.sweep_dead(plan.staging_root)
        with open_warehouse(plan.warehouse) as wh:  # tables created, writability known
            wh.check_writable()
        book = RunBook(
            plan=plan,
            run_id=run_id,
            started=started,
            staging=staging.create_staging(plan.staging_root, run_id),
        )
        for folder in swept:
            book.warn(f"removed the staging folder of a run that was killed: {folder.name}")
        try:
            yield book
        except BaseException as exc:
            if not book.committed:
                reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                _record(plan.warehouse, book.row("failed", error=reason), "failed run")
            raise
        finally:
            staging.remove_staging(book.staging)
        if book.committed and len(book.warnings) > book.warnings_committed:
            # a warning after the commit (a failed export or report): the row says it too
            _record(plan.warehouse, book.row("completed"), "run's warnings")
