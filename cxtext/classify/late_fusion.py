"""Late fusion for multi-label topic models, and the encoder's share chosen on out-of-fold probabilities.

A topic model is one-vs-rest (a calibrated probability per theme), so scikit-learn's
``VotingClassifier``, which needs one label per document, cannot average two of them.
:class:`ThemeLateFusion` fits a TF-IDF topic model and an embedding topic model on the
same (documents x themes) indicator matrix and averages their per-theme probabilities,
the encoder's with share ``share``: each model keeps the regularisation that suits its
own block, which one classifier over both blocks cannot.

:class:`LanguageGate` puts the encoder member on some languages only (``encoder_languages=
("en",)``): the English sentiment champion already embeds every English document, so an
English-only encoder topic model adds no embedding to the classify stage (the partition's
shared embeddings), while embedding the Persian documents too doubled the stage. A
document the gate skips gets the TF-IDF model's probabilities alone.

:func:`late_share_by_cv` picks ``share`` the way ``benchmarks/encoder.py`` does for
single-label models: on the two models' out-of-fold probabilities over the training
part (``scripts/train_topic_model.py``'s ``fusion_by_cv`` computes them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from cxtext.classify.features import TextPreparer
from cxtext.normalize.documents import normalize_text
from cxtext.normalize.language import letter_counts

SHARES = tuple(round(0.1 * k, 1) for k in range(11))


class ThemeLateFusion(ClassifierMixin, BaseEstimator):
    """Two multi-label topic models, per-theme probabilities averaged (``encoder``: ``share``).

    Parameters
    ----------
    tfidf, encoder : unfitted topic models (``predict_proba`` -> documents x themes,
        ``classes_`` the theme ids); both see the same input texts and must score the
        same themes in the same order.
    share : the encoder model's weight in the average, between 0 and 1.
    """

    def __init__(self, tfidf=None, encoder=None, share: float = 0.5) -> None:
        self.tfidf = tfidf
        self.encoder = encoder
        self.share = share

    def fit(self, X, y) -> ThemeLateFusion:
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"share must be between 0 and 1, got {self.share}")
        texts = list(X)
        self.tfidf_ = clone(self.tfidf).fit(texts, y)
        self.encoder_ = clone(self.encoder).fit(texts, y)
        a, b = list(self.tfidf_.classes_), list(self.encoder_.classes_)
        if a != b:
            raise ValueError(f"the two topic models score different themes: {a} vs {b}")
        self.classes_ = self.tfidf_.classes_
        return self

    def blend(self, tfidf_proba: np.ndarray, encoder_proba: np.ndarray) -> np.ndarray:
        """The fused probabilities from each member's own (documents x themes) output.

        A row the encoder member did not score (NaN: a :class:`LanguageGate` skipped its
        language) keeps the TF-IDF model's probabilities.
        """
        tfidf = np.asarray(tfidf_proba, dtype=float)
        encoder = np.asarray(encoder_proba, dtype=float)
        fused = (1.0 - self.share) * tfidf + self.share * encoder
        skipped = np.isnan(encoder).any(axis=1)
        fused[skipped] = tfidf[skipped]
        return fused

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "classes_")
        texts = list(X)
        return self.blend(self.tfidf_.predict_proba(texts), self.encoder_.predict_proba(texts))

    def predict(self, X, threshold: float = 0.5) -> np.ndarray:
        """0/1 indicator matrix at ``threshold``."""
        return (self.predict_proba(X) >= threshold).astype(np.int8)


class LanguageGate(ClassifierMixin, BaseEstimator):
    """A topic model fitted on, and applied to, the documents of some languages only.

    ``predict_proba`` calls ``estimator`` on the gated documents alone (so the encoder
    never sees the others) and returns NaN rows for the rest, which
    :meth:`ThemeLateFusion.blend` reads as "TF-IDF alone". A document's language is the
    branch :class:`TextPreparer` takes (Persian or mixed script: "fa", else "en") on
    the text as the normalize stage stores it, so raw text (training, ``cxtext
    predict``) and stored text (the classify stage) are gated alike; only documents
    with letters of both scripts are normalized to decide.

    Parameters
    ----------
    estimator : unfitted topic model (texts -> documents x themes probabilities).
    languages : the languages whose documents it sees ("en", "fa").
    mixed_min_share : the mixed-script threshold of the normalize stage.
    """

    def __init__(self, estimator=None, languages=("en",), mixed_min_share: float = 0.2) -> None:
        self.estimator = estimator
        self.languages = languages
        self.mixed_min_share = mixed_min_share

    def gated(self, texts: Sequence[object]) -> np.ndarray:
        """Boolean mask: which documents are of a gated language."""
        preparer = TextPreparer(lang="auto", mixed_min_share=self.mixed_min_share)
        keep = set(self.languages)
        out = np.zeros(len(texts), dtype=bool)
        for i, value in enumerate(texts):
            text = value if isinstance(value, str) else ""
            fa, en = letter_counts(text)
            if fa and en:  # cleaning and redaction can change the balance: decide on stored text
                text = normalize_text(text, self.mixed_min_share)[1]
            out[i] = preparer.language_of(text) in keep
        return out

    def fit(self, X, y) -> LanguageGate:
        texts, y = list(X), np.asarray(y)
        rows = np.flatnonzero(self.gated(texts))
        if not len(rows):
            raise ValueError(f"no training document in {', '.join(self.languages)}")
        self.estimator_ = clone(self.estimator).fit([texts[i] for i in rows], y[rows])
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "classes_")
        texts = list(X)
        rows = np.flatnonzero(self.gated(texts))
        out = np.full((len(texts), len(self.classes_)), np.nan)
        if len(rows):
            out[rows] = self.estimator_.predict_proba([texts[i] for i in rows])
        return out


def top1_hits(proba: np.ndarray, y: np.ndarray) -> float:
    """Share of documents whose most probable theme is one of their labels (multi-label accuracy)."""
    y = np.asarray(y)
    labelled = y.sum(axis=1) > 0
    top = np.asarray(proba).argmax(axis=1)
    return float(y[np.arange(len(y)), top][labelled].mean()) if labelled.any() else 0.0


def late_share_by_cv(
    tfidf_oof: np.ndarray, encoder_oof: np.ndarray, y: np.ndarray, shares: Sequence[float] = SHARES
) -> tuple[float, dict[float, float]]:
    """(the encoder share with the best out-of-fold top-1 hits, every share's score).

    Ties go to the smaller share (less weight on the dearer model).
    """
    scores = {s: top1_hits((1.0 - s) * tfidf_oof + s * encoder_oof, y) for s in shares}
    best = max(scores, key=lambda s: (scores[s], -s))
    return best, scores
