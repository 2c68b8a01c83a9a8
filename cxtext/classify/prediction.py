"""Scoring a column of documents with a saved model, robust to rows that are not text.

:func:`predict_table` returns one output row per input row, in order: the predicted
label(s), the top probability, one probability column per class, and a reason when a
row could not be scored (missing, empty or non-text cell) instead of raising.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

PREDICTION = "prediction"
PROBABILITY = "probability"
REASON = "prediction_reason"


def unscorable_reason(value: object) -> str:
    """Why a cell cannot be scored ("" when it can): missing, not text, or empty."""
    if value is None or value is pd.NA:
        return "missing text"
    if isinstance(value, float) and math.isnan(value):
        return "missing text"
    if not isinstance(value, str):
        return f"not text ({type(value).__name__})"
    if not value.strip():
        return "empty text"
    return ""


def _is_multilabel(model: Any) -> bool:
    last = model.steps[-1][1] if hasattr(model, "steps") else model
    return type(last).__name__ == "ThemeClassifier" or bool(getattr(last, "multilabel_", False))


def predict_table(
    model: Any,
    texts: Sequence[object],
    *,
    threshold: float = 0.5,
    prefix: str = "",
) -> pd.DataFrame:
    """Predictions for every input row (same length and order as ``texts``).

    Single-label models: ``prediction`` (label), ``probability`` (its probability) and
    ``proba_<class>`` columns. Multi-label (topic) models: ``prediction`` holds the
    labels at or above ``threshold`` joined by ``|`` and ``probability`` a JSON map of
    every label's probability. Rows that cannot be scored get an empty prediction and
    a ``prediction_reason``. ``prefix`` is put before every column name.
    """
    texts = list(texts)
    reasons = [unscorable_reason(v) for v in texts]
    ok = [i for i, r in enumerate(reasons) if not r]
    classes = [str(c) for c in getattr(model, "classes_", [])]
    multilabel = _is_multilabel(model)
    n = len(texts)
    prediction = np.full(n, "", dtype=object)
    probability: np.ndarray = np.full(n, np.nan if not multilabel else "", dtype=object)
    per_class = {c: np.full(n, np.nan) for c in classes} if not multilabel else {}
    if ok:
        proba = np.asarray(model.predict_proba([texts[i] for i in ok]), dtype=float)
        for row, i in enumerate(ok):
            p = proba[row]
            if multilabel:
                chosen = [c for c, v in zip(classes, p, strict=True) if v >= threshold]
                prediction[i] = "|".join(chosen)
                probability[i] = json.dumps(
                    {c: round(float(v), 4) for c, v in zip(classes, p, strict=True)},
                    ensure_ascii=False,
                )
            else:
                j = int(np.argmax(p))
                prediction[i] = classes[j]
                probability[i] = float(p[j])
        if not multilabel:
            for j, c in enumerate(classes):
                per_class[c][ok] = proba[:, j]
    out = pd.DataFrame({f"{prefix}{PREDICTION}": pd.array(prediction, dtype="string")})
    if multilabel:
        out[f"{prefix}{PROBABILITY}"] = pd.array(probability, dtype="string")
    else:
        out[f"{prefix}{PROBABILITY}"] = pd.array(probability.astype(float), dtype="Float64")
        for c, values in per_class.items():
            out[f"{prefix}proba_{c}"] = pd.array(values, dtype="Float64")
    out[f"{prefix}{REASON}"] = pd.array(reasons, dtype="string")
    return out
