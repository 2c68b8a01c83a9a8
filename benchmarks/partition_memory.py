"""Memory of the nightly flow's partition phase, per process (issue 11's "< 2 GiB at 1M").

Runs the nightly flow with worker processes over a generated corpus (``--docs``,
:mod:`benchmarks.corpus`, generated once into ``--work`` and reused) and stops it once
the partitions are classified, sampling RSS and PSS of the flow, the workers' fork
server and each worker every ``--interval`` seconds (Prefect's API server left out):
each process's peak and the tree's peak as one sum, and the same for PSS of anonymous
memory alone (``Pss_Anon`` of ``/proc/PID/smaps_rollup``: the heap, the models, the
caches; what the code controls), beside which the file-backed share (``Pss_File``: the
libraries' pages, divided among every process on the machine that maps them, so it
falls when other users' Python processes run and rises when they stop) is printed.
``--read-only`` measures the flow's side alone: reading, validating and deduplicating
every document as the flow does, each partition handed off and dropped.

``--files K`` runs the phase over the first K daily files of the ``--docs`` corpus only:
the proxy for the 1M measurement (same files, partition size, partitions in flight and
workers; ~56 min at 1M with the shipped models under load against a few minutes). What
it cannot see is what grows with the documents read over the whole run (the workers'
caches and copied pages, the flow's read-ahead): benchmarks/README.md gives the 1M run's
growth after the proxy's partition count, which the proxy's peak is read with.

Usage (from the repository root)::

    PYTHONPATH=$PWD nice -n 10 python benchmarks/partition_memory.py --docs 40000
    PYTHONPATH=$PWD nice -n 10 python benchmarks/partition_memory.py --docs 1000000 --read-only
    # the 1M proxy: the first 9 daily files of the 1M corpus (~100k documents, 10 partitions)
    PYTHONPATH=$PWD nice -n 10 python benchmarks/partition_memory.py --docs 1000000 --files 9
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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


def _rollup(pid: int) -> tuple[int, int, int]:
    """RSS, PSS and anonymous PSS of a process, in bytes (one read of smaps_rollup)."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if rest.strip().endswith("kB"):
                fields[key] = int(rest.split()[0]) * 1024
    return fields["Rss"], fields["Pss"], fields["Pss_Anon"]


def partition_phase(
    feedback: Path, work: Path, models: Path | None, interval: float, trace: Path | None
) -> None:
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

    done, roles, t_start = [0], {}, time.perf_counter()

    def sample() -> None:
        while not stop.is_set():
            if in_phase.is_set():
                total, now = (0, 0, 0), {}
                for p in [me, *me.children(recursive=True)]:
                    with suppress(psutil.Error, OSError, KeyError):
                        if p.pid not in roles:
                            roles[p.pid] = (
                                None if p.pid != me.pid and _is_prefect_server(p) else _role(p, me)
                            )
                        if (role := roles[p.pid]) is None:
                            continue
                        mem = _rollup(p.pid)
                        old = peaks.get(role, (0, 0, 0))
                        peaks[role] = tuple(map(max, old, mem))
                        total = tuple(map(sum, zip(total, mem, strict=True)))
                        now[role] = mem
                peaks["tree"] = tuple(map(max, peaks.get("tree", (0, 0, 0)), total))
                if trace is not None:
                    with trace.open("a", encoding="utf-8") as out:
                        row = {"s": round(time.perf_counter() - t_start, 1), "done": done[0]}
                        row["load"] = round(os.getloadavg()[0], 1)
                        row |= {k: [round(v / 2**20) for v in m] for k, m in now.items()}
                        row["tree"] = [round(v / 2**20) for v in total]
                        out.write(json.dumps(row) + "\n")
            time.sleep(interval)

    def listener(stage: str, event: str, total: int | None) -> None:
        if stage == "partitions" and event == "start":
            in_phase.set()
        elif stage == "partitions" and event == "advance":
            done[0] += 1
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
    for role, (rss, pss, anon) in peaks.items():
        print(
            f"  {role:14s} peak RSS {rss / 2**20:7,.0f} MiB   PSS {pss / 2**20:7,.0f} MiB"
            f"   anonymous PSS {anon / 2**20:7,.0f} MiB"
        )


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
    parser.add_argument("--files", type=int, help="only the corpus's first FILES daily files")
    parser.add_argument("--trace", type=Path, help="JSON lines: every sample's processes")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="cxtext-partition-memory-"))
    feedback = work / "input" / "feedback"
    if not feedback.exists():
        generate_corpus(DATASETS, work / "input", args.docs)
    if args.files:  # the proxy: a folder with the first daily files, copied once
        first = sorted(feedback.glob("feedback-*.csv"))[: args.files]
        feedback = work / f"first-{args.files}-files"
        if not feedback.exists():
            feedback.mkdir()
            for f in first:
                shutil.copy(f, feedback / f.name)
    if args.read_only:
        read_only(feedback, args.partition_rows)
    else:
        partition_phase(feedback, work, args.models, args.interval, args.trace)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
