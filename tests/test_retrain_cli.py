"""`cxtext retrain ROLE` and its weekly deployment: settings checked before Prefect starts."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cxtext.cli import app
from cxtext.config import load_settings
from pipelines.deployments import retrain_deployment

runner = CliRunner(env={"COLUMNS": "200", "CXTEXT_HOME": None})


def test_retrain_without_data_or_with_a_bad_role_fails_fast_with_the_fix():
    result = runner.invoke(app, ["retrain", "topic"])
    assert result.exit_code == 2 and "retrain: data: topic:" in result.output
    result = runner.invoke(app, ["retrain", "churn", "--data", "x.csv"])
    assert result.exit_code == 2 and "unknown role 'churn'" in result.output


def test_weekly_retrain_deployment_from_the_settings():
    cfg = load_settings().retrain
    d = retrain_deployment("sentiment-en", cfg.cron, timezone="Asia/Tehran")
    assert d.flow_name == "retrain" and d.name == "retrain-sentiment-en"
    assert d.parameters == {"role": "sentiment-en"}  # data, margin: read at run time
    (schedule,) = d.schedules
    assert schedule.schedule.cron == "0 3 * * 0" == cfg.cron
    with pytest.raises(ValueError, match="invalid cron expression"):
        retrain_deployment("topic", "every sunday")
