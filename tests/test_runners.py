"""The process runner's workers end when the flow releases them (their models with them),
and the runner still takes tasks afterwards: guards the one place that reaches into
Prefect's private pool (pipelines/runners.py), so a Prefect upgrade that moves it fails here."""

from __future__ import annotations

import os

from pipelines import runners
from pipelines.runners import LocalProcessTaskRunner


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_release_workers_ends_the_worker_processes_and_keeps_the_runner_usable(monkeypatch):
    monkeypatch.setattr(runners, "temporary_api", lambda: "")  # no task reports anywhere here
    with LocalProcessTaskRunner(max_workers=2) as runner:
        pool = runners.process_pool(runner)
        assert pool is not None
        first = {pool.submit(os.getpid).result(timeout=120) for _ in range(4)}
        assert first and all(_alive(pid) for pid in first)
        assert os.getpid() not in first

        runner.release_workers()

        assert not any(_alive(pid) for pid in first)
        later = runners.process_pool(runner)
        assert later is not None and later is not pool
        assert later.submit(os.getpid).result(timeout=120) not in first


def test_release_workers_before_the_runner_starts_does_nothing():
    runner = LocalProcessTaskRunner(max_workers=2)
    runner.release_workers()
    assert runners.process_pool(runner) is None


def _models_loaded() -> tuple[int, int]:
    """(models sets held, loads done) in the process that runs it."""
    from pipelines.nightly import _classifiers_once

    info = _classifiers_once.cache_info()
    return info.currsize, info.misses


def _encoder_runtime_built() -> tuple[int, int]:
    """(onnxruntime sessions held, sessions built) in the process that runs it."""
    from cxtext.classify.encoder import onnx_session

    info = onnx_session.cache_info()
    return info.currsize, info.misses


def test_workers_fork_from_a_server_that_loaded_the_models_once(monkeypatch):
    """Workers are forked from one server that imported the task's modules and loaded the
    run's models before the first partition: no worker imports or loads them again."""
    from cxtext.config import resolve

    monkeypatch.setattr(runners, "temporary_api", lambda: "")
    with LocalProcessTaskRunner(max_workers=2) as runner:
        runner.preload_workers(resolve("models"), resolve("data/taxonomy.yaml"))
        pool = runners.process_pool(runner)
        assert pool is not None
        servers = {pool.submit(os.getppid).result(timeout=120) for _ in range(4)}
        assert len(servers) == 1 and os.getpid() not in servers  # forked, not spawned by us
        # loaded in the server before the fork: the worker's cache holds them, and no call
        # of its own loaded them (one miss, the server's)
        assert pool.submit(_models_loaded).result(timeout=120) == (1, 1)
        # the shipped models embed with e5: its runtime was built in the server too, once
        # (each worker built its own, ~100 MiB of private memory per worker)
        assert pool.submit(_encoder_runtime_built).result(timeout=120) == (1, 1)

        runner.release_workers()  # the server ends with the workers: it holds the models too

        assert not any(_alive(pid) for pid in servers)
        later = runners.process_pool(runner)
        assert later.submit(os.getpid).result(timeout=120) != os.getpid()


def test_input_size_counts_only_files_that_are_read(tmp_path):
    (tmp_path / "a.csv").write_bytes(b"x" * 2**20)
    (tmp_path / "dangling.csv").symlink_to(tmp_path / "gone.csv")  # listed, never read
    (tmp_path / "_SUCCESS").write_bytes(b"y" * 2**20)
    assert runners.input_megabytes([tmp_path]) == 1.0
