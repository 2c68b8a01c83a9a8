"""Validation of raw rows: reasons for rejected rows, warnings for bad optional fields."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cxtext.ingest.validate import infer_channel, parse_number, parse_timestamps, validate_rows
from cxtext.schema import QUARANTINE, RECORD


def raw(**columns):
    n = len(next(iter(columns.values())))
    df = pd.DataFrame({k: pd.array(v, dtype="string") for k, v in columns.items()})
    df["source_row"] = pd.array(range(2, n + 2), dtype="Int64")
    return df


def run(rows, kinds=None, **kw):
    args = {
        "max_text_chars": 50,
        "min_text_chars": 1,
        "default_channel": "survey",
        "pseudonym_key": b"k" * 32,
    } | kw
    return validate_rows(
        rows, source_file="in/tickets.csv", default_source="tickets", kinds=kinds, **args
    )


def test_good_rows_become_records():
    rows = raw(
        id=[" 1 ", "2"],
        text=["<p>Refund&nbsp;missing</p> 😡", "پیک دیر رسید - the app crashed"],
        created_at=["2024-05-01T10:00:00+03:30", "2024-05-01 08:00"],
        customer_id=["c1", " "],
        Plan=["gold", ""],
    )
    records, quarantine = run(rows)
    assert list(records.columns) == RECORD.names and list(quarantine.columns) == QUARANTINE.names
    assert len(quarantine) == 0
    assert records["id"].tolist() == ["1", "2"]
    assert (
        records["text"].tolist() == rows["text"].tolist()
    )  # HTML and emoji untouched: normalize cleans
    assert records["created_at"].tolist() == [
        pd.Timestamp("2024-05-01T06:30Z"),
        pd.Timestamp("2024-05-01T08:00Z"),
    ]
    assert records["source"].tolist() == ["tickets", "tickets"]
    assert records["channel"].tolist() == ["ticket", "ticket"]
    assert records["customer_id"].tolist() == ["c1", pd.NA]
    assert [json.loads(m) for m in records["metadata"]] == [{"plan": "gold"}, {}]
    assert records["source_file"].tolist() == ["in/tickets.csv"] * 2
    assert records["source_row"].tolist() == [2, 3]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"id": "", "text": "x", "created_at": "2024-01-01"}, "missing_id"),
        ({"id": None, "text": "x", "created_at": "2024-01-01"}, "missing_id"),
        ({"id": "1", "text": None, "created_at": "2024-01-01"}, "missing_text"),
        ({"id": "1", "text": "", "created_at": "2024-01-01"}, "empty_text"),
        ({"id": "1", "text": " \t\n\u200c\u200b ", "created_at": "2024-01-01"}, "empty_text: whitespace only"),
        ({"id": "1", "text": "x" * 51, "created_at": "2024-01-01"}, "text_too_long: 51 chars > 50"),
        ({"id": "1", "text": "\x01\x02\x03binary\x04\x05", "created_at": "2024-01-01"}, "not_text: 45% control characters (binary data?)"),
        ({"id": "1", "text": "x", "created_at": ""}, "missing_created_at"),
        ({"id": "1", "text": "x", "created_at": "05/01/2024"}, "bad_created_at: '05/01/2024' is not ISO 8601 or Jalali; day/month/year or month/day/year: set date_format: '%d/%m/%Y' or '%m/%d/%Y' on this source (`sources:` in your settings, docs/ingest.md)"),
        ({"id": "1", "text": "x", "created_at": "18/11/2024 04:11"}, "bad_created_at: '18/11/2024 04:11' is not ISO 8601 or Jalali; day/month/year: set date_format: '%d/%m/%Y %H:%M'"),
        ({"id": "1", "text": "x", "created_at": "last week"}, "bad_created_at: 'last week' is not an ISO 8601 or Jalali timestamp (e.g. 2024-05-01T14:30:00+03:30 or 1403/05/12)"),
        ({"id": "1", "text": "x", "created_at": "2024-13-45"}, "bad_created_at: '2024-13-45' is not a calendar date"),
        ({"id": "1", "text": "x", "created_at": "2024/13/05"}, "bad_created_at: '2024/13/05' is not an ISO"),
        ({"id": "1", "text": "x", "created_at": "۱۴۰۲-۱۳-۱۱"}, "bad_created_at: '۱۴۰۲-۱۳-۱۱' is not a valid Jalali date"),
        ({"id": "1", "text": "x", "created_at": "0024-01-05"}, "bad_created_at: '0024-01-05' year outside 1900-2200"),
        ({"id": "", "text": "", "created_at": "never"}, "missing_id; empty_text; bad_created_at: 'never'"),
    ],
)  # fmt: skip
def test_rejections_have_precise_reasons(row, reason):
    records, quarantine = run(raw(**{k: [v] for k, v in row.items()}))
    assert len(records) == 0 and len(quarantine) == 1
    assert quarantine["reason"].iloc[0].startswith(reason)
    assert quarantine["source_row"].iloc[0] == 2
    assert quarantine["source"].iloc[0] == "tickets"


def test_missing_columns_name_the_columns_present():
    _, quarantine = run(raw(id=["1"], body=["x"], created_at=["2024-01-01"]))
    assert (
        quarantine["reason"].iloc[0]
        == "missing_text: no 'text' column; found: id, body, created_at"
        " — did you mean --columns text=body?"
    )


def test_text_too_short():
    _, quarantine = run(raw(id=["1"], text=[" ok "], created_at=["2024-01-01"]), min_text_chars=3)
    assert quarantine["reason"].tolist() == ["text_too_short: 2 chars < 3"]


def test_non_string_text_from_typed_formats():
    rows = raw(id=["1", "2"], text=["5", "hello"], created_at=["2024-01-01"] * 2)
    kinds = {"text": pd.Series(["number", pd.NA], dtype="string")}
    records, quarantine = run(rows, kinds=kinds)
    assert records["id"].tolist() == ["2"]
    assert quarantine["reason"].tolist() == ["not_text: text is a number, not a string"]


def test_quarantine_raw_is_redacted_and_cut():
    long = "call me on 0912 345 6789 " + "x" * 5000
    _, quarantine = run(raw(id=["1"], text=[long], created_at=["2024-01-01"]))
    raw_json = json.loads(quarantine["raw_redacted"].iloc[0])
    assert raw_json["text"].startswith("call me on [PHONE] xxx")
    assert "0912" not in quarantine["raw_redacted"].iloc[0]
    assert raw_json["text"].endswith("…[truncated; 5025 chars in all]")
    assert quarantine["reason"].iloc[0] == "text_too_long: 5025 chars > 50"


def test_dates_with_and_without_zone_are_utc():
    given = [
        "2024-03-20T23:30:00",
        "2024-03-20T23:30:00Z",
        "2024-03-21T03:00:00+03:30",
        "۲۰۲۴-۰۳-۲۰",
        "2024-03-20T23:30:00.123456-05:00",
    ]
    got = parse_timestamps(pd.Series(given, dtype="string"))
    assert str(got.dtype) == "datetime64[us, UTC]"
    assert got.tolist()[:4] == [pd.Timestamp("2024-03-20T23:30Z")] * 3 + [
        pd.Timestamp("2024-03-20T00:00Z")
    ]
    assert got.iloc[4] == pd.Timestamp("2024-03-21T04:30:00.123456Z")


@pytest.mark.parametrize(
    ("score", "score_type", "want", "want_type", "warning"),
    [
        ("9", "NPS", 9.0, "nps", None),
        ("۴", "csat", 4.0, "csat", None),
        ("11", "nps", None, None, "score 11 outside nps 0-10"),
        ("0", "csat", None, None, "score 0 outside csat 1-5"),
        ("8", "ces", None, None, "score 8 outside ces 1-7"),
        ("great", "nps", None, None, "score 'great' is not a number"),
        ("nan", "nps", None, None, "score 'nan' is not a number"),
        ("7", "", 7.0, None, "score 7 has no score_type (nps, csat, ces); range not checked"),
        ("3", "stars", 3.0, None, "score_type 'stars' is not one of nps, csat, ces"),
        ("", "nps", None, None, None),
    ],
)
def test_bad_optional_score_keeps_the_row(score, score_type, want, want_type, warning):
    rows = raw(
        id=["1"], text=["x"], created_at=["2024-01-01"], score=[score], score_type=[score_type]
    )
    records, quarantine = run(rows)
    assert len(records) == 1 and len(quarantine) == 0
    got = records["score"].iloc[0]
    assert (pd.isna(got) and want is None) or got == want
    assert (records["score_type"].iloc[0] if want_type else None) == want_type
    meta = json.loads(records["metadata"].iloc[0])
    assert meta.get("_warnings", []) == ([warning] if warning else [])


def test_channel_column_source_column_and_inference():
    rows = raw(
        id=["1", "2", "3", "4", "5"],
        text=["x"] * 5,
        created_at=["2024-01-01"] * 5,
        source=["", "app_reviews", "crm", "tweets", "chat_export"],
        channel=["Email", "", "", "phone", "Tickets"],
    )
    records, _ = run(rows)
    assert records["source"].tolist() == ["tickets", "app_reviews", "crm", "tweets", "chat_export"]
    assert records["channel"].tolist() == ["email", "review", "survey", "social", "ticket"]
    warnings = json.loads(records["metadata"].iloc[3])["_warnings"]
    assert warnings == [
        "channel 'phone' is not one of ticket, social, survey, review, chat, email; used 'social'"
    ]


def test_nul_and_replacement_characters_are_warned():
    rows = raw(id=["1"], text=["bad\x00 export \ufffd"], created_at=["2024-01-01"], note=["a\x00b"])
    records, _ = run(rows)
    assert records["text"].iloc[0] == "bad export \ufffd"
    meta = json.loads(records["metadata"].iloc[0])
    assert meta["note"] == "ab"
    assert meta["_warnings"] == [
        "removed 1 NUL character(s) from text",
        "text has undecodable bytes, shown as U+FFFD (check the file's encoding)",
    ]


def test_helpers():
    assert infer_channel("Support_Tickets_2024") == "ticket"
    assert infer_channel("misc") is None
    assert (
        parse_number("1,234.5") == 1234.5
        and parse_number("1,2") is None
        and parse_number("inf") is None
    )


def test_empty_input():
    records, quarantine = run(raw(id=[], text=[], created_at=[]))
    assert records.empty and quarantine.empty and list(records.columns) == RECORD.names


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1714550400", "2024-05-01T08:00Z"),  # Unix seconds
        ("1714550400123", "2024-05-01T08:00:00.123Z"),  # milliseconds
        ("1714550400.5", "2024-05-01T08:00:00.5Z"),
        ("Wed, 01 May 2024 10:00:00 +0330", "2024-05-01T06:30Z"),  # RFC 2822
        ("1 May 2024 10:00", "2024-05-01T06:30Z"),  # no zone: the source's (Asia/Tehran)
        ("2024/5/1", "2024-04-30T20:30Z"),  # year first: only one reading
        ("2024/05/01 14:30", "2024-05-01T11:00Z"),
        ("۲۰۲۴/۰۵/۰۱", "2024-04-30T20:30Z"),
        ("2024/13/01", None),
        ("2024/02/30", None),
        ("Wed, 31 Feb 2024 10:00:00 +0000", None),
        ("171455040", None),  # 9 digits: not a time
    ],
)
def test_other_unambiguous_layouts_are_read(value, expected):
    got = parse_timestamps(pd.Series([value]), timezone="Asia/Tehran").iloc[0]
    assert (pd.isna(got) and expected is None) or got == pd.Timestamp(expected)


def test_a_date_format_is_not_second_guessed_by_the_other_layouts():
    got = parse_timestamps(pd.Series(["2024/05/01", "1714550400"]), "%Y/%d/%m")
    assert got.iloc[0] == pd.Timestamp("2024-01-05T00:00Z") and pd.isna(got.iloc[1])
