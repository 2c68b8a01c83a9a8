"""The schedule fires: a real Prefect server on loopback, the nightly deployment served on an
every-minute cron (the weekly retrain beside it), and a completed flow run within three minutes.

Marked ``scheduler`` (it takes one to three minutes); `.ci/run` runs it after `make test`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from test_end_to_end import write_inputs

from pipelines.prefect_server import server_command

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _completed_runs(api: str, deployment: str) -> list[dict]:
    body = {
        "deployments": {"name": {"any_": [deployment]}},
        "flow_runs": {"state": {"type": {"any_": ["COMPLETED", "FAILED", "CRASHED"]}}},
    }
    return httpx.post(f"{api}/flow_runs/filter", json=body, timeout=10).json()


@pytest.mark.scheduler
def test_a_served_every_minute_schedule_produces_a_completed_run(tmp_path):
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
        "PREFECT_RUNNER_POLL_FREQUENCY": "5",
    }
    env.pop("PREFECT_API_URL", None)
    server = subprocess.Popen(
        server_command(port),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "server.log").open("w"),
        start_new_session=True,
    )
    served = None
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the Prefect server did not start"
            time.sleep(1)

        inputs = write_inputs(tmp_path / "inputs")
        labelled = tmp_path / "labelled.csv"
        labelled.write_text("text,label\ngreat app,positive\nit crashes,negative\n", "utf-8")
        config = tmp_path / "cx.yaml"
        config.write_text(f"retrain:\n  data:\n    sentiment-en: [{labelled}]\n", "utf-8")
        served = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cxtext",
                "schedule",
                "--cron",
                "* * * * *",
                "--feedback",
                str(inputs["feedback"] / "tickets.csv"),
                "--warehouse",
                str(tmp_path / "cx.duckdb"),
                "--config",
                str(config),
            ],
            cwd=REPO,
            env={**env, "PREFECT_API_URL": api},
            stdout=(tmp_path / "serve.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 180
        runs: list[dict] = []
        while not runs:
            assert served.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (
                "no finished scheduled run in 3 minutes\n"
                + (tmp_path / "server.log").read_text()[-3000:]
            )
            time.sleep(5)
            runs = _completed_runs(api, "nightly")
        assert runs[0]["state"]["type"] == "COMPLETED", (tmp_path / "serve.log").read_text()[-3000:]
        assert runs[0]["auto_scheduled"] is True
        assert (tmp_path / "cx.duckdb").exists()
        # The weekly retrain is served beside the nightly run, for the role with data.
        served_names = {d["name"] for d in httpx.post(f"{api}/deployments/filter", json={}).json()}
        assert served_names == {"nightly", "retrain-sentiment-en"}
    finally:
        if served is not None:
            _stop(served)
        _stop(server)
