"""`cxtext run`, `cxtext pain-points` and `cxtext schedule`: the nightly flow and its output."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cxtext.cli.app import PANEL, app
from cxtext.cli.render import print_file_accounts, print_pain_points
from cxtext.config import load_settings, resolve
from cxtext.errors import SettingsError, WarehouseError

if TYPE_CHECKING:
    from rich.progress import TaskID

    from cxtext.store.warehouse import Warehouse

console = Console()

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="YAML settings overriding cxtext/defaults.yaml. [default: the workspace's cxtext.yaml]",
        exists=True,
    ),
]
WarehouseOption = Annotated[
    str | None,
    typer.Option(
        "--warehouse",
        help="DuckDB file or postgresql:// URL. [default: paths.warehouse, out/cxtext.duckdb]",
    ),
]
ColumnsOption = Annotated[
    str | None,
    typer.Option(
        help="Your export's names for id, text, created_at (and optional channel, "
        "customer_id, score...), e.g. id=ticket_id,text=comment,created_at=date.",
    ),
]


def _quiet_prefect(verbose: bool) -> None:
    """Prefect's per-task logs drown the summary; show them only on request."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault(
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120"
    )  # slow, busy machines
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        # A failed flow or task logs its traceback at ERROR; the command prints the error
        # itself in one or two lines (the traceback with `cxtext --debug` or --verbose).
        os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL", "CRITICAL")
        os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL", "CRITICAL")


@app.command(rich_help_panel=PANEL)
def run(
    feedback: Annotated[
        list[Path] | None,
        typer.Option(
            "--feedback",
            "-f",
            "--input",
            "-i",
            help="Feedback file or folder (CSV, TSV, JSONL, JSON, Parquet, XLSX, a tabular .txt; .gz of the text formats); repeatable. "
            "Needs columns id, text, created_at (see --columns).",
            exists=True,
        ),
    ] = None,
    customers: Annotated[
        Path | None,
        typer.Option(help="Customers file: customer_id, clv, churned, segments.", exists=True),
    ] = None,
    transactions: Annotated[
        Path | None, typer.Option(help="Transactions file: customer_id, date, amount.", exists=True)
    ] = None,
    warehouse: WarehouseOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write every table into this folder (see --format)."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="Format of the --out tables: parquet or csv.")
    ] = "parquet",
    config: ConfigOption = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="End of the pain-point window (ISO date). [default: day of newest feedback, at most today]"
        ),
    ] = None,
    columns: ColumnsOption = None,
    top: Annotated[int, typer.Option(help="How many pain points to print.")] = 10,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Worker processes for the partitions (0: threads in this process). "
            "[default: run.workers for inputs of run.processes_from_mb or more, else threads]"
        ),
    ] = None,
    dask_address: Annotated[
        str | None,
        typer.Option(help="Address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's task logs.")
    ] = False,
    reestimate: Annotated[
        bool,
        typer.Option(
            help="Without --customers/--transactions, value customers at the segment defaults "
            "and use the churn prior instead of reusing the stored values and churn model."
        ),
    ] = False,
) -> None:
    """Run the nightly flow once: ingest, normalize, classify, value, rank, store.

    With no arguments it runs on the shipped sample in `data/sample/` into
    `out/cxtext.duckdb`, then prints the top pain points and where the tables are.
    """
    from cxtext.store.export import FORMATS

    if fmt not in FORMATS:
        console.print(f"[red]--format {fmt!r}: use one of {', '.join(FORMATS)}[/]")
        raise typer.Exit(2)

    arguments = {
        **_inputs(feedback, customers, transactions, warehouse, config, columns),
        "parquet_dir": str(out) if out else None,
        "as_of": as_of,
        "reestimate": reestimate,
    }
    _run_flow(arguments, top, workers, dask_address, verbose, fmt)


def _inputs(
    feedback: list[Path] | None,
    customers: Path | None,
    transactions: Path | None,
    warehouse: str | None,
    config: Path | None,
    columns: str | None,
) -> dict[str, object]:
    """The nightly flow's inputs as `run`, `backfill` and `schedule` pass them: strings,
    since Prefect stores a flow's parameters as JSON (None: the settings' default)."""
    return {
        "feedback": [str(p) for p in feedback] if feedback else None,
        "customers": str(customers) if customers else None,
        "transactions": str(transactions) if transactions else None,
        "warehouse": warehouse,
        "config": str(config) if config else None,
        "columns": columns,
    }


def _is_backfill(arguments: dict[str, object]) -> bool:
    return bool(arguments.get("backfill_from") or arguments.get("backfill_to"))


def _counts_line(run_id: str, c: dict[str, int], backfill: bool) -> str:
    """The run's one-line account; a backfill also skips the rows outside its dates."""
    why = "already stored or outside the dates" if backfill else "already stored"
    return (
        f"[bold green]Run {run_id} completed.[/] read {c['read']:,} · kept {c['kept']:,} · "
        f"quarantined {c['quarantined']:,} · duplicates {c['duplicates']:,} · "
        f"new {c.get('new', 0):,}{_edited(c)} · skipped {c.get('skipped', 0):,} ({why}) · "
        f"customers valued {c.get('customers_valued', 0):,}"
    )


def _run_flow(
    arguments: dict[str, object],
    top: int,
    workers: int | None,
    dask_address: str | None,
    verbose: bool,
    fmt: str = "parquet",
) -> None:
    """Plan, run the nightly flow with progress bars and print what it did."""
    _quiet_prefect(verbose)
    from pipelines.preflight import plan_run

    settings = load_settings(arguments["config"])
    # Fail in the first second, before Prefect starts: settings, --as-of, warehouse, folders.
    plan = plan_run(
        settings,
        **{
            k: v for k, v in arguments.items() if not k.startswith("backfill") and k != "reestimate"
        },
    )

    from pipelines.nightly import nightly  # imports Prefect, so after the logging settings
    from pipelines.prefect_server import temporary_api
    from pipelines.progress import listening
    from pipelines.runners import input_megabytes, task_runner

    runner = task_runner(
        workers, dask_address, settings=settings.run, input_mb=input_megabytes(plan.feedback)
    )
    flow_run = nightly.with_options(task_runner=runner)
    with _stage_bars() as listener, listening(listener):
        temporary_api()  # stopped with this process, even if it is killed
        summary = flow_run(**arguments, export_format=fmt)
    c = summary.counts
    console.print(_counts_line(summary.run_id, c, backfill=_is_backfill(arguments)))
    if not c.get("new"):
        console.print("[yellow]No new documents:[/] the stored pain points stand.")
    else:
        console.print(
            f"candidate new themes {c.get('discovered_themes', 0):,} (`cxtext themes list`) · "
            f"follow-ups {c.get('follow_ups', 0):,} (`cxtext follow-ups`)"
        )
    print_file_accounts(console, summary.files)
    print_pain_points(console, summary.pain_points, top)
    console.print(
        f"\n[bold]Warehouse:[/] {summary.warehouse}  (tables: feedback, pain_points, "
        "customer_value, discovered_themes, follow_ups, runs, quarantine)"
    )
    if summary.report:
        console.print(
            f"[bold]Report:[/] {summary.report}  (self-contained HTML; open it in a browser)"
        )
    for name, path in summary.parquet.items():
        console.print(
            f"[bold]{fmt.upper() if fmt == 'csv' else fmt.capitalize()} {name}:[/] {path}"
        )
    for warning in summary.warnings:  # the data is committed; these are recorded in `runs`
        console.print(f"[yellow]warning:[/] {warning}")
    console.print(
        "Read them back with `cxtext pain-points`, `cxtext themes list` and "
        "`cxtext follow-ups`; rejected rows with `cxtext quarantine`."
    )


def _edited(counts: dict[str, int]) -> str:
    """`` (of them 3 edited since stored)``: stored documents read with another text."""
    parts = []
    if counts.get("edited"):
        parts.append(f"{counts['edited']:,} edited since stored")
    if counts.get("unhashed"):
        parts.append(f"{counts['unhashed']:,} stored by an older cxtext, redone once")
    return f" (of them {', '.join(parts)})" if parts else ""


@app.command(rich_help_panel=PANEL)
def backfill(
    date_from: Annotated[
        str | None, typer.Option("--from", help="First day to reprocess (ISO date, inclusive).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last day to reprocess (ISO date, inclusive).")
    ] = None,
    feedback: Annotated[
        list[Path] | None,
        typer.Option(
            "--feedback",
            "-f",
            "--input",
            "-i",
            help="Feedback file or folder; repeatable.",
            exists=True,
        ),
    ] = None,
    customers: Annotated[Path | None, typer.Option(help="Customers file.", exists=True)] = None,
    transactions: Annotated[
        Path | None, typer.Option(help="Transactions file.", exists=True)
    ] = None,
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
    columns: ColumnsOption = None,
    top: Annotated[int, typer.Option(help="How many pain points to print.")] = 10,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (0: threads). [default: as `run`]")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's task logs.")
    ] = False,
) -> None:
    """Reprocess every document created in a date range, e.g. after a model change.

    Nightly runs skip documents already stored; a backfill reads the input files again,
    ignores the watermarks and classifies every document from --from to --to (inclusive)
    with the current models, replacing the stored rows by key. Pain points are recomputed.
    """
    import pandas as pd

    from pipelines.preflight import parse_as_of

    start, end = parse_as_of(date_from), parse_as_of(date_to)
    if start is None and end is None:
        raise SettingsError("backfill needs --from and/or --to (ISO dates, e.g. --from 2026-10-01)")
    if start is not None and end is not None and end < start:
        raise SettingsError(f"--to {date_to} is before --from {date_from}")
    arguments = {
        **_inputs(feedback, customers, transactions, warehouse, config, columns),
        "parquet_dir": None,
        "as_of": None,
        "backfill_from": str(start.date()) if start is not None else None,
        "backfill_to": str((end + pd.Timedelta(days=1)).date()) if end is not None else None,
    }
    _run_flow(arguments, top, workers, None, verbose)


STAGES = {  # flow stage -> what the progress bar says
    "plan": "Checking input files against the watermarks",
    "partitions": "Reading, redacting and classifying new feedback (partitions)",
    "load_customers": "Loading customers and transactions",
    "gather": "Gathering the pain-point window",
    "history": "Reading all stored feedback (churn model, discovery)",
    "stored_value": "Reading the last run's customer values and churn model",
    "value": "Estimating lifetime value",
    "uplift": "Estimating churn uplift per theme",
    "pain_points": "Ranking pain points",
    "store": "Writing the warehouse",
    "export": "Exporting tables (--out)",
    "discover": "Discovering new themes",
    "follow_ups": "Listing follow-ups per team",
    "report": "Writing the HTML report",
}


@contextmanager
def _stage_bars() -> Iterator[Callable[[str, str, int | None], None]]:
    """Rich progress bars, one per flow stage, fed by the flow's progress events."""
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    bars = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    ids: dict[str, TaskID] = {}
    starting = bars.add_task("Starting Prefect (a local server on first use)", total=None)

    def listener(stage: str, event: str, total: int | None) -> None:
        if event == "start":
            if not bars.tasks[starting].finished:
                bars.update(starting, total=1, completed=1)
            ids[stage] = bars.add_task(STAGES.get(stage, stage), total=total)
        elif event == "advance" and stage in ids:
            bars.advance(ids[stage])
        elif event == "done" and stage in ids:
            done = bars.tasks[ids[stage]].total or 1
            bars.update(ids[stage], total=done, completed=done)

    with bars:
        yield listener


def _warehouse_location(warehouse: str | None, config: Path | None) -> str:
    return warehouse or str(resolve(load_settings(config).paths.warehouse))


def _open_existing(location: str) -> Warehouse:
    """The warehouse at ``location``, or a clear exit if there is none yet."""
    from cxtext.store.warehouse import open_warehouse  # lazily, for a fast --help

    require_warehouse(location)
    return open_warehouse(location)


def require_warehouse(location: str) -> None:
    """Exit 3 with the fix when ``location`` is a file path with no warehouse yet."""
    if "://" not in location and not Path(location).exists():
        raise WarehouseError(
            f"no warehouse at {location}: run `cxtext run` first or pass --warehouse"
        )


@app.command("pain-points", rich_help_panel=PANEL)
def pain_points(
    warehouse: WarehouseOption = None,
    top: Annotated[int, typer.Option(help="How many themes to show.")] = 10,
    segment: Annotated[
        str,
        typer.Option(
            help='"all", or COLUMN=VALUE for any feedback or customers column, e.g. '
            '"plan=premium", "channel=chat", "region=Tehran", "tenure_band=<6m".'
        ),
    ] = "all",
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            "--window",
            help="Only the last N days of the latest window, e.g. 7d or 2w. [default: painpoints.window_days]",
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Show the latest ranked pain points; other segments and windows are computed on demand."""
    from cxtext.painpoints.segments import parse_days, parse_segment  # noqa: PLC0415

    try:
        parse_segment(segment)
        days = parse_days(since) if since else None
    except ValueError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    settings = load_settings(config)
    with _open_existing(_warehouse_location(warehouse, config)) as wh:
        pain = wh.latest_pain_points()
        if len(pain) and (days or segment not in set(pain["segment"])):
            from cxtext.themes.taxonomy import load_taxonomy  # noqa: PLC0415
            from pipelines.insight import pain_points_on_demand  # noqa: PLC0415

            taxonomy = load_taxonomy(resolve(settings.paths.taxonomy))
            pain = pain_points_on_demand(wh, settings, taxonomy, segment, days)
            if pain.empty:
                from pipelines.insight import segment_choices  # noqa: PLC0415

                column = parse_segment(segment)[0]
                known = segment_choices(wh, settings, column)
                console.print(
                    f"[yellow]No feedback in segment {segment!r} in that window.[/] "
                    + (
                        f"{column} takes: {', '.join(known[:20])}"
                        if known
                        else f"No document or customer has a {column!r} value: use a feedback "
                        "column (channel, language, source), a metadata field or a customers column."
                    )
                )
                raise typer.Exit(1)
    print_pain_points(console, pain, top, segment)
    if len(pain) and segment == "all":
        others = sorted(set(pain["segment"]) - {segment})
        if others:
            console.print(f"[dim]other segments: {', '.join(others)}[/]")


@app.command(rich_help_panel=PANEL)
def quarantine(
    warehouse: WarehouseOption = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 20,
    config: ConfigOption = None,
) -> None:
    """Show rows rejected by validation, with the reason (text already redacted)."""
    from rich import box
    from rich.table import Table

    from cxtext.display import reason_summary
    from cxtext.ingest.validate import reason_counts

    with _open_existing(_warehouse_location(warehouse, config)) as wh:
        rows = wh.read_table("quarantine")
    if rows.empty:
        console.print("[green]Quarantine is empty.[/]")
        return
    console.print(
        f"{len(rows):,} quarantined rows: {reason_summary(reason_counts(rows['reason']))}"
    )
    # File names, not paths (the folder is the one given to `cxtext run`); row 0 = whole file.
    table = Table("file", "row", "id", "reason", header_style="bold", box=box.SIMPLE_HEAD)
    for r in rows.tail(limit).itertuples():
        table.add_row(Path(str(r.source_file)).name, str(r.source_row), str(r.id), str(r.reason))
    console.print(table)


@app.command(rich_help_panel=PANEL)
def schedule(
    cron: Annotated[
        str, typer.Option(help="When to run, as a five-field cron expression.")
    ] = "0 2 * * *",
    name: Annotated[str, typer.Option(help="Deployment name.")] = "nightly",
    feedback: Annotated[
        list[Path] | None,
        typer.Option(
            "--feedback", "-f", "--input", "-i", help="Feedback file or folder; repeatable."
        ),
    ] = None,
    customers: Annotated[Path | None, typer.Option(help="Customers file.")] = None,
    transactions: Annotated[Path | None, typer.Option(help="Transactions file.")] = None,
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
    columns: ColumnsOption = None,
    timezone: Annotated[
        str | None,
        typer.Option(help="IANA time zone of the cron, e.g. Asia/Tehran. [default: UTC]"),
    ] = None,
    port: Annotated[
        int,
        typer.Option(
            help="Port of the local Prefect server started when PREFECT_API_URL is unset."
        ),
    ] = 4200,
) -> None:
    """Serve the nightly flow on a cron schedule until stopped (docs/deploy.md).

    Scheduled runs are created by a Prefect server's scheduler: with `PREFECT_API_URL`
    set this serves against that server; otherwise it starts one on 127.0.0.1:PORT
    (stopped with this command) so one machine needs nothing else. The weekly retrain
    (`retrain.cron`) is served beside it for every role with files in `retrain.data`.
    """
    parameters = _inputs(feedback, customers, transactions, warehouse, config, columns)
    _quiet_prefect(verbose=True)
    from pipelines.preflight import plan_run

    settings = load_settings(config)
    plan_run(settings, **parameters)  # a bad night shows now, not at 02:00

    from prefect import serve
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from pipelines.deployments import nightly_deployment, retrain_deployment
    from pipelines.prefect_server import scheduling_api

    retrain = settings.retrain
    try:
        deployments = [
            nightly_deployment(name=name, cron=cron, timezone=timezone, parameters=parameters)
        ]
        deployments += [  # the weekly retrain beside it, for every role with labelled data
            retrain_deployment(
                role,
                retrain.cron,
                timezone=timezone,
                parameters={"data": [str(resolve(p)) for p in retrain.data[role]]},
            )
            for role in retrain.roles
            if retrain.data.get(role)
        ]
    except ValueError as exc:
        raise SettingsError(str(exc)) from exc
    unserved = [role for role in retrain.roles if not retrain.data.get(role)]
    api = scheduling_api(port)
    console.print(
        f"Serving deployment {name!r} of cxtext-nightly on {cron!r} ({timezone or 'UTC'}) "
        f"with the Prefect server at {api}; Ctrl-C stops it."
    )
    for d in deployments[1:]:
        console.print(f"Serving {d.name!r} (weekly retrain) on {retrain.cron!r}.")
    if unserved:
        console.print(
            f"[yellow]Not retraining {', '.join(unserved)}:[/] no labelled files in "
            "retrain.data of the settings."
        )
    with temporary_settings({PREFECT_API_URL: api}):
        serve(*deployments)


@app.command(rich_help_panel=PANEL)
def report(
    warehouse: WarehouseOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="HTML file to write. [default: report.html beside the DuckDB file]",
        ),
    ] = None,
    top: Annotated[
        int | None, typer.Option(help="Themes in the ranked table and chart. [default: report.top]")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write the self-contained HTML report (charts, formulas, quotes) from the warehouse."""
    from dataclasses import replace  # noqa: PLC0415

    from cxtext.report.html import (  # noqa: PLC0415
        default_report_path,
        report_from_warehouse,
        write_report,
    )

    settings = load_settings(config)
    location = _warehouse_location(warehouse, config)
    with _open_existing(location) as wh:
        options = settings.report
        html = report_from_warehouse(wh, replace(options, top=top) if top else options)
    configured = resolve(settings.paths.report)
    path = write_report(html, output or default_report_path(location, configured))
    console.print(f"[bold]Report:[/] {path.resolve()}  (open it in a browser; it needs no network)")
