"""Sentiment models: NB-weighted logistic regression over prepared word + char n-grams.

:class:`NBLogisticRegression` is the "NB-SVM" idea of Wang & Manning (2012) with a
logistic loss: each feature is scaled by its naive-Bayes log-count ratio for the class
before a linear model is fitted, which lets rare but telling n-grams ("NEG_خوب",
"NOT_helpful") count for more than plain TF-IDF allows. Multi-class problems are
one-vs-rest with the per-class probabilities normalized to sum to one.
:func:`build_sentiment_model` assembles the whole :class:`~sklearn.pipeline.Pipeline`
(text preparation -> features -> classifier) that is saved as one skops file.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import VotingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted, validate_data

from cxtext.classify.features import (
    CompactTfidfVectorizer,
    StageNormalizer,
    TextPreparer,
    make_text_features,
)

SENTIMENT_LABELS = ("negative", "neutral", "positive")


class NBLogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression on naive-Bayes log-count-ratio scaled features (NB-LR).

    Parameters
    ----------
    C : float, default=4.0
        Inverse regularization of each logistic regression.
    alpha : float, default=1.0
        Additive smoothing of the feature counts behind the log-count ratios.
    class_weight : dict, "balanced" or None, default=None
        Passed to each :class:`~sklearn.linear_model.LogisticRegression`.
    max_iter : int, default=1000
        Solver iterations.

    Attributes
    ----------
    classes_ : ndarray of labels.
    ratios_ : ndarray (n_targets, n_features) of log-count ratios; one row for a
        binary problem, one per class otherwise.
    coef_ : ndarray (n_targets, n_features) of weights on the scaled features.
    intercept_ : ndarray (n_targets,).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1, 0], [2, 0], [0, 1], [0, 3]], dtype=float)
    >>> clf = NBLogisticRegression(C=10).fit(X, ["pos", "pos", "neg", "neg"])
    >>> clf.predict(np.array([[3.0, 0.0]])).tolist()
    ['pos']
    """

    def __init__(
        self,
        C: float = 4.0,
        alpha: float = 1.0,
        class_weight: dict | str | None = None,
        max_iter: int = 1000,
    ):
        self.C = C
        self.alpha = alpha
        self.class_weight = class_weight
        self.max_iter = max_iter

    def _targets(self) -> list:
        return [self.classes_[1]] if len(self.classes_) == 2 else list(self.classes_)

    def fit(self, X, y) -> NBLogisticRegression:
        """Learn one log-count ratio and one logistic regression per target class."""
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=(np.float64, np.float32))
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"need at least two classes to fit, got {self.classes_.tolist()}")
        X = sp.csr_matrix(X)
        present = X.copy()
        present.data = np.ones_like(present.data)
        targets = self._targets()
        ratios = np.zeros((len(targets), X.shape[1]), dtype=np.float32)
        coef = np.zeros((len(targets), X.shape[1]), dtype=np.float64)
        intercept = np.zeros(len(targets), dtype=np.float64)
        for k, target in enumerate(targets):
            pos = y == target
            p = self.alpha + np.asarray(present[pos].sum(axis=0)).ravel()
            q = self.alpha + np.asarray(present[~pos].sum(axis=0)).ravel()
            r = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
            model = LogisticRegression(
                C=self.C, class_weight=self.class_weight, max_iter=self.max_iter
            )
            model.fit(X.multiply(r).tocsr(), pos.astype(int))
            ratios[k] = r
            coef[k] = model.coef_[0]
            intercept[k] = model.intercept_[0]
        self.ratios_ = ratios
        self.coef_ = coef
        self.intercept_ = intercept
        return self

    def decision_function(self, X) -> np.ndarray:
        """Per target class score; shape (n,) for binary problems, (n, n_classes) otherwise."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, accept_sparse="csr", reset=False, dtype=(np.float64, np.float32))
        X = sp.csr_matrix(X)
        weights = self.ratios_.astype(np.float64) * self.coef_
        scores = np.asarray(X @ weights.T) + self.intercept_
        return scores.ravel() if len(self.classes_) == 2 else scores

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (columns follow ``classes_``): sigmoids, normalized if one-vs-rest."""
        scores = self.decision_function(X)
        if len(self.classes_) == 2:
            pos = 1.0 / (1.0 + np.exp(-scores))
            return np.column_stack([1.0 - pos, pos])
        proba = 1.0 / (1.0 + np.exp(-scores))
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def build_sentiment_model(
    lang: str = "auto",
    *,
    C: float = 2.0,
    alpha: float = 1.0,
    class_weight: dict | str | None = None,
    word_ngram_range: tuple[int, int] = (1, 3),
    char_ngram_range: tuple[int, int] = (1, 5),
    min_df: int | float = 2,
    word_max_features: int | None = 200_000,
    char_max_features: int | None = 300_000,
    negation: bool = True,
    classifier: str = "logreg",
) -> Pipeline:
    """The sentiment Pipeline: TextPreparer -> word + char TF-IDF -> a probabilistic linear model.

    ``classifier`` is "logreg" (multinomial logistic regression, the default: its
    probabilities are well calibrated and the file holds one weight matrix) or "nblr"
    (:class:`NBLogisticRegression`).

    Examples
    --------
    >>> model = build_sentiment_model("en", min_df=1)
    >>> _ = model.fit(["great crew", "lost my bag", "great food", "bag lost again"],
    ...               ["positive", "negative", "positive", "negative"])
    >>> model.predict(["great"]).tolist()
    ['positive']
    """
    return Pipeline(
        [
            ("prepare", TextPreparer(lang=lang, negation=negation)),
            (
                "features",
                make_text_features(
                    word_ngram_range,
                    char_ngram_range,
                    min_df=min_df,
                    word_max_features=word_max_features,
                    char_max_features=char_max_features,
                ),
            ),
            ("classify", _classifier(classifier, C=C, alpha=alpha, class_weight=class_weight)),
        ]
    )


def build_raw_text_model(*, C: float = 0.5, max_features: int = 150_000) -> Pipeline:
    """TF-IDF of the text as the normalize stage stores it (word 1-2 + char_wb 2-5) -> LR.

    The plain baseline's features, capped, on stored text (:class:`StageNormalizer`:
    markup, PII redaction, hazm's character normalization): no tokenizer, no negation
    marks, no placeholders. Trained on raw text and served on stored text, it sees the
    same string either way, and the classify stage skips the normalizer. The char
    block keeps letter case (Persian has none; a Latin word keeps its own), so the
    stage counts it per word in its shared n-gram pass
    (:class:`~cxtext.classify.shared_ngrams.SharedNgrams`), which a lowercasing
    ``char_wb`` vectorizer cannot take. Late-fused with the prepared-text model it gives back what preparation
    takes away (emoji runs, spellings hazm rewrites), which is where the plain baseline
    beat ``sentiment-fa-v2`` on bank-app reviews (docs/classifiers.md).
    """
    return Pipeline(
        [
            ("normalize", StageNormalizer()),
            (
                "features",
                FeatureUnion(
                    [
                        (
                            "word",
                            CompactTfidfVectorizer(
                                ngram_range=(1, 2),
                                sublinear_tf=True,
                                min_df=2,
                                max_features=max_features,
                            ),
                        ),
                        (
                            "char",
                            CompactTfidfVectorizer(
                                analyzer="char_wb",
                                lowercase=False,  # the stage's shared n-gram pass, per word
                                ngram_range=(2, 5),
                                sublinear_tf=True,
                                min_df=2,
                                max_features=max_features,
                            ),
                        ),
                    ]  # fmt: skip
                ),
            ),
            ("classify", LogisticRegression(C=C, max_iter=1000)),
        ]
    )


def fuse_fitted(
    prepared: Pipeline, raw: Pipeline, raw_share: float, texts: Sequence[str], labels: Sequence[str]
) -> VotingClassifier:
    """The two fitted models' probabilities averaged, ``raw_share`` the raw-text model's.

    Each member is fitted on its own first (the prepared-text one may carry per-row
    weights, which a ``VotingClassifier`` cannot route into a Pipeline), then frozen.
    """
    fused = VotingClassifier(
        [("prepared", FrozenEstimator(prepared)), ("raw", FrozenEstimator(raw))],
        voting="soft",
        weights=[1.0 - raw_share, raw_share],
    )
    return fused.fit(list(texts), list(labels))  # the frozen members are not refitted


def _classifier(kind: str, *, C: float, alpha: float, class_weight: dict | str | None):
    if kind == "logreg":
        return LogisticRegression(C=C, class_weight=class_weight, max_iter=2000)
    if kind == "nblr":
        return NBLogisticRegression(C=C, alpha=alpha, class_weight=class_weight)
    raise ValueError(f"unknown classifier {kind!r}; use 'logreg' or 'nblr'")


def sentiment_label_order(classes: Sequence[str]) -> list[str]:
    """Classes in the canonical negative / neutral / positive order, others after."""
    known = [c for c in SENTIMENT_LABELS if c in classes]
    return known + sorted(c for c in classes if c not in SENTIMENT_LABELS)
