"""`cxtext train`, `predict`, `evaluate`, `retrain` and `cxtext models list|promote`.

Input files are read by the ingest readers (cxtext.classify.labelled), models are
written to the workspace's models folder, and every model is loaded through the one
allow-list of saved-model types (cxtext/classify/model_types.py).
"""

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
from cxtext.cli.run import _quiet_prefect
from cxtext.config import load_settings, resolve
from cxtext.errors import CxtextError

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
    typer.Option("--models-dir", help="Model registry folder. [default: models/ of the workspace]"),
]
TextColumnOption = Annotated[str, typer.Option("--text-column", help="Column holding the text.")]
ModelOption = Annotated[
    str,
    typer.Option(
        "--model",
        help="Model name, or a role (topic, sentiment-fa, sentiment-en) for its champion.",
    ),
]


def default_models_dir() -> Path:
    """The workspace's models folder (settings ``paths.models``)."""
    return resolve(load_settings().paths.models)


def _models_dir(value: Path | None) -> Path:
    return Path(value) if value is not None else default_models_dir()


def _fail(exc: Exception) -> typer.Exit:
    """Print an error a user can act on; the exit code says what kind it is (cxtext.errors)."""
    console.print(f"[red]{exc}[/]", soft_wrap=True)
    return typer.Exit(getattr(exc, "exit_code", 1))


def read_input(path: Path, *columns: str) -> tuple[pd.DataFrame, list[str]]:
    """A file read by the ingest readers, and the frame's names of ``columns``.

    Column names match case-insensitively; unreadable lines are skipped and said. The
    first column is the text column: a cell that is not text (a JSON number or object)
    is blanked there, as ingest would not read it as text either.
    """
    from cxtext.classify.labelled import read_labelled  # noqa: PLC0415

    try:
        labelled = read_labelled(path)
        names = [labelled.column(c) for c in columns]
        if names:
            texts, reasons = labelled.texts(names[0])
            labelled.rows[names[0]] = pd.array(texts, dtype="string")
            labelled.rows.attrs["not_text"] = reasons
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0])) from exc
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if labelled.broken:
        console.print(f"[yellow]{labelled.broken_summary()}[/]", soft_wrap=True)
    return labelled.rows, names


def active_taxonomy():
    """(path, Taxonomy) of the workspace (settings ``paths.taxonomy``)."""
    from cxtext.themes.taxonomy import load_taxonomy  # noqa: PLC0415

    path = resolve(load_settings().paths.taxonomy)
    if not path.exists():
        raise _fail(FileNotFoundError(f"no taxonomy at {path} (settings paths.taxonomy)"))
    return path, load_taxonomy(path)


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a frame as CSV/TSV, JSON Lines or Parquet, chosen by the file suffix."""
    from cxtext.store.export import formula_safe  # noqa: PLC0415 (keeps --help light)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        formula_safe(frame).to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    elif suffix in (".jsonl", ".ndjson"):
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        raise ValueError(
            f"{path}: unsupported output type {suffix!r}; use .csv, .jsonl or .parquet"
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


def print_assignment(confusion: dict[str, Any]) -> None:
    """Per theme, the held-out precision and recall of what `cxtext run` assigns.

    The classify stage assigns a theme when the model's probability reaches the threshold
    or a taxonomy keyword matches, so its precision can be well below the model's own: it
    is what the ranking rests on, and what the value stage corrects CLV at risk with.
    """
    table = Table(
        title="Held-out, as `cxtext run` assigns",
        caption=f"assigned: model >= {confusion['threshold']:g} or a taxonomy keyword",
        title_justify="left",
        caption_justify="left",
        header_style="bold",
    )
    for name in ("theme", "precision", "recall", "tp", "fp", "fn"):
        table.add_column(name, justify="left" if name == "theme" else "right")
    for theme, m in confusion["per_theme"].items():
        table.add_row(
            theme,
            *(_f(m[k]) if m[k] is not None else "-" for k in ("precision", "recall")),
            *(str(m[k]) for k in ("tp", "fp", "fn")),
        )
    console.print(table)
    languages = "".join(
        f", {lang} {part['n']:,}" for lang, part in confusion.get("by_language", {}).items()
    )
    console.print(
        f"Stored in the card ({confusion['n']:,} texts{languages}): `cxtext run` corrects CLV "
        "at risk for misclassification with it."
    )


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


def _topic_labels_for_taxonomy(labels: list[Any], data: list[Path], label_column: str) -> list:
    """Topic labels as theme ids of the active taxonomy; unknown labels stop training."""
    from cxtext.classify.evaluation import parse_labels  # noqa: PLC0415
    from cxtext.errors import ModelError  # noqa: PLC0415
    from cxtext.themes.from_labels import theme_ids_for  # noqa: PLC0415

    path, taxonomy = active_taxonomy()
    names = {t.label_en: t.id for t in taxonomy.themes} | {
        t.label_fa: t.id for t in taxonomy.themes
    }
    mapped, unknown = theme_ids_for([parse_labels(v) for v in labels], taxonomy.ids, names)
    if unknown:
        shown = ", ".join(map(repr, unknown[:8])) + (
            f" and {len(unknown) - 8} more" if len(unknown) > 8 else ""
        )
        raise _fail(
            ModelError(
                f"{len(unknown)} label(s) of {', '.join(map(str, data))} are not themes of the "
                f"taxonomy {path}: {shown}. Either make a taxonomy from these labels: "
                f"`cxtext taxonomy init --from-labels {data[0]} --label-column {label_column} --force`, "
                f"or add them as themes (id or label_en) to {path.name}."
            )
        )
    missing = [t for t in taxonomy.ids if not any(t in row for row in mapped)]
    if missing:
        console.print(
            f"[yellow]{len(missing)} theme(s) of {path.name} have no labelled rows "
            f"({', '.join(missing[:6])}{'…' if len(missing) > 6 else ''}): the nightly run "
            "finds them by their seed keywords only.[/]",
            soft_wrap=True,
        )
    return mapped


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
        typer.Option(
            "--as",
            help="Also promote the new model for this role (same checks as `models promote`).",
        ),
    ] = None,
    features: Annotated[
        str,
        typer.Option(
            help="tfidf, tfidf+static (distilled e5 word vectors, fast) or tfidf+encoder "
            "(multilingual-e5-small; ~20-50x slower: ~150 docs per CPU-second). With "
            "tfidf+encoder, --param fusion=late averages a second model's probabilities "
            "(on the embeddings; --param feature_weight=its share, embed_C=its C; topics: "
            "encoder_languages=en embeds English documents only)."
        ),
    ] = "tfidf",
    models_dir: ModelsDirOption = None,
) -> None:
    """Train a sentiment or topic model, evaluate it on held-out rows, save and register it.

    Topic labels may hold several topics per row (`a|b` or a JSON list) and must be
    themes of the workspace's taxonomy (by id or English label); make one from the
    labels with `cxtext taxonomy init --from-labels FILE`.
    """
    from cxtext.classify.feature_options import FEATURE_OPTIONS  # noqa: PLC0415
    from cxtext.classify.registry import check_name, check_role, save_model  # noqa: PLC0415
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
        frame, (text_col, label_col) = read_input(path, text_column, label_column)
        frames.append(
            pd.DataFrame({"text": frame[text_col], "label": frame[label_col], "_source": path.stem})
        )
    train_frame = pd.concat(frames, ignore_index=True)
    eval_kwargs: dict[str, Any] = {}
    eval_frame = None
    if eval_file is not None:
        ev, (text_col, label_col) = read_input(eval_file, text_column, label_column)
        eval_frame = pd.DataFrame({"text": ev[text_col], "label": ev[label_col]})
    if task == "topic":
        train_frame["label"] = _topic_labels_for_taxonomy(
            train_frame["label"].tolist(), data, label_column
        )
        if eval_frame is not None:
            eval_frame["label"] = _topic_labels_for_taxonomy(
                eval_frame["label"].tolist(), [eval_file], label_column
            )
    if task == "topic":  # the held-out confusion the value stage corrects CLV at risk with
        eval_kwargs["taxonomy"] = active_taxonomy()[1]
        eval_kwargs["topic_threshold"] = load_settings().classify.topic_threshold
    if eval_frame is not None:
        eval_kwargs |= {
            "eval_texts": eval_frame["text"].tolist(),
            "eval_labels": eval_frame["label"].tolist(),
            "eval_groups": [eval_file.stem] * len(eval_frame),
        }
    target = _models_dir(models_dir)
    with console.status(f"Training {task} model {name!r} on {len(train_frame):,} rows…"):
        try:
            result = train_and_evaluate(
                train_frame["text"].tolist(),
                train_frame["label"].tolist(),
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
        except ValueError as exc:
            raise _fail(exc) from exc
        folder = save_model(
            result.model, name, result.card, target, heldout=(result.test.texts, result.test.labels)
        )
    console.print(
        f"Trained [bold]{name}[/] on {result.train_rows:,} rows in "
        f"{result.card['training_seconds']:.1f} s; held out {len(result.test.texts):,}; "
        f"{result.card['throughput_docs_per_s']:,.0f} docs/s."
    )
    print_metrics(
        result.metrics,
        title="Held-out metrics, the model alone" if task == "topic" else "Held-out metrics",
    )
    if result.card.get("per_dataset"):
        _per_dataset(result.card["per_dataset"])
    if task == "topic":
        print_assignment(result.card["assignment_confusion"])
    console.print(f"Saved to {folder}")
    if promote_as:
        _promote(name, promote_as, target, eval_file=None, text_column=text_column,
                 label_column=label_column, force=False)  # fmt: skip


def _resolve_model(name: str, models_dir: Path):
    """(estimator, card) of a model name, or of a role's champion."""
    from cxtext.classify.registry import ROLES, load_champion, load_model  # noqa: PLC0415

    try:
        if name in ROLES and not (models_dir / name).exists():
            return load_champion(name, models_dir)
        return load_model(name, models_dir)
    except CxtextError as exc:
        raise _fail(exc) from exc


@app.command(rich_help_panel=MODELS_PANEL)
def predict(
    model: ModelOption,
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
    frame, (text_col,) = read_input(input_file, text_column)
    texts = [None if pd.isna(v) else v for v in frame[text_col].tolist()]
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
    not_text = frame.attrs.get("not_text") or [""] * len(frame)
    scored[REASON] = pd.array(
        [n or r for n, r in zip(not_text, scored[REASON], strict=True)], dtype="string"
    )
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
    model: ModelOption,
    data: Annotated[
        Path, typer.Option("--data", help="Labelled CSV/JSONL/Parquet file.", exists=True)
    ],
    label_column: Annotated[str, typer.Option("--label-column", help="Column of true labels.")],
    text_column: TextColumnOption = "text",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            help="Metrics JSON. [default: MODELS_DIR/NAME/eval-DATA.json, DATA the --data file's name]",
        ),
    ] = None,
    models_dir: ModelsDirOption = None,
) -> None:
    """Evaluate a saved model on a labelled file; print the metrics and save them as JSON."""
    from cxtext.classify.evaluation import evaluate_model, parse_labels  # noqa: PLC0415
    from cxtext.classify.prediction import unscorable_reason  # noqa: PLC0415
    from cxtext.normalize.language import detect_language  # noqa: PLC0415

    target = _models_dir(models_dir)
    estimator, card = _resolve_model(model, target)
    frame, (text_col, label_col) = read_input(data, text_column, label_column)
    texts_all = [None if pd.isna(v) else v for v in frame[text_col].tolist()]
    labels_all = ["" if pd.isna(v) else v for v in frame[label_col].tolist()]
    topic = card.get("task") == "topic"
    keep = [
        i
        for i, (t, lab) in enumerate(zip(texts_all, labels_all, strict=True))
        if not unscorable_reason(t) and (topic or str(lab).strip())
    ]
    texts = [texts_all[i] for i in keep]
    labels = [labels_all[i] for i in keep]
    if topic:
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


def _promote(
    name: str,
    role: str,
    models_dir: Path,
    *,
    eval_file: Path | None,
    text_column: str,
    label_column: str,
    force: bool,
) -> None:
    from cxtext.classify.champions import EvalData, promote_model  # noqa: PLC0415

    eval_data = None
    if eval_file is not None:
        frame, (text_col, label_col) = read_input(eval_file, text_column, label_column)
        frame = frame[frame[text_col].notna() & frame[label_col].notna()]
        eval_data = EvalData(frame[text_col].tolist(), frame[label_col].tolist(), str(eval_file))
    _, taxonomy = active_taxonomy() if role == "topic" else (None, None)
    try:
        result = promote_model(
            name,
            role,
            models_dir,
            taxonomy_ids=taxonomy.ids if taxonomy else [],
            metric=load_settings().retrain.metric,
            eval_data=eval_data,
            force=force,
        )
    except (CxtextError, FileNotFoundError) as exc:
        raise _fail(exc) from exc
    for note in result.notes:
        console.print(f"[yellow]{note}[/]", soft_wrap=True)
    if result.comparison:
        c = result.comparison
        console.print(
            f"{c['metric']} on {c['data']} ({c['rows']:,} rows): {name} {c['challenger']:.3f}, "
            f"{c['champion_name']} {c['champion']:.3f}"
        )
    console.print(f"{name} is now champion for {role} (was {result.previous or 'none'}).")


@models_app.command("promote")
def promote_command(
    name: Annotated[str, typer.Argument(help="Model to promote.")],
    role: Annotated[str, typer.Option("--as", help="Role: sentiment-fa, sentiment-en or topic.")],
    eval_file: Annotated[
        Path | None,
        typer.Option(
            "--eval",
            help="Labelled file to score it and the champion on. [default: the champion's held-out rows]",
            exists=True,
        ),
    ] = None,
    text_column: TextColumnOption = "text",
    label_column: Annotated[
        str | None,
        typer.Option(
            "--label-column", help="Label column of --eval. [default: sentiment or topic]"
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Promote even if it scores below the champion."),
    ] = False,
    models_dir: ModelsDirOption = None,
) -> None:
    """Make a saved model the champion for a role (the nightly flow loads champions).

    The model must fit the role (task, language, sentiment labels, topic themes in
    the taxonomy) and must not score below the champion on the champion's held-out
    rows (or `--eval`), unless `--force`.
    """
    default_label = "topic" if role == "topic" else "sentiment"
    _promote(name, role, _models_dir(models_dir), eval_file=eval_file, text_column=text_column,
             label_column=label_column or default_label, force=force)  # fmt: skip


@app.command(rich_help_panel=MODELS_PANEL)
def retrain(
    role: Annotated[str, typer.Argument(help="sentiment-fa, sentiment-en or topic.")],
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data", help="Labelled file; repeatable. [default: retrain.data of the settings]"
        ),
    ] = None,
    margin: Annotated[
        float | None,
        typer.Option(help="Points the challenger must gain. [default: retrain.margin]"),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Challenger name. [default: ROLE-YYYYMMDD-HHMMSS, in UTC]")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's logs.")] = False,
) -> None:
    """Train a challenger for a role and promote it only if it beats the champion (Prefect flow).

    Champion and challenger are scored on the same held-out rows; the margin, metric
    and data come from the `retrain:` settings section.
    """
    from cxtext.classify.registry import ROLES  # noqa: PLC0415
    from cxtext.errors import SettingsError  # noqa: PLC0415

    if role not in ROLES:  # checked here so a typo costs no Prefect start
        raise SettingsError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if not data and not load_settings().retrain.data.get(role):
        raise SettingsError(
            f"no labelled data for {role}: pass --data FILE, or list files under "
            f"retrain: data: {role}: [...] in the workspace's cxtext.yaml"
        )
    _quiet_prefect(verbose)
    from pipelines.retrain import retrain as retrain_flow  # noqa: PLC0415

    try:
        with console.status(f"Retraining {role} (Prefect flow `retrain`)…"):
            outcome = retrain_flow(
                role=role,
                data=[str(p) for p in data] if data else None,
                margin=margin,
                name=name,
            )
    except (CxtextError, FileNotFoundError) as exc:
        raise _fail(exc) from exc
    decision = outcome["decision"]
    verdict = "[bold green]promoted[/]" if outcome["promoted"] else "[bold]not promoted[/]"
    console.print(f"{outcome['challenger']} {verdict}: {decision['reason']}.", soft_wrap=True)
