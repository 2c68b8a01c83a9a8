"""Weak supervision: seed keywords label documents, a topic model learns from those labels.

With no labelled data, a document's keyword hits are its (noisy) topic labels. A
linear model trained on them also learns the words that co-occur with the keywords,
so it assigns themes to documents that contain no seed keyword at all. Two choices
make that generalization stronger, both measured in ``benchmarks/topics.py``:

- documents without any keyword hit are left out of training by default, since many
  of them do belong to a theme and would teach the model "these words mean nothing";
- ``mask_rate`` hides the matched keywords in a share of the training documents, so
  the model must learn the context around a keyword and not only the keyword itself.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sklearn.pipeline import Pipeline

from cxtext.classify.feature_options import with_feature_option
from cxtext.classify.late_fusion import ThemeLateFusion
from cxtext.classify.topics import (
    build_topic_model,
    fold_for_matching,
    keyword_matcher,
    keyword_topics,
    labels_to_indicator,
)
from cxtext.themes.taxonomy import Taxonomy

MASK_TOKEN = "xxkeyword"


@dataclass
class WeakLabelSummary:
    """What the keywords labelled: for the model card and the benchmark report."""

    documents: int
    labelled: int
    used_for_training: int
    per_theme: dict[str, int] = field(default_factory=dict)
    mask_rate: float = 0.0
    unlabelled: str = "drop"
    pseudo_labelled: int = 0  # documents added by self-training

    @property
    def coverage(self) -> float:
        return self.labelled / self.documents if self.documents else 0.0

    def as_dict(self) -> dict:
        return {
            "documents": self.documents,
            "labelled_by_keywords": self.labelled,
            "coverage": round(self.coverage, 4),
            "used_for_training": self.used_for_training,
            "per_theme": dict(self.per_theme),
            "mask_rate": self.mask_rate,
            "unlabelled": self.unlabelled,
            "pseudo_labelled": self.pseudo_labelled,
        }


def weak_labels(
    texts: Sequence[str], languages: Sequence[str] | None, taxonomy: Taxonomy
) -> list[list[str]]:
    """The keyword hits of each document, used as its topic labels."""
    return keyword_topics(texts, languages, taxonomy)


def mask_keywords(
    texts: Sequence[str],
    languages: Sequence[str] | None,
    taxonomy: Taxonomy,
    *,
    rate: float,
    seed: int = 0,
) -> list[str]:
    """Texts with their seed-keyword matches replaced by ``xxkeyword`` in a ``rate`` share of documents.

    Masked documents are matched on their folded form (lower case, ZWNJ dropped), which
    is what the model's own text preparation reads anyway.
    """
    if rate <= 0:
        return list(texts)
    matcher = keyword_matcher(taxonomy)
    rng = random.Random(seed)
    langs = languages if languages is not None else ["both"] * len(texts)
    out = []
    for text, lang in zip(texts, langs, strict=True):
        if not text or rng.random() >= rate:
            out.append(text)
            continue
        mode = lang if lang in ("fa", "en") else "both"
        folded = fold_for_matching(text)
        for rx in matcher.regexes[mode]:
            if rx is not None:
                folded = rx.sub(MASK_TOKEN, folded)
        out.append(re.sub(rf"(?:{MASK_TOKEN}\s*)+", f"{MASK_TOKEN} ", folded).strip())
    return out


def weak_training_set(
    texts: Sequence[str],
    languages: Sequence[str] | None,
    taxonomy: Taxonomy,
    *,
    unlabelled: str = "drop",
    mask_rate: float = 0.0,
    seed: int = 0,
) -> tuple[list[str], list[list[str]], WeakLabelSummary]:
    """(training texts, weak label lists, summary) from unlabelled texts.

    ``unlabelled="drop"`` leaves out documents with no keyword hit; ``"negative"``
    keeps them as negatives for every theme.
    """
    if unlabelled not in ("drop", "negative"):
        raise ValueError(f"unlabelled must be 'drop' or 'negative', got {unlabelled!r}")
    texts = [t if isinstance(t, str) else "" for t in texts]
    labels = weak_labels(texts, languages, taxonomy)
    keep = [
        i for i, lab in enumerate(labels) if lab or (unlabelled == "negative" and texts[i].strip())
    ]
    langs = [languages[i] for i in keep] if languages is not None else None
    train_texts = mask_keywords(
        [texts[i] for i in keep], langs, taxonomy, rate=mask_rate, seed=seed
    )
    train_labels = [labels[i] for i in keep]
    summary = WeakLabelSummary(
        documents=len(texts),
        labelled=sum(1 for lab in labels if lab),
        used_for_training=len(keep),
        per_theme=dict(Counter(t for lab in labels for t in lab)),
        mask_rate=mask_rate,
        unlabelled=unlabelled,
    )
    return train_texts, train_labels, summary


def train_weak_topic_model(
    texts: Sequence[str],
    languages: Sequence[str] | None,
    taxonomy: Taxonomy,
    *,
    unlabelled: str = "drop",
    mask_rate: float = 0.0,
    self_training: float | None = None,
    seed: int = 0,
    features: str = "tfidf",
    feature_weight: float = 1.0,
    fusion: str = "concat",
    embed_C: float = 8.0,
    encoder_languages: str | tuple[str, ...] | None = None,
    **model_params,
) -> tuple[Pipeline | ThemeLateFusion, WeakLabelSummary]:
    """A multi-label topic model (:func:`build_topic_model`) fitted on keyword labels.

    ``features`` / ``feature_weight`` / ``fusion`` / ``embed_C``: the ``cxtext train
    --features`` option (:mod:`cxtext.classify.feature_options`).

    ``self_training=p`` adds one round of self-training: documents without any keyword
    hit whose predicted probability for a theme reaches ``p`` get those themes as
    labels, and the model is refitted on keyword + pseudo labels.

    Examples
    --------
    >>> from cxtext.themes.taxonomy import parse_taxonomy
    >>> tax = parse_taxonomy({"themes": [
    ...     {"id": "delivery", "label_en": "D", "label_fa": "D", "keywords": {"en": ["courier"]}},
    ...     {"id": "fees", "label_en": "F", "label_fa": "F", "keywords": {"en": ["fee"]}}]})
    >>> texts = ["the courier came late", "courier lost my parcel", "a fee again",
    ...          "hidden fee charged", "courier was late", "fee is too high"] * 3
    >>> model, summary = train_weak_topic_model(texts, None, tax, min_df=1)
    >>> summary.labelled
    18
    >>> list(model.classes_)
    ['delivery', 'fees']
    """
    train_texts, train_labels, summary = weak_training_set(
        texts, languages, taxonomy, unlabelled=unlabelled, mask_rate=mask_rate, seed=seed
    )
    if not train_texts:
        raise ValueError("no document matched any seed keyword: nothing to train a topic model on")

    def build() -> Pipeline | ThemeLateFusion:
        model = build_topic_model(taxonomy.ids, **model_params)
        return with_feature_option(
            model,
            features,
            weight=feature_weight,
            fusion=fusion,
            embed_C=embed_C,
            encoder_languages=encoder_languages,
        )

    model = build()
    model.fit(train_texts, labels_to_indicator(train_labels, taxonomy.ids))
    if self_training is not None:
        labels = weak_labels(texts, languages, taxonomy)
        rest = [
            t
            for t, lab in zip(texts, labels, strict=True)
            if not lab and isinstance(t, str) and t.strip()
        ]
        if rest:
            proba = model.predict_proba(rest)
            ids = [str(c) for c in model.classes_]
            pseudo = [[ids[j] for j in (row >= self_training).nonzero()[0]] for row in proba]
            added = [(t, p) for t, p in zip(rest, pseudo, strict=True) if p]
            summary.pseudo_labelled = len(added)
            if added:
                model = build()
                all_texts = train_texts + [t for t, _ in added]
                all_labels = train_labels + [p for _, p in added]
                model.fit(all_texts, labels_to_indicator(all_labels, taxonomy.ids))
    return model, summary
