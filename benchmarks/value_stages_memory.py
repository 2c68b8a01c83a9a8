"""Peak memory and CPU of each value stage on a stored warehouse, one process, as the flow.

The nightly flow's steps after the partitions (load customers, gather history and
windows, customer value, churn model, pain points, discovery), called through the
flow's own task functions in one process, each step's outputs kept for the next as the
flow keeps them. Before each step the allocator returns what it can (``malloc_trim``);
RSS is sampled every 20 ms. Prints, per step: RSS before, peak, after (MiB), wall and
CPU seconds, the 1-minute load average (CPU seconds inflate on a loaded machine).

    PYTHONPATH=$PWD nice -n 10 python benchmarks/value_stages_memory.py /path/to/cx.duckdb

The warehouse's folder must hold ``customers.csv`` and ``transactions.csv``, as
``throughput.py --synthetic-classified`` leaves them (the 1M table in
benchmarks/README.md). ``--skip-discovery`` stops after pain points.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pipelines.insight as insight  # noqa: E402
import pipelines.nightly as nightly  # noqa: E402
from cxtext.config import load_settings, resolve  # noqa: E402
from cxtext.ingest.watermark import fingerprint  # noqa: E402
from cxtext.themes.taxonomy import load_taxonomy  # noqa: E402

MIB = 1 << 20


class Peak:
    """The process's highest RSS since the last :meth:`reset`, sampled every 20 ms."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.value = 0
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            self.value = max(self.value, self.process.memory_info().rss)
            time.sleep(0.02)

    def reset(self) -> int:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        self.value = self.process.memory_info().rss
        return self.value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("--skip-discovery", action="store_true")
    args = ap.parse_args()
    settings = load_settings(None)
    taxonomy = load_taxonomy(resolve(settings.paths.taxonomy))
    folder = args.warehouse.parent
    peak = Peak()
    print(f"{'step':<16} {'before':>7} {'peak':>7} {'after':>7} {'wall s':>7} {'CPU s':>7} load")

    def step(name: str, fn, *a, **k):
        before = peak.reset()
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn(*a, **k)
        time.sleep(0.05)  # one more sample
        after = peak.process.memory_info().rss
        print(
            f"{name:<16} {before // MIB:>7,} {peak.value // MIB:>7,} {after // MIB:>7,} "
            f"{time.perf_counter() - wall:>7.1f} {time.process_time() - cpu:>7.1f} "
            f"{os.getloadavg()[0]:.1f}",
            flush=True,
        )
        return out

    key = Path(tempfile.mkdtemp()) / "pseudonym.key"
    side_files = [str(folder / "customers.csv"), str(folder / "transactions.csv")]
    sides = step(
        "load customers",
        nightly.load_customers.fn,
        *side_files,
        key,
        {f: fingerprint(f) for f in side_files},
        key.parent / "cache",
    )
    customers, transactions = sides.customers, sides.transactions
    recent, end, _ = step(
        "gather",
        nightly.gather_feedback.fn,
        str(args.warehouse),
        [],
        settings.painpoints.window_days,
        None,
    )
    history = step("history", nightly.read_history.fn, str(args.warehouse), [])
    values = step(
        "customer value",
        nightly.value.fn,
        customers,
        transactions,
        history,
        end,
        settings.value,
        None,
    )
    confusion = insight.champion_confusion(resolve(settings.paths.models), settings.value)
    uplift = step(
        "churn model",
        nightly.churn_uplift.fn,
        history,
        customers,
        taxonomy,
        settings.value,
        confusion,
        None,
    )
    step(
        "pain points",
        nightly.pain_points.fn,
        recent,
        values,
        uplift,
        taxonomy,
        end,
        settings.painpoints,
        settings.value,
        confusion,
    )
    if args.skip_discovery:
        return
    step(
        "discovery",
        insight.discover_and_value,
        recent,
        None,
        history,
        customers,
        values,
        taxonomy,
        end,
        discovery=settings.discovery,
        painpoints=settings.painpoints,
        value=settings.value,
    )


if __name__ == "__main__":
    main()
