"""Duplicates by document key (source, id): the first occurrence in a run wins.

Exports overlap (yesterday's file re-sent, the same ticket in two extracts), so a run
remembers every key it has kept, across partitions and files, as 64-bit hashes in sorted
NumPy arrays, each with a 32-bit hash of its text: 12 bytes a key, so ten million
documents cost about 120 MB. Two different keys share a hash with probability about
n^2 / 2^65 (below 3e-6 for ten million keys).

A later row with a kept key is a *duplicate* when its text is the same (only counted)
and a *conflict* when its text differs (an edited ticket re-exported, two systems
reusing one id): a conflict is handed back, so it goes to quarantine with its reason
and stays visible instead of being dropped as a copy. Two different texts share a
32-bit hash with probability 2^-32, which would count a conflict as a duplicate.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

import numpy as np
import pandas as pd

# Keys held in the small unsorted dict before merging into the arrays. A Python dict
# costs ~100 bytes a key (its table and the int objects), so 2^20 keys, the bound until
# session 7, held ~64 MiB at 1M documents in the flow's process during the partition
# phase; at 2^16 it stays under 8 MiB, and merging is a linear insert into the arrays.
_MERGE_EVERY = 1 << 16


def key_hashes(records: pd.DataFrame) -> np.ndarray:
    """Stable 64-bit hashes of ``source`` + ``id`` (the same key hashes the same in every run)."""
    keys = records["source"].astype("string") + "\x1f" + records["id"].astype("string")
    return pd.util.hash_array(keys.to_numpy(dtype=object, na_value=""), categorize=False)


# pandas' hash_array factorizes the values first by default (categorize=True), which costs
# ~1 µs a distinct string and only pays off for repeated values: keys and texts are
# nearly all distinct. The hashes are the same either way.


def text_hashes(records: pd.DataFrame) -> np.ndarray:
    """32-bit hashes of each row's text, surrounding whitespace ignored (0 without a text column)."""
    if "text" not in records.columns:
        return np.zeros(len(records), dtype=np.uint32)
    texts = records["text"].astype("string").str.strip().to_numpy(dtype=object, na_value="")
    return (pd.util.hash_array(texts, categorize=False) >> np.uint64(32)).astype(np.uint32)


def raw_text_hashes(texts: pd.Series, key: bytes) -> pd.Series:
    """A 64-bit keyed hash (SipHash) of each raw text, surrounding spaces aside: 16 letters.

    Stored with the document (``feedback.text_hash``) so that a later run can tell a text
    edited since it was stored from the same text read again: the stored text is redacted
    and normalized, so it cannot be compared with a raw one. Keyed with the warehouse's
    pseudonym key, so a short text (a phone number alone) cannot be found in the table by
    hashing guesses. Written with the letters a-p for the 16 hex digits: a hex string has a
    run of ten decimal digits about one time in 35, and a PII scan of the warehouse (ours in
    the tests, a team's data-loss checks) reads such a run as a phone or card number.
    """
    hash_key = hashlib.sha256(b"cxtext raw text\x00" + key).hexdigest()[:16]
    values = texts.astype("string").str.strip().to_numpy(dtype=object, na_value="")
    hashed = pd.util.hash_array(values, hash_key=hash_key, categorize=False).tolist()
    return pd.Series(
        [f"{h:016x}".translate(_NO_DIGITS) for h in hashed], index=texts.index, dtype="string"
    )


_NO_DIGITS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


class Deduplicated(NamedTuple):
    kept: pd.DataFrame  # rows whose key is new to the run
    duplicates: int  # rows repeating a kept key with the same text: only counted
    conflicts: pd.DataFrame  # rows repeating a kept key with another text: to quarantine


class SeenKeys:
    """The document keys kept so far in one run, each with the hash of its text.

    Examples
    --------
    >>> seen = SeenKeys()
    >>> batch = pd.DataFrame({"source": ["a", "a", "b"], "id": ["1", "1", "1"],
    ...                       "text": ["slow", "slow", "slow"]})
    >>> kept, duplicates, conflicts = seen.keep_first(batch)
    >>> len(kept), duplicates, len(conflicts)
    (2, 1, 0)
    >>> edited = pd.DataFrame({"source": ["a"], "id": ["1"], "text": ["slow, now fixed"]})
    >>> seen.keep_first(edited).conflicts["text"].tolist()
    ['slow, now fixed']
    """

    def __init__(self) -> None:
        self._sorted = np.empty(0, dtype=np.uint64)
        self._sorted_text = np.empty(0, dtype=np.uint32)  # aligned with _sorted
        self._recent: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent)

    def _lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(is each key kept already, the kept row's text hash where it is)."""
        known = np.zeros(len(hashes), dtype=bool)
        texts = np.zeros(len(hashes), dtype=np.uint32)
        if len(self._sorted):
            pos = np.minimum(np.searchsorted(self._sorted, hashes), len(self._sorted) - 1)
            known = self._sorted[pos] == hashes
            texts = np.where(known, self._sorted_text[pos], 0).astype(np.uint32)
        if self._recent:
            recent = [self._recent.get(h) for h in hashes.tolist()]
            hit = np.fromiter((t is not None for t in recent), dtype=bool, count=len(hashes))
            texts[hit] = [t for t in recent if t is not None]
            known |= hit
        return known, texts

    def keep_first(self, records: pd.DataFrame) -> Deduplicated:
        """Rows whose key is new to the run (or earlier in ``records``), the rest sorted out."""
        if records.empty:
            return Deduplicated(records, 0, records)
        hashes = key_hashes(records)
        texts = text_hashes(records)
        first_here = ~pd.Series(hashes).duplicated(keep="first").to_numpy()
        known, kept_text = self._lookup(hashes)
        keep = first_here & ~known
        conflict = np.zeros(len(records), dtype=bool)
        if not keep.all():
            # the text each repeat is compared with: the stored key's, else its first row's here
            first_text = pd.Series(texts).groupby(hashes).transform("first").to_numpy()
            reference = np.where(known, kept_text, first_text)
            conflict = ~keep & (texts != reference)
        self._recent.update(zip(hashes[keep].tolist(), texts[keep].tolist(), strict=True))
        if len(self._recent) >= _MERGE_EVERY:  # new keys: none is in the arrays yet
            new = np.fromiter(self._recent, dtype=np.uint64, count=len(self._recent))
            new_text = np.fromiter(self._recent.values(), dtype=np.uint32, count=len(new))
            order = np.argsort(new)
            at = np.searchsorted(self._sorted, new[order])
            self._sorted = np.insert(self._sorted, at, new[order])
            self._sorted_text = np.insert(self._sorted_text, at, new_text[order])
            self._recent = {}
        return Deduplicated(
            records[keep].reset_index(drop=True),
            int((~keep & ~conflict).sum()),
            records[conflict].reset_index(drop=True),
        )
