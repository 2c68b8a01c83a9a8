"""Aspect-sentiment benchmark on ParsiNLU food reviews -> ``benchmarks/results/aspects.md``.

Task: given a review and one of its gold aspects (طعم taste, کیفیت quality, ارزش خرید
value, بسته بندی packaging, ارسال delivery, ارزش غذایی nutrition), predict the
aspect's polarity (negative / neutral / positive). Gold −2/−1 -> negative, 0 ->
neutral, 1/2 -> positive; 3 ("mixed") has no single polarity and is left out (its
count is reported).

- baseline: the document's sentiment for every aspect (what a pipeline without aspect
  sentiment reports);
- ours: :func:`cxtext.classify.aspects.aspect_sentiments` — clauses split at sentence
  punctuation and contrast conjunctions, aspect keywords from
  ``data/taxonomies/food_aspects.yaml``, each clause scored by the ``sentiment-fa``
  champion; an aspect no clause mentions keeps the document's sentiment.

The splitting variant (commas or not; split every review or only multi-aspect
ones) is chosen on ``train.csv`` and reported on ``dev.csv`` (the held-out part); the sentiment model never saw either
file.

Usage::

    .venv/bin/python benchmarks/aspects.py [--datasets ../shared/datasets] [--models-dir models]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cxtext.classify.aspects import (  # noqa: E402
    SENTIMENT_CLASSES,
    aspect_sentiments,
    label_from_proba,
    split_clauses,
)
from cxtext.classify.registry import load_champion  # noqa: E402
from cxtext.classify.topics import keyword_matcher  # noqa: E402
from cxtext.normalize.persian import normalize_persian  # noqa: E402
from cxtext.themes.taxonomy import load_taxonomy  # noqa: E402

TAXONOMY_FILE = REPO / "data" / "taxonomies" / "food_aspects.yaml"
# Splitting variants: commas as clause boundaries or not; split every review, or only
# reviews with two or more aspects (what the nightly stage does).
VARIANTS = [
    {"commas": False, "min_topics": 2},
    {"commas": True, "min_topics": 2},
    {"commas": False, "min_topics": 1},
    {"commas": True, "min_topics": 1},
]
POLARITY = {"-2": "negative", "-1": "negative", "0": "neutral", "1": "positive", "2": "positive"}


def read_split(
    path: Path, aspect_to_theme: dict[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(documents, gold aspect rows, mixed aspects left out) of one ParsiNLU file."""
    docs = pd.read_csv(path, dtype=str, keep_default_na=False)
    docs["text_norm"] = [normalize_persian(t) for t in docs["text"]]
    rows, mixed = [], 0
    for i, raw in enumerate(docs["aspects"]):
        for aspect, value in json.loads(raw or "{}").items():
            if str(value) == "3":
                mixed += 1
                continue
            rows.append(
                {
                    "doc": i,
                    "aspect": aspect,
                    "theme": aspect_to_theme[aspect],
                    "gold": POLARITY[str(value)],
                }
            )
    return docs, pd.DataFrame(rows), mixed


def sentiment_proba(model, texts: list[str]) -> np.ndarray:
    """Probabilities over SENTIMENT_CLASSES (a class the model lacks gets 0)."""
    proba = np.zeros((len(texts), 3))
    if not texts:
        return proba
    raw = np.asarray(model.predict_proba(texts), dtype=float)
    for j, cls in enumerate(str(c) for c in model.classes_):
        if cls in SENTIMENT_CLASSES:
            proba[:, SENTIMENT_CLASSES.index(cls)] = raw[:, j]
    return proba


def evaluate(
    model, docs: pd.DataFrame, gold: pd.DataFrame, matcher, *, commas: bool, min_topics: int
) -> dict:
    """Accuracy of baseline and ours on the gold aspect rows of one split."""
    texts = docs["text_norm"].tolist()
    doc_labels = label_from_proba(sentiment_proba(model, texts), SENTIMENT_CLASSES, 0.0)
    topics = [sorted(set(gold.loc[gold["doc"] == i, "theme"])) for i in range(len(docs))]

    def score(clauses: list[str], langs: list[str]) -> np.ndarray:
        return sentiment_proba(model, clauses)

    def label(proba: np.ndarray, langs: list[str]) -> list[str]:
        return label_from_proba(proba, SENTIMENT_CLASSES, 0.0)

    ours = aspect_sentiments(
        texts,
        ["fa"] * len(texts),
        topics,
        doc_labels,
        matcher=matcher,
        score_clauses=score,
        label_clauses=label,
        commas=commas,
        min_topics=min_topics,
    )
    g = gold.copy()
    g["baseline"] = [doc_labels[d] for d in g["doc"]]
    g["ours"] = [ours[d][t] for d, t in zip(g["doc"], g["theme"], strict=True)]
    hits = [set(matcher.themes_in(c, "fa")) for c in texts]
    g["keyword_in_doc"] = [t in hits[d] for d, t in zip(g["doc"], g["theme"], strict=True)]
    g["multi_polarity"] = g.groupby("doc")["gold"].transform("nunique") > 1
    return {
        "rows": g,
        "clauses_per_doc": float(np.mean([len(split_clauses(t, commas=commas)) for t in texts])),
    }


def _name(variant: dict) -> str:
    commas = "commas split" if variant["commas"] else "no comma split"
    which = "every review" if variant["min_topics"] <= 1 else "reviews with 2+ aspects"
    return f"{commas}, {which}"


def _acc(frame: pd.DataFrame, col: str) -> str:
    return f"{(frame[col] == frame['gold']).mean():.3f}" if len(frame) else "–"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    ap.add_argument("--models-dir", type=Path, default=REPO / "models")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "aspects.md")
    args = ap.parse_args()

    raw_tax = yaml.safe_load(TAXONOMY_FILE.read_text(encoding="utf-8"))
    aspect_to_theme = {t["dataset_label"]: t["id"] for t in raw_tax["themes"]}
    matcher = keyword_matcher(load_taxonomy(TAXONOMY_FILE))
    model, card = load_champion("sentiment-fa", args.models_dir)
    folder = args.datasets / "fa_parsinlu_food_aspects"

    start = time.perf_counter()
    tr_docs, tr_gold, _ = read_split(folder / "train.csv", aspect_to_theme)
    dev_docs, dev_gold, dev_mixed = read_split(folder / "dev.csv", aspect_to_theme)
    train_acc, dev_results = {}, {}
    for variant in VARIANTS:
        rows = evaluate(model, tr_docs, tr_gold, matcher, **variant)["rows"]
        train_acc[_name(variant)] = (rows["ours"] == rows["gold"]).mean()
        dev_results[_name(variant)] = evaluate(model, dev_docs, dev_gold, matcher, **variant)
    chosen = max(train_acc, key=lambda k: train_acc[k])
    rows = dev_results[chosen]["rows"]
    tr_base = evaluate(model, tr_docs, tr_gold, matcher, **VARIANTS[0])["rows"]
    seconds = time.perf_counter() - start

    lines = [
        "# Aspect sentiment — ParsiNLU food reviews",
        "",
        "Generated by `benchmarks/aspects.py`. Aspect-level accuracy: polarity of each gold",
        "aspect of a review (negative / neutral / positive; gold −2/−1 → negative, 0 → neutral,",
        f'1/2 → positive; {dev_mixed} "mixed" (3) aspects of dev are left out).',
        f"Sentiment model: `{card.get('name')}` (the `sentiment-fa` champion; not trained on",
        "ParsiNLU). Aspect keywords: `data/taxonomies/food_aspects.yaml`. The splitting",
        "variant is chosen on train.csv, then reported on dev.csv (held out).",
        "",
        "## Held-out (dev.csv), chosen variant: " + chosen,
        "",
        "| subset | aspects | baseline: document sentiment | ours: clause sentiment |",
        "|---|---:|---:|---:|",
        f"| all gold aspects | {len(rows)} | {_acc(rows, 'baseline')} | **{_acc(rows, 'ours')}** |",
    ]
    subsets = {
        "reviews whose aspects differ in polarity": rows[rows["multi_polarity"]],
        "aspect keyword found in the review": rows[rows["keyword_in_doc"]],
        "no aspect keyword in the review": rows[~rows["keyword_in_doc"]],
    }
    for name, sub in subsets.items():
        lines.append(f"| {name} | {len(sub)} | {_acc(sub, 'baseline')} | {_acc(sub, 'ours')} |")
    lines += [
        "",
        "## Variants (accuracy of ours; the baseline does not depend on the variant)",
        "",
        f"| variant | train.csv ({len(tr_base)} aspects; baseline {_acc(tr_base, 'baseline')}) | dev.csv |",
        "|---|---:|---:|",
    ]
    for name, res in dev_results.items():
        mark = " (chosen)" if name == chosen else ""
        lines.append(f"| {name}{mark} | {train_acc[name]:.3f} | {_acc(res['rows'], 'ours')} |")
    lines += [
        "",
        "## Per aspect (dev.csv)",
        "",
        "| aspect | theme | aspects | baseline | ours |",
        "|---|---|---:|---:|---:|",
    ]
    for aspect, sub in rows.groupby("aspect"):
        lines.append(
            f"| {aspect} | {sub['theme'].iloc[0]} | {len(sub)} | {_acc(sub, 'baseline')} | {_acc(sub, 'ours')} |"
        )
    lines += [
        "",
        "## Gold polarity mix (dev.csv)",
        "",
        "| polarity | aspects |",
        "|---|---:|",
        *[f"| {k} | {v} |" for k, v in rows["gold"].value_counts().items()],
        "",
        f"Clauses per review (chosen variant): {dev_results[chosen]['clauses_per_doc']:.2f}. "
        f"Run time {seconds:.0f} s on CPU.",
        "",
        "Caveats: dev has only ~200 scored aspects, so one aspect is ~0.5 points, and its",
        "gold has almost no neutral aspect while the 3-class sentiment model predicts neutral",
        "for some clauses. The nightly stage splits only multi-topic documents, without",
        "commas (the variants differ by less than one aspect on train.csv).",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
