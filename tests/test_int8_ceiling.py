"""benchmarks/int8_ceiling.py: the documents-per-CPU-second ceiling from measured rates."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import int8_ceiling  # noqa: E402


def _rows(speed: dict) -> list[dict]:
    return [
        {"kernel": "int8 kernel", "tokens": 256, "k": k, "n": n, "gops_per_cpu_s": speed[(k, n)]}
        for k, n, _ in int8_ceiling.SHAPES
    ]


def test_network_rate_weighs_each_product_by_its_share_of_the_arithmetic():
    even = {(k, n): 300.0 for k, n, _ in int8_ceiling.SHAPES}
    assert int8_ceiling.network_rate(_rows(even), "int8 kernel", 256) == pytest.approx(300.0)
    # the two 384x1536 products are 2/3 of a layer's multiply-adds (q, k, v, out: 1/3)
    slow_ff = even | {(384, 1536): 100.0, (1536, 384): 100.0}
    assert int8_ceiling.network_rate(_rows(slow_ff), "int8 kernel", 256) == pytest.approx(
        1 / (2 / 3 / 100 + 1 / 3 / 300)
    )


def test_ceilings_turn_rates_into_documents_and_ratios_over_the_package():
    result = {
        "instruction_peak_gops": {"int8 VNNI, 512-bit": 460.0, "fp32 FMA, 512-bit": 115.0},
        "network_gops_per_cpu_s": {"int8 kernel": {256: 350.0}},
    }
    rows = int8_ceiling.ceilings(result, gflop_per_text=1.25, package_docs_per_cpu_s=30.0)
    peak, fp32, kernel = rows
    assert "int8 VNNI" in peak["rate"] and peak["docs_per_cpu_s"] == 368.0
    assert "fp32" in fp32["rate"] and fp32["docs_per_cpu_s"] == 92.0
    assert peak["over_package"] == round(368.0 / 30.0, 1)
    assert kernel["docs_per_cpu_s"] == 280.0 and kernel["over_package"] == 9.3


def test_gemm_timings_run_each_kernel_at_each_shape(monkeypatch):
    monkeypatch.setattr(int8_ceiling, "MIN_CPU_S", 0.001)
    monkeypatch.setattr(int8_ceiling, "REPEATS", 1)
    rows = int8_ceiling.gemm_throughput((8,))
    kernels = {"int8 kernel", "int8 + dynamic quantization", "fp32 MatMul"}
    assert {r["kernel"] for r in rows} == kernels
    assert len(rows) == len(kernels) * len(int8_ceiling.SHAPES)
    assert all(r["gops_per_cpu_s"] > 0 for r in rows)


def test_no_compiler_is_said_not_hidden(monkeypatch):
    monkeypatch.setattr(int8_ceiling.shutil, "which", lambda name: None)
    peak = int8_ceiling.instruction_peak()
    assert peak == {"skipped": "no C compiler (cc/gcc) on the PATH"}
    result = {"instruction_peak_gops": peak, "gemm": [], "network_gops_per_cpu_s": {}}
    assert int8_ceiling.render(result)[0] == f"Instruction peak not measured: {peak['skipped']}."
    assert int8_ceiling.ceilings(result, 1.29, 30.0) == []
