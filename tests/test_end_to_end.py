"""The nightly Prefect flow on a small, ugly, bilingual fixture, checked in the warehouse."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from cxtext.painpoints.order import distinguishable
from pipelines.nightly import nightly
from pipelines.progress import listening

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"(?:\+98|0098|0|۰)?[9۹][0-9۰-۹]{2}[ -]?[0-9۰-۹]{3}[ -]?[0-9۰-۹]{4}")

FEEDBACK_EN = [
    (
        "e1",
        "My card was charged twice and the refund never arrived. Email me at sara@example.com",
        "2026-11-10T09:00:00Z",
        "c1",
        2,
    ),
    (
        "e2",
        "The app crashes every time I open it after the update",
        "2026-11-11T10:00:00+01:00",
        "c2",
        1,
    ),
    (
        "e3",
        "Support never answered my ticket, call me on +98 912 345 6789",
        "2026-11-12T11:00:00",
        "c3",
        0,
    ),
    ("e4", "Delivery of my order was late again, courier lost the package", "2026-11-13", "c4", 3),
    (
        "e5",
        "<p>I can't log in, the <b>verification code</b> never arrives</p>",
        "2026-11-14T12:00:00Z",
        "c5",
        4,
    ),
    ("e6", "Great service, thank you! 😊", "2026-11-15T08:00:00Z", "c6", 10),
    (
        "e7",
        "refund still pending after two weeks, this is unacceptable",
        "2026-11-16T08:00:00Z",
        "c1",
        1,
    ),
    ("e8", "The transfer failed and money left my account", "2026-11-16T09:00:00Z", "c7", 2),
    (
        "e2",
        "The app crashes every time I open it after the update",  # re-sent: a duplicate
        "2026-11-16T09:00:00Z",
        "c2",
        5,
    ),
    ("e9", "", "2026-11-16T09:00:00Z", "c8", 5),
    ("e10", "no date here", "yesterday-ish", "c8", 5),
]
FEEDBACK_FA = [
    (
        "f1",
        "پول از حسابم کم شد ولی انتقال انجام نشد. شماره من ۰۹۱۲۳۴۵۶۷۸۹ است",
        "2026-11-10T09:00:00Z",
        "c9",
    ),
    ("f2", "برنامه بعد از آپدیت مدام بسته میشه و خطا میده", "2026-11-11T09:00:00Z", "c10"),
    ("f3", "پشتیبانی اصلا جواب نمیده، خیلی بده", "2026-11-12T09:00:00Z", "c11"),
    ("f4", "کارمزد انتقال خیلی زیاده و گرونه", "2026-11-13T09:00:00Z", "c12"),
    ("f5", "سفارشم خیلی دیر رسید و پیک بد برخورد کرد", "2026-11-14T09:00:00Z", "c13"),
    ("f6", "خیلی عالی و سریع بود ممنون", "2026-11-15T09:00:00Z", "c14"),
    ("f7", "اپ موقع login کرش میکنه و کد تایید sms نمیاد", "2026-11-16T09:00:00Z", "c15"),
]


def write_inputs(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    en = pd.DataFrame(FEEDBACK_EN, columns=["id", "text", "created_at", "customer_id", "score"])
    en["score_type"] = "nps"
    en["plan"] = "basic"
    en.to_csv(folder / "tickets.csv", index=False)
    fa = pd.DataFrame(FEEDBACK_FA, columns=["id", "text", "created_at", "customer_id"])
    # Persian Excel exports are often Windows-1256, which has only the Arabic ي/ك and
    # Latin digits: the reader must detect the encoding and hazm must fix the letters.
    arabic = str.maketrans("یک۰۱۲۳۴۵۶۷۸۹", "يك0123456789")
    (folder / "reviews.csv").write_bytes(fa.to_csv(index=False).translate(arabic).encode("cp1256"))
    ids = [f"c{i}" for i in range(1, 16)]
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "plan": ["premium" if i % 3 == 0 else "basic" for i in range(15)],
            "clv": [1000.0 if i % 2 else None for i in range(15)],
            "churned": [i % 4 == 0 for i in range(15)],
        }
    )
    customers.to_csv(folder / "customers.csv", index=False)
    tx = pd.DataFrame(
        {
            "customer_id": [ids[i % 15] for i in range(90)],
            "date": pd.date_range("2025-01-01", periods=90, freq="5D").strftime("%Y-%m-%d"),
            "amount": [20.0 + (i % 7) * 5 for i in range(90)],
        }
    )
    tx.to_csv(folder / "transactions.csv", index=False)
    return {
        "feedback": folder,
        "customers": folder / "customers.csv",
        "transactions": folder / "transactions.csv",
    }


@pytest.fixture(scope="module")
def run_twice(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, object]:
    base = tmp_path_factory.mktemp("e2e")
    inputs = write_inputs(base / "inputs")
    files = [str(inputs["feedback"] / "tickets.csv"), str(inputs["feedback"] / "reviews.csv")]
    warehouse = base / "wh.duckdb"
    kwargs = dict(
        feedback=files,
        customers=str(inputs["customers"]),
        transactions=str(inputs["transactions"]),
        warehouse=str(warehouse),
        parquet_dir=str(base / "parquet"),
    )
    with listening(lambda *event: EVENTS.append(event)):
        first = nightly(**kwargs)
    second = nightly(**kwargs)
    return warehouse, first, second


EVENTS: list[tuple[str, str, int | None]] = []  # progress events of the first run


def tables(warehouse: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        ]
        return {n: con.execute(f'SELECT * FROM "{n}"').df() for n in names}  # noqa: S608 (catalog names)


def test_counts_add_up(run_twice: tuple) -> None:
    warehouse, first, _ = run_twice
    c = first.counts
    assert c["read"] == len(FEEDBACK_EN) + len(FEEDBACK_FA)
    assert c["read"] == c["kept"] + c["quarantined"] + c["duplicates"]
    assert c["duplicates"] == 1 and c["quarantined"] == 2
    runs = tables(warehouse)["runs"]
    assert set(runs["status"]) == {"completed"}
    assert (runs["read"] == runs["kept"] + runs["quarantined"] + runs["duplicates"]).all()


def test_rerun_is_idempotent(run_twice: tuple) -> None:
    warehouse, first, second = run_twice
    t = tables(warehouse)
    assert len(t["feedback"]) == first.counts["kept"]
    assert t["feedback"][["source", "id"]].duplicated().sum() == 0
    assert len(t["quarantine"]) == first.counts["quarantined"] + first.counts["side_quarantined"]
    assert len(t["pain_points"]) == len(second.pain_points)
    assert len(t["runs"]) == 2


def test_ranks_follow_clv_at_risk_within_distinguishable_groups(run_twice: tuple) -> None:
    warehouse, _, _ = run_twice
    pain = tables(warehouse)["pain_points"]
    assert len(pain) > 0
    for _, seg in pain.groupby("segment"):
        seg = seg.sort_values("rank")
        assert list(seg["rank"]) == list(range(1, len(seg) + 1))
        # themes whose uplift interval stays above 0 first, then the rest; each by CLV at risk
        clear = distinguishable(seg["churn_uplift_low"])
        assert not (~clear[:-1] & clear[1:]).any(), "a distinguishable theme ranks after another"
        for part in (seg[clear], seg[~clear]):
            assert part["clv_at_risk"].is_monotonic_decreasing


def test_languages_and_classification_are_stored(run_twice: tuple) -> None:
    fb = tables(run_twice[0])["feedback"].set_index("id")
    assert fb.loc["f1", "language"] == "fa" and fb.loc["e1", "language"] == "en"
    assert fb.loc["f7", "language"] == "mixed"
    assert "ك" not in "".join(fb["text_redacted"])
    assert set(fb["sentiment"]) <= {"negative", "neutral", "positive"}
    topics = {i: json.loads(t) for i, t in fb["topics"].items()}
    assert any(topics.values())
    assert fb["sentiment_model"].notna().all()


def test_no_pii_survives_in_any_stored_text(run_twice: tuple) -> None:
    warehouse, _, _ = run_twice
    leaks = []
    for name, df in tables(warehouse).items():
        for col in df.columns:
            if df[col].dtype == object or str(df[col].dtype).startswith("str"):
                for value in df[col].dropna().astype(str):
                    if EMAIL.search(value) or PHONE.search(value):
                        leaks.append((name, col, value[:80]))
    assert leaks == []


def test_progress_events_cover_every_stage_and_partition(run_twice: tuple) -> None:
    _, first, _ = run_twice
    started = [stage for stage, event, _ in EVENTS if event == "start"]
    stages = [s for s in first.stage_seconds if ":" not in s]  # "partitions:..." are inside one
    assert started == stages  # every timed stage, in order
    assert [s for s, e, _ in EVENTS if e == "done"] == started
    partitions = first.counts["partitions"]
    assert partitions and EVENTS.count(("partitions", "advance", None)) == partitions


def test_html_report_is_written_beside_the_warehouse_without_pii(run_twice: tuple) -> None:
    warehouse, first, second = run_twice
    assert first.report == second.report == str(warehouse.parent / "report.html")
    html = Path(second.report).read_text(encoding="utf-8")
    top = tables(warehouse)["pain_points"].sort_values("rank").iloc[0]
    # The second run found nothing new, so the figures (and the run named) are the first's.
    assert second.counts["new"] == 0
    assert str(top["theme_en"]).replace("&", "&amp;") in html and first.run_id in html
    assert not EMAIL.search(html) and not PHONE.search(html)


def test_parquet_copies_are_written(run_twice: tuple) -> None:
    _, first, _ = run_twice
    assert set(first.parquet) >= {"feedback", "pain_points", "customer_value", "runs", "quarantine"}
    assert len(pd.read_parquet(first.parquet["feedback"])) == first.counts["kept"]


def test_feedback_only_run_values_feedback_at_the_defaults(tmp_path: Path) -> None:
    """No customers or transactions file: ids in feedback get default_clv, uplift the prior."""
    inputs = write_inputs(tmp_path / "inputs")
    files = [str(inputs["feedback"] / "tickets.csv"), str(inputs["feedback"] / "reviews.csv")]
    warehouse = tmp_path / "feedback_only.duckdb"
    summary = nightly(feedback=files, warehouse=str(warehouse))
    t = tables(warehouse)
    kept_ids = set(t["feedback"]["customer_id"].dropna())
    values = t["customer_value"]
    assert set(values["customer_id"]) == kept_ids and set(values["method"]) == {"segment_default"}
    assert (values["clv"] == 250.0).all()
    pain = t["pain_points"]
    assert len(pain) == len(summary.pain_points) > 0
    assert pain["clv_at_risk"].notna().all() and np.isclose(pain["mean_clv"], 250.0).all()
    assert pain["method"].str.contains(r"uplift=prior\(.*no churn labels").all()
    assert pain["method"].str.contains("clv=segment_default 100%").all()
