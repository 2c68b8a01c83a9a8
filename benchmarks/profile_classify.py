"""Profile ``classify_feedback`` on the shipped sample with pyinstrument, in CPU time.

The sample (3,661 documents) is read and normalized as the flow does, the models are
loaded and warmed up on a few documents (hazm's WordTokenizer and spaCy's tokenizer are
built once per process), then one ``classify_feedback`` call over the whole sample is
profiled. CPU time (``time.process_time``) rather than wall time, so other work on a
shared machine does not show up as time spent in our code.

Usage::

    PYTHONPATH=$PWD python benchmarks/profile_classify.py [--out benchmarks/results/profile-classify-after.txt]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cxtext.classify.stage import classify_feedback, load_classifiers  # noqa: E402
from cxtext.ingest.feedback import iter_feedback  # noqa: E402
from cxtext.normalize.documents import normalize_feedback  # noqa: E402
from cxtext.themes.taxonomy import load_taxonomy  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    from pyinstrument import Profiler
    from pyinstrument.stack_sampler import get_stack_sampler

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "profile-classify-after.txt")
    args = parser.parse_args(argv)
    batches = iter_feedback(
        [REPO / "data" / "sample" / "feedback"],
        partition_rows=20_000,
        max_text_chars=20_000,
        min_text_chars=1,
        default_channel="survey",
        pseudonym_key=b"profile",
    )
    docs = normalize_feedback(pd.concat([b.records for b in batches], ignore_index=True))
    classifiers = load_classifiers(REPO / "models", load_taxonomy(REPO / "data" / "taxonomy.yaml"))
    warm = docs.sample(200, random_state=0)  # both languages: hazm's and spaCy's tokenizers built
    classify_feedback(warm, classifiers, topic_threshold=0.5, neutral_band=0.2)
    get_stack_sampler().timer_func = time.process_time
    profiler = Profiler(interval=0.002)
    t0 = time.process_time()
    profiler.start()
    classify_feedback(docs, classifiers, topic_threshold=0.5, neutral_band=0.2)
    profiler.stop()
    cpu = time.process_time() - t0
    text = profiler.output_text(unicode=True, color=False)
    header = f"classify_feedback on {len(docs):,} sample documents: {cpu:.2f} s CPU ({len(docs) / cpu:,.0f} docs/s)\n"
    args.out.write_text(header + text, encoding="utf-8")
    print(header + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
