"""Customers and transactions side tables."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cxtext.errors import InputRejected
from cxtext.ingest.tables import check_side_accepted, read_customers, read_transactions
from cxtext.schema import QUARANTINE

KEY = b"k" * 32  # the pseudonym key


def test_customers(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(
        (
            "Customer_ID,CLV,churned,churned_at,plan,region\n"
            "c1,1200.5,no,,gold,تهران\n"
            'c2,"1,200",yes,2024-02-01T10:00+03:30,basic,\n'
            "c3,,,2024-03-01,,\n"
            "c4,abc,,,,\n"
            "c5,-1,,,,\n"
            ",10,,,,\n"
            "c1,99,yes,,basic,\n"
            "c6,5,maybe,,,\n"
            "c7,5,1,last week,,\n"
        ).encode("cp1256")
    )
    customers, quarantine = read_customers(path, pseudonym_key=KEY)
    assert list(customers.columns) == [
        "customer_id",
        "clv",
        "churned",
        "churned_at",
        "plan",
        "region",
    ]
    assert [str(t) for t in customers.dtypes] == [
        "string",
        "Float64",
        "boolean",
        "datetime64[us, UTC]",
        "string",
        "string",
    ]
    assert customers["customer_id"].tolist() == ["c1", "c2", "c3"]
    assert customers["clv"].tolist() == [1200.5, 1200.0, pd.NA]
    assert customers["churned"].tolist() == [False, True, True]  # c3: churned_at implies churned
    assert customers["churned_at"].iloc[1] == pd.Timestamp("2024-02-01T06:30Z")
    assert customers["region"].tolist() == ["تهران", pd.NA, pd.NA]
    assert list(quarantine.columns) == QUARANTINE.names
    assert (quarantine["source"] == "customers").all()
    assert quarantine["reason"].tolist() == [
        "bad_clv: 'abc' is not an amount (digits with one decimal mark, optional thousands separators and currency word)",
        "bad_clv: -1.0 is negative",
        "missing_customer_id",
        f"duplicate_customer_id: first kept at {path}:2",
        "bad_churned: 'maybe' is not true/false/1/0/yes/no",
        "bad_churned_at: 'last week' is not an ISO 8601 or Jalali timestamp (e.g. 2024-05-01T14:30:00+03:30 or 1403/05/12)",
    ]
    assert quarantine["id"].tolist() == ["c4", "c5", pd.NA, "c1", "c6", "c7"]
    assert json.loads(quarantine["raw_redacted"].iloc[3])["clv"] == "99"


def test_transactions_jsonl_with_refunds(tmp_path):
    path = tmp_path / "transactions.jsonl"
    rows = [
        {"customer_id": "c1", "date": "2024-01-01", "amount": 10.5, "currency": "IRR"},
        {"customer_id": "c1", "date": "2024-01-02T10:00:00+03:30", "amount": -3},
        {"customer_id": "c1", "date": "2024-01-02T10:00:00+03:30", "amount": -3},
        {"customer_id": "c2", "date": "1402/12/30", "amount": 4},  # 1402 has no 30 Esfand
        {"customer_id": "c3", "date": "2024-01-01", "amount": "ten"},
        {"date": "2024-01-01", "amount": 1},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{oops\n")
    transactions, quarantine = read_transactions(path, pseudonym_key=KEY)
    assert list(transactions.columns) == ["customer_id", "date", "amount", "currency"]
    assert transactions["amount"].tolist() == [10.5, -3.0, -3.0]  # refunds kept, repeats kept
    assert transactions["date"].iloc[1] == pd.Timestamp("2024-01-02T06:30Z")
    assert quarantine["reason"].str.split(":").str[0].tolist() == [
        "broken_json", "bad_date", "bad_amount", "missing_customer_id",
    ]  # fmt: skip
    assert (quarantine["source"] == "transactions").all()
    assert "not a valid Jalali date" in quarantine["reason"].iloc[1]


def test_missing_amount_column_and_missing_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("customer_id,date\nc1,2024-01-01\n")
    transactions, quarantine = read_transactions(path, pseudonym_key=KEY)
    assert transactions.empty
    assert quarantine["reason"].tolist() == [
        "missing_amount: no 'amount' column (columns: customer_id, date); rename yours to 'amount'"
    ]
    with pytest.raises(FileNotFoundError):
        read_customers(tmp_path / "nope.csv", pseudonym_key=KEY)


def test_empty_customers_file(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("")
    customers, quarantine = read_customers(path, pseudonym_key=KEY)
    assert customers.empty and quarantine.empty
    assert list(customers.columns) == ["customer_id", "clv", "churned", "churned_at"]


def test_marker_files_beside_a_side_table_are_listed(tmp_path):
    (tmp_path / "part-0.csv").write_text("customer_id,clv\nC1,10\n")
    (tmp_path / "_SUCCESS").write_text("")
    customers, quarantine = read_customers(tmp_path, pseudonym_key=KEY)
    assert customers["customer_id"].tolist() == ["C1"]
    assert quarantine["reason"].str.startswith("skipped_file: _SUCCESS").tolist() == [True]


def test_customer_ids_in_persian_digits_or_with_marks_join_their_transactions(tmp_path):
    # a Persian CRM export writes C۰۰۱ where the billing system writes C001
    (tmp_path / "c.csv").write_text("customer_id,clv\nC۰۰۱,10\n\u200fC٠٠٢ ,20\n\u200b,5\n")
    (tmp_path / "t.csv").write_text(
        "customer_id,date,amount\nC001,2024-05-01,3\nC002,2024-05-01,4\n"
    )
    customers, rejected = read_customers(tmp_path / "c.csv", pseudonym_key=KEY)
    transactions, _ = read_transactions(tmp_path / "t.csv", pseudonym_key=KEY)
    assert customers["customer_id"].tolist() == ["C001", "C002"]
    assert set(transactions["customer_id"]) == set(customers["customer_id"])
    assert rejected["reason"].tolist() == ["missing_customer_id"]  # only a zero-width space


def test_money_columns_read_currency_and_refuse_phone_numbers(tmp_path):
    (tmp_path / "c.csv").write_text(
        'customer_id,clv\nA,"$1,200.50"\nB,1.2e3\nC,۱۲٬۰۰۰ تومان\nD,0935 412 77 08\nE,1000000000\n'
    )
    customers, rejected = read_customers(tmp_path / "c.csv", pseudonym_key=KEY)
    assert customers["clv"].tolist() == [1200.5, 1200.0, 12000.0, 1e9]
    assert rejected["reason"].tolist() == ["bad_clv: looks like a phone or card number, not money"]
    (tmp_path / "t.csv").write_text(
        "customer_id,date,amount\nA,2024-05-01,0912 345 6789\nA,2024-05-01,1250000000 ریال\n"
    )
    transactions, rejected = read_transactions(tmp_path / "t.csv", pseudonym_key=KEY)
    assert transactions["amount"].tolist() == [1.25e9]
    assert rejected["reason"].str.startswith("bad_amount: looks like a phone").tolist() == [True]


def test_a_side_file_that_loses_every_row_rejects_the_run(tmp_path):
    (tmp_path / "crm 0912 345 6789.csv").write_text("foo,bar\n1,2\n")
    (tmp_path / "orders.csv").write_bytes(bytes(range(256)) * 20)  # binary: one unreadable row
    (tmp_path / "empty.csv").write_text("customer_id,clv\n")
    customers, q1 = read_customers(tmp_path / "crm 0912 345 6789.csv", pseudonym_key=KEY)
    transactions, q2 = read_transactions(tmp_path / "orders.csv", pseudonym_key=KEY)
    empty, q3 = read_customers(tmp_path / "empty.csv", pseudonym_key=KEY)
    check_side_accepted({"customers": empty, "transactions": None}, q3)  # nothing was lost
    quarantine = pd.concat([q1, q2], ignore_index=True)
    with pytest.raises(InputRejected, match=r"customers file crm \[PHONE\]\.csv quarantined") as e:
        check_side_accepted({"customers": customers, "transactions": transactions}, quarantine)
    assert "missing_customer_id 1" in str(e.value) and "0912" not in str(e.value)
    with pytest.raises(InputRejected, match="transactions file orders.csv .*unreadable_file"):
        check_side_accepted({"customers": None, "transactions": transactions}, quarantine)
