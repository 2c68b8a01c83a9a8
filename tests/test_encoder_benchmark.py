"""`make benchmarks`: the encoder benchmark regenerates benchmarks/results/encoder.md."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("CXTEXT_DATASETS", REPO.parent / "shared" / "datasets"))


@pytest.mark.slow
def test_encoder_benchmark_writes_its_table():
    if not (DATASETS / "en_banking77" / "train.csv").exists():
        pytest.skip(f"shared datasets not found in {DATASETS} (set CXTEXT_DATASETS)")
    out = REPO / "benchmarks" / "results" / "encoder.md"
    subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "encoder.py"), "--datasets", str(DATASETS)],
        check=True,
        cwd=REPO,
    )
    text = out.read_text(encoding="utf-8")
    assert "| Banking77 (en) |" in text and "documents/s" in text
