"""Model cards: what a saved model was trained on, how well it does, and how fast it runs.

A card is a plain JSON-able dict saved as ``card.json`` next to the model and rendered
to ``card.md`` for people. :func:`build_card` fills the fields every card has;
anything else a trainer knows (per-dataset metrics, a licence note, a champion
comparison) goes in as extra keys and is rendered as its own section.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

CARD_VERSION = 1
_LIBRARIES = ("cxtext", "scikit-learn", "skops", "numpy", "scipy", "hazm", "spacy", "pandas")


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a model depends on, plus Python's."""
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def measure_throughput(model: Any, texts: Sequence[object], *, max_docs: int = 2000) -> float:
    """Documents per second of ``model.predict_proba`` (or ``predict``) on up to ``max_docs`` texts."""
    sample = list(texts)[:max_docs]
    if not sample:
        return float("nan")
    scorer = getattr(model, "predict_proba", None) or model.predict
    start = time.perf_counter()
    scorer(sample)
    elapsed = time.perf_counter() - start
    return round(len(sample) / elapsed, 1) if elapsed > 0 else float("inf")


def build_card(
    *,
    task: str,
    lang: str,
    data: list[dict[str, Any]],
    rows_train: int,
    rows_eval: int,
    metrics: dict[str, Any],
    training_seconds: float,
    throughput_docs_per_s: float,
    labels: Sequence[str] | None = None,
    params: dict[str, Any] | None = None,
    description: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """The card of a freshly trained model.

    ``data`` lists the training sources, each ``{"path"|"name": ..., "rows": ...,
    "licence": ...}``; ``metrics`` is the held-out result of
    :func:`cxtext.classify.evaluation.evaluate_model`. Extra keyword arguments are
    kept as extra card sections (e.g. ``licence=``, ``per_dataset=``).
    """
    card: dict[str, Any] = {
        "card_version": CARD_VERSION,
        "task": task,
        "lang": lang,
        "description": description,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": data,
        "rows_train": int(rows_train),
        "rows_eval": int(rows_eval),
        "labels": list(labels) if labels is not None else None,
        "metrics": metrics,
        "training_seconds": round(float(training_seconds), 2),
        "throughput_docs_per_s": throughput_docs_per_s,
        "params": params or {},
        "library_versions": library_versions(),
    }
    card.update(extra)
    return card


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if value is None:
        return ""
    return str(value)


def _metric_table(metrics: dict[str, Any]) -> list[str]:
    keys = [
        k
        for k in (
            "accuracy",
            "macro_f1",
            "weighted_f1",
            "micro_f1",
            "subset_accuracy",
            "samples_f1",
            "n",
        )
        if k in metrics
    ]
    if not keys:
        return []
    return [
        "| " + " | ".join(keys) + " |",
        "|" + "---|" * len(keys),
        "| " + " | ".join(_fmt(metrics[k]) for k in keys) + " |",
    ]


def _per_class_table(per_class: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for label, m in per_class.items():
        lines.append(
            f"| {label} | {_fmt(m.get('precision'))} | {_fmt(m.get('recall'))} "
            f"| {_fmt(m.get('f1'))} | {_fmt(m.get('support'))} |"
        )
    return lines


def _confusion_table(confusion: dict[str, Any]) -> list[str]:
    labels = confusion.get("labels", [])
    matrix = confusion.get("matrix", [])
    if not labels or not matrix:
        return []
    lines = [
        "| true \\ predicted | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    for label, row in zip(labels, matrix, strict=False):
        lines.append(f"| {label} | " + " | ".join(str(v) for v in row) + " |")
    return lines


def _metrics_section(metrics: dict[str, Any], level: str = "###") -> list[str]:
    lines = _metric_table(metrics)
    if metrics.get("per_class"):
        lines += ["", f"{level} Per class", "", *_per_class_table(metrics["per_class"])]
    if metrics.get("confusion"):
        lines += ["", f"{level} Confusion matrix", "", *_confusion_table(metrics["confusion"])]
    return lines


def _features(params: dict[str, Any]) -> str:
    """``tfidf+encoder``, and how the embedding joins TF-IDF when it is not the default."""
    features = params.get("features", "tfidf")
    if params.get("fusion") == "late":
        only = params.get("encoder_languages")
        fine = (
            f"; fine-label member's share {params['fine_share']}, its C {params.get('fine_C')}"
            if "fine_share" in params
            else ""
        )
        return (
            f"{features}, late fusion (encoder's share {params.get('feature_weight')}, "
            f"its C {params.get('embed_C')}{fine}"
            + (f"; encoder on {only} documents only, the others TF-IDF alone)" if only else ")")
        )
    return features


def render_card_markdown(name: str, card: dict[str, Any]) -> str:
    """``card.md``: the card as a human-readable page."""
    lines = [f"# Model card: {name}", ""]
    if card.get("description"):
        lines += [card["description"], ""]
    lines += [
        f"- task: {card.get('task')} · language: {card.get('lang')}",
        f"- created: {card.get('created_at')}",
        f"- rows: {card.get('rows_train')} train · {card.get('rows_eval')} held out",
        f"- training: {card.get('training_seconds')} s · prediction: "
        f"{card.get('throughput_docs_per_s')} docs/s",
        f"- features: {_features(card.get('params') or {})}",
    ]
    stage = card.get("stage_speed")
    if stage:
        lines.append(
            f"- classify-stage cost: {stage['docs_per_cpu_s']:,.0f} documents per CPU-second "
            f"on one thread ({stage['documents']:,} stored {stage['texts']} texts, load "
            f"{stage['load_average_before'][0]}; benchmarks/champion_speed.py, {stage['date']})"
        )
    speed = card.get("encoder_speed")
    if speed:
        lines.append(
            f"- encoder speed while training: {speed['docs_per_s']} docs/s, "
            f"{speed['docs_per_cpu_s']} per CPU-second ({speed['documents']} held-out texts, "
            f"{speed['cpu_count']} CPUs, load {speed['load_average_before'][0]})"
        )
        if speed.get("benchmark"):
            lines.append(f"- {speed['benchmark']}")
    if card.get("labels"):
        lines.append(f"- labels: {', '.join(map(str, card['labels']))}")
    if card.get("licence"):
        lines.append(f"- licence: {card['licence']}")
    lines += ["", "## Data", ""]
    for source in card.get("data", []):
        desc = source.get("name") or source.get("path")
        rest = ", ".join(f"{k}: {v}" for k, v in source.items() if k not in ("name", "path"))
        lines.append(f"- {desc}" + (f" ({rest})" if rest else ""))
    metrics = card.get("metrics") or {}
    lines += ["", "## Held-out metrics", "", *_metrics_section(metrics)]
    for lang, m in (metrics.get("per_language") or {}).items():
        lines += ["", f"### Language: {lang}", "", *_metric_table(m)]
    for section, value in card.items():
        if section in _RENDERED:
            continue
        lines += ["", f"## {section.replace('_', ' ').capitalize()}", ""]
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            for key, sub in value.items():
                if "accuracy" in sub or "macro_f1" in sub or "micro_f1" in sub:
                    lines += [f"### {key}", "", *_metric_table(sub), ""]
                else:
                    lines += [f"- {key}: `{json.dumps(sub, ensure_ascii=False)}`"]
        elif isinstance(value, str):
            lines.append(value)
        else:
            lines += ["```json", json.dumps(value, ensure_ascii=False, indent=2), "```"]
    lines += ["", "## Library versions", ""]
    lines += [f"- {k}: {v}" for k, v in (card.get("library_versions") or {}).items()]
    return "\n".join(lines).rstrip() + "\n"


_RENDERED = frozenset(
    {
        "card_version",
        "task",
        "lang",
        "description",
        "created_at",
        "data",
        "rows_train",
        "rows_eval",
        "labels",
        "metrics",
        "training_seconds",
        "throughput_docs_per_s",
        "library_versions",
        "licence",
        "name",
        "saved_at",
        "file_bytes",
        "sha256",
    }
)
