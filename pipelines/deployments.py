"""Deployments of the flows: the nightly run on a cron schedule."""

from __future__ import annotations

from typing import Any

from pipelines.nightly import nightly


def serve_nightly(name: str = "nightly", cron: str = "0 2 * * *", parameters: dict[str, Any] | None = None) -> None:
    """Serve the nightly flow with Prefect (blocks; Ctrl-C stops it)."""
    nightly.serve(name=name, cron=cron, parameters={k: v for k, v in (parameters or {}).items() if v is not None})
