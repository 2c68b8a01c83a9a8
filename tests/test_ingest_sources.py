"""Your own exports: column maps (--columns, sources:), .xlsx workbooks and Jalali dates."""

from __future__ import annotations

import datetime

import openpyxl
import pandas as pd
import pytest

from cxtext.errors import InputRejected, SettingsError
from cxtext.ingest.feedback import FileTally, check_accepted, iter_feedback
from cxtext.ingest.readers import read_partitions
from cxtext.ingest.sources import (
    SourceSpec,
    missing_column_hint,
    parse_column_map,
    sources_from_settings,
)
from cxtext.ingest.validate import parse_timestamps

SETTINGS = {
    "partition_rows": 50,
    "max_text_chars": 20000,
    "min_text_chars": 1,
    "default_channel": "survey",
    "pseudonym_key": b"k" * 32,
}


def ingest(paths, **kw):
    batches = list(iter_feedback(paths, **(SETTINGS | kw)))
    records = pd.concat([b.records for b in batches], ignore_index=True)
    quarantine = pd.concat([b.quarantine for b in batches], ignore_index=True)
    tallies: dict[str, FileTally] = {}
    for b in batches:
        tallies.setdefault(b.source_file, FileTally()).add(b)
    return records, quarantine, tallies


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1403/05/12", "2024-08-02T00:00Z"),
        ("۱۴۰۳/۰۵/۱۲", "2024-08-02T00:00Z"),
        ("١٤٠٣-٠٥-١٢", "2024-08-02T00:00Z"),
        ("1403-5-12 14:30", "2024-08-02T14:30Z"),
        ("1403/05/12 14:30:15", "2024-08-02T14:30:15Z"),
        ("1403/12/30", "2025-03-20T00:00Z"),  # 1403 is a leap year
        ("1402/12/30", None),  # 1402 is not
        ("1403/13/01", None),
        ("1403/05/12 25:00", None),
    ],
)
def test_jalali_dates_become_utc(value, expected):
    got = parse_timestamps(pd.Series([value])).iloc[0]
    assert (pd.isna(got) and expected is None) or got == pd.Timestamp(expected)


def test_naive_times_are_read_in_the_source_time_zone():
    got = parse_timestamps(
        pd.Series(["1403/05/12 14:30", "2024-05-01 10:00", "2024-05-01T10:00Z"]),
        timezone="Asia/Tehran",
    )
    assert got.tolist() == [
        pd.Timestamp("2024-08-02T11:00Z"),
        pd.Timestamp("2024-05-01T06:30Z"),
        pd.Timestamp("2024-05-01T10:00Z"),  # an explicit offset wins over the zone
    ]


def test_a_date_format_reads_day_first_dates():
    got = parse_timestamps(pd.Series(["05/01/2024 10:30", "2024-05-01"]), "%d/%m/%Y %H:%M")
    assert got.iloc[0] == pd.Timestamp("2024-01-05T10:30Z") and pd.isna(got.iloc[1])


def test_column_map_parsing_and_errors():
    assert parse_column_map("id=ticket_id,text=comment") == {"id": "ticket_id", "text": "comment"}
    with pytest.raises(SettingsError, match="did you mean 'text'"):
        parse_column_map("txt=comment")
    with pytest.raises(SettingsError, match="NAME=COLUMN"):
        parse_column_map("text")


def test_missing_column_hint_names_the_found_columns_and_the_likely_match():
    assert missing_column_hint("text", ["ticket_id", "comment", "date"]) == (
        "no 'text' column; found: ticket_id, comment, date — did you mean --columns text=comment?"
    )


def test_a_misnamed_export_is_rejected_with_the_fix_then_read_with_columns(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("ticket_id,comment,date\nT1,the app is slow,1403/05/12\nT2,ok,1403/05/13\n")
    _, quarantine, tallies = ingest([path])
    with pytest.raises(InputRejected) as err:
        check_accepted(tallies, quarantine["reason"])
    assert "did you mean --columns id=ticket_id,text=comment,created_at=date?" in str(err.value)
    columns = parse_column_map("id=ticket_id,text=comment,created_at=date")
    records, quarantine, _ = ingest([path], columns=columns)
    assert records["id"].tolist() == ["T1", "T2"] and quarantine.empty
    assert records["created_at"].iloc[0] == pd.Timestamp("2024-08-02T00:00Z")


def test_sources_from_settings(tmp_path):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "a.csv").write_text("key,body,when\n1,hello,2024-05-01 10:00\n")
    specs = sources_from_settings(
        [
            {
                "path": "exports/*.csv",
                "columns": {"id": "key", "text": "body", "created_at": "when"},
                "channel": "chat",
                "timezone": "Asia/Tehran",
            }
        ],
        base=tmp_path,
    )
    records, quarantine, _ = ingest(specs)
    assert quarantine.empty and records["channel"].tolist() == ["chat"]
    assert records["created_at"].iloc[0] == pd.Timestamp("2024-05-01T06:30Z")
    for bad, match in [
        ({"path": "x", "colums": {}}, "did you mean 'columns'"),
        ({"path": "x", "channel": "fax"}, "not one of"),
        ({"path": "x", "timezone": "Mars/Base"}, "IANA"),
        ({"columns": {}}, "needs at least a path"),
    ]:
        with pytest.raises(SettingsError, match=match):
            sources_from_settings([bad])


def test_a_glob_matching_nothing_is_rejected(tmp_path):
    with pytest.raises(InputRejected, match="no feedback file found"):
        ingest([SourceSpec(str(tmp_path / "*.csv"))])


@pytest.fixture
def workbook(tmp_path):
    path = tmp_path / "crm.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Tickets"
    sheet.append(["Ticket ID", "Comment", "Date", "Plan"])
    sheet.append([101, "اپ کرش میکنه", "1403/05/12 14:30", "gold"])
    sheet.append([102, "refund still missing", datetime.datetime(2024, 5, 1, 10, 0), None])
    sheet.append([None, None, None, None])
    sheet.append([103, 12345, "۱۴۰۳/۰۵/۱۳", "basic"])
    survey = book.create_sheet("Survey")
    survey.append(["ticket id", "comment", "date"])
    survey.append(["S1", "good", "1403-05-14"])
    book.save(path)
    return path


def test_xlsx_reads_every_sheet_with_columns(workbook):
    spec = SourceSpec(
        str(workbook),
        columns={"id": "ticket id", "text": "comment", "created_at": "date"},
        timezone="Asia/Tehran",
    )
    records, quarantine, tallies = ingest([spec])
    assert sorted(tallies) == [f"{workbook}[Survey]", f"{workbook}[Tickets]"]
    assert all(t.balanced for t in tallies.values())
    assert records["id"].tolist() == ["101", "102", "S1"]
    assert records["created_at"].tolist() == [
        pd.Timestamp("2024-08-02T11:00Z"),
        pd.Timestamp("2024-05-01T06:30Z"),
        pd.Timestamp("2024-08-03T20:30Z"),
    ]
    assert records["source"].tolist() == ["crm", "crm", "crm"]
    assert quarantine["reason"].tolist() == ["not_text: text is a number, not a string"]
    assert quarantine["source_row"].tolist() == [5]  # Excel's own row number


def test_xlsx_one_sheet_and_damage(workbook, tmp_path):
    parts = list(read_partitions(workbook, 10, sheet="Survey"))
    assert [p.source_file for p in parts] == [str(workbook)] and parts[0].read == 1
    (part,) = read_partitions(workbook, 10, sheet="Nope")
    assert "no sheet 'Nope'" in part.broken[0].reason
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04" + bytes(100))
    (part,) = read_partitions(broken, 10)
    assert part.read == 1 and part.broken[0].reason.startswith("unreadable_file:")


def test_preflight_rejects_no_input_and_bad_columns_before_any_stage(tmp_path):
    from cxtext.config import load_settings
    from pipelines.preflight import plan_run

    warehouse = str(tmp_path / "out" / "cx.duckdb")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputRejected, match="no feedback file found"):
        plan_run(load_settings(), feedback=[str(tmp_path / "empty")], warehouse=warehouse)
    with pytest.raises(SettingsError, match="did you mean 'created_at'"):
        plan_run(load_settings(), feedback=["x.csv"], columns="created=date", warehouse=warehouse)
    with pytest.raises(SettingsError, match="--columns maps the columns of the --feedback files"):
        plan_run(load_settings(), columns="text=comment", warehouse=warehouse)
    settings_file = tmp_path / "cxtext.yaml"
    settings_file.write_text("sources:\n  - path: exports/*.xlsx\n    columns: {text: comment}\n")
    (tmp_path / "exports").mkdir()
    with pytest.raises(InputRejected, match="exports/\\*.xlsx"):
        plan_run(load_settings(settings_file), warehouse=warehouse, config=str(settings_file))
    (tmp_path / "exports" / "a.xlsx").write_bytes(b"")
    plan = plan_run(load_settings(settings_file), warehouse=warehouse, config=str(settings_file))
    assert plan.feedback == [SourceSpec(str(tmp_path / "exports/*.xlsx"), {"text": "comment"})]
    assert plan.customers is None  # a configured source replaces the shipped sample
