"""Unattended runs: honest run records, crashes that leave nothing behind, one run at a time.

One small bilingual input (the end-to-end fixture) serves every test. Crash tests run
the real `cxtext run` in a subprocess (tests/cli_driver.py freezes it at a chosen
progress event) and SIGKILL it there; they then check that the previous tables are
intact, that no planted PII is on disk under the warehouse folder, that no process was
left behind, and that the next run equals a clean one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from prefect.server.api.server import SubprocessASGIServer
from test_end_to_end import write_inputs

import pipelines.nightly as nightly_module
from cxtext.store.duckdb_store import DuckDBWarehouse
from pipelines.nightly import nightly

REPO = Path(__file__).resolve().parents[1]
# Planted in an input file only; none of these may ever reach the disk unredacted.
LEAK_EMAIL = "planted.leak@example.org"
LEAK_PHONES = ("09351234567", "۰۹۳۶۷۶۵۴۳۲۱")
LATIN_TO_FA = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
FA_TO_LATIN = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")
NEEDLES = [LEAK_EMAIL] + [
    v
    for p in LEAK_PHONES
    for v in (p.translate(FA_TO_LATIN), p.translate(FA_TO_LATIN).translate(LATIN_TO_FA))
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str] | str]:
    """in1: the fixture's two files; in2: the same plus a file of planted PII."""
    base = tmp_path_factory.mktemp("inputs")
    files = write_inputs(base / "in")
    leaks = pd.DataFrame(
        {
            "id": ["L1", "L2", "L3"],
            "text": [
                f"refund missing, write to {LEAK_EMAIL} please",
                f"the app crashes, call {LEAK_PHONES[0]} now",
                f"پشتیبانی جواب نمیده با {LEAK_PHONES[1]} تماس بگیرید",
            ],
            "created_at": ["2026-11-12T10:00:00Z", "2026-11-13T10:00:00Z", "2026-11-14T10:00:00Z"],
            "customer_id": ["c1", "c2", "c3"],
        }
    )
    leaks.to_csv(base / "leaks.csv", index=False)
    in1 = [str(files["feedback"] / "tickets.csv"), str(files["feedback"] / "reviews.csv")]
    return {
        "in1": in1,
        "in2": [*in1, str(base / "leaks.csv")],
        "customers": str(files["customers"]),
        "transactions": str(files["transactions"]),
    }


def _run_in_process(inputs: dict, files_key: str, warehouse: Path, **kwargs: object):
    return nightly(
        feedback=inputs[files_key],
        customers=inputs["customers"],
        transactions=inputs["transactions"],
        warehouse=str(warehouse),
        **kwargs,
    )


def _tables(warehouse: Path) -> dict[str, pd.DataFrame]:
    """Every output table but ``runs``, without run ids, sorted by key: comparable across runs."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out = {}
        for name, key in (
            ("feedback", ["source", "id"]),
            ("pain_points", ["window_end", "segment", "theme_id"]),
            ("customer_value", ["customer_id"]),
            ("quarantine", ["source_file", "source_row"]),
        ):
            df = con.execute(f'SELECT * FROM "{name}"').df()  # noqa: S608
            # text_hash is keyed by each warehouse's own pseudonym key: equal only within one
            df = df.drop(columns=["run_id", "text_hash"], errors="ignore")
            out[name] = df.sort_values(key).reset_index(drop=True)
        return out
    finally:
        con.close()


def _assert_same_tables(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    for name in left:
        pd.testing.assert_frame_equal(left[name], right[name], check_exact=False, rtol=1e-9)


def _strings_in(path: Path) -> list[str]:
    """Every text a file holds, decoded: Parquet and DuckDB are compressed, so grep would miss."""
    if path.suffix == ".parquet":
        try:
            table = pq.read_table(path)
        except Exception:  # noqa: BLE001 (a torn file: fall back to its bytes)
            return [path.read_bytes().decode("utf-8", "replace")]
        return [str(v) for col in table.columns for v in col.to_pylist() if v is not None]
    if path.suffix == ".duckdb":
        con = duckdb.connect(str(path), read_only=True)
        try:
            names = [
                r[0]
                for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
            ]
            return [
                str(v)
                for n in names
                for row in con.execute(f'SELECT * FROM "{n}"').fetchall()  # noqa: S608
                for v in row
                if v is not None
            ]
        finally:
            con.close()
    return [path.read_bytes().decode("utf-8", "replace")]


def _planted_pii_on_disk(folder: Path) -> list[tuple[str, str]]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.name.endswith((".lock", ".wal")):
            for text in _strings_in(path):
                found += [(str(path), n) for n in NEEDLES if n in text]
    return found


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_run_at(inputs: dict, warehouse: Path, stage: str, event: str, tmp: Path) -> None:
    """Start `cxtext run` on in2, SIGKILL it at (stage, event), check no process survives."""
    marker = tmp / f"frozen-{stage}"
    args = ["run", "--warehouse", str(warehouse), "--customers", inputs["customers"]]
    args += ["--transactions", inputs["transactions"]]
    for f in inputs["in2"]:
        args += ["--feedback", f]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PREFECT_API_URL", None)  # a temporary server of its own, which must die with it
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "tests" / "cli_driver.py"),
            stage,
            event,
            str(marker),
            "--",
            *args,
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 240
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"run ended before {stage}: {proc.stderr.read().decode()[-2000:]}")
        assert time.monotonic() < deadline, f"never reached {stage} {event}"
        time.sleep(0.2)
    spawned = _descendants(proc.pid)
    assert spawned, "the run should have a temporary Prefect server (and its watchdog)"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    deadline = time.monotonic() + 15
    while any(_alive(p) for p in spawned) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [p for p in spawned if _alive(p)] == [], "processes outlived the killed run"


def _crash_and_recover(inputs: dict, tmp_path: Path, stage: str, event: str) -> None:
    warehouse = tmp_path / "wh" / "cx.duckdb"
    _run_in_process(inputs, "in1", warehouse)
    before = _tables(warehouse)

    _kill_run_at(inputs, warehouse, stage, event, tmp_path)

    _assert_same_tables(before, _tables(warehouse))  # the previous tables are intact
    assert _planted_pii_on_disk(warehouse.parent) == []
    summary = _run_in_process(inputs, "in2", warehouse)  # the next run sweeps and completes
    assert any("removed the staging folder of a run that was killed" in w for w in summary.warnings)
    assert not (warehouse.parent / ".staging").exists() or not any(
        (warehouse.parent / ".staging").iterdir()
    )
    clean = tmp_path / "clean" / "cx.duckdb"
    _run_in_process(inputs, "in2", clean)
    _assert_same_tables(_tables(clean), _tables(warehouse))
    # Incremental: documents of files the first run read are skipped, the rest are new.
    assert summary.counts["new"] + summary.counts["skipped"] == len(_tables(clean)["feedback"])
    assert _planted_pii_on_disk(warehouse.parent) == []


def test_a_run_killed_while_classifying_partitions_leaves_nothing_behind(inputs, tmp_path):
    _crash_and_recover(inputs, tmp_path, "partitions", "advance")


@pytest.mark.slow
@pytest.mark.parametrize(
    "stage, event",
    [("plan", "done"), ("gather", "start"), ("store", "start"), ("store", "mid")],
)
def test_a_run_killed_at_any_stage_leaves_nothing_behind(inputs, tmp_path, stage, event):
    _crash_and_recover(inputs, tmp_path, stage, event)


def test_a_failure_after_the_commit_is_a_warning_and_the_commit_happens_once(
    inputs, tmp_path, monkeypatch
):
    commits = []
    real_commit = DuckDBWarehouse.commit_run

    def counted(self, tables):
        commits.append(tables.run["run_id"].iloc[0])
        return real_commit(self, tables)

    def broken_export(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(DuckDBWarehouse, "commit_run", counted)
    monkeypatch.setattr(nightly_module, "export_tables", broken_export)
    warehouse = tmp_path / "cx.duckdb"
    summary = _run_in_process(inputs, "in1", warehouse, parquet_dir=str(tmp_path / "pq"))
    assert commits == [summary.run_id]  # once, not retried after the export failed
    # Stages may add their own notes (value, discovery); the export failure is among them.
    assert "export failed after the commit: disk full" in summary.warnings
    con = duckdb.connect(str(warehouse), read_only=True)
    runs = con.execute("SELECT * FROM runs").df()
    con.close()
    (run,) = runs.itertuples()
    assert run.status == "completed" and run.kept == summary.counts["kept"] > 0
    assert json.loads(run.warnings) == summary.warnings
    assert json.loads(run.counts)["pain_points"] == summary.counts["pain_points"] > 0


def test_a_failed_run_is_recorded_with_its_counts_and_reason(inputs, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("ranking exploded")

    monkeypatch.setattr(nightly_module, "rank_pain_points", broken)
    warehouse = tmp_path / "cx.duckdb"
    with pytest.raises(RuntimeError, match="ranking exploded"):
        _run_in_process(inputs, "in1", warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    (run,) = con.execute("SELECT * FROM runs").df().itertuples()
    stored = con.execute("SELECT count(*) FROM feedback").fetchone()[0]
    con.close()
    assert run.status == "failed" and "ranking exploded" in run.error
    assert run.read > 0 and run.kept > 0 and stored == 0
    assert not any((warehouse.parent / ".staging").iterdir())


def test_two_runs_at_once_serialize_and_rank_the_union(inputs, tmp_path):
    """Both exit 0; the second waits for the first; pain points count every stored document.

    A third command beside them fails inside the flow: its exit code and one-line message
    arrive without Prefect's traceback.
    """
    warehouse = tmp_path / "both" / "cx.duckdb"
    server = SubprocessASGIServer()  # this session's temporary server: no start-up per command
    server.start()
    env = {**os.environ, "PYTHONPATH": str(REPO), "PREFECT_API_URL": server.api_url}
    procs = []
    for f in inputs["in1"]:
        args = ["run", "--warehouse", str(warehouse), "--feedback", f]
        args += ["--customers", inputs["customers"], "--transactions", inputs["transactions"]]
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "cxtext", *args],
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        )
    # Meanwhile a run whose only file loses every row: exit 1, one line, no traceback.
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text,created_at\n1,,2026-11-01\n", encoding="utf-8")
    rejected = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cxtext",
            "run",
            "--feedback",
            str(bad),
            "--warehouse",
            str(tmp_path / "bad" / "cx.duckdb"),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    outputs = [p.communicate(timeout=400)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    out = rejected.communicate(timeout=400)[0].decode()
    assert rejected.returncode == 1 and "error: input rejected" in out
    assert "Traceback" not in out, out
    clean = tmp_path / "clean" / "cx.duckdb"
    _run_in_process(inputs, "in1", clean)
    _assert_same_tables(_tables(clean), _tables(warehouse))
    con = duckdb.connect(str(warehouse), read_only=True)
    statuses = con.execute("SELECT status FROM runs").df()["status"].tolist()
    con.close()
    assert statuses == ["completed", "completed"]
