"""Persian text through hazm: letter variants, digits, spacing and zero-width non-joiners.

hazm's Normalizer and WordTokenizer are built once per process and reused: building a
tokenizer costs about a second (less without its unused word list), which ``hazm.word_tokenize`` would pay on every call.
"""

from __future__ import annotations

import os
from functools import cache

from hazm import Normalizer, WordTokenizer
from hazm.constants import NUMBERS_DST, NUMBERS_SRC, TRANSLATION_DST, TRANSLATION_SRC
from hazm.lemmatizer import Conjugation
from hazm.utils import maketrans

ZWNJ = "\u200c"


class _TableOnceNormalizer(Normalizer):
    """hazm's Normalizer with its two character tables built once instead of on every call.

    hazm 0.12.1 rebuilds a 406-entry translation dict inside every ``normalize`` (and a
    digits one inside ``persian_number``): about a quarter of its time on short
    comments. The same steps run in the same order on the same tables, so the output is
    hazm's own (``tests/test_normalize.py`` compares them).
    """

    _letters = maketrans(TRANSLATION_SRC, TRANSLATION_DST)
    _digits = maketrans(NUMBERS_SRC, NUMBERS_DST)

    def __init__(self) -> None:
        # hazm builds a whole Lemmatizer (a second tokenizer reading the 80k-entry word
        # list) only to keep its verb table's keys: "است" and every conjugation of the
        # verbs file's verbs. The same set from our tokenizer's verbs (the same file):
        # ~0.6 CPU-s and ~45 MiB less per process that builds it (benchmarks/README.md;
        # tests/test_normalize.py compares the sets).
        super().__init__(seperate_mi=False)
        self._seperate_mi = True
        conjugation = Conjugation()
        self._verbs = {"است"}
        for verb in _tokenizer().verbs:
            self._verbs.update(conjugation.get_all(verb))

    def normalize(self, text: str) -> str:
        text = text.translate(self._letters)
        steps = (
            (self._persian_style, self.persian_style),
            (self._persian_number, self.persian_number),
            (self._remove_diacritics, self.remove_diacritics),
            (self._correct_spacing, self.correct_spacing),
            (self._unicodes_replacement, self.unicodes_replacement),
            (self._remove_specials_chars, self.remove_specials_chars),
            (self._decrease_repeated_chars, self.decrease_repeated_chars),
            (self._seperate_mi, self.seperate_mi),
        )
        for enabled, step in steps:
            if enabled:
                text = step(text)
        return text

    def persian_number(self, text: str) -> str:
        return text.translate(self._digits)


@cache
def _normalizer() -> Normalizer:
    return _TableOnceNormalizer()


def release_normalizer() -> None:
    """Drop this process's hazm Normalizer (~100 MiB: its word list, verb forms and
    tokenizer); the next call to :func:`normalize_persian` builds it again (~1-2 CPU-s).

    For a process done with Persian normalization for a while: the nightly flow, whose
    worker processes normalize the documents, only needed it for the taxonomy's keywords.
    """
    _normalizer.cache_clear()


@cache
def _tokenizer() -> WordTokenizer:
    # hazm reads its 80k-entry word list into ``self.words`` (~1.2 CPU-s per process, the
    # largest fixed cost of a small nightly run), which ``tokenize`` never reads: the
    # verb-joining it does use comes from the verbs file. So no words file: the same
    # tokens (``tests/test_normalize.py`` compares them with hazm's default tokenizer).
    return WordTokenizer(
        words_file=os.devnull, replace_emails=False, replace_links=False, replace_numbers=False
    )


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
