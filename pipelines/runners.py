"""Where partition tasks run: worker processes by default for large inputs, else threads.

Classifying a partition is CPU-bound Python (hazm, regexes, scikit-learn's n-gram
analyzers), so threads share one core; worker processes use them all. Prefect's own
process pool is the default rather than a local Dask cluster: on the same 30k documents
a local Dask cluster of two workers used 37% more CPU and 25% more memory for the same
work (one run each, ``benchmarks/README.md``). Starting the workers (their fork server
imports Prefect, pandas, scikit-learn and hazm and loads the models: ~6 CPU-s) costs more
than it saves on small inputs, so they run in threads (``run.processes_from_mb``; the same threshold applies to the files a run actually
reads, so a small incremental night over a large folder stays in the flow's process). Dask
(through prefect-dask) stays the way to scale past one machine (``--dask-address``);
there is no scheduler or queue of our own. Worker processes report to the flow's Prefect
API (:func:`pipelines.prefect_server.temporary_api` exports its URL); workers of a remote
cluster need ``PREFECT_API_URL`` set in their own environment.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver
from pathlib import Path
from typing import Any

from prefect.task_runners import (
    ProcessPoolTaskRunner,
    TaskRunner,
    ThreadPoolTaskRunner,
    _initialize_process_pool_worker,
)

from cxtext.config import RunSettings
from cxtext.ingest.feedback import input_files
from cxtext.ingest.sources import SourceSpec
from pipelines.prefect_server import temporary_api

# The fork server imports this module (the partition task's, its libraries, the models).
PRELOAD_MODULE = "pipelines.worker_preload"
PRELOAD_ENV = "CXTEXT_WORKER_PRELOAD"  # JSON [models folder, taxonomy file] for PRELOAD_MODULE
# Windows has no fork server: there the workers are spawned, as Prefect's own pool does
# (each imports and loads the models itself: slower to start, the same results).
START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


class LocalProcessTaskRunner(ProcessPoolTaskRunner):
    """Prefect's process pool whose workers share this process's temporary API server.

    ``in_process_below_mb``: a run whose files to read (the changed ones) are smaller
    classifies them in the flow's own process, so a small incremental night does not
    pay for starting the workers (the pool starts its processes on the first task).

    Workers are forked from a fork server (Prefect's own pool spawns each from a fresh
    interpreter) that :meth:`preload_workers` starts with the partition task's modules
    and the run's models loaded: each spawned worker paid ~5-6 CPU-s of imports and
    loaded its own models, and held its own copy of both (benchmarks/README.md, session
    7). A fork server, not a fork of the flow: the flow's process has threads
    (Prefect's event loop, the API client), which a forked child would lack.
    """

    def __init__(self, max_workers: int | None = None, in_process_below_mb: float = 0.0) -> None:
        super().__init__(max_workers=max_workers)
        self.in_process_below_mb = in_process_below_mb

    def __enter__(self) -> LocalProcessTaskRunner:
        # Workers read PREFECT_API_URL; without it each would start a server of its own.
        temporary_api()
        super().__enter__()
        spawning = process_pool(self)  # Prefect's spawn pool: no process started yet
        replace_process_pool(self, self._forking_pool())
        if spawning is not None:
            spawning.shutdown(wait=False)
        return self

    def __exit__(self, *exc: Any) -> None:
        super().__exit__(*exc)
        stop_fork_server()

    def _forking_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._max_workers,
            mp_context=multiprocessing.get_context(START_METHOD),
            initializer=_initialize_process_pool_worker,
            initargs=(self._subprocess_message_queue, self._initializer, self._initargs),
        )

    def preload_workers(self, models_dir: Path, taxonomy_path: Path) -> None:
        """Start the workers' fork server with the task's modules and these models loaded
        (before the first partition is submitted; the models load once, not per worker)."""
        if START_METHOD == "forkserver":
            start_fork_server(models_dir, taxonomy_path)

    def release_workers(self) -> None:
        """End the worker processes now: the models, tokenizers and classifier caches they
        hold go with them, so the flow's value stages do not run beside idle workers.

        The pool is replaced by an empty one of the same kind (it starts no process until
        a task is submitted), so the runner still takes tasks.
        """
        pool = process_pool(self)
        if pool is None:
            return
        pool.shutdown(wait=True)
        stop_fork_server()  # it holds the imports and the models too
        replace_process_pool(self, self._forking_pool())

    def duplicate(self) -> LocalProcessTaskRunner:
        return type(self)(
            max_workers=self._max_workers, in_process_below_mb=self.in_process_below_mb
        )


# Prefect keeps no public handle on a process runner's pool. Checked on Prefect 3.8.8:
# ``ProcessPoolTaskRunner`` holds its ``ProcessPoolExecutor`` in ``_executor`` (None
# before ``__enter__`` and after ``__exit__``), builds it in ``__enter__`` with
# ``_initialize_process_pool_worker`` and the arguments above, and submits every task
# to it; ``_max_workers``, ``_subprocess_message_queue``, ``_initializer`` and
# ``_initargs`` are the arguments it was built with. These two functions are the only
# places that touch ``_executor``; tests/test_runners.py fails if a Prefect upgrade
# breaks them (workers not ended, or the runner unusable afterwards).
def process_pool(runner: ProcessPoolTaskRunner) -> ProcessPoolExecutor | None:
    """The runner's process pool, or None when the runner is not started."""
    return runner._executor


def replace_process_pool(runner: ProcessPoolTaskRunner, pool: ProcessPoolExecutor) -> None:
    runner._executor = pool


# The standard library keeps one fork server per process and no public way to stop it
# (checked on Python 3.12: ``forkserver._forkserver._stop()`` closes its "alive" pipe
# and waits for it; the tests use it). These two functions are the only places that
# start or stop it; tests/test_runners.py fails if a Python upgrade breaks them.
def start_fork_server(models_dir: Path, taxonomy_path: Path) -> None:
    """The fork server, started now with :data:`PRELOAD_MODULE` and these models
    (kept if one runs already: :func:`stop_fork_server` first for other models)."""
    forkserver.set_forkserver_preload([PRELOAD_MODULE])
    before = os.environ.get(PRELOAD_ENV)
    os.environ[PRELOAD_ENV] = json.dumps([str(models_dir), str(taxonomy_path)])
    try:  # the server inherits the environment when it starts, here
        forkserver.ensure_running()
    finally:
        if before is None:
            del os.environ[PRELOAD_ENV]
        else:
            os.environ[PRELOAD_ENV] = before


def stop_fork_server() -> None:
    """End the fork server (and with it what it loaded); the next worker starts a new one."""
    if START_METHOD == "forkserver":
        forkserver._forkserver._stop()  # noqa: SLF001 (see above)


def input_megabytes(paths: Sequence[str | Path | SourceSpec]) -> float:
    """Size of the feedback files a run would read (files only listed, such as a broken
    link, are not read)."""
    return sum(Path(f).stat().st_size for f, _, skip in input_files(paths) if not skip) / 2**20


def task_runner(
    workers: int | None = None,
    address: str | None = None,
    *,
    settings: RunSettings | None = None,
    input_mb: float = 0.0,
) -> TaskRunner:
    """The runner for a run's partitions.

    ``address``: an existing Dask cluster. ``workers`` > 0: that many worker processes;
    0: threads in this process; ``None``: ``settings.workers`` processes when the input
    reaches ``settings.processes_from_mb``, else threads. With ``settings``, worker
    processes are not started when the files a run reads are below that size.
    """
    if address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=address)
    if workers is None:
        large = settings is not None and input_mb >= settings.processes_from_mb
        workers = settings.workers if large else 0
    if workers > 0:
        small = settings.processes_from_mb if settings is not None else 0.0
        return LocalProcessTaskRunner(max_workers=workers, in_process_below_mb=small)
    return ThreadPoolTaskRunner()


def dask_task_runner(workers: int) -> TaskRunner:
    """A local Dask cluster of ``workers`` processes (measured against the process pool)."""
    from prefect_dask import DaskTaskRunner

    return DaskTaskRunner(
        cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True}
    )
