"""Per-theme confusion of the topic assignment on held-out labelled documents.

The value stage corrects CLV at risk for topic misclassification (docs/value.md, §4),
which needs, for every theme, how often the classify stage's assignment (model
probability >= threshold, or a seed keyword) agrees with human labels on documents the
model never saw. This is the card field ``assignment_confusion``; trainers compute it
with :func:`assignment_confusion` so every champion carries it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from cxtext.classify.topics import keyword_topics
from cxtext.normalize.documents import normalize_text
from cxtext.themes.taxonomy import Taxonomy


def assignment_confusion(
    assigned: Sequence[Iterable[str]],
    gold: Sequence[Iterable[str]],
    themes: Sequence[str],
    *,
    sources: Sequence[str] = (),
    threshold: float | None = None,
    languages: Sequence[str] = (),
) -> dict[str, Any]:
    """Card field: per theme tp/fp/fn/tn, precision, recall, and the themes it is confused with.

    ``assigned`` and ``gold`` are the themes per document (a document may have several or
    none). ``fn_unassigned``/``tn_unassigned`` are the fn/tn among documents the
    assignment left without any theme, and ``unassigned_with[s] = [fn, tn]`` among the
    documents assigned ``s``: a missed mention hides far more often in an empty
    document, or in one assigned a theme it co-occurs with, than in the others, and the
    value stage's correction uses the split (docs/value.md, §4). ``confused_with[t][s]`` counts documents whose gold
    themes include ``t`` and whose assignment has ``s`` but not ``t``. With each
    document's ``languages``, ``by_language[lang]`` holds ``n`` and the same tp/fp/fn/tn
    over that language's documents alone: pooled over languages, an English theme's
    false-positive rate is divided by Persian texts it never fires on, and a Persian
    theme's is measured mostly on English ones. The value stage's correction still
    uses the pooled counts (per language did not win on the ranking benchmark:
    docs/value.md, "Per-language confusion in the card"); the split is kept so that it
    can be measured again, and so a team sees how many held-out texts each language has.

    Examples
    --------
    >>> c = assignment_confusion([{"a"}, {"b"}, set()], [{"a"}, {"a"}, {"b"}], ["a", "b"])
    >>> c["per_theme"]["a"]
    {'tp': 1, 'fp': 0, 'fn': 1, 'tn': 1, 'fn_unassigned': 0, 'tn_unassigned': 1, 'unassigned_with': {'b': [1, 0]}, 'precision': 1.0, 'recall': 0.5}
    >>> c["confused_with"]
    {'a': {'b': 1}}
    >>> by = assignment_confusion(
    ...     [{"a"}, {"b"}, set()], [{"a"}, {"a"}, {"b"}], ["a", "b"], languages=["en", "fa", "fa"]
    ... )["by_language"]
    >>> by["fa"]
    {'n': 2, 'per_theme': {'a': {'tp': 0, 'fp': 0, 'fn': 1, 'tn': 1}, 'b': {'tp': 0, 'fp': 1, 'fn': 1, 'tn': 0}}}
    """
    pairs = [(set(a), set(g)) for a, g in zip(assigned, gold, strict=True)]
    per_theme: dict[str, dict[str, Any]] = {}
    confused: dict[str, dict[str, int]] = {}
    for t in themes:
        tp = sum(1 for a, g in pairs if t in a and t in g)
        fp = sum(1 for a, g in pairs if t in a and t not in g)
        fn = sum(1 for a, g in pairs if t not in a and t in g)
        tn = len(pairs) - tp - fp - fn
        fn_empty = sum(1 for a, g in pairs if not a and t in g)
        per_theme[t] = {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "tn": tn,
            "fn_unassigned": fn_empty,
            "tn_unassigned": sum(1 for a, _ in pairs if not a) - fn_empty,
            "unassigned_with": _unassigned_with(pairs, t),
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        }
        others: dict[str, int] = {}
        for a, g in pairs:
            if t in g and t not in a:
                for s in sorted(a - g):
                    others[s] = others.get(s, 0) + 1
        if others:
            confused[t] = dict(sorted(others.items(), key=lambda kv: -kv[1]))
    out = {
        "n": len(pairs),
        "sources": list(sources),
        "threshold": threshold,
        "definition": (
            "assignment = model probability >= threshold or a seed keyword, as the classify "
            "stage assigns; gold = human labels on held-out documents"
        ),
        "per_theme": per_theme,
        "confused_with": confused,
    }
    if len(languages):
        out["by_language"] = _by_language(pairs, list(languages), themes)
    return out


def _by_language(
    pairs: list[tuple[set, set]], languages: list[str], themes: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Per language: its number of documents and each theme's tp/fp/fn/tn among them."""
    out: dict[str, dict[str, Any]] = {}
    for lang in sorted(set(languages)):
        docs = [p for p, lg in zip(pairs, languages, strict=True) if lg == lang]
        cells = {}
        for t in themes:
            tp = sum(1 for a, g in docs if t in a and t in g)
            fp = sum(1 for a, g in docs if t in a and t not in g)
            fn = sum(1 for a, g in docs if t not in a and t in g)
            cells[t] = {"tp": tp, "fp": fp, "fn": fn, "tn": len(docs) - tp - fp - fn}
        out[lang] = {"n": len(docs), "per_theme": cells}
    return out


def held_out_confusion(
    model: Any,
    texts: Sequence[str],
    gold: Sequence[Iterable[str]],
    taxonomy: Taxonomy,
    *,
    threshold: float,
    sources: Sequence[str] = (),
) -> dict[str, Any]:
    """Card field ``assignment_confusion`` of a topic model on held-out labelled texts.

    Each text is normalized as the normalize stage stores it, then assigned as the
    classify stage assigns (model probability >= ``threshold`` or a seed keyword of
    ``taxonomy``), and compared with its gold themes. Every topic trainer (``cxtext
    train --task topic``, ``cxtext retrain``, scripts/train_topic_model.py) calls it, so
    any champion carries the measurement the value stage corrects CLV at risk with.
    """
    pairs = [normalize_text(t if isinstance(t, str) else "") for t in texts]
    languages, normalized = [p[0] for p in pairs], [p[1] for p in pairs]
    hits = keyword_topics(normalized, languages, taxonomy)
    assigned = [set(k) for k in hits]
    if len(normalized):
        proba = np.asarray(model.predict_proba(normalized))
        ids = [str(c) for c in model.classes_]
        for row, chosen in zip(proba, assigned, strict=True):
            chosen.update(ids[j] for j in np.flatnonzero(row >= threshold))
    gold_sets = [set(g) if isinstance(g, list | tuple | set) else {g} for g in gold]
    return assignment_confusion(
        assigned,
        gold_sets,
        taxonomy.ids,
        sources=sources,
        threshold=threshold,
        languages=languages,
    )


def _unassigned_with(pairs: list[tuple[set, set]], theme: str) -> dict[str, list[int]]:
    """Per other assigned theme s: [fn, tn] of ``theme`` among documents assigned s, not it."""
    out: dict[str, list[int]] = {}
    for a, g in pairs:
        if theme in a:
            continue
        for s in a:
            cell = out.setdefault(s, [0, 0])
            cell[0 if theme in g else 1] += 1
    return dict(sorted(out.items()))
