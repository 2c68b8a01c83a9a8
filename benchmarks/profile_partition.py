"""Profile the partition path (read, normalize, classify) on a generated corpus, in CPU time.

The nightly flow's partition task is read (validate + dedupe, in the flow's process)
then redact + normalize and classify (in a worker). This script runs the three steps
one after another in this process over ``--docs`` documents of the benchmark corpus
(:mod:`benchmarks.corpus`, generated once into ``--work`` and reused), times each (CPU
seconds, documents per CPU-second, wall seconds), then runs it again under pyinstrument
and writes its profile. Speeds are CPU time (``time.process_time``), so other work on a
shared machine does not show up as time spent in our code; the profiles are sampled in
wall time (a CPU-time timer makes pyinstrument itself the bottleneck), so read them on a
quiet machine.

Usage::

    PYTHONPATH=$PWD nice -n 10 python benchmarks/profile_partition.py --docs 20000 \
        --work /tmp/profile-partition --out benchmarks/results/profile-partition
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.corpus import generate_corpus  # noqa: E402
from benchmarks.throughput import DATASETS, floor_seconds  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    from pyinstrument import Profiler

    from cxtext.classify.stage import classify_feedback, load_classifiers
    from cxtext.ingest.feedback import input_files
    from cxtext.ingest.incremental import IngestTally, iter_new_records
    from cxtext.normalize.documents import normalize_feedback
    from cxtext.themes.taxonomy import load_taxonomy

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cxtext-profile-partition"))
    parser.add_argument(
        "--out", type=Path, help="prefix of the profile files (default: print only)"
    )
    parser.add_argument("--partition-rows", type=int, default=20_000)
    parser.add_argument("--no-profile", action="store_true", help="time only")
    parser.add_argument(
        "--models",
        type=Path,
        default=REPO / "models",
        help="models folder whose registry names the champions (default: the shipped ones)",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time the floor (benchmarks/throughput.py's plain loop) on the same texts",
    )
    parser.add_argument(
        "--save", type=Path, help="write the classified partition here (Parquet), to compare runs"
    )
    args = parser.parse_args(argv)
    feedback = args.work / "input" / "feedback"
    if not feedback.exists():
        generate_corpus(DATASETS, args.work / "input", args.docs)
    classifiers = load_classifiers(args.models, load_taxonomy(REPO / "data" / "taxonomy.yaml"))

    def read() -> pd.DataFrame:
        files = [f for f, _, skip in input_files([str(feedback)]) if not skip]
        parts = iter_new_records(
            [str(feedback)],
            files,
            IngestTally(),
            stored_keys=None,
            partition_rows=args.partition_rows,
            max_text_chars=20_000,
            min_text_chars=1,
            default_channel="survey",
            pseudonym_key=b"profile",
        )
        return pd.concat(list(parts), ignore_index=True)

    warm = read().head(300)  # models' tokenizers built, regexes compiled
    classify_feedback(normalize_feedback(warm), classifiers, topic_threshold=0.5, neutral_band=0.2)
    steps = {
        "read": lambda _: read(),
        "normalize": lambda records: normalize_feedback(records),
        "classify": lambda docs: classify_feedback(
            docs, classifiers, topic_threshold=0.5, neutral_band=0.2
        ),
    }
    value = None
    texts: list[str] = []
    cpu_of: dict[str, float] = {}
    lines = [f"load average {os.getloadavg()[0]:.2f}", f"models: {classifiers.versions}"]
    for name, step in steps.items():
        t0, w0 = time.process_time(), time.perf_counter()
        result = step(value)
        cpu, wall = time.process_time() - t0, time.perf_counter() - w0
        cpu_of[name] = cpu
        if not args.no_profile:  # again, sampled (pyinstrument's overhead is not in the timing)
            profiler = Profiler(interval=0.005)
            profiler.start()
            step(value)
            profiler.stop()
        if name == "read":
            texts = result["text"].astype(str).tolist()
        value = result
        n = len(value)
        line = f"{name}: {n:,} documents, {cpu:.2f} s CPU ({n / cpu:,.0f} docs/CPU-s), {wall:.2f} s wall"
        lines.append(line)
        print(line, flush=True)
        if args.out and not args.no_profile:
            path = args.out.parent / f"{args.out.name}-{name}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(
                "\n".join(lines[:2])
                + "\n"
                + line
                + "\n"
                + profiler.output_text(unicode=True, color=False)
            )
    if args.floor:
        wall, cpu = floor_seconds(texts, classifiers)
        total = sum(cpu_of.values())
        lines.append(
            f"floor: {len(texts):,} documents, {cpu:.2f} s CPU ({len(texts) / cpu:,.0f} docs/CPU-s), "
            f"{wall:.2f} s wall; partition path / floor per CPU-second {cpu / total:.2f}"
        )
    print("\n".join(lines))
    if args.save is not None:
        value.to_parquet(args.save, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
