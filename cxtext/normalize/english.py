"""English text through spaCy's rule-based tokenizer (a blank pipeline, no downloaded model)."""

from __future__ import annotations

import re
from functools import cache

import spacy
from spacy.language import Language

_SPACE = re.compile(r"\s+")


@cache
def _nlp() -> Language:
    return spacy.blank("en")


def normalize_english(text: str) -> str:
    """Collapse runs of whitespace; case and punctuation are left for the features to decide."""
    return _SPACE.sub(" ", text).strip()


def tokenize_english(text: str) -> list[str]:
    """spaCy tokens, so "can't" splits into "ca" + "n't" and negation stays visible."""
    return [t.text for t in _nlp().tokenizer(text) if not t.is_space]
