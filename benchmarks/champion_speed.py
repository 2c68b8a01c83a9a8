"""What each model costs the nightly classify stage: documents per CPU-second, one thread.

The shipped champions (``models/registry.json``) and any other registered model named
with ``--model`` are timed the way the classify stage calls them on stored text
(:func:`cxtext.classify.stage._sentiment_proba`: a model that starts with a
TextPreparer skips its normalization, one whose preparation cannot be split off runs
whole, a late-fused one member by member; TF-IDF blocks through the partition's shared
n-gram pass, a fresh one per model), on the same 1,000 normalized held-out texts per language: airline tweets for
English, SnappFood dev comments for Persian, half of each for the topic role. One
thread (BLAS, OpenMP and the e5 runtime), CPU seconds of this process, so the figure
holds on a shared machine; the load average is printed beside it.

Then the whole classify stage (:func:`cxtext.classify.stage.classify_feedback`: sentiment,
topics, aspect clauses) over one partition of all 2,000 texts with the champion set,
with each ``--stage-topic`` model in the topic role instead, each once with the
partition's embeddings shared between the encoder models and once without
(``share_embeddings=False``): CPU seconds per document.

Usage::

    nice -n 10 .venv/bin/python benchmarks/champion_speed.py [--model sentiment-en-v1 ...] \
        [--stage-topic topic-encoder-late-v1 ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cxtext.classify.encoder import E5Embedder  # noqa: E402
from cxtext.classify.registry import load_model, update_card  # noqa: E402
from cxtext.classify.shared_ngrams import SharedNgrams  # noqa: E402
from cxtext.classify.stage import (  # noqa: E402
    _sentiment_proba,
    _topic_proba,
    classify_feedback,
    load_classifiers,
)
from cxtext.normalize.documents import normalize_text  # noqa: E402
from cxtext.themes.taxonomy import load_taxonomy  # noqa: E402

DOCS = 1000
TEXTS = {"en": "English (airline)", "fa": "Persian (SnappFood)", "both": "English + Persian"}
DEFAULT_DATASETS = Path(os.environ.get("CXTEXT_DATASETS", REPO.parent / "shared" / "datasets"))


def stored_texts(datasets: Path, docs: int = DOCS) -> dict[str, list[str]]:
    """Normalized held-out texts per language, as the normalize stage stores them."""
    air = pd.read_csv(datasets / "en_airline_tweets" / "train.csv", dtype=str).fillna("")
    snapp = pd.read_csv(datasets / "fa_snappfood_sentiment" / "dev.csv", dtype=str).fillna("")
    en = [normalize_text(t)[1] for t in air["text"].tail(docs)]
    fa = [normalize_text(t)[1] for t in snapp["text"].head(docs)]
    return {"en": en, "fa": fa, "both": en[: docs // 2] + fa[: docs // 2]}


def _set_threads(model: object, threads: int) -> None:
    """The e5 runtime's own thread count (it does not follow threadpoolctl)."""
    stack = [model]
    while stack:
        item = stack.pop()
        if isinstance(item, E5Embedder):
            item.threads = threads
        stack += [s for _, s in getattr(item, "steps", [])]
        stack += [t for _, t in getattr(item, "transformer_list", [])]
        stack += list(getattr(item, "estimators_", []))
        stack += [
            getattr(item, a)
            for a in ("tfidf_", "encoder_", "fine_", "estimator_")
            if getattr(item, a, None) is not None
        ]


def stage_rate(model: object, texts: list[str], topic: bool = False) -> tuple[float, float]:
    """(docs per CPU-second, docs per wall second) of the stage's call on stored text."""

    def call(batch: list[str], ngrams: SharedNgrams) -> None:
        if topic:  # the stage's own path (a late-fusion model's members called apart)
            _topic_proba(model, batch, {}, ngrams)
        else:  # a late-fused sentiment model's members too
            _sentiment_proba(model, batch, ngrams)

    call(texts[:8], SharedNgrams())  # loads runtimes and builds sessions outside the timing
    ngrams = SharedNgrams()  # a fresh partition's cache: every word of the batch is new
    wall, cpu = time.perf_counter(), time.process_time()
    call(texts, ngrams)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return len(texts) / cpu, len(texts) / wall


def partition_cost(classifiers, docs: pd.DataFrame, share: bool) -> float:
    """CPU seconds per document of the whole classify stage over ``docs`` (one thread).

    Call it once untimed first: the per-process word caches (TextPreparer's, the
    tokenizer's) then hold the same words for every timed run.
    """
    with threadpool_limits(1):
        cpu = time.process_time()
        classify_feedback(
            docs, classifiers, topic_threshold=0.5, neutral_band=0.2, share_embeddings=share
        )
    return (time.process_time() - cpu) / len(docs)


def stage_rows(models_dir: Path, texts: dict, topics: list[str]) -> list[tuple]:
    """(topic model, sharing, CPU-s per document, docs per CPU-second) for each champion set."""
    classifiers = load_classifiers(models_dir, load_taxonomy(REPO / "data" / "taxonomy.yaml"))
    models = [classifiers.sentiment["en"], classifiers.sentiment["fa"], classifiers.topic]
    stored = texts["en"] + texts["fa"]
    docs = pd.DataFrame(
        {
            "id": [f"d{i}" for i in range(len(stored))],
            "language": [normalize_text(t)[0] for t in stored],
            "text_redacted": stored,
        }
    )
    rows = []
    for topic in [classifiers.topic_name, *topics]:
        if topic != classifiers.topic_name:
            classifiers.topic, card = load_model(topic, models_dir)
            classifiers.topic_name = topic
            models[2] = classifiers.topic
        for model in models:
            _set_threads(model, 1)
        partition_cost(classifiers, docs, share=False)  # warm-up: sessions, word caches
        for share in (True, False):
            per_doc = partition_cost(classifiers, docs, share)
            rows.append((topic, share, per_doc, 1 / per_doc))
            print(
                f"stage with {topic}, shared {share}: {1 / per_doc:,.0f} docs per CPU-s", flush=True
            )
    return rows


def role_texts(name: str, card: dict) -> str:
    if card.get("task") == "topic":
        return "both"
    return "fa" if card.get("lang") == "fa" or "-fa-" in name else "en"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    ap.add_argument("--models-dir", type=Path, default=REPO / "models")
    ap.add_argument("--model", action="append", default=[], help="also time this model")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "champions.md")
    ap.add_argument(
        "--write-cards", action="store_true", help="record each figure in its model's card"
    )
    ap.add_argument(
        "--stage-topic",
        action="append",
        default=[],
        help="also time the stage with this topic model",
    )
    args = ap.parse_args()
    registry = pd.read_json(args.models_dir / "registry.json", typ="series")
    champions = dict(registry["champions"])
    names = {name: role for role, name in champions.items()}
    names.update({m: "" for m in args.model if m not in names})
    texts = stored_texts(args.datasets)
    load_before = os.getloadavg()
    rows = []
    for name, role in names.items():
        model, card = load_model(name, args.models_dir)
        _set_threads(model, 1)
        features = (card.get("params") or {}).get("features", "tfidf")
        fusion = (card.get("params") or {}).get("fusion", "")
        kind = role_texts(name, card)
        with threadpool_limits(1):
            per_cpu, per_wall = stage_rate(model, texts[kind], card.get("task") == "topic")
        rows.append((role or "–", name, features + (f" ({fusion})" if fusion else ""), kind,
                     per_cpu, per_wall))  # fmt: skip
        print(f"{name}: {per_cpu:,.0f} docs per CPU-second", flush=True)
        if args.write_cards:
            stage_speed = {
                "docs_per_cpu_s": round(per_cpu, 1),
                "docs_per_s": round(per_wall, 1),
                "documents": len(texts[kind]),
                "texts": TEXTS[kind],
                "threads": 1,
                "load_average_before": [round(x, 1) for x in os.getloadavg()],
                "date": f"{datetime.now(UTC):%Y-%m-%d}",
            }
            update_card(name, {"stage_speed": stage_speed}, args.models_dir)
    stage = stage_rows(args.models_dir, texts, args.stage_topic)
    load_after = os.getloadavg()
    lines = [
        "# Champions: classify-stage cost per model",
        "",
        f"Generated by `benchmarks/champion_speed.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} "
        f"UTC ({os.cpu_count()} CPUs, shared). Each model scores {DOCS:,} normalized held-out "
        "texts as the classify stage calls it, on one thread. Load average (1/5/15 min) "
        "before: " + "/".join(f"{x:.1f}" for x in load_before) + ", after: "
        + "/".join(f"{x:.1f}" for x in load_after) + ".",
        "",
        "| role | model | features | texts | docs per CPU-second | docs/s (wall) |",
        "|---|---|---|---|---:|---:|",
    ]  # fmt: skip
    for role, name, features, kind, per_cpu, per_wall in rows:
        lines.append(
            f"| {role} | {name} | {features} | {kind} | {per_cpu:,.0f} | {per_wall:,.0f} |"
        )
    lines += [
        "",
        f"The whole classify stage over one partition of {len(texts['en']) + len(texts['fa']):,} "
        "stored texts (half English, half Persian; sentiment, topics and aspect clauses), "
        "one thread, with the champion set and with another topic model in its place:",
        "",
        "| topic model | embeddings shared | CPU-s per 1,000 documents | docs per CPU-second |",
        "|---|---|---:|---:|",
    ]
    for topic, share, per_doc, rate in stage:
        lines.append(
            f"| {topic} | {'yes' if share else 'no'} | {1000 * per_doc:,.2f} | {rate:,.0f} |"
        )
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
