"""What the text transformers share: one coercion of any input value to a text, the
sklearn plumbing of a transformer that learns nothing, and the flag that says the
texts are already as the normalize stage stores them.

Kept apart from ``features`` (which loads hazm and spaCy) so the encoder can use it
without their import cost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

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


_STORED: ContextVar[bool] = ContextVar("cxtext_stored_texts", default=False)


@contextmanager
def stored_texts() -> Iterator[None]:
    """Within the block, every text a model is given is the normalize stage's output.

    A saved model starts with the stage's normalization (``normalize_text``) so that
    raw text (training, ``cxtext predict``) and stored text are read alike; the
    classify stage opens this block, and :class:`~cxtext.classify.features.TextPreparer`,
    :class:`~cxtext.classify.features.StageNormalizer` and
    :class:`~cxtext.classify.late_fusion.LanguageGate` skip that step inside it, at any
    depth of a model. A model then reads exactly what it read in training
    (``normalize_text`` once), not its output normalized a second time.
    """
    token = _STORED.set(True)
    try:
        yield
    finally:
        _STORED.reset(token)


def texts_are_stored() -> bool:
    """Whether the enclosing code said the texts are already normalized (:func:`stored_texts`)."""
    return _STORED.get()
