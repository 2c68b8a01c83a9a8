"""The nightly flow: ingest + normalize -> classify -> value -> pain points -> store.

Only orchestration lives here: every task calls one stage function of ``cxtext`` with
the typed settings section it needs, and passes staged Parquet paths or small frames
along. Documents move in large partitions (``ingest.partition_rows``), one task per
partition, never one per document. Ingest redacts each partition before staging it, so
raw text never reaches the disk. The run's bookkeeping (lock, run id, timings, counts,
the ``runs`` row, staging) is :mod:`pipelines.bookkeeping`; the run is written in one
warehouse transaction, so a crash leaves the tables as they were.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from threadpoolctl import threadpool_limits

from cxtext.classify.stage import Classifiers, classify_feedback, load_classifiers
from cxtext.config import (
    ClassifySettings,
    DiscoverySettings,
    NormalizeSettings,
    PainpointsSettings,
    ReportSettings,
    Settings,
    ValueSettings,
    load_settings,
    resolve,
    shipped_settings,
)
from cxtext.ingest.feedback import check_accepted, input_files
from cxtext.ingest.incremental import IngestTally, iter_new_records
from cxtext.ingest.sources import SourceSpec
from cxtext.ingest.tables import (
    check_side_accepted,
    read_customers,
    read_transactions,
    side_quarantine_notes,
)
from cxtext.ingest.watermark import (
    FilePlan,
    Fingerprint,
    fingerprint,
    new_watermarks,
    plan_files,
)
from cxtext.normalize.documents import normalize_feedback
from cxtext.normalize.persian import release_normalizer
from cxtext.normalize.pseudonym_key import load_or_create_key
from cxtext.painpoints.follow_ups import follow_ups
from cxtext.painpoints.rank import UNIDENTIFIED, rank_pain_points, unidentified_themes
from cxtext.painpoints.segments import customer_attributes
from cxtext.report.html import METHOD_CHANGED, report_from_warehouse, write_report
from cxtext.schema import (
    CHURN_UPLIFT,
    CUSTOMER_VALUE,
    CUSTOMERS,
    DISCOVERED_THEMES,
    FEEDBACK,
    QUARANTINE,
    WATERMARKS,
    conform,
    utc_timestamp,
)
from cxtext.store import staging
from cxtext.store.export import export_tables
from cxtext.store.frame_cache import cache_key, load_frames, save_frames
from cxtext.store.warehouse import RunTables, open_warehouse
from cxtext.themes.taxonomy import Taxonomy, load_taxonomy
from cxtext.value.customer_value import customers_from_feedback, estimate_customer_value
from cxtext.value.methods import fitted_run, method_changes, method_summary, reused_uplift
from cxtext.value.misclassification import Confusion
from cxtext.value.refit import keep_stored_uplift, keep_stored_values
from cxtext.value.uplift import estimate_churn_uplift
from pipelines import progress
from pipelines.bookkeeping import RunBook, RunSummary, open_run
from pipelines.insight import (
    champion_confusion,
    discover_and_value,
    rank_kwargs,
    uncorrected_note,
    uplift_kwargs,
)
from pipelines.preflight import plan_run

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

# Columns the window's stages (pain points, follow-ups, discovery) read: the wide ones
# they never use (each document's 16 topic scores as JSON are over half a row's bytes)
# stay in the warehouse, which matters at a million documents.
WINDOW_COLUMNS = [
    c
    for c in FEEDBACK.names
    if c not in ("topic_scores", "source_file", "source_row", "topic_model", "sentiment_model")
]


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def plan_inputs(
    paths: list[str | SourceSpec],
    columns: dict[str, str] | None,
    side_files: list[str],
    setting_files: list[str],
    warehouse: str,
    ignore_watermarks: bool,
) -> tuple[FilePlan, FilePlan, FilePlan]:
    """(feedback files to read, side files that changed, settings/taxonomy files that changed).

    Fingerprints are compared with the stored watermarks; a backfill ignores them.
    """
    entries = input_files(paths, columns)  # (file, source, skipped: a marker file, only listed)
    files = [(f, spec) for f, spec, skipped in entries if not skipped]
    others = [*side_files, *setting_files]
    fingerprints = {f: fingerprint(f) for f in [*(f for f, _ in files), *others]}
    with open_warehouse(warehouse) as wh:
        stored = WATERMARKS.empty() if ignore_watermarks else wh.read_watermarks()
    plan = plan_files([f for f, _ in files], stored, fingerprints)
    return (
        plan,
        plan_files(side_files, stored, fingerprints),
        plan_files(setting_files, stored, fingerprints),
    )


_LOAD_LOCK = threading.Lock()


@cache
def _classifiers_once(models_dir: Path, taxonomy_path: Path) -> Classifiers:
    return load_classifiers(models_dir, load_taxonomy(taxonomy_path))


def _classifiers(models_dir: Path, taxonomy_path: Path) -> Classifiers:
    """Models load once per process (per worker), not once per partition or per thread."""
    with _LOAD_LOCK:
        return _classifiers_once(models_dir, taxonomy_path)


@task(cache_policy=NO_CACHE)
def classify_partition(
    records: pd.DataFrame,
    index: int,
    folder: Path,
    run_id: str,
    models_dir: Path,
    taxonomy_path: Path,
    normalize_cfg: NormalizeSettings,
    cfg: ClassifySettings,
) -> tuple[Path, dict[str, float]]:
    """Redact + normalize, then classify one partition; only the redacted rows are staged.

    The raw text reaches this task in memory (a worker process gets it through a pipe)
    and never the disk. Returns the staged path and the seconds (wall, CPU) of each step.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    docs = normalize_feedback(records, normalize_cfg.mixed_min_share)
    t1, c1 = time.perf_counter(), time.process_time()
    out = classify_feedback(
        docs,
        _classifiers(models_dir, taxonomy_path),
        topic_threshold=cfg.topic_threshold,
        neutral_band=cfg.neutral_band,
    )
    out["run_id"] = run_id
    staged = staging.write_partition(out, folder, "feedback", index, FEEDBACK)
    return staged, {
        "normalize": t1 - t0,
        "classify": time.perf_counter() - t1,
        # CPU seconds too: on a shared machine wall time also counts others' work
        "normalize_cpu": c1 - c0,
        "classify_cpu": time.process_time() - c1,
    }


@dataclass
class _Done:
    """A result already computed, read like a task future."""

    value: tuple[Path, dict[str, float]]

    def result(self) -> tuple[Path, dict[str, float]]:
        return self.value


@dataclass
class Classified:
    """What the ingest + classify stage produced: staged partitions and its accounting."""

    partitions: list[Path]
    tally: IngestTally
    seconds: dict[str, float]


def ingest_and_classify(
    paths: list[str | SourceSpec],
    columns: dict[str, str] | None,
    files: FilePlan,
    warehouse: str,
    book: RunBook,
    settings: Settings,
    backfill: tuple[pd.Timestamp | None, pd.Timestamp | None] | None,
    in_flight: int,
    key_file: Path,
) -> Classified:
    """Read new documents in the flow's process and classify each partition as a task.

    Reading (validation, watermark filter) streams while earlier partitions are being
    classified on the task runner's workers; at most ``in_flight`` partitions wait, so
    memory stays bounded by a few partitions whatever the input size.
    """
    models_dir, taxonomy_path = resolve(settings.paths.models), resolve(settings.paths.taxonomy)
    runner = FlowRunContext.get().task_runner
    megabytes = sum(Path(f).stat().st_size for f in files.read) / 2**20
    in_process = megabytes < getattr(runner, "in_process_below_mb", 0.0)
    if not in_process and hasattr(runner, "preload_workers"):
        # The workers normalize the documents: the flow built hazm's normalizer for the
        # taxonomy's keywords only. ~50 MiB less in the flow during the partition phase
        # (benchmarks/README.md; not its whole ~100: later objects share its pages).
        release_normalizer()
    tally = IngestTally()
    futures: list[Any] = []
    done: list[tuple[Path, dict[str, float]]] = []
    reading = reading_cpu = 0.0
    cfg = settings.ingest
    with open_warehouse(warehouse) as wh:
        records_iter = iter_new_records(
            paths,
            files.read,
            tally,
            columns=columns,
            stored_keys=None if backfill else wh.stored_text_hashes,
            start=backfill[0] if backfill else None,
            end=backfill[1] if backfill else None,
            partition_rows=cfg.partition_rows,
            max_text_chars=cfg.max_text_chars,
            min_text_chars=cfg.min_text_chars,
            default_channel=cfg.default_channel,
            not_after=pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=cfg.future_tolerance_days),
            not_before=pd.Timestamp(year=cfg.earliest_year, month=1, day=1, tz="UTC"),
            small_file_rows=cfg.small_file_rows,
            pseudonym_key=load_or_create_key(key_file),
            max_id_chars=cfg.max_id_chars,
        )
        t0, c0 = time.perf_counter(), time.process_time()
        for index, records in enumerate(records_iter):
            reading += time.perf_counter() - t0
            reading_cpu += time.process_time() - c0
            args = (
                records,
                index,
                book.staging,
                book.run_id,
                models_dir,
                taxonomy_path,
                settings.normalize,
                settings.classify,
            )
            if not futures and not in_process and hasattr(runner, "preload_workers"):
                runner.preload_workers(models_dir, taxonomy_path)  # models load once, shared
            # A small night: classified here rather than paying for starting the workers.
            futures.append(
                _Done(classify_partition(*args)) if in_process else classify_partition.submit(*args)
            )
            while len(futures) - len(done) > in_flight:
                done.append(futures[len(done)].result())
                progress.emit("partitions", "advance")
            t0, c0 = time.perf_counter(), time.process_time()
        reading += time.perf_counter() - t0
        reading_cpu += time.process_time() - c0
    while len(done) < len(futures):
        done.append(futures[len(done)].result())
        progress.emit("partitions", "advance")
    if futures and not in_process and hasattr(runner, "release_workers"):
        runner.release_workers()  # their models are not needed again this run
    seconds = {  # inside "partitions": reading in the flow, the rest summed over workers
        "partitions:read": round(reading, 3),
        "partitions:normalize": round(sum(s["normalize"] for _, s in done), 3),
        "partitions:classify": round(sum(s["classify"] for _, s in done), 3),
        "partitions:read_cpu": round(reading_cpu, 3),
        "partitions:normalize_cpu": round(sum(s["normalize_cpu"] for _, s in done), 3),
        "partitions:classify_cpu": round(sum(s["classify_cpu"] for _, s in done), 3),
    }
    get_run_logger().info(
        "read %d rows: kept %d (new %d, already stored %d), quarantined %d, duplicates %d",
        tally.read,
        tally.kept,
        tally.new,
        tally.stored,
        len(tally.quarantined()),
        tally.duplicates,
    )
    return Classified([p for p, _ in done], tally, seconds)


@dataclass
class SideFiles:
    """The customers and transactions files as read, and whether they were reused."""

    customers: pd.DataFrame | None
    transactions: pd.DataFrame | None
    quarantine: pd.DataFrame
    key: str  # what they were read from (cache_key); a later stage's cache builds on it
    reused: bool


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def load_customers(
    customers: str | None,
    transactions: str | None,
    key_file: Path,
    fingerprints: dict[str, Fingerprint],
    cache_dir: Path,
    max_amount: float,
    max_id_chars: int | None = None,
) -> SideFiles:
    """Customers and transactions files (both optional), with their own quarantine.

    Reading them is per-row validation (about 1.5 CPU-s per 50k transactions); with
    the same bytes (``fingerprints``, taken when the run was planned), pseudonym key
    and code, the frames of an earlier run are reused from ``cache_dir``.
    """
    key = load_or_create_key(key_file)
    if max_id_chars is None:  # the same cache key as a run's, which passes the setting
        max_id_chars = shipped_settings().ingest.max_id_chars
    files = {"customers": customers, "transactions": transactions}
    cache = cache_key(
        "side",
        {role: (str(f), fingerprints[f]) if f else None for role, f in files.items()},
        hashlib.sha256(key).hexdigest(),
        max_amount,
        max_id_chars,
    )
    if (customers or transactions) and (hit := load_frames(cache_dir, "side", cache)):
        frames, _ = hit
        return SideFiles(
            frames.get("customers"), frames.get("transactions"), frames["quarantine"], cache, True
        )
    quarantined = [QUARANTINE.empty()]
    cust = trans = None
    if customers:
        cust, q = read_customers(
            Path(customers), pseudonym_key=key, max_amount=max_amount, max_id_chars=max_id_chars
        )
        quarantined.append(q)
    if transactions:
        trans, q = read_transactions(
            Path(transactions), pseudonym_key=key, max_amount=max_amount, max_id_chars=max_id_chars
        )
        quarantined.append(q)
    quarantine = conform(pd.concat(quarantined, ignore_index=True), QUARANTINE)
    # Saved only if the files still hold the bytes the key names (not rewritten meanwhile).
    if (customers or transactions) and all(
        fingerprint(f) == fingerprints[f] for f in files.values() if f
    ):
        saved = {"quarantine": quarantine}
        saved |= {"customers": cust} if cust is not None else {}
        saved |= {"transactions": trans} if trans is not None else {}
        save_frames(cache_dir, "side", cache, saved)
    return SideFiles(cust, trans, quarantine, cache, False)


@task(cache_policy=NO_CACHE)
def value(
    customers: pd.DataFrame | None,
    transactions: pd.DataFrame | None,
    history: pd.DataFrame | None,
    as_of: pd.Timestamp,
    cfg: ValueSettings,
    stored: pd.DataFrame | None = None,
    cache: tuple[Path, str] | None = None,
    reestimate: bool = False,
) -> pd.DataFrame:
    """Lifetime value per customer: CRM, else BG/NBD x Gamma-Gamma, else defaults.

    A run with neither file reuses ``stored`` (the warehouse's customer values) when
    there are any: only ids new to the warehouse get the segment default.

    With neither a customers nor a transactions file the customer ids found in feedback
    are the customers, each valued at its segment's default.

    ``cache`` (folder, the side files' key): an estimate from the same files, settings
    and code is reused from there rather than refitted, at the same as-of date, or
    (unless ``reestimate``) at a later one while
    :func:`~cxtext.value.refit.keep_stored_values` says it still holds. Values from
    feedback alone are never cached: the key names the side files, not the history they
    come from.
    """
    if customers is None and transactions is None:
        customers = customers_from_feedback(history, cfg.segment_column)
        if stored is not None and len(stored):
            return _reuse_values(stored, customers, as_of, cfg)
        return estimate_customer_value(customers, None, as_of=as_of, **_clv_kwargs(cfg))
    key = cache_key("clv", cache[1] if cache else None, asdict(cfg))
    if cache is not None and (hit := load_frames(cache[0], "clv", key)):
        frames, meta = hit
        estimated = pd.Timestamp(meta["as_of"])
        if estimated == as_of:
            why = (
                f"reused the lifetime values estimated on {meta['estimated_at']} from the same "
                f"customers and transactions files, as-of date {as_of.date()} and settings"
            )
        else:
            why = (
                None
                if reestimate
                else keep_stored_values(
                    estimated,
                    as_of,
                    after_as_of=meta["after_as_of"],
                    observed_days=meta["observed_days"],
                    refit_time_share=cfg.refit_time_share,
                )
            )
        if why is not None:
            values = frames["values"]
            values.attrs["notes"] = [*meta["notes"], why]
            return values
    values = estimate_customer_value(customers, transactions, as_of=as_of, **_clv_kwargs(cfg))
    if cache is not None:
        meta = {
            "notes": values.attrs.get("notes", []),
            "estimated_at": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
            "as_of": as_of.isoformat(),
            "after_as_of": values.attrs.get("after_as_of", 0),
            "observed_days": values.attrs.get("observed_days"),
        }
        save_frames(cache[0], "clv", key, {"values": values}, meta)
    return values


def _clv_kwargs(cfg: ValueSettings) -> dict[str, Any]:
    """Keyword arguments of ``estimate_customer_value``: one place for a fresh estimate
    and for the ids a reusing run has not valued before."""
    return {
        "horizon_months": cfg.horizon_months,
        "annual_discount_rate": cfg.annual_discount_rate,
        "default_clv": cfg.default_clv,
        "default_clv_by_segment": cfg.default_clv_by_segment,
        "segment_column": cfg.segment_column,
        "min_repeat_buyers": cfg.min_repeat_buyers,
        "level": cfg.interval_level,
        "time_resolution": cfg.time_resolution,
    }


def _reuse_values(
    stored: pd.DataFrame, feedback_customers: pd.DataFrame, as_of: pd.Timestamp, cfg: ValueSettings
) -> pd.DataFrame:
    """The stored customer values, plus ids new to the warehouse at their segment default."""
    new = feedback_customers[~feedback_customers["customer_id"].isin(stored["customer_id"])]
    fresh = estimate_customer_value(new, None, as_of=as_of, **_clv_kwargs(cfg))
    values = conform(pd.concat([stored, fresh], ignore_index=True), CUSTOMER_VALUE)
    values.attrs["notes"] = [
        f"no customers or transactions file: reused the stored values of {len(stored):,} "
        f"customers ({method_summary(stored, None).get('clv', '')}); {len(fresh):,} ids new to "
        "the warehouse at the segment default (--reestimate: value everyone at the defaults)"
    ]
    return values


@task(cache_policy=NO_CACHE)
def stored_value(warehouse: str) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(customer values, latest churn model, documents stored since that model's fit).

    Run ids sort by start time, so rows written by a later run than the fitting one
    (new documents, backfilled ones) are the documents the stored model has not seen.
    """
    with open_warehouse(warehouse) as wh:
        uplift = wh.latest_churn_uplift()
        since = 0
        if len(uplift):
            newer = wh.read_sql(
                "SELECT count(*) AS n FROM feedback WHERE run_id > :run",
                {"run": fitted_run(uplift)},
            )
            since = int(newer["n"].iloc[0])
        return wh.read_table("customer_value"), uplift, since


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def gather_feedback(
    warehouse: str, new_partitions: list[Path], window_days: int, as_of: pd.Timestamp | None
) -> tuple[pd.DataFrame, pd.Timestamp, int]:
    """(full rows of the two latest windows, window end, documents stored after the run).

    Stored rows and this run's staged rows are combined, the staged ones winning by key,
    so the figures are what the warehouse will hold once the run commits (the run holds
    the warehouse lock, so nothing else commits in between). All of history is not read
    here (:func:`read_history`): a night that keeps the churn model never needs it.
    """
    staged = staging.read_partitions(new_partitions, [*FEEDBACK.key, "created_at"])
    staged = staged.drop_duplicates(list(FEEDBACK.key), keep="last")
    with open_warehouse(warehouse) as wh:
        totals = wh.read_sql("SELECT count(*) AS n, max(created_at) AS newest FROM feedback")
        replaced = wh.stored_keys(staged) if len(staged) else pd.Series(dtype=bool)
        documents = int(totals["n"].iloc[0]) + int((~replaced).sum())
        if replaced.any():  # a replaced row's stored date no longer counts: read the dates
            dates = wh.read_feedback(columns=[*FEEDBACK.key, "created_at"])
            newest = _newest_wins(dates, staged)["created_at"].max()
        else:
            stored = pd.to_datetime(totals["newest"], utc=True).iloc[0]
            newest = pd.concat([pd.Series([stored]), staged["created_at"]]).max()
        if as_of is not None:
            window_end = as_of
        else:  # the newest feedback's day, never past the run date (no outlier steers it)
            today = pd.Timestamp.now(tz="UTC").floor("D") + pd.Timedelta(days=1)
            window_end = (
                min(newest.floor("D") + pd.Timedelta(days=1), today) if pd.notna(newest) else today
            )
        start = window_end - pd.Timedelta(days=2 * window_days)  # current + previous window
        recent = wh.read_feedback(start, window_end, columns=WINDOW_COLUMNS)
    new_rows = staging.read_partitions(new_partitions, WINDOW_COLUMNS, (start, window_end))
    if len(new_rows):
        new_rows = conform(new_rows, FEEDBACK)[WINDOW_COLUMNS]
    return _newest_wins(recent, new_rows), window_end, documents


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def read_history(warehouse: str, new_partitions: list[Path]) -> pd.DataFrame:
    """All documents, stored and staged (staged win by key), in the churn model's columns."""
    new_history = staging.read_partitions(new_partitions, HISTORY_COLUMNS)
    with open_warehouse(warehouse) as wh:
        return _newest_wins(wh.read_feedback(columns=HISTORY_COLUMNS), new_history)


def _newest_wins(stored: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    if not len(new):
        return stored.reset_index(drop=True)
    if not len(stored):
        return new.reset_index(drop=True)
    both = pd.concat([stored, new[stored.columns]], ignore_index=True)
    return both.drop_duplicates(list(FEEDBACK.key), keep="last").reset_index(drop=True)


@task(cache_policy=NO_CACHE)
def classifier_confusion(models_dir: Path, value_cfg: ValueSettings) -> Confusion | None:
    """The champions' held-out confusion (model cards), or None when the topic card has none."""
    return champion_confusion(models_dir, value_cfg)


@task(cache_policy=NO_CACHE)
def churn_uplift(
    history: pd.DataFrame,
    customers: pd.DataFrame | None,
    taxonomy: Taxonomy,
    cfg: ValueSettings,
    confusion: Confusion | None = None,
    stored: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each theme's effect on churn: joint model with churn labels, else the prior.

    A run without a customers file (no labels) reuses ``stored``, the warehouse's latest
    churn model, when there is one.
    """
    if customers is None and stored is not None and len(stored):
        out = reused_uplift(stored)
        out.attrs["notes"] = [
            f"no customers file (no churn labels): reused the churn model of run "
            f"{stored['run_id'].iloc[0]} (--reestimate: use the prior instead)"
        ]
        return out
    return estimate_churn_uplift(
        history,
        customers,
        taxonomy,
        **uplift_kwargs(cfg, confusion),
    )


@task(cache_policy=NO_CACHE)
def pain_points(
    recent: pd.DataFrame,
    customer_value: pd.DataFrame,
    uplift: pd.DataFrame,
    taxonomy: Taxonomy,
    window_end: pd.Timestamp,
    cfg: PainpointsSettings,
    value_cfg: ValueSettings,
    confusion: Confusion | None = None,
) -> pd.DataFrame:
    """Themes ranked by lifetime value at risk in the window, per segment."""
    return rank_pain_points(
        recent,
        customer_value,
        uplift,
        taxonomy,
        window_end=window_end,
        segments=list(cfg.segments),
        **rank_kwargs(cfg, value_cfg, confusion=confusion),
    )


@task(cache_policy=NO_CACHE)
def stored_candidates(warehouse: str) -> pd.DataFrame:
    """The last stored window's candidate themes (their ids carry over)."""
    with open_warehouse(warehouse) as wh:
        return wh.latest_window("discovered_themes")


@task(cache_policy=NO_CACHE)
def discover(
    previous: pd.DataFrame,
    recent: pd.DataFrame,
    history: pd.DataFrame,
    customers: pd.DataFrame | None,
    customer_value: pd.DataFrame,
    taxonomy: Taxonomy,
    window_end: pd.Timestamp,
    cfg: DiscoverySettings,
    painpoints_cfg: PainpointsSettings,
    value_cfg: ValueSettings,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Candidate themes among unclaimed documents, ids matched to the last stored window.

    Runs in the flow's process after the churn model and pain points. It needs nothing of
    theirs and once ran meanwhile on a worker process, but that worker held its own copy
    of the history and the window besides its imports (1.1 GiB at 300k documents,
    benchmarks/README.md): memory grew with the corpus by two copies instead of one.
    """
    table, assignments, notes = discover_and_value(
        recent,
        previous,
        history,
        customers,
        customer_value,
        taxonomy,
        window_end,
        discovery=cfg,
        painpoints=painpoints_cfg,
        value=value_cfg,
    )
    new = int(table["is_new"].fillna(False).sum()) if len(table) else 0
    get_run_logger().info("discovered %d candidate themes (%d new)", len(table), new)
    return table, assignments, notes


@task(cache_policy=NO_CACHE)
def follow_up_list(
    recent: pd.DataFrame,
    pain: pd.DataFrame,
    customer_value: pd.DataFrame,
    taxonomy: Taxonomy,
    cfg: PainpointsSettings,
    value_cfg: ValueSettings,
) -> pd.DataFrame:
    """Per owning team, the customers to contact first on the window's top pain points."""
    return follow_ups(
        recent,
        pain,
        customer_value,
        taxonomy.owners,
        top_themes=cfg.follow_up_themes,
        currency=value_cfg.currency,
    )


@task(cache_policy=NO_CACHE)
def stored_pain_points(warehouse: str) -> tuple[pd.DataFrame, pd.Timestamp]:
    """The newest stored pain points and their window end (a run with nothing new)."""
    with open_warehouse(warehouse) as wh:
        pain = wh.latest_pain_points()
    end = pain["window_end"].max() if len(pain) else pd.Timestamp.now(tz="UTC").floor("D")
    return pain, end


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def commit(warehouse: str, tables: RunTables) -> None:
    """The run's one transaction; a retry rewrites the same rows by key (idempotent)."""
    with open_warehouse(warehouse) as wh:
        wh.commit_run(tables)


@task(cache_policy=NO_CACHE)
def export(warehouse: str, folder: Path, fmt: str, currency: str) -> dict[str, str]:
    """Every table as CSV or Parquet in ``folder``, money columns with their currency."""
    with open_warehouse(warehouse) as wh:
        return {k: str(v) for k, v in export_tables(wh, folder, fmt, currency).items()}


@task(cache_policy=NO_CACHE)
def report(warehouse: str, path: Path, options: ReportSettings) -> str:
    """Rebuild the HTML report from what was just stored (`cxtext report` can redo it)."""
    with open_warehouse(warehouse) as wh:
        html = report_from_warehouse(wh, options)
    return str(write_report(html, path))


@flow(name="cxtext-nightly", log_prints=True)
def nightly(
    feedback: list[str] | None = None,
    customers: str | None = None,
    transactions: str | None = None,
    warehouse: str | None = None,
    parquet_dir: str | None = None,
    config: str | None = None,
    as_of: str | None = None,
    export_format: str = "parquet",
    columns: str | None = None,
    reestimate: bool = False,
    backfill_from: str | None = None,
    backfill_to: str | None = None,
) -> RunSummary:
    """Run the whole pipeline once over the given files (defaults: the shipped sample).

    ``as_of`` (ISO date) ends the pain-point window; by default it ends on the day of
    the newest feedback in the warehouse, never after the run date. ``parquet_dir``
    receives every table as ``export_format`` (parquet or csv). Without a
    customers/transactions file the stored customer values and churn model are reused
    unless ``reestimate``.

    Incremental: files unchanged since the last run are not read, and only documents
    not yet stored are classified (:mod:`cxtext.ingest.watermark`); with nothing new and
    unchanged customers and transactions, the stored pain points stand and the run only
    records itself. ``backfill_from``/``backfill_to`` (ISO dates, either optional; the
    end exclusive) reprocess every document of that range whatever the watermarks say
    (after a model change).
    """
    settings = load_settings(config)
    plan = plan_run(
        settings,
        feedback=feedback,
        customers=customers,
        transactions=transactions,
        warehouse=warehouse,
        parquet_dir=parquet_dir,
        as_of=as_of,
        config=config,
        columns=columns,
    )
    backfill = None
    if backfill_from or backfill_to:
        backfill = tuple(utc_timestamp(d) if d else None for d in (backfill_from, backfill_to))
    taxonomy = load_taxonomy(resolve(settings.paths.taxonomy))
    side_files = [f for f in (plan.customers, plan.transactions) if f]
    # Inputs of the churn model besides the documents: a change means refitting it.
    setting_files = [str(f) for f in (config, resolve(settings.paths.taxonomy)) if f]
    # The flow's own numerical stages (lifetime values, churn model, pain points) work on
    # small matrices: there a threaded BLAS spends its CPU waiting for its threads, which
    # a shared machine's other processes need (100k documents: values 2.1 -> 1.2 CPU-s,
    # churn model 22.3 -> 17.8; the same figures). Worker processes are not affected.
    with threadpool_limits(limits=1, user_api="blas"), open_run(plan, settings) as book:
        files, side, setting_changes = book.stage(
            "plan",
            plan_inputs,
            plan.feedback,
            plan.columns,
            side_files,
            setting_files,
            plan.warehouse,
            backfill is not None,
        )
        classified = book.stage(
            "partitions",
            ingest_and_classify,
            plan.feedback,
            plan.columns,
            files,
            plan.warehouse,
            book,
            settings,
            backfill,
            settings.run.partitions_in_flight,
            plan.pseudonym_key,
        )
        book.timings.update(classified.seconds)
        tally = classified.tally
        for note in tally.warnings():  # ingest's: said with the run's other warnings
            book.warn(note)
        quarantined = tally.quarantined()
        book.account_files(tally.files)  # before the check: a rejected run's row shows them
        if files.read:  # a run that read nothing (all unchanged) has nothing to reject
            check_accepted(tally.files, quarantined["reason"])
        book.count(
            read=tally.read,
            kept=tally.kept,
            quarantined=len(quarantined),
            duplicates=tally.duplicates,
            new=tally.new,
            edited=tally.edited,
            unhashed=tally.unhashed,
            skipped=files.skipped_documents + tally.stored + tally.out_of_range,
            partitions=len(classified.partitions),
            files_read=len(files.read),
            files_unchanged=len(files.unchanged),
        )
        watermarks = WATERMARKS.empty()
        if backfill is None:  # a backfill reads files only in part: their marks stay
            now = pd.Timestamp.now(tz="UTC")
            watermarks = pd.concat(
                [
                    new_watermarks(tally.watermark_marks(), files, book.run_id, now),
                    new_watermarks(WATERMARKS.empty(), side, book.run_id, now),
                    new_watermarks(WATERMARKS.empty(), setting_changes, book.run_id, now),
                ],
                ignore_index=True,
            )
        nothing_new = tally.new == 0 and side_files and not side.read
        if nothing_new and plan.as_of is None and backfill is None and not reestimate:
            # Nothing new, same customers and transactions: the stored figures still hold.
            # (A feedback-only run goes on: it re-derives or reuses values, and says so.)
            get_run_logger().info("no new documents and unchanged side files: pain points stand")
            book.commit(
                commit, plan.warehouse, book.tables([], [quarantined], None, None, watermarks)
            )
            pain, window_end = book.stage("gather", stored_pain_points, plan.warehouse)
            html = book.after_commit("report", report, plan.warehouse, plan.report, settings.report)
            summary = book.summary(pain, window_end, settings.painpoints.window_days, None, html)
            return replace(summary, files=tally.files)
        sides = book.stage(
            "load_customers",
            load_customers,
            plan.customers,
            plan.transactions,
            plan.pseudonym_key,
            side.fingerprints,
            book.cache,
            settings.ingest.max_amount,
            settings.ingest.max_id_chars,
        )
        cust, trans, side_quarantine = sides.customers, sides.transactions, sides.quarantine
        check_side_accepted({"customers": cust, "transactions": trans}, side_quarantine)
        for note in side_quarantine_notes(
            {"customers": cust, "transactions": trans}, side_quarantine
        ):
            book.warn(note)
        if sides.reused:
            book.warn(
                "customers: the customers and transactions files hold the same bytes as when "
                "they were last read: their validated rows were reused, not read again"
            )
        recent, window_end, documents = book.stage(
            "gather",
            gather_feedback,
            plan.warehouse,
            classified.partitions,
            settings.painpoints.window_days,
            plan.as_of,
        )
        before_values, before_uplift, since_fit = book.stage(
            "stored_value", stored_value, plan.warehouse
        )
        reuse_values, reuse_uplift = (None, None) if reestimate else (before_values, before_uplift)
        kept_uplift, why = None, ""
        if plan.customers and not (reestimate or backfill):
            kept_uplift, why = keep_stored_uplift(
                before_uplift,
                taxonomy.ids,
                inputs_unchanged=not side.read and not setting_changes.read,
                documents_since_fit=since_fit + tally.new,
                documents=documents,
                refit_share=settings.run.refit_share,
            )
        history = None  # all stored documents: for a refit, discovery, or ids without side files
        if kept_uplift is None or (cust is None and trans is None):
            history = book.stage("history", read_history, plan.warehouse, classified.partitions)
        values = book.stage(
            "value",
            value,
            cust,
            trans,
            history,
            window_end,
            settings.value,
            reuse_values,
            (book.cache, sides.key),
            reestimate or backfill is not None,
        )
        for note in values.attrs.get("notes", []):
            book.warn(f"value: {note}")
        confusion = classifier_confusion(resolve(settings.paths.models), settings.value)
        if note := uncorrected_note(confusion, settings.value):
            book.warn(note)
        previous = stored_candidates(plan.warehouse)
        if kept_uplift is not None:  # a small night: the stored fit stands, and the run says so
            uplift = kept_uplift
            book.warn(f"uplift: {why}")
        else:
            uplift = book.stage(
                "uplift",
                churn_uplift,
                history,
                cust,
                taxonomy,
                settings.value,
                confusion,
                reuse_uplift,
            )
        for note in uplift.attrs.get("notes", []):
            book.warn(f"uplift: {note}")
        for change in method_changes(
            method_summary(before_values, before_uplift), method_summary(values, uplift)
        ):
            book.warn(f"{METHOD_CHANGED}{change}")
        pain = book.stage(
            "pain_points",
            pain_points,
            recent,
            values,
            uplift,
            taxonomy,
            window_end,
            settings.painpoints,
            settings.value,
            confusion,
        )
        for theme in unidentified_themes(pain):
            book.warn(f"pain points: {theme}: {UNIDENTIFIED}")
        if kept_uplift is not None:  # candidates are valued by a refit of the same model
            discovered = DISCOVERED_THEMES.empty()
            candidates = pd.DataFrame(columns=["source", "id", "candidate_theme"])
            notes = [
                "discovery: not rerun on a night that keeps the churn model: the stored "
                "candidate themes stand (`cxtext themes list`); new documents join them at the refit"
            ]
        else:  # in this process, after the churn model: no second copy of history and window
            discovered, candidates, notes = book.stage(
                "discover",
                discover,
                previous,
                recent,
                history,
                cust,
                values,
                taxonomy,
                window_end,
                settings.discovery,
                settings.painpoints,
                settings.value,
            )
        del history  # the last stage that needs all stored documents is done
        for note in notes:  # e.g. a language group too small to cluster: said, and kept in `runs`
            book.warn(note)
        contacts = book.stage(
            "follow_ups",
            follow_up_list,
            recent,
            pain,
            values,
            taxonomy,
            settings.painpoints,
            settings.value,
        )
        book.count(
            side_quarantined=len(side_quarantine),
            side_files_reused=sides.reused,
            customers_valued=len(values),
            pain_points=len(pain),
            discovered_themes=len(discovered),
            follow_ups=len(contacts),
        )
        pain = pain.assign(currency=settings.value.currency)
        tables = replace(
            book.tables(
                classified.partitions, [quarantined, side_quarantine], values, pain, watermarks
            ),
            discovered_themes=discovered.assign(run_id=book.run_id),
            follow_ups=contacts.assign(run_id=book.run_id),
            customer_attributes=customer_attributes(cust, tuple(CUSTOMERS.columns)).assign(
                run_id=book.run_id
            ),
            candidate_themes=candidates,
            churn_uplift=conform(uplift.assign(run_id=book.run_id), CHURN_UPLIFT),
        )
        book.commit(commit, plan.warehouse, tables)
        parquet = None
        if plan.parquet_dir is not None:
            parquet = book.after_commit(
                "export",
                export,
                plan.warehouse,
                plan.parquet_dir,
                export_format,
                settings.value.currency,
            )
        html = book.after_commit("report", report, plan.warehouse, plan.report, settings.report)
    summary = book.summary(pain, window_end, settings.painpoints.window_days, parquet, html)
    return replace(summary, files=tally.files)
