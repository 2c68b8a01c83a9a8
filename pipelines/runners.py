"""Where tasks run: threads in this process by default, or a Dask cluster.

Dask (through prefect-dask) is how cxtext scales out; there is no scheduler or queue of
our own. Worker processes must report to the flow's Prefect API: `cxtext run` exports
``PREFECT_API_URL`` (its temporary server's, see :mod:`pipelines.prefect_server`) before
the cluster starts; workers of a remote cluster need it set in their own environment.
The runner is chosen per run (``nightly.with_options(task_runner=...)``), so the flow
itself never names one.
"""

from __future__ import annotations

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner


def task_runner(workers: int = 0, address: str | None = None) -> TaskRunner:
    """Threads (``workers=0``), a local Dask cluster of ``workers`` processes, or an existing cluster."""
    if address or workers > 0:
        from prefect_dask import DaskTaskRunner

        if address:
            return DaskTaskRunner(address=address)
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True}
        )
    return ThreadPoolTaskRunner()
