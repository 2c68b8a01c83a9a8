"""Profile the stages after the partitions (churn model, pain points, discovery) on a corpus.

The nightly flow's per-run costs that do not shrink with the night's new data. This
script reads, normalizes and classifies a generated corpus once (cached as Parquet in
``--work``), values its customers, then times each of ``estimate_churn_uplift``,
``rank_pain_points`` and ``discover_and_value`` with the flow's settings (CPU and wall
seconds) and writes a pyinstrument profile of each.

Usage::

    PYTHONPATH=$PWD nice -n 10 python benchmarks/profile_stages.py --docs 20000 \
        --work /tmp/profile-stages --out benchmarks/results/profile-stages

``--models DIR`` classifies with (and takes the confusion of) another registry's
champions, e.g. the TF-IDF ones; ``--steps`` picks stages; ``--save DIR`` pickles each
stage's result, to compare two versions of the code on the same inputs.
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
from benchmarks.throughput import DATASETS  # noqa: E402


def classified(work: Path, docs: int, models: Path) -> tuple[pd.DataFrame, Path, Path]:
    """(classified feedback, customers file, transactions file), cached in ``work``."""
    from cxtext.classify.stage import classify_feedback, load_classifiers
    from cxtext.ingest.feedback import input_files
    from cxtext.ingest.incremental import IngestTally, iter_new_records
    from cxtext.normalize.documents import normalize_feedback
    from cxtext.themes.taxonomy import load_taxonomy

    cache = work / "classified.parquet"
    inputs = work / "input"
    if not (inputs / "feedback").exists():
        generate_corpus(DATASETS, inputs, docs)
    if not cache.exists():
        feedback = str(inputs / "feedback")
        files = [f for f, _, skip in input_files([feedback]) if not skip]
        classifiers = load_classifiers(models, load_taxonomy(REPO / "data" / "taxonomy.yaml"))
        parts = []
        for records in iter_new_records(
            [feedback],
            files,
            IngestTally(),
            stored_keys=None,
            partition_rows=20_000,
            max_text_chars=20_000,
            min_text_chars=1,
            default_channel="survey",
            pseudonym_key=b"profile",
        ):
            docs_ = normalize_feedback(records)
            parts.append(
                classify_feedback(docs_, classifiers, topic_threshold=0.5, neutral_band=0.2)
            )
        pd.concat(parts, ignore_index=True).to_parquet(cache, index=False)
    return pd.read_parquet(cache), inputs / "customers.csv", inputs / "transactions.csv"


def main(argv: list[str] | None = None) -> int:
    from pyinstrument import Profiler

    from cxtext.config import load_settings, resolve
    from cxtext.ingest.tables import read_customers, read_transactions
    from cxtext.painpoints.rank import rank_pain_points
    from cxtext.schema import FEEDBACK, conform
    from cxtext.themes.taxonomy import load_taxonomy
    from cxtext.value.customer_value import estimate_customer_value
    from cxtext.value.uplift import estimate_churn_uplift
    from pipelines.insight import discover_and_value, rank_kwargs, uplift_kwargs
    from pipelines.nightly import _clv_kwargs, classifier_confusion

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cxtext-profile-stages"))
    parser.add_argument("--out", type=Path, help="prefix of the profile files")
    parser.add_argument(
        "--models",
        type=Path,
        default=REPO / "models",
        help="models folder (its registry's champions classify the corpus and give the confusion)",
    )
    parser.add_argument("--steps", default="uplift,pain_points,discover", help="comma-separated")
    parser.add_argument(
        "--save", type=Path, help="folder: each step's result as a pickle (to compare two versions)"
    )
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    feedback, customers_file, transactions_file = classified(args.work, args.docs, args.models)
    feedback = conform(feedback.assign(run_id="r"), FEEDBACK)
    settings = load_settings(None)
    taxonomy = load_taxonomy(resolve(settings.paths.taxonomy))
    customers, _ = read_customers(customers_file, pseudonym_key=b"profile")
    transactions, _ = read_transactions(transactions_file, pseudonym_key=b"profile")
    end = feedback["created_at"].max().floor("D") + pd.Timedelta(days=1)
    start = end - pd.Timedelta(days=2 * settings.painpoints.window_days)
    recent = feedback[(feedback["created_at"] >= start) & (feedback["created_at"] < end)]
    confusion = classifier_confusion.fn(args.models, settings.value)
    values = estimate_customer_value(
        customers, transactions, as_of=end, **_clv_kwargs(settings.value)
    )

    def uplift() -> pd.DataFrame:
        return estimate_churn_uplift(
            feedback, customers, taxonomy, **uplift_kwargs(settings.value, confusion)
        )

    done: dict[str, object] = {}  # the churn model's result, fitted once for pain points

    all_steps = {
        "uplift": uplift,
        "pain_points": lambda: rank_pain_points(
            recent,
            values,
            done["uplift"] if "uplift" in done else done.setdefault("uplift", uplift()),
            taxonomy,
            window_end=end,
            segments=list(settings.painpoints.segments),
            **rank_kwargs(settings.painpoints, settings.value, confusion=confusion),
        ),
        "discover": lambda: discover_and_value(
            recent,
            None,
            feedback,
            customers,
            values,
            taxonomy,
            end,
            discovery=settings.discovery,
            painpoints=settings.painpoints,
            value=settings.value,
        ),
    }
    steps = {name: all_steps[name] for name in args.steps.split(",")}
    if "pain_points" in steps and "uplift" not in steps:  # its input, not in its timing
        done["uplift"] = uplift()
    print(
        f"{len(feedback):,} documents, {len(recent):,} in the two windows, "
        f"{len(customers):,} customers; load average {os.getloadavg()[0]:.2f}"
    )
    for name, step in steps.items():
        t0, w0 = time.process_time(), time.perf_counter()
        result = step()
        done.setdefault(name, result)
        cpu, wall = time.process_time() - t0, time.perf_counter() - w0
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            pd.to_pickle(result, args.save / f"{name}.pkl")
        line = f"{name}: {cpu:.2f} s CPU, {wall:.2f} s wall, load average {os.getloadavg()[0]:.2f}"
        print(line, flush=True)
        if args.out:  # again, sampled (pyinstrument's overhead is not in the timing)
            profiler = Profiler(interval=0.005)
            profiler.start()
            step()
            profiler.stop()
            path = args.out.parent / f"{args.out.name}-{name}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(line + "\n" + profiler.output_text(unicode=True, color=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
