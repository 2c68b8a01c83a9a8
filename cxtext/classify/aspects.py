"""Aspect sentiment: one sentiment per theme of a document, from the clauses that mention it.

"The delivery was late but the food was great" is one document with two opinions.
We split it into clauses at sentence punctuation and contrast conjunctions, give each
clause the themes whose keywords (or topic-model probability) fire on it, score every
clause with the language's sentiment model, and give a theme the sentiment of its
clauses; a theme no clause mentions keeps the document's sentiment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from cxtext.classify.topics import KeywordMatcher

# Contrast conjunctions that usually turn an opinion around. Persian forms are listed
# after hazm normalization (ولے is a common informal spelling of ولی).
CONTRAST_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("but", "however", "although", "though", "whereas", "except"),
    "fa": (
        "ولی خب",
        "ولی",
        "اما",
        "ولے",
        "ولیکن",
        "لیکن",
        "هرچند",
        "هر چند",
        "با این حال",
        "در حالی که",
        "در حالیکه",
        "البته",
    ),
}
_SENTENCE_END = r"[.!?؟;؛\n…]+"
_COMMA = r"[,،]"


def _contrast_regex(words: Sequence[str]) -> str:
    alts = sorted(
        (re.escape(w).replace(r"\ ", r"[\s\u200c]+") for w in words), key=len, reverse=True
    )
    return rf"(?<!\w)(?:{'|'.join(alts)})(?!\w)"


_SPLIT = re.compile(
    rf"{_SENTENCE_END}|{_contrast_regex(CONTRAST_WORDS['en'] + CONTRAST_WORDS['fa'])}",
    re.IGNORECASE,
)
_SPLIT_COMMAS = re.compile(rf"{_SPLIT.pattern}|{_COMMA}", re.IGNORECASE)
_LETTER = re.compile(r"\w")
_EDGE = " \t\u200c,،:-–—"


def split_clauses(text: str, *, commas: bool = False) -> list[str]:
    """Clauses of ``text``: split at sentence punctuation and contrast conjunctions.

    The conjunction itself is dropped (it carries no opinion of its own); clauses with
    no letter or digit are dropped. ``commas=True`` also splits at commas.

    Examples
    --------
    >>> split_clauses("The delivery was late but the food was great!")
    ['The delivery was late', 'the food was great']
    >>> split_clauses("غذا عالی بود ولی پیک خیلی دیر رسید")
    ['غذا عالی بود', 'پیک خیلی دیر رسید']
    """
    if not text:
        return []
    parts = (_SPLIT_COMMAS if commas else _SPLIT).split(text)
    return [p.strip(_EDGE) for p in parts if p and _LETTER.search(p)]


def label_from_proba(proba: np.ndarray, classes: Sequence[str], neutral_band: float) -> list[str]:
    """Sentiment labels from class probabilities.

    A model with a neutral class: the most probable class. A binary model: neutral
    when |P(pos) - P(neg)| < ``neutral_band``, else the sign.
    """
    classes = [str(c) for c in classes]
    proba = np.asarray(proba, dtype=float)
    if len(proba) == 0:
        return []
    if "neutral" in classes:
        return [classes[i] for i in proba.argmax(axis=1)]
    score = sentiment_score(proba, classes)
    return [
        "neutral" if abs(s) < neutral_band else ("positive" if s > 0 else "negative") for s in score
    ]


def sentiment_score(proba: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """P(positive) - P(negative) per row, in [-1, 1]."""
    classes = [str(c) for c in classes]
    proba = np.asarray(proba, dtype=float)
    if len(proba) == 0:
        return np.zeros(0)
    pos = proba[:, classes.index("positive")] if "positive" in classes else 0.0
    neg = proba[:, classes.index("negative")] if "negative" in classes else 0.0
    return np.clip(pos - neg, -1.0, 1.0)


SENTIMENT_CLASSES = ("negative", "neutral", "positive")
# (clauses, languages) -> probabilities over SENTIMENT_CLASSES; one call per batch.
ClauseScorer = Callable[[list[str], list[str]], np.ndarray]
# (probabilities over SENTIMENT_CLASSES, languages) -> labels, with each model's own rule.
ClauseLabeler = Callable[[np.ndarray, list[str]], list[str]]
# clauses -> (theme ids, probabilities) from a topic model, or None to use keywords only.
ClauseTopics = Callable[[list[str]], tuple[list[str], np.ndarray]]


def aspect_sentiments(
    texts: Sequence[str],
    languages: Sequence[str],
    doc_topics: Sequence[Sequence[str]],
    doc_labels: Sequence[str],
    *,
    matcher: KeywordMatcher,
    score_clauses: ClauseScorer,
    label_clauses: ClauseLabeler,
    clause_topics: ClauseTopics | None = None,
    topic_threshold: float = 0.5,
    commas: bool = False,
    min_topics: int = 2,
) -> list[dict[str, str]]:
    """Theme -> sentiment label for each document's themes, batched over all documents.

    Only documents with at least ``min_topics`` themes are split (by default, with one
    theme the document's sentiment is the theme's); all their clauses are scored in
    one ``score_clauses`` call, so the cost is one model call per batch, not per
    document.
    """
    out: list[dict[str, str]] = [
        {t: str(lbl) for t in topics} for topics, lbl in zip(doc_topics, doc_labels, strict=True)
    ]
    owners: list[int] = []
    clauses: list[str] = []
    clause_langs: list[str] = []
    for i, (text, topics) in enumerate(zip(texts, doc_topics, strict=True)):
        if len(topics) < max(min_topics, 1):
            continue
        parts = split_clauses(text, commas=commas)
        if len(parts) < 2:
            continue
        owners += [i] * len(parts)
        clauses += parts
        clause_langs += [str(languages[i])] * len(parts)
    if not clauses:
        return out

    # Sentiment first: a caller may reuse the text it prepared for the topic model.
    proba = np.asarray(score_clauses(clauses, clause_langs), dtype=float)
    hits = [set(matcher.themes_in(c, lang)) for c, lang in zip(clauses, clause_langs, strict=True)]
    if clause_topics is not None:
        ids, tproba = clause_topics(clauses)
        for k in range(len(clauses)):
            hits[k].update(ids[j] for j in np.flatnonzero(tproba[k] >= topic_threshold))

    # Average the probabilities of the clauses that mention a theme, per document.
    sums: dict[tuple[int, str], np.ndarray] = {}
    counts: dict[tuple[int, str], int] = {}
    for k, doc in enumerate(owners):
        for theme in hits[k]:
            if theme in out[doc]:
                key = (doc, theme)
                sums[key] = sums.get(key, 0) + proba[k]
                counts[key] = counts.get(key, 0) + 1
    if sums:
        keys = list(sums)
        mean = np.vstack([sums[k] / counts[k] for k in keys])
        labels = label_clauses(mean, [str(languages[doc]) for doc, _ in keys])
        for (doc, theme), lbl in zip(keys, labels, strict=True):
            out[doc][theme] = lbl
    return out
