"""Champion vs challenger: the promotion rule and its written comparison.

:func:`decide_promotion` is the whole rule, as a pure function: a challenger replaces
the champion only when it beats it on the same held-out set by at least ``margin`` on
the chosen metric (a tie never promotes). With no champion the challenger wins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

HEADLINE = ("accuracy", "macro_f1", "weighted_f1", "subset_accuracy", "micro_f1", "samples_f1")


@dataclass(frozen=True)
class PromotionDecision:
    """Whether to promote, why, and the numbers behind it."""

    promote: bool
    reason: str
    metric: str
    margin: float
    challenger_score: float
    champion_score: float | None
    delta: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def decide_promotion(
    champion_metrics: dict[str, Any] | None,
    challenger_metrics: dict[str, Any],
    *,
    metric: str = "macro_f1",
    margin: float = 0.005,
) -> PromotionDecision:
    """Promote iff there is no champion, or the challenger's ``metric`` is higher by >= ``margin``.

    Both metric dicts must come from the same held-out rows. A tie (delta 0) never
    promotes, whatever the margin.

    Examples
    --------
    >>> decide_promotion({"macro_f1": 0.80}, {"macro_f1": 0.81}).promote
    True
    >>> decide_promotion({"macro_f1": 0.80}, {"macro_f1": 0.803}).promote
    False
    >>> decide_promotion(None, {"macro_f1": 0.5}).promote
    True
    """
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    if metric not in challenger_metrics:
        raise KeyError(f"challenger metrics have no {metric!r}: {sorted(challenger_metrics)}")
    challenger = float(challenger_metrics[metric])
    if math.isnan(challenger):
        return PromotionDecision(
            False, f"challenger {metric} is NaN", metric, margin, challenger, None, None
        )
    if champion_metrics is None:
        return PromotionDecision(
            True,
            "no champion yet: the challenger becomes champion",
            metric,
            margin,
            challenger,
            None,
            None,
        )
    champion = float(champion_metrics[metric])
    delta = round(challenger - champion, 6)
    if delta > 0 and delta >= margin:
        reason = f"challenger {metric} {challenger:.4f} beats champion {champion:.4f} by {delta:+.4f} (margin {margin})"
        return PromotionDecision(True, reason, metric, margin, challenger, champion, delta)
    if delta == 0:
        reason = f"tie on {metric} ({challenger:.4f}): the champion stays"
    elif delta < 0:
        reason = (
            f"challenger {metric} {challenger:.4f} is below champion {champion:.4f} ({delta:+.4f})"
        )
    else:
        reason = f"challenger {metric} gain {delta:+.4f} is under the margin {margin}"
    return PromotionDecision(False, reason, metric, margin, challenger, champion, delta)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def comparison_markdown(
    decision: PromotionDecision,
    *,
    role: str,
    challenger_name: str,
    challenger_metrics: dict[str, Any],
    champion_name: str | None,
    champion_metrics: dict[str, Any] | None,
    held_out_rows: int | None = None,
) -> str:
    """A markdown report of one champion/challenger comparison (artifact and model card)."""
    verdict = "**promoted**" if decision.promote else "**not promoted**"
    lines = [
        f"# Retrain {role}: {challenger_name} {verdict}",
        "",
        decision.reason + ".",
        "",
        f"Same held-out set for both models{f' ({held_out_rows:,} rows)' if held_out_rows else ''}; "
        f"decision metric `{decision.metric}`, margin {decision.margin}.",
        "",
        f"| metric | champion ({champion_name or 'none'}) | challenger ({challenger_name}) | delta |",
        "|---|---|---|---|",
    ]
    for key in HEADLINE:
        if key not in challenger_metrics:
            continue
        new = challenger_metrics.get(key)
        old = champion_metrics.get(key) if champion_metrics else None
        delta = (new - old) if isinstance(new, float) and isinstance(old, float) else None
        lines.append(
            f"| {key} | {_cell(old)} | {_cell(new)} | {'–' if delta is None else f'{delta:+.4f}'} |"
        )
    langs = sorted(set(challenger_metrics.get("per_language") or {}))
    if langs:
        lines += ["", "| language | champion | challenger |", "|---|---|---|"]
        for lang in langs:
            new = challenger_metrics["per_language"][lang].get(decision.metric)
            old = (
                ((champion_metrics or {}).get("per_language") or {})
                .get(lang, {})
                .get(decision.metric)
            )
            lines.append(f"| {lang} | {_cell(old)} | {_cell(new)} |")
    return "\n".join(lines) + "\n"


SENTIMENT_CLASSES = frozenset({"negative", "neutral", "positive"})
ROLE_LANGUAGES = {"sentiment-fa": ("fa", "mixed"), "sentiment-en": ("en",)}


def role_problems(role: str, card: dict[str, Any], taxonomy_ids: Sequence[str]) -> list[str]:
    """Why a model (by its card) cannot serve ``role``; empty when it can.

    A sentiment role needs a sentiment model of its language (a ``lang: auto`` model
    must have been judged on rows of that language) whose labels are the nightly
    flow's negative / neutral / positive; the topic role needs a topic model whose
    themes are all in the active taxonomy, or its predictions would be dropped.

    Examples
    --------
    >>> role_problems("sentiment-fa", {"task": "sentiment", "lang": "en",
    ...     "labels": ["negative", "positive"]}, [])
    ["model language is 'en', role sentiment-fa needs fa"]
    >>> role_problems("topic", {"task": "topic", "labels": ["a", "b"]}, ["a"])
    ["themes not in the taxonomy: 'b'"]
    """
    problems = []
    task = card.get("task")
    labels = [str(v) for v in card.get("labels") or []]
    want_task = "topic" if role == "topic" else "sentiment"
    if task != want_task:
        return [f"model task is {task!r}, role {role} needs a {want_task} model"]
    if role in ROLE_LANGUAGES:
        lang = str(card.get("lang", ""))
        wanted = ROLE_LANGUAGES[role]
        if lang == "auto":
            seen = set((card.get("metrics") or {}).get("per_language") or {})
            if not seen & set(wanted):
                problems.append(
                    f"model was trained with --lang auto but judged on no {wanted[0]} rows "
                    f"(languages seen: {', '.join(sorted(seen)) or 'none'})"
                )
        elif lang != wanted[0]:
            problems.append(f"model language is {lang!r}, role {role} needs {wanted[0]}")
        odd = sorted(set(labels) - SENTIMENT_CLASSES)
        if odd or not {"negative", "positive"} <= set(labels):
            problems.append(
                f"sentiment labels are {', '.join(map(repr, labels)) or 'unknown'}; the nightly "
                "flow reads negative / neutral / positive (relabel the training data)"
            )
    else:
        unknown = [t for t in labels if t not in set(taxonomy_ids)]
        if unknown:
            problems.append(f"themes not in the taxonomy: {', '.join(map(repr, unknown))}")
        elif not labels:
            problems.append("the model's card lists no themes")
    return problems
