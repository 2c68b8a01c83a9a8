"""Postgres as the nightly warehouse: COPY bulk loads in the run's one transaction, an
idempotent rerun, the advisory lock between runs, and write privileges checked up front."""

from __future__ import annotations

import time

import pandas as pd
import pytest
import sqlalchemy as sa
from test_store import feedback_rows, stage

from cxtext.errors import WarehouseError
from cxtext.store.lock import warehouse_lock
from cxtext.store.warehouse import RunTables, check_writable, open_warehouse, run_row

pytestmark = pytest.mark.postgres


@pytest.fixture
def url(clean_pg_url: str) -> str:
    return clean_pg_url


def test_bulk_load_is_copy_in_one_transaction_and_a_rerun_is_idempotent(url, tmp_path, monkeypatch):
    def no_row_inserts(*args, **kwargs):
        raise AssertionError("rows must be bulk-loaded with COPY, not INSERT batches")

    monkeypatch.setattr(pd.DataFrame, "to_sql", no_row_inserts)
    ids = [f"t{i}" for i in range(30_000)]
    parts = [
        stage(tmp_path, feedback_rows(ids[:15_000]), "a"),
        stage(tmp_path, feedback_rows(ids[15_000:]), "b"),
    ]
    tables = RunTables(
        run=run_row(run_id="r1", status="completed", read=30_000), feedback_files=parts
    )
    with open_warehouse(url) as wh:
        t0 = time.perf_counter()
        wh.commit_run(tables)
        seconds = time.perf_counter() - t0
        wh.commit_run(tables)  # a retried commit rewrites the same rows by key
        assert wh.counts()["feedback"] == 30_000 and wh.counts()["runs"] == 1
        stored = wh.read_feedback()
    assert set(stored["id"]) == set(ids) and stored["created_at"].dt.tz is not None
    assert seconds < 30


def test_a_second_run_waits_for_the_advisory_lock_and_names_the_holder(url):
    with warehouse_lock(url, "night-1", "2026-11-29T22:00:00+00:00", 0):
        t0 = time.monotonic()
        with pytest.raises(WarehouseError) as caught, warehouse_lock(url, "night-2", "later", 0.5):
            pass
        assert time.monotonic() - t0 >= 0.5
    assert "another run (id night-1, started at 2026-11-29T22:00:00+00:00) holds" in str(
        caught.value
    )
    with warehouse_lock(url, "night-3", "now", 0):  # released with its session
        pass


def test_a_user_without_write_privileges_is_stopped_before_the_run(url):
    with open_warehouse(url):
        pass  # tables created by the owner
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP ROLE IF EXISTS cx_reader")
        conn.exec_driver_sql("CREATE ROLE cx_reader LOGIN")
        conn.exec_driver_sql("GRANT SELECT ON ALL TABLES IN SCHEMA public TO cx_reader")
    engine.dispose()
    reader = url.replace("postgres@", "cx_reader@", 1)
    with pytest.raises(WarehouseError, match="may not write table"):
        check_writable(reader)
