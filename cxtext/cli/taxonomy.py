"""`cxtext taxonomy init --from-labels FILE`: the workspace's themes from an organisation's own labels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cxtext.cli.app import WORKSPACE_PANEL, app
from cxtext.config import load_settings, resolve

console = Console()
taxonomy_app = typer.Typer(
    name="taxonomy", help="Make the workspace's theme taxonomy.", no_args_is_help=True
)
app.add_typer(taxonomy_app, name="taxonomy", rich_help_panel=WORKSPACE_PANEL)


@taxonomy_app.command("init")
def init_command(
    from_labels: Annotated[
        Path, typer.Option("--from-labels", help="Labelled CSV/JSONL/Parquet file.", exists=True)
    ],
    label_column: Annotated[
        str, typer.Option("--label-column", help="Column of labels (several: a|b).")
    ] = "topic",
    text_column: Annotated[str, typer.Option("--text-column", help="Column of texts.")] = "text",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Taxonomy file. [default: the workspace's taxonomy]"),
    ] = None,
    keywords: Annotated[int, typer.Option(help="Seed keywords mined per theme.")] = 8,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a taxonomy with one theme per label and seed keywords mined from its texts.

    Then `cxtext train --task topic --data FILE --label-column ...` and
    `cxtext models promote NAME --as topic`, and `cxtext run` ranks your themes.
    """
    from cxtext.classify.evaluation import parse_labels  # noqa: PLC0415
    from cxtext.cli.models import read_input  # noqa: PLC0415
    from cxtext.themes.from_labels import taxonomy_yaml, themes_from_labels  # noqa: PLC0415
    from cxtext.themes.taxonomy import load_taxonomy  # noqa: PLC0415

    target = output or resolve(load_settings().paths.taxonomy)
    if target.exists() and not force:
        console.print(
            f"[red]{target} exists: pass --force to replace it, or --output FILE to write elsewhere.[/]",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    frame, (text_col, label_col) = read_input(from_labels, text_column, label_column)
    labels = [parse_labels(None if v is None or v != v else v) for v in frame[label_col]]
    rows = [i for i, lab in enumerate(labels) if lab]
    if not rows:
        console.print(f"[red]{from_labels}: no labels in column {label_column!r}.[/]")
        raise typer.Exit(1)
    texts = ["" if frame[text_col].iloc[i] is None else str(frame[text_col].iloc[i]) for i in rows]
    with console.status(f"Mining keywords for {len({x for i in rows for x in labels[i]})} labels…"):
        themes = themes_from_labels(texts, [labels[i] for i in rows], top=keywords)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(taxonomy_yaml(themes, from_labels.name), encoding="utf-8")
    load_taxonomy(target)  # what we wrote must load
    table = Table("theme id", "rows", "mined keywords", header_style="bold", title=str(target))
    for theme in themes:
        words = theme.keywords["en"] + theme.keywords["fa"]
        table.add_row(theme.id, f"{theme.rows:,}", ", ".join(words[:5]) or "–")
    console.print(table)
    bare = [t.id for t in themes if not (t.keywords["en"] or t.keywords["fa"])]
    if bare:
        console.print(
            f"[yellow]{len(bare)} theme(s) got no mined keyword (no word is significantly "
            f"more frequent in their texts; too few rows?): {', '.join(bare[:8])}. The topic "
            "model alone finds them; add keywords in the file if you know some.[/]",
            soft_wrap=True,
        )
    console.print(
        f"Wrote {len(themes)} themes. Review the keywords and write the Persian labels, then "
        f"`cxtext train --task topic --data {from_labels} --label-column {label_column} --name NAME`."
    )
