"""The nightly flow runs its own numerical stages on one BLAS thread (threaded BLAS only spins there)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_info

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pipelines.nightly as nightly_module  # noqa: E402
from benchmarks.corpus import generate_corpus  # noqa: E402


def _blas_threads() -> set[int]:
    return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}


def test_value_stages_see_one_blas_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not _blas_threads():
        pytest.skip("no BLAS library that threadpoolctl can see")
    made = generate_corpus(None, tmp_path / "corpus", 60, days=2, new_share=0.0, seed=3)
    seen: list[set[int]] = []
    original = nightly_module.estimate_customer_value

    def recording(*args, **kwargs):
        seen.append(_blas_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(nightly_module, "estimate_customer_value", recording)
    before = _blas_threads()
    nightly_module.nightly(
        feedback=[str(made.feedback_dir)],
        customers=str(made.customers),
        transactions=str(made.transactions),
        warehouse=str(tmp_path / "cx.duckdb"),
    )
    assert seen and all(threads == {1} for threads in seen)
    assert _blas_threads() == before  # restored after the run
