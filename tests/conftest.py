"""Test-wide settings: a private Prefect home, no analytics, no network."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pytest

_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="cxtext-prefect-"))
os.environ.setdefault("PREFECT_HOME", str(_PREFECT_HOME))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]


def _shared_datasets() -> Path:
    """$CXTEXT_DATASETS, else the nearest ``shared/datasets`` above the checkout.

    A checkout at /work/main finds /work/shared/datasets as its sibling; a git worktree
    one level deeper (/work/wt/NAME) finds the same folder two levels up.
    """
    if os.environ.get("CXTEXT_DATASETS"):
        return Path(os.environ["CXTEXT_DATASETS"])
    for folder in REPO.parents:
        if (folder / "shared" / "datasets").is_dir():
            return folder / "shared" / "datasets"
    return REPO.parent / "shared" / "datasets"


SHARED_DATASETS = _shared_datasets()


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The labelled real datasets (/work/shared/datasets here); skips the test without them."""
    if not (SHARED_DATASETS / "README.md").is_file():
        pytest.skip(f"shared datasets not found in {SHARED_DATASETS} (set CXTEXT_DATASETS)")
    return SHARED_DATASETS


# A real PostgreSQL server, started once per test module that asks for it
@pytest.fixture(scope="module")
def pg_url() -> str:
    from postgres_server import find_bindir, postgres_server  # noqa: PLC0415

    if find_bindir() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install PostgreSQL (see .ci/run)")
        pytest.skip("PostgreSQL binaries not installed")
    with postgres_server() as url:
        yield url


@pytest.fixture
def clean_pg_url(pg_url: str) -> str:
    """The module's PostgreSQL server with none of the warehouse's tables: a clean schema per test."""
    import sqlalchemy as sa  # noqa: PLC0415

    from cxtext.schema import TABLES  # noqa: PLC0415

    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        for name in TABLES:
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}"')
    engine.dispose()
    return pg_url


@pytest.fixture(params=["duckdb", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A warehouse location on each backend: a DuckDB file, or the server with a clean schema."""
    if request.param == "duckdb":
        return str(tmp_path / "wh.duckdb")
    return request.getfixturevalue("clean_pg_url")


def pytest_unconfigure(config) -> None:
    """Quiet Prefect's exit-time "Stopping temporary server" message.

    The ephemeral server stops in an atexit hook, after pytest has closed the captured
    stream that Prefect's console handler writes to, which prints a "Logging error"
    traceback although nothing failed.
    """
    logging.getLogger("prefect").setLevel(logging.WARNING)
