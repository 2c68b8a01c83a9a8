"""`cxtext themes`, `follow-ups`, `export` and `pain-points` on demand, on a small warehouse."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from rich.cells import cell_len
from typer.testing import CliRunner

from cxtext.cli import app
from cxtext.config import load_settings, resolve
from cxtext.painpoints.follow_ups import follow_ups
from cxtext.painpoints.rank import rank_pain_points
from cxtext.painpoints.segments import customer_attributes
from cxtext.schema import (
    CUSTOMER_VALUE,
    CUSTOMERS,
    DISCOVERED_THEMES,
    FEEDBACK,
    QUARANTINE,
    conform,
)
from cxtext.store import staging
from cxtext.store.warehouse import RunTables, open_warehouse, run_row
from cxtext.themes.taxonomy import load_taxonomy
from pipelines.insight import rank_kwargs

END = pd.Timestamp("2026-11-20", tz="UTC")
SETTINGS = load_settings()
TAXONOMY = load_taxonomy(resolve(SETTINGS.paths.taxonomy))
ENV = {"COLUMNS": "80"}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("views")
    rng = np.random.default_rng(7)
    themes = ["support", "delivery", "app_bugs"]
    rows = []
    for i in range(240):
        theme = themes[i % 3]
        rows.append(
            {
                "source": "tickets",
                "id": f"T{i}",
                "channel": ["ticket", "review"][i % 2],
                "customer_id": f"C{int(rng.integers(0, 40)):02d}",
                "created_at": END - pd.Timedelta(hours=int(rng.integers(1, 27 * 24))),
                "language": "fa" if i % 2 else "en",
                "text_redacted": "پشتیبانی جواب نمی‌دهد" if i % 2 else f"no answer from {theme}",
                "topics": json.dumps([theme]),
                "aspect_sentiment": json.dumps({theme: "negative" if i % 4 else "neutral"}),
                "sentiment": "negative",
                "sentiment_score": -0.5,
                "metadata": "{}",
            }
        )
    feedback = conform(pd.DataFrame(rows), FEEDBACK)
    ids = [f"C{k:02d}" for k in range(40)]
    clv = np.linspace(100, 900, 40)
    values = conform(
        pd.DataFrame({"customer_id": ids, "clv": clv, "clv_low": clv, "clv_high": clv}),
        CUSTOMER_VALUE,
    )
    customers = pd.DataFrame(
        {"customer_id": ids, "plan": ["basic", "premium"] * 20, "tenure_months": range(40)}
    )
    uplift = pd.DataFrame(
        {
            "theme_id": themes,
            "churn_uplift": [0.2, 0.1, 0.05],
            "churn_uplift_low": [0.1, 0.0, 0.0],
            "churn_uplift_high": [0.3, 0.2, 0.1],
            "method": "joint_logit(test)",
        }
    )
    pain = rank_pain_points(
        feedback,
        values,
        uplift,
        TAXONOMY,
        window_end=END,
        segments=["all"],
        **rank_kwargs(SETTINGS.painpoints, SETTINGS.value),
    ).assign(currency="IRR", run_id="r1")
    found = conform(
        pd.DataFrame(
            [
                {
                    "window_start": END - pd.Timedelta(days=28),
                    "window_end": END,
                    "theme_id": "new_fa_abc123",
                    "language": "fa",
                    "keywords": json.dumps(
                        {"fa": ["استیکینگ", "پاداش رمزارز"], "en": []}, ensure_ascii=False
                    ),
                    "size": 24,
                    "negative_rate": 0.75,
                    "customers": 12,
                    "clv_at_risk": 321.0,
                    "clv_at_risk_low": 100.0,
                    "clv_at_risk_high": 500.0,
                    "examples": json.dumps(["پاداش استیکینگ رمزارز من ناپدید شد"]),
                    "first_seen": END,
                    "is_new": True,
                    "method": "uplift=prior(test)",
                    "currency": "IRR",
                }
            ]
        ),
        DISCOVERED_THEMES,
    )
    contacts = follow_ups(feedback, pain, values, TAXONOMY.owners, top_themes=3, currency="IRR")
    location = str(tmp / "cx.duckdb")
    part = staging.write_partition(feedback, tmp / "stage", "feedback", 0, FEEDBACK)
    with open_warehouse(location) as wh:
        wh.commit_run(
            RunTables(
                run=run_row(run_id="r1", status="completed"),
                feedback_files=[part],
                customer_value=values,
                pain_points=pain,
                discovered_themes=found,
                follow_ups=contacts,
                customer_attributes=customer_attributes(customers, tuple(CUSTOMERS.columns)),
            )
        )
    return location


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=ENV)
    assert result.exit_code == 0, result.output
    return result.output


def test_themes_list_shows_both_kinds_in_both_scripts_at_80_columns(warehouse):
    out = _run("themes", "list", "--warehouse", warehouse)
    assert "support" in out and "پشتیبانی" in out and "product" in out  # owner
    assert "new_fa_abc123" in out and "استیکینگ" in out and "new" in out
    assert "CLV at risk (IRR)" in out
    assert max(cell_len(line) for line in out.splitlines()) <= 80


def test_themes_show_a_candidate_and_a_taxonomy_theme(warehouse):
    out = _run("themes", "show", "new_fa_abc123", "--warehouse", warehouse)
    assert "first seen 2026-11-20" in out and "321 IRR" in out and "ناپدید شد" in out
    out = _run("themes", "show", "support", "--warehouse", warehouse)
    assert "owner: support" in out and "no answer from support" in out
    result = CliRunner().invoke(app, ["themes", "show", "nope", "--warehouse", warehouse])
    assert result.exit_code == 1 and "No theme 'nope'" in result.output


def test_themes_promote_writes_the_taxonomy(warehouse, tmp_path):
    taxonomy = tmp_path / "taxonomy.yaml"
    shutil.copy(resolve(SETTINGS.paths.taxonomy), taxonomy)
    args = ["themes", "promote", "new_fa_abc123", "--id", "crypto_rewards"]
    args += ["--label-en", "Crypto rewards", "--label-fa", "پاداش رمزارز", "--owner", "product"]
    out = _run(*args, "--taxonomy", str(taxonomy), "--warehouse", warehouse)
    assert "Added theme 'crypto_rewards'" in out
    added = yaml.safe_load(taxonomy.read_text(encoding="utf-8"))["themes"][-1]
    assert added["keywords"] == {"fa": ["استیکینگ", "پاداش رمزارز"]} and added["owner"] == "product"
    again = CliRunner().invoke(app, [*args, "--taxonomy", str(taxonomy), "--warehouse", warehouse])
    assert again.exit_code == 2 and "already in the taxonomy" in again.output


def test_follow_ups_for_one_team(warehouse, tmp_path):
    csv = tmp_path / "support.csv"
    out = _run(
        "follow-ups", "--team", "support", "--top", "3", "--csv", str(csv), "--warehouse", warehouse
    )
    assert "support:" in out and "at stake (IRR)" in out
    written = pd.read_csv(csv, encoding="utf-8-sig")
    assert written["priority"].tolist() == [1, 2, 3] and set(written["team"]) == {"support"}
    assert " 1 " in out and " 3 " in out and " 4 " not in out
    assert max(cell_len(line) for line in out.splitlines()) <= 80
    result = CliRunner().invoke(app, ["follow-ups", "--team", "nobody", "--warehouse", warehouse])
    assert result.exit_code == 1 and "Teams:" in result.output


def test_pain_points_for_any_segment_and_window(warehouse):
    out = _run("pain-points", "--segment", "plan=premium", "--warehouse", warehouse)
    assert "segment plan=premium" in out and "Customer support" in out
    out = _run(
        "pain-points", "--segment", "channel=review", "--since", "7d", "--warehouse", warehouse
    )
    assert "segment channel=review" in out and "2026-11-13 to 2026-11-20" in out
    out = _run("pain-points", "--segment", "tenure_band=2y+", "--warehouse", warehouse)
    assert "segment tenure_band=2y+" in out
    bad = CliRunner().invoke(app, ["pain-points", "--since", "soon", "--warehouse", warehouse])
    assert bad.exit_code == 2
    none = CliRunner().invoke(
        app, ["pain-points", "--segment", "plan=gold", "--warehouse", warehouse], env=ENV
    )
    assert none.exit_code == 1 and "plan takes: basic, premium" in none.output


def test_export_csv_every_table(warehouse, tmp_path):
    out = _run("export", "--out", str(tmp_path), "--format", "csv", "--warehouse", warehouse)
    assert "follow_ups:" in out
    pain = pd.read_csv(tmp_path / "pain_points.csv", encoding="utf-8-sig")
    assert set(pain["currency"]) == {"IRR"}
    contacts = pd.read_csv(tmp_path / "follow_ups.csv", encoding="utf-8-sig")
    assert set(contacts["team"]) >= {"support", "logistics", "product"}
    assert Path(tmp_path / "discovered_themes.csv").exists()


def test_quarantine_counts_reasons_most_first_then_lists_rows(tmp_path):
    reasons = ["empty_text"] * 2 + ["bad_created_at: 'yesterday'"] * 1001
    rows = conform(
        pd.DataFrame(
            {
                "run_id": "r1",
                "source": "feedback",
                "source_file": "/in/tickets.csv",
                "source_row": range(2, 2 + len(reasons)),
                "id": [f"T{i}" for i in range(len(reasons))],
                "reason": reasons,
                "raw_redacted": "{}",
            }
        ),
        QUARANTINE,
    )
    location = str(tmp_path / "cx.duckdb")
    with open_warehouse(location) as wh:
        wh.commit_run(RunTables(run=run_row(run_id="r1", status="completed"), quarantine=rows))
    out = _run("quarantine", "--warehouse", location, "--limit", "3")
    assert "1,003 quarantined rows: bad_created_at 1,001, empty_text 2" in out
    assert out.count("tickets.csv") == 3 and "/in/" not in out  # file names, not paths
