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

A third, optional member (``fine``) is a :class:`FineLabelThemes`: a classifier over the
finest labels a labelled source has (Banking77's 77 intents, an airline complaint's
reason), its probabilities summed per theme. A theme is often a union of finer labels,
which one linear boundary per theme fits badly; a multinomial model over the parts fits
each part. It is fitted on those fine labels (``fit(X, y, fine_labels=...)``) and
weighted ``fine_share``.

:func:`late_share_by_cv` picks ``share`` the way ``benchmarks/encoder.py`` does for
single-label models: on the two models' out-of-fold probabilities over the training
part (``scripts/train_topic_model.py``'s ``fusion_by_cv`` computes them).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import VotingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted

from cxtext.classify.embedding_cache import active_cache, shared_embeddings
from cxtext.classify.features import TextPreparer
from cxtext.classify.text_input import texts_are_stored
from cxtext.normalize.documents import normalize_text
from cxtext.normalize.language import letter_counts

SHARES = tuple(round(0.1 * k, 1) for k in range(11))


class ThemeLateFusion(ClassifierMixin, BaseEstimator):
    """Multi-label topic models, per-theme probabilities averaged (``encoder``: ``share``).

    Parameters
    ----------
    tfidf, encoder : unfitted topic models (``predict_proba`` -> documents x themes,
        ``classes_`` the theme ids); both see the same input texts and must score the
        same themes in the same order.
    share : the encoder model's weight in the average, between 0 and 1.
    fine : optional unfitted :class:`FineLabelThemes` (or a :class:`LanguageGate` over
        one), fitted on ``fine_labels``; None: two members.
    fine_share : its weight; the TF-IDF model gets ``1 - share - fine_share``.
    """

    # Models saved before the fine member existed have neither attribute.
    fine = None
    fine_share = 0.0

    def __init__(
        self, tfidf=None, encoder=None, share: float = 0.5, fine=None, fine_share: float = 0.0
    ) -> None:
        self.tfidf = tfidf
        self.encoder = encoder
        self.share = share
        self.fine = fine
        self.fine_share = fine_share

    def fit(self, X, y, fine_labels=None) -> ThemeLateFusion:
        """Fit every member on ``X``; the fine member on ``fine_labels`` (one per text or None)."""
        shares = (self.share, self.fine_share)
        if min(shares) < 0.0 or sum(shares) > 1.0 + 1e-9:
            raise ValueError(f"share and fine_share must be >= 0 and sum to <= 1, got {shares}")
        if (self.fine is None) != (fine_labels is None):
            raise ValueError("a fine member needs fine_labels, and fine_labels need a fine member")
        texts = list(X)
        self.tfidf_ = clone(self.tfidf).fit(texts, y)
        with _one_embedding_pass():
            members = [clone(self.encoder).fit(texts, y)]
            if self.fine is not None:
                fine = np.asarray(fine_labels, dtype=object)
                members.append(clone(self.fine).fit(texts, fine))
        self.encoder_ = members[0]
        self.fine_ = members[1] if len(members) > 1 else None
        a = list(self.tfidf_.classes_)
        for member in members:
            if list(member.classes_) != a:
                raise ValueError(f"the topic models score different themes: {a} vs "
                                 f"{list(member.classes_)}")  # fmt: skip
        self.classes_ = self.tfidf_.classes_
        return self

    def member_probas(self, X) -> tuple[np.ndarray, ...]:
        """The gated members' (documents x themes) output, what :meth:`blend` takes after TF-IDF's."""
        texts = list(X)
        fine = getattr(self, "fine_", None)
        if fine is None:
            return (self.encoder_.predict_proba(texts),)
        with _one_embedding_pass():  # both members' encoders: each text embedded once
            return self.encoder_.predict_proba(texts), fine.predict_proba(texts)

    def blend(
        self, tfidf_proba: np.ndarray, encoder_proba: np.ndarray, fine_proba=None
    ) -> np.ndarray:
        """The fused probabilities from each member's own (documents x themes) output.

        A row a member did not score (NaN: a :class:`LanguageGate` skipped its
        language) gives that member's weight to the TF-IDF model.
        """
        tfidf = np.asarray(tfidf_proba, dtype=float)
        fused = np.array(tfidf)
        members = [(encoder_proba, self.share)]
        if fine_proba is not None:
            members.append((fine_proba, self.fine_share))
        for proba, weight in members:
            proba = np.asarray(proba, dtype=float)
            scored = ~np.isnan(proba).any(axis=1)
            fused[scored] += weight * (proba[scored] - tfidf[scored])
        return fused

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "classes_")
        texts = list(X)
        return self.blend(self.tfidf_.predict_proba(texts), *self.member_probas(texts))

    def predict(self, X, threshold: float = 0.5) -> np.ndarray:
        """0/1 indicator matrix at ``threshold``."""
        return (self.predict_proba(X) >= threshold).astype(np.int8)


def _one_embedding_pass() -> AbstractContextManager:
    """The enclosing shared embeddings (the classify stage's partition), else a new block."""
    return nullcontext() if active_cache() is not None else shared_embeddings()


class FineLabelThemes(ClassifierMixin, BaseEstimator):
    """A classifier over fine labels (intents, reasons) whose probabilities are summed per theme.

    ``fit(X, y)`` takes one fine label per text (None or "": no fine label, the text is
    left out); ``predict_proba`` gives documents x ``themes``: each theme's probability is
    the sum of its fine labels' (a label under two themes counts for both; one under
    none, e.g. an intent the taxonomy has no theme for, for neither).

    Parameters
    ----------
    estimator : unfitted single-label classifier on texts with ``predict_proba``.
    themes : the theme ids, the output's columns.
    fine_themes : fine label -> the themes it belongs to (labels not listed: none).
    """

    def __init__(self, estimator=None, themes: Sequence[str] = (), fine_themes=None) -> None:
        self.estimator = estimator
        self.themes = themes
        self.fine_themes = fine_themes

    def fit(self, X, y) -> FineLabelThemes:
        texts, labels = list(X), np.asarray(y, dtype=object)
        rows = np.flatnonzero([isinstance(v, str) and v != "" for v in labels])
        if not len(rows):
            raise ValueError("no training document has a fine label")
        estimator = clone(self.estimator).fit([texts[i] for i in rows], labels[rows].astype(str))
        return self.with_fitted(estimator)

    def with_fitted(self, estimator) -> FineLabelThemes:
        """This member around an ``estimator`` already fitted on fine labels (its
        ``classes_``): what :meth:`fit` ends with, and what a caller holding a fit of its
        own (cross-validation on cached vectors) uses instead of refitting."""
        themes, mapping = list(self.themes), dict(self.fine_themes or {})
        unknown = sorted({t for v in mapping.values() for t in v} - set(themes))
        if unknown:
            raise ValueError(f"fine_themes names themes that are not in themes: {unknown}")
        self.estimator_ = estimator
        self.sum_ = np.zeros((len(estimator.classes_), len(themes)), dtype=np.float32)
        for k, label in enumerate(estimator.classes_):
            for theme in mapping.get(str(label), ()):
                self.sum_[k, themes.index(theme)] = 1.0
        self.classes_ = np.array(themes, dtype=object)
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "classes_")
        return np.asarray(self.estimator_.predict_proba(list(X)), dtype=float) @ self.sum_


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
        stored = texts_are_stored()  # the classify stage's texts: decided on as they are
        out = np.zeros(len(texts), dtype=bool)
        for i, value in enumerate(texts):
            text = value if isinstance(value, str) else ""
            fa, en = (0, 0) if stored else letter_counts(text)
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


def soft_vote_members(model: object) -> list[object] | None:
    """The fitted members of a fitted soft ``VotingClassifier``; None for any other model.

    Its ``predict_proba`` is :func:`soft_vote` of these members' ``predict_proba``, so a
    caller may score each member its own cheaper way (the classify stage: preparation
    split off, the shared n-gram pass) and average alike. A frozen member
    (:func:`~cxtext.classify.sentiment.fuse_fitted`) is the estimator it wraps.
    """
    if not isinstance(model, VotingClassifier) or model.voting != "soft":
        return None
    if not hasattr(model, "estimators_"):
        return None
    members = [m.estimator if isinstance(m, FrozenEstimator) else m for m in model.estimators_]
    # A member the vote fitted has the encoded labels 0..k-1; a frozen one, the labels.
    lined_up = ([str(c) for c in model.classes_], [str(k) for k in range(len(model.classes_))])
    if any([str(c) for c in getattr(m, "classes_", ())] not in lined_up for m in members):
        return None  # columns that do not line up: only the model's own call is right
    return members


def soft_vote(model: VotingClassifier, member_probas: Sequence[np.ndarray]) -> np.ndarray:
    """``model.predict_proba`` from its members' probabilities: the same weighted average."""
    weights = model.weights
    if weights is not None:  # a dropped member has a weight but no fitted estimator
        weights = [
            w for (_, est), w in zip(model.estimators, weights, strict=True) if est != "drop"
        ]
    return np.average(np.asarray(member_probas), axis=0, weights=weights)


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
