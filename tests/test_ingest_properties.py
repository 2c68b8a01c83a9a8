"""Property-based tests: text survives files unchanged, and every row read is accounted for."""

from __future__ import annotations

import csv
import json
import os
import re

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxtext.ingest.feedback import iter_feedback
from cxtext.ingest.readers import read_partitions
from cxtext.ingest.validate import key_values
from cxtext.normalize.pii import printable_name, redact_file_name

# Any text a file can hold: no lone surrogates (unencodable), and of the control
# characters only tab, CR, LF and NUL (a file full of others is rejected as binary on
# purpose). Line breaks, quotes, delimiters, NULs, RTL marks, emoji and Persian included.
TEXT = st.text(
    st.one_of(
        st.characters(exclude_categories=["Cs", "Cc"]),  # control characters: see below
        st.sampled_from(list('",;\t\r\n\x00\u200c\u200f«»') + ["پ", "ی", "😡"]),
    ),
    min_size=1,
    max_size=80,
)
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f]")


def _read_texts(path, partition_rows=7):
    parts = list(read_partitions(path, partition_rows))
    assert all(not p.broken for p in parts)
    return [t for p in parts for t in p.rows["text"].tolist()]


@SETTINGS
@given(
    texts=st.lists(TEXT, min_size=1, max_size=15),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_text_round_trips_through_csv(tmp_path_factory, texts, encoding):
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "created_at"])
        writer.writerows([i, t, "2024-01-01"] for i, t in enumerate(texts))
    # csv cannot tell a row of one empty field from a blank line; skip-blank is by design
    expected = [t for t in texts]
    assert _read_texts(path) == expected


@SETTINGS
@given(texts=st.lists(TEXT, min_size=1, max_size=15))
def test_text_round_trips_through_jsonl(tmp_path_factory, texts):
    path = tmp_path_factory.mktemp("jsonl") / "t.jsonl"
    lines = [
        json.dumps({"id": i, "text": t}, ensure_ascii=bool(i % 2)) for i, t in enumerate(texts)
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    assert _read_texts(path) == texts


GOOD = st.builds(
    lambda i, t: f'{i},"{t}",2024-01-01T10:00:00Z',
    st.sampled_from(["1", "2", "3", "4"]),
    st.sampled_from(["ok", "خوب", "a, b"]),
)
BAD = st.sampled_from(
    [
        ",no id,2024-01-01",
        "5,,2024-01-01",
        "6,   ,2024-01-01",
        "7,x,not a date",
        '8,"never closed,2024-01-01',
        "9,too,many,fields,here",
        "10,few",
        '11,"bad"quote,2024-01-01',
        "\x00\x01\x02,\x03\x04,\x05",
        "12," + "y" * 120 + ",2024-01-01",
    ]
)


@SETTINGS
@given(
    files=st.lists(st.lists(st.one_of(GOOD, BAD), max_size=20), min_size=1, max_size=3),
    partition_rows=st.integers(2, 12),
)
def test_count_invariant_over_any_mix(tmp_path_factory, files, partition_rows):
    folder = tmp_path_factory.mktemp("mix")
    for n, lines in enumerate(files):
        (folder / f"part{n}.csv").write_text(
            "id,text,created_at\n" + "\n".join(lines) + "\n", encoding="utf-8"
        )
    batches = list(
        iter_feedback(
            [folder],
            partition_rows=partition_rows,
            max_text_chars=100,
            min_text_chars=1,
            default_channel="survey",
            pseudonym_key=b"k" * 32,
        )
    )
    read = sum(b.read for b in batches)
    kept = sum(len(b.records) for b in batches)
    quarantined = sum(len(b.quarantine) for b in batches)
    duplicates = sum(b.duplicates for b in batches)
    assert read == kept + quarantined + duplicates
    assert all(b.read <= partition_rows for b in batches)
    if batches:
        records = pd.concat([b.records for b in batches])
        assert not records.duplicated(["source", "id"]).any()


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=40))
def test_any_file_name_becomes_printable_storable_text(raw):
    # a Linux file name is any bytes but "/" and NUL; Python holds non-UTF-8 ones as surrogates
    name = os.fsdecode(raw.replace(b"/", b"_").replace(b"\x00", b"_"))
    shown = printable_name(name)
    shown.encode("utf-8")  # storable: no lone surrogate
    assert not _CONTROL_CHARS.search(shown)  # no escape sequence reaches a terminal
    assert redact_file_name(f"in/{name}.csv").endswith(".csv")


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="0123456789", min_size=1, max_size=12),
    st.sampled_from(
        [str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"), str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"), {}]
    ),
    st.sampled_from(["", " ", "\u200f", "\u200e", "\u200b", "\ufeff", "\u202b"]),
    st.sampled_from(["", " ", "\u200f", "\u200c", "\u2069"]),
)
def test_an_id_in_any_digit_script_with_marks_around_it_is_one_key(digits, script, before, after):
    written = before + "C" + digits.translate(script) + after
    assert key_values(pd.Series([written])).iloc[0] == "C" + digits
