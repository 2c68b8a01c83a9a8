"""Postgres as the warehouse, through SQLAlchemy (psycopg 3 driver).

The same tables and the same one-transaction run as DuckDB; rows are bulk-loaded with
COPY (psycopg) into temporary tables (dropped at commit) and moved with DELETE ... USING
+ INSERT, so a rerun replaces rows by key and a failed run changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import sqlalchemy as sa

from cxtext.errors import WarehouseError
from cxtext.schema import FEEDBACK, TABLES, Table, conform
from cxtext.store.warehouse import (
    COLUMNS_SQL,
    WINDOWED,
    RunTables,
    Warehouse,
    ensure_tables,
    stored_hash_series,
)


def _driver_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


_NULL_KEY = "E'\\x01'"  # stands for NULL in key matches; never a real key value


def engine_for(url: str, application_name: str = "cxtext") -> sa.Engine:
    """A SQLAlchemy engine on the psycopg 3 driver; a bad URL is a WarehouseError."""
    try:
        return sa.create_engine(
            _driver_url(url),
            connect_args={"application_name": application_name[:63], "connect_timeout": 10},
        )
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise WarehouseError(
            f"not a usable Postgres URL ({exc}); e.g. postgresql://user@host/db"
        ) from exc


class PostgresWarehouse(Warehouse):
    """Output tables in a Postgres database given by a SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        self.engine = engine_for(url)
        self.location = self.engine.url.render_as_string(hide_password=True)
        try:
            with self.engine.begin() as conn:
                ensure_tables(
                    lambda sql: conn.execute(sa.text(sql)),
                    [(r[0], r[1]) for r in conn.execute(sa.text(COLUMNS_SQL))],
                )
        except sa.exc.OperationalError as exc:
            self.engine.dispose()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise WarehouseError(
                f"cannot reach the Postgres warehouse {self.location} ({reason}); "
                "check host, port, database and credentials"
            ) from exc
        except sa.exc.DBAPIError as exc:
            self.engine.dispose()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise WarehouseError(
                f"cannot create the tables in {self.location} ({reason}); "
                "grant the user CREATE on the schema or create them once as an owner"
            ) from exc

    def check_writable(self) -> None:
        names = list(TABLES)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT t, has_table_privilege(current_user, t, 'INSERT,DELETE,UPDATE') "
                    "FROM unnest(CAST(:names AS text[])) AS t"
                ),
                {"names": names},
            ).all()
        denied = [t for t, ok in rows if not ok]
        if denied:
            raise WarehouseError(
                f"{self.location}: the user may not write table(s) {', '.join(denied)}; "
                "GRANT INSERT, UPDATE, DELETE on them"
            )

    def close(self) -> None:
        self.engine.dispose()

    def read_sql(self, sql: str, params: dict[str, object] | None = None) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return pd.read_sql_query(sa.text(sql), conn, params=params or {})

    @staticmethod
    def _copy(
        conn: sa.Connection, target: str, columns: list[str], frames: Iterable[pd.DataFrame]
    ) -> None:
        """Bulk-load ``frames`` into ``target`` with COPY, inside the open transaction."""
        cols = ", ".join(f'"{c}"' for c in columns)
        # The psycopg connection under SQLAlchemy's, so COPY joins the run's transaction.
        with (
            conn.connection.cursor() as cursor,
            cursor.copy(f'COPY "{target}" ({cols}) FROM STDIN') as copy,
        ):
            for df in frames:
                rows = df[columns].astype(object)
                for row in rows.where(rows.notna(), None).itertuples(index=False, name=None):
                    copy.write_row(row)

    def _stage(self, conn: sa.Connection, table: Table, frames: Iterable[pd.DataFrame]) -> str:
        """A temporary copy of ``table`` (dropped at commit) holding ``frames``."""
        stage = f"_stage_{table.name}"
        conn.execute(sa.text(f'CREATE TEMP TABLE "{stage}" (LIKE "{table.name}") ON COMMIT DROP'))
        self._copy(conn, stage, list(table.names), (conform(df, table) for df in frames))
        return stage

    @staticmethod
    def _move(conn: sa.Connection, table: Table, stage: str) -> None:
        # NULL-safe key equality that Postgres can hash-join: IS NOT DISTINCT FROM cannot,
        # and a nested loop over a night's feedback against the stored table takes minutes.
        match = " AND ".join(
            f'COALESCE(t."{k}"::text, {_NULL_KEY}) = COALESCE(s."{k}"::text, {_NULL_KEY})'
            for k in table.key
        )
        cols = ", ".join(f'"{c}"' for c in table.names)
        conn.execute(sa.text(f'DELETE FROM "{table.name}" AS t USING "{stage}" AS s WHERE {match}'))  # noqa: S608
        conn.execute(sa.text(f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM "{stage}"'))  # noqa: S608

    def _upsert(self, conn: sa.Connection, table: Table, frames: Iterable[pd.DataFrame]) -> None:
        self._move(conn, table, self._stage(conn, table, frames))

    def commit_run(self, tables: RunTables) -> None:
        with self.engine.begin() as conn:
            if tables.feedback_files:
                batches = (
                    batch.to_pandas()
                    for path in tables.feedback_files
                    for batch in pq.ParquetFile(Path(path)).iter_batches(batch_size=20_000)
                )
                self._upsert(conn, FEEDBACK, batches)  # streamed, one row group at a time
            self._upsert(conn, TABLES["quarantine"], [tables.quarantine])
            self._upsert(conn, TABLES["customer_value"], [tables.customer_value])
            self._upsert(conn, TABLES["churn_uplift"], [tables.churn_uplift])
            pain = conform(tables.pain_points, TABLES["pain_points"])
            if not pain.empty:
                stage = self._stage(conn, TABLES["pain_points"], [pain])
                # A window is recomputed whole: themes that vanished must not linger.
                conn.execute(
                    sa.text(
                        f'DELETE FROM pain_points AS t USING (SELECT DISTINCT window_end, segment FROM "{stage}") AS s '  # noqa: S608
                        "WHERE t.window_end = s.window_end AND t.segment = s.segment"
                    )
                )
                self._move(conn, TABLES["pain_points"], stage)
            self._upsert(conn, TABLES["watermarks"], [tables.watermarks])
            for name in WINDOWED:
                rows = conform(getattr(tables, name), TABLES[name])
                if not rows.empty:
                    stage = self._stage(conn, TABLES[name], [rows])
                    conn.execute(
                        sa.text(
                            f'DELETE FROM "{name}" AS t USING (SELECT DISTINCT window_end FROM "{stage}") AS s '  # noqa: S608
                            "WHERE t.window_end = s.window_end"
                        )
                    )
                    self._move(conn, TABLES[name], stage)
            self._upsert(conn, TABLES["customer_attributes"], [tables.customer_attributes])
            if len(tables.candidate_themes):
                conn.execute(
                    sa.text(
                        "CREATE TEMP TABLE _candidates (source TEXT, id TEXT, candidate_theme TEXT) "
                        "ON COMMIT DROP"
                    )
                )
                self._copy(
                    conn,
                    "_candidates",
                    ["source", "id", "candidate_theme"],
                    [tables.candidate_themes.astype("string")],
                )
                conn.execute(
                    sa.text(
                        "UPDATE feedback AS f SET candidate_theme = c.candidate_theme FROM _candidates AS c "
                        "WHERE f.source = c.source AND f.id = c.id"
                    )
                )
            self._upsert(conn, TABLES["runs"], [tables.run])

    def stored_text_hashes(self, keys: pd.DataFrame) -> pd.Series:
        sql = (
            "SELECT p.n, f.text_hash FROM unnest(CAST(:sources AS text[]), CAST(:ids AS text[])) "
            "WITH ORDINALITY AS p(source, id, n) JOIN feedback AS f ON f.source = p.source AND f.id = p.id"
        )
        params = {
            "sources": keys["source"].astype(str).tolist(),
            "ids": keys["id"].astype(str).tolist(),
        }
        found = self.read_sql(sql, params)
        rows = (found["n"].to_numpy(dtype=int) - 1).tolist()
        return stored_hash_series(keys, rows, found["text_hash"].tolist())

    def record_run(self, run: pd.DataFrame) -> None:
        with self.engine.begin() as conn:
            self._upsert(conn, TABLES["runs"], [run])
