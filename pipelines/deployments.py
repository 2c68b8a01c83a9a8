"""Deployments of the flows: the nightly run on a cron schedule, served by Prefect."""

from __future__ import annotations

from typing import Any

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron
from pydantic import ValidationError

from pipelines.nightly import nightly


def nightly_deployment(
    name: str, cron: str, parameters: dict[str, Any] | None = None, timezone: str | None = None
) -> RunnerDeployment:
    """The nightly flow with its schedule and fixed parameters (unset ones keep the flow's defaults).

    A bad cron expression raises ``ValueError`` naming it, before anything is served.
    """
    fixed = {k: v for k, v in (parameters or {}).items() if v is not None}
    try:
        schedule = Cron(cron, timezone=timezone)
        return nightly.to_deployment(name=name, schedules=[schedule], parameters=fixed)
    except (ValueError, ValidationError) as exc:
        raise ValueError(
            f"invalid cron expression {cron!r} or time zone {timezone!r}: "
            "use five fields, e.g. '0 2 * * *', and an IANA zone such as 'Asia/Tehran'"
        ) from exc
