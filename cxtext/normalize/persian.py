"""Persian text through hazm: letter variants, digits, spacing and zero-width non-joiners.

hazm's Normalizer and WordTokenizer are built once per process and reused: building a
tokenizer costs about a second, which ``hazm.word_tokenize`` would pay on every call.
"""

from __future__ import annotations

from functools import cache

from hazm import Normalizer, WordTokenizer

ZWNJ = "\u200c"


@cache
def _normalizer() -> Normalizer:
    return Normalizer()


@cache
def _tokenizer() -> WordTokenizer:
    return WordTokenizer(replace_emails=False, replace_links=False, replace_numbers=False)


def normalize_persian(text: str) -> str:
    """Arabic ي/ك to Persian ی/ک, Persian digits, ZWNJ before affixes such as می/ها.

    Examples
    --------
    >>> normalize_persian("ميخواستم كارت")
    'می\u200cخواستم کارت'
    """
    return _normalizer().normalize(text)


def tokenize_persian(text: str) -> list[str]:
    """Word tokens of already normalized Persian text (ZWNJ kept inside words)."""
    return _tokenizer().tokenize(text)
