"""The classify stage's cost with the shipped models, stored text read once vs normalized again.

Before :func:`~cxtext.classify.text_input.stored_texts`, every branch of an encoder
model that starts with the normalize stage's own step (``StageNormalizer``,
``TextPreparer.transform``, ``LanguageGate``) ran ``normalize_text`` again on text the
normalize stage had already normalized. This runs ``classify_feedback`` on the shipped
sample (read and normalized as the flow does) with the shipped models, alternately
"before" (the stage without the flag) and "after" (the stage as it is), ``--rounds``
times each, in one process, and reports CPU seconds (every thread), documents per
CPU-second and the load average around each run. Writes
``results/stored_texts.md`` / ``.json``. Usage::

    PYTHONPATH=$PWD nice -n 10 .venv/bin/python benchmarks/stored_texts.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cxtext.classify.stage as stage  # noqa: E402
from cxtext.classify.stage import classify_feedback, load_classifiers  # noqa: E402
from cxtext.ingest.feedback import iter_feedback  # noqa: E402
from cxtext.normalize.documents import normalize_feedback  # noqa: E402
from cxtext.themes.taxonomy import load_taxonomy  # noqa: E402

COLUMNS = ["topics", "topic_scores", "sentiment", "sentiment_score", "aspect_sentiment"]


def read_docs(feedback: Path) -> pd.DataFrame:
    batches = iter_feedback(
        [feedback],
        partition_rows=20_000,
        max_text_chars=20_000,
        min_text_chars=1,
        default_channel="survey",
        pseudonym_key=b"stored-texts-benchmark",
    )
    return normalize_feedback(pd.concat([b.records for b in batches], ignore_index=True))


def timed(docs: pd.DataFrame, classifiers, before: bool) -> tuple[dict, pd.DataFrame]:
    stage.stored_texts = nullcontext if before else FLAG
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    out = classify_feedback(docs, classifiers, topic_threshold=0.5, neutral_band=0.2)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    stage.stored_texts = FLAG
    return {
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "docs_per_cpu_s": round(len(docs) / cpu, 1),
        "load_before": round(load, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }, out


FLAG = stage.stored_texts


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--feedback",
        type=Path,
        default=REPO / "data" / "sample" / "feedback",
        help="a folder of feedback files (default: the shipped sample); e.g. a corpus that "
        "benchmarks/corpus.py generated",
    )
    parser.add_argument("--name", default="", help="suffix of the results files")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args(argv)
    docs = read_docs(args.feedback)
    classifiers = load_classifiers(REPO / "models", load_taxonomy(REPO / "data" / "taxonomy.yaml"))
    # warm-up: hazm's and spaCy's tokenizers, the onnxruntime session
    classify_feedback(
        docs.sample(200, random_state=0), classifiers, topic_threshold=0.5, neutral_band=0.2
    )
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    outputs = {}
    for _ in range(args.rounds):
        for name in ("before", "after"):
            run, outputs[name] = timed(docs, classifiers, name == "before")
            runs[name].append(run)
    same = (outputs["before"][COLUMNS] == outputs["after"][COLUMNS]).all(axis=1)
    cpu = {k: float(np.median([r["cpu_s"] for r in v])) for k, v in runs.items()}
    result = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "models": classifiers.versions,
        "docs": len(docs),
        "feedback": str(
            args.feedback.relative_to(REPO) if args.feedback.is_relative_to(REPO) else args.feedback
        ),
        "runs": runs,
        "median_cpu_s": cpu,
        "median_docs_per_cpu_s": {k: round(len(docs) / v, 1) for k, v in cpu.items()},
        "cpu_saved_share": round(1 - cpu["after"] / cpu["before"], 3),
        "rows_identical": int(same.sum()),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"stored_texts{'-' + args.name if args.name else ''}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    stem.with_suffix(".md").write_text(render(result), encoding="utf-8")
    print(render(result))
    return result


def render(r: dict) -> str:
    lines = [
        "# Classify with the shipped models: stored text normalized again vs read once",
        "",
        f"Generated by `benchmarks/stored_texts.py` ({r['generated']}): `classify_feedback` "
        f"on `{r['feedback']}` ({r['docs']:,} documents, normalized as the flow does), "
        f"models {', '.join(f'{k} {v}' for k, v in r['models'].items())}; runs alternate "
        "before / after in one process. CPU time counts every thread (the encoder runs on "
        "every core); the machine is shared, so the load average (1 min) is given.",
        "",
        "| run | CPU s | wall s | docs per CPU-s | load before → after |",
        "|---|---:|---:|---:|---|",
    ]
    for name, label in (("before", "normalized again (before)"), ("after", "read once (after)")):
        for run in r["runs"][name]:
            lines.append(
                f"| {label} | {run['cpu_s']} | {run['wall_s']} | {run['docs_per_cpu_s']} | "
                f"{run['load_before']} → {run['load_after']} |"
            )
    m = r["median_docs_per_cpu_s"]
    lines += [
        "",
        f"Median: {m['before']} → {m['after']} docs per CPU-second, "
        f"{r['cpu_saved_share']:.1%} less CPU. Identical output (topics, scores, sentiment, "
        f"aspects) on {r['rows_identical']:,} of {r['docs']:,} documents.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
