"""Column names and types of every record and table: the one place they are defined.

Stages import these names instead of spelling column strings, and the store creates
tables from :data:`TABLES`, so DuckDB, Parquet and Postgres agree on one layout.
JSON-valued columns (maps and lists) are stored as JSON text so that every backend
can hold them; DuckDB and Postgres can query them with their JSON functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

# Logical type -> (pandas dtype, SQL type). One mapping keeps the stores consistent.
TYPES: dict[str, tuple[str, str]] = {
    "str": ("string", "VARCHAR"),
    "json": ("string", "VARCHAR"),
    "int": ("Int64", "BIGINT"),
    "float": ("Float64", "DOUBLE PRECISION"),
    "bool": ("boolean", "BOOLEAN"),
    "ts": ("datetime64[us, UTC]", "TIMESTAMPTZ"),
}


@dataclass(frozen=True)
class Table:
    """A table's columns (name -> logical type) and its key for idempotent upserts."""

    name: str
    columns: dict[str, str]
    key: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def empty(self) -> pd.DataFrame:
        """A typed frame with no rows (built once per table: ingest asks for several per file)."""
        key = (self.name, tuple(self.columns.items()))
        if key not in _EMPTY:
            _EMPTY[key] = conform(pd.DataFrame(columns=self.names), self)
        return _EMPTY[key].copy()


_EMPTY: dict[tuple, pd.DataFrame] = {}


# --- input contract -------------------------------------------------------------

REQUIRED_INPUT = ("id", "text", "created_at")
OPTIONAL_INPUT = ("source", "channel", "customer_id", "score", "score_type")
CHANNELS = ("ticket", "social", "survey", "review", "chat", "email")
SCORE_RANGES: dict[str, tuple[float, float]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
LANGUAGES = ("fa", "en", "mixed", "other")
SENTIMENTS = ("negative", "neutral", "positive")

# A validated feedback record, as ingest hands it to the later stages.
RECORD = Table(
    "record",
    {
        "source": "str",
        "id": "str",
        "text": "str",
        "text_hash": "str",  # keyed hash of the raw text (ingest.dedupe.raw_text_hashes)
        "created_at": "ts",
        "channel": "str",
        "customer_id": "str",
        "score": "float",
        "score_type": "str",
        "metadata": "json",  # every other input column, kept for segments
        "source_file": "str",
        "source_row": "int",
    },
    key=("source", "id"),
)

# Optional side tables, as ingest hands them to the value stage: these columns typed,
# every other column kept as a string (segment columns such as plan, region, tenure).
CUSTOMERS = Table(
    "customers",
    {
        "customer_id": "str",
        "clv": "float",  # the CRM's own lifetime value; wins over any estimate
        "churned": "bool",  # churn label for the joint uplift model
        "churned_at": "ts",  # feedback written after it cannot have caused the churn
    },
    key=("customer_id",),
)

TRANSACTIONS = Table(
    "transactions",
    {"customer_id": "str", "date": "ts", "amount": "float"},  # negative amounts are refunds
    key=(),  # none: the same amount twice on one day is a normal second purchase
)

# --- output tables (same names in DuckDB, Parquet and Postgres) --------------------

FEEDBACK = Table(
    "feedback",
    {
        "source": "str",
        "id": "str",
        "channel": "str",
        "created_at": "ts",
        "customer_id": "str",
        "score": "float",
        "score_type": "str",
        "language": "str",
        "text_redacted": "str",
        "topics": "json",  # ["delivery", ...] above the topic threshold
        "topic_scores": "json",  # {"delivery": 0.93, ...}
        "sentiment": "str",
        "sentiment_score": "float",  # P(positive) - P(negative), in [-1, 1]
        "aspect_sentiment": "json",  # {"delivery": "negative", ...} per topic
        "topic_model": "str",
        "sentiment_model": "str",
        "metadata": "json",
        "run_id": "str",
        "candidate_theme": "str",  # discovered theme of a document no taxonomy theme claims
        # keyed hash of the raw text as read: a later run that reads the same key with
        # another text stores the new one (NULL in rows stored before it was kept)
        "text_hash": "str",
    },
    key=("source", "id"),
)

CUSTOMER_VALUE = Table(
    "customer_value",
    {
        "customer_id": "str",
        "segment": "str",
        "clv": "float",
        "clv_low": "float",  # this customer's value: posterior interval (latent rate, dropout, spend + parameters)
        "clv_high": "float",
        "clv_mean_low": "float",  # the expected CLV's interval from the parameters alone (shared: adds up over customers)
        "clv_mean_high": "float",
        "clv_sd": "float",  # the customer's own posterior spread (independent: adds in quadrature over customers)
        "p_alive": "float",
        "expected_purchases": "float",
        "churned": "bool",
        "method": "str",  # crm | bgnbd_gammagamma | simple_rate | segment_default
        "run_id": "str",
    },
    key=("customer_id",),
)

# Each run's churn model, so a run without churn labels (feedback only) reuses the
# latest one instead of silently falling back to the prior.
CHURN_UPLIFT = Table(
    "churn_uplift",
    {
        "run_id": "str",
        "theme_id": "str",
        "churn_uplift": "float",
        "churn_uplift_low": "float",
        "churn_uplift_high": "float",
        "customers": "int",  # labelled customers who raised the theme negatively
        "method": "str",  # joint_logit(...) | prior(...) | reused(run ...): ...
    },
    key=("run_id", "theme_id"),
)

PAIN_POINTS = Table(
    "pain_points",
    {
        "run_id": "str",
        "window_start": "ts",
        "window_end": "ts",
        "segment": "str",  # "all" or "<column>=<value>"
        "theme_id": "str",
        "theme_en": "str",
        "theme_fa": "str",
        "mentions": "int",
        "negative_mentions": "int",
        "customers": "int",  # distinct customers who raised the theme negatively
        "unlinked_mentions": "int",  # negative mentions with no (or an unknown) customer id, at the segment mean CLV
        "corrected_people": "float",  # expected customers + unlinked who truly raised it negatively (misclassification-corrected; null: not corrected)
        "corrected_negative_mentions": "float",  # expected true negative mentions after the correction (raw: negative_mentions)
        "share": "float",  # mentions / documents in the window and segment
        "negative_rate": "float",
        "previous_mentions": "int",
        "trend": "float",  # relative change in mentions vs the previous window
        "spike": "bool",
        "nps_impact": "float",  # points: overall NPS minus NPS without the theme's respondents (< 0: drags it down)
        "csat_impact": "float",  # points: overall CSAT (% 4-5) minus CSAT without them, same sign
        "mean_clv": "float",
        "churn_uplift": "float",  # added churn probability; may be < 0 (protective or no effect)
        "churn_uplift_low": "float",  # the uplift interval as estimated, not clipped
        "churn_uplift_high": "float",
        "clv_at_risk": "float",  # people × mean_clv × max(0, churn_uplift), >= 0; people = corrected_people, else customers + unlinked_mentions
        "clv_at_risk_low": "float",  # >= 0: no effect puts nothing at risk
        "clv_at_risk_high": "float",
        "rank": "int",  # 1 = most CLV at risk among rows with churn_uplift_low > 0, which rank before the rest (not distinguishable from no effect): painpoints.order
        "examples": "json",  # up to 3 redacted quotes
        "method": "str",  # how uplift and CLV were obtained
        "currency": "str",  # of every money column (mean_clv, clv_at_risk*): value.currency
    },
    key=("window_end", "segment", "theme_id"),
)

# Candidate themes found among documents that no taxonomy theme claims, one row per
# window and candidate; ids are kept across runs by matching keywords to the last window.
DISCOVERED_THEMES = Table(
    "discovered_themes",
    {
        "run_id": "str",
        "window_start": "ts",
        "window_end": "ts",
        "theme_id": "str",  # "new_<language>_<hash>", stable while its keywords stay alike
        "language": "str",  # fa | en | mixed: the documents it was clustered among; en+fa: one theme found in both, linked
        "keywords": "json",  # {"fa": [...], "en": [...]} most distinctive first
        "size": "int",  # documents in the window
        "negative_mentions": "int",
        "negative_rate": "float",
        "customers": "int",
        "unlinked_mentions": "int",
        "mean_clv": "float",
        "churn_uplift": "float",
        "clv_at_risk": "float",  # valued exactly like a taxonomy theme (painpoints.rank)
        "clv_at_risk_low": "float",
        "clv_at_risk_high": "float",
        "examples": "json",  # up to painpoints.examples redacted quotes
        "first_seen": "ts",  # window_end of the first run that found it
        "is_new": "bool",  # first seen in this window
        "method": "str",
        "currency": "str",
    },
    key=("window_end", "theme_id"),
)

# Customers a team should contact first: negative feedback on a top pain point.
FOLLOW_UPS = Table(
    "follow_ups",
    {
        "row_id": "str",  # stable: the same customer, theme and document give the same id
        "run_id": "str",
        "window_end": "ts",
        "team": "str",  # the theme's owner in the taxonomy, "unassigned" without one
        "priority": "int",  # 1 = contact first, within the team
        "customer_id": "str",
        "theme_id": "str",
        "theme_en": "str",
        "clv": "float",
        "churn_uplift": "float",
        "value_at_stake": "float",  # clv × max(0, churn_uplift): the order
        "source": "str",
        "feedback_id": "str",
        "channel": "str",
        "created_at": "ts",
        "quote": "str",  # the redacted text of the newest such document
        "currency": "str",
    },
    key=("window_end", "row_id"),
)

# Customers' own columns (plan, region, tenure, ...) as strings, for segments on demand.
CUSTOMER_ATTRIBUTES = Table(
    "customer_attributes",
    {"customer_id": "str", "attributes": "json", "run_id": "str"},
    key=("customer_id",),
)

RUNS = Table(
    "runs",
    {
        "run_id": "str",
        "started_at": "ts",
        "finished_at": "ts",
        "status": "str",
        "parameters": "json",
        "read": "int",
        "kept": "int",
        "quarantined": "int",
        "duplicates": "int",
        "model_versions": "json",
        "stage_seconds": "json",
        "counts": "json",  # every count of the run (side files, customers, pain points too)
        "warnings": "json",  # what went wrong after the commit (export, report): the data is safe
        "error": "str",  # why a failed run failed, one line
        # per input file (name redacted): {"read", "kept", "quarantined", "duplicates",
        # "not_read"}, so a nightly job's record shows which file lost rows
        "files": "json",
    },
    key=("run_id",),
)

QUARANTINE = Table(
    "quarantine",
    {
        "run_id": "str",
        "source": "str",
        "source_file": "str",
        "source_row": "int",
        "id": "str",
        "reason": "str",
        "raw_redacted": "json",  # the rejected row, PII redacted
    },
    key=("source_file", "source_row"),
)

# What earlier runs read, per input file (cxtext.ingest.watermark): unchanged files are skipped.
WATERMARKS = Table(
    "watermarks",
    {
        "source_file": "str",
        "size": "int",
        "sha256": "str",
        "documents": "int",  # documents kept from the file (valid, not duplicates)
        "newest_created_at": "ts",
        "newest_id": "str",  # id of the newest document
        "run_id": "str",  # the run that last read the file
        "updated_at": "ts",
    },
    key=("source_file",),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        FEEDBACK,
        CUSTOMER_VALUE,
        CHURN_UPLIFT,
        PAIN_POINTS,
        RUNS,
        QUARANTINE,
        WATERMARKS,
        DISCOVERED_THEMES,
        FOLLOW_UPS,
        CUSTOMER_ATTRIBUTES,
    )
}


def utc_timestamp(value: object) -> pd.Timestamp:
    """A timestamp in UTC, the zone of every ``ts`` column; a naive one is taken as UTC."""
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def conform(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Return ``df`` with exactly the table's columns, in order, cast to their dtypes.

    Missing columns are added as nulls; extra columns are dropped. Casting here, once,
    means a stage can build its frame loosely and still hand the store a clean table.
    """
    out = pd.DataFrame(index=df.index)
    for name, logical in table.columns.items():
        dtype = TYPES[logical][0]
        col = df[name] if name in df.columns else pd.Series(pd.NA, index=df.index)
        if logical == "ts":
            out[name] = pd.to_datetime(col, utc=True).astype(dtype)
        else:
            out[name] = col.astype(dtype)
    return out.reset_index(drop=True)
