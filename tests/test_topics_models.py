"""Compact ThemeClassifier (one weight matrix + Platt sigmoids) and the single-label tuner."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import LinearSVC

from cxtext.classify.registry import load_model, save_model
from cxtext.classify.topics import ThemeClassifier, _platt, fit_single_label_model

RNG = np.random.default_rng(0)


def _data(n: int = 300, d: int = 20) -> tuple[np.ndarray, np.ndarray]:
    x = RNG.normal(size=(n, d))
    y = np.stack([(x[:, 0] + 0.3 * RNG.normal(size=n) > 0.5), (x[:, 1] - x[:, 2] > 0.8)], axis=1)
    return x, y.astype(int)


def test_platt_matches_sklearn_sigmoid_calibration() -> None:
    x, y = _data()
    col = y[:, 0]
    svc = LinearSVC(C=0.5).fit(x, col)
    scores = svc.decision_function(x)
    a, b = _platt(scores, col)
    assert a < 0  # higher SVM score -> higher probability
    ours = 1 / (1 + np.exp(a * scores + b))
    ref = CalibratedClassifierCV(LinearSVC(C=0.5), cv=3, method="sigmoid", ensemble=False).fit(
        x, col
    )
    # Same method (sklearn fits its sigmoid on out-of-fold scores; ours here on in-sample ones).
    assert np.corrcoef(ours, ref.predict_proba(x)[:, 1])[0, 1] > 0.98
    assert abs(ours.mean() - col.mean()) < 0.05


def test_theme_classifier_probabilities_rank_and_prior() -> None:
    x, y = _data()
    y = np.column_stack([y, np.zeros(len(y), dtype=int)])  # a theme with no positives
    clf = ThemeClassifier(themes=("a", "b", "empty"), cv=3, weights_dtype="float16").fit(x, y)
    assert clf.coef_.dtype == np.float16 and clf.coef_.shape == (3, x.shape[1])
    proba = clf.predict_proba(x)
    assert proba.shape == (len(x), 3)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert np.allclose(proba[:, 2], 0.0) and not clf.fitted_[2]
    for j in (0, 1):  # calibrated: positives score far above negatives
        assert proba[y[:, j] == 1, j].mean() > 0.7 > 0.3 > proba[y[:, j] == 0, j].mean()
    full = ThemeClassifier(themes=("a", "b", "empty"), cv=3, weights_dtype="float64").fit(x, y)
    assert np.abs(full.predict_proba(x) - proba).max() < 5e-3  # float16 storage barely matters
    with pytest.raises(ValueError, match="weights_dtype"):
        ThemeClassifier(themes=("a", "b", "empty"), weights_dtype="int8").fit(x, y)


def test_theme_classifier_saves_one_small_weight_matrix(tmp_path: Path) -> None:
    x, y = _data(d=2000)
    clf = ThemeClassifier(themes=("a", "b"), weights_dtype="float16").fit(x, y)
    folder = save_model(clf, "t", {"task": "topic"}, tmp_path)
    loaded, _ = load_model("t", tmp_path)
    assert np.allclose(loaded.predict_proba(x), clf.predict_proba(x))
    with zipfile.ZipFile(folder / "model.skops") as zf:
        stored = sum(i.file_size for i in zf.infolist() if i.filename.endswith(".npy"))
    # 2 themes x 2000 features x 2 bytes (+ small arrays); the old 3-fold calibrated
    # ensembles stored 3 float64 SVMs per theme (12x this).
    assert stored < 2 * 2000 * 2 * 1.5


TEXTS = (
    ["my card was not delivered", "the courier never came", "parcel is late again"] * 8
    + ["why this fee", "a hidden charge on my bill", "the commission is too high"] * 8
    + ["app crashes on login", "the app keeps freezing", "error after the update"] * 8
)
LABELS = ["delivery"] * 24 + ["fees"] * 24 + ["app"] * 24


def test_fit_single_label_model_searches_grid_on_train_only() -> None:
    grid = {"negation": (True, False), "C": (0.5, 1.0)}
    model, info = fit_single_label_model(
        TEXTS, LABELS, grid=grid, folds=3, seed=1, lang="en", min_df=1
    )
    assert len(info["scores"]) == 4
    assert {(s["negation"], s["C"]) for s in info["scores"]} == {
        (True, 0.5),
        (True, 1.0),
        (False, 0.5),
        (False, 1.0),
    }
    assert info["params"]["lang"] == "en" and info["folds"] == 3
    assert list(model.predict(["courier late with my parcel", "fee on my bill"])) == [
        "delivery",
        "fees",
    ]
    with pytest.raises(ValueError, match="folds"):
        fit_single_label_model(TEXTS, LABELS, grid={"C": (1.0,)}, folds=0)


def test_fit_single_label_model_picks_the_best_setting() -> None:
    # Same words, different order: only word bigrams tell the two labels apart.
    texts = ["card blocks account", "account blocks card"] * 12 + [
        "bank pays user",
        "user pays bank",
    ] * 12
    labels = ["a", "b"] * 12 + ["c", "d"] * 12
    grid = {"word_ngram_range": ((1, 1), (1, 2))}
    model, info = fit_single_label_model(texts, labels, grid=grid, folds=1, lang="en", min_df=1)
    scores = {s["word_ngram_range"]: s["accuracy"] for s in info["scores"]}
    assert scores[(1, 2)] == 1.0 > scores[(1, 1)]
    assert info["params"]["word_ngram_range"] == (1, 2)
    assert info["validation_accuracy"] == pytest.approx(1.0)
    assert list(model.predict(["account blocks card", "user pays bank"])) == ["b", "d"]
