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


def assignment_confusion(
    assigned: Sequence[Iterable[str]],
    gold: Sequence[Iterable[str]],
    themes: Sequence[str],
    *,
    sources: Sequence[str] = (),
    threshold: float | None = None,
) -> dict[str, Any]:
    """Card field: per theme tp/fp/fn/tn, precision, recall, and the themes it is confused with.

    ``assigned`` and ``gold`` are the themes per document (a document may have several or
    none). ``fn_unassigned``/``tn_unassigned`` are the fn/tn among documents the
    assignment left without any theme, and ``unassigned_with[s] = [fn, tn]`` among the
    documents assigned ``s``: a missed mention hides far more often in an empty
    document, or in one assigned a theme it co-occurs with, than in the others, and the
    value stage's correction uses the split (docs/value.md, §4). ``confused_with[t][s]`` counts documents whose gold
    themes include ``t`` and whose assignment has ``s`` but not ``t``.

    Examples
    --------
    >>> c = assignment_confusion([{"a"}, {"b"}, set()], [{"a"}, {"a"}, {"b"}], ["a", "b"])
    >>> c["per_theme"]["a"]
    {'tp': 1, 'fp': 0, 'fn': 1, 'tn': 1, 'fn_unassigned': 0, 'tn_unassigned': 1, 'unassigned_with': {'b': [1, 0]}, 'precision': 1.0, 'recall': 0.5}
    >>> c["confused_with"]
    {'a': {'b': 1}}
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
    return {
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
