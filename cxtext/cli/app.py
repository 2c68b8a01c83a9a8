"""The `cxtext` Typer application; command modules register themselves on it.

Every command ends the same way on a :class:`~cxtext.errors.CxtextError`: its one- or
two-line message on stderr and its exit code (see cxtext/errors.py), with the
traceback only under ``cxtext --debug``. A nightly job thus shows red for the right
reason instead of a page of Prefect frames.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from cxtext.errors import CxtextError

# Help panels: what a product or support reader runs, and what a data scientist runs.
PANEL = "Nightly run and pain points"
MODELS_PANEL = "Classifiers (train, evaluate, promote)"
WORKSPACE_PANEL = "Workspace and themes"

_stderr = Console(stderr=True)


class CxtextGroup(TyperGroup):
    """Turns a CxtextError from any subcommand into its message and exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CxtextError as exc:
            if ctx.params.get("debug"):
                raise
            _stderr.print(
                f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    name="cxtext",
    cls=CxtextGroup,
    help=(
        "Voice-of-customer analytics for Persian and English feedback, ranked by the "
        "customer lifetime value at stake.\n\n"
        "Start with `cxtext init DIR` (a workspace with the shipped models and a sample), "
        "then `cxtext run` inside it and `cxtext pain-points` to read the ranked table back.\n\n"
        "Exit codes: 0 done, 1 input rejected, 2 settings, 3 warehouse, 4 models."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_show_locals=False,
)


def version() -> str:
    """The installed cxtext version (the checkout's pyproject version when not installed)."""
    try:
        return metadata.version("cxtext")
    except metadata.PackageNotFoundError:
        return "0+checkout"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"cxtext {version()}")
        raise typer.Exit()


@app.callback()
def main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an error.")
    ] = False,
    project: Annotated[
        Path | None,
        typer.Option(
            "--project",
            "-p",
            help="Workspace folder to use. [default: the nearest cxtext.yaml above the current folder]",
        ),
    ] = None,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    # Only the global options live here; the group's help text is set on the app.
    if project is not None:
        from cxtext.workspace import use_project  # noqa: PLC0415

        use_project(project)  # a SettingsError becomes its message and exit code 2
