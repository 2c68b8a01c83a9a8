"""Encoding detection on the byte patterns real exports have."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxtext.ingest.encoding import (
    decode_bytes,
    decode_line,
    decode_report,
    detect_file_encoding,
    sniff_binary,
    text_lines,
)

# Persian feedback as Persian Windows writes it: cp1256 has no Persian yeh (U+06CC) or
# Persian kaf, so Excel writes Arabic yeh (U+064A); keheh (U+06A9) and ZWNJ do exist.
PERSIAN = [
    "سفارشم دو ساعت دير رسيد و غذا سرد بود",
    "پشتيباني خيلي بد جواب داد، ديگه خريد نمي‌کنم",
    "عالي بود ممنون",
    "کيفيت محصول خوب بود ولي بسته‌بندي خراب شده بود",
    "چرا پولم برنگشته؟",
    "اپليکيشن بانک مدام خطا مي‌دهد",
    "ژله",
]
CSV = "id,text,created_at\n1,پیک خیلی دیر رسید 😡,2024-05-01T10:00:00+03:30\n2,Great app but login fails,2024-05-02\n"


@pytest.mark.parametrize("sentence", PERSIAN)
def test_short_persian_cp1256_is_cp1256(sentence):
    # charset-normalizer alone names cp1251 / mac_cyrillic / ptcp154 for some of these
    text, encoding = decode_bytes(sentence.encode("cp1256"))
    assert (text, encoding) == (sentence, "cp1256")


def test_cp1256_csv_with_ascii_header():
    data = (
        "id,text,created_at\n" + "".join(f"{i},{s},2024-01-01\n" for i, s in enumerate(PERSIAN))
    ).encode("cp1256")
    text, encoding = decode_bytes(data)
    assert encoding == "cp1256"
    assert PERSIAN[1] in text


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (CSV.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + CSV.encode("utf-8"), "utf-8-sig"),
        (CSV.encode("utf-16"), "utf-16"),  # with BOM
        (codecs.BOM_UTF16_BE + CSV.encode("utf-16-be"), "utf-16"),
        (CSV.encode("utf-16-le"), "utf-16-le"),  # no BOM: NUL pattern
        (CSV.encode("utf-16-be"), "utf-16-be"),
        (CSV.encode("utf-32"), "utf-32"),
        (b"", "utf-8"),
    ],
)
def test_unicode_encodings(data, encoding):
    text, found = decode_bytes(data)
    assert found == encoding
    assert text == (CSV if data else "")


def test_bomless_utf16_of_mostly_persian_text():
    text = "id,text\n" + "\n".join(f"{i},{s}" for i, s in enumerate(PERSIAN * 5))
    assert decode_bytes(text.encode("utf-16-le")) == (text, "utf-16-le")


def test_utf8_with_stray_nul_bytes_is_still_utf8():
    data = "id,text\n1,سلام\x00\x00 دنیا\n".encode()
    text, encoding = decode_bytes(data)
    assert encoding == "utf-8"
    assert "\x00" in text


def test_damaged_utf8_is_replaced_and_reported():
    data = CSV.encode("utf-8") * 20 + b"3,broken \xff\xfe byte,2024-01-01\n"
    decoded = decode_report(data)
    assert decoded.encoding == "utf-8"
    assert decoded.method == "utf8-damaged"
    assert decoded.replaced >= 1
    assert "\ufffd" in decoded.text and "پیک خیلی دیر رسید" in decoded.text


def test_western_legacy_text_falls_back_to_charset_normalizer():
    data = ("id,text\n1,Très déçu: la livraison était très en retard, à éviter\n" * 5).encode(
        "cp1252"
    )
    text, _ = decode_bytes(data)
    assert "déçu" in text


def test_file_detection_reads_past_an_ascii_head(tmp_path):
    # a cp1256 export whose first 64 KiB is plain ASCII must not be read as UTF-8
    ascii_rows = "".join(f"{i},plain ascii feedback number {i},2024-01-01\n" for i in range(3000))
    path = tmp_path / "late.csv"
    path.write_bytes(
        ("id,text,created_at\n" + ascii_rows + f"9999,{PERSIAN[0]},2024-01-01\n").encode("cp1256")
    )
    assert detect_file_encoding(path).encoding == "cp1256"


def test_sniff_binary():
    assert "xlsx" in sniff_binary(b"PK\x03\x04rest", "utf-8")
    assert "control characters" in sniff_binary(bytes(range(32)) * 10, "latin-1")
    assert sniff_binary(CSV.encode(), "utf-8") is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_decode_bytes_never_raises(data):
    text, encoding = decode_bytes(data)
    assert isinstance(text, str)
    codecs.lookup(encoding)  # a real codec name


@settings(max_examples=150, deadline=None)
@given(st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=300))
def test_unicode_text_round_trips(text):
    # U+0000 is left out: NUL-laden UTF-8 and BOM-less UTF-16 can be the very same bytes
    assert decode_bytes(text.encode("utf-8"))[0] == text
    assert decode_bytes(codecs.BOM_UTF8 + text.encode("utf-8")) == (text, "utf-8-sig")
    assert decode_bytes(text.encode("utf-16")) == (text, "utf-16")


# --- files that mix encodings line by line (exports glued from several systems) ----------

UTF8_PERSIAN = ["اپلیکیشن کند است و پرداخت انجام نمی‌شود", "پشتیبانی عالی بود 😊", "café au lait"]


def _read_lines(path) -> list[str]:
    return list(text_lines(path, detect_file_encoding(path)))


@pytest.mark.parametrize("majority", ["utf-8", "cp1256"])
def test_a_file_mixing_utf8_and_cp1256_lines_reads_each_line_right(tmp_path, majority):
    # one codec for the whole file garbled the other kind: mojibake kept, or U+FFFD rows
    lines = [("utf-8", s) for s in UTF8_PERSIAN] + [("cp1256", s) for s in PERSIAN[:3]]
    if majority == "cp1256":
        lines += [("cp1256", s) for s in PERSIAN[3:]]
    path = tmp_path / "a.csv"
    path.write_bytes(b"".join((s + "\n").encode(codec) for codec, s in lines))
    assert detect_file_encoding(path).method != "utf8"  # not certain: decoded line by line
    assert _read_lines(path) == [s + "\n" for _, s in lines]


def test_a_latin1_line_in_a_utf8_file_is_read_as_cp1252(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("id,text\n1,خیلی بد\n".encode() + "2,très lent, déçu\r\n".encode("latin-1"))
    assert _read_lines(path) == ["id,text\n", "1,خیلی بد\n", "2,très lent, déçu\r\n"]


def test_lone_carriage_returns_still_end_lines_when_decoding_line_by_line(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("id,text\r1,بد بود\r2,ok\r".encode("cp1256"))
    assert _read_lines(path) == ["id,text\r", "1,بد بود\r", "2,ok\r"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["utf-8", "cp1256"]), st.sampled_from(PERSIAN + ["ok", ""])),
        min_size=1,
        max_size=12,
    )
)
def test_any_mix_of_utf8_and_cp1256_persian_lines_decodes_exactly(lines):
    for codec, s in lines:
        raw = (s + "\n").encode(codec)
        assert decode_line(raw, "utf-8")[0] == s + "\n"
        assert decode_line(raw, "cp1256")[0] == s + "\n"
