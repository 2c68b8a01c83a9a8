"""Champion vs challenger: the promotion rule and its written comparison.

:func:`decide_promotion` is the whole rule, as a pure function: a challenger replaces
the champion only when it beats it on the same held-out set by at least ``margin`` on
the chosen metric (a tie never promotes). With no champion the challenger wins.
"""

from __future__ import annotations

import math
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
