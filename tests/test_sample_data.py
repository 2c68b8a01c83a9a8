"""The shipped sample in data/: present, parseable, on contract, and rebuilt byte for byte."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from cxtext.schema import CHANNELS, REQUIRED_INPUT, SCORE_RANGES
from cxtext.themes.taxonomy import load_taxonomy

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
SAMPLE = DATA / "sample"
FEEDBACK = {  # file -> encoding it is written in
    "feedback/tickets_en.csv": "utf-8",
    "feedback/tickets_fa.csv": "utf-8-sig",
    "feedback/reviews.csv": "cp1256",
    "feedback/survey.jsonl": "utf-8",
    "feedback/social.jsonl": "utf-8",
}
OTHER = ("customers.csv", "transactions.csv", "truth.csv")


def _make_sample():
    spec = importlib.util.spec_from_file_location(
        "make_sample", REPO / "scripts" / "make_sample.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def read_feedback(name: str) -> pd.DataFrame:
    path = SAMPLE / name
    if name.endswith(".jsonl"):
        lines = path.read_text(encoding=FEEDBACK[name]).splitlines()
        return pd.DataFrame([json.loads(line) for line in lines]).astype(object)
    return pd.read_csv(path, encoding=FEEDBACK[name], dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "truth.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def taxonomy():
    return load_taxonomy(DATA / "taxonomy.yaml")


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "customers.csv", dtype=str, keep_default_na=False)


def test_files_exist_and_data_is_small():
    for name in [*FEEDBACK, *OTHER]:
        assert (SAMPLE / name).is_file(), name
    assert (DATA / "README.md").is_file()
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    assert total < 3 * 1024 * 1024, f"data/ is {total} bytes"


def test_encodings_are_the_documented_ones():
    assert (SAMPLE / "feedback/tickets_fa.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    raw = (SAMPLE / "feedback/reviews.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "سپهر" in raw.decode("cp1256")
    for name in ("feedback/tickets_en.csv", "feedback/survey.jsonl", "feedback/social.jsonl"):
        assert not (SAMPLE / name).read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("name", list(FEEDBACK))
def test_feedback_follows_the_input_contract(name, truth):
    df = read_feedback(name)
    expected = truth[truth["file"] == name]
    assert len(df) == len(expected) and len(df) > 300
    assert df["id"].tolist() == expected["id"].tolist()
    for column in REQUIRED_INPUT:
        assert column in df.columns
    assert set(df["channel"]) <= set(CHANNELS)
    clean = expected["defect"].to_numpy() == ""
    stamps = pd.to_datetime(df.loc[clean, "created_at"], format="ISO8601", utc=True)
    assert stamps.min() >= pd.Timestamp("2026-08-27", tz="UTC")
    assert stamps.max() < pd.Timestamp("2026-11-20", tz="UTC")
    assert df.loc[clean, "text"].astype(str).str.strip().str.len().gt(0).all()
    assert df.loc[clean, "id"].is_unique
    if "score" in df.columns:
        scored = df[df["score"].notna()]
        for kind, (lo, hi) in SCORE_RANGES.items():
            values = scored.loc[scored["score_type"] == kind, "score"].astype(float)
            assert values.between(lo, hi).all(), kind


def test_malformed_rows_are_the_documented_few(truth):
    defects = truth[truth["defect"] != ""]
    assert 8 <= len(defects) <= 15
    assert set(defects["defect"]) == {
        "missing_created_at",
        "unparsable_created_at",
        "empty_text",
        "missing_text",
        "duplicate_id",
    }
    for name in FEEDBACK:
        df = read_feedback(name)
        bad = truth[(truth["file"] == name) & (truth["defect"] != "")]
        for row, defect in zip(bad["row"].astype(int), bad["defect"], strict=True):
            record = df.iloc[row - 1]
            created = record.get("created_at")
            if defect == "missing_created_at":
                assert created is None or pd.isna(created) or created == ""
            elif defect == "unparsable_created_at":
                with pytest.raises(ValueError):
                    pd.to_datetime(pd.Series([created]), format="ISO8601")
            elif defect in ("empty_text", "missing_text"):
                assert (
                    record["text"] is None
                    or pd.isna(record["text"])
                    or not str(record["text"]).strip()
                )
            else:
                assert (df["id"] == record["id"]).sum() == 2


def test_truth_uses_taxonomy_themes(truth, taxonomy):
    assert set(truth["theme"]) <= {*taxonomy.ids, "none"}
    assert set(truth["sentiment"]) == {"negative", "neutral", "positive"}
    assert set(truth["language"]) <= {"fa", "en", "mixed"}
    assert {"fa", "en", "mixed"} <= set(truth["language"])
    assert 3000 <= len(truth) <= 4500


def test_taxonomy_has_twelve_bilingual_themes(taxonomy):
    assert len(taxonomy.themes) >= 12
    for theme in taxonomy.themes:
        assert len(theme.keywords["en"]) >= 15, theme.id
        assert len(theme.keywords["fa"]) >= 15, theme.id
        assert theme.label_fa and theme.label_en


def test_customers_and_transactions_are_consistent(customers):
    tx = pd.read_csv(SAMPLE / "transactions.csv", dtype={"customer_id": str})
    assert customers["customer_id"].is_unique
    assert 1500 <= len(customers) <= 2500
    assert set(tx["customer_id"]) <= set(customers["customer_id"])
    assert set(customers["plan"]) == {"basic", "plus", "premium"}
    assert set(customers["churned"]) == {"true", "false"}
    churned = customers["churned"] == "true"
    assert (customers.loc[churned, "churned_at"] != "").all()
    assert (customers.loc[~churned, "churned_at"] == "").all()
    crm = customers["clv"] != ""
    assert 0.2 < crm.mean() < 0.4
    assert not set(tx["customer_id"]) & set(customers.loc[crm, "customer_id"])
    assert (tx["amount"] > 0).all()
    dates = pd.to_datetime(tx["date"], format="ISO8601")
    assert dates.max() < pd.Timestamp("2026-11-20")
    last = dates.groupby(tx["customer_id"]).max()
    ended = customers.loc[churned, ["customer_id", "churned_at"]].set_index("customer_id")[
        "churned_at"
    ]
    ended = pd.to_datetime(ended).reindex(last.index).dropna()
    assert (last.loc[ended.index] < ended).all()


def test_feedback_customers_exist(truth, customers):
    linked = set(truth["customer_id"]) - {""}
    assert linked <= set(customers["customer_id"])
    assert len(linked) > 500


def test_planted_churn_effects_are_visible(truth, customers):
    """Customers who complained about a causal theme churn clearly more than the rest."""
    make_sample = _make_sample()
    churned = customers.set_index("customer_id")["churned"].eq("true")
    negative = truth[(truth["sentiment"] == "negative") & (truth["customer_id"] != "")]
    for theme in make_sample.CHURN_EFFECTS:
        raised = set(negative.loc[negative["theme"] == theme, "customer_id"])
        mask = churned.index.isin(list(raised))
        assert churned[mask].mean() - churned[~mask].mean() > 0.08, theme


def test_rebuild_is_byte_identical(tmp_path, shared_datasets):
    make_sample = _make_sample()
    make_sample.build(shared_datasets, tmp_path)
    for name in [*FEEDBACK, *OTHER]:
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name
