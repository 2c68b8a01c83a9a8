"""Stored feedback to one row per (document, theme) mention with its polarity.

A theme counts as *negative* in a document when its aspect sentiment is negative; when
the aspect map lacks the theme, the document's overall sentiment decides. Both the
churn model and the pain-point ranking read mentions through this one function, so
they agree on what "raised the theme negatively" means.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd


def _json(value: object, kind: type) -> object:
    if isinstance(value, kind):
        return value
    if value is None or (not isinstance(value, str)) or not value.strip():
        return kind()
    try:
        parsed = json.loads(value)
    except (ValueError, TypeError):
        return kind()
    return parsed if isinstance(parsed, kind) else kind()


def theme_mentions(feedback: pd.DataFrame) -> pd.DataFrame:
    """Columns ``doc`` (position in ``feedback``), ``theme_id``, ``negative`` (bool).

    Examples
    --------
    >>> fb = pd.DataFrame({"topics": ['["delivery", "price"]'],
    ...                    "aspect_sentiment": ['{"delivery": "negative"}'],
    ...                    "sentiment": ["positive"]})
    >>> theme_mentions(fb).values.tolist()
    [[0, 'delivery', True], [0, 'price', False]]

    Each distinct (topics, aspects, sentiment) is parsed once and its mentions gathered
    for every document that has it: a night's window shares a few thousand, and a loop
    per document made ~1 GB of Python objects at a million documents.
    """
    codes, triples = distinct_triples(feedback)
    rows: list[int] = []  # the distinct triples' mentions, then gathered per document
    themes: list[str] = []
    negative: list[bool] = []
    for i, (topics, aspects, sentiment) in enumerate(triples):
        tops = _json(topics, list)
        if not tops:
            continue
        asp = _json(aspects, dict)
        doc_negative = isinstance(sentiment, str) and sentiment == "negative"
        for t in dict.fromkeys(str(t) for t in tops):  # unique, order kept
            rows.append(i)
            themes.append(t)
            label = asp.get(t)
            negative.append(label == "negative" if isinstance(label, str) else doc_negative)
    count = np.bincount(np.asarray(rows, dtype=np.int64), minlength=len(triples))
    first = np.cumsum(count) - count  # each triple's first mention
    n_each = count[codes]  # each document's mentions
    ends = np.cumsum(n_each)
    take = np.repeat(first[codes] - (ends - n_each), n_each) + np.arange(
        ends[-1] if len(ends) else 0
    )
    return pd.DataFrame(
        {
            "doc": pd.array(np.repeat(np.arange(len(feedback)), n_each), dtype="int64"),
            "theme_id": pd.array(themes, dtype="string").take(take),
            "negative": pd.array(np.asarray(negative, dtype=bool)[take], dtype="bool"),
        }
    )


PARSED = ("topics", "aspect_sentiment", "sentiment")


def distinct_triples(feedback: pd.DataFrame) -> tuple[np.ndarray, list[tuple]]:
    """(each document's code, the distinct (topics, aspects, sentiment) triples in order of
    first appearance): factorized column by column, so a million documents make no
    Python object each (their texts as a list of tuples took ~0.3 GB at 1M)."""
    n = len(feedback)
    if not n:
        return np.zeros(0, dtype=int), []
    key = np.zeros(n, dtype=np.int64)
    uniques = []
    for name in PARSED:
        column = feedback[name] if name in feedback.columns else pd.Series([None] * n)
        if column.dtype == object:  # already parsed lists/dicts: as JSON text
            column = column.map(_hashable)
        codes, values = pd.factorize(column, use_na_sentinel=False)
        key = key * len(values) + codes
        uniques.append(np.asarray(values, dtype=object))
    codes, distinct = pd.factorize(key)
    triples = []
    for code in distinct:
        parts = []
        for values in reversed(uniques):
            code, i = divmod(int(code), len(values))
            parts.append(_hashable_na(values[i]))
        triples.append(tuple(reversed(parts)))
    return np.asarray(codes, dtype=int), triples


def _hashable_na(value: object) -> object:
    """A missing cell (None, NaN, pd.NA) as None, as the parsers take it."""
    return (
        None
        if value is None or value is pd.NA or (isinstance(value, float) and value != value)
        else value
    )


def _hashable(value: object) -> object:
    """A JSON cell as a dictionary key: text as is, an already parsed list/dict as JSON."""
    return json.dumps(value, sort_keys=True) if isinstance(value, list | dict) else value


def metadata_field(feedback: pd.DataFrame, key: str) -> pd.Series:
    """One metadata key per document as strings (NA where absent), index kept."""
    if "metadata" not in feedback.columns:
        return pd.Series(pd.NA, index=feedback.index, dtype="string")
    values = [_json(m, dict).get(key) for m in feedback["metadata"].tolist()]
    return pd.Series(
        [None if v is None else str(v) for v in values], index=feedback.index, dtype="string"
    )
