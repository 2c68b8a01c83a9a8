"""Warehouse contract on DuckDB and on a real Postgres server: idempotent, atomic, typed."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa

from cxtext.schema import FEEDBACK, PAIN_POINTS, TABLES, TYPES, conform
from cxtext.store import staging
from cxtext.store.warehouse import RunTables, open_warehouse, run_row


def feedback_rows(ids: list[str], text: str = "late delivery", run_id: str = "r1") -> pd.DataFrame:
    return conform(
        pd.DataFrame(
            {
                "source": "tickets",
                "id": ids,
                "created_at": pd.Timestamp("2026-11-01T10:00:00Z"),
                "language": "en",
                "text_redacted": text,
                "topics": json.dumps(["delivery"]),
                "sentiment": "negative",
                "sentiment_score": -0.8,
                "run_id": run_id,
            }
        ),
        FEEDBACK,
    )


def stage(tmp_path: Path, df: pd.DataFrame, name: str) -> Path:
    return staging.write_partition(df, tmp_path / name, "feedback", 0, FEEDBACK)


def pain_rows(themes: list[str], window_end: str = "2026-11-20") -> pd.DataFrame:
    return conform(
        pd.DataFrame(
            {
                "theme_id": themes,
                "segment": "all",
                "window_end": pd.Timestamp(window_end, tz="UTC"),
                "rank": range(1, len(themes) + 1),
                "clv_at_risk": 1.0,
                "run_id": "r",
            }
        ),
        PAIN_POINTS,
    )


def test_rerun_replaces_rows_by_key(location: str, tmp_path: Path) -> None:
    with open_warehouse(location) as wh:
        wh.commit_run(
            RunTables(
                run=run_row(run_id="r1"),
                feedback_files=[stage(tmp_path, feedback_rows(["1", "2"]), "a")],
            )
        )
        wh.commit_run(
            RunTables(
                run=run_row(run_id="r2"),
                feedback_files=[
                    stage(tmp_path, feedback_rows(["2", "3"], text="new text", run_id="r2"), "b")
                ],
            )
        )
        fb = wh.read_table("feedback").sort_values("id")
    assert list(fb["id"]) == ["1", "2", "3"]
    assert list(fb["text_redacted"]) == ["late delivery", "new text", "new text"]
    assert str(fb["created_at"].dtype) == "datetime64[us, UTC]"


def test_failed_commit_leaves_tables_intact(location: str, tmp_path: Path) -> None:
    with open_warehouse(location) as wh:
        wh.commit_run(
            RunTables(
                run=run_row(run_id="r1"),
                feedback_files=[stage(tmp_path, feedback_rows(["1"]), "a")],
            )
        )
        before = wh.read_table("feedback")
        broken = tmp_path / "broken.parquet"
        broken.write_bytes(b"not parquet at all")
        good = stage(tmp_path, feedback_rows(["1", "9"], text="should not land"), "b")
        with pytest.raises(Exception):  # noqa: B017 (any backend error will do)
            wh.commit_run(RunTables(run=run_row(run_id="r2"), feedback_files=[good, broken]))
        after = wh.read_table("feedback")
        runs = wh.read_table("runs")
    pd.testing.assert_frame_equal(before, after)
    assert list(runs["run_id"]) == ["r1"]


def test_pain_points_window_is_replaced_whole(location: str) -> None:
    with open_warehouse(location) as wh:
        wh.commit_run(
            RunTables(run=run_row(run_id="a"), pain_points=pain_rows(["delivery", "support"]))
        )
        wh.commit_run(RunTables(run=run_row(run_id="b"), pain_points=pain_rows(["billing_fees"])))
        wh.commit_run(
            RunTables(run=run_row(run_id="c"), pain_points=pain_rows(["support"], "2026-11-27"))
        )
        pain = wh.read_table("pain_points")
        latest = wh.latest_pain_points()
    assert sorted(pain["theme_id"]) == ["billing_fees", "support"]
    assert list(latest["theme_id"]) == ["support"]


def test_read_feedback_window_is_parameterised(location: str, tmp_path: Path) -> None:
    rows = feedback_rows(["1", "2", "3"])
    rows["created_at"] = pd.to_datetime(
        ["2026-10-01", "2026-11-01", "2026-11-20"], utc=True
    ).astype(rows["created_at"].dtype)
    with open_warehouse(location) as wh:
        wh.commit_run(
            RunTables(run=run_row(run_id="r"), feedback_files=[stage(tmp_path, rows, "a")])
        )
        got = wh.read_feedback(
            pd.Timestamp("2026-10-15", tz="UTC"), pd.Timestamp("2026-11-20", tz="UTC")
        )
        hostile = wh.read_sql(
            "SELECT count(*) AS n FROM feedback WHERE id = :id", {"id": "1' OR '1'='1"}
        )
    assert list(got["id"]) == ["2"]
    assert int(hostile["n"].iloc[0]) == 0


def test_an_older_warehouse_gains_new_columns_and_keeps_its_rows(location: str) -> None:
    # A pain_points table as an older cxtext wrote it: no unlinked_mentions, no csat_impact.
    old = [c for c in PAIN_POINTS.columns if c not in ("unlinked_mentions", "csat_impact")]
    cols = ", ".join(f'"{c}" {TYPES[PAIN_POINTS.columns[c]][1]}' for c in old)
    if "://" in location:
        engine = sa.create_engine(location)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE TABLE "pain_points" ({cols})')
            conn.exec_driver_sql(
                """INSERT INTO "pain_points" (theme_id, segment, "rank") VALUES ('old', 'all', 1)"""
            )
        engine.dispose()
    else:
        with duckdb.connect(location) as con:
            con.execute(f'CREATE TABLE "pain_points" ({cols})')
            con.execute(
                """INSERT INTO "pain_points" (theme_id, segment, "rank") VALUES ('old', 'all', 1)"""
            )
    with open_warehouse(location) as wh:
        wh.commit_run(RunTables(run=run_row(run_id="new"), pain_points=pain_rows(["delivery"])))
        stored = wh.read_table("pain_points")
    assert {"unlinked_mentions", "csat_impact"} <= set(stored.columns)
    assert set(stored["theme_id"]) == {"old", "delivery"}
    assert stored.loc[stored["theme_id"] == "old", "unlinked_mentions"].isna().all()


def test_discovered_follow_ups_and_candidates_are_written_in_the_run(
    location: str, tmp_path: Path
) -> None:
    from cxtext.schema import DISCOVERED_THEMES, FOLLOW_UPS

    end = pd.Timestamp("2026-11-20", tz="UTC")
    found = conform(
        pd.DataFrame({"window_end": end, "theme_id": ["new_en_a", "new_fa_b"], "size": [9, 8]}),
        DISCOVERED_THEMES,
    )
    contacts = conform(
        pd.DataFrame({"window_end": end, "row_id": ["r1", "r2"], "team": "support"}), FOLLOW_UPS
    )
    candidates = pd.DataFrame(
        {"source": "tickets", "id": ["1", "2"], "candidate_theme": ["new_en_a", None]}
    )
    with open_warehouse(location) as wh:
        wh.commit_run(
            RunTables(
                run=run_row(run_id="r1"),
                feedback_files=[stage(tmp_path, feedback_rows(["1", "2"]), "a")],
                discovered_themes=found,
                follow_ups=contacts,
                candidate_themes=candidates,
            )
        )
        # the same window again: its candidates and follow-ups are replaced whole
        wh.commit_run(
            RunTables(
                run=run_row(run_id="r2"),
                discovered_themes=found.iloc[:1],
                follow_ups=contacts.iloc[1:],
                candidate_themes=candidates.assign(candidate_theme=[None, "new_en_a"]),
            )
        )
        fb = wh.read_table("feedback").sort_values("id")
        assert list(wh.latest_window("discovered_themes")["theme_id"]) == ["new_en_a"]
        assert list(wh.latest_window("follow_ups")["row_id"]) == ["r2"]
    assert fb["candidate_theme"].isna().tolist() == [True, False]


def test_csv_export_round_trip(tmp_path: Path) -> None:
    from cxtext.store.export import export_tables

    location = str(tmp_path / "wh.duckdb")
    text = 'تحویل دیر شد, "late"\nagain'
    with open_warehouse(location) as wh:
        wh.commit_run(
            RunTables(
                run=run_row(run_id="r1"),
                feedback_files=[stage(tmp_path, feedback_rows(["1"], text=text), "a")],
                pain_points=pain_rows(["delivery"]),
            )
        )
        written = export_tables(wh, tmp_path / "out", "csv", "IRR")
        stored = wh.read_table("feedback")
    assert set(written) == set(TABLES)
    back = pd.read_csv(written["feedback"], encoding="utf-8-sig", dtype=str)
    assert back.loc[0, "text_redacted"] == text == stored.loc[0, "text_redacted"]
    assert pd.Timestamp(back.loc[0, "created_at"]) == stored.loc[0, "created_at"]
    pain = pd.read_csv(written["pain_points"], encoding="utf-8-sig")
    assert list(pain["currency"]) == ["IRR"] and pain.loc[0, "clv_at_risk"] == 1.0
    assert "currency" in pd.read_csv(written["customer_value"], encoding="utf-8-sig").columns


def test_csv_export_never_writes_a_live_formula(tmp_path: Path) -> None:
    from cxtext.store.export import export_tables

    attack = '=HYPERLINK("http://evil.example/x","click")'
    with open_warehouse(str(tmp_path / "wh.duckdb")) as wh:
        wh.commit_run(RunTables(
            run=run_row(run_id="r1"),
            feedback_files=[stage(tmp_path, feedback_rows(["1", "2"], text=attack), "a")],
            pain_points=pain_rows(["delivery"]),
        ))  # fmt: skip
        written = export_tables(wh, tmp_path / "out", "csv", "IRR", ["feedback", "pain_points"])
        parquet = export_tables(wh, tmp_path / "pq", "parquet", "IRR", ["feedback"])
    back = pd.read_csv(written["feedback"], encoding="utf-8-sig", dtype=str)
    assert set(back["text_redacted"]) == {"'" + attack}  # shown as text in a spreadsheet
    assert pd.read_parquet(parquet["feedback"])["text_redacted"].tolist() == [attack] * 2
    assert pd.read_csv(written["pain_points"], encoding="utf-8-sig").loc[0, "clv_at_risk"] == 1.0
