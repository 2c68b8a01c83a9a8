"""Text preparation and n-gram features as scikit-learn transformers.

:class:`TextPreparer` turns raw Persian or English feedback into one string of
space-separated tokens per document. It starts with exactly what the nightly normalize
stage does to a document (:func:`cxtext.normalize.documents.normalize_text`: markup
cleaned, PII redacted, hazm or English normalization), so a model sees the same text
whether it is given raw feedback (training, ``cxtext predict``) or the stage's redacted
text; then PII placeholders become tokens (``[PHONE]`` -> ``xxphone``, however hazm
spaced the brackets), Persian is hazm-tokenized and English spaCy-tokenized and
lower-cased; URLs, @mentions and numbers become placeholders; negation is marked so
"not good" and "خوب نبود" are not read as "good". :func:`make_text_features` builds the TF-IDF word + character n-gram
union that reads those strings. Both live inside the saved model ``Pipeline``, so the
skops file carries its own text preparation and serving prepares text exactly as
training did.

Prepared text is whitespace-tokenized by design: a token never holds a space, so the
word vectorizer only needs ``token_pattern=r"\\S+"`` (no Python callables inside the
saved model).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, lru_cache

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from cxtext.classify.text_input import StatelessTextTransformer, as_text, texts_are_stored
from cxtext.normalize.documents import normalize_text
from cxtext.normalize.english import tokenize_english
from cxtext.normalize.language import detect_language
from cxtext.normalize.persian import ZWNJ, normalize_persian, tokenize_persian
from cxtext.normalize.pii import load_patterns

# --- placeholders -----------------------------------------------------------------

URL_TOKEN = "xxurl"
EMAIL_TOKEN = "xxemail"
USER_TOKEN = "xxuser"
NUM_TOKEN = "xxnum"
EMPTY_TOKEN = "xxempty"
NEG_PREFIX = "NEG_"  # Persian: a negated word or the stem of a negated verb
NOT_PREFIX = "NOT_"  # English: a word inside a negation scope

_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|ir|org|net|io|co)(?:/\S*)?\b", re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_MENTION = re.compile(r"(?<!\w)@\w+")
_NUMBER = re.compile(r"^[+-]?[\d۰-۹٠-٩][\d۰-۹٠-٩.,/:٫٬%]*$")
_REPEAT3 = re.compile(r"(.)\1{2,}")
# PII placeholders written by redaction, as tokens: "[NATIONAL_ID]" -> "xxnationalid".
_PII_TOKENS = {"EMAIL": EMAIL_TOKEN, "URL": URL_TOKEN, "NUMBER": NUM_TOKEN}
_PUNCT = re.compile(r"^[^\w]+$")


def _words(block: str) -> list[str]:
    """Whitespace-separated words of a resource block."""
    return block.split()


# --- Persian negation -------------------------------------------------------------

# Negators that negate the word after them: "نه خوب", "بدون کیفیت", "هیچ مشکلی".
FA_PRE_NEGATORS = frozenset({"نه", "هیچ", "بدون", "بی", "نمی"})
# Negated copulas and light verbs: the word before them is what is negated
# ("خوب نبود", "راضی نیستم", "کار نمی‌کنه").
FA_COPULA_NEGATORS = frozenset(
    _words(
        """
        نیست نیستم نیستی نیستیم نیستید نیستند نیستن نیستش نیس نبود نبودم نبودی نبودیم نبودید نبودند نبودن نبودش نبوده نشد نشده نشدم نشدیم نمیشه نمیشد نمی\u200cشه نمی\u200cشد نمی\u200cشود نداره ندارد نداشت نداشتم نداشتیم نداشته نکرد نکردم نکردند نکردن نکرده نمیکنه نمی\u200cکنه نمی\u200cکند نیومد نیامد نیومده نرسید نرسیده
        """
    )
)
# Present/past stems that, after a negative prefix ن, make a negated verb: "نرسید",
# "نداشت", "نخریدم". Longer stems first is not needed: we only test "startswith".
FA_VERB_STEMS = tuple(
    _words(
        """
        دار داشت کرد کن شد شو رسید رس بود یومد یاد یام اومد آمد خورد خور خرید خر دید بین گرفت گیر زد زن داد ده خواه خواست ذاشت ذار گذاشت گذار فرست پسند چسبید چسب تونست تون توان گفت گو گی مون ماند موند کش ساز ساخت زار باش
        """
    )
)
# Function words a following negated verb does not negate.
FA_NOT_NEGATABLE = frozenset(
    {"و", "ولی", "اما", "که", "هم", "را", "رو", "از", "به", "با", "در", "تو", "من", "ما"}
)
# Words that start like a negated verb but are not one.
FA_NOT_NEGATED = frozenset(
    {"نزدیک", "نداف", "نکته", "نخود", "نگاه", "نرم", "نشان", "نشون", "ندا", "نظر", "نباید", "نبات"}
)

# --- English negation -------------------------------------------------------------

EN_NEGATORS = frozenset(
    _words(
        """
        not no never n't cannot nothing nobody none nor neither nowhere without dont didnt doesnt isnt wasnt werent arent cant couldnt wont wouldnt shouldnt havent hasnt hadnt aint
        """
    )
)
EN_SCOPE_END = frozenset('.,!?;:()[]{}"…') | {"but", "however", "although", "though"}
EN_SCOPE_MAX = 4  # tokens a negation reaches at most


def _is_punct(token: str) -> bool:
    return bool(_PUNCT.match(token))


@cache
def _pii_placeholder() -> re.Pattern[str]:
    """Any redaction placeholder, with the spaces hazm may put inside its brackets."""
    names = sorted({p.placeholder.strip("[]") for p in load_patterns()}, key=len, reverse=True)
    return re.compile(r"\[\s*(" + "|".join(map(re.escape, names)) + r")\s*\]")


def _pii_token(match: re.Match[str]) -> str:
    name = match.group(1)
    return f" {_PII_TOKENS.get(name, 'xx' + name.lower().replace('_', ''))} "


def pii_placeholders_as_tokens(text: str) -> str:
    """Redaction placeholders as plain tokens that survive tokenization whole.

    Examples
    --------
    >>> pii_placeholders_as_tokens("call [PHONE] or [ NATIONAL_ID ]")
    'call  xxphone  or  xxnationalid '
    """
    return _pii_placeholder().sub(_pii_token, text)


def _replace_handles(text: str) -> str:
    text = _EMAIL.sub(f" {EMAIL_TOKEN} ", text)
    text = _URL.sub(f" {URL_TOKEN} ", text)
    return _MENTION.sub(f" {USER_TOKEN} ", text)


def _negated_stem(token: str) -> str | None:
    """The stem of a negated Persian verb ("نمی‌رسه" -> "رسه", "نداشت" -> "داشت"), else None."""
    if token in FA_NOT_NEGATED or len(token) < 3:
        return None
    if token.startswith("نمی"):
        rest = token[3:].lstrip(ZWNJ)
        return rest or None
    if token.startswith("ن"):
        rest = token[1:]
        if len(rest) >= 2 and rest.startswith(FA_VERB_STEMS):
            return rest
    return None


# Documents repeat their words, so what a token is (its output form, punctuation or
# not, the stem it negates) is worked out once per distinct token and kept; bounded,
# so a long-running worker does not grow without end.
_TOKEN_CACHE = 1 << 17


@lru_cache(maxsize=_TOKEN_CACHE)
def _persian_token(token: str, placeholders: bool) -> tuple[str, bool, str | None, bool]:
    """(the token as written out, punctuation?, negated stem, negates the word before?)."""
    if placeholders and _NUMBER.match(token):
        token = NUM_TOKEN
    elif token.isascii():
        token = _REPEAT3.sub(r"\1\1", token.lower())
    stem = _negated_stem(token)
    return token, _is_punct(token), stem, token in FA_COPULA_NEGATORS or stem is not None


@lru_cache(maxsize=_TOKEN_CACHE)
def _english_token(raw: str, placeholders: bool) -> tuple[str, str]:
    """(the token as written out, "end" | "negator" | "placeholder" | "word")."""
    token = _REPEAT3.sub(r"\1\1", raw.lower()).replace(" ", "_")
    if token in ("n't", "n’t"):
        token = "not"
    if placeholders and _NUMBER.match(token):
        token = NUM_TOKEN
    if token in EN_SCOPE_END or _is_punct(token):
        return token, "end"
    if token in EN_NEGATORS or token.endswith("n't"):
        return token, "negator"
    if token in (URL_TOKEN, USER_TOKEN, EMAIL_TOKEN, NUM_TOKEN):
        return token, "placeholder"
    return token, "word"


def prepare_persian_tokens(
    text: str, *, negation: bool = True, placeholders: bool = True, normalized: bool = False
) -> list[str]:
    """Tokens of one Persian (or mixed) document, negation marked with ``NEG_``.

    hazm normalizes letter variants, digits, spacing and ZWNJ and shortens elongations
    ("عاااالی" -> "عالی"); Latin tokens in mixed text are lower-cased. A negated verb is
    kept and its stem added as ``NEG_<stem>``; the word a negated copula or light verb
    refers to is replaced by ``NEG_<word>`` ("خوب نبود" -> "NEG_خوب نبود").
    ``normalized=True`` skips hazm normalization (the text already went through it).

    Examples
    --------
    >>> prepare_persian_tokens("غذا عاااالی بود ولی دیر نمی‌رسه")
    ['غذا', 'عالی', 'بود', 'ولی', 'NEG_دیر', 'نمی\u200cرسه', 'NEG_رسه']
    >>> prepare_persian_tokens("اصلا خوب نبود")
    ['اصلا', 'NEG_خوب', 'نبود', 'NEG_بود']
    """
    if placeholders:
        text = _replace_handles(text)
    if not normalized:
        text = normalize_persian(text)
    tokens = [t.replace(" ", "_") for t in tokenize_persian(text) if t.strip()]
    out: list[str] = []
    negate_next = False
    for raw in tokens:
        token, punct, stem, negates_before = _persian_token(raw, placeholders)
        if not negation:
            out.append(token)
            continue
        if punct:
            negate_next = False
            out.append(token)
            continue
        if negate_next and token not in FA_PRE_NEGATORS:
            out.append(NEG_PREFIX + token)
            negate_next = False
            continue
        if token in FA_PRE_NEGATORS:
            out.append(token)
            negate_next = True
            continue
        if negates_before:
            prev = out[-1] if out else ""
            if (
                prev
                and not _is_punct(prev)
                and not prev.startswith(NEG_PREFIX)
                and prev not in FA_PRE_NEGATORS
                and prev not in FA_NOT_NEGATABLE
            ):
                out[-1] = NEG_PREFIX + prev
            out.append(token)
            if stem is not None:
                out.append(NEG_PREFIX + stem)
            continue
        out.append(token)
    return out


def prepare_english_tokens(
    text: str, *, negation: bool = True, placeholders: bool = True
) -> list[str]:
    """Lower-cased spaCy tokens of one English document, negation scope marked ``NOT_``.

    A negator ("not", "n't", "never", "no", ...) marks up to four following words, up to
    the next punctuation mark or "but". Letter runs are shortened ("soooo" -> "soo").

    Examples
    --------
    >>> prepare_english_tokens("@united the crew was NOT helpful, but fine http://t.co/x")
    ['xxuser', 'the', 'crew', 'was', 'not', 'NOT_helpful', ',', 'but', 'fine', 'xxurl']
    """
    if placeholders:
        text = _replace_handles(text)
    out: list[str] = []
    scope = 0
    for raw in tokenize_english(text):
        token, kind = _english_token(raw, placeholders)
        if not negation:
            out.append(token)
            continue
        if kind == "end":
            scope = 0
            out.append(token)
        elif kind == "negator":
            scope = EN_SCOPE_MAX
            out.append(token)
        elif scope > 0 and kind == "word":
            out.append(NOT_PREFIX + token)
            scope -= 1
        else:
            out.append(token)
    return out


def _documents(X: Iterable[object]) -> Iterable[object]:
    if isinstance(X, str):
        raise TypeError("TextPreparer.transform expects a list of documents, not one string")
    if hasattr(X, "ndim") and getattr(X, "ndim", 1) == 2:  # a one-column frame or array
        return np.asarray(X).ravel()
    return X


class StageNormalizer(StatelessTextTransformer):
    """Raw feedback -> the text the normalize stage stores (markup, PII redaction, hazm).

    Put before a branch that reads whole texts (the e5 encoder of ``tfidf+encoder``):
    trained on raw text, served on stored text inside
    :func:`~cxtext.classify.text_input.stored_texts` (passed as it is), the branch
    sees the same string either way, as :class:`TextPreparer` ensures for the TF-IDF
    branch. Normalizing stored text again is nearly, not exactly, idempotent (hazm
    re-spaces some number formats: ~0.2% of real Persian texts).
    """

    def __init__(self, mixed_min_share: float = 0.2):
        self.mixed_min_share = mixed_min_share

    def transform(self, X: Iterable[object]) -> list[str]:
        if texts_are_stored():  # the classify stage: the normalize stage already did it
            return [as_text(v) for v in X]
        return [normalize_text(as_text(v), self.mixed_min_share)[1] for v in X]


class TextPreparer(StatelessTextTransformer):
    """Raw feedback -> one string of space-separated, normalized tokens per document.

    Stateless: ``fit`` learns nothing, so the same object prepares training and serving
    text identically. Every document first goes through the normalize stage's own
    :func:`~cxtext.normalize.documents.normalize_text` (markup, PII redaction, hazm or
    English normalization), so ``transform(raw)`` equals
    ``transform_normalized(normalize_text(raw))``: the nightly flow, whose normalize
    stage already did that step, calls :meth:`transform_normalized` and skips it, and a
    raw text and its redacted version get the same tokens. ``None``, NaN and empty
    documents become the placeholder ``xxempty``; normalized text beyond ``max_chars``
    is not read.

    Parameters
    ----------
    lang : {"auto", "fa", "en"}, default="auto"
        "auto" detects each document's script (:func:`detect_language`); Persian and
        mixed text go through hazm, the rest through spaCy's tokenizer.
    negation : bool, default=True
        Mark negated words (``NEG_`` in Persian, ``NOT_`` scope in English).
    placeholders : bool, default=True
        Replace URLs, e-mails, @mentions and numbers by ``xxurl`` ``xxemail``
        ``xxuser`` ``xxnum``.
    max_chars : int, default=5000
        Characters of each document that are read.
    mixed_min_share : float, default=0.2
        Passed to :func:`detect_language`.

    Examples
    --------
    >>> TextPreparer().fit_transform(["Not good at all!", "خوب نبود", None])
    ['not NOT_good NOT_at NOT_all !', 'NEG_خوب نبود NEG_بود', 'xxempty']
    """

    def __init__(
        self,
        lang: str = "auto",
        negation: bool = True,
        placeholders: bool = True,
        max_chars: int = 5000,
        mixed_min_share: float = 0.2,
    ):
        self.lang = lang
        self.negation = negation
        self.placeholders = placeholders
        self.max_chars = max_chars
        self.mixed_min_share = mixed_min_share

    def fit(self, X: Iterable[object], y: object = None) -> TextPreparer:
        """Check the parameters; nothing is learned."""
        if self.lang not in ("auto", "fa", "en"):
            raise ValueError(f"TextPreparer: lang must be 'auto', 'fa' or 'en', got {self.lang!r}")
        self.n_features_in_ = 1
        return self

    def language_of(self, text: str) -> str:
        """The language branch a normalized document takes: "fa" or "en"."""
        if self.lang != "auto":
            return self.lang
        text = _pii_placeholder().sub(" ", text)  # placeholders are Latin in any language
        return "fa" if detect_language(text, self.mixed_min_share) in ("fa", "mixed") else "en"

    def prepare(self, value: object) -> str:
        """One raw document -> its prepared token string."""
        return self.prepare_normalized(normalize_text(as_text(value), self.mixed_min_share)[1])

    def prepare_normalized(self, text: object) -> str:
        """One document already through ``normalize_text`` -> its prepared token string."""
        text = as_text(text)[: self.max_chars]
        if not text.strip():
            return EMPTY_TOKEN
        lang = self.language_of(text)
        text = pii_placeholders_as_tokens(text)
        kwargs = {"negation": self.negation, "placeholders": self.placeholders}
        if lang == "fa":
            tokens = prepare_persian_tokens(text, normalized=True, **kwargs)
        else:
            tokens = prepare_english_tokens(text, **kwargs)
        return " ".join(tokens) if tokens else EMPTY_TOKEN

    def transform(self, X: Iterable[object]) -> list[str]:
        """Prepared token strings, one per raw input document, in order (per stored
        document inside :func:`~cxtext.classify.text_input.stored_texts`)."""
        if texts_are_stored():
            return self.transform_normalized(X)
        return [self.prepare(v) for v in _documents(X)]

    def transform_normalized(self, X: Iterable[object]) -> list[str]:
        """Like :meth:`transform` for documents the normalize stage already normalized.

        ``transform_normalized(normalize_text(x)[1] ...)`` equals ``transform(x ...)``
        and saves the redaction and hazm pass (about half the preparation time).
        """
        return [self.prepare_normalized(v) for v in _documents(X)]

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(["prepared_text"], dtype=object)


class CompactTfidfVectorizer(TfidfVectorizer):
    """:class:`~sklearn.feature_extraction.text.TfidfVectorizer` that saves its vocabulary compactly.

    skops writes a ``dict`` entry by entry, which takes minutes for a vocabulary of a
    few hundred thousand n-grams. This subclass stores ``vocabulary_`` as one
    newline-joined string (prepared text never contains a newline), so saving and
    loading take well under a second and the file stays small. Behaviour is otherwise
    exactly that of ``TfidfVectorizer``.
    """

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # object.__getstate__ returns the live __dict__
        vocabulary = state.pop("vocabulary_", None)
        if vocabulary is not None:
            terms = sorted(vocabulary, key=vocabulary.__getitem__)
            if any("\n" in t for t in terms):
                raise ValueError("CompactTfidfVectorizer: a vocabulary term holds a newline")
            state["vocabulary_terms_"] = "\n".join(terms)
            state["vocabulary_size_"] = len(terms)
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        joined = state.pop("vocabulary_terms_", None)
        size = state.pop("vocabulary_size_", None)
        super().__setstate__(state)
        if joined is not None:
            terms = joined.split("\n") if size else []
            self.vocabulary_ = {t: i for i, t in enumerate(terms)}


def make_text_features(
    word_ngram_range: tuple[int, int] = (1, 2),
    char_ngram_range: tuple[int, int] = (2, 5),
    *,
    min_df: int | float = 2,
    max_df: float = 0.95,
    word_max_features: int | None = 200_000,
    char_max_features: int | None = 300_000,
    sublinear_tf: bool = True,
    char: bool = True,
) -> FeatureUnion:
    """TF-IDF word n-grams + character n-grams (within word boundaries) of prepared text.

    Expects the output of :class:`TextPreparer` (tokens separated by single spaces), so
    the word analyzer splits on whitespace only and keeps tokens such as ``NOT_good``,
    ``xxurl`` and ZWNJ words whole. ``min_df`` and the ``max_features`` caps keep the
    vocabulary, and with it the skops file, a few MB.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> feats = make_pipeline(TextPreparer(), make_text_features(min_df=1))
    >>> feats.fit_transform(["the delivery was late", "great food"]).shape[0]
    2
    """
    parts = [
        (
            "word",
            CompactTfidfVectorizer(
                analyzer="word",
                token_pattern=r"\S+",
                lowercase=False,
                ngram_range=word_ngram_range,
                min_df=min_df,
                max_df=max_df,
                max_features=word_max_features,
                sublinear_tf=sublinear_tf,
                dtype=np.float32,
            ),
        )
    ]
    if char:
        parts.append(
            (
                "char",
                CompactTfidfVectorizer(
                    analyzer="char_wb",
                    lowercase=False,
                    ngram_range=char_ngram_range,
                    min_df=min_df,
                    max_df=max_df,
                    max_features=char_max_features,
                    sublinear_tf=sublinear_tf,
                    dtype=np.float32,
                ),
            )
        )
    return FeatureUnion(parts)
