"""Memory of the nightly flow's partition phase, per process (issue 11's "< 2 GiB at 1M").

Runs the nightly flow with worker processes over a generated corpus (``--docs``,
:mod:`benchmarks.corpus`, generated once into ``--work`` and reused) and stops it once
the partitions are classified, sampling RSS and PSS of the flow, the workers' fork
server and each worker every ``--interval`` seconds (Prefect's API server left out):
each process's peak and the tree's peak as one sum. The workers' peaks do not depend
on the corpus size (one partition at a time); ``--read-only`` measures what does, the
flow's side: reading, validating and deduplicating every document as the flow does,
each partition handed off and dropped.

Usage (from the repository root)::

    PYTHONPATH=$PWD nice -n 10 python benchmarks/partition_memory.py --docs 40000
    PYTHONPATH=$PWD nice -n 10 python benchmarks/partition_memory.py --docs 1000000 --read-only
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path

import pandas as pd
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.corpus import generate_corpus  # noqa: E402
from benchmarks.throughput import DATASETS, _is_prefect_server, prefect_startup  # noqa: E402


class _Stop(Exception):
    """Raised by the progress listener once the partitions are done."""


def _role(p: psutil.Process, me: psutil.Process) -> str:
    """flow, fork server (the flow's child that forks the workers), worker or helper."""
    if p.pid == me.pid:
        return "flow"
    if "forkserver" in " ".join(p.cmdline()):  # the workers inherit the server's command
        return "fork server" if p.ppid() == me.pid else f"worker {p.pid}"
    return f"helper {p.pid}"  # the resource tracker, the API server's watchdog


def partition_phase(feedback: Path, work: Path, models: Path | None, interval: float) -> None:
    from pipelines.nightly import nightly
    from pipelines.progress import listening
    from pipelines.runners import task_runner

    warehouse = work / "partition-memory.duckdb"
    for stale in (warehouse, warehouse.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    config = work / "partition-memory.yaml"
    config.write_text(
        "run:\n  processes_from_mb: 0\n"
        + (f"paths:\n  models: {models.resolve()}\n" if models else ""),
        encoding="utf-8",
    )
    prefect_startup()
    me, peaks, stop, in_phase = psutil.Process(), {}, threading.Event(), threading.Event()

    def sample() -> None:
        while not stop.is_set():
            if in_phase.is_set():
                total = [0, 0]
                for p in [me, *me.children(recursive=True)]:
                    with suppress(psutil.Error):
                        if p.pid != me.pid and _is_prefect_server(p):
                            continue
                        rss, pss = p.memory_info().rss, p.memory_full_info().pss
                        role = _role(p, me)
                        old = peaks.get(role, (0, 0))
                        peaks[role] = (max(old[0], rss), max(old[1], pss))
                        total = [total[0] + rss, total[1] + pss]
                old = peaks.get("tree", (0, 0))
                peaks["tree"] = (max(old[0], total[0]), max(old[1], total[1]))
            time.sleep(interval)

    def listener(stage: str, event: str, total: int | None) -> None:
        if stage == "partitions" and event == "start":
            in_phase.set()
        elif stage == "partitions" and event == "done":
            raise _Stop

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    with suppress(_Stop), listening(listener):
        nightly.with_options(task_runner=task_runner(2))(
            feedback=[str(feedback)], warehouse=str(warehouse), config=str(config)
        )
    stop.set()
    thread.join()
    print(f"partition phase: {time.perf_counter() - t0:.0f} s, load {os.getloadavg()[0]:.1f}")
    for role, (rss, pss) in peaks.items():
        print(f"  {role:14s} peak RSS {rss / 2**20:7,.0f} MiB   PSS {pss / 2**20:7,.0f} MiB")


def read_only(feedback: Path, partition_rows: int) -> None:
    import pipelines.nightly  # noqa: F401 (the flow process's imports)
    from cxtext.ingest.feedback import input_files
    from cxtext.ingest.incremental import IngestTally, iter_new_records

    me = psutil.Process()
    files = [f for f, _, skip in input_files([str(feedback)]) if not skip]
    tally, peak, c0 = IngestTally(), 0, time.process_time()
    partitions = iter_new_records(
        [str(feedback)],
        files,
        tally,
        stored_keys=None,
        partition_rows=partition_rows,
        max_text_chars=20_000,
        min_text_chars=1,
        default_channel="survey",
        not_after=pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1),
        pseudonym_key=b"partition-memory",
    )
    for i, _ in enumerate(partitions, start=1):
        peak = max(peak, me.memory_info().rss)
        if i == 1 or i % 25 == 0:
            full = me.memory_full_info()
            print(
                f"  {i:4d} partitions: RSS {full.rss / 2**20:,.0f} MiB, PSS {full.pss / 2**20:,.0f}"
            )
    print(
        f"read {tally.read:,} documents ({tally.new:,} new): peak RSS {peak / 2**20:,.0f} MiB, "
        f"{time.process_time() - c0:.1f} CPU-s"
    )


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=40_000)
    parser.add_argument("--work", type=Path, help="corpus folder, reused (default: a new one)")
    parser.add_argument("--models", type=Path, help="models folder (default: the shipped ones)")
    parser.add_argument("--read-only", action="store_true", help="the flow's reading alone")
    parser.add_argument("--partition-rows", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=0.3, help="seconds between samples")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="cxtext-partition-memory-"))
    feedback = work / "input" / "feedback"
    if not feedback.exists():
        generate_corpus(DATASETS, work / "input", args.docs)
    if args.read_only:
        read_only(feedback, args.partition_rows)
    else:
        partition_phase(feedback, work, args.models, args.interval)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
