"""Incremental nightly runs: unchanged input finds nothing new, new files give only their
documents, a backfill reprocesses a date range, and worker processes give the same tables
as threads."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.corpus import generate_corpus  # noqa: E402
from pipelines.nightly import nightly  # noqa: E402
from pipelines.runners import LocalProcessTaskRunner  # noqa: E402


def feedback(warehouse: Path) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT * FROM feedback ORDER BY source, id").df()


def run(corpus, warehouse: Path, config: Path, **kwargs):
    return nightly(
        feedback=[str(corpus.feedback_dir)],
        customers=str(corpus.customers),
        transactions=str(corpus.transactions),
        warehouse=str(warehouse),
        config=str(config),
        **kwargs,
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("corpus")
    made = generate_corpus(None, folder, 90, days=3, new_share=0.05, seed=1)
    config = folder / "settings.yaml"
    config.write_text(
        "ingest:\n  partition_rows: 40\nvalue:\n  uplift_bootstrap: 20\n", encoding="utf-8"
    )
    return made, config


def test_second_run_finds_nothing_new_and_new_files_give_only_their_documents(
    corpus, tmp_path: Path
) -> None:
    made, config = corpus
    input_dir = tmp_path / "input"
    shutil.copytree(made.feedback_dir, input_dir)
    made = type(made)(
        input_dir,
        made.new_file,
        made.customers,
        made.transactions,
        made.documents,
        made.new_documents,
    )
    wh = tmp_path / "cx.duckdb"

    first = run(made, wh, config)
    assert first.counts["new"] == first.counts["kept"] == 90 and first.counts["skipped"] == 0
    stored = feedback(wh)

    again = run(made, wh, config)
    assert again.counts["new"] == 0 and again.counts["read"] == 0
    assert again.counts["skipped"] == 90 and again.counts["files_unchanged"] == 3
    pd.testing.assert_frame_equal(feedback(wh), stored)  # nothing re-scored
    assert len(again.pain_points) == len(first.pain_points)  # the stored ones stand

    shutil.copy(made.new_file, input_dir / made.new_file.name)
    third = run(made, wh, config)
    assert third.counts["new"] == made.new_documents == 4
    after = feedback(wh)
    assert (after["run_id"] == third.run_id).sum() == 4 and len(after) == 94
    assert (after["run_id"] == first.run_id).sum() == 90
    # The night's pain points (stored rows + its new ones, stored churn model kept) are
    # what a fresh warehouse computes from all the files: counts and people exactly; the
    # values too, but for the day the as-of date moved: the night keeps the lifetime
    # values estimated a day earlier (value.refit_time_share), which drift by ~1 day / T.
    fresh = run(made, tmp_path / "fresh.duckdb", config)
    cols = [
        "theme_id", "mentions", "negative_mentions", "customers", "unlinked_mentions",
        "corrected_people", "corrected_negative_mentions", "previous_mentions", "mean_clv",
    ]  # fmt: skip
    night, full = (
        r.pain_points[cols].sort_values("theme_id").reset_index(drop=True) for r in (third, fresh)
    )  # ranks differ: the night keeps the churn model fitted on the first 90 documents
    pd.testing.assert_frame_equal(night.drop(columns="mean_clv"), full.drop(columns="mean_clv"))
    assert any("kept the lifetime values" in w for w in third.warnings)
    pd.testing.assert_series_equal(night["mean_clv"], full["mean_clv"], rtol=0.01)
    assert not night["mean_clv"].equals(full["mean_clv"])  # kept, not re-estimated
    assert third.pain_points["corrected_people"].notna().any()

    day = pd.Timestamp(after["created_at"].min()).floor("D")
    in_day = int((after["created_at"] < day + pd.Timedelta(days=1)).sum())
    backfill = run(
        made,
        wh,
        config,
        backfill_from=str(day.date()),
        backfill_to=str((day + pd.Timedelta(days=1)).date()),
    )
    assert backfill.counts["new"] == in_day > 0
    assert (feedback(wh)["run_id"] == backfill.run_id).sum() == in_day
    with duckdb.connect(str(wh), read_only=True) as con:
        runs = con.execute("SELECT counts FROM runs ORDER BY started_at").df()["counts"]
    assert [json.loads(c)["new"] for c in runs] == [90, 0, 4, in_day]


def _normalizers_held() -> int:
    from cxtext.normalize import persian

    return persian._normalizer.cache_info().currsize


def test_worker_processes_store_the_same_rows_as_threads(corpus, tmp_path: Path) -> None:
    made, config = corpus
    threads = run(made, tmp_path / "threads.duckdb", config)
    assert _normalizers_held() == 1  # threads: the flow's process normalized the documents
    processes = nightly.with_options(task_runner=LocalProcessTaskRunner(max_workers=2))(
        feedback=[str(made.feedback_dir)],
        customers=str(made.customers),
        transactions=str(made.transactions),
        warehouse=str(tmp_path / "processes.duckdb"),
        config=str(config),
    )
    assert threads.counts == processes.counts
    # text_hash is keyed by each warehouse's own pseudonym key: equal only within one
    per_warehouse = ["run_id", "text_hash"]
    a = feedback(tmp_path / "threads.duckdb").drop(columns=per_warehouse)
    b = feedback(tmp_path / "processes.duckdb").drop(columns=per_warehouse)
    assert len(a) == 90
    pd.testing.assert_frame_equal(a, b)
    cols = ["theme_id", "mentions", "clv_at_risk"]
    pd.testing.assert_frame_equal(threads.pain_points[cols], processes.pain_points[cols])
    # with workers the flow dropped hazm's normalizer (~100 MiB) once they took the
    # partitions, and no later stage of the run built it again
    assert _normalizers_held() == 0
