"""The `cxtext` Typer application; command modules register themselves on it.

Every command ends the same way on a :class:`~cxtext.errors.CxtextError`: its one- or
two-line message on stderr and its exit code (see cxtext/errors.py), with the
traceback only under ``cxtext --debug``. A nightly job thus shows red for the right
reason instead of a page of Prefect frames.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from cxtext.errors import CxtextError

# Help panels: what a product or support reader runs, and what a data scientist runs.
PANEL = "Nightly run and pain points"
MODELS_PANEL = "Classifiers (train, evaluate, promote)"

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
        "Start with `cxtext run` (the nightly flow once, on the shipped sample), then "
        "`cxtext pain-points` to read the ranked table back.\n\n"
        "Exit codes: 0 done, 1 input rejected, 2 settings, 3 warehouse, 4 models."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an error.")
    ] = False,
) -> None:
    # Only the global options live here; the group's help text is set on the app.
    return None
