"""The nightly deployment: schedule, time zone and fixed parameters, checked before serving."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cxtext.cli import app
from pipelines.deployments import nightly_deployment


def test_deployment_carries_schedule_time_zone_and_only_the_set_parameters():
    d = nightly_deployment(
        "nightly", "30 1 * * *", {"warehouse": "/srv/cx.duckdb", "customers": None}, "Asia/Tehran"
    )
    assert d.flow_name == "cxtext-nightly" and d.name == "nightly"
    (schedule,) = d.schedules
    assert schedule.schedule.cron == "30 1 * * *" and schedule.schedule.timezone == "Asia/Tehran"
    assert d.parameters == {"warehouse": "/srv/cx.duckdb"}  # unset ones keep the flow's defaults


def test_bad_cron_is_a_clear_error_before_serving():
    with pytest.raises(ValueError, match="invalid cron expression '61 2 \\* \\* \\*'"):
        nightly_deployment("nightly", "61 2 * * *")
    with pytest.raises(ValueError, match="time zone 'Mars/Olympus'"):
        nightly_deployment("nightly", "0 2 * * *", timezone="Mars/Olympus")
    result = CliRunner().invoke(app, ["schedule", "--cron", "every night"])
    assert result.exit_code == 2 and "invalid cron expression 'every night'" in result.output
