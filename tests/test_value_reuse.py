"""A feedback-only run keeps the stored customer values and churn model; method changes are said."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_end_to_end import tables, write_inputs

from pipelines.nightly import nightly


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("reuse")
    inputs = write_inputs(base / "inputs")
    files = [str(inputs["feedback"] / "tickets.csv"), str(inputs["feedback"] / "reviews.csv")]
    warehouse = str(base / "cx.duckdb")
    full = nightly(
        feedback=files,
        customers=str(inputs["customers"]),
        transactions=str(inputs["transactions"]),
        warehouse=warehouse,
    )
    full_tables = tables(Path(warehouse))
    again = nightly(feedback=files, warehouse=warehouse)
    again_tables = tables(Path(warehouse))
    forced = nightly(feedback=files, warehouse=warehouse, reestimate=True)
    return full, full_tables, again, again_tables, forced, tables(Path(warehouse))


def _figures(pain: pd.DataFrame) -> pd.DataFrame:
    cols = ["clv_at_risk", "clv_at_risk_low", "clv_at_risk_high", "churn_uplift", "mean_clv"]
    rows = pain[pain["segment"] == "all"].set_index("theme_id")[cols]
    return rows.sort_index().astype(float)


def test_feedback_only_rerun_keeps_the_method_and_the_figures(three_runs):
    full, full_tables, again, again_tables, _, _ = three_runs
    before = full_tables["customer_value"].set_index("customer_id")
    after = again_tables["customer_value"].set_index("customer_id")
    assert set(before["method"]) >= {"crm"} and "segment_default" not in set(
        after.loc[before.index, "method"]
    )
    pd.testing.assert_series_equal(after.loc[before.index, "clv"], before["clv"])
    pd.testing.assert_frame_equal(_figures(again.pain_points), _figures(full.pain_points))
    assert not any(w.startswith("method changed") for w in again.warnings)
    assert any("reused the stored values" in w for w in again.warnings)
    assert any("reused the churn model of run" in w for w in again.warnings)
    stored = again_tables["churn_uplift"]
    assert stored["method"].str.startswith("reused(run ").any()


def test_forcing_re_estimation_says_the_method_changed_everywhere(three_runs):
    *_, forced, forced_tables = three_runs
    changes = [w for w in forced.warnings if w.startswith("method changed since the previous run")]
    assert any("segment_default 100%" in w for w in changes), forced.warnings
    assert any("uplift: joint_logit" in w and w.endswith("→ prior") for w in changes), changes
    runs = forced_tables["runs"].set_index("run_id")
    assert "method changed" in runs.loc[forced.run_id, "warnings"]
    report = Path(forced.report).read_text(encoding="utf-8")
    assert "Method changed since the previous run:" in report
