"""Promoting a model to champion by hand: it must fit the role, then not score below the champion.

``cxtext models promote`` and ``cxtext train --as`` go through :func:`promote_model`:

1. the model must fit the role (:func:`cxtext.classify.promotion.role_problems`: task,
   language, sentiment labels, topic themes all in the active taxonomy); no option
   overrides this, because a misfit model is silently wrong every night;
2. it is scored with the current champion on the champion's own held-out rows (stored
   beside it as ``heldout.parquet``, or a labelled ``--eval`` file) and refused when it
   scores below it, unless ``force``. Topic models over a different set of themes
   (a new taxonomy) cannot be compared on the old rows; that is said, not hidden.

The registry's history records the comparison and whether it was forced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cxtext.classify.evaluation import evaluate_model, parse_labels
from cxtext.classify.promotion import role_problems
from cxtext.classify.registry import (
    ROLES,
    champion_name,
    load_model,
    promote,
    read_card,
    read_heldout,
)
from cxtext.errors import ModelError, SettingsError
from cxtext.normalize.language import detect_language


@dataclass
class Promotion:
    """What a promotion did: the previous champion, the comparison and any notes."""

    name: str
    role: str
    previous: str | None
    comparison: dict[str, Any] | None = None
    forced: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class EvalData:
    """Labelled rows to compare models on, and where they came from."""

    texts: list[str]
    labels: list[Any]
    source: str


def _score(name: str, models_dir, data: EvalData, task: str, metric: str) -> float:
    model, _ = load_model(name, models_dir)
    labels = [parse_labels(v) for v in data.labels] if task == "topic" else data.labels
    languages = [detect_language(t) for t in data.texts]
    metrics = evaluate_model(model, data.texts, labels, languages=languages)
    if metric not in metrics:
        raise SettingsError(f"metric {metric!r} is not one of {sorted(metrics)} (retrain.metric)")
    return float(metrics[metric])


def promote_model(
    name: str,
    role: str,
    models_dir,
    *,
    taxonomy_ids: Sequence[str],
    metric: str = "macro_f1",
    eval_data: EvalData | None = None,
    force: bool = False,
) -> Promotion:
    """Check ``name`` against ``role`` and the champion, then make it champion (see module doc)."""
    if role not in ROLES:
        raise SettingsError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    card = read_card(name, models_dir)
    problems = role_problems(role, card, taxonomy_ids)
    if problems:
        fix = (
            " Train the model on labels that are theme ids of the taxonomy, or create a "
            "taxonomy from the labels with `cxtext taxonomy init --from-labels FILE`."
            if role == "topic"
            else ""
        )
        raise ModelError(f"{name} cannot be champion for {role}: {'; '.join(problems)}.{fix}")
    result = Promotion(name, role, previous=champion_name(role, models_dir), forced=force)
    champ = result.previous
    if champ is not None and champ != name:
        champ_card = read_card(champ, models_dir)
        task = str(card.get("task"))
        if task == "topic" and set(champ_card.get("labels") or []) != set(card.get("labels") or []):
            result.notes.append(
                f"{name}'s themes differ from {champ}'s (a new taxonomy): the two cannot be "
                "scored on the same labels, so there is no score comparison"
            )
        else:
            data = eval_data
            if data is None:
                stored = read_heldout(champ, models_dir)
                if stored is not None:
                    data = EvalData(
                        stored["text"].tolist(),
                        stored["label"].tolist(),
                        f"{champ}'s held-out rows",
                    )
            if data is None and not force:
                raise ModelError(
                    f"champion {champ} has no stored held-out rows to compare {name} with: pass "
                    "--eval LABELLED_FILE to score both on it, or --force to promote unscored"
                )
            if data is None:
                result.notes.append(f"not compared with {champ} (forced, no held-out rows)")
            else:
                new = _score(name, models_dir, data, task, metric)
                old = _score(champ, models_dir, data, task, metric)
                result.comparison = {
                    "metric": metric,
                    "data": data.source,
                    "rows": len(data.texts),
                    "challenger": round(new, 4),
                    "champion": round(old, 4),
                    "champion_name": champ,
                }
                if new < old and not force:
                    raise ModelError(
                        f"{name} scores {metric} {new:.3f} on {data.source} ({len(data.texts):,} rows), "
                        f"below champion {champ}'s {old:.3f}: not promoted (--force promotes anyway)"
                    )
                if new < old:
                    result.notes.append(f"scores below {champ} ({new:.3f} < {old:.3f}); forced")
    details: dict[str, Any] = {"forced": force}
    if result.comparison:
        details["comparison"] = result.comparison
    if result.notes:
        details["notes"] = result.notes
    promote(name, role, models_dir, details)
    return result


def check_champions(models_dir, taxonomy_path) -> None:
    """Before a run: every champion exists and fits its role; the topic one, the taxonomy.

    Reads model cards only (no model is loaded), so a run fails in its first second with
    one line instead of at the classify stage: a topic champion whose themes are not in
    the taxonomy would otherwise make the user's themes vanish from the ranking.
    """
    from cxtext.classify.registry import champions  # noqa: PLC0415
    from cxtext.themes.taxonomy import load_taxonomy  # noqa: PLC0415

    named = champions(models_dir)
    for role in ("sentiment-fa", "sentiment-en"):
        if role not in named:
            raise ModelError(
                f"no {role} champion in {models_dir}: train one with `cxtext train` and "
                f"promote it with `cxtext models promote NAME --as {role}`"
            )
    if "topic" not in named:
        return
    try:
        taxonomy = load_taxonomy(taxonomy_path)
    except (OSError, ValueError) as exc:
        raise ModelError(f"taxonomy {taxonomy_path} cannot be read: {exc}") from exc
    problems = role_problems("topic", read_card(named["topic"], models_dir), taxonomy.ids)
    if problems:
        raise ModelError(
            f"topic champion {named['topic']} does not fit the taxonomy {taxonomy_path}: "
            f"{'; '.join(problems)}. Promote a topic model trained on its themes, or point "
            "paths.taxonomy at the taxonomy the model was trained for."
        )
