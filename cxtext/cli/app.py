"""The `cxtext` Typer application; command modules register themselves on it."""

from __future__ import annotations

import typer

# Help panels: what a product or support reader runs, and what a data scientist runs.
PANEL = "Nightly run and pain points"
MODELS_PANEL = "Classifiers (train, evaluate, promote)"

app = typer.Typer(
    name="cxtext",
    help=(
        "Voice-of-customer analytics for Persian and English feedback, ranked by the "
        "customer lifetime value at stake.\n\n"
        "Start with `cxtext run` (the nightly flow once, on the shipped sample), then "
        "`cxtext pain-points` to read the ranked table back."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_show_locals=False,
)
