"""`make benchmarks`: the encoder benchmark regenerates benchmarks/results/encoder.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_encoder_benchmark_writes_its_table(shared_datasets):
    out = REPO / "benchmarks" / "results" / "encoder.md"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "encoder.py"),
            "--datasets",
            str(shared_datasets),
        ],
        check=True,
        cwd=REPO,
    )
    text = out.read_text(encoding="utf-8")
    assert "| Banking77 (en) |" in text and "documents/s" in text
