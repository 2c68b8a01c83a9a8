"""Sentiment recipes compared by 3-fold cross-validation on the TRAINING parts only.

``benchmarks/sentiment.py`` reports one number per model on the held-out split; this
script is how candidate recipes were chosen without looking at that split. Each
dataset's training part (SnappFood ``train.csv``; the airline 80% part of the seed-42
split) is cut into 3 stratified folds (seed 1) and every contender is trained on two
folds and scored on the third:

- baseline: raw-text TF-IDF word 1-2 + char_wb 2-5 grams, LogisticRegression(C=1) and
  LinearSVC(C=0.5) (exactly ``benchmarks/sentiment.py``'s baselines);
- ours: :func:`build_sentiment_model` with the benchmark's parameters;
- NB ensemble: soft vote of NB-LR on binary word 1-3 grams (C=0.1), NB-LR on char_wb
  1-5 TF-IDF (C=2) and ours — the best ensemble found on a validation split carved
  from SnappFood's training part.

Text is prepared once (``TextPreparer`` is stateless), so only features and
classifiers are fitted per fold.

Usage::

    .venv/bin/python benchmarks/sentiment_cv.py [--datasets ../shared/datasets] \
        [--out benchmarks/results/sentiment_cv.md]

Takes about 10-15 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from sentiment import OURS_PARAMS, baseline, load  # noqa: E402

from cxtext.classify.features import CompactTfidfVectorizer  # noqa: E402
from cxtext.classify.sentiment import NBLogisticRegression, build_sentiment_model  # noqa: E402

FOLDS, SEED = 3, 1


def nb_member(view: str, C: float) -> Pipeline:
    """NB-LR on one view of prepared text: binary word 1-3 grams or char_wb 1-5 TF-IDF."""
    if view == "word":
        vec = CompactTfidfVectorizer(
            token_pattern=r"\S+",
            lowercase=False,
            ngram_range=(1, 3),
            binary=True,
            use_idf=False,
            norm=None,
        )
    else:
        vec = CompactTfidfVectorizer(
            analyzer="char_wb", lowercase=False, ngram_range=(1, 5), min_df=2, sublinear_tf=True
        )
    return Pipeline([("features", vec), ("classify", NBLogisticRegression(C=C))])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sentiment recipes: 3-fold CV on train only")
    parser.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks" / "results" / "sentiment_cv.md"
    )
    args = parser.parse_args(argv)
    lines = [
        "# Sentiment recipes: 3-fold cross-validation on the training parts",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `benchmarks/sentiment_cv.py`. "
        "Folds are cut from the training data only (stratified, seed 1); the held-out "
        "test split of `benchmarks/sentiment.py` is never read. Accuracy per fold and mean.",
        "",
        "| dataset | model | fold 1 | fold 2 | fold 3 | mean |",
        "|---|---|---|---|---|---|",
    ]
    for dataset, (lang, x_tr, y_tr, _x_te, _y_te) in load(args.datasets).items():
        ours = build_sentiment_model(lang, **OURS_PARAMS[lang])
        start = time.perf_counter()
        prepared = np.asarray(ours.named_steps["prepare"].fit_transform(x_tr), dtype=object)
        print(f"{dataset}: prepared in {time.perf_counter() - start:.0f} s", flush=True)
        raw, y = np.asarray(x_tr, dtype=object), np.asarray(y_tr)
        ours_tail = Pipeline(ours.steps[1:])
        scores: dict[str, list[float]] = {}
        folds = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(raw, y)
        for tr, va in folds:

            def record(name: str, pred: np.ndarray, va=va, y=y, scores=scores) -> None:
                scores.setdefault(name, []).append(float(np.mean(pred == y[va])))

            for name, clf in (
                ("baseline: TF-IDF + LogisticRegression(C=1)", LogisticRegression(max_iter=2000)),
                ("baseline: TF-IDF + LinearSVC(C=0.5)", LinearSVC(C=0.5)),
            ):
                record(name, baseline(clf).fit(raw[tr], y[tr]).predict(raw[va]))
            probas = []
            for member in (nb_member("word", 0.1), nb_member("char", 2.0), clone(ours_tail)):
                member.fit(prepared[tr], y[tr])
                probas.append(member.predict_proba(prepared[va]))
            classes = member.classes_
            record(
                f"ours: build_sentiment_model({lang!r}, C={OURS_PARAMS[lang]['C']})",
                classes[probas[2].argmax(axis=1)],
            )
            record(
                "NB ensemble: NB-LR word + NB-LR char + ours (soft vote)",
                classes[np.mean(probas, axis=0).argmax(axis=1)],
            )
            print(f"{dataset}: fold {len(next(iter(scores.values())))} done", flush=True)
        for name, values in scores.items():
            cells = " | ".join(f"{v:.4f}" for v in values)
            lines.append(f"| {dataset} | {name} | {cells} | {np.mean(values):.4f} |")
            print(f"{dataset:36s} {name:58s} mean {np.mean(values):.4f}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
