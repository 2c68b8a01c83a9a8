"""One n-gram pass per partition, shared by the TF-IDF models that read it.

scikit-learn's ``TfidfVectorizer.transform`` cuts every document into n-grams and looks
each one up in Python, for every model: a partition's sentiment model, its topic model
and the aspect clauses pay it again for the same words, and most of the classify
stage's time went there. Character n-grams within word boundaries
(``analyzer="char_wb"``) depend on the word alone, so :class:`SharedNgrams` cuts each
distinct word once per vectorizer and counts a batch as (documents x words) @ (words x
n-grams); word n-grams are joined in C (for whitespace tokens, else made by the
vectorizer's own analyzer) and counted in one array pass. The counts then go through the vectorizer's own TF-IDF weighting, so the
matrix equals ``transform``'s, entry for entry (``tests/test_shared_ngrams.py``, on the
shipped models). The vectorizers may also sit one level down, after their text
preparation, beside an embedding block (the ``tfidf+encoder`` model's union). A model
or vectorizer this does not recognise is called as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from itertools import chain, repeat
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline


def _counted_here(vec: Any) -> bool:
    """Whether :class:`SharedNgrams` reproduces this fitted vectorizer's counts exactly."""
    if not isinstance(vec, TfidfVectorizer) or not hasattr(vec, "vocabulary_"):
        return False
    if vec.input != "content" or vec.binary or not hasattr(vec, "_tfidf"):
        return False
    if vec.analyzer == "word":
        return True  # its own analyzer makes the n-grams
    # char_wb per word equals char_wb per document only with no document-level preprocessing
    return (
        vec.analyzer == "char_wb"
        and vec.preprocessor is None
        and not vec.lowercase
        and vec.strip_accents is None
    )


def _split_model(model: Any) -> tuple[list[Any], Any] | None:
    """(the feature transformers, the head) of ``Pipeline([FeatureUnion(...), head])``.

    None unless at least one transformer is a vectorizer counted here; the others (a
    static embedding table beside the TF-IDF) are called as the union would call them.
    """
    if not isinstance(model, Pipeline) or len(model.steps) != 2:
        return None
    union, head = model.steps[0][1], model.steps[1][1]
    if not isinstance(union, FeatureUnion) or union.transformer_weights is not None:
        return None
    if getattr(union, "_sklearn_output_config", {}).get("transform", "default") != "default":
        return None  # set_output(pandas/polars): the union builds a frame
    parts = [t for _, t in union.transformer_list]
    if not parts or not all(hasattr(t, "transform") for t in parts):
        return None  # "drop" or "passthrough": leave it to the union
    counted = any(_counted_here(t) or _nested_ngrams(t) is not None for t in parts)
    if not counted or not hasattr(head, "predict_proba"):
        return None
    return parts, head


def _nested_ngrams(part: Any) -> tuple[Any, list[TfidfVectorizer]] | None:
    """(the preparation, the vectorizers) of ``Pipeline([prepare, FeatureUnion(vectorizers)])``:
    a TF-IDF branch beside an embedding (the concatenated ``tfidf+encoder`` model)."""
    if not isinstance(part, Pipeline) or len(part.steps) != 2:
        return None
    union = part.steps[1][1]
    if not isinstance(union, FeatureUnion) or union.transformer_weights is not None:
        return None
    if getattr(union, "_sklearn_output_config", {}).get("transform", "default") != "default":
        return None
    vectorizers = [t for _, t in union.transformer_list]
    if not vectorizers or not all(_counted_here(t) for t in vectorizers):
        return None
    return part.steps[0][1], vectorizers


def _plain_words(vec: TfidfVectorizer) -> bool:
    """Word n-grams of whitespace tokens, nothing else done to the text."""
    return (
        vec.analyzer == "word"
        and vec.token_pattern == r"\S+"
        and vec.tokenizer is None
        and vec.preprocessor is None
        and not vec.lowercase
        and vec.strip_accents is None
        and vec.stop_words is None
    )


def _word_ngrams(text: str, lo: int, hi: int) -> list[str]:
    r"""A plain word analyzer's output, as a multiset (sklearn's order is not kept).

    For whitespace tokens (``token_pattern=r"\S+"``, which splits where ``str.split``
    does) the n-grams are joined in C (``zip`` + ``str.join``) instead of a Python loop.
    """
    tokens = text.split()
    out: list[str] = tokens[:] if lo == 1 else []
    for n in range(max(lo, 2), hi + 1):
        out.extend(map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False)))
    return out


def _char_wb_ngrams(word: str, lo: int, hi: int) -> list[str]:
    """sklearn's ``char_wb`` n-grams of one word (no whitespace in it), as list comprehensions.

    The word is padded with a space on each side; for each n, every n-gram, except that
    a padded word no longer than n is taken once, whole, and longer n are not tried.
    """
    padded = f" {word} "
    size = len(padded)
    out: list[str] = []
    for n in range(lo, hi + 1):
        if size <= n:
            out.append(padded)
            break
        out += [padded[i : i + n] for i in range(size - n + 1)]
    return out


class _WordRows:
    """One vectorizer's vocabulary columns of each word's char_wb n-grams, by word id.

    Kept as int32 arrays, a block of words at a time: Python lists of column numbers
    cost ~36 bytes an entry, ~100 MB over a 20k-document partition's three models.
    """

    _BLOCK = 4096  # words cut per block

    def __init__(self, vec: TfidfVectorizer):
        self.ngram_range = vec.ngram_range
        self.vocabulary_get = vec.vocabulary_.get
        self.columns: list[np.ndarray] = []  # in-vocabulary columns, word after word
        self.sizes: list[np.ndarray] = []  # how many of them each word has
        self.n_words = 0
        self.n_features = len(vec.vocabulary_)

    def matrix(self, words: list[str]) -> sparse.csr_array:
        """(words x features) counts, cutting only the words added since the last call."""
        get = self.vocabulary_get
        lo, hi = self.ngram_range
        for start in range(self.n_words, len(words), self._BLOCK):
            block = words[start : start + self._BLOCK]
            cols: list[int] = []  # -1 for an n-gram outside the vocabulary
            ends: list[int] = []
            for word in block:
                cols.extend(map(get, _char_wb_ngrams(word, lo, hi), repeat(-1)))
                ends.append(len(cols))
            found = np.asarray(cols, dtype=np.int32)
            known = found >= 0
            owner = np.repeat(np.arange(len(block)), np.diff(ends, prepend=0))
            self.columns.append(found[known])
            self.sizes.append(np.bincount(owner[known], minlength=len(block)))
        self.n_words = len(words)
        columns = np.concatenate(self.columns) if self.columns else np.zeros(0, np.int32)
        indptr = np.zeros(len(words) + 1, dtype=_index_dtype(len(columns)))
        if self.sizes:
            np.cumsum(np.concatenate(self.sizes), out=indptr[1:])
        rows = sparse.csr_array(
            (np.ones(len(columns), dtype=np.int32), columns, indptr),
            shape=(len(words), self.n_features),
        )
        rows.sum_duplicates()  # a word may hold the same n-gram twice ("aaa")
        return rows


class SharedNgrams:
    """A partition's n-gram cache: each distinct word is cut into n-grams once per vectorizer.

    Make one per partition and pass every batch of prepared text through it (documents,
    then their clauses): the words of later batches are mostly already cut.
    """

    def __init__(self) -> None:
        self._word_ids: dict[str, int] = {}
        self._words: list[str] = []
        self._rows: dict[int, tuple[TfidfVectorizer, _WordRows]] = {}

    def predict_proba(self, model: Any, texts: Sequence[str]) -> np.ndarray:
        """``model.predict_proba(texts)``, with the n-gram pass shared when the model allows it."""
        parts = _split_model(model)
        if parts is None or not len(texts):
            return np.asarray(model.predict_proba(list(texts)), dtype=float)
        transformers, head = parts
        features = sparse.hstack([self._block(t, texts) for t in transformers]).tocsr()
        return np.asarray(head.predict_proba(features), dtype=float)  # as FeatureUnion's

    def _block(self, part: Any, texts: Sequence[str]) -> Any:
        """``part.transform(texts)``: here for vectorizers, also when nested after a step."""
        if _counted_here(part):
            return self.tfidf(part, texts)
        nested = _nested_ngrams(part)
        if nested is None:
            return part.transform(list(texts))
        prepare, vectorizers = nested
        prepared = prepare.transform(list(texts))
        return sparse.hstack([self.tfidf(v, prepared) for v in vectorizers]).tocsr()

    def tfidf(self, vec: TfidfVectorizer, texts: Sequence[str]) -> Any:
        """``vec.transform(texts)`` for a vectorizer :func:`_counted_here` accepts."""
        if vec.analyzer == "char_wb":
            counts = self._char_wb_counts(vec, texts)
        else:
            counts = self._word_counts(vec, texts)
        counts.sort_indices()
        weighted = sparse.csr_matrix(  # float counts, index arrays shared, as sklearn builds them
            (counts.data.astype(vec.dtype), counts.indices, counts.indptr), shape=counts.shape
        )
        return vec._tfidf.transform(weighted, copy=False)

    def _char_wb_counts(self, vec: TfidfVectorizer, texts: Sequence[str]) -> sparse.csr_array:
        ids, words = self._word_ids, self._words
        word_idx: list[np.ndarray] = []
        sizes: list[np.ndarray] = []
        for block in _blocks(texts):  # the words of one block of documents at a time
            split = [t.split() for t in block]  # the words sklearn's char_wb analyzer pads
            tokens = list(chain.from_iterable(split))
            for word in dict.fromkeys(tokens):  # first-seen order: ids do not depend on hashing
                if word not in ids:
                    ids[word] = len(words)
                    words.append(word)
            sizes.append(np.fromiter(map(len, split), dtype=np.int64, count=len(split)))
            word_idx.append(
                np.fromiter(map(ids.__getitem__, tokens), dtype=np.int32, count=len(tokens))
            )
        columns = np.concatenate(word_idx)
        indptr = np.zeros(len(texts) + 1, dtype=_index_dtype(len(columns)))
        np.cumsum(np.concatenate(sizes), out=indptr[1:])
        docs = sparse.csr_array(
            (np.ones(len(columns), dtype=np.int32), columns, indptr),
            shape=(len(texts), len(words)),
        )
        if id(vec) not in self._rows:  # the vectorizer is kept, so its id stays its own
            self._rows[id(vec)] = (vec, _WordRows(vec))
        return sparse.csr_array(docs @ self._rows[id(vec)][1].matrix(words))

    @staticmethod
    def _word_counts(vec: TfidfVectorizer, texts: Sequence[str]) -> sparse.csr_array:
        if _plain_words(vec):
            lo, hi = vec.ngram_range
            analyze = partial(_word_ngrams, lo=lo, hi=hi)
        else:
            analyze = vec.build_analyzer()
        get = vec.vocabulary_.get
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        done = 0
        for block in _blocks(texts):  # n-gram strings of one block of documents at a time
            grams = [analyze(t) for t in block]
            found = np.fromiter(
                map(get, chain.from_iterable(grams), repeat(-1)),
                dtype=np.int32,
                count=sum(map(len, grams)),
            )
            owner = np.repeat(
                np.arange(done, done + len(block), dtype=np.int32),
                np.fromiter(map(len, grams), dtype=np.int64, count=len(grams)),
            )
            known = found >= 0
            rows.append(owner[known])
            cols.append(found[known])
            done += len(block)
        row, col = np.concatenate(rows), np.concatenate(cols)
        counts = sparse.csr_array(
            (np.ones(len(col), dtype=np.int32), (row, col)),
            shape=(len(texts), len(vec.vocabulary_)),
        )
        counts.sum_duplicates()
        return counts


def _index_dtype(nnz: int) -> type:
    """int32 indices as sklearn uses (int64 inputs make scipy's products int64: twice the memory)."""
    return np.int32 if nnz < np.iinfo(np.int32).max else np.int64


def _blocks(texts: Sequence[str], size: int = 2048) -> list[Sequence[str]]:
    """``texts`` in blocks: Python strings of a whole partition's n-grams take ~100 MB."""
    return [texts[i : i + size] for i in range(0, len(texts), size)] or [texts[:0]]
