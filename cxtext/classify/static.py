"""Static word embeddings distilled from multilingual-e5-small (the Model2Vec recipe).

Each vocabulary word is embedded once with the encoder (:mod:`cxtext.classify.encoder`),
the table is reduced with PCA and every row is scaled by a SIF-like frequency weight
``a / (a + p(word))`` so frequent function words count little. A document's vector is
then the mean of its words' rows: a sparse-matrix product, tens of thousands of
documents per second, with some of the encoder's knowledge of words it never saw in
the labelled data.

The table (``models/static/``: ``vectors.npy`` float16, ``vocab.txt``, ``card.json``) is
built by ``scripts/distill_static.py``. :class:`StaticEmbedder` copies it into the
fitted model, so a saved model carries the exact table it was trained with.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from cxtext.errors import ModelError

NEGATION_PREFIXES = ("NOT_", "NEG_")  # marks added by TextPreparer; the word is what we embed
STATIC_DIR = "static"


def lookup_form(token: str) -> str:
    """The word a prepared token is looked up by: negation marks dropped."""
    for prefix in NEGATION_PREFIXES:
        if token.startswith(prefix):
            return token[len(prefix) :]
    return token


def sif_weights(counts: np.ndarray, a: float = 1e-3) -> np.ndarray:
    """SIF weight a / (a + p(w)) of each word from its corpus count."""
    p = counts / max(counts.sum(), 1)
    return a / (a + p)


def pca_reduce(vectors: np.ndarray, dims: int) -> np.ndarray:
    """Project centred vectors on their top ``dims`` principal axes (deterministic signs)."""
    centred = vectors - vectors.mean(axis=0)
    dims = min(dims, *centred.shape)
    _u, _s, vt = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    axes = vt[:dims]
    signs = np.sign(axes[np.arange(dims), np.abs(axes).argmax(axis=1)])
    return (centred @ (axes * signs[:, None]).T).astype(np.float32)


def distill_table(
    words: Sequence[str],
    counts: Sequence[int],
    embed: Callable[[list[str]], np.ndarray],
    *,
    dims: int = 64,
    sif_a: float = 1e-3,
) -> np.ndarray:
    """Rows for ``words``: encoder embedding -> PCA to ``dims`` -> SIF weight, as float16."""
    vectors = embed(list(words))
    reduced = pca_reduce(vectors, dims)
    weighted = reduced * sif_weights(np.asarray(counts, dtype=np.float64), sif_a)[:, None]
    return weighted.astype(np.float16)


def save_table(directory: Path, words: Sequence[str], vectors: np.ndarray, card: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    np.save(directory / "vectors.npy", vectors)
    (directory / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    (directory / "card.json").write_text(
        json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def load_table(directory: Path) -> tuple[list[str], np.ndarray]:
    """(words, float16 vectors) of a distilled table; a clear error when it is missing."""
    vectors_file, vocab_file = directory / "vectors.npy", directory / "vocab.txt"
    if not vectors_file.exists() or not vocab_file.exists():
        raise ModelError(
            f"static embeddings not found in {directory}: run scripts/distill_static.py "
            "or train with --features tfidf"
        )
    words = vocab_file.read_text(encoding="utf-8").splitlines()
    vectors = np.load(vectors_file, allow_pickle=False)
    if len(words) != len(vectors):
        raise ModelError(f"{directory}: {len(words)} words but {len(vectors)} vectors")
    return words, vectors


def default_table_dir() -> Path:
    from cxtext.config import project_root

    return project_root() / "models" / STATIC_DIR


class StaticEmbedder(TransformerMixin, BaseEstimator):
    """Prepared text (space-separated tokens) -> mean of distilled word vectors, L2-normed.

    ``fit`` copies the table from ``table_dir`` (default ``models/static``) into the
    model; ``weight`` scales the unit-length output against the TF-IDF blocks beside it.
    Documents with no known word get a zero vector.
    """

    def __init__(self, table_dir: str | None = None, weight: float = 1.0):
        self.table_dir = table_dir
        self.weight = weight

    def fit(self, X: Iterable[str], y: object = None) -> StaticEmbedder:
        directory = Path(self.table_dir) if self.table_dir else default_table_dir()
        words, vectors = load_table(directory)
        self.words_ = "\n".join(words)  # one string: skops saves it in a blink
        self.vectors_ = vectors
        self._index = None
        return self

    def _lookup(self) -> tuple[dict[str, int], np.ndarray]:
        cached = getattr(self, "_index", None)
        if cached is None:
            words = self.words_.split("\n")
            # negated forms map to their word's row: one dict look-up per token
            index = {p + w: i for p in NEGATION_PREFIXES for i, w in enumerate(words)}
            index.update({w: i for i, w in enumerate(words)})
            cached = self._index = (index, self.vectors_.astype(np.float32))
        return cached

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_index", None)  # rebuilt from words_ on first use
        return state

    def transform(self, X: Iterable[str]) -> np.ndarray:
        index, vectors = self._lookup()
        texts = list(X)
        get = index.get
        cols, indptr = [], [0]
        for text in texts:
            cols += [c for c in map(get, text.split()) if c is not None]
            indptr.append(len(cols))
        counts = sp.csr_matrix(
            (np.ones(len(cols), dtype=np.float32), cols, indptr),
            shape=(len(texts), len(vectors)),
        )
        out = np.asarray(counts @ vectors)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out /= np.where(norms > 0, norms, 1.0)
        return out * np.float32(self.weight)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.array([f"static_{i}" for i in range(self.vectors_.shape[1])], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags
