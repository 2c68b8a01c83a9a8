"""Fail early, loudly and briefly: bad settings, dates and warehouses stop a run before any stage.

These run the CLI in-process without starting Prefect: the preflight runs first, so
each case ends in well under a second with one line and its documented exit code.
"""

from __future__ import annotations

import threading
import time

import pytest
from typer.testing import CliRunner

from cxtext.cli import app
from cxtext.config import load_settings
from cxtext.errors import SettingsError, WarehouseError
from cxtext.store.lock import warehouse_lock
from pipelines.preflight import parse_as_of, plan_run

runner = CliRunner()


def _run(*args: str):
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "settings_text, expected",
    [
        ("value:\n  uplift_bootstrapp: 3\n", "did you mean 'uplift_bootstrap'?"),
        ("painpoints:\n  window_days: 0\n", "painpoints.window_days must be >= 1, got 0"),
    ],
)
def test_bad_settings_exit_2_with_one_line(tmp_path, settings_text, expected):
    config = tmp_path / "cx.yaml"
    config.write_text(settings_text, encoding="utf-8")
    code, out = _run("run", "--config", str(config), "--warehouse", str(tmp_path / "cx.duckdb"))
    assert code == 2
    assert expected in out and str(config) in out.replace("\n", "")
    assert "Traceback" not in out and len(out.strip().splitlines()) <= 2


def test_bad_as_of_exits_2(tmp_path):
    code, out = _run("run", "--as-of", "yesterday-ish", "--warehouse", str(tmp_path / "cx.duckdb"))
    assert code == 2 and "--as-of 'yesterday-ish' is not a date" in out and "Traceback" not in out
    assert parse_as_of("2026-11-30").isoformat() == "2026-11-30T00:00:00+00:00"
    assert parse_as_of("2026-11-30T03:30:00+03:30").isoformat() == "2026-11-30T00:00:00+00:00"


def test_unwritable_warehouse_exits_3_before_anything_runs(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    warehouse = blocker / "cx.duckdb"
    code, out = _run("run", "--warehouse", str(warehouse))
    assert code == 3 and f"cannot write the DuckDB warehouse {warehouse}" in out.replace("\n", "")
    assert "Traceback" not in out


def test_unwritable_output_folder_exits_3(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    code, out = _run(
        "run", "--warehouse", str(tmp_path / "cx.duckdb"), "--out", str(blocker / "parquet")
    )
    assert code == 3 and "Parquet (--out) folder" in out and "not writable" in out


def test_unreachable_postgres_exits_3_naming_the_url_without_password():
    code, out = _run("run", "--warehouse", "postgresql://cx:secret@127.0.0.1:1/cx")
    flat = out.replace("\n", "")
    assert code == 3 and "cannot reach the Postgres warehouse" in flat and "127.0.0.1:1/cx" in flat
    assert "secret" not in out and "Traceback" not in out


def test_debug_shows_the_traceback(tmp_path):
    result = runner.invoke(app, ["--debug", "run", "--as-of", "nope"])
    assert result.exit_code != 0 and result.exception is not None
    assert type(result.exception).__name__ == "SettingsError"


def test_reading_a_missing_warehouse_exits_3(tmp_path):
    code, out = _run("pain-points", "--warehouse", str(tmp_path / "none.duckdb"))
    assert code == 3 and "no warehouse at" in out


def test_plan_fills_the_sample_and_report_beside_the_warehouse(tmp_path):
    plan = plan_run(
        load_settings(), warehouse=str(tmp_path / "w" / "cx.duckdb"), as_of="2026-01-02"
    )
    assert plan.feedback[0].endswith("data/sample/feedback") and plan.customers
    assert plan.report == tmp_path / "w" / "report.html"
    assert plan.staging_root == tmp_path / "w" and plan.as_of.year == 2026


def test_a_second_run_waits_then_names_the_holder(tmp_path, caplog):
    warehouse = str(tmp_path / "cx.duckdb")
    with warehouse_lock(warehouse, "run-1", "2026-11-29T22:00:00+00:00", 0):
        t0 = time.monotonic()
        with (
            pytest.raises(WarehouseError) as caught,
            warehouse_lock(warehouse, "run-2", "2026-11-29T22:01:00+00:00", 0.3),
        ):
            pass
        assert time.monotonic() - t0 >= 0.3
    assert (
        "another run (id run-1, started at 2026-11-29T22:00:00+00:00) holds the warehouse"
        in str(caught.value)
    )
    assert caught.value.exit_code == 3
    assert "another run (id run-1, started at 2026-11-29T22:00:00+00:00) holds" in caplog.text
    assert "waiting up to 0.3 s" in caplog.text  # said while waiting, not only at the end
    with warehouse_lock(warehouse, "run-3", "later", 0):  # released: free again
        pass


def test_a_waiting_run_proceeds_when_the_holder_finishes(tmp_path):
    warehouse = str(tmp_path / "cx.duckdb")
    order = []

    def first() -> None:
        with warehouse_lock(warehouse, "run-1", "t1", 0):
            order.append("first in")
            time.sleep(0.5)
            order.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.1)
    with warehouse_lock(warehouse, "run-2", "t2", 10):
        order.append("second in")
    thread.join()
    assert order == ["first in", "first out", "second in"]


def test_schedule_against_a_server_that_does_not_answer_is_a_settings_error():
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from pipelines.prefect_server import scheduling_api

    with (
        temporary_settings({PREFECT_API_URL: "http://127.0.0.1:1/api"}),
        pytest.raises(
            SettingsError, match="PREFECT_API_URL=http://127.0.0.1:1/api does not answer"
        ),
    ):
        scheduling_api(4200)
