"""Stored feedback to one row per (document, theme) mention with its polarity.

A theme counts as *negative* in a document when its aspect sentiment is negative; when
the aspect map lacks the theme, the document's overall sentiment decides. Both the
churn model and the pain-point ranking read mentions through this one function, so
they agree on what "raised the theme negatively" means.
"""

from __future__ import annotations

import json

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


def _parsed(values: list, kind: type) -> list:
    """``_json`` of each value, parsed once per distinct text (read-only results)."""
    seen: dict[str, object] = {}
    out = []
    for v in values:
        if isinstance(v, str):
            if v not in seen:
                seen[v] = _json(v, kind)
            out.append(seen[v])
        else:
            out.append(_json(v, kind))
    return out


def theme_mentions(feedback: pd.DataFrame) -> pd.DataFrame:
    """Columns ``doc`` (position in ``feedback``), ``theme_id``, ``negative`` (bool).

    Examples
    --------
    >>> fb = pd.DataFrame({"topics": ['["delivery", "price"]'],
    ...                    "aspect_sentiment": ['{"delivery": "negative"}'],
    ...                    "sentiment": ["positive"]})
    >>> theme_mentions(fb).values.tolist()
    [[0, 'delivery', True], [0, 'price', False]]
    """
    docs: list[int] = []
    themes: list[str] = []
    negative: list[bool] = []
    topics = feedback["topics"].tolist() if "topics" in feedback.columns else []
    aspects = (
        feedback["aspect_sentiment"].tolist()
        if "aspect_sentiment" in feedback.columns
        else [None] * len(topics)
    )
    sentiments = (
        feedback["sentiment"].tolist() if "sentiment" in feedback.columns else [None] * len(topics)
    )
    parsed_topics, parsed_aspects = _parsed(topics, list), _parsed(aspects, dict)
    for i, (tops, asp, sent) in enumerate(
        zip(parsed_topics, parsed_aspects, sentiments, strict=True)
    ):
        if not tops:
            continue
        doc_negative = isinstance(sent, str) and sent == "negative"
        for t in dict.fromkeys(str(t) for t in tops):  # unique, order kept
            docs.append(i)
            themes.append(t)
            label = asp.get(t)
            negative.append(label == "negative" if isinstance(label, str) else doc_negative)
    return pd.DataFrame(
        {
            "doc": pd.array(docs, dtype="int64"),
            "theme_id": pd.array(themes, dtype="string"),
            "negative": pd.array(negative, dtype="bool"),
        }
    )


def metadata_field(feedback: pd.DataFrame, key: str) -> pd.Series:
    """One metadata key per document as strings (NA where absent), index kept."""
    if "metadata" not in feedback.columns:
        return pd.Series(pd.NA, index=feedback.index, dtype="string")
    values = [_json(m, dict).get(key) for m in feedback["metadata"].tolist()]
    return pd.Series(
        [None if v is None else str(v) for v in values], index=feedback.index, dtype="string"
    )
