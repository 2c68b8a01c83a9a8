"""Exports as teams really send them (session 11's battery): each case is bytes a tool writes.

An API's JSON page, a JSON line naming a key twice, a report workbook with two merged
title rows, script-written formulas and empty sheets, a zip of CSVs, old Mac Farsi text,
amounts whose decimal mark only the rest of the file tells, ``--columns`` beside a
loosely written ``Created At``, and side files that lose rows. Every case checks what is
kept, the reason codes, ``read = kept + quarantined + duplicates`` per file, and that no
planted personal data reaches the stored rows, quarantine or the log.
"""

from __future__ import annotations

import datetime
import gzip
import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hostile_inputs import KEY, PLANTED, leaks, read_batches, row, run_stages, squash

from cxtext.ingest import validate
from cxtext.ingest.encoding import decode_report, detect_encoding
from cxtext.ingest.feedback import iter_feedback
from cxtext.ingest.tables import read_customers, read_transactions, side_quarantine_notes
from cxtext.ingest.validate import parse_timestamps
from cxtext.normalize.pii import redact_pii
from cxtext.value.amounts import parse_amounts

PHONE, EMAIL, CARD = (PLANTED[k][0] for k in ("phone_persian", "email", "card_groups"))


def _write(folder: Path, files: dict[str, bytes | str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data.encode() if isinstance(data, str) else data)
    return folder


def _accounts(outcome) -> dict[str, tuple[int, int, int, int]]:
    """file name -> (read, kept, quarantined, duplicates); asserts each balances."""
    out = {}
    for name, t in outcome.tallies.items():
        assert t.balanced, name
        out[Path(name).name] = (t.read, t.kept, t.quarantined, t.duplicates)
    return out


def _codes(outcome) -> list[str]:
    return sorted(outcome.quarantine["reason"].str.split(":").str[0])


# --- JSON: an API's page, a key given twice -------------------------------------------------


def test_an_api_page_is_read_as_its_records_not_one_row(tmp_path, caplog):
    # {"count", "next", "results": [...]}: before, one row "missing_id", and the run was
    # rejected with "did you mean --columns text=next?"
    page = {
        "count": 3,
        "next": "https://api.example.com/feedback?page=2",
        "results": [
            row("A1", f"اپ کرش می‌کند {PHONE}", user={"email": EMAIL}),
            row("A2", "transfer failed"),
            row("A3", "خیلی کند است"),
        ],
    }
    nested = {"data": {"items": [row("N1", "login fails")], "total": 1}, "meta": {"v": 2}}
    record = row("R1", "one record with a list inside", tags=[{"k": "a"}, {"k": "b"}])
    folder = _write(
        tmp_path / "in",
        {
            "page.json": json.dumps(page, ensure_ascii=False),
            "nested.json": json.dumps(nested),
            "record.json": json.dumps(record),
        },
    )
    out = run_stages(folder, caplog)
    assert sorted(out.records["id"]) == ["A1", "A2", "A3", "N1", "R1"]
    assert _accounts(out)["page.json"] == (3, 3, 0, 0)
    assert "holding 3 objects under 'results'" in out.logs
    assert "under 'data.items'" in out.logs
    assert not leaks(out.records, out.quarantine, out.logs)


def test_two_lists_of_objects_in_one_object_are_not_guessed_between(tmp_path, caplog):
    both = {"open": [row("O1", "a")], "closed": [row("C1", "b")]}
    out = run_stages(_write(tmp_path / "in", {"two.json": json.dumps(both)}), caplog)
    assert _codes(out) == ["missing_id"]  # one object, said as such: never half the data


def test_a_json_line_naming_a_key_twice_with_two_values_is_quarantined(tmp_path, caplog):
    # JSON leaves a repeated key undefined; Python kept the last value silently, so a line
    # '{"id": "J2", ..., "text": "second"}' stored "second" and nobody knew of "first"
    lines = [
        json.dumps(row("J1", "fine")),
        '{"id": "J2", "text": "first text", "created_at": "2024-05-01", "text": "second"}',
        f'{{"id": "J3", "text": "x", "created_at": "2024-05-01", "id": "J9 {PHONE}"}}',
        '{"id": "J4", "text": "same twice", "created_at": "2024-05-01", "text": "same twice"}',
    ]
    files = {"a.jsonl": "\n".join(lines) + "\n", "b.json": "[" + ",".join(lines) + "]"}
    out = run_stages(_write(tmp_path / "in", files), caplog)
    assert sorted(out.records["id"]) == ["J1", "J1", "J4", "J4"]
    assert _codes(out) == ["duplicate_key"] * 4
    reasons = " ".join(out.quarantine["reason"])
    assert "a.jsonl line 2: key 'text' given twice" in reasons
    assert "b.json element 3: key 'id' given twice" in reasons
    assert "second" in " ".join(out.quarantine["raw_redacted"])  # both values kept to decide
    assert not leaks(out.records, out.quarantine, out.logs)


def test_a_key_repeated_inside_a_nested_object_is_quarantined_too(tmp_path, caplog):
    # a CRM's webhook: the customer object written by two serializers, its tier twice; the
    # nested value is stored (metadata) with one of the two, so which is meant is unknown
    lines = [
        '{"id": "N1", "text": "ok", "created_at": "2024-05-01", "customer": {"tier": "gold"}}',
        '{"id": "N2", "text": "slow", "created_at": "2024-05-01",'
        ' "customer": {"tier": "gold", "vip": true, "tier": "bronze"}}',
        '{"id": "N3", "text": "late", "created_at": "2024-05-01",'
        f' "history": [{{"ch": "app", "by": "{PHONE}", "ch": "web"}}]}}',
        '{"id": "N4", "text": "same", "created_at": "2024-05-01",'
        ' "customer": {"tier": "gold", "tier": "gold"}}',
    ]
    out = run_stages(_write(tmp_path / "in", {"hook.jsonl": "\n".join(lines) + "\n"}), caplog)
    assert sorted(out.records["id"]) == ["N1", "N4"]
    assert _codes(out) == ["duplicate_key"] * 2
    reasons = " ".join(out.quarantine["reason"])
    assert "hook.jsonl line 2: key 'tier' inside 'customer' given twice" in reasons
    assert "hook.jsonl line 3: key 'ch' inside 'history' given twice" in reasons
    assert "bronze" in " ".join(out.quarantine["raw_redacted"])  # both values kept to decide
    assert not leaks(out.records, out.quarantine, out.logs)


_KEYS = st.sampled_from(["id", "text", "created_at", "channel", "note"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=_KEYS, first=st.text(max_size=8), second=st.text(max_size=8))
def test_any_repeated_key_is_kept_only_when_both_values_agree(tmp_path, key, first, second):
    obj = {"id": "K1", "text": "t", "created_at": "2024-05-01", "note": "n"}
    obj.pop(key, None)
    body = json.dumps(obj)[:-1]
    line = (
        f"{body}, {json.dumps(key)}: {json.dumps(first)}, {json.dumps(key)}: {json.dumps(second)}}}"
    )
    path = tmp_path / "p.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    batches = read_batches(path, not_after=pd.Timestamp("2030-01-01", tz="UTC"))
    quarantine = pd.concat([b.quarantine for b in batches])
    duplicate_key = quarantine["reason"].str.startswith("duplicate_key").sum()
    assert duplicate_key == (first != second)


# --- workbooks: report titles, formulas without values, empty sheets ----------------------


def _report_workbook() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Tickets"
    sheet["A1"] = "گزارش تیکت‌ها - مهر ۱۴۰۳"
    sheet.merge_cells("A1:E1")
    sheet["A2"] = "Exported by CRM, 2024-10-01"
    sheet.merge_cells("A2:E2")
    sheet.append(["Ticket ID", "Comment", "Created At", "Score", "Phone"])
    sheet.append(["T1", "app is slow", "2024-05-01", "=MIN(10,7)", PHONE])
    sheet.append(["T2", '=CONCATENATE("late ","card")', "2024-05-02", 9, None])
    book.create_sheet("Empty")
    book.create_sheet("Notes").append(["owner", EMAIL])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_report_workbook_with_stacked_titles_formulas_and_empty_sheets(tmp_path, caplog):
    folder = _write(tmp_path / "in", {"crm.xlsx": _report_workbook()})
    caplog.clear()
    batches = list(
        iter_feedback(
            [folder],
            partition_rows=10,
            max_text_chars=20000,
            min_text_chars=1,
            default_channel="ticket",
            columns={"id": "Ticket ID", "text": "Comment"},  # Created At matched loosely
            pseudonym_key=KEY,
        )
    )
    kept = pd.concat([b.records for b in batches])
    reasons = pd.concat([b.quarantine for b in batches])["reason"].tolist()
    # two one-cell merged titles above the header: before, the first was taken as the header
    assert kept["id"].tolist() == ["T1"]
    assert [r.split(":")[0] for r in reasons] == ["missing_text"]  # T2's text is a formula
    assert sorted({b.source_file.split("[")[-1] for b in batches}) == [
        "Empty]",
        "Notes]",
        "Tickets]",
    ]
    logs = caplog.text
    assert "row(s) 1, 2 above the header skipped as a title" in logs
    assert "crm.xlsx[Tickets]: 2 formula cell(s) have no saved value" in logs
    assert not leaks(kept, logs)


def test_a_workbook_saved_by_a_spreadsheet_has_no_formula_warning(tmp_path, caplog):
    # Excel and LibreOffice write the value beside the formula: <f>MIN(10,7)</f><v>7</v>
    book = _report_workbook()
    with zipfile.ZipFile(io.BytesIO(book)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b"<v />", b"<v>7</v>").replace(b"<v></v>", b"<v>7</v>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    outcome = run_stages(_write(tmp_path / "in", {"saved.xlsx": out.getvalue()}), caplog)
    assert "formula cell" not in outcome.logs


# --- archives, old Mac text ------------------------------------------------------------


def test_a_zip_of_exports_is_listed_with_its_members_and_the_fix(tmp_path, caplog):
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("weekly/tickets.csv", "id,text,created_at\n1,a,2024-05-01\n")
        z.writestr(f"weekly/{PHONE}.csv", "id,text,created_at\n2,b,2024-05-01\n")
    folder = _write(tmp_path / "in", {"export.zip": data.getvalue(), "broken.zip": b"PK\x03\x04xx"})
    out = run_stages(folder, caplog)
    reasons = sorted(out.quarantine["reason"])
    assert "broken.zip: a .zip that cannot be opened" in reasons[0]
    assert (
        "export.zip: a zip archive (2 file(s): weekly/tickets.csv, weekly/[PHONE].csv)"
        in reasons[1]
    )
    assert "unzip it" in reasons[1]
    assert _accounts(out)["export.zip"] == (1, 0, 1, 0)
    assert not leaks(out.quarantine, out.logs)


# Real Persian feedback as a Persian Windows/Mac keyboard leaves it (Arabic yeh and kaf:
# neither old code page has the Persian letters), with ZWNJ, digits and punctuation.
MAC_TEXTS = [
    "سلام ۵ روزه منتظر بازگشت وجه هستم، خبري نيست",
    "بستن حساب چطوري انجام ميشه؟ سپاس",
    "درود لودينگ تموم نميشه",
    "پشتيباني خيلي بد جواب داد، ديگه خريد نمي‌كنم",
    "كارت به كارت انجام نشد ولي پولش كم شد!!",
]


def test_a_mac_farsi_export_is_read_as_mac_farsi(tmp_path, caplog):
    # Before: not cp1256 (its letters from 0xE0 and its spaces differ), so charset-normalizer
    # gave up, the header became "created\ufffdat" and every row was missing_created_at
    body = "id,text,created_at\n" + "".join(
        f"M{i},{t},2024-05-0{i + 1}\n" for i, t in enumerate(MAC_TEXTS)
    )
    body = body.replace("\u200c", " ")  # Mac Farsi has no ZWNJ
    folder = _write(tmp_path / "in", {"mac.csv": body.encode("mac_farsi")})
    out = run_stages(folder, caplog)
    assert _accounts(out)["mac.csv"] == (5, 5, 0, 0)
    assert out.records["id"].tolist() == [f"M{i}" for i in range(5)]
    assert detect_encoding(body.encode("mac_farsi")).encoding == "mac-farsi"


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(MAC_TEXTS), min_size=1, max_size=6))
def test_persian_text_in_either_old_code_reads_back_exactly(texts):
    text = "\n".join(texts) + "\n"
    windows = text.replace("۵", "5")  # Windows-1256 has no Persian digits
    assert decode_report(windows.encode("cp1256")).text == windows
    mac = text.replace("\u200c", " ")  # Mac Farsi has no ZWNJ
    assert decode_report(mac.encode("mac_farsi")).text == mac


@pytest.mark.parametrize(
    "western",
    [
        "id,text\n1,Le café était très mauvais, déçu à cause du délai\n2,Où est ma commande?\n",
        "id,text\n1,Überweisung fehlgeschlagen, Gebühr zu hoch\n2,Sehr schön\n",
    ],
)
def test_a_western_file_is_not_taken_for_an_arabic_code(western):
    # read as Mac Farsi these accented letters are Arabic ones, and Ü, ö are Arabic marks in
    # cp1256 (the German file was taken for cp1256 before): their Latin neighbours tell
    assert detect_encoding(western.encode("cp1252")).encoding == "cp1252"


# --- amounts: the file says which mark is the decimal one ----------------------------------


def test_an_amount_like_1_234_follows_the_files_decimal_mark(tmp_path):
    # before: 1.234 was read as 1.234 beside 1.234,50 (a thousand times too small)
    euro = (
        "customer_id;date;amount\nC1;2024-05-01;1.234,50\nC2;2024-05-02;1.234\nC3;2024-05-03;12,5\n"
    )
    dot = (
        'customer_id,date,amount\nC1,2024-05-01,12.50\nC2,2024-05-02,1.234\nC3,2024-05-03,"1,234"\n'
    )
    both = 'customer_id,clv\nC1,"1.234,50"\nC2,699.22\nC3,1.234\nC4,2.345.678\nC5,1.2e3\n'
    (tmp_path / "euro.csv").write_text(euro)
    (tmp_path / "dot.csv").write_text(dot)
    (tmp_path / "both.csv").write_text(both)
    euro_t, _ = read_transactions(tmp_path / "euro.csv", pseudonym_key=KEY)
    dot_t, _ = read_transactions(tmp_path / "dot.csv", pseudonym_key=KEY)
    both_c, rejected = read_customers(tmp_path / "both.csv", pseudonym_key=KEY)
    assert euro_t["amount"].tolist() == [1234.5, 1234.0, 12.5]
    assert dot_t["amount"].tolist() == [12.5, 1.234, 1234.0]
    assert dict(zip(both_c["customer_id"], both_c["clv"], strict=True)) == {
        "C1": 1234.5,
        "C2": 699.22,
        "C4": 2345678.0,
        "C5": 1200.0,
    }
    (reason,) = rejected["reason"]
    assert reason.startswith("bad_clv: '1.234' is ambiguous")
    assert "'1.234,50' and '699.22'" in reason


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1000, 999_999_999), st.integers(0, 99)), min_size=1, max_size=8),
    st.integers(1, 999),
    st.booleans(),
)
def test_a_file_written_one_way_reads_every_amount_as_written(amounts, thousands, european):
    # any file of grouped amounts with cents, plus one bare group such as 1.234 / 1,234
    def written(units: int, cents: int) -> str:
        grouped = f"{units:,}"
        return (
            (grouped.replace(",", ".") + f",{cents:02d}") if european else f"{grouped}.{cents:02d}"
        )

    bare = f"{thousands}{'.' if european else ','}234"
    values = [written(u, c) for u, c in amounts] + [bare]
    got, reasons = parse_amounts(pd.Series(values, dtype="string"))
    expected = [u + c / 100 for u, c in amounts] + [thousands * 1000 + 234]
    assert reasons.isna().all()
    assert got.tolist() == pytest.approx(expected)


def test_reading_side_files_without_a_bound_uses_the_shipped_one(tmp_path):
    # three benchmark callers passed no max_amount, and got no bound at all (infinity)
    (tmp_path / "c.csv").write_text("customer_id,clv\nC1,1e300\nC2,10\n")
    (tmp_path / "t.csv").write_text(
        'customer_id,date,amount\nC1,2024-05-01,"-2,000,000,000,000,000.00"\n'
    )
    customers, rejected = read_customers(tmp_path / "c.csv", pseudonym_key=KEY)
    transactions, refused = read_transactions(tmp_path / "t.csv", pseudonym_key=KEY)
    assert customers["customer_id"].tolist() == ["C2"] and transactions.empty
    assert "(ingest.max_amount)" in rejected["reason"].iloc[0]
    assert "(ingest.max_amount)" in refused["reason"].iloc[0]


def test_side_files_that_lose_rows_are_said_in_one_line_each(tmp_path):
    (tmp_path / f"crm {PHONE}.csv").write_text(f"customer_id,clv\nC1,10\nC1,11\nC2,-5\n{EMAIL},7\n")
    customers, quarantine = read_customers(tmp_path / f"crm {PHONE}.csv", pseudonym_key=KEY)
    notes = side_quarantine_notes({"customers": customers, "transactions": None}, quarantine)
    assert notes == [
        "customers file crm [PHONE].csv: 2 of 4 rows quarantined"
        " (duplicate_customer_id 1, bad_clv 1): `cxtext quarantine` lists them"
    ]
    assert not leaks(notes)


def test_two_csv_exports_concatenated_do_not_make_their_second_header_a_row(tmp_path, caplog):
    # `cat may.csv june.csv > all.csv`: the second header (with its BOM) was quarantined as
    # "bad_created_at: 'created_at' is not an ISO 8601 … timestamp"
    may = "\ufeffid,text,Created At\r\n1,slow app,2024-05-01\r\n"
    june = "\ufeffid,text,Created At\r\n2,کند است,2024-06-01\r\n"
    out = run_stages(_write(tmp_path / "in", {"all.csv": (may + june).encode()}), caplog)
    assert out.records["id"].tolist() == ["1", "2"] and out.quarantine.empty
    assert _accounts(out)["all.csv"] == (2, 2, 0, 0)
    assert "all.csv: the header is repeated at line(s) 3" in out.logs


# --- dates other tools write; a mobile in any grouping ---------------------------------


@settings(max_examples=120, deadline=None)
@given(
    day=st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date(2150, 12, 31)),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
)
def test_dates_as_other_tools_write_them_read_as_the_same_instant(day, hour, minute):
    # each was bad_created_at before session 11: dots (as Jalali's 1403.05.12 already read),
    # an unpadded month or day, ISO 8601's basic form, JavaScript's Date.toString(), and
    # Java's ZonedDateTime (offset then the zone's name in brackets)
    y, m, d = day.year, day.month, day.day
    js = f"{day:%a} {day:%b} {d:02d} {y} {hour:02d}:{minute:02d}:00 GMT+0330 (Iran Standard Time)"
    written = {
        f"{y}.{m:02d}.{d:02d} {hour}:{minute:02d}": "UTC",
        f"{y}-{m:02d}-{d:02d} {hour}:{minute:02d}": "UTC",  # Excel's yyyy-mm-dd h:mm
        f"{y}-{m}-{d} {hour}:{minute:02d}": "UTC",
        f"{y}{m:02d}{d:02d}T{hour:02d}{minute:02d}": "UTC",
        js: "+03:30",
        f"{y}-{m:02d}-{d:02d}T{hour:02d}:{minute:02d}+03:30[Asia/Tehran]": "+03:30",
    }
    got = parse_timestamps(pd.Series(list(written), dtype="string")).tolist()
    for (text, zone), stamp in zip(written.items(), got, strict=True):
        local = pd.Timestamp(f"{day.isoformat()}T{hour:02d}:{minute:02d}")
        expected = (
            local.tz_localize("UTC") if zone == "UTC" else local.tz_localize(zone)
        ).tz_convert("UTC")
        assert stamp == expected, text


def test_padded_iso_dates_do_not_take_the_rewriting_path():
    # 2024-05-01 stays ISO's (vectorized); only an unpadded part needs rewriting
    for text in ("2024-05-01", "2024-05-01 10:00", "2024-12-31T23:59:59Z"):
        assert validate._YEAR_FIRST_UNPADDED.fullmatch(text) is None
    assert parse_timestamps(pd.Series(["20241301", "2024-13-1"])).isna().all()


_SEPARATORS = st.sampled_from([" ", "-", ".", "\u200c", "\u200f", ""])
_SCRIPTS = st.sampled_from(["0123456789", "۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩"])


@settings(max_examples=200, deadline=None)
@given(
    rest=st.lists(st.integers(0, 9), min_size=9, max_size=9),
    cuts=st.lists(st.booleans(), min_size=11, max_size=11),
    separator=_SEPARATORS,
    script=_SCRIPTS,
)
def test_an_iranian_mobile_in_any_grouping_is_redacted(rest, cuts, separator, script):
    # "09 12 34 56 789" survived: the patterns knew 4-3-4 and 4-3-2-2 only
    digits = [0, 9, *rest]
    written = "".join(
        (separator if cut and i else "") + script[n]
        for i, (n, cut) in enumerate(zip(digits, cuts, strict=True))
    )
    redacted = redact_pii(f"شماره من {written} است")
    assert "[PHONE]" in redacted or "[NUMBER]" in redacted or "[NATIONAL_ID]" in redacted
    assert "".join(map(str, rest)) not in squash(redacted)


def test_a_second_download_of_an_export_is_said(tmp_path, caplog):
    # "tickets (1).csv" is another source (the file's stem), so its rows were stored and
    # counted twice without a word
    body = "id,text,created_at\n" + "".join(f"T{i},complaint {i},2024-05-01\n" for i in range(8))
    other = body.replace("complaint", "another system's text")
    few = "id,text,created_at\nT0,complaint 0,2024-05-01\nT1,complaint 1,2024-05-01\n"
    files = {"tickets.csv": body, "tickets (1).csv": body, "crm.csv": other, "few.csv": few}
    out = run_stages(_write(tmp_path / "in", files), caplog)
    copies = [line for line in out.logs.splitlines() if "a second copy?" in line]
    assert copies == [
        f"{tmp_path}/in/tickets.csv: its first 8 rows repeat tickets (1).csv's (same ids and"
        " texts): a second copy? Its documents are stored as another source; remove the copy,"
        " or give both files one `source`"
    ]
    assert _accounts(out)["tickets.csv"] == (8, 8, 0, 0)  # said, not undone


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("لینک گروه t.me/joinchat/AAAAAEr3xyzQWERTYUIOP12 است", "لینک گروه [URL] است"),
        ("reset: app.example.ir/r/8f14e45fceea167a5a36 pls", "reset: [URL] pls"),
        (
            "see example.com/how-to-reset-your-password",
            "see example.com/how-to-reset-your-password",
        ),
        ("۱۴۰۳/۰۵/۱۲ و/یا data/sample/feedback.csv", "۱۴۰۳/۰۵/۱۲ و/یا data/sample/feedback.csv"),
    ],
)
def test_a_link_with_a_token_in_its_path_is_redacted_without_a_scheme(text, redacted):
    # a chat invite is pasted without https://, and the cheap pre-check let it through
    assert redact_pii(text) == redacted


# --- names that are addresses ---------------------------------------------------------------


def test_a_sheet_or_file_named_after_an_email_shows_none_of_it(tmp_path, caplog):
    # a sheet per customer, titled with the customer's address; an export saved under one
    book = openpyxl.Workbook()
    book.remove(book.active)
    sheet = book.create_sheet("ali.rezaei+vip@example.com")
    sheet.append(["id", "text", "created_at"])
    sheet.append(["1", "app is slow", "2024-05-01"])
    sheet.append(["2", None, "2024-05-01"])
    book.create_sheet("Summary").append(["x"])
    out = io.BytesIO()
    book.save(out)
    folder = _write(
        tmp_path / "in",
        {
            "book.xlsx": out.getvalue(),
            "reza@gmail.com": "id,text,created_at\n1,late card,2024-05-01\n",
            "sara@mail.ir.csv.gz": gzip.compress(b"id,text,created_at\n1,a,2024-05-01\n2,b,x\n"),
        },
    )
    outcome = run_stages(folder, caplog)
    shown = pd.concat([outcome.records, outcome.quarantine])
    for blob in (shown["source_file"], shown["reason"], shown["source"], outcome.logs):
        text = " ".join(map(str, blob)) if not isinstance(blob, str) else blob
        assert ".com" not in text and "mail.ir" not in text and "@" not in text
    files = set(shown["source_file"].map(lambda f: Path(f).name))
    assert files == {"book.xlsx[[EMAIL]]", "[EMAIL]", "[EMAIL].csv.gz"}
    # the sheet's documents keep the workbook's source, as every other sheet's do
    assert set(outcome.records["source"]) >= {"book"}
    reasons = outcome.quarantine["reason"].tolist()
    assert any(r.startswith(f"unsupported_file: {folder}/[EMAIL]:") for r in reasons)


# --- ids that are not keys ------------------------------------------------------------------


def test_a_five_thousand_character_id_is_quarantined_naming_the_setting(tmp_path, caplog):
    # an exporter that shifted a column: the comment (with a phone in it) landed in the id
    pasted = ("سلام، اپلیکیشن از دیروز باز نمیشه " * 150)[:4990] + f" {PHONE}"
    long_customer = "C" + "7" * 5000
    feedback = (
        "id,text,created_at,customer_id\n"
        "L1,fine,2024-05-01,C1\n"
        f'"{pasted}",shifted,2024-05-01,C2\n'
        f"L3,long customer,2024-05-01,{long_customer}\n"
        f"L4,at the limit,2024-05-01,{'C' * 256}\n"
    )
    customers = f"customer_id,clv\nC1,100\n{long_customer},5\n"
    transactions = f"customer_id,date,amount\nC1,2024-05-01,10\n{long_customer},2024-05-01,3\n"
    folder = _write(tmp_path / "in", {"shifted.csv": feedback.encode("utf-8")})
    side = _write(tmp_path / "side", {"customers.csv": customers, "transactions.csv": transactions})
    out = run_stages(folder, caplog)
    assert sorted(out.records["id"]) == ["L1", "L4"]
    assert _codes(out) == ["customer_id_too_long", "id_too_long"]
    reasons = " ".join(out.quarantine["reason"])
    assert "id_too_long: id is 5,004 characters, more than ingest.max_id_chars (256)" in reasons
    assert "customer_id is 5,001 characters" in reasons
    cust, cq = read_customers(side / "customers.csv", pseudonym_key=KEY)
    trans, tq = read_transactions(side / "transactions.csv", pseudonym_key=KEY, max_id_chars=10)
    assert len(cust) == len(trans) == 1
    assert [r.split(":")[0] for r in pd.concat([cq, tq])["reason"]] == ["customer_id_too_long"] * 2
    assert "more than ingest.max_id_chars (10)" in tq["reason"].iloc[0]
    assert not leaks(out.records, out.quarantine, out.logs, cq, tq)
