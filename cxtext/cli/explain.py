"""`cxtext explain THEME`: the latest pain-point figure for a theme and every input behind it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from cxtext.cli.app import PANEL, app
from cxtext.cli.run import ConfigOption, WarehouseOption, require_warehouse
from cxtext.config import ValueSettings, load_settings, resolve
from cxtext.display import flag, number, stored_quotes
from cxtext.painpoints.order import no_effect

console = Console()


def load_pain_points(location: str) -> pd.DataFrame:
    """The whole pain_points table of the warehouse at ``location``."""
    from cxtext.store.warehouse import open_warehouse  # lazily: keeps `cxtext --help` fast

    with open_warehouse(location) as wh:
        return wh.read_table("pain_points")


def latest_row(pain: pd.DataFrame, theme: str, segment: str = "all") -> pd.Series | None:
    """The newest row for ``theme`` (id or English label, any case) in ``segment``."""
    if pain is None or pain.empty:
        return None
    wanted = theme.strip().lower()
    match = (pain["theme_id"].astype("string").str.lower() == wanted) | (
        pain["theme_en"].astype("string").str.lower() == wanted
    )
    rows = pain[match.fillna(False) & (pain["segment"] == segment).fillna(False)]
    if rows.empty:
        return None
    return rows.sort_values("window_end").iloc[-1]


def explanation(row: pd.Series, confusion_line: str | None = None) -> Group:
    """The formula with the row's numbers, the inputs table, the method and the quotes."""
    people = int(row["customers"]) + int(row["unlinked_mentions"])
    corrected = row.get("corrected_people")
    corrected = None if corrected is None or pd.isna(corrected) else float(corrected)
    uplift = number(row["churn_uplift"], ".5f")  # digits enough to recompute the figure
    if not pd.isna(row["churn_uplift"]) and float(row["churn_uplift"]) < 0:
        uplift = f"max(0, {uplift})"  # no effect or a protective one puts nothing at risk
    counted = f"({int(row['customers'])} + {int(row['unlinked_mentions'])}"
    counted += f" → {corrected:.1f} corrected)" if corrected is not None else ")"
    formula = (
        f"clv_at_risk = (customers + unlinked) × mean CLV × max(0, churn uplift)\n"
        f"            = {counted} × "
        f"{number(row['mean_clv'], ',.2f')} × {uplift}\n"
        f"            = [bold]{number(row['clv_at_risk'])}[/]   "
        f"(interval {number(row['clv_at_risk_low'])} – {number(row['clv_at_risk_high'])})"
        + (
            "\n            not distinguishable from no effect: its churn uplift's interval "
            "holds 0, so it ranks after the themes whose interval does not"
            if no_effect(pd.Series([row["churn_uplift_low"]]))[0]
            else ""
        )
    )
    inputs = Table(show_header=True, header_style="bold", title="inputs", title_justify="left")
    inputs.add_column("input")
    inputs.add_column("value", justify="right")
    for name, value in [
        ("window", f"{row['window_start']:%Y-%m-%d} to {row['window_end']:%Y-%m-%d} (exclusive)"),
        ("segment", str(row["segment"])),
        (
            "mentions (negative)",
            f"{int(row['mentions'])} ({int(row['negative_mentions'])}, {number(row['negative_rate'], '.0%')})",
        ),
        ("customers who raised it negatively", str(int(row["customers"]))),
        ("unlinked negative mentions (no known customer)", str(int(row["unlinked_mentions"]))),
        ("people counted", str(people)),
        *(
            [
                (
                    "negative mentions, corrected for misclassification",
                    f"{int(row['negative_mentions'])} raw → {float(row['corrected_negative_mentions']):.1f}",
                ),
                ("people, corrected for misclassification", f"{people} raw → {corrected:.1f}"),
                ("confusion used (held-out labels)", confusion_line or "see method"),
            ]
            if corrected is not None
            else []
        ),
        ("mean CLV", number(row["mean_clv"], ",.2f")),
        (
            "churn uplift (interval)",
            f"{number(row['churn_uplift'], '.2%')} ({number(row['churn_uplift_low'], '.2%')} – {number(row['churn_uplift_high'], '.2%')})",
        ),
        ("share of documents", number(row["share"], ".1%")),
        (
            "trend vs previous window",
            f"{number(row['trend'], '+.0%')} (previous {int(row['previous_mentions'])}){' SPIKE' if flag(row['spike']) else ''}",
        ),
        ("NPS impact (points)", number(row["nps_impact"], "+.1f")),
        ("CSAT impact (points)", number(row["csat_impact"], "+.1f")),
        ("rank in segment", str(row["rank"])),
    ]:
        inputs.add_row(name, value)
    parts = [formula, inputs, f"[bold]method:[/] {row['method']}"]
    parts += [f"[dim]“{q}”[/]" for q in stored_quotes(row["examples"])]
    return Group(*parts)


@app.command(rich_help_panel=PANEL)
def explain(
    theme: Annotated[str, typer.Argument(help="Theme id or English label, e.g. delivery.")],
    warehouse: WarehouseOption = None,
    segment: Annotated[str, typer.Option(help='"all" or e.g. "plan=premium".')] = "all",
    config: ConfigOption = None,
) -> None:
    """Show how a theme's CLV at risk was computed: the formula, its inputs and the method."""
    settings = load_settings(config)
    location = warehouse or str(resolve(settings.paths.warehouse))
    require_warehouse(location)
    row = latest_row(load_pain_points(location), theme, segment)
    if row is None:
        console.print(f"[yellow]No pain-point row for theme {theme!r} in segment {segment!r}.[/]")
        raise typer.Exit(1)
    title = f"{row['theme_en']} / {row['theme_fa']}  [dim]({row['theme_id']})[/]"
    line = None
    if not pd.isna(row.get("corrected_people")):  # only a corrected figure shows the confusion
        models = resolve(settings.paths.models)
        line = _confusion_line(models, settings.value, str(row["theme_id"]))
    console.print(Panel(explanation(row, line), title=title, title_align="left"))


def _confusion_line(models_dir: Path, value: ValueSettings, theme_id: str) -> str:
    """The champion topic model's held-out precision/recall for the theme, or why there is none.

    The figure was corrected by the run with the cards of its day; the models here may
    have none (another machine, a champion since replaced), which the line says.
    """
    from cxtext.classify.registry import ModelNotFoundError
    from cxtext.value.misclassification import describe_sentiment
    from pipelines.insight import champion_confusion

    unknown = "not shown: {} (the method line names the card the run used)"
    try:
        confusion = champion_confusion(models_dir, value)
    except ModelNotFoundError as exc:
        return unknown.format(exc)
    if confusion is None:
        return unknown.format(
            f"no topic champion in {models_dir} whose card holds assignment_confusion"
        )
    return f"{confusion.describe(theme_id)}; sentiment: {describe_sentiment(confusion)}"
