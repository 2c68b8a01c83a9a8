"""`cxtext train`, `predict`, `evaluate` and `cxtext models list|promote`: the model registry by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cxtext.cli.app import MODELS_PANEL, app
from cxtext.config import load_settings, resolve

console = Console()
PREDICT_CHUNK = 5_000  # rows per predict call: bounded memory and a moving progress bar
models_app = typer.Typer(
    name="models",
    help="List the saved models and promote one to champion for a role.",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models", rich_help_panel=MODELS_PANEL)

ModelsDirOption = Annotated[
    Path | None,
    typer.Option("--models-dir", help="Model registry folder. [default: models/ of the project]"),
]
TextColumnOption = Annotated[str, typer.Option("--text-column", help="Column holding the text.")]

READABLE = (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet")


def default_models_dir() -> Path:
    """The project's models folder (settings ``paths.models``)."""
    return resolve(load_settings().paths.models)


def _models_dir(value: Path | None) -> Path:
    return Path(value) if value is not None else default_models_dir()


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV/TSV, JSON Lines or Parquet file as a frame (CSV cells read as text, empty stays "")."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if suffix in (".csv", ".tsv"):
        return pd.read_csv(
            path,
            sep="\t" if suffix == ".tsv" else ",",
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
        )
    if suffix in (".jsonl", ".ndjson"):
        return pd.read_json(path, lines=True, dtype=False)
    if suffix == ".json":
        return pd.read_json(path, dtype=False)
    if suffix == ".parquet":
        return pd.read_parquet(path)
    raise ValueError(f"{path}: unsupported file type {suffix!r}; use one of {', '.join(READABLE)}")


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a frame as CSV/TSV, JSON Lines or Parquet, chosen by the file suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    elif suffix in (".jsonl", ".ndjson"):
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        raise ValueError(
            f"{path}: unsupported output type {suffix!r}; use .csv, .jsonl or .parquet"
        )


def _require_columns(frame: pd.DataFrame, path: Path, *columns: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise typer.BadParameter(
            f"{path}: no column {', '.join(map(repr, missing))}; "
            f"columns are {', '.join(map(str, frame.columns))}"
        )


def _parse_params(values: list[str] | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in values or []:
        if "=" not in item:
            raise typer.BadParameter(f"--param expects KEY=VALUE, got {item!r}")
        key, raw = item.split("=", 1)
        try:
            params[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            params[key.strip()] = raw
    return params


# --- rendering ---------------------------------------------------------------------


def _f(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def print_metrics(metrics: dict[str, Any], title: str = "Held-out metrics") -> None:
    """Headline scores, per class, per language and the confusion matrix as rich tables."""
    keys = [
        k
        for k in (
            "n",
            "accuracy",
            "macro_f1",
            "weighted_f1",
            "subset_accuracy",
            "micro_f1",
            "samples_f1",
            "hamming_loss",
        )
        if k in metrics
    ]
    table = Table(title=title, title_justify="left", header_style="bold")
    for k in keys:
        table.add_column(k, justify="right")
    table.add_row(*(_f(metrics[k]) for k in keys))
    console.print(table)
    if metrics.get("per_class"):
        table = Table(title="Per class", title_justify="left", header_style="bold")
        for name in ("class", "precision", "recall", "F1", "support"):
            table.add_column(name, justify="left" if name == "class" else "right")
        for label, m in metrics["per_class"].items():
            table.add_row(
                label, _f(m["precision"]), _f(m["recall"]), _f(m["f1"]), str(m["support"])
            )
        console.print(table)
    if metrics.get("per_language"):
        table = Table(title="Per language", title_justify="left", header_style="bold")
        cols = [k for k in keys if k != "hamming_loss"]
        table.add_column("language")
        for k in cols:
            table.add_column(k, justify="right")
        for lang, m in metrics["per_language"].items():
            table.add_row(lang, *(_f(m.get(k, "")) for k in cols))
        console.print(table)
    confusion = metrics.get("confusion")
    if confusion and len(confusion["labels"]) <= 12:
        table = Table(title="Confusion (rows: true, columns: predicted)", title_justify="left")
        table.add_column("")
        for label in confusion["labels"]:
            table.add_column(label, justify="right")
        for label, row in zip(confusion["labels"], confusion["matrix"], strict=True):
            table.add_row(label, *(str(v) for v in row))
        console.print(table)


def _per_dataset(per_dataset: dict[str, dict[str, Any]]) -> None:
    table = Table(title="Per dataset", title_justify="left", header_style="bold")
    for name in ("dataset", "n", "accuracy", "macro_f1"):
        table.add_column(name, justify="left" if name == "dataset" else "right")
    for name, m in per_dataset.items():
        table.add_row(
            name,
            str(m.get("n", "")),
            _f(m.get("accuracy", m.get("subset_accuracy", ""))),
            _f(m.get("macro_f1", "")),
        )
    console.print(table)


# --- commands ----------------------------------------------------------------------


@app.command(rich_help_panel=MODELS_PANEL)
def train(
    task: Annotated[str, typer.Option(help="sentiment or topic.")],
    data: Annotated[
        list[Path],
        typer.Option("--data", help="Labelled CSV/JSONL/Parquet; repeatable.", exists=True),
    ],
    name: Annotated[str, typer.Option("--name", help="Model name: saved to MODELS_DIR/NAME/.")],
    text_column: TextColumnOption = "text",
    label_column: Annotated[
        str | None,
        typer.Option("--label-column", help="Label column. [default: sentiment or topic]"),
    ] = None,
    lang: Annotated[str, typer.Option(help="fa, en or auto (detect per document).")] = "auto",
    eval_file: Annotated[
        Path | None,
        typer.Option(
            "--eval",
            help="Evaluation file; without it 20% of the data is held out (seed 42).",
            exists=True,
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", help="Model parameter KEY=VALUE (JSON value), e.g. C=1.0; repeatable."
        ),
    ] = None,
    promote_as: Annotated[
        str | None,
        typer.Option("--as", help="Also promote the new model to champion for this role."),
    ] = None,
    features: Annotated[
        str,
        typer.Option(
            help="tfidf, tfidf+static (distilled e5 word vectors, fast) or tfidf+encoder "
            "(multilingual-e5-small; needs the encoder extra, ~100x slower)."
        ),
    ] = "tfidf",
    models_dir: ModelsDirOption = None,
) -> None:
    """Train a sentiment or topic model, evaluate it on held-out rows, save and register it.

    Topic labels may hold several topics per row: `a|b` or a JSON list.
    """
    from cxtext.classify.feature_options import FEATURE_OPTIONS  # noqa: PLC0415
    from cxtext.classify.registry import check_name, check_role, promote, save_model  # noqa: PLC0415
    from cxtext.classify.training import LANGS, TASKS, train_and_evaluate  # noqa: PLC0415

    if task not in TASKS:
        raise typer.BadParameter(f"--task must be one of {', '.join(TASKS)}")
    if lang not in LANGS:
        raise typer.BadParameter(f"--lang must be one of {', '.join(LANGS)}")
    if features not in FEATURE_OPTIONS:
        raise typer.BadParameter(f"--features must be one of {', '.join(FEATURE_OPTIONS)}")
    try:
        check_name(name)
        if promote_as:
            check_role(promote_as)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    label_column = label_column or task
    frames = []
    for path in data:
        frame = read_table(path)
        _require_columns(frame, path, text_column, label_column)
        frames.append(frame[[text_column, label_column]].assign(_source=path.stem))
    train_frame = pd.concat(frames, ignore_index=True)
    eval_kwargs: dict[str, Any] = {}
    if eval_file is not None:
        ev = read_table(eval_file)
        _require_columns(ev, eval_file, text_column, label_column)
        eval_kwargs = {
            "eval_texts": ev[text_column].tolist(),
            "eval_labels": ev[label_column].tolist(),
            "eval_groups": [eval_file.stem] * len(ev),
        }
    target = _models_dir(models_dir)
    with console.status(f"Training {task} model {name!r} on {len(train_frame):,} rows…"):
        result = train_and_evaluate(
            train_frame[text_column].tolist(),
            train_frame[label_column].tolist(),
            task=task,
            lang=lang,
            params={**_parse_params(param), "features": features},
            groups=train_frame["_source"].tolist() if len(data) > 1 else None,
            data_sources=[
                {"path": str(p), "rows": int((train_frame["_source"] == p.stem).sum())}
                for p in data
            ],
            **eval_kwargs,
        )
        folder = save_model(result.model, name, result.card, target)
    console.print(
        f"Trained [bold]{name}[/] on {result.train_rows:,} rows in "
        f"{result.card['training_seconds']:.1f} s; held out {len(result.test.texts):,}; "
        f"{result.card['throughput_docs_per_s']:,.0f} docs/s."
    )
    print_metrics(result.metrics)
    if result.card.get("per_dataset"):
        _per_dataset(result.card["per_dataset"])
    if promote_as:
        previous = promote(name, promote_as, target)
        console.print(f"Promoted {name} to champion for {promote_as} (was {previous or 'none'}).")
    console.print(f"Saved to {folder}")


def _resolve_model(name: str, models_dir: Path):
    from cxtext.classify.registry import (  # noqa: PLC0415
        ROLES,
        ModelNotFoundError,
        UntrustedModelError,
        load_champion,
        load_model,
    )

    try:
        if name in ROLES and not (models_dir / name).exists():
            return load_champion(name, models_dir)
        return load_model(name, models_dir)
    except (ModelNotFoundError, UntrustedModelError) as exc:
        console.print(f"[red]{exc}[/]", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from exc


@app.command(rich_help_panel=MODELS_PANEL)
def predict(
    model: Annotated[
        str, typer.Option("--model", help="Model name, or a role to use its champion.")
    ],
    input_file: Annotated[
        Path, typer.Option("--input", help="CSV/JSONL/Parquet file to score.", exists=True)
    ],
    output: Annotated[
        Path,
        typer.Option("--output", help="Where to write the scored rows (.csv/.jsonl/.parquet)."),
    ],
    text_column: TextColumnOption = "text",
    threshold: Annotated[
        float, typer.Option(help="Topic models: label probability threshold.")
    ] = 0.5,
    models_dir: ModelsDirOption = None,
) -> None:
    """Add predicted label(s) and probabilities to every row of a file.

    Row count and order are kept; a row without usable text gets an empty prediction
    and a `prediction_reason`.
    """
    from cxtext.classify.prediction import REASON, predict_table  # noqa: PLC0415

    estimator, card = _resolve_model(model, _models_dir(models_dir))
    frame = read_table(input_file)
    _require_columns(frame, input_file, text_column)
    texts = frame[text_column].tolist()
    parts = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(f"Scoring with {card.get('name', model)}", total=len(texts))
        for start in range(0, max(len(texts), 1), PREDICT_CHUNK):
            chunk = texts[start : start + PREDICT_CHUNK]
            parts.append(predict_table(estimator, chunk, threshold=threshold))
            bar.advance(task, len(chunk))
    scored = pd.concat(parts, ignore_index=True)
    clash = [c for c in scored.columns if c in frame.columns]
    out = pd.concat([frame.drop(columns=clash).reset_index(drop=True), scored], axis=1)
    write_table(out, output)
    skipped = int((scored[REASON] != "").sum())
    console.print(
        f"Scored {len(frame) - skipped:,} of {len(frame):,} rows with {card.get('name', model)}"
        + (f" ({skipped:,} without usable text)" if skipped else "")
        + f" -> {output}"
    )


@app.command(rich_help_panel=MODELS_PANEL)
def evaluate(
    model: Annotated[
        str, typer.Option("--model", help="Model name, or a role to use its champion.")
    ],
    data: Annotated[
        Path, typer.Option("--data", help="Labelled CSV/JSONL/Parquet file.", exists=True)
    ],
    label_column: Annotated[str, typer.Option("--label-column", help="Column of true labels.")],
    text_column: TextColumnOption = "text",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", help="Metrics JSON. [default: MODELS_DIR/NAME/eval-<data file>.json]"
        ),
    ] = None,
    models_dir: ModelsDirOption = None,
) -> None:
    """Evaluate a saved model on a labelled file; print the metrics and save them as JSON."""
    from cxtext.classify.evaluation import evaluate_model, is_multilabel, parse_labels  # noqa: PLC0415
    from cxtext.classify.prediction import unscorable_reason  # noqa: PLC0415
    from cxtext.classify.sentiment import build_sentiment_model  # noqa: F401,PLC0415
    from cxtext.normalize.language import detect_language  # noqa: PLC0415

    target = _models_dir(models_dir)
    estimator, card = _resolve_model(model, target)
    frame = read_table(data)
    _require_columns(frame, data, text_column, label_column)
    keep = [
        i
        for i, (t, lab) in enumerate(zip(frame[text_column], frame[label_column], strict=True))
        if not unscorable_reason(t) and (card.get("task") == "topic" or str(lab).strip())
    ]
    texts = [frame[text_column].iloc[i] for i in keep]
    labels = [frame[label_column].iloc[i] for i in keep]
    if card.get("task") == "topic" and not is_multilabel(labels):
        labels = [parse_labels(v) for v in labels]
    with console.status(f"Evaluating {card.get('name', model)} on {len(texts):,} rows…"):
        metrics = evaluate_model(
            estimator, texts, labels, languages=[detect_language(t) for t in texts]
        )
    metrics["data"] = str(data)
    metrics["model"] = card.get("name", model)
    metrics["skipped_rows"] = len(frame) - len(keep)
    print_metrics(metrics, title=f"{card.get('name', model)} on {data.name}")
    path = output or target / str(card.get("name", model)) / f"eval-{data.stem}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    console.print(f"Metrics written to {path}")


@models_app.command("list")
def list_command(models_dir: ModelsDirOption = None) -> None:
    """Saved models with their held-out scores and the roles they are champion of."""
    from cxtext.classify.registry import list_models  # noqa: PLC0415

    target = _models_dir(models_dir)
    frame = list_models(target)
    if frame.empty:
        console.print(f"No models in {target}. Train one with `cxtext train`.")
        return
    # Short headers, no creation time (it is in the card) and light borders: 80 columns fit.
    table = Table(
        title=f"Models in {target}",
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    headers = {
        "rows_train": "rows",
        "accuracy": "acc",
        "macro_f1": "F1",
        "champion_of": "champion of",
        "size_mb": "MB",
    }
    frame = frame.drop(columns="created_at").assign(size_mb=frame["size_mb"].map("{:.1f}".format))
    for col in frame.columns:
        table.add_column(
            headers.get(col, col),
            justify="right" if col in ("rows_train", "accuracy", "macro_f1", "size_mb") else "left",
            no_wrap=True,
        )
    for row in frame.itertuples(index=False):
        table.add_row(*("" if pd.isna(v) else _f(v) for v in row))
    console.print(table)


@models_app.command("promote")
def promote_command(
    name: Annotated[str, typer.Argument(help="Model to promote.")],
    role: Annotated[str, typer.Option("--as", help="Role: sentiment-fa, sentiment-en or topic.")],
    models_dir: ModelsDirOption = None,
) -> None:
    """Make a saved model the champion for a role (the nightly flow loads champions)."""
    from cxtext.classify.registry import ModelNotFoundError, promote  # noqa: PLC0415

    try:
        previous = promote(name, role, _models_dir(models_dir))
    except (ValueError, ModelNotFoundError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    console.print(f"{name} is now champion for {role} (was {previous or 'none'}).")
