"""Held-out evaluation of text classifiers: splits, single- and multi-label metrics.

:func:`evaluate_model` returns a plain JSON-able dict (it goes straight into the model
card): accuracy and macro-F1, per-class precision/recall/F1, the confusion matrix and
the same headline scores per language. Multi-label (topic) models get micro/macro F1
and subset accuracy instead of a confusion matrix.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    hamming_loss,
    precision_recall_fscore_support,
)
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MultiLabelBinarizer

DEFAULT_SEED = 42
DEFAULT_TEST_SIZE = 0.2


def parse_labels(value: object) -> list[str]:
    """One cell of a multi-label column -> its labels.

    Accepts a list/tuple/set, a JSON list (``'["a", "b"]'``) or ``|``-separated text
    (``"a|b"``); empty and missing cells give ``[]``.

    Examples
    --------
    >>> parse_labels("delivery|price")
    ['delivery', 'price']
    >>> parse_labels('["delivery", "price"]')
    ['delivery', 'price']
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return []
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value).strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            return [str(v).strip() for v in parsed if str(v).strip()]
    return [part.strip() for part in text.split("|") if part.strip()]


def is_multilabel(labels: Sequence[object]) -> bool:
    """Whether labels are label sets (lists/tuples/sets) rather than one label per row."""
    return any(isinstance(v, (list, tuple, set, np.ndarray)) for v in labels)


def split_indices(
    labels: Sequence[object],
    *,
    test_size: float = DEFAULT_TEST_SIZE,
    seed: int = DEFAULT_SEED,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) row positions of a fixed-seed split, stratified by label when possible.

    Multi-label rows are stratified by their first label. Classes with fewer than two
    rows cannot be stratified; the split then falls back to a plain shuffled one.
    """
    n = len(labels)
    idx = np.arange(n)
    strata = None
    if stratify:
        keys = [
            (parse_labels(v)[:1] or [""])[0]
            if isinstance(v, (list, tuple, set, np.ndarray))
            else str(v)
            for v in labels
        ]
        counts = pd.Series(keys).value_counts()
        n_test = int(np.ceil(n * test_size)) if test_size < 1 else int(test_size)
        if counts.min() >= 2 and n_test >= len(counts) and n - n_test >= len(counts):
            strata = keys
    train, test = train_test_split(idx, test_size=test_size, random_state=seed, stratify=strata)
    return np.sort(train), np.sort(test)


def held_out_split(
    texts: Sequence[object],
    labels: Sequence[object],
    *,
    test_size: float = DEFAULT_TEST_SIZE,
    seed: int = DEFAULT_SEED,
    stratify: bool = True,
) -> tuple[list, list, list, list]:
    """(train_texts, test_texts, train_labels, test_labels) of :func:`split_indices`."""
    texts, labels = list(texts), list(labels)
    train, test = split_indices(labels, test_size=test_size, seed=seed, stratify=stratify)
    return (
        [texts[i] for i in train],
        [texts[i] for i in test],
        [labels[i] for i in train],
        [labels[i] for i in test],
    )


def _r(x: float) -> float:
    return round(float(x), 4)


def single_label_metrics(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro/weighted F1, per-class P/R/F1 and the confusion matrix."""
    y_true = [str(v) for v in y_true]
    y_pred = [str(v) for v in y_pred]
    labels = sorted(set(y_true) | set(y_pred))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "n": len(y_true),
        "accuracy": _r(accuracy_score(y_true, y_pred)),
        "macro_f1": _r(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "weighted_f1": _r(
            f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)
        ),
        "per_class": {
            label: {"precision": _r(p[i]), "recall": _r(r[i]), "f1": _r(f[i]), "support": int(s[i])}
            for i, label in enumerate(labels)
        },
        "confusion": {
            "labels": labels,
            "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        },
    }


def multilabel_metrics(
    y_true: Sequence[Sequence[str]], y_pred: Sequence[Sequence[str]]
) -> dict[str, Any]:
    """Micro/macro/samples F1, subset accuracy, Hamming loss and per-class P/R/F1."""
    mlb = MultiLabelBinarizer()
    mlb.fit([list(v) for v in y_true] + [list(v) for v in y_pred])
    t = mlb.transform([list(v) for v in y_true])
    p = mlb.transform([list(v) for v in y_pred])
    pr, rc, f, s = precision_recall_fscore_support(t, p, zero_division=0)
    if t.shape[1] < 2:  # sklearn reads one column as binary: pad with an all-zero label
        t = np.hstack([t, np.zeros((t.shape[0], 2 - t.shape[1]), dtype=t.dtype)])
        p = np.hstack([p, np.zeros((p.shape[0], 2 - p.shape[1]), dtype=p.dtype)])
    return {
        "n": len(y_true),
        "subset_accuracy": _r(accuracy_score(t, p)),
        "micro_f1": _r(f1_score(t, p, average="micro", zero_division=0)),
        "macro_f1": _r(np.mean(f)) if len(f) else 0.0,
        "samples_f1": _r(f1_score(t, p, average="samples", zero_division=0)),
        "hamming_loss": _r(hamming_loss(t, p)),
        "per_class": {
            str(label): {
                "precision": _r(pr[i]),
                "recall": _r(rc[i]),
                "f1": _r(f[i]),
                "support": int(s[i]),
            }
            for i, label in enumerate(mlb.classes_)
        },
    }


def _label_sets(model: Any, pred: Any) -> list[list[str]]:
    if hasattr(pred, "toarray") or (isinstance(pred, np.ndarray) and pred.ndim == 2):
        matrix = pred.toarray() if hasattr(pred, "toarray") else np.asarray(pred)
        names = None
        for attr in ("topics_", "labels_", "classes_"):
            names = getattr(model, attr, None)
            if names is not None:
                break
        if names is None:
            raise ValueError("multi-label model returns an indicator matrix but no classes_")
        names = [str(v) for v in names]
        return [[names[j] for j in np.flatnonzero(row)] for row in matrix]
    return [parse_labels(v) for v in pred]


def _is_indicator(pred: Any) -> bool:
    return hasattr(pred, "toarray") or (isinstance(pred, np.ndarray) and pred.ndim == 2)


def predict_label_sets(model: Any, texts: Sequence[object]) -> list[list[str]]:
    """Predicted label sets of a multi-label model, whatever form its ``predict`` returns.

    Handles a list of label lists, or a 0/1 indicator matrix whose columns are named by
    the model's ``classes_`` (or ``topics_``/``labels_``) attribute.
    """
    return _label_sets(model, model.predict(list(texts)))


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("n", "accuracy", "macro_f1", "weighted_f1", "subset_accuracy", "micro_f1", "samples_f1")
    return {k: metrics[k] for k in keys if k in metrics}


def evaluate_model(
    model: Any,
    texts: Sequence[object],
    labels: Sequence[object],
    languages: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Held-out metrics of ``model`` on ``texts`` with true ``labels``, overall and per language.

    Single-label: accuracy, macro/weighted F1, ``per_class`` P/R/F1/support and a
    ``confusion`` matrix. Multi-label (``labels`` holds label lists, or the model
    predicts an indicator matrix; then ``a|b`` and JSON-list strings are parsed):
    subset accuracy, micro/macro/samples F1 and ``per_class``.
    ``per_language`` repeats the headline scores for each value of ``languages``.
    """
    texts = list(texts)
    labels = list(labels)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    raw = model.predict(texts)
    multilabel = is_multilabel(labels) or _is_indicator(raw)
    if multilabel:
        truth = [parse_labels(v) for v in labels]
        pred = _label_sets(model, raw)
        metrics = multilabel_metrics(truth, pred)
    else:
        truth = [str(v) for v in labels]
        pred = [str(v) for v in raw]
        metrics = single_label_metrics(truth, pred)
    metrics["multilabel"] = bool(multilabel)
    if languages is not None:
        languages = [str(v) for v in languages]
        per_language = {}
        for lang in sorted(set(languages)):
            rows = [i for i, v in enumerate(languages) if v == lang]
            t = [truth[i] for i in rows]
            p = [pred[i] for i in rows]
            sub = multilabel_metrics(t, p) if multilabel else single_label_metrics(t, p)
            per_language[lang] = _headline(sub)
        metrics["per_language"] = per_language
    return metrics


def prediction_errors(
    model: Any,
    texts: Sequence[object],
    labels: Sequence[object],
    languages: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Misclassified rows of a single-label model: text, true, predicted, confidence, language."""
    texts = list(texts)
    pred = model.predict(texts)
    proba = model.predict_proba(texts).max(axis=1) if hasattr(model, "predict_proba") else None
    frame = pd.DataFrame(
        {
            "text": texts,
            "true": [str(v) for v in labels],
            "predicted": [str(v) for v in pred],
            "confidence": proba if proba is not None else np.nan,
            "language": list(languages) if languages is not None else pd.NA,
        }
    )
    return frame[frame["true"] != frame["predicted"]].reset_index(drop=True)
