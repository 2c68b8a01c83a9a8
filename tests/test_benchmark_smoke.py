"""The throughput harness runs end to end on a tiny corpus and writes its JSON (no timing asserted)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import throughput  # noqa: E402


def test_harness_completes_and_writes_its_results(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    throughput.main(
        [
            "--docs",
            "200",
            "--datasets",
            "sample",
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(out),
            "--naive-docs",
            "20",
            "--skip-accuracy",
            "--runner",
            "threads",
        ]
    )
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["full"]["documents"] == 200
    assert result["incremental"]["documents"] == 2
    assert result["unchanged"]["documents"] == 0
    assert {"partitions", "partitions:normalize", "partitions:classify"} <= set(
        result["full"]["stages"]
    )
    assert result["floor"]["docs_per_s"] > 0 and result["naive"]["sample"] == 20
    assert result["full"]["cpu_seconds"] > 0 and result["full"]["peak_rss_mib"] > 0
    assert result["floor"]["cpu_seconds"] > 0
    acc = result["full"]["cpu_accounting"]  # every CPU-second of the run placed somewhere
    assert acc["memory_sampler_excluded"] > 0 and acc["flow_process"] > 0
    assert acc["flow_process_in_stage_timers"] <= acc["flow_process"] + 0.5
    ratios = result["ratios"]
    assert set(ratios) - {"pipeline_without_discovery_vs_floor_cpu"} == {
        "pipeline_vs_floor",
        "pipeline_vs_floor_cpu",
        "pipeline_vs_naive",
        "incremental_vs_full",
        "incremental_vs_full_cpu",
    }
    if "pipeline_without_discovery_vs_floor_cpu" in ratios:  # discovery ran and took CPU
        assert ratios["pipeline_without_discovery_vs_floor_cpu"] >= ratios["pipeline_vs_floor_cpu"]
    assert not (tmp_path / "work").exists()  # the generated corpus is removed


def test_synthetic_classified_runs_the_value_stages_over_planted_labels(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    throughput.main(
        [
            *("--docs", "300", "--datasets", "sample", "--synthetic-classified"),
            *("--work", str(tmp_path / "work"), "--out", str(out), "--runner", "threads"),
        ]
    )
    result = json.loads(out.read_text(encoding="utf-8"))
    full = result["full"]
    # nothing new to classify: the night's file is already stored
    assert full["counts"]["new"] == 0 and full["counts"]["partitions"] == 0
    # ...but the churn model, pain points and discovery ran over all 300 stored documents
    assert {"gather", "uplift", "pain_points", "discover"} <= set(full["stages"])
    assert full["counts"]["customers_valued"] == 50 and full["counts"]["pain_points"] > 0
    assert result["synthetic_classified"] and "floor" not in result
    assert not (tmp_path / "work").exists()


def test_planted_labels_are_stored_as_the_classifiers_would(tmp_path: Path) -> None:
    from benchmarks.corpus import generate_classified
    from cxtext.store.warehouse import open_warehouse

    ids = ["billing", "delivery", "app_bugs"]
    corpus = generate_classified(None, tmp_path, 250, tmp_path / "cx.duckdb", ids)
    with open_warehouse(tmp_path / "cx.duckdb") as wh:
        stored = wh.read_feedback()
    assert len(stored) == 250 and stored["id"].is_unique
    topics = [json.loads(t) for t in stored["topics"]]
    assert set().union(*topics) <= set(ids) and any(not t for t in topics)
    aspects = [json.loads(a) for a in stored["aspect_sentiment"]]
    pairs = [(a, t) for a, t in zip(aspects, topics, strict=True) if set(a) != set(t)]
    assert not pairs, pairs[:3]
    night = pd.read_csv(corpus.new_file, dtype=str)
    assert set(night["id"]) <= set(stored["id"])  # a night over it finds nothing new


def test_memory_sampler_keeps_peaks_and_its_own_cpu_per_label() -> None:
    """The harness's sampler reads PSS (a page-table walk per process, costly), so it keeps
    its own CPU seconds per label for the harness to subtract from the pipeline's."""
    import time

    with throughput.RssSampler(interval=0.01, pss_interval=0.05) as sampler:
        with sampler.labelled("phase:stage"):
            block = bytearray(64 * 2**20)  # 64 MiB touched while the stage runs
            block[::4096] = b"x" * len(block[::4096])
            time.sleep(0.5)
        del block
    assert sampler.peaks["phase:stage"] >= 64 * 2**20
    assert 0 < sampler.pss_peaks["phase:stage"] <= sampler.peaks["_all"]
    assert sampler.cpu["phase:stage"] > 0
    assert sampler.cpu_of("phase") == sampler.cpu["phase:stage"]
    assert sampler.cpu_of("other") == 0
