"""`cxtext themes`, `cxtext follow-ups` and `cxtext export`: what teams read and act on."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from cxtext.cli.app import PANEL, app
from cxtext.cli.render import currency_of
from cxtext.cli.run import ConfigOption, WarehouseOption, _open_existing, _warehouse_location
from cxtext.config import load_settings, resolve
from cxtext.display import money, percent, stored_keywords, stored_quotes

if TYPE_CHECKING:
    from cxtext.themes.taxonomy import Taxonomy

console = Console()

themes_app = typer.Typer(
    help="Taxonomy and discovered themes with their figures; adopt a discovered one.",
    no_args_is_help=True,
)
app.add_typer(themes_app, name="themes", rich_help_panel=PANEL)

FormatOption = Annotated[str, typer.Option("--format", help="csv or parquet.")]


def _bad_option(message: str) -> typer.Exit:
    console.print(f"[red]{message}[/]")
    return typer.Exit(2)


def _latest(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["window_end"] == df["window_end"].max()] if len(df) else df


def _read_themes(location: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(newest "all" pain points, newest discovered themes)."""
    with _open_existing(location) as wh:
        pain = wh.latest_pain_points("all")
        found = _latest(wh.read_table("discovered_themes"))
    return pain, found.sort_values("clv_at_risk", ascending=False, na_position="last")


def _taxonomy_and_themes(
    warehouse: str | None, config: Path | None
) -> tuple[Taxonomy, pd.DataFrame, pd.DataFrame]:
    """The settings' taxonomy and :func:`_read_themes` of the warehouse: what
    `themes list` and `themes show` read."""
    from cxtext.themes.taxonomy import load_taxonomy  # noqa: PLC0415

    taxonomy = load_taxonomy(resolve(load_settings(config).paths.taxonomy))
    return taxonomy, *_read_themes(_warehouse_location(warehouse, config))


def _themes_table(title: str, columns: list[tuple[str, str]], wraps: str) -> Table:
    """The two `themes list` tables share a look; only the ``wraps`` column may wrap."""
    table = Table(
        title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False
    )
    for name, justify in columns:
        table.add_column(name, justify=justify, no_wrap=name != wraps)
    return table


@themes_app.command("list")
def themes_list(
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
) -> None:
    """Every taxonomy theme (owner, figures of the latest window) and discovered candidate."""
    taxonomy, pain, found = _taxonomy_and_themes(warehouse, config)
    figures = pain.set_index("theme_id") if len(pain) else pd.DataFrame()
    unit = currency_of(pain if len(pain) else found).replace("\n", " ")
    table = _themes_table(
        "Taxonomy themes, latest window",
        [
            ("#", "right"),
            ("id / theme", "left"),
            ("owner", "left"),
            ("mentions", "right"),
            ("neg.", "right"),
            (f"CLV at risk{unit}", "right"),
        ],
        wraps="id / theme",
    )
    ranked = sorted(
        taxonomy.themes,
        key=lambda t: figures.loc[t.id, "rank"] if t.id in figures.index else float("inf"),
    )
    for theme in ranked:  # ranked themes first, then the ones the window did not mention
        f = figures.loc[theme.id] if theme.id in figures.index else None
        table.add_row(
            "–" if f is None else str(f["rank"]),
            f"{theme.id}\n{theme.label_en}\n[dim]{theme.label_fa}[/]",
            theme.owner or "[dim]–[/]",
            "0" if f is None else str(f["mentions"]),
            "–" if f is None else percent(f["negative_rate"]),
            "–" if f is None else money(f["clv_at_risk"]),
        )
    console.print(table)
    if found.empty:
        console.print("[dim]No discovered themes in the latest window.[/]")
        return
    cand = _themes_table(
        "Discovered themes (not in the taxonomy)",
        [
            ("id", "left"),
            ("keywords", "left"),
            ("docs", "right"),
            ("neg.", "right"),
            (f"CLV at risk{unit}", "right"),
        ],
        wraps="keywords",
    )
    for r in found.itertuples():
        kw = stored_keywords(r.keywords)
        words = "\n".join(", ".join(kw[lang][:4]) for lang in ("en", "fa") if kw.get(lang))
        cand.add_row(
            f"{r.theme_id}" + ("\n[bold green]new[/]" if r.is_new is True else ""),
            words,
            str(r.size),
            percent(r.negative_rate),
            money(r.clv_at_risk),
        )
    console.print(cand)
    console.print(
        "[dim]Details: cxtext themes show ID · adopt: cxtext themes promote ID --id ...[/]"
    )


@themes_app.command("show")
def themes_show(
    theme: Annotated[str, typer.Argument(help="A taxonomy theme id or a discovered theme id.")],
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
) -> None:
    """One theme: labels, owner, keywords, figures of the latest window and quotes."""
    taxonomy, pain, found = _taxonomy_and_themes(warehouse, config)
    lines: list[str] = []
    if theme in taxonomy.ids:
        t = taxonomy[theme]
        lines += [f"[bold]{t.id}[/] — {t.label_en}", f"{t.label_fa}", f"owner: {t.owner or '–'}"]
        keywords = {k: list(v) for k, v in t.keywords.items()}
        rows = pain[pain["theme_id"] == theme] if len(pain) else pain
        figures = rows.iloc[0] if len(rows) else None
    elif len(found) and theme in set(found["theme_id"]):
        figures = found[found["theme_id"] == theme].iloc[0]
        keywords = stored_keywords(figures["keywords"])
        lines += [
            f"[bold]{theme}[/] — discovered among documents no taxonomy theme claims"
            + (" ([bold green]new[/])" if figures["is_new"] is True else ""),
            f"language: {figures['language']} · first seen {figures['first_seen']:%Y-%m-%d}",
        ]
    else:
        known = ", ".join([*taxonomy.ids, *found.get("theme_id", pd.Series(dtype=str))])
        console.print(f"[red]No theme {theme!r}.[/] Known: {known}")
        raise typer.Exit(1)
    for lang in ("en", "fa"):
        if keywords.get(lang):
            lines.append(f"keywords ({lang}): " + ", ".join(keywords[lang][:12]))
    console.print("\n".join(lines))
    if figures is None:
        console.print("[dim]No mentions in the latest window.[/]")
        return
    unit = f" {figures['currency']}" if isinstance(figures.get("currency"), str) else ""
    mentions = figures["mentions"] if "mentions" in figures else figures["size"]
    console.print(
        f"window {figures['window_start']:%Y-%m-%d} to {figures['window_end']:%Y-%m-%d}: "
        f"{mentions} mentions, {percent(figures['negative_rate'])} negative, "
        f"{figures['customers']} customers; CLV at risk [bold]{money(figures['clv_at_risk'])}"
        f"{unit}[/] ({money(figures['clv_at_risk_low'])}–{money(figures['clv_at_risk_high'])})"
    )
    console.print(f"[dim]method: {figures['method']}[/]")
    for quote in stored_quotes(figures["examples"]):
        console.print(f"  “{quote}”", markup=False, highlight=False)


@themes_app.command("promote")
def themes_promote(
    candidate: Annotated[str, typer.Argument(help="The discovered theme's id (new_...).")],
    theme_id: Annotated[str, typer.Option("--id", help="Id of the new taxonomy theme.")],
    label_en: Annotated[str, typer.Option("--label-en", help="English label.")],
    label_fa: Annotated[str, typer.Option("--label-fa", help="Persian label.")],
    owner: Annotated[str | None, typer.Option(help="Owning team, e.g. support.")] = None,
    taxonomy_file: Annotated[
        Path | None,
        typer.Option("--taxonomy", help="Taxonomy to add it to. [default: paths.taxonomy]"),
    ] = None,
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
) -> None:
    """Adopt a discovered theme: its keywords become the new theme's seed keywords."""
    from cxtext.themes.promote import promote_candidate  # noqa: PLC0415

    settings = load_settings(config)
    path = taxonomy_file or resolve(settings.paths.taxonomy)
    _, found = _read_themes(_warehouse_location(warehouse, config))
    rows = found[found["theme_id"] == candidate] if len(found) else found
    if rows.empty:
        known = ", ".join(found["theme_id"]) if len(found) else "none"
        console.print(
            f"[red]No discovered theme {candidate!r} in the latest window[/] (known: {known})."
        )
        raise typer.Exit(1)
    row = rows.iloc[0]
    try:
        text = promote_candidate(
            path.read_text(encoding="utf-8"),
            theme_id=theme_id,
            label_en=label_en,
            label_fa=label_fa,
            keywords=stored_keywords(row["keywords"]),
            origin=f"discovered theme {candidate}, window ending {row['window_end']:%Y-%m-%d}",
            owner=owner,
        )
    except ValueError as exc:
        raise _bad_option(f"{path}: {exc}") from exc
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    console.print(
        f"[green]Added theme {theme_id!r} to {path}[/] with the keywords of {candidate}. "
        "The keyword tagger uses it on the next run; retrain (`cxtext retrain`) so the "
        "topic model learns it too."
    )


@app.command("follow-ups", rich_help_panel=PANEL)
def follow_ups_view(
    team: Annotated[
        str | None, typer.Option(help="Only this team (a theme's owner in the taxonomy).")
    ] = None,
    top: Annotated[int, typer.Option(help="Rows per team.")] = 20,
    csv: Annotated[
        Path | None,
        typer.Option(
            "--csv", help="Also write the rows shown to this CSV file (UTF-8, Excel-ready)."
        ),
    ] = None,
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
) -> None:
    """Customers to contact first: negative feedback on a top pain point, by value at stake."""
    with _open_existing(_warehouse_location(warehouse, config)) as wh:
        rows = _latest(wh.read_table("follow_ups"))
    if rows.empty:
        console.print("[yellow]No follow-ups stored yet.[/] Run `cxtext run` first.")
        raise typer.Exit(1)
    teams = sorted(rows["team"].dropna().unique())
    if team is not None:
        if team not in teams:
            console.print(f"[red]No follow-ups for team {team!r}.[/] Teams: {', '.join(teams)}")
            raise typer.Exit(1)
        teams = [team]
    unit = currency_of(rows).replace("\n", " ")
    end = rows["window_end"].max()
    if csv is not None:
        from cxtext.store.export import write_table  # noqa: PLC0415

        shown = rows[rows["team"].isin(teams)].sort_values(["team", "priority"])
        write_table(shown.groupby("team").head(top), csv, "csv")
        console.print(f"[bold]CSV:[/] {csv}")
    for name in teams:
        part = rows[rows["team"] == name].sort_values("priority")
        table = Table(
            title=f"{name}: {len(part)} customers to contact (window ending {end:%Y-%m-%d})",
            title_justify="left",
            header_style="bold",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("customer\ntheme", no_wrap=True)
        table.add_column(f"at stake{unit}", justify="right", no_wrap=True)
        table.add_column("quote", ratio=1)
        table.add_column("channel\ndate · row", no_wrap=True)
        for r in part.head(top).itertuples():
            quote = str(r.quote) if isinstance(r.quote, str) else "–"
            table.add_row(
                str(r.priority),
                f"{r.customer_id}\n[dim]{r.theme_id}[/]",
                money(r.value_at_stake),
                quote if len(quote) <= 140 else quote[:139] + "…",
                f"{r.channel}\n[dim]{r.created_at:%Y-%m-%d} · {r.row_id}[/]",
            )
        console.print(table)


@app.command(rich_help_panel=PANEL)
def export(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the tables into.")],
    fmt: FormatOption = "csv",
    table: Annotated[
        list[str] | None, typer.Option("--table", help="Only this table; repeatable.")
    ] = None,
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
) -> None:
    """Write every stored table (or those named) as CSV or Parquet, money with its currency."""
    from cxtext.store.export import FORMATS, export_tables  # noqa: PLC0415

    if fmt not in FORMATS:
        raise _bad_option(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    settings = load_settings(config)
    with _open_existing(_warehouse_location(warehouse, config)) as wh:
        try:
            written = export_tables(wh, out, fmt, settings.value.currency, table)
        except ValueError as exc:
            raise _bad_option(str(exc)) from exc
    for name, path in written.items():
        console.print(f"[bold]{name}:[/] {path}")
