"""The CPU's int8 ceiling for the e5 network: how fast could any runtime be here?

Two measurements on one thread, both in CPU time so that load on a shared machine
does not lower them much:

* **instruction peak**: a tiny C loop of independent ``vpdpbusd`` (AVX-512 VNNI, 32
  and 64 uint8 x int8 multiply-adds per instruction) and, for comparison,
  ``vfmadd231ps`` (fp32), compiled with the system's C compiler at run time. Nothing
  that multiplies matrices can beat it on this core.
* **GEMM kernels** at the network's shapes (tokens x 384 -> 384, 1152 (q, k, v
  together), 1536, and 1536 -> 384) through onnxruntime on one thread: the int8
  kernel the runtime uses (``MatMulIntegerToFloat`` on codes already quantized), the
  same with the per-token dynamic quantization in front of it (what each linear layer
  of the runtime pays), and float32 ``MatMul``.

From them: the documents per CPU-second of a runtime that spent no time anywhere but
in those kernels, given the network's cost per text (~42 MFLOP per token, counted as
2 operations per multiply-add, int8 or fp32 alike). ``benchmarks/encoder_speed.py``
runs this in the same run as the package it compares with; run alone it prints the
table (``--json`` writes it). Usage::

    PYTHONPATH=$PWD nice -n 10 .venv/bin/python benchmarks/int8_ceiling.py
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

HIDDEN, FF = 384, 1536
# (K in, N out, times per layer): q, k and v are three 384x384 products in the runtime
SHAPES = ((HIDDEN, HIDDEN, 4), (HIDDEN, 3 * HIDDEN, 0), (HIDDEN, FF, 1), (FF, HIDDEN, 1))
# tokens per product: one text of ~30 tokens, the runtime's batches (<= 256 padded
# tokens), and a large batch
TOKENS = (32, 256, 2048)
BATCH = 256  # the runtime's batch: encoder.embed_texts' batch_tokens
MIN_CPU_S = 0.1  # each timing runs at least this long; the best of REPEATS is kept
REPEATS = 3
PEAK_ITERS = 100_000_000  # turns of a 12-instruction loop: ~0.2 s per kind on this CPU

PEAK_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) {
  struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9;
}
#define S(x) #x
#define X12(I) I(0) I(1) I(2) I(3) I(4) I(5) I(6) I(7) I(8) I(9) I(10) I(11)
#define YV(i) "vpdpbusd %%ymm13, %%ymm14, %%ymm" S(i) "\n\t"
#define ZV(i) "vpdpbusd %%zmm13, %%zmm14, %%zmm" S(i) "\n\t"
#define YF(i) "vfmadd231ps %%ymm13, %%ymm14, %%ymm" S(i) "\n\t"
#define ZF(i) "vfmadd231ps %%zmm13, %%zmm14, %%zmm" S(i) "\n\t"
/* twelve independent accumulators: enough to hide every latency on two pipes */
#define LOOP(BODY, OPS) { long n = iters; double t = now(); __asm__ volatile( \
  "vpxord %%zmm13, %%zmm13, %%zmm13\n\tvpxord %%zmm14, %%zmm14, %%zmm14\n\t1:\n\t" \
  X12(BODY) "dec %0\n\tjnz 1b\n\t" : "+r"(n) :: "cc", "xmm0", "xmm1", "xmm2", "xmm3", \
  "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm13", "xmm14"); \
  printf("%s\"%s\": %.1f", first ? "" : ", ", #BODY, iters * 12.0 * OPS / (now() - t) / 1e9); \
  first = 0; }
int main(int argc, char **argv) {
  long iters = argc > 1 ? atol(argv[1]) : 100000000; int first = 1;
  printf("{");
  LOOP(YV, 64) LOOP(ZV, 128) LOOP(YF, 16) LOOP(ZF, 32)
  printf("}\n");
  return 0;
}
"""
PEAK_NAMES = {
    "YV": "int8 VNNI, 256-bit",
    "ZV": "int8 VNNI, 512-bit",
    "YF": "fp32 FMA, 256-bit",
    "ZF": "fp32 FMA, 512-bit",
}


def cpu_flags() -> set[str]:
    info = Path("/proc/cpuinfo")
    return set(info.read_text(errors="ignore").split()) if info.exists() else set()


def instruction_peak(iters: int = 0) -> dict:
    """GOP per CPU-second of ``vpdpbusd`` / ``vfmadd231ps`` on one core (best of 3), or
    ``{"skipped": why}`` where there is no C compiler or no AVX-512 VNNI."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return {"skipped": "no C compiler (cc/gcc) on the PATH"}
    if "avx512_vnni" not in cpu_flags():
        return {"skipped": "the CPU has no AVX-512 VNNI"}
    with tempfile.TemporaryDirectory() as tmp:
        source, binary = Path(tmp) / "peak.c", Path(tmp) / "peak"
        source.write_text(PEAK_C, encoding="utf-8")
        iters = iters or PEAK_ITERS
        built = subprocess.run(
            [compiler, "-O2", "-o", str(binary), str(source)], capture_output=True, text=True
        )
        if built.returncode:  # e.g. an assembler too old for vpdpbusd
            return {"skipped": f"{compiler} could not build the loop: {built.stderr[-200:]}"}
        runs = [
            json.loads(
                subprocess.run(
                    [str(binary), str(iters)], check=True, capture_output=True, text=True
                ).stdout
            )
            for _ in range(REPEATS)
        ]
    return {PEAK_NAMES[k]: max(r[k] for r in runs) for k in PEAK_NAMES}


def _session(nodes: list, inputs: list, weights: list):
    import onnxruntime as ort
    from onnx import helper as oh

    graph = oh.make_graph(nodes, "gemm", inputs, [oh.make_tensor_value_info("y", 1, None)], weights)
    opsets = [oh.make_opsetid("", 21), oh.make_opsetid("com.microsoft", 1)]
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    data = oh.make_model(graph, opset_imports=opsets).SerializeToString()
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def gemm_sessions(k: int, n: int) -> dict:
    """name -> (session, input builder): the three ways one linear layer can run."""
    from onnx import TensorProto, numpy_helper
    from onnx import helper as oh

    rng = np.random.default_rng(0)
    w8 = rng.integers(-127, 128, (k, n), dtype=np.int8)
    w32 = rng.standard_normal((k, n)).astype(np.float32)
    consts = [
        numpy_helper.from_array(w8, "w8"),
        numpy_helper.from_array(np.full(n, 0.01, np.float32), "ws"),
        numpy_helper.from_array(np.array(128, np.uint8), "z"),
        numpy_helper.from_array(np.array([128], np.uint8), "z1"),
        numpy_helper.from_array(np.array([-1], np.int64), "axis"),
        numpy_helper.from_array(np.array(1e-12, np.float32), "tiny"),
        numpy_helper.from_array(np.array(1 / 127, np.float32), "inv"),
    ]
    mmitf = {"domain": "com.microsoft"}
    codes = [
        oh.make_tensor_value_info("q", TensorProto.UINT8, ["M", k]),
        oh.make_tensor_value_info("s", TensorProto.FLOAT, ["M", 1]),
    ]
    x = [oh.make_tensor_value_info("x", TensorProto.FLOAT, ["M", k])]
    # the runtime's per-token quantization (encoder._onnx_graph's quantize, row mode)
    dynamic = [
        oh.make_node("Abs", ["x"], ["a"]),
        oh.make_node("ReduceMax", ["a", "axis"], ["m"], keepdims=1),
        oh.make_node("Max", ["m", "tiny"], ["m2"]),
        oh.make_node("Mul", ["m2", "inv"], ["s"]),
        oh.make_node("Shape", ["s"], ["sh"]),
        oh.make_node("ConstantOfShape", ["sh"], ["zr"], value=consts[3]),
        oh.make_node("QuantizeLinear", ["x", "s", "zr"], ["q"], axis=-1, block_size=k),
        oh.make_node("MatMulIntegerToFloat", ["q", "w8", "s", "ws", "z"], ["y"], **mmitf),
    ]
    return {
        "int8 kernel": _session(
            [oh.make_node("MatMulIntegerToFloat", ["q", "w8", "s", "ws", "z"], ["y"], **mmitf)],
            codes,
            consts[:3],
        ),
        "int8 + dynamic quantization": _session(dynamic, x, consts),
        "fp32 MatMul": _session(
            [oh.make_node("MatMul", ["x", "w32"], ["y"])], x, [numpy_helper.from_array(w32, "w32")]
        ),
    }


def _best_cpu_s(run) -> float:
    """Seconds of CPU per call: the best of REPEATS timings of >= MIN_CPU_S each."""
    run()
    calls, best = 1, float("inf")
    for _ in range(REPEATS):
        while True:
            start = time.process_time()
            for _ in range(calls):
                run()
            spent = time.process_time() - start
            if spent >= MIN_CPU_S:
                break
            calls *= 2
        best = min(best, spent / calls)
    return best


def gemm_throughput(tokens: tuple[int, ...] = TOKENS) -> list[dict]:
    """GOP per CPU-second of each kernel at each (tokens, K, N), one thread."""
    rng = np.random.default_rng(1)
    rows = []
    for k, n, _ in SHAPES:
        sessions = gemm_sessions(k, n)
        for m in tokens:
            x = rng.standard_normal((m, k)).astype(np.float32)
            feeds = {
                "int8 kernel": {
                    "q": rng.integers(0, 256, (m, k), dtype=np.uint8),
                    "s": np.full((m, 1), 0.01, np.float32),
                },
                "int8 + dynamic quantization": {"x": x},
                "fp32 MatMul": {"x": x},
            }
            for name, session in sessions.items():
                seconds = _best_cpu_s(lambda s=session, f=feeds[name]: s.run(None, f))
                rows.append(
                    {
                        "kernel": name,
                        "tokens": m,
                        "k": k,
                        "n": n,
                        "gops_per_cpu_s": round(2 * m * k * n / seconds / 1e9, 1),
                    }
                )
    return rows


def network_rate(rows: list[dict], kernel: str, tokens: int) -> float:
    """GOP per CPU-second of one layer's products as the runtime runs them (q, k, v,
    out, ff in, ff out), each at ``kernel``'s measured speed at ``tokens`` tokens."""
    speed = {
        (r["k"], r["n"]): r["gops_per_cpu_s"]
        for r in rows
        if r["kernel"] == kernel and r["tokens"] == tokens
    }
    ops = sum(times * k * n for k, n, times in SHAPES)
    return ops / sum(times * k * n / speed[(k, n)] for k, n, times in SHAPES)


def measure(tokens: tuple[int, ...] = ()) -> dict:
    tokens = tokens or TOKENS
    rows = gemm_throughput(tokens)
    return {
        "instruction_peak_gops": instruction_peak(),
        "gemm": rows,
        "network_gops_per_cpu_s": {
            kernel: {m: round(network_rate(rows, kernel, m), 1) for m in tokens}
            for kernel in ("int8 kernel", "int8 + dynamic quantization", "fp32 MatMul")
        },
    }


def ceilings(result: dict, gflop_per_text: float, package_docs_per_cpu_s: float) -> list[dict]:
    """Documents per CPU-second if every operation ran at each measured rate, and that
    over the package's documents per CPU-second (the most any runtime could gain here)."""
    peak = result["instruction_peak_gops"]
    rates = [
        (f"the {name} instruction peak (nothing but that instruction, every cycle)", gops)
        for name, gops in peak.items()
        if name != "skipped" and "512" in name
    ]
    net = result["network_gops_per_cpu_s"]
    rates += [
        (f"onnxruntime {kernel}, 256-token batches", rate[256]) for kernel, rate in net.items()
    ]
    return [
        {
            "rate": name,
            "gops_per_cpu_s": gops,
            "docs_per_cpu_s": round(gops / gflop_per_text, 1),
            "over_package": round(gops / gflop_per_text / package_docs_per_cpu_s, 1),
        }
        for name, gops in rates
    ]


def render(result: dict) -> list[str]:
    """Markdown lines: the instruction peaks and the GEMM table."""
    peak = result["instruction_peak_gops"]
    tokens = sorted({r["tokens"] for r in result["gemm"]})
    lines = []
    if "skipped" in peak:
        lines.append(f"Instruction peak not measured: {peak['skipped']}.")
    else:
        lines.append(
            "Instruction peak, one core (a C loop of independent instructions, GOP per "
            "CPU-second, 2 operations per multiply-add): "
            + ", ".join(f"{name} {gops:.0f}" for name, gops in peak.items())
            + "."
        )
    lines += [
        "",
        "| product (K → N) | kernel, one thread | "
        + " | ".join(f"{m} tokens" for m in tokens)
        + " |",
        "|---|---|" + "---:|" * len(tokens),
    ]
    by_shape: dict = {}
    for r in result["gemm"]:
        by_shape.setdefault((r["k"], r["n"], r["kernel"]), {})[r["tokens"]] = r["gops_per_cpu_s"]
    for (k, n, kernel), speeds in by_shape.items():
        lines.append(
            f"| {k} → {n} | {kernel} | " + " | ".join(f"{speeds[m]:.0f}" for m in tokens) + " |"
        )
    for kernel, rate in result["network_gops_per_cpu_s"].items():
        lines.append(
            f"| one layer's products | {kernel} | "
            + " | ".join(f"**{rate[m]:.0f}**" for m in tokens)
            + " |"
        )
    return lines


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    result = measure()
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("\n".join(render(result)))
    return result


if __name__ == "__main__":
    main()
