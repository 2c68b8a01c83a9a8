"""Readers on ugly files: encodings, broken quoting, ragged rows, bad JSON, corrupt Parquet."""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cxtext.ingest.readers import discover_files, read_partitions, skip_reason
from cxtext.ingest.watermark import file_key

HEADER = "id,text,created_at\n"


def read_all(path, partition_rows=1000):
    parts = list(read_partitions(path, partition_rows))
    rows = pd.concat([p.rows for p in parts], ignore_index=True) if parts else pd.DataFrame()
    broken = [b for p in parts for b in p.broken]
    return parts, rows, broken


def test_csv_values_stay_text_and_lines_are_numbered(tmp_path):
    path = tmp_path / "tickets.csv"
    path.write_text(HEADER + "00123,hello,2024-01-01\n\n007,1e5,2024-01-02\n", encoding="utf-8")
    _, rows, broken = read_all(path)
    assert broken == []
    assert rows["id"].tolist() == ["00123", "007"]
    assert rows["text"].tolist() == ["hello", "1e5"]
    assert rows["source_row"].tolist() == [2, 4]  # line numbers; the blank line is skipped
    assert all(str(rows[c].dtype) == "string" for c in ("id", "text", "created_at"))


def test_header_names_are_normalized(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(codecs.BOM_UTF8 + b" ID ;Text;Created_At;Plan;plan\n1;a;2024-01-01;x;y\n")
    _, rows, _ = read_all(path)
    assert list(rows.columns) == ["id", "text", "created_at", "plan", "plan_2", "source_row"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1256"])
def test_persian_csv_in_each_encoding(tmp_path, encoding):
    text = "پيک خيلي دير رسيد، غذا سرد بود"  # Arabic yeh, as cp1256 exports write it
    path = tmp_path / "reviews.csv"
    path.write_bytes((HEADER + f'1,"{text}",2024-01-01\r\n2,عالي,2024-01-02\r\n').encode(encoding))
    parts, rows, broken = read_all(path)
    assert broken == []
    assert rows["text"].tolist() == [text, "عالي"]
    assert parts[0].encoding in (encoding, "utf-16")


def test_tsv_and_multiline_quoted_fields(tmp_path):
    path = tmp_path / "chat.tsv"
    path.write_text(
        'id\ttext\tcreated_at\n1\t"line one\nline ""two"", with\ttab"\t2024-01-01\n2\tok\t2024-01-02\n'
    )
    _, rows, broken = read_all(path)
    assert broken == []
    assert rows["text"].tolist() == ['line one\nline "two", with\ttab', "ok"]
    assert rows["source_row"].tolist() == [2, 4]


def test_broken_quotes_and_ragged_rows_are_quarantined_not_fatal(tmp_path):
    path = tmp_path / "tickets.csv"
    path.write_text(
        HEADER
        + "1,fine,2024-01-01\n"
        + '2,"never closed,2024-01-01\n'
        + "3,also fine,2024-01-01\n"
        + '4,"bad"quote,2024-01-01\n'
        + "5,too,many,fields,2024-01-01\n"
        + "6,too few\n"
        + '7,a 27" monitor,2024-01-01\n'  # a bare quote inside an unquoted field is kept
        + "8,trailing empties,2024-01-01,,\n"
    )
    _, rows, broken = read_all(path)
    assert rows["id"].tolist() == ["1", "3", "7", "8"]
    assert rows["text"].tolist()[2] == 'a 27" monitor'
    reasons = {b.source_row: b.reason for b in broken}
    assert set(reasons) == {3, 5, 6, 7}
    assert (
        reasons[3].startswith("broken_csv_quoting:")
        and "line 3" in reasons[3]
        and "tickets.csv" in reasons[3]
    )
    assert reasons[5].startswith("broken_csv_quoting:")
    assert reasons[6] == f"wrong_field_count: {path} line 6: 5 fields, header has 3"
    assert reasons[7].startswith("wrong_field_count:")
    assert broken[0].raw == {"line": '2,"never closed,2024-01-01\n'}


def test_unclosed_quote_at_end_of_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(HEADER + '1,"open\nstill open\n2,x,2024-01-01\n')
    _, rows, broken = read_all(path)
    assert [b.source_row for b in broken] == [2, 3]  # the opener, then the orphan line
    assert rows["id"].tolist() == ["2"]


def test_nul_bytes_in_csv_survive_reading(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes((HEADER + "1,bad\x00export,2024-01-01\n").encode())
    _, rows, broken = read_all(path)
    assert broken == [] and rows["text"].tolist() == ["bad\x00export"]


@pytest.mark.parametrize(
    "content", [b"", b"\n\n", HEADER.encode(), codecs.BOM_UTF8 + HEADER.encode()]
)
def test_empty_and_header_only_files_read_nothing(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    assert list(read_partitions(path, 10)) == []


def test_partitions_are_bounded(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(HEADER + "".join(f"{i},t{i},2024-01-01\n" for i in range(25)) + "x,broken\n")
    parts = list(read_partitions(path, 10))
    assert [p.read for p in parts] == [10, 10, 6]
    assert sum(len(p.broken) for p in parts) == 1


def test_jsonl_with_a_broken_line(tmp_path):
    path = tmp_path / "social.jsonl"
    lines = [
        json.dumps(
            {"id": 1, "text": "سلام 👋", "created_at": "2024-01-01", "score": 9.0, "tags": ["a"]}
        ),
        '{"id": 2, "text": "cut off',
        "[1, 2]",
        "",
        json.dumps({"ID": "3", "Text": {"nested": True}, "created_at": None}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parts, rows, broken = read_all(path)
    assert rows["id"].tolist() == ["1", "3"]
    assert rows["score"].tolist()[0] == "9.0"
    assert rows["tags"].tolist()[0] == '["a"]'
    assert rows["source_row"].tolist() == [1, 5]
    assert [b.source_row for b in broken] == [2, 3]
    assert broken[0].reason.startswith(f"broken_json: {path} line 2:")
    assert broken[1].reason.startswith("not_an_object:")
    kinds = parts[0].kinds
    assert kinds["text"].tolist() == [pd.NA, "object"]
    assert kinds["id"].tolist() == ["number", pd.NA]


def test_json_array_single_object_and_lines(tmp_path):
    arr = tmp_path / "a.json"
    arr.write_text(
        json.dumps([{"id": "1", "text": "x"}, 5, {"id": "2", "text": "y"}]), encoding="utf-16"
    )
    _, rows, broken = read_all(arr)
    assert rows["id"].tolist() == ["1", "2"] and rows["source_row"].tolist() == [1, 3]
    assert [b.source_row for b in broken] == [2]
    one = tmp_path / "b.json"
    one.write_text(json.dumps({"id": "1", "text": "x"}, indent=2))
    assert read_all(one)[1]["id"].tolist() == ["1"]
    lines = tmp_path / "c.json"
    lines.write_text('{"id": "1"}\n{"id": "2"}\n')
    assert read_all(lines)[1]["id"].tolist() == ["1", "2"]


def test_broken_json_array_is_one_unreadable_row(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('[{"id": "1"}, {"id": ')
    parts, rows, broken = read_all(path)
    assert len(rows) == 0 and len(broken) == 1
    assert broken[0].source_row == 0 and broken[0].reason.startswith(
        f"unreadable_file: {path}: broken JSON array"
    )


def test_parquet_typed_columns_become_text(tmp_path):
    path = tmp_path / "survey.parquet"
    table = pa.table(
        {
            "id": pa.array([1, 2, 3]),
            "text": pa.array(["a", None, "c"]),
            "created_at": pa.array(pd.to_datetime(["2024-01-01T10:00Z"] * 3)),
            "score": pa.array([9.5, None, 1.0]),
            "blob": pa.array([b"ok", b"\xff\xfe", None]),
        }
    )
    pq.write_table(table, path, row_group_size=2)
    parts, rows, broken = read_all(path, partition_rows=2)
    assert [p.read for p in parts] == [2, 1] and broken == []
    assert rows["id"].tolist() == ["1", "2", "3"]
    assert rows["text"].tolist() == ["a", pd.NA, "c"]
    assert pd.to_datetime(rows["created_at"], utc=True).iloc[0] == pd.Timestamp("2024-01-01T10:00Z")
    assert rows["source_row"].tolist() == [1, 2, 3]
    assert parts[0].kinds["blob"].tolist() == [pd.NA, "binary"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("corrupt.parquet", b"PAR1 this is not really parquet", "unreadable_file:"),
        ("junk.csv", bytes(range(256)) * 40, "unreadable_file:"),
        ("book.csv", b"PK\x03\x04" + bytes(200), "xlsx"),
        ("notes.txt", b"call the vendor back\nmonday\n", "unsupported_file:"),
        ("notes.docx", b"id,text\n1,x\n", "unsupported_file:"),
        ("backup.tar.gz", b"\x1f\x8b" + bytes(100), "unsupported_file:"),
        ("fake.csv.gz", b"id,text,created_at\n", "unreadable_file:"),
    ],
)
def test_unreadable_files_become_one_broken_row(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    parts = list(read_partitions(path, 10))
    assert len(parts) == 1 and parts[0].read == 1
    (row,) = parts[0].broken
    assert row.source_row == 0 and expected in row.reason and str(path) in row.reason


def test_truncated_parquet_is_unreadable(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": ["1"] * 100, "text": ["x"] * 100}), path)
    path.write_bytes(path.read_bytes()[:-20])
    (part,) = read_partitions(path, 10)
    assert part.broken[0].reason.startswith("unreadable_file:")


def test_discover_files(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.csv", "a.jsonl", "sub/c.parquet", "_SUCCESS", ".hidden.csv", "readme.md"):
        (tmp_path / name).write_text("")
    (tmp_path / "_temporary" / "0").mkdir(parents=True)
    (tmp_path / "_temporary" / "0" / "part-0.csv").write_text("")
    found, skipped = discover_files([tmp_path])
    assert found == [
        str(tmp_path / "a.jsonl"),
        str(tmp_path / "b.csv"),
        str(tmp_path / "readme.md"),  # read as unsupported_file, so it is listed, not ignored
        str(tmp_path / "sub/c.parquet"),
    ]
    # hidden and marker names: not read, but returned (the topmost name once) to be listed
    assert skipped == [str(tmp_path / n) for n in (".hidden.csv", "_SUCCESS", "_temporary")]
    assert discover_files([tmp_path / "readme.md"]) == ([str(tmp_path / "readme.md")], [])
    assert discover_files([tmp_path / "_SUCCESS"]) == ([str(tmp_path / "_SUCCESS")], [])
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        discover_files([tmp_path / "nope.csv"])


@pytest.mark.parametrize(
    ("name", "content"),
    [("export 0912 345 6789.txt", b"hello"), ("ali@example.com.csv", b"\x00\x01\x02\x03" * 64)],
)
def test_log_lines_name_files_redacted(tmp_path, caplog, name, content):
    """A file named after a customer is logged as [PHONE]/[EMAIL], never by its raw name."""
    path = tmp_path / name
    path.write_bytes(content)
    with caplog.at_level("DEBUG", logger="cxtext"):
        list(read_partitions(path, partition_rows=10))
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert logged, "the reader said nothing about a file it could not read"
    assert "0912" not in logged and "ali@example.com" not in logged, logged


def test_links_fifos_and_loops_are_listed_never_silently_missed(tmp_path):
    (tmp_path / "real.csv").write_text("id\n1\n")
    (tmp_path / "a_link.csv").symlink_to(tmp_path / "real.csv")  # sorts first, yet real wins
    (tmp_path / "dangling.csv").symlink_to(tmp_path / "gone.csv")
    (tmp_path / "loop").symlink_to(tmp_path)
    (tmp_path / "ring_a.csv").symlink_to(tmp_path / "ring_b.csv")  # links leading to each other
    (tmp_path / "ring_b.csv").symlink_to(tmp_path / "ring_a.csv")
    os.mkfifo(tmp_path / "pipe.csv")  # reading it would hang the night
    shared = tmp_path.parent / f"{tmp_path.name}_shared"
    shared.mkdir()
    (shared / "s.csv").write_text("id\n2\n")
    (tmp_path / "latest").symlink_to(shared)  # a linked export folder is followed
    found, skipped = discover_files([tmp_path])
    assert found == [str(tmp_path / "latest/s.csv"), str(tmp_path / "real.csv")]
    reasons = {Path(s).name: skip_reason(s) for s in skipped}
    assert set(reasons) == {
        "a_link.csv",
        "dangling.csv",
        "loop",
        "pipe.csv",
        "ring_a.csv",
        "ring_b.csv",
    }
    assert reasons["dangling.csv"].startswith("broken symbolic link")
    assert reasons["ring_a.csv"].startswith("symbolic link loop")
    assert reasons["pipe.csv"].startswith("not a regular file")
    assert reasons["loop"].startswith("the same file or folder")
    assert reasons["a_link.csv"].startswith("the same file or folder")


def test_a_file_name_that_is_not_utf8_gets_a_storable_watermark_key(tmp_path):
    name = str(tmp_path / "\udcffexport.csv")  # the byte 0xff, as Python holds it
    key = file_key(name)
    key.encode("utf-8")  # storable: no lone surrogate left
    assert key.split("#")[0].endswith("\\xffexport.csv") and key != file_key(name + "x")


def test_a_file_the_run_may_not_read_is_one_unreadable_row_and_the_rest_is_read(
    tmp_path, monkeypatch
):
    """chmod 000 cannot stop root (the test's user), so the refusal is the operating system's
    error raised where the file is opened."""
    import cxtext.ingest.readers as readers

    (tmp_path / "locked.csv").write_text("id,text,created_at\n1,a,2024-05-01\n")
    (tmp_path / "open.csv").write_text("id,text,created_at\n2,b,2024-05-01\n")
    real = readers._text_file_encoding

    def refuse(name, *args, **kwargs):
        if name.endswith("locked.csv"):
            raise PermissionError(13, "Permission denied", name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(readers, "_text_file_encoding", refuse)
    locked = list(read_partitions(tmp_path / "locked.csv", 10))
    assert [p.read for p in locked] == [1]
    (reason,) = [e["reason"] for e in locked[0].quarantine_entries("locked")]
    assert reason.startswith("unreadable_file:") and "Permission denied" in reason
    assert "fix the file's permissions" in reason
    assert len(list(read_partitions(tmp_path / "open.csv", 10))[0].rows) == 1


def test_json_kinds_cost_one_column_each_not_one_series_per_value(tmp_path, monkeypatch):
    # a CRM's webhook: every line has a number (score) and an object (customer); building a
    # whole Series for each noted value made a 20k-line partition take 19 CPU-s, not 0.6
    lines = [
        json.dumps({"id": f"W{i}", "text": "slow", "score": i % 5, "customer": {"tier": "g"}})
        for i in range(300)
    ]
    path = tmp_path / "hook.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    built = []
    real = pd.Series.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        real(self, *args, **kwargs)

    monkeypatch.setattr(pd.Series, "__init__", counting)
    parts = list(read_partitions(path, 1000))
    monkeypatch.undo()
    assert len(built) < 100  # was 600 and more: two per row
    kinds = parts[0].kinds
    assert kinds["score"].tolist() == ["number"] * 300
    assert kinds["customer"].tolist() == ["object"] * 300
