"""Static word embeddings distilled from multilingual-e5-small (Model2Vec + Tokenlearn).

Each vocabulary word is embedded once with the encoder (:mod:`cxtext.classify.encoder`):
the Model2Vec prior. Then, as Tokenlearn does, the table is fitted so that the
frequency-weighted mean of a training text's word rows regresses the encoder's
embedding of the whole text (:func:`fit_token_table`: ridge towards the prior, in the
PCA space of the text embeddings). Every row is scaled by a SIF-like frequency weight
``a / (a + p(word))`` so frequent function words count little. A document's vector is
then the mean of its words' rows: a sparse-matrix product, tens of thousands of
documents per second, with much of the encoder's sense of what a text is about.

The table (``models/static/``: ``vectors.npy`` float16, ``vocab.txt``, ``card.json``) is
built by ``scripts/distill_static.py``. :class:`StaticEmbedder` copies it into the
fitted model, so a saved model carries the exact table it was trained with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
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


def pca_axes(vectors: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean, axes (dims, d)) of ``vectors``' top principal axes, deterministic signs."""
    mean = vectors.mean(axis=0)
    dims = min(dims, *vectors.shape)
    _u, _s, vt = np.linalg.svd((vectors - mean).astype(np.float64), full_matrices=False)
    axes = vt[:dims]
    signs = np.sign(axes[np.arange(dims), np.abs(axes).argmax(axis=1)])
    return mean, axes * signs[:, None]


def weighted_mean_matrix(counts: sp.csr_matrix, weights: np.ndarray) -> sp.csr_matrix:
    """Rows of word counts -> weights of the SIF-weighted mean of the words' rows."""
    weighted = sp.csr_matrix(counts.multiply(weights[None, :]), dtype=np.float64)
    totals = np.asarray(weighted.sum(axis=1)).ravel()
    return sp.csr_matrix(sp.diags(1.0 / np.where(totals > 0, totals, 1.0)) @ weighted)


def fit_token_table(
    mean_matrix: sp.csr_matrix,
    targets: np.ndarray,
    prior: np.ndarray,
    l2: float,
    *,
    iterations: int = 300,
    tol: float = 1e-6,
) -> np.ndarray:
    """Word rows W minimising ||M W - Y||^2 + l2 ||W - prior||^2 (Tokenlearn's objective).

    ``mean_matrix`` M (texts x words) averages word rows into a text vector,
    ``targets`` Y are the encoder's text embeddings; words seen in few texts stay near
    their ``prior`` (the encoder's embedding of the word alone). Solved by conjugate
    gradients on the normal equations, one independent system per output column.
    """
    M = sp.csr_matrix(mean_matrix, dtype=np.float64)
    MT = sp.csr_matrix(M.T)
    prior = np.asarray(prior, dtype=np.float64)

    def apply(D: np.ndarray) -> np.ndarray:
        return MT @ (M @ D) + l2 * D

    rhs = MT @ (np.asarray(targets, dtype=np.float64) - M @ prior)
    D = np.zeros_like(prior)
    r = rhs.copy()
    p = r.copy()
    rr = (r * r).sum(axis=0)
    stop = tol * tol * np.maximum((rhs * rhs).sum(axis=0), 1e-30)
    for _ in range(iterations):
        if (rr <= stop).all():
            break
        Ap = apply(p)
        alpha = rr / np.maximum((p * Ap).sum(axis=0), 1e-30)
        D += p * alpha
        r -= Ap * alpha
        rr_new = (r * r).sum(axis=0)
        p = r + p * (rr_new / np.maximum(rr, 1e-30))
        rr = rr_new
    return (prior + D).astype(np.float32)


def count_matrix(prepared: Sequence[str], words: Sequence[str]) -> sp.csr_matrix:
    """Texts x words counts of prepared texts, tokens looked up as :class:`StaticEmbedder` does."""
    index = {w: i for i, w in enumerate(words)}
    cols, indptr = [], [0]
    for text in prepared:
        cols += [c for c in (index.get(lookup_form(t)) for t in text.split()) if c is not None]
        indptr.append(len(cols))
    data = np.ones(len(cols), dtype=np.float64)
    matrix = sp.csr_matrix((data, cols, indptr), shape=(len(prepared), len(words)))
    matrix.sum_duplicates()
    return matrix


def _projected_prior(word_vectors: np.ndarray, axes: np.ndarray, scale: float) -> np.ndarray:
    """Word embeddings centred on their own mean, in the text PCA space, at the texts' norm."""
    projected = (word_vectors - word_vectors.mean(axis=0)) @ axes.T
    norm = np.linalg.norm(projected, axis=1).mean()
    return projected * (scale / norm if norm > 0 else 0.0)


def _mean_cosine(a: np.ndarray, b: np.ndarray) -> float:
    num = (a * b).sum(axis=1)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return float(np.mean(num / np.maximum(den, 1e-12)))


def distill_table(
    words: Sequence[str],
    counts: Sequence[int],
    word_vectors: np.ndarray,
    prepared: Sequence[str],
    text_vectors: np.ndarray,
    *,
    dims: int = 128,
    sif_a: float = 1e-3,
    l2_grid: Sequence[float] = (0.03, 0.1, 0.3, 1.0, 3.0),
    seed: int = 0,
) -> tuple[np.ndarray, dict]:
    """The float16 table (words x dims) and a summary of the fit.

    Text embeddings -> PCA to ``dims``; the words' own embeddings, projected the same
    way, are the prior; :func:`fit_token_table` fits the rows. ``l2`` is chosen from
    ``l2_grid`` by the mean cosine between fitted and encoder vectors on a tenth of the
    texts held out of the fit (fixed ``seed``), then the table is refitted on all.
    """
    mean, axes = pca_axes(np.asarray(text_vectors, dtype=np.float64), dims)
    targets = (text_vectors - mean) @ axes.T
    prior = _projected_prior(
        np.asarray(word_vectors, dtype=np.float64),
        axes,
        float(np.linalg.norm(targets, axis=1).mean()),
    )
    weights = sif_weights(np.asarray(counts, dtype=np.float64), sif_a)
    M = weighted_mean_matrix(count_matrix(prepared, words), weights)
    known = np.flatnonzero(M.getnnz(axis=1) > 0)
    rng = np.random.default_rng(seed)
    valid = np.zeros(M.shape[0], dtype=bool)
    valid[rng.permutation(known)[: max(1, len(known) // 10)]] = True
    fit_rows, valid_rows = np.flatnonzero(~valid), np.flatnonzero(valid)
    scores = {"prior only": _mean_cosine(M[valid_rows] @ prior, targets[valid_rows])}
    for l2 in l2_grid:
        table = fit_token_table(M[fit_rows], targets[fit_rows], prior, l2)
        scores[l2] = _mean_cosine(M[valid_rows] @ table, targets[valid_rows])
    best = max(l2_grid, key=lambda v: (scores[v], v))
    table = fit_token_table(M, targets, prior, best)
    summary = {
        "l2": best,
        "validation_cosine": {str(k): round(v, 4) for k, v in scores.items()},
        "texts": int(M.shape[0]),
        "texts_with_known_words": int(len(known)),
    }
    return (table * weights[:, None]).astype(np.float16), summary


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
