"""Topic benchmarks -> ``benchmarks/results/topics.md``.

1. Supervised, single-label accuracy (argmax) on a fixed-seed (42) stratified 80/20
   split, baseline and ours trained and tested in the same run:
   - airline complaint topic: negative tweets of ``en_airline_tweets`` with a topic
     label, all 10 labels including "Can't Tell" (the README baseline's label set);
   - Banking77: 77 intents of ``en_banking77/train.csv``.
   Baseline: plain TF-IDF word 1–2 + char 2–5 grams on the raw text, LinearSVC with
   scikit-learn defaults, and the same baseline with C and class weights tuned by
   3-fold CV of the training part. Ours (``fit_single_label_model``) picks its settings
   by the same CV; the test part is never used for a choice.
2. Weak supervision on the airline split: ``data/taxonomies/airline.yaml`` seed
   keywords (written from domain knowledge) label the *training* tweets; a
   multi-label topic model trained on those labels is scored on the held-out tweets'
   real complaint labels, next to keyword-only tagging and the supervised model,
   overall and on held-out tweets that contain no seed keyword.

Usage (about 10 minutes on 2 cores)::

    .venv/bin/python benchmarks/topics.py [--datasets ../shared/datasets] [--only supervised|weak]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cxtext.classify.evaluation import split_indices  # noqa: E402
from cxtext.classify.topics import SINGLE_LABEL_GRID, fit_single_label_model  # noqa: E402
from cxtext.classify.weak_labels import train_weak_topic_model, weak_labels  # noqa: E402
from cxtext.themes.taxonomy import load_taxonomy  # noqa: E402

SEED = 42
CANT_TELL = "Can't Tell"
AIRLINE_TAXONOMY = REPO / "data" / "taxonomies" / "airline.yaml"
# Weak-label variants; the first is the default (decided before looking at held-out
# scores: drop keyword-less documents, mask 30 % of keyword hits).
WEAK_VARIANTS = {
    "default: drop unlabelled, mask 0.3": {"unlabelled": "drop", "mask_rate": 0.3},
    "no masking": {"unlabelled": "drop", "mask_rate": 0.0},
    "keyword-less docs as negatives": {"unlabelled": "negative", "mask_rate": 0.3},
    "default + self-training (p >= 0.8)": {
        "unlabelled": "drop",
        "mask_rate": 0.3,
        "self_training": 0.8,
    },
}


def baseline_model(C: float = 1.0, class_weight: str | None = None) -> Pipeline:
    """The README's reference: plain TF-IDF word 1-2 + char 2-5 grams, a linear SVM."""
    return Pipeline(
        [
            (
                "features",
                FeatureUnion(
                    [
                        ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                        (
                            "char",
                            TfidfVectorizer(
                                analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True
                            ),
                        ),
                    ]
                ),
            ),
            ("classify", LinearSVC(C=C, class_weight=class_weight)),
        ]
    )


def load_airline(datasets: Path) -> tuple[list[str], np.ndarray]:
    frame = pd.read_csv(
        datasets / "en_airline_tweets" / "train.csv", dtype=str, keep_default_na=False
    )
    frame = frame[frame["topic"] != ""]
    return frame["text"].tolist(), np.asarray(frame["topic"].tolist(), dtype=object)


def load_banking77(datasets: Path) -> tuple[list[str], np.ndarray]:
    frame = pd.read_csv(datasets / "en_banking77" / "train.csv", dtype=str, keep_default_na=False)
    return frame["text"].tolist(), np.asarray(frame["topic"].tolist(), dtype=object)


def _split(texts: list[str], labels: np.ndarray):
    train, test = split_indices(list(labels), seed=SEED)
    return [texts[i] for i in train], [texts[i] for i in test], labels[train], labels[test]


BASELINE_GRID = {"C": (0.2, 0.5, 1.0), "class_weight": (None, "balanced")}


def tuned_baseline(xtr: list[str], ytr: np.ndarray) -> tuple[Pipeline, dict]:
    """The baseline with C and class weights picked by the same 3-fold CV of TRAIN ours uses."""
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED).split(
        np.zeros(len(ytr)), ytr
    )
    combos = [
        {"C": c, "class_weight": cw}
        for c in BASELINE_GRID["C"]
        for cw in BASELINE_GRID["class_weight"]
    ]
    totals = np.zeros(len(combos))
    for inner_train, inner_val in folds:
        front = baseline_model()[:-1]
        a = front.fit_transform([xtr[i] for i in inner_train])
        b = front.transform([xtr[i] for i in inner_val])
        for k, params in enumerate(combos):
            clf = LinearSVC(**params).fit(a, ytr[inner_train])
            totals[k] += float((clf.predict(b) == ytr[inner_val]).mean()) / 3
    best = int(np.argmax(totals))
    return baseline_model(**combos[best]).fit(xtr, ytr), {
        "params": combos[best],
        "validation_accuracy": float(totals[best]),
    }


def supervised(name: str, texts: list[str], labels: np.ndarray, ours_params: dict) -> dict:
    """Baselines and ours on one fixed split; every choice is made on a validation part of TRAIN."""
    xtr, xte, ytr, yte = _split(texts, labels)
    rows: dict[str, dict] = {}

    def record(label: str, fit, detail: dict | None = None) -> np.ndarray:
        start = time.perf_counter()
        model, info = fit()
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        pred = np.asarray(model.predict(xte), dtype=object)
        predict_s = time.perf_counter() - start
        rows[label] = {
            "accuracy": float((pred == yte).mean()),
            "train_s": seconds,
            "docs_per_s": len(xte) / predict_s,
            **(info or {}),
            **(detail or {}),
        }
        print(name, label, {k: v for k, v in rows[label].items() if k != "scores"}, flush=True)
        return pred

    record("baseline", lambda: (baseline_model(1.0).fit(xtr, ytr), {"params": {"C": 1.0}}))
    record("baseline, tuned", lambda: tuned_baseline(xtr, ytr))
    pred = record("ours", lambda: fit_single_label_model(xtr, ytr, seed=SEED, **ours_params))
    return {
        "rows": rows,
        "pred": pred,
        "n_train": len(xtr),
        "n_test": len(xte),
        "classes": len(set(labels)),
    }


def weak(
    datasets: Path, supervised_pred: np.ndarray | None, supervised_row: dict | None = None
) -> dict:
    texts, labels = load_airline(datasets)
    xtr, xte, _ytr, yte = _split(texts, labels)
    raw = yaml.safe_load(AIRLINE_TAXONOMY.read_text(encoding="utf-8"))
    to_label = {t["id"]: t["dataset_label"] for t in raw["themes"]}
    taxonomy = load_taxonomy(AIRLINE_TAXONOMY)
    langs_tr, langs_te = ["en"] * len(xtr), ["en"] * len(xte)

    kw_test = weak_labels(xte, langs_te, taxonomy)
    hit = np.array([bool(k) for k in kw_test])
    not_ct = yte != CANT_TELL
    # Keyword-only: the first theme (taxonomy order) whose keywords occur; none -> Can't Tell.
    kw_pred = np.asarray([to_label[k[0]] if k else CANT_TELL for k in kw_test], dtype=object)
    results = {
        "n_test": len(xte),
        "coverage_train": float(np.mean([bool(k) for k in weak_labels(xtr, langs_tr, taxonomy)])),
        "coverage_test": float(hit.mean()),
        "no_hit": int((~hit).sum()),
        "majority_no_hit": Counter(yte[~hit]).most_common(1)[0],
        "rows": {},
    }

    def score(pred: np.ndarray, argmax: np.ndarray | None = None) -> dict:
        out = {
            "all": float((pred == yte).mean()),
            "no_hit": float((pred[~hit] == yte[~hit]).mean()),
            "hit": float((pred[hit] == yte[hit]).mean()),
        }
        a = argmax if argmax is not None else pred
        out["excl_ct"] = float((a[not_ct] == yte[not_ct]).mean())
        out["no_hit_excl_ct"] = float((a[~hit & not_ct] == yte[~hit & not_ct]).mean())
        return out

    results["rows"]["keyword-only tagging"] = {**score(kw_pred), "seconds": 0.0}
    for name, params in WEAK_VARIANTS.items():
        start = time.perf_counter()
        model, summary = train_weak_topic_model(xtr, langs_tr, taxonomy, seed=SEED, **params)
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        proba = model.predict_proba(xte)
        docs_per_s = len(xte) / (time.perf_counter() - start)
        ids = [str(c) for c in model.classes_]
        argmax = np.asarray([to_label[ids[j]] for j in proba.argmax(axis=1)], dtype=object)
        abstain = np.where(proba.max(axis=1) >= 0.5, argmax, CANT_TELL).astype(object)
        results["rows"][f"weak model — {name}"] = {
            **score(abstain, argmax),
            "seconds": seconds,
            "docs_per_s": docs_per_s,
            "summary": summary.as_dict(),
        }
        print(name, results["rows"][f"weak model — {name}"], flush=True)
    if supervised_pred is not None:
        row = supervised_row or {}
        results["rows"]["supervised (ours, real labels)"] = {
            **score(supervised_pred),
            "seconds": row.get("train_s", float("nan")),
            "docs_per_s": row.get("docs_per_s"),
        }
    return results


def _pct(x: float) -> str:
    return f"{x:.3f}"


def render(
    sup: dict[str, dict], weak_res: dict | None, ours_params: dict[str, dict], meta: dict
) -> str:
    lines = [
        "# Topic benchmarks",
        "",
        "Command: `.venv/bin/python benchmarks/topics.py` (one run produced this whole file).",
        "",
        f"Machine: {meta['machine']}; Python {platform.python_version()}; scikit-learn {meta['sklearn']}; "
        f"date {meta['date']}; whole run {meta['seconds']:.0f} s. Other jobs shared the CPU, so "
        "seconds and docs/s are indicative.",
        "",
        f"Fixed seed {SEED}, stratified 80/20 split of each training file; every model below was",
        "trained and tested in the same run on the same split. All choices (ours and the tuned",
        "baseline) are made by the same stratified 3-fold cross-validation inside the 80 % TRAIN",
        'part ("validation acc." = its mean); the test part is scored once per model.',
        "",
    ]
    if sup:
        lines += [
            "## Supervised single-label accuracy (argmax)",
            "",
            "| data set | classes | train / test | model | settings (picked by CV on TRAIN) | validation acc. | **test accuracy** | vs baseline | train s | docs/s |",
            "|---|---:|---:|---|---|---:|---:|---:|---:|---:|",
        ]
        for name, res in sup.items():
            base = res["rows"]["baseline"]["accuracy"]
            for label, r in res["rows"].items():
                desc = {
                    "baseline": "baseline: raw text, TF-IDF w1-2 + c2-5, LinearSVC (defaults)",
                    "baseline, tuned": "baseline, C + class weight tuned",
                    "ours": "**ours**: `fit_single_label_model`",
                }[label]
                params = {
                    k: v for k, v in r["params"].items() if k in ("C", "class_weight", "negation")
                }
                val = f"{r['validation_accuracy']:.3f}" if "validation_accuracy" in r else "–"
                lines.append(
                    f"| {name} | {res['classes']} | {res['n_train']} / {res['n_test']} | {desc} | `{params}` | "
                    f"{val} | **{_pct(r['accuracy'])}** | {100 * (r['accuracy'] - base):+.1f} pts | "
                    f"{r['train_s']:.0f} | {r['docs_per_s']:,.0f} |"
                )
        lines += [
            "",
            "Ours = `cxtext.classify.topics.fit_single_label_model`: the shared `TextPreparer` (spaCy",
            "tokens; placeholders for @users, URLs, numbers; optional negation scopes) + TF-IDF word 1-2 +",
            f"char_wb 2-5 + LinearSVC; the grid `{SINGLE_LABEL_GRID}` is searched by 3-fold CV of TRAIN",
            "and the winner refitted on all of TRAIN (train s includes the search; the tuned baseline",
            f"searches `{BASELINE_GRID}` the same way). Fixed arguments: "
            + "; ".join(f"{k}: `{v}`" for k, v in ours_params.items())
            + ".",
            "",
        ]
        for name, res in sup.items():
            r = res["rows"]
            margin = 100 * (r["ours"]["accuracy"] - r["baseline"]["accuracy"])
            margin_t = 100 * (r["ours"]["accuracy"] - r["baseline, tuned"]["accuracy"])
            verdict = "meets" if margin >= 1.5 else "does **not** meet"
            lines.append(
                f"- {name}: ours {margin:+.1f} points vs the default baseline ({verdict} the +1.5 target), "
                f"{margin_t:+.1f} vs the tuned baseline."
            )
        lines.append("")
    if weak_res:
        w = weak_res
        lines += [
            "## Weak supervision — airline complaint topic, no labels used for training",
            "",
            "Seed keywords of `data/taxonomies/airline.yaml` (9 themes; written from domain knowledge,",
            f"not mined from labels) hit {w['coverage_train']:.1%} of training tweets and "
            f"{w['coverage_test']:.1%} of the {w['n_test']} held-out",
            "tweets. The weak model (`train_weak_topic_model`: TextPreparer + TF-IDF + one-vs-rest",
            "Platt-calibrated LinearSVC, multi-label) is trained on the keyword labels of the training",
            "tweets only; evaluation uses the real complaint labels of the held-out tweets. \"Can't",
            'Tell" has no theme: keyword-only tagging predicts it when no keyword occurs (first hit in',
            "taxonomy order otherwise), the weak model when no theme reaches probability 0.5 (first",
            "three columns); the argmax columns use the most probable theme and leave Can't Tell rows",
            "out. The supervised row is ours from the table above (real labels, Can't Tell included).",
            "",
            f"| method | all held-out ({w['n_test']}) | with a keyword ({w['n_test'] - w['no_hit']}) | **no seed keyword ({w['no_hit']})** | all, argmax, excl. Can't Tell | no keyword, argmax, excl. Can't Tell | train s | docs/s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, r in w["rows"].items():
            secs = "–" if np.isnan(r["seconds"]) else f"{r['seconds']:.0f}"
            dps = "–" if not r.get("docs_per_s") else f"{r['docs_per_s']:,.0f}"
            lines.append(
                f"| {name} | {_pct(r['all'])} | {_pct(r['hit'])} | **{_pct(r['no_hit'])}** | "
                f"{_pct(r['excl_ct'])} | {_pct(r['no_hit_excl_ct'])} | {secs} | {dps} |"
            )
        label, count = w["majority_no_hit"]
        lines += [
            "",
            f"Reference on the no-keyword tweets: always predicting their most common label ({label!r})",
            f"scores {count / w['no_hit']:.3f}. Keyword-only tagging cannot do better than predicting",
            "Can't Tell there; the argmax columns show how often the weak model's theme is right",
            "on tweets none of its keywords occur in.",
            "",
        ]
        default = next(r for k, r in w["rows"].items() if k.startswith("weak model — default"))
        lines += ["Weak labels of the default variant: `" + str(default["summary"]) + "`", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "topics.md")
    ap.add_argument("--only", choices=("supervised", "weak"))
    args = ap.parse_args()

    import sklearn  # noqa: PLC0415

    started = time.perf_counter()
    ours_params = {"airline complaint topic": AIRLINE_PARAMS, "Banking77": BANKING_PARAMS}
    sup: dict[str, dict] = {}
    if args.only != "weak":
        sup["airline complaint topic"] = supervised(
            "airline", *load_airline(args.datasets), AIRLINE_PARAMS
        )
        sup["Banking77"] = supervised("banking77", *load_banking77(args.datasets), BANKING_PARAMS)
    weak_res = None
    if args.only != "supervised":
        air = sup.get("airline complaint topic")
        weak_res = weak(
            args.datasets, air["pred"] if air else None, air["rows"]["ours"] if air else None
        )
    meta = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores ({platform.system()})",
        "sklearn": sklearn.__version__,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "seconds": time.perf_counter() - started,
    }
    text = render(sup, weak_res, ours_params, meta)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


# Fixed (not searched) arguments of ours; the rest is picked on the validation part of TRAIN.
AIRLINE_PARAMS: dict = {"lang": "en"}
BANKING_PARAMS: dict = {"lang": "en"}

if __name__ == "__main__":
    main()
