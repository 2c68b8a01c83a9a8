"""The retrain flow: train a challenger, judge it against the champion, promote only if better.

Reads like its diagram::

    labelled data -> held-out split -> train challenger -> evaluate champion and challenger
    on the same held-out rows -> decide (cxtext.classify.promotion) -> save challenger with
    the comparison in its card -> promote (if it won) -> markdown artifact

Run once from Python::

    from pipelines.retrain import retrain
    retrain(role="sentiment-en", data=["../shared/datasets/en_airline_tweets/train.csv"])

Suggested settings section (not in defaults.yaml yet)::

    retrain:
      margin: 0.005            # macro-F1 points a challenger must gain to be promoted
      metric: macro_f1
      test_size: 0.2
      seed: 42
      data:                    # labelled files per role
        sentiment-fa: [data/labelled/sentiment_fa.csv]
        sentiment-en: [data/labelled/sentiment_en.csv]
        topic: [data/labelled/topics.csv]
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from cxtext.classify.evaluation import evaluate_model, split_indices
from cxtext.classify.promotion import comparison_markdown, decide_promotion
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
from cxtext.cli.models import read_table
from cxtext.config import load_settings, resolve

ROLE_TASKS: dict[str, tuple[str, str, str]] = {
    # role -> (task, lang, default label column)
    "sentiment-fa": ("sentiment", "fa", "sentiment"),
    "sentiment-en": ("sentiment", "en", "sentiment"),
    "topic": ("topic", "auto", "topic"),
}


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def load_labelled(paths: list[str], text_column: str, label_column: str) -> pd.DataFrame:
    """All labelled files as one frame: text, label, source (file stem)."""
    frames = []
    for path in paths:
        frame = read_table(path)
        missing = [c for c in (text_column, label_column) if c not in frame.columns]
        if missing:
            raise ValueError(f"{path}: no column {missing}; columns are {list(frame.columns)}")
        frames.append(
            pd.DataFrame(
                {
                    "text": frame[text_column].tolist(),
                    "label": frame[label_column].tolist(),
                    "source": Path(path).stem,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@task(cache_policy=NO_CACHE)
def train_challenger(
    train: pd.DataFrame, test: pd.DataFrame, task_name: str, lang: str, params: dict[str, Any]
):
    """The challenger, trained on the training rows and evaluated on the held-out rows."""
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
def save_challenger(model, name: str, card: dict, models_dir: str) -> str:
    return str(save_model(model, name, card, models_dir))


@flow(name="retrain", log_prints=True)
def retrain(
    role: str,
    data: list[str] | None = None,
    name: str | None = None,
    text_column: str = "text",
    label_column: str | None = None,
    margin: float = 0.005,
    metric: str = "macro_f1",
    test_size: float = 0.2,
    seed: int = 42,
    params: dict[str, Any] | None = None,
    models_dir: str | None = None,
) -> dict[str, Any]:
    """Train a challenger for ``role``; promote it only if it beats the champion by ``margin``.

    Returns the decision, both models' held-out metrics and the challenger's name.
    """
    check_role(role)
    if not data:
        raise ValueError(f"no labelled data for role {role!r}: pass data=[...]")
    models_dir = str(models_dir or resolve(load_settings().paths.models))
    task_name, lang, default_label = ROLE_TASKS[role]
    label_column = label_column or default_label
    name = name or f"{role}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    logger = get_run_logger()

    frame = load_labelled([str(p) for p in data], text_column, label_column)
    strata = [f"{s}\x1f{v}" for s, v in zip(frame["source"], frame["label"], strict=True)]
    train_rows, test_rows = split_indices(strata, test_size=test_size, seed=seed)
    train, test = frame.iloc[train_rows], frame.iloc[test_rows]

    result = train_challenger(train, test, task_name, lang, params or {})
    champ_name, champion = load_current_champion(role, models_dir)
    challenger_metrics = result.metrics
    champion_metrics = evaluate_on(champion, test, task_name) if champion is not None else None

    decision = decide_promotion(champion_metrics, challenger_metrics, metric=metric, margin=margin)
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
    save_challenger(result.model, name, card, models_dir)
    if decision.promote:
        promote(name, role, models_dir)
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
