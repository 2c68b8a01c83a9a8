"""The 1%-new night alone, repeated on one kept warehouse: to compare code versions cheaply.

``throughput.py`` measures the incremental night once, after a full run of several
minutes. This script restores a saved copy of a full run's warehouse before each
repetition, adds the corpus's new day, runs the night (and optionally the unchanged
night) and prints each stage's CPU seconds, with the same accounting as
``throughput.py`` (the flow process, its finished workers, Prefect's API server; the
memory sampler's own CPU excluded). The process is prepared as the harness's is after
its full run: the flow's modules imported and the taxonomy loaded, the models and
tokenizers not (its workers classified the full run), so the first night pays for them.

Usage (after ``throughput.py --docs 100000 --only-full --keep --work DIR``)::

    PYTHONPATH=$PWD nice -n 10 python benchmarks/incremental_night.py --work DIR --repeat 3

The first use saves ``DIR/snapshot`` (the warehouse as the full run left it); later
uses restore it, so runs of different code start from the same warehouse. A first
night after a code change reads the side files again (the frame cache's key holds the
code's digest); the harness's full run fills that cache, so compare the later nights.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.throughput import RssSampler, prefect_startup, run_flow  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="a kept throughput.py folder")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--unchanged", action="store_true", help="also the unchanged night")
    args = parser.parse_args(argv)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

    import cxtext.normalize.english as english
    import cxtext.normalize.persian as persian
    import pipelines.nightly as nightly
    from cxtext.config import resolve
    from cxtext.themes.taxonomy import load_taxonomy

    work, snapshot = args.work, args.work / "snapshot"
    warehouse = work / "cx.duckdb"
    if not snapshot.exists():
        snapshot.mkdir()
        for f in (warehouse, warehouse.with_suffix(".duckdb.key")):
            shutil.copy(f, snapshot / f.name)
    new_file = next((work / "input" / "new").glob("*.csv"))
    added = work / "input" / "feedback" / new_file.name
    config = work / "settings.yaml"
    flow_args = {
        "feedback": work / "input" / "feedback",
        "customers": work / "input" / "customers.csv",
        "transactions": work / "input" / "transactions.csv",
        "warehouse": warehouse,
        "config": config if config.exists() else None,
        "runner": "processes",
        "workers": 2,
    }
    load_taxonomy(resolve("data/taxonomy.yaml"))
    results = []
    with RssSampler() as sampler:
        print(f"prefect start-up {prefect_startup()} s, load {os.getloadavg()[0]:.2f}")
        for i in range(args.repeat):
            for f in snapshot.iterdir():
                shutil.copy(f, work / f.name)
            warehouse.with_suffix(".duckdb.wal").unlink(missing_ok=True)
            for entry in work.glob(".cache/*/clv-*"):  # the night's window end moves a day
                shutil.rmtree(entry)
            nightly._classifiers_once.cache_clear()  # as in the harness's flow process
            persian._tokenizer.cache_clear()
            english._nlp.cache_clear()
            shutil.copy(new_file, added)
            try:
                results.append(("incremental", run_flow(f"incremental{i}", sampler, **flow_args)))
                if args.unchanged:
                    results.append(("unchanged", run_flow(f"unchanged{i}", sampler, **flow_args)))
            finally:
                added.unlink()
    for phase, r in results:
        stages = {k: v["cpu_seconds"] for k, v in r["stages"].items() if v["cpu_seconds"]}
        print(
            f"{phase}: {r['seconds']} s, {r['cpu_seconds']} CPU-s, {r['counts'].get('new')} new,"
            f" load {r['load_average_after']}"
        )
        print(f"  accounting {json.dumps(r['cpu_accounting'])}")
        print(f"  stages' CPU-s {json.dumps(stages)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
