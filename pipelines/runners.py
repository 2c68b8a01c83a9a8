"""Where tasks run: threads in this process by default, or a Dask cluster.

Dask (through prefect-dask) is how cxtext scales out; there is no scheduler or queue of
our own. With process workers each worker starts its own temporary Prefect server
unless PREFECT_API_URL points them at one, so keep partitions large.
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
