"""PII redaction in both languages, before and after hazm's digit conversion."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxtext.normalize.documents import normalize_text
from cxtext.normalize.persian import normalize_persian
from cxtext.normalize.pii import find_pii, load_patterns, placeholder_pattern, redact_pii

CASES = [
    ("mail me at ali.rezaei+shop@example.co.uk please", "[EMAIL]"),
    ("typo ali.@gmail.com in the form", "[EMAIL]"),
    ("write to x@intranet", "[EMAIL]"),
    ("شماره من 09123456789 است", "[PHONE]"),
    ("شماره من ۰۹۱۲۳۴۵۶۷۸۹ است", "[PHONE]"),
    ("call +98 912 345 6789 now", "[PHONE]"),
    ("call +989123456789 now", "[PHONE]"),
    ("call 0098 912 345 6789 now", "[PHONE]"),
    ("تماس: ۰۹۱۲-۳۴۵-۶۷۸۹", "[PHONE]"),
    ("office 021-88776655", "[PHONE]"),
    ("call (555) 123-4567 tomorrow", "[PHONE]"),
    ("London +44 20 7946 0958", "[PHONE]"),
    ("my card 6037 9911 2233 4455 got blocked", "[CARD]"),
    ("کارت ۶۰۳۷۹۹۱۱۲۲۳۳۴۴۵۵ مسدود شد", "[CARD]"),
    ("card 4111-1111-1111-1111", "[CARD]"),
    ("کد ملی من ۰۰۱۲۳۴۵۶۷۸ هست", "[NATIONAL_ID]"),
    ("national id 0012345678", "[NATIONAL_ID]"),
    ("شبا IR062960000000100324200001", "[IBAN]"),
    ("reset link https://bank.example/reset?token=abc123def", "[URL]"),
    ("کارت ۶۰۳۷،۹۹۱۲،۳۴۵۶،۰۰۰۵ مسدود شد", "[CARD]"),  # Persian commas between the groups
    ("card 6037/9912/3456/0005 blocked", "[CARD]"),
    ("email: علی.رضایی@gmail.com لطفا", "[EMAIL]"),  # a Persian local part (RFC 6531)
    ("ایمیلم علی@مثال.ایران است", "[EMAIL]"),
    ("mail me: john[dot]doe[at]gmail[dot]com", "[EMAIL]"),  # spelled out
    ("ali (at) yahoo (dot) com please", "[EMAIL]"),
    ("write to ali dot rezaei at gmail dot com thanks", "[EMAIL]"),  # bare words
    ("Sara.K AT yahoo DOT co DOT uk", "[EMAIL]"),
    ("call (021) 8845-1930 or (۰۲۱) ۶۶۴۳ ۲۰۱۸", "[PHONE] or [PHONE]"),
    ("شبا IR-82-0540-1026-8002-0817-9090-02 است", "[IBAN]"),
    ("my number ０９１２ ７３１ ５８４６", "[PHONE]"),  # full-width digits (a CJK keyboard)
    ("call ０９１２　７３１　５８４６", "[PHONE]"),  # and ideographic spaces
    ("mail ali.rezaei＠example．com now", "[EMAIL]"),  # full-width @ and .
]


@pytest.mark.parametrize(
    "url",
    [
        "https://x.io/reset/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",  # a JWT
        "https://app.example/verify/8f14e45f-ceea-167a-5a36-dedd4bea2543/confirm",
        "www.bank.ir/p/Zk93Jq0LmN2xT7vB4cRs",
    ],
)
def test_a_token_in_a_urls_path_is_redacted(url: str) -> None:
    assert redact_pii(f"my link {url} does not work") == "my link [URL] does not work"
    assert normalize_text(f"لینک {url} کار نمی‌کند")[1].startswith("لینک [URL]")


@pytest.mark.parametrize(("text", "placeholder"), CASES)
def test_redacts_each_kind(text: str, placeholder: str) -> None:
    out = redact_pii(text)
    assert placeholder in out
    assert not re.search(r"[0-9۰-۹]{7,}", out.replace(" ", "").replace("-", "")), out


@pytest.mark.parametrize(("text", "placeholder"), CASES)
def test_placeholders_survive_the_persian_stage(text: str, placeholder: str) -> None:
    """The stage redacts, then hazm re-spaces punctuation and converts digits."""
    language, out = normalize_text(text + " و سلام و خداحافظ")
    assert placeholder in out
    assert not re.search(r"[0-9۰-۹]{7,}", out.replace(" ", "").replace("-", "")), out


def test_digits_in_every_script_are_matched() -> None:
    latin = "0912 345 6789"
    persian = normalize_persian(latin)
    assert persian != latin
    assert redact_pii(persian) == redact_pii(latin) == "[PHONE]"


@pytest.mark.parametrize(
    "text",
    [
        "order #12345 arrived 3 days late",
        "I paid 250,000 toman on 1403/02/11",
        "سفارش ۱۲۳۴۵ دیر رسید",
        "flight UA 1234 at 10:30",
        "paid 1,250,000,000 rials, see https://www.united.com/en/us/fly/travel/airport.html",
        "https://t.co/abc123XYZ and https://example.com/help/page2",
        "meet me at (at) the gate, not at home. com",
        "I shop at amazon.com and look at it",
        "we paid 1,250,000 at the (021) branch",
    ],
)
def test_leaves_ordinary_numbers(text: str) -> None:
    assert redact_pii(text) == text
    assert find_pii(text) == []


@pytest.mark.parametrize(
    "text",
    [".@united lost my bag", "thanks.@VirginAmerica for nothing", "@united hi.@delta."],
)
def test_reply_mentions_are_not_emails(text: str) -> None:
    """A local part never starts or ends with a dot, so Twitter's ".@handle" stays."""
    assert redact_pii(text) == text


def test_stage_redacts_persian_pipeline_output() -> None:
    language, text = normalize_text("<b>سلام</b> ايميل من ali@example.com و شماره 09121234567")
    assert language == "fa"
    assert "@" not in text and "0912" not in text and "۰۹۱۲" not in text
    assert "[EMAIL]" in text and "[PHONE]" in text


digits = st.sampled_from(["0123456789", "۰۱۲۳۴۵۶۷۸۹"])


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.text(alphabet=st.characters(blacklist_categories=["Nd"]), max_size=20),
    suffix=st.text(alphabet=st.characters(blacklist_categories=["Nd"]), max_size=20),
    body=st.text(alphabet="0123456789", min_size=9, max_size=9),
    script=digits,
    sep=st.sampled_from(["", " ", "-"]),
)
def test_any_iranian_mobile_is_redacted(
    prefix: str, suffix: str, body: str, script: str, sep: str
) -> None:
    number = "09" + body[:2] + sep + body[2:5] + sep + body[5:]
    number = number.translate(str.maketrans("0123456789", script))
    out = redact_pii(f"{prefix} {number} {suffix}")
    assert number not in out


@settings(max_examples=200, deadline=None)
@given(st.emails())
def test_any_email_is_redacted(email: str) -> None:
    assert email not in redact_pii(f"contact: {email} thanks")


@settings(max_examples=200, deadline=None)
@given(
    local=st.text(alphabet="ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیءآ.", min_size=1, max_size=15).filter(
        lambda s: s.strip(".")
    ),
    domain=st.sampled_from(["gmail.com", "yahoo.ir", "مثال.ایران"]),
)
def test_any_persian_local_part_is_redacted(local: str, domain: str) -> None:
    email = f"{local}@{domain}"
    assert redact_pii(f"ایمیل من {email} است") == "ایمیل من [EMAIL] است"


@pytest.mark.parametrize(("text", "placeholder"), CASES)
def test_find_pii_finds_what_redact_pii_redacts(text: str, placeholder: str) -> None:
    """A check built on find_pii (money columns, audits) must not miss a lookalike address."""
    placeholder_of = {p.kind: p.placeholder for p in load_patterns()}
    found = {placeholder_of[kind] for kind, _ in find_pii(text)}
    assert set(placeholder_pattern().findall(placeholder)) <= found
    assert found == set(placeholder_pattern().findall(redact_pii(text)))


@given(
    st.text(alphabet="abc.", min_size=1, max_size=8),
    st.sampled_from(["@", "\uff20", "\ufe6b"]),
    st.sampled_from([".", "\uff0e", "\ufe52"]),
)
@settings(max_examples=60, deadline=None)
def test_find_pii_and_redact_pii_agree_on_lookalike_emails(local: str, at: str, dot: str) -> None:
    text = f"mail x{local.strip('.')}x{at}example{dot}com now"
    assert bool(find_pii(text)) == ("[EMAIL]" in redact_pii(text))
