"""Ids that are personal data: keyed pseudonyms, the key file, and redacted file names."""

from __future__ import annotations

import hashlib
import stat

import pandas as pd
import pytest

from cxtext.errors import SettingsError
from cxtext.ingest.feedback import iter_feedback
from cxtext.ingest.tables import read_customers
from cxtext.normalize.pii import pseudonymize, redact_file_name
from cxtext.normalize.pseudonym_key import key_file_for, load_or_create_key

PHONE = "09123456789"


def test_the_key_is_made_once_private_and_reused(tmp_path):
    path = tmp_path / "wh" / "cx.duckdb.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key  # every later run: the same pseudonyms
    assert load_or_create_key(tmp_path / "other.key") != key
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_a_readable_or_damaged_key_file_is_a_settings_error(tmp_path):
    path = tmp_path / "cx.duckdb.key"
    load_or_create_key(path)
    path.chmod(0o644)
    with pytest.raises(SettingsError, match="chmod 600"):
        load_or_create_key(path)
    path.write_text("not a key\n")
    path.chmod(0o600)
    with pytest.raises(SettingsError, match="restore it from a backup"):
        load_or_create_key(path)


def test_the_key_lives_beside_the_warehouse_never_in_it(tmp_path):
    assert key_file_for(str(tmp_path / "cx.duckdb"), tmp_path / "out", postgres=False) == (
        tmp_path / "cx.duckdb.key"
    )
    assert key_file_for("postgresql://u@h/db", tmp_path / "out", postgres=True) == (
        tmp_path / "out" / "cxtext-postgres.key"
    )


def test_a_pseudonym_cannot_be_reversed_without_the_key():
    one, two = b"1" * 32, b"2" * 32
    ours = pseudonymize(PHONE, one)
    assert ours.startswith("[PHONE]#") and PHONE not in ours
    assert ours == pseudonymize(PHONE, one)  # stable: joins still work
    assert ours != pseudonymize(PHONE, two)
    digest = ours.split("#")[1]
    plain = PHONE.encode()  # an attacker hashing every phone number finds nothing
    assert digest not in {
        hashlib.sha256(plain).hexdigest()[:16],
        hashlib.blake2b(plain, digest_size=8).hexdigest(),
    }


def test_one_phone_in_any_digits_or_spacing_is_one_customer():
    """A Persian export's ۰۹۱۲ ۳۴۵ ۶۷۸۹ must join the CRM's 09123456789 (it did not)."""
    import hmac

    key = b"k" * 32
    spellings = [PHONE, "۰۹۱۲۳۴۵۶۷۸۹", "0912 345 6789", "٠٩١٢-٣٤٥-٦٧٨٩", "(0912) 345\u200c6789"]
    assert {pseudonymize(v, key) for v in spellings} == {pseudonymize(PHONE, key)}
    # a key already written plainly keeps the pseudonym stored by earlier versions
    before = hmac.new(key, PHONE.encode(), hashlib.sha256).hexdigest()[:16]
    assert pseudonymize(PHONE, key) == f"[PHONE]#{before}"
    assert pseudonymize("a.b@x.io", key) != pseudonymize("ab@x.io", key)  # emails as written


def test_feedback_and_customers_share_pseudonyms_and_file_names_are_redacted(tmp_path):
    named = tmp_path / f"export {PHONE}.csv"
    named.write_text(
        f"id,text,created_at,customer_id\n1,the app crashed,2024-05-01,{PHONE}\n2,,2024-05-01,c2\n",
        encoding="utf-8",
    )
    customers = tmp_path / "customers.csv"
    customers.write_text(f"customer_id,clv\n{PHONE},100\n", encoding="utf-8")
    key = b"s" * 32
    (batch,) = iter_feedback(
        [named],
        partition_rows=10,
        max_text_chars=100,
        min_text_chars=1,
        default_channel="survey",
        pseudonym_key=key,
    )
    table, _ = read_customers(customers, pseudonym_key=key)
    assert batch.records["customer_id"].iloc[0] == table["customer_id"].iloc[0]
    assert batch.records["customer_id"].iloc[0] == pseudonymize(PHONE, key)
    stored = pd.concat([batch.records["source_file"], batch.quarantine["source_file"]])
    assert len(stored) == 2
    for name in stored:
        assert PHONE not in name and name.endswith("export [PHONE].csv")


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("exports/0912 345 6789.csv", "exports/[PHONE].csv"),
        ("in/ali@example.com.csv", "in/[EMAIL].csv"),
        ("ali@example.com/tickets.jsonl", "[EMAIL]/tickets.jsonl"),
        ("book.xlsx[Sheet1]", "book.xlsx[Sheet1]"),
        ("plain/export.csv", "plain/export.csv"),
    ],
)
def test_file_names_keep_their_extension(path, shown):
    assert redact_file_name(path) == shown
