"""The ingest entry point over folders of mixed, messy files."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxtext.errors import InputRejected
from cxtext.ingest.dedupe import SeenKeys
from cxtext.ingest.feedback import FileTally, IngestBatch, check_accepted, iter_feedback
from cxtext.schema import QUARANTINE, RECORD

SETTINGS = {
    "partition_rows": 3,
    "max_text_chars": 20000,
    "min_text_chars": 1,
    "default_channel": "survey",
    "pseudonym_key": b"k" * 32,
}


def ingest(paths, **kw) -> list[IngestBatch]:
    return list(iter_feedback(paths, **(SETTINGS | kw)))


def totals(batches):
    records = pd.concat([b.records for b in batches], ignore_index=True)
    quarantine = pd.concat([b.quarantine for b in batches], ignore_index=True)
    return records, quarantine, sum(b.read for b in batches), sum(b.duplicates for b in batches)


@pytest.fixture
def messy_folder(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "tickets.csv").write_bytes(
        (
            "ID,Text,Created_At,Customer_ID,Plan\r\n"
            "t1,پيک دير رسيد و غذا سرد بود,2024-05-01T10:00:00+03:30,c1,gold\r\n"
            't2,"<b>Refund</b> still missing &amp; nobody answers",2024-05-01,c2,basic\r\n'
            "t3,,2024-05-01,c3,gold\r\n"
            't4,"broken,2024-05-01,c4,gold\r\n'
            "t1,پيک دير رسيد و غذا سرد بود ,2024-05-02,c1,gold\r\n"
            "t5,ok 👍 mixed متن,2024-05-02T08:00,c5,basic,extra\r\n"
            f"t6,{'x' * 20001},2024-05-02,c6,gold\r\n"
        ).encode("cp1256", errors="replace")
    )
    (folder / "social.jsonl").write_text(
        "\n".join(
            [
                json.dumps(
                    {
                        "id": "s1",
                        "text": "@airline where is my bag? 😡",
                        "created_at": "2024-05-03T12:00:00Z",
                    }
                ),
                "{not json",
                json.dumps({"id": "s1", "text": "same id again", "created_at": "2024-05-03"}),
                json.dumps(
                    {
                        "id": "t1",
                        "text": "same id as a ticket, other source",
                        "created_at": "2024-05-03",
                    }
                ),
                json.dumps(
                    {
                        "id": "s2",
                        "text": "score me",
                        "created_at": "2024-05-03",
                        "score": 11,
                        "score_type": "nps",
                    }
                ),
            ]
        ),
        encoding="utf-8",
    )
    pq.write_table(
        pa.table(
            {
                "id": ["p1", "p2"],
                "text": ["great", "   "],
                "created_at": ["2024-05-04", "2024-05-04"],
            }
        ),
        folder / "survey.parquet",
    )
    (folder / "corrupt.parquet").write_bytes(b"PAR1garbage")
    (folder / "empty.csv").write_bytes(b"")
    (folder / "header_only.csv").write_text("id,text,created_at\n", encoding="utf-16")
    return folder


def test_messy_folder_end_to_end(messy_folder):
    batches = ingest([messy_folder])
    records, quarantine, read, duplicates = totals(batches)
    assert all(list(b.records.columns) == RECORD.names for b in batches)
    assert all(list(b.quarantine.columns) == QUARANTINE.names for b in batches)
    assert all(b.read <= SETTINGS["partition_rows"] for b in batches)
    assert read == len(records) + len(quarantine) + duplicates  # the run invariant
    assert sorted(zip(records["source"], records["id"], strict=True)) == [
        ("social", "s1"), ("social", "s2"), ("social", "t1"),
        ("survey", "p1"), ("tickets", "t1"), ("tickets", "t2"),
    ]  # fmt: skip
    assert duplicates == 1  # t1 again in tickets (same text); s1 again in social, other text:
    conflict = quarantine[quarantine["reason"].str.startswith("conflicting_duplicate")]
    assert conflict["id"].tolist() == ["s1"] and "same id again" in conflict["raw_redacted"].iloc[0]
    t1 = records[records["id"].eq("t1") & records["source"].eq("tickets")].iloc[0]
    assert t1["text"] == "پيک دير رسيد و غذا سرد بود"  # cp1256 decoded
    assert t1["channel"] == "ticket" and t1["customer_id"] == "c1"
    assert json.loads(t1["metadata"]) == {"plan": "gold"}
    assert t1["created_at"] == pd.Timestamp("2024-05-01T06:30Z")
    s2 = records[records["id"].eq("s2")].iloc[0]
    assert pd.isna(s2["score"]) and json.loads(s2["metadata"]) == {
        "_warnings": ["score 11 outside nps 0-10"]
    }
    reasons = sorted(quarantine["reason"].str.split(":").str[0])
    assert reasons == sorted(
        [
            "empty_text",
            "broken_csv_quoting",
            "wrong_field_count",
            "text_too_long",
            "broken_json",
            "empty_text",
            "unreadable_file",
            "conflicting_duplicate",
        ]
    )
    assert quarantine["run_id"].isna().all()
    corrupt = quarantine[quarantine["reason"].str.startswith("unreadable_file")].iloc[0]
    assert corrupt["source_file"].endswith("corrupt.parquet") and corrupt["source_row"] == 0


def test_duplicates_across_partitions_and_files(tmp_path):
    rows = "".join(f"{i % 4},text {i % 4},2024-01-01\n" for i in range(10))
    (tmp_path / "a.csv").write_text("id,text,created_at\n" + rows)
    (tmp_path / "b.csv").write_text(
        "id,text,created_at,source\n" + "0,text 0,2024-01-01,a\n9,new,2024-01-01,a\n"
    )
    records, quarantine, read, duplicates = totals(ingest([tmp_path]))
    assert records["id"].tolist() == ["0", "1", "2", "3", "9"]
    assert records["text"].tolist()[:4] == [
        "text 0",
        "text 1",
        "text 2",
        "text 3",
    ]  # first occurrence wins
    assert (read, duplicates, len(quarantine)) == (12, 7, 0)


def test_missing_path_raises_before_reading(tmp_path):
    with pytest.raises(InputRejected, match="missing.csv"):
        iter_feedback([tmp_path / "missing.csv"], **SETTINGS)


@pytest.mark.parametrize(
    "bad",
    [
        {"partition_rows": 0},
        {"default_channel": "phone"},
        {"min_text_chars": 5, "max_text_chars": 2},
    ],
)
def test_bad_settings_raise(tmp_path, bad):
    with pytest.raises(ValueError):
        iter_feedback([tmp_path], **(SETTINGS | bad))


def test_empty_folder_is_rejected_before_anything_is_read(tmp_path):
    with pytest.raises(InputRejected, match="no feedback file found"):
        ingest([tmp_path])


def test_every_file_is_accounted_for_per_row(tmp_path):
    good = '{"id": "1", "text": "fine", "created_at": "2024-05-01"}'
    (tmp_path / "a.jsonl").write_text(
        "\n".join(
            [
                good,
                '{"id": "2", "text": "bad \\ud83d", "created_at": "2024-05-01"}',
                "{not json",
                good.replace('"1"', '"3"'),
                good,
            ]
        )
        + "\n"
    )
    (tmp_path / "notes.txt").write_text("call the vendor back\n")
    (tmp_path / "empty.csv").write_text("")
    batches = ingest([tmp_path])
    tallies: dict[str, FileTally] = {}
    for b in batches:
        tallies.setdefault(b.source_file, FileTally()).add(b)
    names = {p.rsplit("/", 1)[-1]: t for p, t in tallies.items()}
    assert set(names) == {"a.jsonl", "notes.txt", "empty.csv"}
    a = names["a.jsonl"]
    assert (a.read, a.kept, a.quarantined, a.duplicates) == (5, 2, 2, 1)
    assert all(t.balanced for t in tallies.values())
    assert names["notes.txt"].unsupported and names["notes.txt"].quarantined == 1
    assert names["empty.csv"].read == 0
    quarantine = pd.concat([b.quarantine for b in batches])
    rows = dict(zip(quarantine["source_row"], quarantine["reason"], strict=True))
    assert rows[2].startswith("bad_unicode:") and rows[3].startswith("broken_json:")
    check_accepted(tallies, quarantine["reason"])  # partial quarantine is a success


def test_a_file_with_every_row_quarantined_rejects_the_run(tmp_path):
    (tmp_path / "export.csv").write_text("ticket_id,comment,date\n1,slow app,2024-05-01\n")
    (tmp_path / "ok.csv").write_text("id,text,created_at\n1,slow app,2024-05-01\n")
    batches = ingest([tmp_path])
    tallies: dict[str, FileTally] = {}
    for b in batches:
        tallies.setdefault(b.source_file, FileTally()).add(b)
    reasons = pd.concat([b.quarantine for b in batches])["reason"]
    with pytest.raises(InputRejected, match=r"export\.csv \(1 of 1 rows quarantined\)"):
        check_accepted(tallies, reasons)


def test_future_dates_are_quarantined(tmp_path):
    (tmp_path / "f.csv").write_text(
        "id,text,created_at\n1,ok,2024-05-01\n2,typo,2099-01-01\n3,skew,2024-05-01T23:00Z\n"
    )
    batches = ingest([tmp_path], not_after=pd.Timestamp("2024-05-02T00:00Z"))
    records, quarantine = totals(batches)[:2]
    assert records["id"].tolist() == ["1", "3"]
    assert quarantine["reason"].str.startswith("future_date: 2099-01-01").tolist() == [True]


def test_seen_keys_survive_a_merge(monkeypatch):
    import cxtext.ingest.dedupe as dedupe

    monkeypatch.setattr(dedupe, "_MERGE_EVERY", 3)
    seen = SeenKeys()
    frame = lambda ids: pd.DataFrame({"source": "s", "id": ids})  # noqa: E731
    assert seen.keep_first(frame(["1", "2", "3", "4"]))[1] == 0
    kept, dups, _ = seen.keep_first(frame(["4", "5", "1", "5"]))
    assert kept["id"].tolist() == ["5"] and dups == 3 and len(seen) == 5


def test_seen_keys_stay_sorted_and_exact_over_many_merges(monkeypatch):
    import numpy as np

    import cxtext.ingest.dedupe as dedupe

    monkeypatch.setattr(dedupe, "_MERGE_EVERY", 2)
    seen = SeenKeys()
    frame = lambda ids: pd.DataFrame({"source": "s", "id": [str(i) for i in ids]})  # noqa: E731
    rng = np.random.default_rng(0)
    kept_ids: set[int] = set()
    for _ in range(40):
        ids = rng.integers(0, 60, size=7).tolist()
        kept, dups, conflicts = seen.keep_first(frame(ids))
        assert conflicts.empty  # no text column: every repeat is a plain duplicate
        expected = list(dict.fromkeys(i for i in ids if i not in kept_ids))
        assert kept["id"].tolist() == [str(i) for i in expected]
        assert dups == len(ids) - len(expected)
        kept_ids.update(expected)
        assert len(seen) == len(kept_ids)
        assert np.all(seen._sorted[1:] >= seen._sorted[:-1])  # sorted, for searchsorted
    assert len(seen._recent) < 2  # merged as it went


@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 12), st.sampled_from(["a", "b", " a "])), max_size=8),
        max_size=12,
    ),
    st.sampled_from([1, 2, 1 << 16]),
)
@settings(max_examples=80, deadline=None)
def test_seen_keys_tell_conflicts_from_copies(batches, merge_every):
    """Against a dict model: a repeat with the first text (spaces aside) is a copy, else a conflict."""
    import cxtext.ingest.dedupe as dedupe

    old, dedupe._MERGE_EVERY = dedupe._MERGE_EVERY, merge_every
    try:
        seen, first = SeenKeys(), {}
        for batch in batches:
            frame = pd.DataFrame(
                {"source": "s", "id": [str(i) for i, _ in batch], "text": [t for _, t in batch]}
            )
            kept, dups, conflicts = seen.keep_first(frame)
            want_kept, want_conflicts, want_dups = [], [], 0
            for i, text in batch:
                if i not in first:
                    first[i] = text.strip()
                    want_kept.append(str(i))
                elif first[i] == text.strip():
                    want_dups += 1
                else:
                    want_conflicts.append(str(i))
            assert kept["id"].tolist() == want_kept
            assert conflicts["id"].tolist() == want_conflicts
            assert dups == want_dups
    finally:
        dedupe._MERGE_EVERY = old


def test_one_oversized_multiline_field_is_one_quarantine_row(tmp_path):
    body = "\n".join(f"line {i} of a pasted log" for i in range(20_000))  # ~500 kB, 20k lines
    (tmp_path / "big.csv").write_text(
        f'id,text,created_at\n1,before,2024-05-01\n2,"{body}",2024-05-01\n3,after,2024-05-01\n'
    )
    records, quarantine, read, _ = totals(ingest([tmp_path], partition_rows=100))
    assert read == 3 and records["id"].tolist() == ["1", "3"]
    assert quarantine["reason"].str.startswith("text_too_long:").tolist() == [True]
    assert len(quarantine["raw_redacted"].iloc[0]) < 5000  # cut, not the whole field


def test_hidden_and_marker_files_are_listed_as_skipped_not_read(tmp_path):
    (tmp_path / "part-0.csv").write_text("id,text,created_at\n1,slow app,2024-05-01\n")
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")
    batches = ingest([tmp_path])
    tallies: dict[str, FileTally] = {}
    for b in batches:
        tallies.setdefault(b.source_file.rsplit("/", 1)[-1], FileTally()).add(b)
    assert set(tallies) == {"part-0.csv", "_SUCCESS", ".DS_Store"}  # every file accounted for
    for name in ("_SUCCESS", ".DS_Store"):
        t = tallies[name]
        assert (t.read, t.kept, t.quarantined, t.unsupported) == (1, 0, 1, True)
    quarantine = pd.concat([b.quarantine for b in batches])
    assert sorted(quarantine["reason"].str.split(":").str[:2].str.join(":")) == [
        "skipped_file: .DS_Store",
        "skipped_file: _SUCCESS",
    ]
    assert (quarantine["source_row"] == 0).all()
    check_accepted(tallies, quarantine["reason"])  # listed files are not failed sources


def test_a_folder_of_only_marker_files_is_rejected(tmp_path):
    (tmp_path / "_SUCCESS").write_text("")
    with pytest.raises(InputRejected, match="only hidden or marker files: _SUCCESS"):
        ingest([tmp_path])


def test_a_rejected_run_says_its_first_reason_since_nothing_is_stored_to_look_up(tmp_path):
    (tmp_path / "dmy.csv").write_text(
        "id,text,created_at\n1,slow app 09121234567,18/11/2024 04:11\n"
    )
    batches = ingest([tmp_path])
    tallies: dict[str, FileTally] = {}
    for b in batches:
        tallies.setdefault(b.source_file, FileTally()).add(b)
    reasons = pd.concat([b.quarantine for b in batches])["reason"]
    with pytest.raises(InputRejected) as err:
        check_accepted(tallies, reasons)
    assert "first: bad_created_at: '18/11/2024 04:11'" in str(err.value)
    assert "set date_format: '%d/%m/%Y %H:%M'" in str(err.value)
    assert "cxtext quarantine" not in str(err.value) and "09121234567" not in str(err.value)
