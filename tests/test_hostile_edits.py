"""A document edited between runs: the later run stores the new text (it used to keep the first).

The warehouse keeps a keyed hash of each document's raw text (``feedback.text_hash``), so
a later run that reads a stored (source, id) with another text processes it again and
replaces the stored row; within one run an edit stays a ``conflicting_duplicate``. An
older warehouse gains the column on open (DuckDB and a real Postgres) and its rows,
which have no hash, are processed once more when their file is read again.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa

from cxtext.ingest.dedupe import raw_text_hashes
from cxtext.ingest.incremental import IngestTally, iter_new_records
from cxtext.schema import FEEDBACK, TABLES, TYPES, conform
from cxtext.store import staging
from cxtext.store.warehouse import RunTables, open_warehouse, run_row

KEY = b"k" * 32


def _old_feedback_table(location: str) -> None:
    """A feedback table as cxtext wrote it before text hashes, holding document ('t', 'old')."""
    old = [c for c in FEEDBACK.columns if c != "text_hash"]
    cols = ", ".join(f'"{c}" {TYPES[FEEDBACK.columns[c]][1]}' for c in old)
    insert = """INSERT INTO feedback (source, id, text_redacted, run_id)
                VALUES ('t', 'old', 'stored long ago', 'r0')"""
    if "://" in location:
        engine = sa.create_engine(location)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE TABLE "feedback" ({cols})')
            conn.exec_driver_sql(insert)
        engine.dispose()
    else:
        with duckdb.connect(location) as con:
            con.execute(f'CREATE TABLE "feedback" ({cols})')
            con.execute(insert)


def _documents(ids: list[str], texts: list[str], run_id: str) -> pd.DataFrame:
    return conform(
        pd.DataFrame(
            {
                "source": "t",
                "id": ids,
                "created_at": pd.Timestamp("2026-11-01T10:00:00Z"),
                "text_redacted": texts,
                "text_hash": raw_text_hashes(pd.Series(texts), KEY),
                "run_id": run_id,
            }
        ),
        FEEDBACK,
    )


def test_an_older_warehouse_gains_text_hash_and_tells_stored_from_edited(
    location: str, tmp_path: Path
) -> None:
    _old_feedback_table(location)
    with open_warehouse(location) as wh:  # migrated on open: the column is added
        staged = staging.write_partition(
            _documents(["a", "b"], ["slow app", "refund late"], "r1"),
            tmp_path,
            "feedback",
            0,
            FEEDBACK,
        )
        wh.commit_run(RunTables(run=run_row(run_id="r1"), feedback_files=[staged]))
        probe = pd.DataFrame({"source": ["t", "t", "t", "t"], "id": ["a", "b", "old", "new"]})
        hashes = wh.stored_text_hashes(probe)
        stored = wh.read_table("feedback").set_index("id")
    assert stored.loc["old", "text_redacted"] == "stored long ago"  # the old row kept
    assert pd.isna(stored.loc["old", "text_hash"])
    want = raw_text_hashes(pd.Series(["slow app", "refund late"]), KEY).tolist()
    assert hashes.tolist()[:3] == [*want, ""] and pd.isna(hashes.iloc[3])


def test_the_raw_text_hash_is_keyed_and_ignores_surrounding_spaces() -> None:
    texts = pd.Series(["09123456789", " 09123456789\n", "0912345678"])
    one, other = raw_text_hashes(texts, KEY), raw_text_hashes(texts, b"x" * 32)
    assert one[0] == one[1] != one[2]
    assert one[0] != other[0]  # another warehouse's key: no table of guesses works for both
    assert all(len(h) == 16 and h.isalpha() for h in one)  # no digits a PII scan could read


def _read(folder: Path, tally: IngestTally, stored_keys) -> list[pd.DataFrame]:
    """``folder/t.csv`` through ingest's incremental reader, as a night reads it."""
    return list(
        iter_new_records(
            [str(folder)],
            [str(folder / "t.csv")],
            tally,
            stored_keys=stored_keys,
            partition_rows=100,
            max_text_chars=1000,
            min_text_chars=1,
            default_channel="ticket",
            pseudonym_key=KEY,
        )
    )


def test_a_later_run_reprocesses_an_edited_document_and_says_so(tmp_path: Path) -> None:
    """Stage level: the edited key is handed on, the unchanged one skipped, the unhashed
    one redone once; each is counted and noted; within the run an edit is still a conflict."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "t.csv").write_text(
        "id,text,created_at\n"
        "a,slow app,2026-11-01\n"  # stored with this text: skipped
        "b,refund still late (edited),2026-11-01\n"  # stored with another text: redone
        "old,stored long ago,2026-11-01\n"  # stored without a hash: redone once
        "c,brand new,2026-11-01\n"
        "c,brand new but edited in the same run,2026-11-01\n",  # conflicting_duplicate
        encoding="utf-8",
    )
    stored = {"a": raw_text_hashes(pd.Series(["slow app"]), KEY)[0], "b": "0" * 16, "old": ""}

    def lookup(keys: pd.DataFrame) -> pd.Series:
        return pd.Series([stored.get(i, pd.NA) for i in keys["id"]], dtype="string")

    tally = IngestTally()
    handed = pd.concat(_read(folder, tally, lookup))
    assert sorted(handed["id"]) == ["b", "c", "old"]
    assert (tally.new, tally.stored, tally.edited, tally.unhashed) == (3, 1, 1, 1)
    assert tally.kept == tally.new + tally.stored
    codes = tally.quarantined()["reason"].str.split(":").str[0].tolist()
    assert codes == ["conflicting_duplicate"]
    said = " | ".join(tally.warnings())
    assert "1 document(s) stored by an earlier run have another text" in said
    assert "1 document(s) stored by an older cxtext" in said
    assert "repeat an id already read in this run" in said  # the in-run conflict, as a warning


def test_ingest_warnings_are_collected_not_printed(tmp_path: Path, capsys) -> None:
    """They printed as raw log lines above the progress bars; now the run says them."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "t.csv").write_text(
        "id,text,created_at,text\nx,one,2026-11-01,two\nx,other,2026-11-01,three\n"
    )
    tally = IngestTally()
    _read(folder, tally, None)
    out = capsys.readouterr()
    assert "repeat" not in out.out + out.err
    assert len(tally.warnings()) == 2  # the repeated column, the conflicting duplicate
    tally.notes.extend(f"file {i}: damaged" for i in range(40))
    shown = tally.warnings()
    assert len(shown) == 21 and shown[-1].startswith("ingest: 22 more warning(s)")


@pytest.mark.parametrize(
    "backend", ["duckdb", pytest.param("postgres", marks=pytest.mark.slow)]
)  # Postgres's migration and lookup are checked above in seconds; its flow run is slow
def test_two_runs_store_the_edited_text(backend: str, tmp_path: Path, request) -> None:
    """Through the flow, on DuckDB and Postgres: night 2 reads the export with one ticket
    edited; the warehouse holds the new text, classified again, and `runs` counts it."""
    from pipelines.nightly import nightly

    warehouse = (
        str(tmp_path / "cx.duckdb") if backend == "duckdb" else request.getfixturevalue("pg_url")
    )
    if backend == "postgres":
        engine = sa.create_engine(warehouse)
        with engine.begin() as conn:
            for name in TABLES:
                conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}"')
        engine.dispose()
    config = tmp_path / "settings.yaml"
    config.write_text(f"paths:\n  out: {tmp_path / 'out'}\nvalue:\n  uplift_bootstrap: 10\n")
    export = tmp_path / "in" / "tickets.csv"
    export.parent.mkdir()
    lines = [f"T{i},the app is slow when I pay number {i},2026-11-0{1 + i % 5}" for i in range(30)]
    export.write_text("id,text,created_at\n" + "\n".join(lines) + "\n", encoding="utf-8")
    args = {"feedback": [str(export.parent)], "warehouse": warehouse, "config": str(config)}
    first = nightly(**args)
    assert first.counts["new"] == 30
    lines[3] = "T3,the refund never arrived and support ignores me,2026-11-04"
    export.write_text("id,text,created_at\n" + "\n".join(lines) + "\n", encoding="utf-8")
    second = nightly(**args)
    assert (second.counts["new"], second.counts["edited"]) == (1, 1)
    assert second.counts["skipped"] == 29
    assert any("another text here (edited since)" in w for w in second.warnings)
    with open_warehouse(warehouse) as wh:
        stored = wh.read_table("feedback").set_index("id")
        runs = wh.read_table("runs").sort_values("started_at")
    assert len(stored) == 30
    assert "refund never arrived" in stored.loc["T3", "text_redacted"]
    assert stored.loc["T3", "run_id"] == second.run_id
    assert (stored.drop(index="T3")["run_id"] == first.run_id).all()
    assert stored["text_hash"].notna().all()
    assert json.loads(runs["counts"].iloc[-1])["edited"] == 1


def test_the_run_line_says_how_many_new_documents_were_edits() -> None:
    from cxtext.cli.run import _edited

    assert _edited({"new": 5}) == ""
    assert _edited({"new": 5, "edited": 2}) == " (of them 2 edited since stored)"
    assert "1 stored by an older cxtext" in _edited({"new": 5, "edited": 0, "unhashed": 1})
