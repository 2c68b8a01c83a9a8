"""What the partition workers' fork server imports before it forks them.

The fork server (:mod:`pipelines.runners`) imports this module once per run: the
partition task's module with its libraries, the run's models and the tokenizers (named in
:data:`pipelines.runners.PRELOAD_ENV`; an e5 encoder the models use is warmed, so its
weights and onnxruntime session are built here once), then freezes the garbage collector so the workers
it forks share those pages instead of each importing and loading its own copy
(benchmarks/README.md: ~5-6 CPU-s and ~120 MiB of PSS per worker).
"""

from __future__ import annotations

import gc
import json
import os
from contextlib import suppress
from pathlib import Path

from cxtext.normalize.english import tokenize_english
from cxtext.normalize.persian import tokenize_persian
from pipelines.nightly import _classifiers
from pipelines.runners import PRELOAD_ENV


def _preload() -> None:
    spec = os.environ.get(PRELOAD_ENV)
    if spec:
        models_dir, taxonomy = json.loads(spec)
        # a failure here: the first partition task loads them again and fails there,
        # where the run reports it
        with suppress(Exception):
            for embedder in _classifiers(Path(models_dir), Path(taxonomy)).embedders():
                # the e5 weights and onnxruntime session, built at first use: here once,
                # not once per worker (~100 MiB each of the workers' own memory)
                embedder.transform(["warm"])
    # the tokenizers too (spaCy's blank English pipeline: ~0.3 CPU-s), else each worker
    # builds its own on its first partition
    tokenize_persian("")
    tokenize_english("")
    gc.freeze()  # the collector never writes to these objects' headers: their pages stay shared


_preload()
