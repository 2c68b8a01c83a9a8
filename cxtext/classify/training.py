"""Training text classifiers: clean the labelled rows, fit the Pipeline, evaluate, write the card.

:func:`train_model` fits one model (sentiment: :func:`build_sentiment_model`; topic:
the topic engineer's :func:`cxtext.classify.topics.build_topic_model`).
:func:`train_and_evaluate` is what the CLI, the retrain flow and the training scripts
call: a fixed-seed held-out split (or a given evaluation set), training time,
held-out metrics, throughput and a model card, in one result.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from cxtext.classify.confusion import held_out_confusion
from cxtext.classify.evaluation import (
    DEFAULT_SEED,
    DEFAULT_TEST_SIZE,
    evaluate_model,
    parse_labels,
    split_indices,
)
from cxtext.classify.feature_options import tfidf_param_prefix, with_feature_option
from cxtext.classify.model_card import build_card, measure_throughput
from cxtext.classify.sentiment import build_raw_text_model, build_sentiment_model, fuse_fitted
from cxtext.classify.text_input import as_text
from cxtext.normalize.language import detect_language
from cxtext.themes.taxonomy import Taxonomy

TASKS = ("sentiment", "topic")
LANGS = ("fa", "en", "auto")


@dataclass
class LabelledData:
    """Texts with labels after dropping rows that cannot train (empty text or label)."""

    texts: list[str]
    labels: list[Any]
    languages: list[str]
    groups: list[str]  # e.g. the source dataset of each row, for per-group metrics
    dropped: int = 0


def clean_labelled(
    texts: Sequence[object],
    labels: Sequence[object],
    *,
    task: str = "sentiment",
    groups: Sequence[str] | None = None,
) -> LabelledData:
    """Rows with a non-empty text and label; topic labels parsed into lists (``a|b`` or JSON).

    Topic rows with an empty label list are kept: "no topic applies" is a valid answer.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; use one of {', '.join(TASKS)}")
    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    groups = list(groups) if groups is not None else [""] * len(texts)
    out_t, out_l, out_g, dropped = [], [], [], 0
    for text, label, group in zip(texts, labels, groups, strict=True):
        t = as_text(text).strip()
        if task == "topic":
            lab: Any = parse_labels(label)
        else:
            lab = as_text(label).strip()
        if not t or (task == "sentiment" and not lab):
            dropped += 1
            continue
        out_t.append(t)
        out_l.append(lab)
        out_g.append(str(group))
    langs = [detect_language(t) for t in out_t]
    return LabelledData(out_t, out_l, langs, out_g, dropped)


def source_weights(groups: Sequence[str], exponent: float) -> np.ndarray:
    """Per-row training weights ``(n / (k * n_group)) ** exponent``, scaled to mean 1.

    A union of sources of very different sizes lets the largest one set the words'
    weights; a small source whose words mean something else there (bank-app reviews:
    "update", "install", "error" are complaints) loses out. ``exponent`` 0 is no
    weighting, 1 gives every source the same total weight. The mean of 1 keeps C's scale.

    Examples
    --------
    >>> source_weights(["a", "a", "a", "b"], 1.0).round(3).tolist()
    [0.667, 0.667, 0.667, 2.0]
    """
    names, index, counts = np.unique(np.asarray(groups, dtype=str), return_inverse=True,
                                     return_counts=True)  # fmt: skip
    per_group = (len(index) / (len(names) * counts)) ** float(exponent)
    weights = per_group[index]
    return weights / weights.mean()


def train_model(
    texts: Sequence[object],
    labels: Sequence[object],
    *,
    task: str = "sentiment",
    lang: str = "auto",
    params: dict[str, Any] | None = None,
    sample_weight: Sequence[float] | None = None,
) -> Pipeline:
    """A fitted Pipeline (text preparation -> features -> classifier) for ``task``.

    Sentiment labels are one string per row; topic labels a list per row (or ``a|b`` /
    JSON-list strings). ``params`` go to the model builder (e.g. ``{"C": 1.0}``), except
    ``features``, ``feature_weight``, ``fusion``, ``embed_C`` and ``encoder_languages`` (see
    :mod:`cxtext.classify.feature_options`) and ``raw_share``: above 0, a raw-text TF-IDF
    model (:func:`~cxtext.classify.sentiment.build_raw_text_model`, the same C, at most
    ``raw_max_features`` word and as many char n-grams) is fitted beside and the two
    late-fused with that share. ``sample_weight`` (one per row;
    sentiment with one classifier only) goes to the prepared-text classifier's fit.

    Examples
    --------
    >>> model = train_model(["great crew", "lost bag", "great food", "bag lost"],
    ...                     ["positive", "negative", "positive", "negative"],
    ...                     task="sentiment", lang="en", params={"min_df": 1})
    >>> model.predict(["great"]).tolist()
    ['positive']
    """
    if lang not in LANGS:
        raise ValueError(f"unknown lang {lang!r}; use one of {', '.join(LANGS)}")
    params = dict(params or {})
    features = params.pop("features", "tfidf")
    weight = float(params.pop("feature_weight", 1.0))
    fusion = {
        "fusion": params.pop("fusion", "concat"),
        "embed_C": params.pop("embed_C", 8.0),
        "encoder_languages": params.pop("encoder_languages", None),
    }
    raw_share = float(params.pop("raw_share", 0.0))
    raw_caps = (
        {"max_features": int(params.pop("raw_max_features"))}
        if "raw_max_features" in params
        else {}
    )
    data = clean_labelled(texts, labels, task=task)
    if not data.texts:
        raise ValueError("no trainable rows: every text or label is empty")
    if raw_share and (task != "sentiment" or features != "tfidf" or fusion["fusion"] != "concat"):
        raise ValueError("raw_share is for a TF-IDF sentiment model (one classifier) only")
    if task == "sentiment":
        classes = sorted(set(data.labels))
        if len(classes) < 2:
            raise ValueError(f"sentiment training needs at least two labels, got {classes}")
        model = with_feature_option(
            build_sentiment_model(lang, **params), features, weight=weight, **fusion
        )
        if len(data.texts) < 200:  # tiny sets: keep every n-gram
            _keep_every_ngram(model)
        if sample_weight is None:
            model.fit(data.texts, data.labels)
        elif data.dropped or not isinstance(model, Pipeline):
            raise ValueError(
                "sample_weight needs one classifier (not late fusion) and rows that all train "
                f"({data.dropped} had an empty text or label)"
            )
        else:
            model.fit(data.texts, data.labels, classify__sample_weight=np.asarray(sample_weight))
        if not raw_share:
            return model
        raw = build_raw_text_model(C=float(params.get("C", 2.0)), **raw_caps)  # else its default
        raw.fit(data.texts, data.labels)
        return fuse_fitted(model, raw, raw_share, data.texts, data.labels)
    from cxtext.classify.topics import build_topic_model, labels_to_indicator  # noqa: PLC0415

    themes = params.pop("themes", None) or sorted({t for doc in data.labels for t in doc})
    if not themes:
        raise ValueError("topic training needs at least one labelled topic")
    model = build_topic_model(themes, **params)
    if lang != "auto":
        model.set_params(prepare__lang=lang)
    model = with_feature_option(model, features, weight=weight, **fusion)
    if len(data.texts) < 200:
        _keep_every_ngram(model)
    return model.fit(data.texts, labels_to_indicator(data.labels, themes))


def _keep_every_ngram(model: Pipeline) -> None:
    prefix = tfidf_param_prefix(model)
    model.set_params(**{f"{prefix}word__min_df": 1, f"{prefix}char__min_df": 1})


@dataclass
class TrainingResult:
    """A trained model, its card and the held-out rows it was judged on."""

    model: Pipeline
    card: dict[str, Any]
    metrics: dict[str, Any]
    test: LabelledData
    train_rows: int
    extra: dict[str, Any] = field(default_factory=dict)


def _subset(data: LabelledData, rows: np.ndarray) -> LabelledData:
    return LabelledData(
        [data.texts[i] for i in rows],
        [data.labels[i] for i in rows],
        [data.languages[i] for i in rows],
        [data.groups[i] for i in rows],
    )


def per_group_metrics(model: Any, data: LabelledData) -> dict[str, dict[str, Any]]:
    """Headline held-out metrics per group (source dataset), for the model card."""
    out = {}
    for group in sorted(set(data.groups)):
        rows = np.flatnonzero(np.asarray(data.groups, dtype=object) == group)
        m = evaluate_model(model, [data.texts[i] for i in rows], [data.labels[i] for i in rows])
        keys = ("n", "accuracy", "macro_f1", "subset_accuracy", "micro_f1")
        out[group] = {k: m[k] for k in keys if k in m}
    return out


def train_and_evaluate(
    texts: Sequence[object],
    labels: Sequence[object],
    *,
    task: str = "sentiment",
    lang: str = "auto",
    params: dict[str, Any] | None = None,
    groups: Sequence[str] | None = None,
    eval_texts: Sequence[object] | None = None,
    eval_labels: Sequence[object] | None = None,
    eval_groups: Sequence[str] | None = None,
    test_size: float = DEFAULT_TEST_SIZE,
    seed: int = DEFAULT_SEED,
    data_sources: list[dict[str, Any]] | None = None,
    description: str = "",
    taxonomy: Taxonomy | None = None,
    topic_threshold: float | None = None,
    source_weight: float = 0.0,
    **card_extra: Any,
) -> TrainingResult:
    """Train on a fixed-seed stratified split (or all rows when an eval set is given) and judge.

    The card records data sources, row counts, held-out metrics overall, per language
    and (when ``groups`` names each row's source) per group, training seconds and
    prediction throughput. A topic model given its ``taxonomy`` and ``topic_threshold``
    also gets ``assignment_confusion`` on the held-out rows (the classify stage's
    assignment against the labels), which the value stage needs to correct CLV at risk
    for misclassification (docs/value.md §4). ``source_weight`` > 0 weights the training
    rows by their group (:func:`source_weights`).
    """
    data = clean_labelled(texts, labels, task=task, groups=groups)
    if eval_texts is not None:
        if eval_labels is None:
            raise ValueError("eval_texts given without eval_labels")
        train, test = data, clean_labelled(eval_texts, eval_labels, task=task, groups=eval_groups)
    else:
        strata = [
            f"{g}\x1f{lab[0] if isinstance(lab, list) and lab else lab}"
            for g, lab in zip(data.groups, data.labels, strict=True)
        ]
        tr, te = split_indices(strata, test_size=test_size, seed=seed)
        train, test = _subset(data, tr), _subset(data, te)
    start = time.perf_counter()
    weights = source_weights(train.groups, source_weight) if source_weight else None
    model = train_model(
        train.texts, train.labels, task=task, lang=lang, params=params, sample_weight=weights
    )
    seconds = time.perf_counter() - start
    metrics = evaluate_model(model, test.texts, test.labels, languages=test.languages)
    throughput = measure_throughput(model, test.texts)
    classes = [str(c) for c in getattr(model, "classes_", [])]
    extra = dict(card_extra)
    extra.setdefault(
        "split",
        {"test_size": test_size, "seed": seed, "stratified_by": "group and label"}
        if eval_texts is None
        else "separate evaluation set",
    )
    if groups is not None and len(set(test.groups)) > 1:
        extra.setdefault("per_dataset", per_group_metrics(model, test))
    if task == "topic" and taxonomy is not None and topic_threshold is not None:
        extra.setdefault(
            "assignment_confusion",
            held_out_confusion(
                model,
                test.texts,
                test.labels,
                taxonomy,
                threshold=topic_threshold,
                sources=sorted(set(test.groups)) or ["held-out rows"],
            ),
        )
    card = build_card(
        task=task,
        lang=lang,
        data=data_sources or [{"name": "training data", "rows": len(data.texts)}],
        rows_train=len(train.texts),
        rows_eval=len(test.texts),
        metrics=metrics,
        training_seconds=seconds,
        throughput_docs_per_s=throughput,
        labels=classes,
        params=params or {},
        description=description,
        dropped_rows=data.dropped,
        **extra,
    )
    return TrainingResult(model, card, metrics, test, len(train.texts))
