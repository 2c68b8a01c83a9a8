"""One run at a time per warehouse: a lock file beside a DuckDB file, an advisory lock in Postgres.

A run holds the lock from before its first read of the warehouse until after its last
write, so the pain points it computes from the stored documents include every committed
run, and two runs never interleave their commits. A second run waits up to
``run.lock_wait_seconds``, then fails with :class:`~cxtext.errors.WarehouseError` naming
the run that holds the warehouse. Both locks die with their process: the OS drops a
dead process's file lock, Postgres a dead session's advisory lock.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from cxtext.errors import WarehouseError
from cxtext.store.warehouse import is_postgres

log = logging.getLogger(__name__)


def _busy(location: str, holder: str, waited: float) -> WarehouseError:
    return WarehouseError(
        f"another run ({holder}) holds the warehouse {location}; waited {waited:g} s "
        "(run.lock_wait_seconds). Try again when it has finished."
    )


def _holder(holder_file: Path) -> str:
    try:
        info = json.loads(holder_file.read_text(encoding="utf-8"))
        return f"id {info['run_id']}, started at {info['started_at']}"
    except (OSError, ValueError, KeyError):
        return "id unknown"


@contextmanager
def _duckdb_lock(path: Path, run_id: str, started: str, wait: float) -> Iterator[None]:
    lock = filelock.FileLock(f"{path}.lock", thread_local=False)
    holder_file = Path(f"{path}.run")  # the lock file itself is truncated by waiters
    try:
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            log.warning(
                "another run (%s) holds %s; waiting up to %g s", _holder(holder_file), path, wait
            )
            lock.acquire(timeout=wait)
    except filelock.Timeout as exc:
        raise _busy(str(path), _holder(holder_file), wait) from exc
    except OSError as exc:
        raise WarehouseError(f"{path}.lock: cannot create the run lock ({exc.strerror})") from exc
    try:
        holder_file.write_text(json.dumps({"run_id": run_id, "started_at": started}), "utf-8")
        yield
    finally:
        holder_file.unlink(missing_ok=True)
        lock.release()


# Advisory locks are per database: every cxtext run on one database takes this key.
ADVISORY_KEY = zlib.crc32(b"cxtext-warehouse-run") & 0x7FFFFFFF


@contextmanager
def _postgres_lock(url: str, run_id: str, started: str, wait: float) -> Iterator[None]:
    import sqlalchemy as sa  # noqa: PLC0415 (only Postgres warehouses need it)

    from cxtext.store.postgres import engine_for  # noqa: PLC0415

    engine = engine_for(url, application_name=f"cxtext run {run_id} started {started}")
    key = ADVISORY_KEY
    try:
        conn = engine.connect()
    except sa.exc.OperationalError as exc:
        engine.dispose()
        raise WarehouseError(
            f"cannot reach {engine.url.render_as_string(hide_password=True)}"
        ) from exc
    try:
        deadline = time.monotonic() + wait
        waiting = False
        while not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            conn.rollback()
            if not waiting:
                where = engine.url.render_as_string(hide_password=True)
                log.warning("another run holds %s; waiting up to %g s", where, wait)
                waiting = True
            if time.monotonic() >= deadline:
                holder = conn.execute(
                    sa.text(
                        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                        "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.objid = :k "
                        "AND l.granted AND l.database = "
                        "(SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1"
                    ),
                    {"k": key},
                ).scalar()
                name = (
                    (holder or "").removeprefix("cxtext run ").replace(" started ", ", started at ")
                )
                raise _busy(
                    engine.url.render_as_string(hide_password=True), f"id {name or 'unknown'}", wait
                )
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
        conn.commit()
        yield
    finally:
        try:
            conn.execute(sa.text("SELECT pg_advisory_unlock_all()"))
            conn.commit()
        finally:
            conn.close()
            engine.dispose()


@contextmanager
def warehouse_lock(location: str, run_id: str, started: str, wait_seconds: float) -> Iterator[None]:
    """Hold the warehouse at ``location`` for one run (see the module docstring)."""
    if is_postgres(location):
        with _postgres_lock(location, run_id, started, wait_seconds):
            yield
    else:
        with _duckdb_lock(Path(location), run_id, started, wait_seconds):
            yield
