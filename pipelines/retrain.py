"""The retrain flow: train a challenger, judge it against the champion, promote only if better.

Reads like its diagram::

    labelled data -> held-out split -> train challenger -> evaluate champion and challenger
    on the same held-out rows -> decide (cxtext.classify.promotion) -> save challenger with
    the comparison in its card -> promote (if it won) -> markdown artifact

Run once from Python::

    from pipelines.retrain import retrain
    retrain(role="sentiment-en", data=["../shared/datasets/en_airline_tweets/train.csv"])

From the command line: ``cxtext retrain ROLE``; weekly: ``cxtext schedule`` serves
:func:`pipelines.deployments.retrain_deployment`. Margin, metric, split and the labelled
files per role come from the ``retrain:`` settings section (cxtext/defaults.yaml,
overridden by the workspace's cxtext.yaml). A challenger that does not fit the role
(language, labels, themes outside the taxonomy) is saved but never promoted.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from cxtext.classify.evaluation import evaluate_model, parse_labels, split_indices
from cxtext.classify.labelled import read_labelled
from cxtext.classify.promotion import comparison_markdown, decide_promotion, role_problems
from cxtext.classify.registry import (
    ModelNotFoundError,
    champion_name,
    check_role,
    load_model,
    promote,
    save_model,
    update_card,
)
from cxtext.classify.training import clean_labelled, train_and_evaluate
from cxtext.config import load_settings, resolve
from cxtext.errors import ModelError, SettingsError
from cxtext.themes.from_labels import theme_ids_for
from cxtext.themes.taxonomy import load_taxonomy

ROLE_TASKS: dict[str, tuple[str, str, str]] = {
    # role -> (task, lang, default label column)
    "sentiment-fa": ("sentiment", "fa", "sentiment"),
    "sentiment-en": ("sentiment", "en", "sentiment"),
    "topic": ("topic", "auto", "topic"),
}


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def load_labelled(paths: list[str], text_column: str, label_column: str) -> pd.DataFrame:
    """All labelled files as one frame: text, label, source (file stem); same readers as ingest."""
    frames = []
    for path in paths:
        labelled = read_labelled(path)
        try:
            text, label = labelled.column(text_column), labelled.column(label_column)
        except KeyError as exc:
            raise SettingsError(str(exc.args[0])) from exc
        if labelled.broken:
            get_run_logger().warning(labelled.broken_summary())
        frames.append(
            pd.DataFrame(
                {
                    "text": labelled.rows[text].fillna("").tolist(),
                    "label": labelled.rows[label].fillna("").tolist(),
                    "source": Path(path).stem,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _theme_ids(frame: pd.DataFrame, taxonomy_path: Path) -> pd.DataFrame:
    """Topic labels as theme ids of the taxonomy; a label that is no theme stops the flow."""
    taxonomy = load_taxonomy(taxonomy_path)
    names = {t.label_en: t.id for t in taxonomy.themes} | {
        t.label_fa: t.id for t in taxonomy.themes
    }
    mapped, unknown = theme_ids_for([parse_labels(v) for v in frame["label"]], taxonomy.ids, names)
    if unknown:
        raise ModelError(
            f"labels that are not themes of {taxonomy_path}: {', '.join(map(repr, unknown[:8]))}; "
            "add them to the taxonomy or run `cxtext taxonomy init --from-labels FILE --force`"
        )
    return frame.assign(label=["|".join(v) for v in mapped])


@task(cache_policy=NO_CACHE)
def train_challenger(
    train: pd.DataFrame,
    test: pd.DataFrame,
    task_name: str,
    lang: str,
    params: dict[str, Any],
    topic_kwargs: dict[str, Any],
):
    """The challenger, trained on the training rows and evaluated on the held-out rows
    (a topic challenger's card also gets its held-out ``assignment_confusion``)."""
    return train_and_evaluate(
        train["text"].tolist(),
        train["label"].tolist(),
        task=task_name,
        lang=lang,
        params=params,
        groups=train["source"].tolist(),
        eval_texts=test["text"].tolist(),
        eval_labels=test["label"].tolist(),
        eval_groups=test["source"].tolist(),
        data_sources=[
            {"name": s, "rows": int((train["source"] == s).sum())}
            for s in sorted(set(train["source"]))
        ],
        description=f"Challenger trained by the retrain flow for role {task_name}/{lang}.",
        **topic_kwargs,
    )


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def load_current_champion(role: str, models_dir: str):
    """(name, estimator) of the role's champion, or (None, None)."""
    name = champion_name(role, models_dir)
    if name is None:
        return None, None
    try:
        estimator, _ = load_model(name, models_dir)
    except ModelNotFoundError:
        return None, None
    return name, estimator


@task(cache_policy=NO_CACHE)
def evaluate_on(model, test: pd.DataFrame, task_name: str) -> dict[str, Any]:
    """Held-out metrics of ``model`` on the flow's test rows."""
    data = clean_labelled(test["text"], test["label"], task=task_name)
    return evaluate_model(model, data.texts, data.labels, languages=data.languages)


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def save_challenger(model, name: str, card: dict, models_dir: str, heldout) -> str:
    return str(save_model(model, name, card, models_dir, heldout=heldout))


@flow(name="retrain", log_prints=True)
def retrain(
    role: str,
    data: list[str] | None = None,
    name: str | None = None,
    text_column: str = "text",
    label_column: str | None = None,
    margin: float | None = None,
    metric: str | None = None,
    test_size: float | None = None,
    seed: int | None = None,
    params: dict[str, Any] | None = None,
    models_dir: str | None = None,
) -> dict[str, Any]:
    """Train a challenger for ``role``; promote it only if it beats the champion by ``margin``.

    Unset arguments come from the settings' ``retrain:`` section (``data[role]`` for the
    labelled files). Returns the decision, both models' held-out metrics and the
    challenger's name.
    """
    try:
        check_role(role)
    except ValueError as exc:
        raise SettingsError(str(exc)) from exc
    settings = load_settings()
    cfg = settings.retrain
    margin = cfg.margin if margin is None else margin
    metric = metric or cfg.metric
    test_size = cfg.test_size if test_size is None else test_size
    seed = cfg.seed if seed is None else seed
    data = data or [str(resolve(p)) for p in cfg.data.get(role, ())]
    if not data:
        raise SettingsError(
            f"no labelled data for role {role!r}: pass --data FILE or set retrain.data.{role} "
            "in the workspace's cxtext.yaml"
        )
    models_dir = str(models_dir or resolve(settings.paths.models))
    taxonomy_path = resolve(settings.paths.taxonomy)
    task_name, lang, default_label = ROLE_TASKS[role]
    label_column = label_column or default_label
    name = name or f"{role}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    logger = get_run_logger()

    frame = load_labelled([str(p) for p in data], text_column, label_column)
    if task_name == "topic":
        frame = _theme_ids(frame, taxonomy_path)
    strata = [f"{s}\x1f{v}" for s, v in zip(frame["source"], frame["label"], strict=True)]
    train_rows, test_rows = split_indices(strata, test_size=test_size, seed=seed)
    train, test = frame.iloc[train_rows], frame.iloc[test_rows]

    topic_kwargs = (
        {
            "taxonomy": load_taxonomy(taxonomy_path),
            "topic_threshold": settings.classify.topic_threshold,
        }
        if task_name == "topic"
        else {}
    )
    result = train_challenger(train, test, task_name, lang, params or {}, topic_kwargs)
    champ_name, champion = load_current_champion(role, models_dir)
    challenger_metrics = result.metrics
    champion_metrics = evaluate_on(champion, test, task_name) if champion is not None else None

    decision = decide_promotion(champion_metrics, challenger_metrics, metric=metric, margin=margin)
    taxonomy_ids = load_taxonomy(taxonomy_path).ids if task_name == "topic" else []
    misfit = role_problems(role, result.card, taxonomy_ids)
    if misfit and decision.promote:
        decision = replace(
            decision, promote=False, reason=f"does not fit role {role}: {'; '.join(misfit)}"
        )
    report = comparison_markdown(
        decision,
        role=role,
        challenger_name=name,
        challenger_metrics=challenger_metrics,
        champion_name=champ_name,
        champion_metrics=champion_metrics,
        held_out_rows=len(result.test.texts),
    )
    card = dict(result.card)
    card["retrain_comparison"] = {
        "role": role,
        "champion": champ_name,
        "decision": decision.to_dict(),
        "champion_metrics": {k: v for k, v in (champion_metrics or {}).items() if k != "per_class"},
        "report": report,
    }
    save_challenger(result.model, name, card, models_dir, (result.test.texts, result.test.labels))
    if decision.promote:
        promote(name, role, models_dir, {"by": "retrain flow", "decision": decision.to_dict()})
        update_card(name, {"promoted_to": role}, models_dir)
    logger.info(decision.reason)
    create_markdown_artifact(
        key=f"retrain-{role}",
        markdown=report,
        description=f"Champion vs challenger for {role}",
    )
    return {
        "role": role,
        "challenger": name,
        "champion": champ_name,
        "promoted": decision.promote,
        "decision": decision.to_dict(),
        "challenger_metrics": challenger_metrics,
        "champion_metrics": champion_metrics,
    }


if __name__ == "__main__":
    import sys

    retrain(role=sys.argv[1], data=sys.argv[2:])
