"""Test-wide settings: a private Prefect home, no analytics, no network."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="cxtext-prefect-"))
os.environ.setdefault("PREFECT_HOME", str(_PREFECT_HOME))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO.parent / "shared" / "datasets"


def pytest_unconfigure(config) -> None:
    """Quiet Prefect's exit-time "Stopping temporary server" message.

    The ephemeral server stops in an atexit hook, after pytest has closed the captured
    stream that Prefect's console handler writes to, which prints a "Logging error"
    traceback although nothing failed.
    """
    logging.getLogger("prefect").setLevel(logging.WARNING)
