"""The warehouse: the only place that reads or writes the output tables.

DuckDB (an embedded file) is the default; a ``postgresql://`` URL selects Postgres
through SQLAlchemy (:mod:`cxtext.store.postgres`). Both create the tables from
:data:`cxtext.schema.TABLES` and write a whole run in ONE transaction
(:meth:`Warehouse.commit_run`), so a crashed run leaves the previous tables intact and
rerunning the same input replaces rows by key instead of duplicating them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType

import pandas as pd

from cxtext.schema import (
    DISCOVERED_THEMES,
    FEEDBACK,
    FOLLOW_UPS,
    PAIN_POINTS,
    RUNS,
    TABLES,
    TYPES,
    WATERMARKS,
    Table,
    conform,
)


@dataclass
class RunTables:
    """Everything one run writes; ``feedback_files`` are staged Parquet partitions."""

    run: pd.DataFrame
    feedback_files: Sequence[Path] = ()
    quarantine: pd.DataFrame = field(default_factory=lambda: TABLES["quarantine"].empty())
    customer_value: pd.DataFrame = field(default_factory=lambda: TABLES["customer_value"].empty())
    churn_uplift: pd.DataFrame = field(default_factory=lambda: TABLES["churn_uplift"].empty())
    pain_points: pd.DataFrame = field(default_factory=lambda: PAIN_POINTS.empty())
    watermarks: pd.DataFrame = field(default_factory=lambda: WATERMARKS.empty())
    discovered_themes: pd.DataFrame = field(default_factory=lambda: DISCOVERED_THEMES.empty())
    follow_ups: pd.DataFrame = field(default_factory=lambda: FOLLOW_UPS.empty())
    customer_attributes: pd.DataFrame = field(
        default_factory=lambda: TABLES["customer_attributes"].empty()
    )
    # source, id, candidate_theme for every document of the window (NA: none), so the
    # window's old assignments are replaced whole.
    candidate_themes: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["source", "id", "candidate_theme"])
    )


# Tables whose rows for a window_end are replaced whole by a run (candidates come and go).
WINDOWED = ("discovered_themes", "follow_ups")

# Every table's columns in the connection's current schema (DuckDB: main, Postgres:
# public), in one query: one per table cost ~40 ms a warehouse opening in DuckDB, and a
# nightly run opens it about ten times (~0.5 CPU-s of a 1%-new night, benchmarks/README.md).
COLUMNS_SQL = (
    "SELECT table_name, column_name FROM information_schema.columns "
    "WHERE table_schema = current_schema()"
)


def create_table_sql(table: Table) -> str:
    cols = ", ".join(f'"{name}" {TYPES[kind][1]}' for name, kind in table.columns.items())
    return f'CREATE TABLE IF NOT EXISTS "{table.name}" ({cols})'


def ensure_tables(execute: Callable[[str], object], columns: Iterable[tuple[str, str]]) -> None:
    """Create missing output tables and add the schema's columns an older warehouse lacks.

    Columns are only ever added (NULL in old rows), never dropped or retyped, so a
    warehouse written by an older cxtext keeps its rows and takes new runs without a
    manual migration. ``columns`` are the (table, column) rows of :data:`COLUMNS_SQL`.
    """
    by_table: dict[str, set[str]] = {}
    for table_name, column in columns:
        by_table.setdefault(table_name, set()).add(column)
    for table in TABLES.values():
        existing = by_table.get(table.name, set())
        if not existing:  # only then: CREATE needs a privilege a writer may lack
            execute(create_table_sql(table))
            continue
        for name, kind in table.columns.items():
            if name not in existing:
                execute(f'ALTER TABLE "{table.name}" ADD COLUMN "{name}" {TYPES[kind][1]}')


class Warehouse(ABC):
    """Tables of the design, idempotent writes by key, atomic runs."""

    location: str

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def read_sql(self, sql: str, params: dict[str, object] | None = None) -> pd.DataFrame:
        """Rows of a query with ``:name`` parameters (never format user values into ``sql``)."""

    @abstractmethod
    def commit_run(self, tables: RunTables) -> None:
        """Write one run's tables in a single transaction."""

    @abstractmethod
    def record_run(self, run: pd.DataFrame) -> None:
        """Write one ``runs`` row alone: a run that did not commit, or warnings after its commit."""

    @abstractmethod
    def check_writable(self) -> None:
        """Raise :class:`~cxtext.errors.WarehouseError` unless a run could write every table."""

    def read_table(self, name: str) -> pd.DataFrame:
        """A whole output table, typed as in the schema."""
        table = TABLES[name]
        return conform(self.read_sql(f'SELECT * FROM "{table.name}"'), table)  # noqa: S608 (name from the schema)

    def read_feedback(
        self,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Stored feedback with ``start <= created_at < end`` (either bound optional)."""
        wanted = [c for c in (columns or FEEDBACK.names) if c in FEEDBACK.columns]
        select = ", ".join(f'"{c}"' for c in wanted)
        sql, params = f"SELECT {select} FROM feedback WHERE 1=1", {}  # noqa: S608 (names from the schema)
        if start is not None:
            sql += " AND created_at >= :start"
            params["start"] = pd.Timestamp(start).to_pydatetime()
        if end is not None:
            sql += " AND created_at < :end"
            params["end"] = pd.Timestamp(end).to_pydatetime()
        df = self.read_sql(sql, params)
        # typed as FEEDBACK's columns, only the ones asked for (not all, then a subset)
        return conform(df, replace(FEEDBACK, columns={c: FEEDBACK.columns[c] for c in wanted}))

    def stored_keys(self, keys: pd.DataFrame) -> pd.Series:
        """For each (source, id) row of ``keys``: is that document stored? (aligned booleans)"""
        return self.stored_text_hashes(keys).notna()

    @abstractmethod
    def stored_text_hashes(self, keys: pd.DataFrame) -> pd.Series:
        """For each (source, id) row of ``keys``: the stored document's ``text_hash``;
        ``<NA>`` when it is not stored, ``""`` when it was stored without one (an older cxtext)."""

    def read_watermarks(self) -> pd.DataFrame:
        """What earlier runs read, per input file (:mod:`cxtext.ingest.watermark`)."""
        return self.read_table(WATERMARKS.name)

    def latest_pain_points(self, segment: str | None = None) -> pd.DataFrame:
        """Pain points of the newest window, best rank first."""
        pain = self.read_table("pain_points")
        if pain.empty:
            return pain
        pain = pain[pain["window_end"] == pain["window_end"].max()]
        if segment is not None:
            pain = pain[pain["segment"] == segment]
        return pain.sort_values(["segment", "rank"]).reset_index(drop=True)

    def latest_churn_uplift(self) -> pd.DataFrame:
        """The churn model of the newest run that stored one (empty when none did)."""
        df = self.read_table("churn_uplift")
        return df[df["run_id"] == df["run_id"].max()].reset_index(drop=True) if len(df) else df

    def latest_window(self, name: str) -> pd.DataFrame:
        """Rows of the newest ``window_end`` of a windowed table (discovered_themes, follow_ups)."""
        df = self.read_table(name)
        return (
            df[df["window_end"] == df["window_end"].max()].reset_index(drop=True) if len(df) else df
        )

    def counts(self) -> dict[str, int]:
        """Rows per table, for summaries."""
        return {
            name: int(self.read_sql(f'SELECT count(*) AS n FROM "{name}"')["n"].iloc[0])  # noqa: S608
            for name in TABLES
        }


def is_postgres(location: str | Path) -> bool:
    return str(location).startswith(("postgresql://", "postgresql+psycopg://", "postgres://"))


def open_warehouse(location: str | Path) -> Warehouse:
    """A DuckDB file path, or a ``postgresql://`` SQLAlchemy URL.

    Raises :class:`~cxtext.errors.WarehouseError` (one line, naming the file or URL) when
    it cannot be opened or its tables created.
    """
    text = str(location)
    if is_postgres(text):
        from cxtext.store.postgres import PostgresWarehouse

        return PostgresWarehouse(text)
    from cxtext.store.duckdb_store import DuckDBWarehouse

    return DuckDBWarehouse(Path(text))


def check_writable(location: str | Path) -> None:
    """Fail fast (WarehouseError, one line) unless a run could write the warehouse.

    A DuckDB file is probed without opening it (a running run may hold it); a Postgres
    URL is connected to, its tables created if missing and the user's privileges checked.
    """
    if is_postgres(location):
        with open_warehouse(location) as wh:
            wh.check_writable()
    else:
        from cxtext.store.duckdb_store import probe_writable

        probe_writable(Path(location))


def stored_hash_series(
    keys: pd.DataFrame, rows: Sequence[int], hashes: Sequence[object]
) -> pd.Series:
    """The aligned result of :meth:`Warehouse.stored_text_hashes` from the matched rows."""
    out = pd.Series(pd.NA, index=keys.index, dtype="string")
    if len(rows):
        found = pd.Series(list(hashes), dtype="string").fillna("")
        out.iloc[list(rows)] = found.to_numpy(dtype=object)
    return out


def run_row(**values: object) -> pd.DataFrame:
    """A one-row ``runs`` frame from keyword values."""
    return conform(pd.DataFrame([values]), RUNS)
