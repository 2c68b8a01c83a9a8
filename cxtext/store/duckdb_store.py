"""The embedded default warehouse: one DuckDB file.

Staged feedback partitions are loaded with DuckDB's own Parquet reader inside the run's
transaction, so a large run never passes through pandas on its way to the table.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

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

_NAMED = re.compile(r"(?<![:\w]):(\w+)")


def _key_match(table: Table, left: str, right: str) -> str:
    return " AND ".join(f'{left}."{k}" IS NOT DISTINCT FROM {right}."{k}"' for k in table.key)


def probe_writable(path: Path) -> None:
    """Raise WarehouseError unless ``path`` (and its folder, for DuckDB's .wal) can be written.

    Probes by writing, not by permission bits, which say nothing for root or odd mounts;
    the database itself is not opened, so a run holding it is not disturbed.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".cxtext-probe-"):
            pass
        if path.exists():
            with path.open("r+b"):
                pass
    except OSError as exc:
        raise WarehouseError(
            f"cannot write the DuckDB warehouse {path} ({exc.strerror or exc}); "
            "fix the file or folder permissions, or pass --warehouse"
        ) from exc


class DuckDBWarehouse(Warehouse):
    """Output tables in a DuckDB file; created on first use."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(str(self.path))
        except (OSError, duckdb.Error) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise WarehouseError(
                f"cannot open the DuckDB warehouse {self.path} ({reason}); "
                "check the file and its folder, or pass --warehouse"
            ) from exc
        self._con.execute("SET TimeZone = 'UTC'")
        try:
            ensure_tables(self._con.execute, self._con.execute(COLUMNS_SQL).fetchall())
        except duckdb.Error as exc:
            self._con.close()
            raise WarehouseError(
                f"cannot create the tables in {self.path} ({str(exc).splitlines()[0]})"
            ) from exc

    def check_writable(self) -> None:
        probe_writable(self.path)

    def close(self) -> None:
        self._con.close()

    def read_sql(self, sql: str, params: dict[str, object] | None = None) -> pd.DataFrame:
        # DuckDB spells named parameters $name; the shared queries use SQLAlchemy's :name.
        if not params:
            return self._con.execute(sql).df()
        return self._con.execute(_NAMED.sub(r"$\1", sql), params).df()

    def _upsert_frame(self, table: Table, df: pd.DataFrame) -> None:
        staged = conform(df, table)
        self._con.register("_staged", staged)
        try:
            self._upsert_from("_staged", table)
        finally:
            self._con.unregister("_staged")

    def _upsert_from(self, source: str, table: Table) -> None:
        cols = ", ".join(f'"{c}"' for c in table.names)
        self._con.execute(
            f'DELETE FROM "{table.name}" AS t WHERE EXISTS '  # noqa: S608 (names from the schema)
            f"(SELECT 1 FROM {source} AS s WHERE {_key_match(table, 't', 's')})"
        )
        self._con.execute(f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM {source}')  # noqa: S608

    def commit_run(self, tables: RunTables) -> None:
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            if tables.feedback_files:
                files = [str(p) for p in tables.feedback_files]
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE _feedback_stage AS SELECT * FROM read_parquet(?)",
                    [files],
                )
                self._upsert_from("_feedback_stage", FEEDBACK)
                con.execute("DROP TABLE _feedback_stage")
            self._upsert_frame(TABLES["quarantine"], tables.quarantine)
            self._upsert_frame(TABLES["customer_value"], tables.customer_value)
            self._upsert_frame(TABLES["churn_uplift"], tables.churn_uplift)
            pain = conform(tables.pain_points, TABLES["pain_points"])
            if not pain.empty:
                # A window is recomputed whole: themes that vanished must not linger.
                con.register("_pain", pain)
                con.execute(
                    "DELETE FROM pain_points WHERE (window_end, segment) IN "
                    "(SELECT DISTINCT window_end, segment FROM _pain)"
                )
                con.unregister("_pain")
                self._upsert_frame(TABLES["pain_points"], pain)
            self._upsert_frame(TABLES["watermarks"], tables.watermarks)
            for name in WINDOWED:
                rows = conform(getattr(tables, name), TABLES[name])
                if not rows.empty:
                    con.register("_window", rows)
                    con.execute(
                        f'DELETE FROM "{name}" WHERE window_end IN '  # noqa: S608 (schema name)
                        "(SELECT DISTINCT window_end FROM _window)"
                    )
                    con.unregister("_window")
                    self._upsert_frame(TABLES[name], rows)
            self._upsert_frame(TABLES["customer_attributes"], tables.customer_attributes)
            if len(tables.candidate_themes):
                con.register("_candidates", tables.candidate_themes.astype("string"))
                con.execute(
                    "UPDATE feedback SET candidate_theme = c.candidate_theme FROM _candidates AS c "
                    "WHERE feedback.source = c.source AND feedback.id = c.id"
                )
                con.unregister("_candidates")
            self._upsert_frame(TABLES["runs"], tables.run)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def stored_text_hashes(self, keys: pd.DataFrame) -> pd.Series:
        probe = pd.DataFrame(
            {
                "source": keys["source"].astype(str),
                "id": keys["id"].astype(str),
                "_row": range(len(keys)),
            }
        )
        self._con.register("_probe", probe)
        try:
            found = self._con.execute(
                "SELECT p._row, f.text_hash FROM _probe AS p "
                "JOIN feedback AS f ON f.source = p.source AND f.id = p.id"
            ).df()
        finally:
            self._con.unregister("_probe")
        return stored_hash_series(keys, found["_row"].tolist(), found["text_hash"].tolist())

    def record_run(self, run: pd.DataFrame) -> None:
        self._con.execute("BEGIN TRANSACTION")
        self._upsert_frame(TABLES["runs"], run)
        self._con.execute("COMMIT")
