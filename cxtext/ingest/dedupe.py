"""Duplicates by document key (source, id): the first occurrence in a run wins.

Exports overlap (yesterday's file re-sent, the same ticket in two extracts), so a run
remembers every key it has kept, across partitions and files, as 64-bit hashes in sorted
NumPy arrays: 8 bytes a key, so ten million documents cost about 80 MB. Two different
keys share a hash with probability about n^2 / 2^65 (below 3e-6 for ten million keys).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Keys held in the small unsorted set before merging into the array. A Python set costs
# ~64 bytes a key (its table and the int objects), so 2^20 keys, the bound until session
# 7, held ~64 MiB at 1M documents in the flow's process during the partition phase; at
# 2^16 it stays under 5 MiB, and merging is a linear insert into the sorted array.
_MERGE_EVERY = 1 << 16


def key_hashes(records: pd.DataFrame) -> np.ndarray:
    """Stable 64-bit hashes of ``source`` + ``id`` (the same key hashes the same in every run)."""
    keys = records["source"].astype("string") + "\x1f" + records["id"].astype("string")
    return pd.util.hash_array(keys.to_numpy(dtype=object, na_value=""))


class SeenKeys:
    """The document keys kept so far in one run.

    Examples
    --------
    >>> seen = SeenKeys()
    >>> batch = pd.DataFrame({"source": ["a", "a", "b"], "id": ["1", "1", "1"]})
    >>> kept, duplicates = seen.keep_first(batch)
    >>> len(kept), duplicates
    (2, 1)
    >>> seen.keep_first(batch)[1]
    3
    """

    def __init__(self) -> None:
        self._sorted = np.empty(0, dtype=np.uint64)
        self._recent: set[int] = set()

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent)

    def _known(self, hashes: np.ndarray) -> np.ndarray:
        in_sorted = np.zeros(len(hashes), dtype=bool)
        if len(self._sorted):
            pos = np.minimum(np.searchsorted(self._sorted, hashes), len(self._sorted) - 1)
            in_sorted = self._sorted[pos] == hashes
        in_recent = np.fromiter(
            (h in self._recent for h in hashes.tolist()), dtype=bool, count=len(hashes)
        )
        return in_sorted | in_recent

    def keep_first(self, records: pd.DataFrame) -> tuple[pd.DataFrame, int]:
        """(records whose key was not seen before in this run or earlier in ``records``, duplicates dropped)."""
        if records.empty:
            return records, 0
        hashes = key_hashes(records)
        first_here = ~pd.Series(hashes).duplicated(keep="first").to_numpy()
        keep = first_here & ~self._known(hashes)
        self._recent.update(hashes[keep].tolist())
        if len(self._recent) >= _MERGE_EVERY:  # new keys: none is in the array yet
            new = np.sort(np.fromiter(self._recent, dtype=np.uint64, count=len(self._recent)))
            self._sorted = np.insert(self._sorted, np.searchsorted(self._sorted, new), new)
            self._recent = set()
        return records[keep].reset_index(drop=True), int((~keep).sum())
