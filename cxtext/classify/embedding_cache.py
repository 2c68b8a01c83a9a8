"""Each distinct text embedded once per partition, for every model that uses the e5 encoder.

The English sentiment champion and an encoder topic model both embed a partition's
English documents (the same stored text, normalized the same way), and aspect
sentiment embeds clauses that often repeat: the encoder costs ~100x a TF-IDF model
per document, so embedding a text twice doubles the classify stage. Inside
:func:`shared_embeddings` (the classify stage opens one per partition),
:class:`~cxtext.classify.encoder.E5Embedder` asks the active :class:`EmbeddingCache`
for its vectors: texts seen before are served from memory, only new distinct texts
are embedded. A text's vector depends neither on its batch-mates nor on the thread
count (:func:`~cxtext.classify.encoder.embed_texts`), so the output equals embedding
every call afresh. The cache lives as long as the ``with`` block (a partition:
384 float32 per distinct text, ~30 MB at 20,000 documents).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

_ACTIVE: ContextVar[EmbeddingCache | None] = ContextVar("cxtext_embedding_cache", default=None)


class EmbeddingCache:
    """Vectors by (embedder settings, text), and how many texts were embedded vs served."""

    def __init__(self) -> None:
        self._vectors: dict[tuple[Hashable, str], np.ndarray] = {}
        self.embedded = 0  # distinct texts sent to the encoder
        self.served = 0  # texts answered from memory

    def vectors(
        self,
        texts: Sequence[str],
        settings: Hashable,
        embed: Callable[[list[str]], np.ndarray],
        dim: int,
    ) -> np.ndarray:
        """(len(texts), dim) float32 vectors; ``embed`` is called once, on the new distinct texts."""
        store = self._vectors
        new = list(dict.fromkeys(t for t in texts if (settings, t) not in store))
        if new:
            fresh = np.asarray(embed(new), dtype=np.float32)
            store.update(zip(((settings, t) for t in new), fresh, strict=True))
            self.embedded += len(new)
        self.served += len(texts) - len(new)
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        return np.stack([store[settings, t] for t in texts])


def active_cache() -> EmbeddingCache | None:
    """The cache of the enclosing :func:`shared_embeddings` block, or None outside one."""
    return _ACTIVE.get()


@contextmanager
def shared_embeddings() -> Iterator[EmbeddingCache]:
    """Within the block, every :class:`E5Embedder` shares one cache (dropped at the end)."""
    cache = EmbeddingCache()
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)
