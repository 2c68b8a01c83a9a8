"""Watermarks: unchanged files are skipped unread, changed files give only their new documents."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from test_store import feedback_rows, stage

from cxtext.ingest.watermark import (
    FilePlan,
    batch_marks,
    combine_marks,
    file_key,
    file_marks,
    fingerprint,
    in_range,
    keep_new,
    new_watermarks,
    plan_files,
)
from cxtext.schema import RECORD, conform
from cxtext.store.warehouse import RunTables, open_warehouse, run_row


def records(ids: list[str], days: list[int], file: str = "a.csv") -> pd.DataFrame:
    return conform(
        pd.DataFrame(
            {
                "source": "tickets",
                "id": ids,
                "text": "x",
                "created_at": [
                    pd.Timestamp("2026-11-01", tz="UTC") + pd.Timedelta(days=d) for d in days
                ],
                "source_file": file,
            }
        ),
        RECORD,
    )


def test_fingerprint_changes_with_content(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text("id,text\n1,a\n", encoding="utf-8")
    before = fingerprint(f)
    assert fingerprint(f) == before
    f.write_text("id,text\n1,b\n", encoding="utf-8")  # same size, other bytes
    assert fingerprint(f).size == before.size and fingerprint(f) != before


def test_plan_skips_only_files_with_the_same_fingerprint() -> None:
    fps = {"a": fingerprint(__file__), "b": fingerprint(__file__), "c": fingerprint(__file__)}
    stored = pd.DataFrame(
        {
            "source_file": [file_key("a"), file_key("b")],
            "size": [fps["a"].size, fps["b"].size],
            "sha256": [fps["a"].sha256, "other"],
            "documents": [40, 9],
        }
    )
    plan = plan_files(["a", "b", "c"], stored, fps)
    assert plan.read == ["b", "c"] and plan.unchanged == ["a"] and plan.skipped_documents == 40


def test_marks_keep_the_newest_document_per_file_across_batches() -> None:
    first = file_marks(records(["1", "2"], [3, 1]))
    second = file_marks(pd.concat([records(["3"], [2]), records(["9"], [5], "b.csv")]))
    marks = combine_marks([first, second]).set_index("source_file")
    assert marks.loc["a.csv", "documents"] == 3 and marks.loc["a.csv", "newest_id"] == "1"
    assert marks.loc["b.csv", "newest_created_at"] == pd.Timestamp("2026-11-06", tz="UTC")
    batches = [
        records(["1", "2"], [3, 1]),
        records(["3", "4"], [2, 3]),
        records(["9"], [5], "b.csv"),
    ]
    pd.testing.assert_frame_equal(  # untyped per batch, typed once: the same marks
        combine_marks([batch_marks(b) for b in batches]),
        combine_marks([file_marks(b) for b in batches]),
    )


def test_new_watermarks_cover_every_read_file_even_without_documents() -> None:
    plan = FilePlan(
        read=["a.csv", "empty.csv"],
        fingerprints={"a.csv": fingerprint(__file__), "empty.csv": fingerprint(__file__)},
    )
    rows = new_watermarks(file_marks(records(["1"], [0])), plan, "r1", pd.Timestamp.now(tz="UTC"))
    assert rows.set_index("source_file")["documents"].to_dict() == {
        file_key("a.csv"): 1,
        file_key("empty.csv"): 0,
    }


def test_keep_new_and_in_range() -> None:
    recs = records(["1", "2", "3"], [0, 1, 2]).assign(text_hash=["h1", "h2", "h3"])
    # keys 1 and 3 stored with these very texts (their hashes), 2 not stored
    kept = keep_new(recs, pd.Series(["h1", pd.NA, "h3"], dtype="string"))
    assert kept.records["id"].tolist() == ["2"] and kept.stored == 2
    assert kept.edited == kept.unhashed == 0
    ranged = in_range(
        recs, pd.Timestamp("2026-11-02", tz="UTC"), pd.Timestamp("2026-11-03", tz="UTC")
    )
    assert ranged["id"].tolist() == ["2"]


def test_store_answers_stored_keys_and_keeps_watermarks(location: str, tmp_path: Path) -> None:
    plan = FilePlan(read=["a.csv"], fingerprints={"a.csv": fingerprint(__file__)})
    marks = new_watermarks(
        file_marks(records(["1", "2"], [0, 1])), plan, "r1", pd.Timestamp.now(tz="UTC")
    )
    with open_warehouse(location) as wh:
        wh.commit_run(
            RunTables(
                run=run_row(run_id="r1"),
                feedback_files=[stage(tmp_path, feedback_rows(["1", "2"]), "a")],
                watermarks=marks,
            )
        )
        probe = pd.DataFrame(
            {"source": ["tickets", "tickets", "social"], "id": ["2", "7", "1"]}, index=[5, 6, 7]
        )
        assert wh.stored_keys(probe).tolist() == [True, False, False]
        assert wh.stored_keys(probe).index.tolist() == [5, 6, 7]
        stored = wh.read_watermarks()
    assert stored["documents"].tolist() == [2] and stored["newest_id"].tolist() == ["2"]
    assert plan_files(["a.csv"], stored, plan.fingerprints).unchanged == ["a.csv"]
