"""The throughput harness runs end to end on a tiny corpus and writes its JSON (no timing asserted)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

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
    assert set(result["ratios"]) == {
        "pipeline_vs_floor",
        "pipeline_vs_floor_cpu",
        "pipeline_vs_naive",
        "incremental_vs_full",
    }
    assert not (tmp_path / "work").exists()  # the generated corpus is removed
