"""`run`, `backfill` and `schedule` take the same inputs, --columns included."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import pipelines.deployments
from cxtext.cli import app
from cxtext.cli import run as run_module

COLUMNS = "id=ticket_id,text=comment,created_at=date"


def _export(tmp_path: Path) -> Path:
    path = tmp_path / "tickets.csv"
    path.write_text("ticket_id,comment,date\nT1,app crashes,2026-10-02\n", encoding="utf-8")
    return path


def test_backfill_passes_columns_to_the_flow(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(run_module, "_run_flow", lambda arguments, *a: seen.update(arguments))
    export = _export(tmp_path)
    result = CliRunner().invoke(
        app, ["backfill", "--from", "2026-10-01", "--feedback", str(export), "--columns", COLUMNS]
    )
    assert result.exit_code == 0, result.output
    assert seen["columns"] == COLUMNS and seen["feedback"] == [str(export)]
    assert seen["backfill_from"] == "2026-10-01"


def test_backfill_columns_without_feedback_is_refused_before_prefect_starts():
    result = CliRunner().invoke(app, ["backfill", "--from", "2026-10-01", "--columns", COLUMNS])
    assert result.exit_code == 2
    assert "--columns maps the columns of the --feedback files" in result.output


def test_schedule_serves_the_columns_it_was_given(monkeypatch, tmp_path):
    served = {}

    def deployment(name, cron, timezone=None, parameters=None):
        served.update(parameters)
        raise ValueError("stop before serving")

    monkeypatch.setattr(pipelines.deployments, "nightly_deployment", deployment)
    export = _export(tmp_path)
    args = ["schedule", "--feedback", str(export), "--columns", COLUMNS]
    result = CliRunner().invoke(app, [*args, "--warehouse", str(tmp_path / "cx.duckdb")])
    assert result.exit_code == 2 and "stop before serving" in result.output
    assert served["columns"] == COLUMNS and served["feedback"] == [str(export)]


@pytest.mark.parametrize("command", ["run", "backfill", "schedule"])
def test_every_command_that_reads_exports_documents_columns(command):
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert "--columns" in result.output and "id=ticket_id" in result.output


def test_a_backfill_says_its_skipped_rows_may_be_outside_its_dates():
    counts = {"read": 9, "kept": 9, "quarantined": 0, "duplicates": 0, "new": 2, "skipped": 7}
    night = run_module._counts_line("r1", counts, backfill=False)
    dated = run_module._counts_line("r2", counts, backfill=True)
    assert "skipped 7 (already stored) ·" in night
    assert "skipped 7 (already stored or outside the dates) ·" in dated
    assert run_module._is_backfill({"backfill_from": "2026-10-01", "backfill_to": None})
    assert not run_module._is_backfill({"backfill_from": None, "backfill_to": None})
