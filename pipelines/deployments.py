"""Deployments of the flows: the nightly run and the weekly retrain on cron schedules, served by Prefect."""

from __future__ import annotations

from typing import Any

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron
from pydantic import ValidationError

from pipelines.nightly import nightly
from pipelines.retrain import retrain


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


def retrain_deployment(
    role: str,
    cron: str,
    name: str | None = None,
    parameters: dict[str, Any] | None = None,
    timezone: str | None = None,
) -> RunnerDeployment:
    """The retrain flow for one role on a (weekly) cron schedule: ``retrain.cron`` in the settings.

    Served beside the nightly deployment; the flow takes its data, margin and metric
    from the ``retrain:`` settings section at run time, so editing cxtext.yaml needs no
    redeploy. A bad cron expression raises ``ValueError`` naming it.
    """
    fixed = {k: v for k, v in (parameters or {}).items() if v is not None}
    try:
        schedule = Cron(cron, timezone=timezone)
        return retrain.to_deployment(
            name=name or f"retrain-{role}",
            schedules=[schedule],
            parameters={"role": role, **fixed},
        )
    except (ValueError, ValidationError) as exc:
        raise ValueError(
            f"invalid cron expression {cron!r} or time zone {timezone!r}: "
            "use five fields, e.g. '0 3 * * 0', and an IANA zone such as 'Asia/Tehran'"
        ) from exc
