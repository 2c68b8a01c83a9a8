"""`cxtext init DIR`: a workspace with settings, taxonomy, the shipped champions and a sample."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cxtext.cli.app import WORKSPACE_PANEL, app

console = Console()


@app.command(rich_help_panel=WORKSPACE_PANEL)
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create (or fill) as a workspace.")],
    sample: Annotated[
        bool, typer.Option("--sample/--no-sample", help="Copy the shipped sample into data/sample.")
    ] = True,
) -> None:
    """Create a workspace: cxtext.yaml, taxonomy.yaml, models/ (shipped champions), data/, out/.

    Run every other command inside it (or pass `--project DIR`); they read and write
    only there.
    """
    from cxtext.errors import CxtextError  # noqa: PLC0415
    from cxtext.workspace import init_workspace  # noqa: PLC0415

    try:
        created = init_workspace(directory, sample=sample)
    except CxtextError as exc:
        console.print(f"[red]{exc}[/]", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from exc
    root = directory.expanduser().resolve()
    console.print(f"[bold green]Workspace {root}[/]")
    for path in created:
        console.print(f"  {path.relative_to(root)}{'/' if path.is_dir() else ''}")
    console.print(
        f"Next: `cd {directory}` then `cxtext run` (the sample), or "
        "`cxtext run -f YOUR_EXPORT.csv`; your own themes: docs/own-data.md."
    )
