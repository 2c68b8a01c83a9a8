"""Scale-out proven: the nightly flow on a local Dask cluster of two worker processes writes
the same tables as the default thread runner, and the workers report to the flow's API."""

from __future__ import annotations

import httpx
from prefect_dask import DaskTaskRunner
from test_end_to_end import write_inputs
from test_run_safety import _assert_same_tables, _tables

from pipelines.nightly import nightly
from pipelines.prefect_server import temporary_api


def test_two_dask_worker_processes_write_the_same_tables(tmp_path, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    api = temporary_api()  # exported, so the worker processes use this server too
    monkeypatch.setenv("PREFECT_API_URL", api)  # (and restored after this test)
    inputs = write_inputs(tmp_path / "inputs")
    files = [str(inputs["feedback"] / "tickets.csv"), str(inputs["feedback"] / "reviews.csv")]
    kwargs = dict(
        feedback=files, customers=str(inputs["customers"]), transactions=str(inputs["transactions"])
    )
    threads = nightly(warehouse=str(tmp_path / "threads" / "cx.duckdb"), **kwargs)
    dask_flow = nightly.with_options(
        task_runner=DaskTaskRunner(
            cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True}
        )
    )
    before = _classify_runs(api)
    on_dask = dask_flow(warehouse=str(tmp_path / "dask" / "cx.duckdb"), **kwargs)
    _assert_same_tables(
        _tables(tmp_path / "threads" / "cx.duckdb"), _tables(tmp_path / "dask" / "cx.duckdb")
    )
    assert on_dask.counts == threads.counts
    # The classify tasks ran in the workers and were recorded on the flow's own server.
    # one per partition (both small files fill one partition here)
    assert _classify_runs(api) - before == on_dask.counts["partitions"] == 1


def _classify_runs(api: str) -> int:
    body = {
        "task_runs": {"name": {"like_": "classify"}, "state": {"type": {"any_": ["COMPLETED"]}}}
    }
    return len(httpx.post(f"{api}/task_runs/filter", json=body, timeout=10).json())
