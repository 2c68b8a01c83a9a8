"""The classify stage: topics, sentiment and per-topic sentiment for a partition of documents.

Models are loaded once (:func:`load_classifiers`) and reused over partitions; each
model is called once per language per partition, never per document, so a 20,000-row
partition costs a handful of vectorised predict calls.
"""

from __future__ import annotations

import json
import re
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from cxtext.classify.aspects import aspect_sentiments, label_from_proba, sentiment_score
from cxtext.classify.embedding_cache import shared_embeddings
from cxtext.classify.features import StageNormalizer, TextPreparer
from cxtext.classify.late_fusion import ThemeLateFusion, soft_vote, soft_vote_members
from cxtext.classify.registry import champion_name, load_champion
from cxtext.classify.shared_ngrams import SharedNgrams
from cxtext.classify.text_input import stored_texts
from cxtext.classify.topics import KeywordMatcher, keyword_matcher, taxonomy_hash
from cxtext.errors import ModelError
from cxtext.themes.taxonomy import Taxonomy

# Which sentiment model reads which detected language.
SENTIMENT_MODEL_FOR: dict[str, str] = {"fa": "fa", "mixed": "fa", "en": "en", "other": "en"}
SENTIMENT_ROLES: dict[str, str] = {"fa": "sentiment-fa", "en": "sentiment-en"}
TOPIC_ROLE = "topic"
# json.dumps(x, ensure_ascii=False) without building an encoder per call.
_to_json = json.JSONEncoder(ensure_ascii=False).encode
# Zero-width and direction marks: a text of only these (and spaces) counts as empty. A
# search for any other non-space character (re's \s and str.strip agree on what a space
# is) stops at the first letter instead of copying every text through str.translate.
_VISIBLE = re.compile(r"[^\s\u200b\u200c\u200d\u200e\u200f\u2060\ufeff]")


@dataclass
class Classifiers:
    """The models one flow run uses: sentiment per language, a topic model or the keyword tagger."""

    taxonomy: Taxonomy
    sentiment: dict[str, Any]  # "fa"/"en" -> fitted estimator with predict_proba
    sentiment_names: dict[str, str]  # "fa"/"en" -> registry name, e.g. sentiment-fa-v1
    topic: Any | None = None  # fitted multi-label topic model, or None for keywords only
    topic_name: str = ""
    matcher: KeywordMatcher = field(init=False)

    def __post_init__(self) -> None:
        self.matcher = keyword_matcher(self.taxonomy)
        if not self.topic_name:
            self.topic_name = f"keywords:{taxonomy_hash(self.taxonomy)}"

    @property
    def sentiment_model(self) -> str:
        """The value of the ``sentiment_model`` column: every model used, by language."""
        return "|".join(f"{lang}:{name}" for lang, name in sorted(self.sentiment_names.items()))

    @property
    def topic_model(self) -> str:
        return self.topic_name

    def embedders(self) -> list[Any]:
        """The models' e5 embedders: the workers' fork server warms them, so the encoder's
        weights and runtime are built once and shared instead of once per worker."""
        from cxtext.classify.encoder import E5Embedder  # noqa: PLC0415 (only when asked)

        models = [*self.sentiment.values(), *([self.topic] if self.topic is not None else [])]
        return [
            v
            for m in models
            if hasattr(m, "get_params")
            for v in m.get_params(deep=True).values()
            if isinstance(v, E5Embedder)
        ]

    @property
    def versions(self) -> dict[str, str]:
        """Model versions for the ``runs`` table."""
        return {
            "topic": self.topic_model,
            **{f"sentiment-{k}": v for k, v in self.sentiment_names.items()},
        }


def _card_name(card: Any, default: str) -> str:
    if isinstance(card, dict):
        for key in ("name", "model_name", "id"):
            if card.get(key):
                return str(card[key])
    name = getattr(card, "name", None)
    return str(name) if name else default


def load_classifiers(models_dir: Path, taxonomy: Taxonomy) -> Classifiers:
    """The registry's champions for sentiment-fa, sentiment-en and topic.

    Without a topic champion, topics come from the taxonomy's seed keywords and
    ``topic_model`` reads ``keywords:<taxonomy hash>``. A missing sentiment champion
    is an error: there is no honest fallback for sentiment. A topic champion with a
    theme outside the taxonomy is a :class:`~cxtext.errors.ModelError`, never a
    silent switch to keywords: the user's themes would vanish from the ranking.
    """
    models_dir = Path(models_dir)
    sentiment, names = {}, {}
    for lang, role in SENTIMENT_ROLES.items():
        try:
            est, card = load_champion(role, models_dir)
        except (FileNotFoundError, KeyError, LookupError) as exc:
            raise FileNotFoundError(
                f"no {role!r} champion in {models_dir}: train one with `cxtext train` "
                f"and promote it with `cxtext models promote` ({exc})"
            ) from exc
        sentiment[lang], names[lang] = est, _card_name(card, role)
    topic, topic_name = None, ""
    if champion_name(TOPIC_ROLE, models_dir) is not None:
        topic, card = load_champion(TOPIC_ROLE, models_dir)
        topic_name = _card_name(card, TOPIC_ROLE)
        unknown = [str(c) for c in topic.classes_ if str(c) not in set(taxonomy.ids)]
        if unknown:
            raise ModelError(
                f"topic champion {topic_name} scores themes that are not in the taxonomy: "
                f"{', '.join(map(repr, unknown[:8]))}. Use the taxonomy it was trained for "
                "(settings paths.taxonomy), or promote a topic model trained on this taxonomy's "
                "themes (`cxtext models promote NAME --as topic`)."
            )
    return Classifiers(taxonomy, sentiment, names, topic, topic_name)


def _split_preparation(model: Any) -> tuple[TextPreparer | StageNormalizer | None, Any]:
    """(its first step, the rest of the pipeline) of a model that starts by preparing raw
    text the way the normalize stage's output makes cheaper, or (None, model)."""
    if (
        isinstance(model, Pipeline)
        and len(model.steps) > 1
        and isinstance(model.steps[0][1], TextPreparer | StageNormalizer)
    ):
        return model.steps[0][1], model[1:]
    return None, model


def _from_stored(prep: TextPreparer | StageNormalizer, texts: list[str]) -> list[str]:
    """What ``prep.transform`` makes of the raw texts, from the normalize stage's output.

    A StageNormalizer makes exactly that output, so stored text passes as it is.
    """
    return prep.transform_normalized(texts) if isinstance(prep, TextPreparer) else list(texts)


def _sentiment_proba(
    model: Any, texts: list[str], ngrams: SharedNgrams
) -> tuple[np.ndarray, tuple[list[str], TextPreparer] | None]:
    """``model``'s probabilities for stored ``texts`` on the stage's fast path, and the
    prepared text with its TextPreparer (None if it has none) for the topic model.

    A late-fused model (a soft ``VotingClassifier``, ``sentiment-fa-v3``) is scored
    member by member, each with its preparation split off and through the shared n-gram
    pass, and averaged as the model averages; that equals its own ``predict_proba`` on
    the raw texts (``tests/test_fused_sentiment_stage.py``).
    """
    members = soft_vote_members(model)
    if members is not None:
        probas, kept = [], None
        for member in members:
            proba, prepared = _sentiment_proba(member, texts, ngrams)
            probas.append(proba)
            kept = kept or prepared
        return soft_vote(model, probas), kept
    prep, rest = _split_preparation(model)
    if prep is None:
        return ngrams.predict_proba(model, texts), None
    batch = _from_stored(prep, texts)
    kept = (batch, prep) if isinstance(prep, TextPreparer) else None
    return ngrams.predict_proba(rest, batch), kept


def _same_preparation(a: TextPreparer, b: TextPreparer) -> bool:
    pa, pb = a.get_params(), b.get_params()
    pa.pop("lang"), pb.pop("lang")
    return pa == pb


def _score_by_language(
    texts: list[str], groups: list[str], classifiers: Classifiers, ngrams: SharedNgrams
) -> tuple[np.ndarray, list[str], dict[int, tuple[str, TextPreparer]]]:
    """Probabilities over (negative, neutral, positive), one call per model.

    Also returns the prepared text of each row (keyed by position) and the preparer
    that produced it, so the topic model can reuse it instead of preparing again.
    """
    classes = ["negative", "neutral", "positive"]
    out = np.zeros((len(texts), 3))
    out[:, 1] = 1.0
    prepared: dict[int, tuple[str, TextPreparer]] = {}
    groups_arr = np.asarray(groups, dtype=object)
    for lang, model in classifiers.sentiment.items():
        idx = np.flatnonzero(groups_arr == lang)
        if len(idx) == 0:
            continue
        proba, kept = _sentiment_proba(model, [texts[i] for i in idx], ngrams)
        if kept is not None:
            batch, prep = kept
            prepared.update({int(i): (p, prep) for i, p in zip(idx, batch, strict=True)})
        model_classes = [str(c) for c in model.classes_]
        for j, cls in enumerate(model_classes):
            if cls in classes:
                out[idx, classes.index(cls)] = proba[:, j]
        if "neutral" not in model_classes:
            out[idx, 1] = 0.0
    return out, classes, prepared


def _topic_proba(
    model: Any,
    texts: list[str],
    prepared: dict[int, tuple[str, TextPreparer]],
    ngrams: SharedNgrams,
) -> np.ndarray:
    """The topic model's probabilities, reusing sentiment-prepared text where identical.

    ``texts`` come from the normalize stage, so preparation skips its normalization
    (:meth:`TextPreparer.transform_normalized`). A row's prepared text is reused only
    when the topic model's TextPreparer has the same settings and would take the same
    language branch for that text, so the result equals preparing it again, at about
    half the cost. A late-fusion topic model's TF-IDF member takes that path too; its
    encoder member embeds through the partition's shared embeddings.
    """
    if isinstance(model, ThemeLateFusion):
        return model.blend(
            _topic_proba(model.tfidf_, texts, prepared, ngrams), *model.member_probas(texts)
        )
    prep, rest = _split_preparation(model)
    if prep is None:
        return np.asarray(model.predict_proba(texts), dtype=float)
    if not isinstance(prep, TextPreparer):
        return ngrams.predict_proba(rest, _from_stored(prep, texts))
    rows: list[str | None] = [None] * len(texts)
    same: dict[int, bool] = {}
    for i, (p, other) in prepared.items():
        if id(other) not in same:
            same[id(other)] = _same_preparation(prep, other)
        if not same[id(other)]:
            continue
        if prep.lang == other.lang or (
            prep.lang == "auto" and prep.language_of(texts[i][: prep.max_chars]) == other.lang
        ):
            rows[i] = p
    todo = [i for i, r in enumerate(rows) if r is None]
    if todo:
        for i, p in zip(todo, prep.transform_normalized([texts[i] for i in todo]), strict=True):
            rows[i] = p
    return ngrams.predict_proba(rest, rows)


def _labels(
    proba: np.ndarray, groups: list[str], classifiers: Classifiers, band: float
) -> list[str]:
    """Labels per row with each language model's own rule (argmax, or band for binary)."""
    labels = [""] * len(proba)
    groups_arr = np.asarray(groups, dtype=object)
    for lang, model in classifiers.sentiment.items():
        idx = np.flatnonzero(groups_arr == lang)
        if len(idx) == 0:
            continue
        has_neutral = "neutral" in [str(c) for c in model.classes_]
        classes = ["negative", "neutral", "positive"] if has_neutral else ["negative", "positive"]
        cols = [0, 1, 2] if has_neutral else [0, 2]
        for i, lbl in zip(idx, label_from_proba(proba[idx][:, cols], classes, band), strict=True):
            labels[i] = lbl
    return labels


def classify_feedback(
    docs: pd.DataFrame,
    classifiers: Classifiers,
    *,
    topic_threshold: float,
    neutral_band: float,
    share_embeddings: bool = True,
) -> pd.DataFrame:
    """``docs`` plus topics, topic_scores, sentiment, sentiment_score, aspect_sentiment and model names.

    Takes normalized, redacted documents (``language``, ``text_redacted``); returns the
    same rows in the same order with the FEEDBACK classification columns added (JSON
    columns as JSON text). Empty texts are neutral with no topics. The models read the
    texts as they are (:func:`~cxtext.classify.text_input.stored_texts`: the normalize
    stage already normalized them), never normalized a second time. Every model that
    uses the e5 encoder shares one embedding per distinct text
    (:func:`~cxtext.classify.embedding_cache.shared_embeddings`; ``share_embeddings=False``
    embeds per model, for benchmarks: same output, more encoder calls).
    """
    with shared_embeddings() if share_embeddings else nullcontext(), stored_texts():
        return _classify(docs, classifiers, topic_threshold, neutral_band)


def _classify(
    docs: pd.DataFrame, classifiers: Classifiers, topic_threshold: float, neutral_band: float
) -> pd.DataFrame:
    out = docs.copy()
    n = len(docs)
    texts = [t if isinstance(t, str) else "" for t in docs["text_redacted"].astype(object).tolist()]
    langs = [
        lang if isinstance(lang, str) and lang in SENTIMENT_MODEL_FOR else "other"
        for lang in docs["language"].astype(object).tolist()
    ]
    live = [i for i, t in enumerate(texts) if _VISIBLE.search(t)]
    live_texts = [texts[i] for i in live]
    live_langs = [langs[i] for i in live]
    groups = [SENTIMENT_MODEL_FOR[lang] for lang in live_langs]

    # Sentiment: one predict_proba per language model; one n-gram cache for every model.
    ngrams = SharedNgrams()
    proba, classes, prepared = _score_by_language(live_texts, groups, classifiers, ngrams)
    live_labels = _labels(proba, groups, classifiers, neutral_band)
    live_scores = sentiment_score(proba, classes)

    # Topics: the model's probabilities (one call) united with keyword hits.
    kw_hits = [
        classifiers.matcher.themes_in(t, lang)
        for t, lang in zip(live_texts, live_langs, strict=True)
    ]
    theme_order = classifiers.taxonomy.ids
    known = set(theme_order)
    live_topics: list[list[str]] = []
    live_topic_scores: list[dict[str, float]] = []
    if classifiers.topic is not None and live_texts:
        ids = [str(c) for c in classifiers.topic.classes_]
        tproba = _topic_proba(classifiers.topic, live_texts, prepared, ngrams)
        keep = [j for j, t in enumerate(ids) if t in known]
        keep_ids = [ids[j] for j in keep]
        kept = tproba[:, keep]
        above = (kept >= topic_threshold).tolist()
        for row, hit_row, hits in zip(kept.tolist(), above, kw_hits, strict=True):
            live_topic_scores.append(dict(zip(keep_ids, [round(v, 3) for v in row], strict=True)))
            chosen = {t for t, hit in zip(keep_ids, hit_row, strict=True) if hit}.union(hits)
            live_topics.append([t for t in theme_order if t in chosen])
    else:
        for hits in kw_hits:
            live_topics.append(list(hits))
            live_topic_scores.append({t: 1.0 for t in hits})

    # Aspect sentiment: clauses of multi-topic documents, scored in one batch.
    clause_prepared: dict[int, tuple[str, TextPreparer]] = {}

    def score_clauses(clauses: list[str], clause_langs: list[str]) -> np.ndarray:
        p, _, prep = _score_by_language(
            clauses, [SENTIMENT_MODEL_FOR[x] for x in clause_langs], classifiers, ngrams
        )
        clause_prepared.update(prep)  # aspect_sentiments scores clauses before topics
        return p

    def label_clauses(p: np.ndarray, clause_langs: list[str]) -> list[str]:
        return _labels(p, [SENTIMENT_MODEL_FOR[x] for x in clause_langs], classifiers, neutral_band)

    clause_topics = None
    if classifiers.topic is not None:
        topic_model = classifiers.topic

        def clause_topics(clauses: list[str]) -> tuple[list[str], np.ndarray]:
            return [str(c) for c in topic_model.classes_], _topic_proba(
                topic_model, clauses, clause_prepared, ngrams
            )

    aspects = aspect_sentiments(
        live_texts,
        live_langs,
        live_topics,
        live_labels,
        matcher=classifiers.matcher,
        score_clauses=score_clauses,
        label_clauses=label_clauses,
        clause_topics=clause_topics,
        topic_threshold=topic_threshold,
    )

    topics_col = ["[]"] * n
    scores_col = ["{}"] * n
    aspect_col = ["{}"] * n
    sentiment_col = ["neutral"] * n
    score_col = np.zeros(n)
    score_col[live] = [round(s, 4) for s in live_scores.tolist()]
    for k, i in enumerate(live):
        topics_col[i] = _to_json(live_topics[k])
        scores_col[i] = _to_json(live_topic_scores[k])
        aspect_col[i] = _to_json(aspects[k])
        sentiment_col[i] = live_labels[k]

    out["topics"] = pd.array(topics_col, dtype="string")
    out["topic_scores"] = pd.array(scores_col, dtype="string")
    out["sentiment"] = pd.array(sentiment_col, dtype="string")
    out["sentiment_score"] = pd.array(score_col, dtype="Float64")
    out["aspect_sentiment"] = pd.array(aspect_col, dtype="string")
    out["topic_model"] = pd.array([classifiers.topic_model] * n, dtype="string")
    out["sentiment_model"] = pd.array([classifiers.sentiment_model] * n, dtype="string")
    return out
