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
uses restore it, so runs of different code start from the same warehouse. Before each
night, outside its measurement, the frame cache is filled as the harness's full run
leaves it for the code being measured (its key holds the code's digest): the side
files read and the lifetime values estimated as of the full run's window end. Each
night's line says whether the side files were reused.

Watermarks name each file by its path (:func:`cxtext.ingest.watermark.file_key`), so a
kept folder copied or moved elsewhere would read every daily file again (session 9's
repeat on a copy of session 8's warehouse did: 9-10 CPU-s of reading, no 1% night). The
snapshot's watermarks are re-keyed once to this folder's paths, file by file where the
bytes are the same, and the script says how many it re-keyed.

``--profile FILE`` writes a pyinstrument profile (text) of the last night's flow thread,
as the other ``profile_*.py`` scripts do: sampled in wall time, so on a loaded machine
read it for where the time goes and the stages' CPU seconds for how much (a cProfile
with a CPU timer is no help here: Python 3.12's profiler sees every thread, the memory
sampler's and Prefect's included, and inflates code of many small calls).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import sys
from pathlib import Path

import duckdb
from pyinstrument import Profiler

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.throughput import RssSampler, prefect_startup, run_flow  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="a kept throughput.py folder")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--unchanged", action="store_true", help="also the unchanged night")
    parser.add_argument(
        "--profile", type=Path, help="pyinstrument profile (text) of the last night"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

    import cxtext.normalize.english as english
    import cxtext.normalize.persian as persian
    import pipelines.nightly as nightly
    from cxtext.config import load_settings, resolve
    from cxtext.themes.taxonomy import load_taxonomy

    work, snapshot = args.work, args.work / "snapshot"
    warehouse = work / "cx.duckdb"
    if not snapshot.exists():
        snapshot.mkdir()
        for f in (warehouse, warehouse.with_suffix(".duckdb.key")):
            shutil.copy(f, snapshot / f.name)
    # the taxonomy as this code's settings resolve it: a checkout elsewhere names it by
    # another path, which would refit the churn model as if the taxonomy had changed
    config = work / "settings.yaml"
    taxonomy = resolve(load_settings(str(config) if config.exists() else None).paths.taxonomy)
    inputs = [*(work / "input").rglob("*.csv"), taxonomy]
    rekeyed = rekey_watermarks(snapshot / warehouse.name, inputs)
    if rekeyed:
        print(f"re-keyed {rekeyed} watermarks of the snapshot to this folder's paths (same bytes)")
    new_file = next((work / "input" / "new").glob("*.csv"))
    added = work / "input" / "feedback" / new_file.name
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
            prime_caches(flow_args)
            nightly._classifiers_once.cache_clear()  # as in the harness's flow process
            persian._tokenizer.cache_clear()
            english._nlp.cache_clear()
            shutil.copy(new_file, added)
            profiler = Profiler(interval=0.001) if args.profile and i == args.repeat - 1 else None
            try:
                if profiler:
                    profiler.start()
                results.append(("incremental", run_flow(f"incremental{i}", sampler, **flow_args)))
                if profiler:
                    profiler.stop()
                    args.profile.write_text(
                        profiler.output_text(show_all=False, color=False), encoding="utf-8"
                    )
                if args.unchanged:
                    results.append(("unchanged", run_flow(f"unchanged{i}", sampler, **flow_args)))
            finally:
                added.unlink()
    for phase, r in results:
        stages = {k: v["cpu_seconds"] for k, v in r["stages"].items() if v["cpu_seconds"]}
        print(
            f"{phase}: {r['seconds']} s, {r['cpu_seconds']} CPU-s, {r['counts'].get('new')} new,"
            f" load {r['load_average_after']}, side files reused:"
            f" {bool(r['counts'].get('side_files_reused'))}"
        )
        print(f"  accounting {json.dumps(r['cpu_accounting'])}")
        print(f"  stages' CPU-s {json.dumps(stages)}")
    if args.profile:
        print(f"profile: {args.profile}")
    return 0


def prime_caches(flow_args: dict) -> None:
    """Fill the frame cache as a full run with this code leaves it (see the docstring)."""
    import pandas as pd

    import pipelines.nightly as nightly
    from cxtext.config import load_settings
    from cxtext.ingest.watermark import fingerprint
    from pipelines.bookkeeping import RunBook
    from pipelines.preflight import plan_run

    config = str(flow_args["config"]) if flow_args["config"] else None
    settings = load_settings(config)
    sides = [str(flow_args["customers"]), str(flow_args["transactions"])]
    plan = plan_run(
        settings,
        feedback=[str(flow_args["feedback"])],
        customers=sides[0],
        transactions=sides[1],
        warehouse=str(flow_args["warehouse"]),
        parquet_dir=None,
        as_of=None,
        config=config,
        columns=None,
    )
    sides = [plan.customers, plan.transactions]  # as the flow names them (the cache key)
    cache = RunBook(plan, "prime", pd.Timestamp.now(tz="UTC"), Path()).cache
    shutil.rmtree(cache, ignore_errors=True)
    bound = inspect.signature(nightly.load_customers.fn).parameters  # older code: fewer
    extra = {"max_amount": settings.ingest.max_amount} if "max_amount" in bound else {}
    read = nightly.load_customers.fn(
        *sides, plan.pseudonym_key, {f: fingerprint(f) for f in sides}, cache, **extra
    )
    _, window_end = nightly.stored_pain_points.fn(plan.warehouse)
    nightly.value.fn(
        read.customers, read.transactions, None, window_end, settings.value, None, (cache, read.key)
    )


def rekey_watermarks(warehouse: Path, files: list[Path]) -> int:
    """Point the watermarks of files with the same bytes at ``files``' paths; how many moved.

    Only for this benchmark's copy of a warehouse: a run keys a file by its path, and a
    moved folder is new input to it (its documents, already stored, are read and skipped).
    """
    from cxtext.ingest.watermark import file_key, fingerprint

    con = duckdb.connect(str(warehouse))
    try:
        moved = 0
        for f in files:
            fp, key = fingerprint(f), file_key(str(f))
            rows = con.execute(
                "SELECT source_file FROM watermarks WHERE size = ? AND sha256 = ?",
                [fp.size, fp.sha256],
            ).fetchall()
            if len(rows) == 1 and rows[0][0] != key:
                con.execute(
                    "UPDATE watermarks SET source_file = ? WHERE source_file = ?", [key, rows[0][0]]
                )
                moved += 1
        return moved
    finally:
        con.close()


if __name__ == "__main__":
    raise SystemExit(main())
