"""What the text transformers share: one coercion of any input value to a text, and
the sklearn plumbing of a transformer that learns nothing.

Kept apart from ``features`` (which loads hazm and spaCy) so the encoder can use it
without their import cost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


def as_text(value: object) -> str:
    """A document as a string: None and NaN are empty, bytes are decoded as UTF-8."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    try:
        if value is np.nan or (not isinstance(value, str) and bool(np.isnan(value))):  # type: ignore[arg-type]
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


class StatelessTextTransformer(TransformerMixin, BaseEstimator):
    """One text per row in, nothing learned: a saved model holds only the parameters,
    and training and serving transform a text the same way."""

    def fit(self, X: Iterable[object], y: object = None) -> StatelessTextTransformer:
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags
