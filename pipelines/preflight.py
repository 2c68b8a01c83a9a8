"""Everything a run needs, resolved and checked before any stage runs.

A nightly job should fail in its first second with one line naming the bad key, date,
file or URL, not after an hour of work with a traceback. The CLI calls
:func:`plan_run` before Prefect starts; the flow calls it again for scheduled runs.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cxtext.classify.champions import check_champions
from cxtext.config import Settings, resolve
from cxtext.errors import SettingsError, WarehouseError
from cxtext.ingest.feedback import input_files
from cxtext.ingest.sources import SourceSpec, parse_column_map, sources_from_settings
from cxtext.normalize.pseudonym_key import key_file_for, load_or_create_key
from cxtext.report.html import default_report_path
from cxtext.schema import utc_timestamp
from cxtext.store.warehouse import check_writable, is_postgres


@dataclass(frozen=True)
class RunPlan:
    """One run's inputs and outputs with defaults filled in; ``parameters`` as asked."""

    feedback: list[str | SourceSpec]
    customers: str | None
    transactions: str | None
    warehouse: str
    parquet_dir: Path | None
    report: Path
    staging_root: Path
    as_of: pd.Timestamp | None
    parameters: dict[str, Any]
    pseudonym_key: Path  # the warehouse's secret for ids that are PII (made once, beside it)
    columns: dict[str, str] | None = (
        None  # --columns, for the feedback paths named on the command line
    )


def parse_as_of(value: str | None) -> pd.Timestamp | None:
    """``--as-of`` as a UTC timestamp; a value that is not a date is a SettingsError."""
    if value is None or str(value).strip() == "":
        return None
    try:
        return utc_timestamp(str(value).strip())
    except (ValueError, TypeError, OverflowError) as exc:
        raise SettingsError(
            f"--as-of {value!r} is not a date: use ISO 8601, e.g. 2026-11-30"
        ) from exc


def check_folder_writable(folder: Path, what: str) -> None:
    """Create ``folder`` if needed and write a probe file in it (permission bits lie to root)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".cxtext-probe-"):
            pass
    except OSError as exc:
        raise WarehouseError(
            f"{what} folder {folder} is not writable ({exc.strerror or exc}); "
            "fix its permissions or choose another path"
        ) from exc


def plan_run(
    settings: Settings,
    *,
    feedback: list[str] | None = None,
    customers: str | None = None,
    transactions: str | None = None,
    warehouse: str | None = None,
    parquet_dir: str | None = None,
    as_of: str | None = None,
    config: str | None = None,
    columns: str | None = None,
    check_warehouse: bool = True,
) -> RunPlan:
    """Fill in defaults (no input named: the shipped sample) and check every output.

    Raises SettingsError (exit 2) or WarehouseError (exit 3) with one line.
    """
    parameters = {
        "feedback": feedback,
        "customers": customers,
        "transactions": transactions,
        "warehouse": warehouse,
        "config": config,
        "as_of": as_of,
        "columns": columns,
    }
    when = parse_as_of(as_of)
    column_map = parse_column_map(columns) if columns else None
    if column_map and not feedback:
        raise SettingsError(
            "--columns maps the columns of the --feedback files: name them with --feedback"
            " (a source in the settings file takes its own columns:)"
        )
    where = f"{settings.source}: sources"
    base = settings.source.parent if settings.source else None
    inputs: list[str | SourceSpec] = [
        *(feedback or sources_from_settings(settings.sources, where, base))
    ]
    if not inputs:  # no input named: the shipped sample, side tables included
        sample = resolve("data/sample")
        inputs = [str(sample / "feedback")]
        customers = customers or str(sample / "customers.csv")
        transactions = transactions or str(sample / "transactions.csv")
    input_files(inputs, column_map)  # no file found: InputRejected now, not after Prefect starts
    paths = settings.paths
    location = warehouse or str(resolve(paths.warehouse))
    if is_postgres(location):
        staging_root = resolve(paths.out)
    else:
        location = str(Path(location).expanduser().absolute())
        staging_root = Path(location).parent
    plan = RunPlan(
        feedback=[p if isinstance(p, SourceSpec) else str(p) for p in inputs],
        customers=customers,
        transactions=transactions,
        warehouse=location,
        parquet_dir=Path(parquet_dir) if parquet_dir else None,
        report=default_report_path(location, resolve(paths.report)),
        staging_root=staging_root,
        as_of=when,
        parameters=parameters,
        columns=column_map,
        pseudonym_key=key_file_for(location, resolve(paths.out), is_postgres(location)),
    )
    check_champions(resolve(paths.models), resolve(paths.taxonomy))  # cards only: fast
    if check_warehouse:
        check_writable(plan.warehouse)
    check_folder_writable(plan.staging_root, "staging")
    load_or_create_key(plan.pseudonym_key)  # made once, beside the warehouse; damaged: exit 2
    check_folder_writable(plan.report.parent, "report")
    if plan.parquet_dir is not None:
        check_folder_writable(plan.parquet_dir, "Parquet (--out)")
    return plan
