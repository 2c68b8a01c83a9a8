"""`cxtext explain THEME` prints the latest row's formula and inputs."""

from __future__ import annotations

import io
import json

import pandas as pd
from rich.console import Console
from typer.testing import CliRunner

from cxtext.cli import app
from cxtext.cli import explain as explain_module
from cxtext.schema import PAIN_POINTS, conform


def _pain() -> pd.DataFrame:
    base = {
        "segment": "all",
        "theme_id": "delivery",
        "theme_en": "Delivery",
        "theme_fa": "ارسال",
        "mentions": 40,
        "negative_mentions": 30,
        "customers": 25,
        "unlinked_mentions": 2,
        "share": 0.2,
        "negative_rate": 0.75,
        "previous_mentions": 20,
        "trend": 1.0,
        "spike": True,
        "nps_impact": -3.5,
        "csat_impact": None,
        "mean_clv": 400.0,
        "churn_uplift": 0.1,
        "churn_uplift_low": 0.05,
        "churn_uplift_high": 0.15,
        "clv_at_risk": 1080.0,
        "clv_at_risk_low": 500.0,
        "clv_at_risk_high": 1700.0,
        "rank": 1,
        "examples": json.dumps(["Parcel came a week late."]),
        "method": "uplift=joint_logit(l2 prior sd 1, bootstrap 200); clv=crm 40%/bgnbd_gammagamma 60%",
    }
    old = {**base, "window_start": "2025-01-01", "window_end": "2025-01-29", "clv_at_risk": 1.0}
    new = {**base, "window_start": "2025-02-01", "window_end": "2025-03-01"}
    return conform(pd.DataFrame([old, new]), PAIN_POINTS)


def test_explain_prints_the_formula_with_inputs(monkeypatch, tmp_path):
    wh = tmp_path / "wh.duckdb"
    wh.touch()
    seen = {}

    def fake_load(location):
        seen["location"] = location
        return _pain()

    monkeypatch.setattr(explain_module, "load_pain_points", fake_load)
    result = CliRunner().invoke(
        app, ["explain", "Delivery", "--warehouse", str(wh)], env={"COLUMNS": "160"}
    )
    assert result.exit_code == 0, result.output
    assert seen["location"] == str(wh)
    out = result.output
    assert "(25 + 2) × 400.00 × 0.10000" in out and "1,080" in out  # the newest window, not 1.0
    assert "500 – 1,700" in out and "2025-02-01" in out
    assert "bgnbd_gammagamma 60%" in out and "Parcel came a week late." in out and "SPIKE" in out


def test_explain_unknown_theme_or_missing_warehouse_exit_nonzero(monkeypatch, tmp_path):
    wh = tmp_path / "wh.duckdb"
    wh.touch()
    monkeypatch.setattr(explain_module, "load_pain_points", lambda location: _pain())
    result = CliRunner().invoke(app, ["explain", "billing", "--warehouse", str(wh)])
    assert result.exit_code == 1 and "No pain-point row" in result.output
    result = CliRunner().invoke(
        app, ["explain", "delivery", "--warehouse", str(tmp_path / "none.duckdb")]
    )
    assert result.exit_code == 3 and "no warehouse at" in result.output


def test_latest_row_matches_segment():
    pain = _pain()
    assert explain_module.latest_row(pain, "delivery", "plan=premium") is None
    assert explain_module.latest_row(pain, "DELIVERY")["window_end"] == pd.Timestamp(
        "2025-03-01", tz="UTC"
    )


def test_a_protective_theme_shows_the_clipped_uplift():
    row = _pain().iloc[-1].copy()
    row["churn_uplift"], row["churn_uplift_low"], row["churn_uplift_high"] = -0.04, -0.09, 0.01
    row["clv_at_risk"], row["clv_at_risk_low"], row["clv_at_risk_high"] = 0.0, 0.0, 108.0
    out = io.StringIO()
    Console(file=out, width=160, color_system=None).print(explain_module.explanation(row))
    text = out.getvalue()
    assert "(25 + 2) × 400.00 × max(0, -0.04000)" in text and "= 0   (interval 0 – 108)" in text
    assert "-4.00% (-9.00% – 1.00%)" in text  # the uplift itself is shown as estimated


def _explain_corrected(monkeypatch, tmp_path, models: dict[str, str]):
    """`cxtext explain` of a misclassification-corrected row, with these files as the models."""
    folder = tmp_path / "models"
    for name, text in models.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    settings = tmp_path / "cx.yaml"
    settings.write_text(f"paths:\n  models: {folder}\n", encoding="utf-8")
    pain = _pain().assign(corrected_people=20.5, corrected_negative_mentions=24.0)
    monkeypatch.setattr(explain_module, "load_pain_points", lambda location: pain)
    wh = tmp_path / "wh.duckdb"
    wh.touch()
    args = ["explain", "delivery", "--warehouse", str(wh), "--config", str(settings)]
    return CliRunner().invoke(app, args, env={"COLUMNS": "300"})


def test_explain_says_why_the_confusion_line_is_absent(monkeypatch, tmp_path):
    registry = json.dumps({"champions": {"topic": "topic-x"}})
    result = _explain_corrected(monkeypatch, tmp_path, {"registry.json": registry})
    assert result.exit_code == 0, result.output
    assert "not shown: no model card" in result.output and "topic-x" in result.output
    card = json.dumps({"name": "topic-x", "metrics": {}})
    files = {"registry.json": registry, "topic-x/card.json": card}
    result = _explain_corrected(monkeypatch, tmp_path, files)
    assert result.exit_code == 0, result.output
    assert "not shown: no topic champion in" in result.output
    assert "assignment_confusion" in result.output and "see method" not in result.output


def test_explain_surfaces_an_unexpected_error_reading_the_cards(monkeypatch, tmp_path):
    result = _explain_corrected(monkeypatch, tmp_path, {"registry.json": "{broken"})
    assert result.exit_code == 4, result.output  # ModelError: surfaced, not swallowed
    assert "registry.json is not readable JSON" in result.output
    assert "Traceback" not in result.output
