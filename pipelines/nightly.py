"""The nightly flow: ingest -> normalize -> classify -> value -> pain points -> store.

Only orchestration lives here: every task calls one stage function of ``cxtext`` and
passes staged Parquet paths or small frames along. Documents move in large partitions
(``ingest.partition_rows``), one task per partition, never one per document. The run is
written in one warehouse transaction at the end, so a crash leaves the tables as they were.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import unmapped

from cxtext.classify.stage import Classifiers, classify_feedback, load_classifiers
from cxtext.config import load_settings, resolve
from cxtext.ingest.feedback import iter_feedback
from cxtext.ingest.tables import read_customers, read_transactions
from cxtext.normalize.documents import normalize_feedback
from cxtext.painpoints.rank import rank_pain_points
from cxtext.report.context import ReportOptions
from cxtext.report.html import default_report_path, report_from_warehouse, write_report
from cxtext.schema import FEEDBACK, QUARANTINE, RECORD, conform
from cxtext.store import staging
from cxtext.store.warehouse import RunTables, open_warehouse, run_row
from cxtext.themes.taxonomy import Taxonomy, load_taxonomy
from cxtext.value.customer_value import customers_from_feedback, estimate_customer_value
from cxtext.value.uplift import estimate_churn_uplift
from pipelines import progress

T = TypeVar("T")

# Columns the churn model needs from all stored history (the text is not among them).
HISTORY_COLUMNS = [
    "source",
    "id",
    "customer_id",
    "created_at",
    "topics",
    "aspect_sentiment",
    "sentiment",
    "metadata",
]


@dataclass
class Ingested:
    partitions: list[Path]
    quarantine: pd.DataFrame
    read: int = 0
    kept: int = 0
    duplicates: int = 0


@dataclass
class RunSummary:
    """What a run did and where it wrote; returned by the flow and printed by the CLI."""

    run_id: str
    warehouse: str
    counts: dict[str, int]
    window_start: str | None
    window_end: str | None
    pain_points: pd.DataFrame
    parquet: dict[str, str] = field(default_factory=dict)
    report: str | None = None  # the HTML report, None if it could not be written
    stage_seconds: dict[str, float] = field(default_factory=dict)


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def ingest(paths: list[str], folder: Path, settings: dict[str, Any]) -> Ingested:
    """Read, validate and deduplicate every input file into staged partitions."""
    cfg = settings["ingest"]
    out = Ingested(partitions=[], quarantine=QUARANTINE.empty())
    quarantined = []
    for i, batch in enumerate(
        iter_feedback(
            paths,
            partition_rows=cfg["partition_rows"],
            max_text_chars=cfg["max_text_chars"],
            min_text_chars=cfg["min_text_chars"],
            default_channel=cfg["default_channel"],
        )
    ):
        out.read += batch.read
        out.duplicates += batch.duplicates
        out.kept += len(batch.records)
        quarantined.append(batch.quarantine)
        if len(batch.records):
            out.partitions.append(
                staging.write_partition(batch.records, folder, "ingested", i, RECORD)
            )
    if quarantined:
        out.quarantine = conform(pd.concat(quarantined, ignore_index=True), QUARANTINE)
    get_run_logger().info(
        "read %d rows: kept %d, quarantined %d, duplicates %d",
        out.read,
        out.kept,
        len(out.quarantine),
        out.duplicates,
    )
    return out


@task(cache_policy=NO_CACHE)
def normalize(partition: Path, folder: Path, mixed_min_share: float) -> Path:
    """Language, hazm/spaCy normalization and PII redaction; the raw text is dropped here."""
    records = staging.read_partition(partition)
    index = int(partition.stem.split("-")[1])
    out = staging.write_partition(
        normalize_feedback(records, mixed_min_share), folder, "normalized", index
    )
    staging.remove_partition(partition)  # raw text leaves the disk as soon as it is redacted
    progress.emit("normalize", "advance")
    return out


@cache
def _classifiers(models_dir: Path, taxonomy_path: Path) -> Classifiers:
    """Models load once per process, not once per partition."""
    return load_classifiers(models_dir, load_taxonomy(taxonomy_path))


@task(cache_policy=NO_CACHE)
def classify(
    partition: Path,
    folder: Path,
    run_id: str,
    models_dir: Path,
    taxonomy_path: Path,
    settings: dict[str, Any],
) -> Path:
    """Topics, sentiment and aspect sentiment for one partition, staged as feedback rows."""
    docs = staging.read_partition(partition)
    cfg = settings["classify"]
    out = classify_feedback(
        docs,
        _classifiers(models_dir, taxonomy_path),
        topic_threshold=cfg["topic_threshold"],
        neutral_band=cfg["neutral_band"],
    )
    out["run_id"] = run_id
    index = int(partition.stem.split("-")[1])
    staged = staging.write_partition(out, folder, "feedback", index, FEEDBACK)
    progress.emit("classify", "advance")
    return staged


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def load_customers(
    customers: str | None, transactions: str | None
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame]:
    """Customers and transactions files (both optional), with their own quarantine."""
    quarantined = [QUARANTINE.empty()]
    cust = trans = None
    if customers:
        cust, q = read_customers(Path(customers))
        quarantined.append(q)
    if transactions:
        trans, q = read_transactions(Path(transactions))
        quarantined.append(q)
    return cust, trans, conform(pd.concat(quarantined, ignore_index=True), QUARANTINE)


@task(cache_policy=NO_CACHE)
def value(
    customers: pd.DataFrame | None,
    transactions: pd.DataFrame | None,
    history: pd.DataFrame,
    as_of: pd.Timestamp,
    settings: dict[str, Any],
) -> pd.DataFrame:
    """Lifetime value per customer: CRM, else BG/NBD x Gamma-Gamma, else defaults.

    With neither a customers nor a transactions file the customer ids found in feedback
    are the customers, each valued at its segment's default.
    """
    cfg = settings["value"]
    if customers is None and transactions is None:
        customers = customers_from_feedback(history, cfg["segment_column"])
    return estimate_customer_value(
        customers,
        transactions,
        as_of=as_of,
        horizon_months=cfg["horizon_months"],
        annual_discount_rate=cfg["annual_discount_rate"],
        default_clv=cfg["default_clv"],
        default_clv_by_segment=cfg["default_clv_by_segment"],
        segment_column=cfg["segment_column"],
        min_repeat_buyers=cfg["min_repeat_buyers"],
        level=cfg["interval_level"],
    )


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def gather_feedback(
    warehouse: str, new_partitions: list[Path], window_days: int, as_of: str | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """(history for the churn model, full rows of the two latest windows, window end).

    Stored rows and this run's staged rows are combined, the staged ones winning by key,
    so the figures are what the warehouse will hold once the run commits.
    """
    new_history = staging.read_partitions(new_partitions, HISTORY_COLUMNS)
    with open_warehouse(warehouse) as wh:
        history = wh.read_feedback(columns=HISTORY_COLUMNS)
        history = _newest_wins(history, new_history)
        if as_of:
            window_end = pd.Timestamp(as_of, tz="UTC")
        elif len(history):
            window_end = history["created_at"].max().floor("D") + pd.Timedelta(days=1)
        else:
            window_end = pd.Timestamp.now(tz="UTC").floor("D")
        start = window_end - pd.Timedelta(days=2 * window_days)  # current + previous window
        recent = wh.read_feedback(start, window_end)
    new_rows = staging.read_partitions(new_partitions)
    if len(new_rows):
        new_rows = conform(new_rows, FEEDBACK)
        new_rows = new_rows[
            (new_rows["created_at"] >= start) & (new_rows["created_at"] < window_end)
        ]
    return history, _newest_wins(recent, new_rows), window_end


def _newest_wins(stored: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    if not len(new):
        return stored.reset_index(drop=True)
    if not len(stored):
        return new.reset_index(drop=True)
    both = pd.concat([stored, new[stored.columns]], ignore_index=True)
    return both.drop_duplicates(list(FEEDBACK.key), keep="last").reset_index(drop=True)


@task(cache_policy=NO_CACHE)
def churn_uplift(
    history: pd.DataFrame,
    customers: pd.DataFrame | None,
    taxonomy: Taxonomy,
    settings: dict[str, Any],
) -> pd.DataFrame:
    """Each theme's effect on churn: joint model with churn labels, else the prior."""
    cfg = settings["value"]
    return estimate_churn_uplift(
        history,
        customers,
        taxonomy,
        prior=cfg["churn_uplift_prior"],
        segment_column=cfg["segment_column"],
        tenure_hints=cfg["tenure_hints"],
        seed=cfg["uplift_seed"],
        n_bootstrap=cfg["uplift_bootstrap"],
        prior_sd=cfg["uplift_prior_sd"],
        level=cfg["interval_level"],
    )


@task(cache_policy=NO_CACHE)
def pain_points(
    recent: pd.DataFrame,
    customer_value: pd.DataFrame,
    uplift: pd.DataFrame,
    taxonomy: Taxonomy,
    window_end: pd.Timestamp,
    settings: dict[str, Any],
) -> pd.DataFrame:
    """Themes ranked by lifetime value at risk in the window, per segment."""
    cfg, value_cfg = settings["painpoints"], settings["value"]
    return rank_pain_points(
        recent,
        customer_value,
        uplift,
        taxonomy,
        window_end=window_end,
        window_days=cfg["window_days"],
        segments=cfg["segments"],
        segment_column=value_cfg["segment_column"],
        spike_ratio=cfg["spike_ratio"],
        spike_min_mentions=cfg["spike_min_mentions"],
        spike_alpha=cfg["spike_alpha"],
        examples=cfg["examples"],
        example_chars=tuple(cfg["example_chars"]),
        default_clv=value_cfg["default_clv"],
        default_clv_by_segment=value_cfg["default_clv_by_segment"],
    )


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def store(warehouse: str, tables: RunTables, parquet_dir: str | None) -> dict[str, str]:
    """Commit the run in one transaction; optionally export every table as Parquet."""
    with open_warehouse(warehouse) as wh:
        wh.commit_run(tables)
        if parquet_dir and hasattr(wh, "export_parquet"):
            return {k: str(v) for k, v in wh.export_parquet(Path(parquet_dir)).items()}
    return {}


@task(cache_policy=NO_CACHE)
def report(warehouse: str, path: Path, options: ReportOptions) -> str | None:
    """Rebuild the HTML report from what was just stored.

    The run's tables are already committed, so a report failure is logged, not raised:
    `cxtext report` can rebuild it later.
    """
    try:
        with open_warehouse(warehouse) as wh:
            html = report_from_warehouse(wh, options)
        return str(write_report(html, path))
    except Exception as exc:  # noqa: BLE001 (the run's data is safe; say so and go on)
        get_run_logger().warning(
            "HTML report not written (%s); rebuild it with `cxtext report`", exc
        )
        return None


def _with_run_id(df: pd.DataFrame, run_id: str) -> pd.DataFrame:
    out = df.copy()
    out["run_id"] = run_id
    return out


def _record_failure(warehouse: str, run: pd.DataFrame) -> None:
    """Best effort: the original error matters more than a failure to log it."""
    try:
        with open_warehouse(warehouse) as wh:
            wh.record_failed_run(run)
    except Exception as exc:  # noqa: BLE001
        get_run_logger().warning("could not record the failed run in %s: %s", warehouse, exc)


def _model_versions(feedback_paths: list[Path]) -> dict[str, list[str]]:
    cols = staging.read_partitions(feedback_paths, ["topic_model", "sentiment_model"])
    return {c: sorted(cols[c].dropna().unique().tolist()) for c in cols.columns}


@flow(name="cxtext-nightly", log_prints=True)
def nightly(
    feedback: list[str] | None = None,
    customers: str | None = None,
    transactions: str | None = None,
    warehouse: str | None = None,
    parquet_dir: str | None = None,
    config: str | None = None,
    as_of: str | None = None,
) -> RunSummary:
    """Run the whole pipeline once over the given files (defaults: the shipped sample).

    ``as_of`` (ISO date) ends the pain-point window; by default it ends on the day of
    the newest feedback in the warehouse.
    """
    settings = load_settings(Path(config) if config else None)
    paths_cfg = settings["paths"]
    if not feedback:  # no input named: the shipped sample, side tables included
        sample = resolve("data/sample")
        feedback = [str(sample / "feedback")]
        customers = customers or str(sample / "customers.csv")
        transactions = transactions or str(sample / "transactions.csv")
    warehouse = warehouse or str(resolve(paths_cfg["warehouse"]))
    models_dir, taxonomy_path = resolve(paths_cfg["models"]), resolve(paths_cfg["taxonomy"])
    taxonomy = load_taxonomy(taxonomy_path)
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    started = pd.Timestamp.now(tz="UTC")
    parameters = {
        "feedback": feedback,
        "customers": customers,
        "transactions": transactions,
        "warehouse": warehouse,
        "config": config,
        "as_of": as_of,
    }
    timings: dict[str, float] = {}
    stage_root = Path(warehouse).parent if "://" not in warehouse else resolve(paths_cfg["out"])
    folder = staging.create_staging(stage_root, run_id)

    def timed(
        name: str, fn: Callable[..., T], *args: Any, steps: int | None = None, **kwargs: Any
    ) -> T:
        progress.emit(name, "start", steps)
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        timings[name] = round(time.perf_counter() - t0, 3)
        progress.emit(name, "done")
        return result

    try:
        ingested = timed("ingest", ingest, feedback, folder, settings)
        normalized = timed(
            "normalize",
            lambda: normalize.map(
                ingested.partitions,
                unmapped(folder),
                unmapped(settings["normalize"]["mixed_min_share"]),
            ).result(),
            steps=len(ingested.partitions),
        )
        classified = timed(
            "classify",
            lambda: classify.map(
                normalized,
                unmapped(folder),
                unmapped(run_id),
                unmapped(models_dir),
                unmapped(taxonomy_path),
                unmapped(settings),
            ).result(),
            steps=len(normalized),
        )
        cust, trans, side_quarantine = timed(
            "load_customers", load_customers, customers, transactions
        )
        history, recent, window_end = timed(
            "gather",
            gather_feedback,
            warehouse,
            classified,
            settings["painpoints"]["window_days"],
            as_of,
        )
        values = timed("value", value, cust, trans, history, window_end, settings)
        uplift = timed("uplift", churn_uplift, history, cust, taxonomy, settings)
        pain = timed(
            "pain_points", pain_points, recent, values, uplift, taxonomy, window_end, settings
        )
        quarantine = pd.concat([ingested.quarantine, side_quarantine], ignore_index=True)
        counts = {
            "read": ingested.read,
            "kept": ingested.kept,
            "quarantined": len(ingested.quarantine),
            "duplicates": ingested.duplicates,
            "side_quarantined": len(side_quarantine),
            "customers_valued": len(values),
            "pain_points": len(pain),
        }
        run = run_row(
            run_id=run_id,
            started_at=started,
            finished_at=pd.Timestamp.now(tz="UTC"),
            status="completed",
            parameters=json.dumps(parameters | {"side_quarantined": len(side_quarantine)}),
            read=counts["read"],
            kept=counts["kept"],
            quarantined=counts["quarantined"],
            duplicates=counts["duplicates"],
            model_versions=json.dumps(_model_versions(classified)),
            stage_seconds=json.dumps(timings),
        )
        tables = RunTables(
            run=run,
            feedback_files=classified,
            quarantine=_with_run_id(quarantine, run_id),
            customer_value=_with_run_id(values, run_id),
            pain_points=_with_run_id(pain, run_id),
        )
        parquet = timed("store", store, warehouse, tables, parquet_dir)
    except BaseException:
        _record_failure(
            warehouse,
            run_row(
                run_id=run_id,
                started_at=started,
                finished_at=pd.Timestamp.now(tz="UTC"),
                status="failed",
                parameters=json.dumps(parameters),
                stage_seconds=json.dumps(timings),
            ),
        )
        raise
    finally:
        staging.remove_staging(folder)
    report_path = default_report_path(warehouse, resolve(paths_cfg["report"]))
    html_report = timed(
        "report", report, warehouse, report_path, ReportOptions(**settings["report"])
    )
    window_days = settings["painpoints"]["window_days"]
    return RunSummary(
        run_id=run_id,
        warehouse=warehouse,
        counts=counts,
        window_start=str((window_end - pd.Timedelta(days=window_days)).date()),
        window_end=str(window_end.date()),
        pain_points=pain,
        parquet=parquet,
        report=html_report,
        stage_seconds=timings,
    )
