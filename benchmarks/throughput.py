"""Throughput benchmark: the nightly flow on a generated corpus, beside its floor and a naive loop.

One command measures, in one run on one machine:

- **full run**: the nightly flow over ``--docs`` documents spread over 90 days (one CSV
  per day, customers and transactions; see :mod:`benchmarks.corpus`): seconds, docs/s
  and peak RSS (this process and its workers) per stage and end to end. Prefect's
  start-up (the temporary API server) is timed apart and excluded.
- **incremental run**: one more day with 1% new documents, same warehouse.
- **unchanged run**: the same input again (should find 0 new documents).
- **floor**: hazm normalization + tokenization + one vectorization per model vocabulary +
  every model head, as a plain loop over the same documents in this process.
- **naive**: the same steps per document through ``DataFrame.apply`` on a subsample,
  scaled to the corpus.
- **accuracy** of the shipped models on the shared held-out splits, through the saved
  pipeline (``cxtext predict``) and through the flow's normalize + classify path.

``--synthetic-classified`` measures the value stages alone (churn model, pain points,
discovery), at sizes where classifying the corpus would take hours on two cores: the
warehouse is filled with documents whose classified columns are the generator's
planted labels (:func:`benchmarks.corpus.generate_classified`), and one night over it
reads nothing new but refits everything over the whole stored history. It measures
those stages' memory and time, not classification.

Usage (from the repository root)::

    PYTHONPATH=$PWD nice -n 10 python benchmarks/throughput.py --docs 100000

writes ``benchmarks/results/throughput-<docs>.json`` and prints a markdown table (pasted
into ``benchmarks/README.md``). ``make benchmarks`` runs it at 100k.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.corpus import generate_classified, generate_corpus  # noqa: E402

DATASETS = REPO.parent / "shared" / "datasets"
if not DATASETS.exists():  # a git worktree under /work/wt/NAME
    DATASETS = REPO.parents[1] / "shared" / "datasets"
CHUNK = 20_000


# --- memory -------------------------------------------------------------------------


class RssSampler:
    """Peak memory of this process and its children, per labelled interval.

    Sums RSS over the process tree every ``interval`` seconds (library pages the
    processes share count once per process, so the figure errs high), and PSS
    (proportional set size: a page shared by n processes counts 1/n in each, so the
    sum is the memory the tree really occupies) beside it in ``pss_peaks``.

    Reading PSS makes the kernel walk every page of every process (~7 ms per process
    of a few hundred MiB here); at every 50 ms sample that cost 25 CPU-s over a 20k
    run, charged to this process and counted as the pipeline's until session 7. So
    PSS is read every ``pss_interval`` seconds and whenever the tree's RSS reaches a
    new peak for the label, the process list is refreshed every ``pss_interval``, and
    this thread's own CPU seconds are kept per label in ``cpu`` for the harness to
    subtract: the instrument is not the pipeline.
    """

    def __init__(self, interval: float = 0.05, pss_interval: float = 1.0) -> None:
        self.interval = interval
        self.pss_interval = pss_interval
        self.label = "idle"
        self.peaks: dict[str, int] = {}
        self.pss_peaks: dict[str, int] = {}
        self.cpu: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._me = psutil.Process()

    def _tree(self) -> list[psutil.Process]:
        """This process and its children, Prefect's API server (and its watchdog) left out."""
        out = []
        for p in [self._me, *self._me.children(recursive=True)]:
            with suppress(psutil.Error):
                if p is self._me or not _is_prefect_server(p):
                    out.append(p)
        return out

    def tree_rss(self) -> int:
        return sum(_memory(p, "rss") for p in self._tree())

    def tree_memory(self) -> tuple[int, int]:
        """(Σ RSS, Σ PSS) of the tree."""
        rss = pss = 0
        for p in self._tree():
            rss += _memory(p, "rss")
            pss += _memory(p, "pss")
        return rss, pss

    def _run(self) -> None:
        tree: list[psutil.Process] = []
        last_pss = -self.pss_interval
        while not self._stop.is_set():
            c0, now, label = time.thread_time(), time.monotonic(), self.label
            due = now - last_pss >= self.pss_interval
            if due:
                tree = self._tree()
            rss = sum(_memory(p, "rss") for p in tree)
            new_peak = rss > 1.01 * self.peaks.get(label, 0)  # grown by 1% at least
            for key in {label, "_all"}:
                self.peaks[key] = max(self.peaks.get(key, 0), rss)
            if due or (new_peak and now - last_pss >= self.pss_interval / 4):
                pss = sum(_memory(p, "pss") for p in tree)
                last_pss = now
                for key in {label, "_all"}:
                    self.pss_peaks[key] = max(self.pss_peaks.get(key, 0), pss)
            self.cpu[label] = self.cpu.get(label, 0.0) + time.thread_time() - c0
            time.sleep(self.interval)

    def cpu_of(self, phase: str) -> float:
        """This thread's CPU seconds in ``phase`` and its stages."""
        return sum(v for k, v in self.cpu.items() if k == phase or k.startswith(f"{phase}:"))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @contextmanager
    def labelled(self, label: str) -> Iterator[None]:
        previous, self.label = self.label, label
        self.peaks[label] = max(self.peaks.get(label, 0), self.tree_rss())
        try:
            yield
        finally:
            self.peaks[label] = max(self.peaks.get(label, 0), self.tree_rss())
            self.label = previous


def _memory(p: psutil.Process, kind: str) -> int:
    """A process's RSS or PSS in bytes (0 once it has exited)."""
    with suppress(psutil.Error):
        return getattr(p.memory_full_info() if kind == "pss" else p.memory_info(), kind)
    return 0


def _is_prefect_server(p: psutil.Process) -> bool:
    cmd = " ".join(p.cmdline())
    return any(
        mark in cmd for mark in ("uvicorn", "prefect.server", "prefect server", "prefect_server")
    )


def api_server_cpu() -> float:
    """CPU seconds so far of Prefect's API server (the temporary one this process started).

    Not a finished child, so ``cpu_seconds`` never counted it; the task runs' state
    changes and logs are its work during a run, so a phase counts its difference.
    """
    total = 0.0
    for p in psutil.Process().children(recursive=True):
        with suppress(psutil.Error):
            if _is_prefect_server(p):
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
    return total


def mib(n: int) -> float:
    return round(n / 2**20, 1)


def _rusage_seconds(r: resource.struct_rusage) -> float:
    return r.ru_utime + r.ru_stime


def children_cpu() -> float:
    """CPU seconds of this process's finished (waited-for) children: the worker pools."""
    return _rusage_seconds(resource.getrusage(resource.RUSAGE_CHILDREN))


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker pools).

    Workers end with their flow run, so a phase's difference counts them; Prefect's API
    server runs until the end and is not in it (:func:`api_server_cpu`), and the memory
    sampler's thread is (``RssSampler.cpu``).
    """
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


# --- the flow -----------------------------------------------------------------------


def prefect_startup() -> float:
    """Seconds for a trivial flow: starts the temporary API server when none runs."""
    from prefect import flow

    @flow(name="cxtext-benchmark-warmup")
    def warmup() -> int:
        return 1

    t0 = time.perf_counter()
    warmup()
    return round(time.perf_counter() - t0, 2)


def run_flow(
    phase: str,
    sampler: RssSampler,
    *,
    feedback: Path,
    customers: Path,
    transactions: Path,
    warehouse: Path,
    config: Path | None,
    runner: str,
    workers: int,
) -> dict[str, Any]:
    """One nightly run: seconds, docs/s and peak RSS per stage and overall."""
    from cxtext.config import load_settings
    from pipelines.nightly import nightly
    from pipelines.progress import listening
    from pipelines.runners import dask_task_runner, task_runner

    def listener(stage: str, event: str, total: int | None) -> None:
        if event == "start":
            sampler.label = f"{phase}:{stage}"
        elif event == "done":
            sampler.label = phase

    if runner == "dask":
        chosen = dask_task_runner(workers)
    elif runner == "processes":  # as `cxtext run` chooses (small reads stay in process)
        chosen = task_runner(workers, settings=load_settings(str(config) if config else None).run)
    else:
        chosen = task_runner(0)
    flow_run = nightly.with_options(task_runner=chosen)
    with sampler.labelled(phase), listening(listener):
        t0, c0, s0 = time.perf_counter(), cpu_seconds(), api_server_cpu()
        m0, w0 = resource.getrusage(resource.RUSAGE_SELF), children_cpu()
        summary = flow_run(
            feedback=[str(feedback)],
            customers=str(customers),
            transactions=str(transactions),
            warehouse=str(warehouse),
            config=str(config) if config else None,
        )
        seconds = time.perf_counter() - t0
    sampling = sampler.cpu_of(phase)
    server = api_server_cpu() - s0
    flow_process = _rusage_seconds(resource.getrusage(resource.RUSAGE_SELF)) - _rusage_seconds(m0)
    workers = children_cpu() - w0
    # the pipeline's CPU: the flow process (less the memory sampler's thread, which is
    # this harness's instrument), its finished workers, and Prefect's API server
    cpu = cpu_seconds() - c0 - sampling + server
    counts = dict(summary.counts)
    docs = counts.get("new", 0)
    timed = dict(summary.stage_seconds)
    for name in [k for k in timed if k.endswith(":cpu")]:  # the flow process's: less the sampler
        timed[name] = round(max(timed[name] - sampler.cpu.get(f"{phase}:{name[:-4]}", 0.0), 0.0), 3)
    # CPU seconds: the partition steps' (timed in the workers), the flow process's for
    # the other stages; the partitions' own is the sum of its steps
    steps = [k for k in timed if k.startswith("partitions:") and k.endswith("_cpu")]
    if steps:
        timed["partitions_cpu"] = round(sum(timed[k] for k in steps), 3)
    for name in [k for k in timed if k.endswith(":cpu")]:
        timed.setdefault(f"{name[:-4]}_cpu", timed[name])
    stages = {
        name: {
            "seconds": s,
            "docs_per_s": round(docs / s, 1) if s and name.startswith("partitions") else None,
            "cpu_seconds": timed.get(f"{name}_cpu"),
            "docs_per_cpu_s": round(docs / timed[f"{name}_cpu"], 1)
            if timed.get(f"{name}_cpu") and name.startswith("partitions")
            else None,
            "peak_rss_mib": mib(sampler.peaks.get(f"{phase}:{name}", 0)),
            "peak_pss_mib": mib(sampler.pss_peaks.get(f"{phase}:{name}", 0)),
        }
        for name, s in timed.items()
        if not name.endswith(("_cpu", ":cpu"))
    }
    flow_stages = sum(v for k, v in timed.items() if k.endswith(":cpu"))
    worker_steps = sum(timed.get(f"partitions:{k}_cpu", 0.0) for k in ("normalize", "classify"))
    return {
        "seconds": round(seconds, 2),
        "documents": docs,
        "docs_per_s": round(docs / seconds, 1) if seconds else None,
        "cpu_seconds": round(cpu, 1),
        # where every CPU-second went (see benchmarks/README.md, session 7)
        "cpu_accounting": {
            "flow_process": round(flow_process - sampling, 1),
            "flow_process_in_stage_timers": round(flow_stages, 1),
            "workers": round(workers, 1),
            "workers_in_step_timers": round(worker_steps, 1),
            "api_server": round(server, 1),
            "memory_sampler_excluded": round(sampling, 1),
        },
        "docs_per_cpu_s": round(docs / cpu, 1) if cpu else None,
        "load_average_after": round(os.getloadavg()[0], 2),
        # the phase's own label and its stages' ("full:partitions", ...)
        "peak_rss_mib": mib(_phase_peak(sampler.peaks, phase)),
        "peak_pss_mib": mib(_phase_peak(sampler.pss_peaks, phase)),
        "warnings": list(summary.warnings),
        "counts": counts,
        "stages": stages,
    }


def _phase_peak(peaks: dict[str, int], phase: str) -> int:
    return max((v for k, v in peaks.items() if k == phase or k.startswith(f"{phase}:")), default=0)


# --- floor and naive baseline -------------------------------------------------------


def _prepared(text: str) -> tuple[str, str, str]:
    """(language group, normalized text, its tokens joined by spaces): hazm normalization
    and tokenization once."""
    from cxtext.normalize.english import normalize_english, tokenize_english
    from cxtext.normalize.language import detect_language
    from cxtext.normalize.persian import normalize_persian, tokenize_persian

    if detect_language(text) in ("fa", "mixed"):
        normalized = normalize_persian(text)
        return "fa", normalized, " ".join(tokenize_persian(normalized))
    normalized = normalize_english(text)
    return "en", normalized, " ".join(tokenize_english(normalized))


Head = tuple[bool, Any]  # (takes the prepared tokens, estimator)


def _heads(classifiers: Any) -> tuple[dict[str, Head], Head | None]:
    """Each model without its TextPreparer (vectorizer(s) + head), reading the prepared
    tokens; a model whose preparation cannot be split off (an encoder feature beside the
    TF-IDF) reads the normalized text and runs its own steps, as in the flow."""
    from cxtext.classify.stage import _split_preparation

    def head(model: Any) -> Head:
        prep, rest = _split_preparation(model)
        return prep is not None, rest

    sentiment = {lang: head(m) for lang, m in classifiers.sentiment.items()}
    return sentiment, head(classifiers.topic) if classifiers.topic is not None else None


def _predict(head: Head, normalized: list[str], tokens: list[str]) -> np.ndarray:
    takes_tokens, model = head
    return model.predict_proba(tokens if takes_tokens else normalized)


def floor_seconds(texts: list[str], classifiers: Any) -> tuple[float, float]:
    """(wall, CPU) seconds of the necessary work as a plain loop over chunks: prepare
    once, vectorize, every head."""
    sentiment, topic = _heads(classifiers)
    floor_pass(texts[:200], sentiment, topic)  # tokenizers built, as the flow's workers have them
    t0, c0 = time.perf_counter(), time.process_time()
    floor_pass(texts, sentiment, topic)
    return time.perf_counter() - t0, time.process_time() - c0


def floor_pass(texts: list[str], sentiment: dict[str, Head], topic: Head | None) -> None:
    for start in range(0, len(texts), CHUNK):
        triples = [_prepared(t) for t in texts[start : start + CHUNK]]
        groups = np.array([g for g, _, _ in triples])
        normalized = [n for _, n, _ in triples]
        tokens = [p for _, _, p in triples]
        for lang, head in sentiment.items():
            idx = np.flatnonzero(groups == lang)
            if len(idx):
                _predict(head, [normalized[i] for i in idx], [tokens[i] for i in idx])
        if topic is not None:
            _predict(topic, normalized, tokens)


def naive_seconds(texts: list[str], classifiers: Any) -> tuple[float, float]:
    """The same steps one document at a time through ``DataFrame.apply``."""
    sentiment, topic = _heads(classifiers)

    def one(text: str) -> float:
        group, normalized, tokens = _prepared(text)
        p = _predict(sentiment[group], [normalized], [tokens])[0, 0]
        if topic is not None:
            p += _predict(topic, [normalized], [tokens])[0, 0]
        return float(p)

    frame = pd.DataFrame({"text": texts})
    t0, c0 = time.perf_counter(), time.process_time()
    frame["text"].apply(one)
    return time.perf_counter() - t0, time.process_time() - c0


def corpus_texts(feedback: Path) -> list[str]:
    files = sorted(feedback.glob("*.csv"))
    return pd.concat(
        [pd.read_csv(f, usecols=["text"], dtype=str, keep_default_na=False) for f in files]
    )["text"].tolist()


# --- accuracy -----------------------------------------------------------------------


def held_out(datasets: Path) -> dict[str, tuple[list[str], list[str]]]:
    """The shipped sentiment models' held-out sets (the splits their cards report)."""
    from cxtext.classify.evaluation import split_indices
    from cxtext.classify.training import clean_labelled

    sys.path.insert(0, str(REPO / "scripts"))
    from train_models import persian_union

    _, fa = persian_union(datasets)
    frame = pd.read_csv(
        datasets / "en_airline_tweets" / "train.csv", dtype=str, keep_default_na=False
    )
    frame = frame[frame["text"].str.strip() != ""]
    data = clean_labelled(frame["text"], frame["sentiment"], task="sentiment", groups=None)
    strata = [f"{g}\x1f{lab}" for g, lab in zip(data.groups, data.labels, strict=True)]
    _, te = split_indices(strata, test_size=0.2, seed=42)
    return {
        "sentiment-fa": (fa["text"].tolist(), fa["sentiment"].tolist()),
        "sentiment-en": ([data.texts[i] for i in te], [data.labels[i] for i in te]),
    }


def accuracy(datasets: Path, classifiers: Any) -> dict[str, dict[str, float]]:
    """Accuracy through the saved pipeline and through the flow's normalize + classify."""
    from cxtext.classify.stage import classify_feedback
    from cxtext.normalize.documents import normalize_text

    out = {}
    for role, (texts, gold) in held_out(datasets).items():
        model = classifiers.sentiment[role.split("-")[1]]
        predicted = [str(p) for p in model.predict(texts)]
        pairs = [normalize_text(t) for t in texts]
        docs = pd.DataFrame(
            {"language": [p[0] for p in pairs], "text_redacted": [p[1] for p in pairs]}
        )
        flowed = classify_feedback(docs, classifiers, topic_threshold=0.5, neutral_band=0.2)[
            "sentiment"
        ]
        gold_arr = np.asarray(gold, dtype=object)
        out[role] = {
            "n": len(gold),
            "saved_pipeline": round(
                float(np.mean(np.asarray(predicted, dtype=object) == gold_arr)), 4
            ),
            "flow": round(float(np.mean(flowed.astype(object).to_numpy() == gold_arr)), 4),
        }
    return out


# --- the report ---------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def table(result: dict[str, Any]) -> str:
    """The markdown table of benchmarks/README.md."""
    rows = [
        "| phase / stage | seconds | CPU s | docs/s | docs/CPU-s | peak RSS MiB | PSS MiB | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in ("full", "incremental", "unchanged"):
        r = result.get(phase)
        if not r:
            continue
        rows.append(
            f"| **{phase}** ({r['documents']:,} docs) | {r['seconds']} | {r['cpu_seconds']} "
            f"| {r['docs_per_s']} | {r['docs_per_cpu_s']} | {r['peak_rss_mib']} "
            f"| {r['peak_pss_mib']} | {r['load_average_after']} |"
        )
        for name, s in r["stages"].items():
            rows.append(
                f"| {phase}: {name} | {s['seconds']} | {s['cpu_seconds'] or ''} "
                f"| {s['docs_per_s'] or ''} | {s['docs_per_cpu_s'] or ''} | {s['peak_rss_mib']} "
                f"| {s['peak_pss_mib']} | |"
            )
    f, n = result["floor"], result["naive"]
    rows.append(
        f"| floor (plain loop, 1 process) | {f['seconds']} | {f['cpu_seconds']} "
        f"| {f['docs_per_s']} | {f['docs_per_cpu_s']} | | | {f['load_average_after']} |"
    )
    rows.append(
        f"| naive (`.apply`, scaled from {n['sample']:,}) | {n['seconds_scaled']} "
        f"| {n['cpu_seconds_scaled']} | {n['docs_per_s']} | {n['docs_per_cpu_s']} | | | |"
    )
    r = result["ratios"]
    lines = [
        *rows,
        "",
        f"Prefect start-up (excluded above): {result['prefect_startup_seconds']} s. "
        f"Pipeline / floor speed: {r['pipeline_vs_floor']} (per CPU-second: "
        f"{r['pipeline_vs_floor_cpu']}); pipeline / naive speed: {r['pipeline_vs_naive']}; "
        f"incremental / full seconds: {r['incremental_vs_full']} (CPU: "
        f"{r.get('incremental_vs_full_cpu')}); pipeline without discovery / floor per "
        f"CPU-second: {r.get('pipeline_without_discovery_vs_floor_cpu')}.",
    ]
    for phase in ("full", "incremental"):
        if acc := result.get(phase, {}).get("cpu_accounting"):
            lines.append(
                f"CPU accounting ({phase}): flow process {acc['flow_process']} s "
                f"({acc['flow_process_in_stage_timers']} in its stages' timers), workers "
                f"{acc['workers']} s ({acc['workers_in_step_timers']} in their steps' timers), "
                f"Prefect API server {acc['api_server']} s; the memory sampler's "
                f"{acc['memory_sampler_excluded']} s excluded."
            )
    for role, acc in result.get("accuracy", {}).items():
        lines.append(
            f"Accuracy {role} (n={acc['n']:,}): saved pipeline {acc['saved_pipeline']}, flow {acc['flow']}."
        )
    return "\n".join(lines)


def write_config(
    folder: Path,
    partition_rows: int | None,
    processes_from_mb: float | None,
    models: Path | None = None,
) -> Path | None:
    """A settings file with the overridden keys, or None (the defaults)."""
    lines = []
    if models is not None:
        lines.append(f"paths:\n  models: {models.resolve()}\n")
    if partition_rows is not None:
        lines.append(f"ingest:\n  partition_rows: {partition_rows}\n")
    if processes_from_mb is not None:
        lines.append(f"run:\n  processes_from_mb: {processes_from_mb}\n")
    if not lines:
        return None
    path = folder / "settings.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def run(args: argparse.Namespace, log: Callable[[str], None] = print) -> dict[str, Any]:
    from cxtext.classify.stage import load_classifiers
    from cxtext.config import resolve
    from cxtext.normalize.persian import normalize_persian
    from cxtext.themes.taxonomy import load_taxonomy

    work = Path(args.work or tempfile.mkdtemp(prefix="cxtext-bench-"))
    if work.exists() and args.fresh:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "documents": args.docs,
        "runner": args.runner,
        "workers": args.workers,
        "partition_rows": args.partition_rows,
        "processes_from_mb": args.processes_from_mb,
        "synthetic_classified": args.synthetic_classified,
    }
    warehouse = work / "cx.duckdb"
    for stale in (warehouse, warehouse.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    t0 = time.perf_counter()
    # In a separate process, so the texts it held do not stay in this one's peak RSS.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        if args.synthetic_classified:  # the warehouse filled with planted labels instead
            theme_ids = load_taxonomy(resolve("data/taxonomy.yaml")).ids
            job = pool.submit(
                generate_classified,
                args.datasets,
                work / "input",
                args.docs,
                warehouse,
                theme_ids,
                seed=args.seed,
            )
        else:
            job = pool.submit(
                generate_corpus,
                args.datasets,
                work / "input",
                args.docs,
                new_share=args.new_share,
                seed=args.seed,
            )
        corpus = job.result()
    result["corpus_seconds"] = round(time.perf_counter() - t0, 1)
    log(f"corpus: {corpus.documents:,} documents + {corpus.new_documents:,} new in {work}")
    config = write_config(work, args.partition_rows, args.processes_from_mb, args.models)
    flow_args = {
        "feedback": corpus.feedback_dir,
        "customers": corpus.customers,
        "transactions": corpus.transactions,
        "warehouse": warehouse,
        "config": config,
        "runner": args.runner,
        "workers": args.workers,
    }
    with RssSampler() as sampler:
        result["rss_before_mib"] = mib(sampler.tree_rss())
        result["prefect_startup_seconds"] = prefect_startup()
        log(f"prefect start-up {result['prefect_startup_seconds']} s")
        result["full"] = run_flow("full", sampler, **flow_args)
        log(f"full: {result['full']['seconds']} s")
        if args.synthetic_classified:
            note = (
                "value stages over a warehouse of planted labels (no classification): "
                f"{json.dumps(result['full'])}"
            )
            return _finish(args, result, work, log, note)
        if args.only_full:  # tuning runs (runner, partition size): the full run alone
            return _finish(args, result, work, log, f"full run only: {json.dumps(result['full'])}")
        shutil.copy(corpus.new_file, corpus.feedback_dir / corpus.new_file.name)
        # The full run's flow dropped hazm's normalizer once its workers took the
        # partitions. A real night is a new process that builds it when it reads the
        # taxonomy, before any work, like its imports; this process's nights found it
        # built until session 11. So it is built here, timed apart, not in the night.
        c0 = time.process_time()
        normalize_persian("")
        result["normalizer_rebuild_cpu_seconds"] = round(time.process_time() - c0, 2)
        log(
            f"hazm normalizer built before the night: {result['normalizer_rebuild_cpu_seconds']} CPU-s"
        )
        result["incremental"] = run_flow("incremental", sampler, **flow_args)
        log(f"incremental: {result['incremental']['seconds']} s")
        result["unchanged"] = run_flow("unchanged", sampler, **flow_args)
        log(f"unchanged: {result['unchanged']['seconds']} s")

        classifiers = load_classifiers(
            args.models or resolve("models"), load_taxonomy(resolve("data/taxonomy.yaml"))
        )
        texts = corpus_texts(corpus.feedback_dir)[: args.docs]
        with sampler.labelled("floor"):
            floor, floor_cpu = floor_seconds(texts, classifiers)
        floor_cpu -= sampler.cpu_of("floor")  # the sampler's thread is not the floor's work
        result["floor"] = {
            "seconds": round(floor, 2),
            "docs_per_s": round(len(texts) / floor, 1),
            "cpu_seconds": round(floor_cpu, 1),
            "docs_per_cpu_s": round(len(texts) / floor_cpu, 1),
            "load_average_after": round(os.getloadavg()[0], 2),
        }
        log(f"floor: {floor:.1f} s ({floor_cpu:.1f} s CPU)")
        sample = texts[: args.naive_docs]
        with sampler.labelled("naive"):
            naive, naive_cpu = naive_seconds(sample, classifiers)
        naive_cpu -= sampler.cpu_of("naive")
        scale = len(texts) / len(sample)
        result["naive"] = {
            "sample": len(sample),
            "seconds_scaled": round(naive * scale, 1),
            "docs_per_s": round(len(sample) / naive, 1),
            "cpu_seconds_scaled": round(naive_cpu * scale, 1),
            "docs_per_cpu_s": round(len(sample) / naive_cpu, 1),
        }
        log(f"naive: {naive:.1f} s for {len(sample)}")
    full = result["full"]
    result["ratios"] = {
        "pipeline_vs_floor": round(result["floor"]["seconds"] / full["seconds"], 3),
        # per CPU-second: what the load of other users on the machine does not change
        "pipeline_vs_floor_cpu": round(result["floor"]["cpu_seconds"] / full["cpu_seconds"], 3),
        "pipeline_vs_naive": round(result["naive"]["seconds_scaled"] / full["seconds"], 2),
        "incremental_vs_full": round(result["incremental"]["seconds"] / full["seconds"], 3),
        "incremental_vs_full_cpu": round(
            result["incremental"]["cpu_seconds"] / full["cpu_seconds"], 3
        ),
    }
    # theme discovery is value work the floor has none of: the ratio without it beside
    discovery = (full.get("stages", {}).get("discover") or {}).get("cpu_seconds")
    if discovery:
        result["ratios"]["pipeline_without_discovery_vs_floor_cpu"] = round(
            result["floor"]["cpu_seconds"] / (full["cpu_seconds"] - discovery), 3
        )
    if not args.skip_accuracy:
        result["accuracy"] = accuracy(args.datasets, classifiers)
    return _finish(args, result, work, log, table(result))


def _finish(
    args: argparse.Namespace,
    result: dict[str, Any],
    work: Path,
    log: Callable[[str], None],
    summary: str,
) -> dict[str, Any]:
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(summary)
    log(f"written {args.out}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000, help="documents in the base corpus")
    parser.add_argument(
        "--new-share", type=float, default=0.01, help="new documents of the incremental run"
    )
    parser.add_argument(
        "--datasets", default=str(DATASETS), help="shared datasets folder, or 'sample' (smoke test)"
    )
    parser.add_argument("--work", type=Path, help="working folder (default: a new temporary one)")
    parser.add_argument(
        "--out", type=Path, help="JSON results (default benchmarks/results/throughput-<docs>.json)"
    )
    parser.add_argument("--runner", choices=["processes", "threads", "dask"], default="processes")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument(
        "--partition-rows", type=int, default=None, help="override ingest.partition_rows"
    )
    parser.add_argument(
        "--processes-from-mb",
        type=float,
        default=None,
        help="override run.processes_from_mb (0: worker processes whatever the size)",
    )
    parser.add_argument(
        "--naive-docs", type=int, default=2000, help="documents the naive loop runs on"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--models",
        type=Path,
        help="models folder whose registry names the champions, for the flow and the floor "
        "(default: the shipped models/)",
    )
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument(
        "--only-full", action="store_true", help="the full run alone (comparing runners or sizes)"
    )
    parser.add_argument(
        "--synthetic-classified",
        action="store_true",
        help="measure the value stages alone: the warehouse is filled with --docs documents "
        "whose classified columns are the generator's planted labels (no classifier runs), "
        "then one night refits the churn model, ranks pain points and discovers themes",
    )
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    parser.add_argument("--fresh", action="store_true", help="empty --work first")
    args = parser.parse_args(argv)
    args.datasets = None if args.datasets == "sample" else Path(args.datasets)
    if args.out is None:
        kind = "-synthetic-classified" if args.synthetic_classified else ""
        args.out = REPO / "benchmarks" / "results" / f"throughput-{args.docs}{kind}.json"
    return args


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    run(parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
