"""Topics over a taxonomy: a seed-keyword tagger and a multi-label linear topic model.

The keyword tagger is the fallback when no topic model is registered and the source of
weak labels for training one; the model generalizes beyond the seed keywords and gives
a calibrated probability per theme. Both work on the same normalized text the nightly
flow stores (hazm-normalized Persian, whitespace-normalized English).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from cxtext.themes.taxonomy import Taxonomy

ZWNJ = "\u200c"

# Inflections that may follow a Persian keyword and still count as the same word:
# plural ها, ezafe ی, possessive clitics (م ت ش مان تان شان, ام ات اش), indefinite ای.
# Longest first so the regex prefers "هایم" over "ها". Plural ان is left out on
# purpose: "پیکان" (a car) is not "پیک" + ان.
PERSIAN_SUFFIXES = (
    "هایمان",
    "هایتان",
    "هایشان",
    "هایم",
    "هایت",
    "هایش",
    "هایی",
    "های",
    "ها",
    "مان",
    "تان",
    "شان",
    "ام",
    "ات",
    "اش",
    "ای",
    "یی",
    "ی",
    "م",
    "ت",
    "ش",
)
# English inflections a keyword may carry: "delay" matches delays/delayed/delaying,
# "cancel" matches cancelled/cancelling.
ENGLISH_SUFFIXES = ("ling", "led", "ing", "ed", "es", "s", "d")

# Folded before matching, so keyword lists and texts need not agree on these variants.
_FOLD = str.maketrans(
    {
        "\u064a": "\u06cc",  # Arabic yeh -> Persian yeh
        "\u0649": "\u06cc",  # alef maksura -> Persian yeh
        "\u0643": "\u06a9",  # Arabic kaf -> Persian keheh
        "\u0629": "\u0647",  # teh marbuta -> heh
        "\u0640": None,  # tatweel (kashida)
        ZWNJ: None,  # ZWNJ: "می‌خواهم" == "میخواهم" (patterns allow an optional space)
        "\u200d": None,
        "\u200f": None,
        "\u200e": None,
    }
)
_DIACRITICS = re.compile("[\u064b-\u065f\u0670]")
_SPACES = re.compile(r"\s+")


def fold_for_matching(text: str) -> str:
    """Lower-case, one space, Arabic letter variants and diacritics folded, ZWNJ dropped.

    Both texts and keywords pass through this, so "پشتيباني", "پشتیبانی" and a ZWNJ
    variant of a phrase all meet in one form.
    """
    text = _DIACRITICS.sub("", text.translate(_FOLD)).lower()
    return _SPACES.sub(" ", text).strip()


def _keyword_pattern(keyword: str, language: str) -> str | None:
    """A regex for one keyword: its words with an optional space (or hyphen) between them.

    Splitting on ZWNJ and spaces *before* folding means "پس‌انداز", "پس انداز" and
    "پسانداز" all match each other.
    """
    parts = [fold_for_matching(p) for p in re.split(r"[\s\u200c-]+", keyword)]
    parts = [p for p in parts if p]
    if not parts:
        return None
    return r"[ \-]?".join(re.escape(p) for p in parts)


def _alternation(patterns: Iterable[str]) -> str:
    return "|".join(sorted(set(patterns), key=len, reverse=True))


def _theme_regex(keywords: dict[str, tuple[str, ...]], language: str) -> re.Pattern[str] | None:
    fa = [p for k in keywords.get("fa", ()) if (p := _keyword_pattern(k, "fa"))]
    en = [p for k in keywords.get("en", ()) if (p := _keyword_pattern(k, "en"))]
    if language == "fa":
        en = []
    elif language == "en":
        fa = []
    branches = []
    if fa:
        branches.append(f"(?:{_alternation(fa)})(?:{'|'.join(PERSIAN_SUFFIXES)})?")
    if en:
        branches.append(f"(?:{_alternation(en)})(?:{'|'.join(ENGLISH_SUFFIXES)})?")
    if not branches:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(branches)})(?!\w)")


def _keyword_tokens(keyword: str) -> tuple[str | None, ...]:
    """A keyword as :func:`_keyword_pattern` reads it: its characters, None between words."""
    parts = [p for p in (fold_for_matching(x) for x in re.split(r"[\s\u200c-]+", keyword)) if p]
    return tuple(tok for i, part in enumerate(parts) for tok in ((None, *part) if i else part))


def _keyword_scan(keywords: set[tuple[str | None, ...]], suffixes: tuple[str, ...]) -> str:
    """Every keyword of one language as one regex, built as a trie of their characters.

    A backtracking regex tries an alternation's branches one by one; sharing prefixes
    makes the search at a word start cost about one keyword's length, not one try per
    keyword. It matches exactly where one of the keywords' own patterns would.
    """
    root: dict = {}
    for tokens in keywords:
        node = root
        for tok in tokens:
            node = node.setdefault(tok, {})
        node[""] = {}
    end = f"(?:{'|'.join(suffixes)})?(?!\\w)"

    def emit(node: dict) -> str:
        alts = [
            (r"[ \-]?" if tok is None else re.escape(tok)) + emit(child)
            for tok, child in node.items()
            if tok != ""
        ]
        if "" in node:
            alts.append(end)
        return alts[0] if len(alts) == 1 else f"(?:{'|'.join(alts)})"

    return emit(root)


def _keyword_scans(
    keywords: Sequence[dict[str, tuple[str, ...]]],
) -> dict[str, tuple[re.Pattern[str], ...]]:
    """Each mode's one-pass scans: a zero-width search of all of a language's keywords."""
    scan = {}
    for lang, suffixes in (("fa", PERSIAN_SUFFIXES), ("en", ENGLISH_SUFFIXES)):
        words = {w for k in keywords for kw in k.get(lang, ()) if (w := _keyword_tokens(kw))}
        if words:
            scan[lang] = re.compile(rf"(?<!\w)(?={_keyword_scan(words, suffixes)})")
    return {
        mode: tuple(scan[x] for x in ("fa", "en") if x in scan and mode in (x, "both"))
        for mode in ("fa", "en", "both")
    }


# Compiling the scans (a regex of ~70k characters) costs ~0.3 CPU-s, what searching
# each theme's regex costs for a few thousand texts: a matcher builds them once it has
# matched this many texts, so a small nightly increment never pays for them.
SCAN_AFTER_TEXTS = 5_000


@dataclass(eq=False)
class KeywordMatcher:
    """Compiled per-theme regexes for each language mode (fa, en, both).

    After :data:`SCAN_AFTER_TEXTS` texts, one pass of a scan over a text finds every
    word start where some keyword of the mode matches, and only there are the themes'
    own regexes tried (``match`` at that position): a theme is found exactly when its
    regex's ``search`` would find it, for about 40% of one search per theme and text.
    """

    theme_ids: tuple[str, ...]
    regexes: dict[str, tuple[re.Pattern[str] | None, ...]]
    keywords: tuple[dict[str, tuple[str, ...]], ...]  # each theme's, taxonomy order
    # Mutable on purpose: one matcher per process counts its texts and builds its scans.
    texts_seen: int = field(default=0, init=False, repr=False)
    scans: dict[str, tuple[re.Pattern[str], ...]] | None = field(
        default=None, init=False, repr=False
    )

    def _scans(self) -> dict[str, tuple[re.Pattern[str], ...]] | None:
        if self.scans is None:
            self.texts_seen += 1
            if self.texts_seen <= SCAN_AFTER_TEXTS:
                return None
            self.scans = _keyword_scans(self.keywords)
        return self.scans

    def themes_in(self, text: str, language: str = "both") -> list[str]:
        """Theme ids (taxonomy order) whose keywords occur in ``text`` as whole words."""
        if not text:
            return []
        folded = fold_for_matching(text)
        mode = language if language in ("fa", "en") else "both"
        regexes = self.regexes[mode]
        scans = self._scans()
        if scans is None:
            return [
                tid
                for tid, rx in zip(self.theme_ids, regexes, strict=True)
                if rx is not None and rx.search(folded)
            ]
        found = [False] * len(regexes)
        for scan in scans[mode]:
            for start in scan.finditer(folded):
                at = start.start()
                for k, rx in enumerate(regexes):
                    if not found[k] and rx is not None and rx.match(folded, at):
                        found[k] = True
        return [tid for tid, hit in zip(self.theme_ids, found, strict=True) if hit]


def _keywords_key(taxonomy: Taxonomy) -> str:
    return json.dumps(
        [
            [t.id, {lang: list(v) for lang, v in sorted(t.keywords.items())}]
            for t in taxonomy.themes
        ],
        ensure_ascii=False,
    )


def taxonomy_hash(taxonomy: Taxonomy) -> str:
    """Short content hash of theme ids and keywords: names the keyword tagger's "version"."""
    return hashlib.sha256(_keywords_key(taxonomy).encode("utf-8")).hexdigest()[:12]


def _build_matcher(key: str) -> KeywordMatcher:
    themes = json.loads(key)
    ids = tuple(t[0] for t in themes)
    kws = tuple({lang: tuple(v) for lang, v in t[1].items()} for t in themes)
    return KeywordMatcher(
        ids, {mode: tuple(_theme_regex(k, mode) for k in kws) for mode in ("fa", "en", "both")}, kws
    )


_matcher_for = cache(_build_matcher)


def keyword_matcher(taxonomy: Taxonomy) -> KeywordMatcher:
    """The compiled matcher of a taxonomy (cached by content, so compile once per process)."""
    return _matcher_for(_keywords_key(taxonomy))


def keyword_topics(
    texts: Sequence[str], languages: Sequence[str] | None, taxonomy: Taxonomy
) -> list[list[str]]:
    """Theme ids whose seed keywords occur in each text, as whole words or phrases.

    Persian keywords match with or without ZWNJ/space inside them and with common
    suffixes (plural, possessive); English keywords match case-insensitively with
    common inflections. ``languages`` (fa/en/mixed/other per text, or None) picks the
    keyword lists: fa -> Persian, en -> English, anything else -> both.

    Examples
    --------
    >>> from cxtext.themes.taxonomy import parse_taxonomy
    >>> tax = parse_taxonomy({"themes": [{"id": "delivery", "label_en": "Delivery",
    ...     "label_fa": "ارسال", "keywords": {"fa": ["پیک"], "en": ["late delivery"]}}]})
    >>> keyword_topics(["Late  delivery again", "پیک‌ها دیر آمدند", "fine"], None, tax)
    [['delivery'], ['delivery'], []]
    """
    matcher = keyword_matcher(taxonomy)
    langs = languages if languages is not None else ["both"] * len(texts)
    return [
        matcher.themes_in(t if isinstance(t, str) else "", str(lang))
        for t, lang in zip(texts, langs, strict=True)
    ]


# --- the topic model -------------------------------------------------------------


def labels_to_indicator(labels: Sequence[Sequence[str]], themes: Sequence[str]) -> np.ndarray:
    """A (documents x themes) 0/1 matrix from per-document lists of theme ids."""
    index = {t: j for j, t in enumerate(themes)}
    y = np.zeros((len(labels), len(themes)), dtype=np.int8)
    for i, doc in enumerate(labels):
        for t in doc:
            if t in index:
                y[i, index[t]] = 1
    return y


class ThemeClassifier(ClassifierMixin, BaseEstimator):
    """One-vs-rest linear SVMs with sigmoid (Platt) calibration over named themes (multi-label).

    Per theme: a ``LinearSVC`` fitted on all documents, and a sigmoid fitted on its
    ``cv``-fold out-of-fold decision values (what ``CalibratedClassifierCV(ensemble=False)``
    does). Only one weight matrix (themes x features, stored as ``weights_dtype``) and
    two calibration numbers per theme are kept, so a saved model is a few MB even with
    a large vocabulary; float16 weights change probabilities by < 1e-3.

    Why not ``OneVsRestClassifier``: themes with too few positives for calibration get
    a constant prior instead of failing, and the theme ids travel with the model
    (``classes_``), so a saved model says which taxonomy it scores.

    Parameters
    ----------
    themes : theme ids, the columns of the indicator matrix ``y`` given to ``fit``.
    C : LinearSVC regularization.
    cv : calibration folds; a theme needs ``cv`` positives (and negatives) to be fitted.
    class_weight : passed to LinearSVC ("balanced" helps rare themes).
    weights_dtype : dtype the weight matrix is stored in ("float32" or "float16").
    """

    def __init__(
        self,
        themes: Sequence[str] = (),
        C: float = 0.5,
        cv: int = 3,
        class_weight: str | None = None,
        weights_dtype: str = "float32",
    ) -> None:
        self.themes = themes
        self.C = C
        self.cv = cv
        self.class_weight = class_weight
        self.weights_dtype = weights_dtype

    def fit(self, X, y) -> ThemeClassifier:
        y = np.asarray(y)
        if y.ndim != 2 or y.shape[1] != len(self.themes):
            raise ValueError(f"y must be (documents x {len(self.themes)} themes), got {y.shape}")
        if self.weights_dtype not in ("float16", "float32", "float64"):
            raise ValueError(
                f"weights_dtype must be float16, float32 or float64, got {self.weights_dtype!r}"
            )
        n_features = X.shape[1]
        self.classes_ = np.array(list(self.themes), dtype=object)
        self.priors_ = y.mean(axis=0).astype(float)
        coef = np.zeros((y.shape[1], n_features), dtype=np.float64)
        intercept = np.zeros(y.shape[1])
        calibration = np.zeros((y.shape[1], 2))  # P = 1 / (1 + exp(a * d + b))
        fitted = np.zeros(y.shape[1], dtype=bool)
        for j in range(y.shape[1]):
            col = y[:, j].astype(int)
            pos = int(col.sum())
            if pos < self.cv or len(col) - pos < self.cv:
                continue
            svc = LinearSVC(C=self.C, class_weight=self.class_weight)
            folds = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=j)
            oof = cross_val_predict(svc, X, col, cv=folds, method="decision_function")
            calibration[j] = _platt(oof, col)
            svc.fit(X, col)
            coef[j], intercept[j], fitted[j] = svc.coef_.ravel(), svc.intercept_[0], True
        self.coef_ = coef.astype(self.weights_dtype)
        self.intercept_ = intercept
        self.calibration_ = calibration
        self.fitted_ = fitted
        self.n_features_in_ = n_features
        return self

    def decision_function(self, X) -> np.ndarray:
        """Linear SVM scores per document and theme (0 for themes without a model)."""
        check_is_fitted(self, "coef_")
        scores = X @ self.coef_.T.astype(np.float32)
        return np.asarray(scores, dtype=float) + self.intercept_

    def predict_proba(self, X) -> np.ndarray:
        """P(theme applies) per document and theme; columns follow ``classes_``."""
        d = self.decision_function(X)
        a, b = self.calibration_[:, 0], self.calibration_[:, 1]
        proba = 1.0 / (1.0 + np.exp(np.clip(a * d + b, -500, 500)))
        return np.where(self.fitted_, proba, self.priors_)

    def predict(self, X, threshold: float = 0.5) -> np.ndarray:
        """0/1 indicator matrix at ``threshold``."""
        return (self.predict_proba(X) >= threshold).astype(np.int8)


def _platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt's sigmoid (a, b) with P(y=1 | s) = 1 / (1 + exp(a s + b)), smoothed targets."""
    from scipy.optimize import minimize  # noqa: PLC0415

    pos = float(y.sum())
    neg = float(len(y) - pos)
    target = np.where(y == 1, (pos + 1) / (pos + 2), 1 / (neg + 2))

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        z = params[0] * scores + params[1]
        p = 1.0 / (1.0 + np.exp(np.clip(z, -500, 500)))
        eps = 1e-12
        value = -np.sum(target * np.log(p + eps) + (1 - target) * np.log(1 - p + eps))
        grad_z = target - p  # d loss / d z
        return float(value), np.array([np.dot(grad_z, scores), grad_z.sum()])

    start = np.array([0.0, np.log((neg + 1) / (pos + 1))])
    res = minimize(loss, start, jac=True, method="L-BFGS-B")
    return float(res.x[0]), float(res.x[1])


def build_topic_model(
    themes: Sequence[str],
    *,
    C: float = 0.5,
    cv: int = 3,
    class_weight: str | None = "balanced",
    weights_dtype: str = "float32",
    prepare: dict | None = None,
    **feature_params,
) -> Pipeline:
    """Text preparation + TF-IDF features + :class:`ThemeClassifier`, as one Pipeline.

    The preparation step is the same one the sentiment models use, so a saved topic
    model carries its own normalization and tokenization (no train/serve skew).
    ``prepare`` holds :class:`TextPreparer` settings (default: the sentiment models'
    own, so the classify stage can reuse their prepared text); ``feature_params`` go
    to the feature builder.
    """
    from cxtext.classify.features import TextPreparer, make_text_features  # noqa: PLC0415

    return Pipeline(
        [
            ("prepare", TextPreparer(**(prepare or {}))),
            ("features", make_text_features(**feature_params)),
            (
                "classify",
                ThemeClassifier(
                    themes=tuple(themes),
                    C=C,
                    cv=cv,
                    class_weight=class_weight,
                    weights_dtype=weights_dtype,
                ),
            ),
        ]
    )


def build_single_label_model(
    *,
    C: float = 0.5,
    lang: str = "auto",
    min_df: int = 1,
    word_ngram_range: tuple[int, int] = (1, 2),
    char_ngram_range: tuple[int, int] = (2, 5),
    negation: bool = True,
    placeholders: bool = True,
    class_weight: str | None = None,
) -> Pipeline:
    """TextPreparer + TF-IDF word/char n-grams + LinearSVC, for single-label topic data.

    What labelled single-label data (one reason per complaint) retrains; the
    benchmarks compare it with a plain TF-IDF baseline. ``negation`` and
    ``placeholders`` go to :class:`TextPreparer` (negation scopes split a topic word
    into ``word`` / ``NOT_word``, which helps sentiment but not always topics);
    ``class_weight`` to the LinearSVC. :func:`fit_single_label_model` picks these on a
    validation split of the training data.
    """
    from cxtext.classify.features import TextPreparer, make_text_features  # noqa: PLC0415

    return Pipeline(
        [
            ("prepare", TextPreparer(lang=lang, negation=negation, placeholders=placeholders)),
            ("features", make_text_features(word_ngram_range, char_ngram_range, min_df=min_df)),
            ("classify", LinearSVC(C=C, class_weight=class_weight)),
        ]
    )


# Searched by fit_single_label_model: preparation variants x LinearSVC settings.
_PREPARATION_KEYS = (
    "negation",
    "placeholders",
    "lang",
    "min_df",
    "word_ngram_range",
    "char_ngram_range",
)
SINGLE_LABEL_GRID: dict[str, tuple] = {
    "negation": (True, False),
    "class_weight": (None, "balanced"),
    "C": (0.2, 0.5, 1.0),
}


def fit_single_label_model(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    grid: dict[str, Sequence] | None = None,
    folds: int = 3,
    seed: int = 0,
    **fixed,
) -> tuple[Pipeline, dict]:
    """Pick :func:`build_single_label_model` settings on a validation split of the training data, then refit.

    ``texts``/``labels`` are the training data only: stratified ``folds``-fold cross
    validation over them (fixed ``seed``; ``folds=1`` is one 80/20 split) scores every
    combination of ``grid`` (default :data:`SINGLE_LABEL_GRID`; keys are
    ``build_single_label_model`` arguments), the best mean accuracy wins (ties: the
    earlier combination), and the model is refitted on all of ``texts``. Returns the
    fitted Pipeline and ``{"params", "validation_accuracy", "scores"}``.
    """
    import itertools  # noqa: PLC0415

    from cxtext.classify.evaluation import split_indices  # noqa: PLC0415

    grid = dict(SINGLE_LABEL_GRID if grid is None else grid)
    texts = list(texts)
    y = np.asarray(labels, dtype=object)
    if folds < 1:
        raise ValueError(f"folds must be >= 1, got {folds}")
    if folds == 1:
        splits = [split_indices(list(y), test_size=0.2, seed=seed)]
    else:
        kfold = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        splits = list(kfold.split(np.zeros(len(y)), y))
    keys = list(grid)
    prep_keys = [k for k in keys if k in _PREPARATION_KEYS]
    clf_keys = [k for k in keys if k not in prep_keys]
    totals: dict[int, float] = {}
    combos: list[dict] = []
    for prep_values in itertools.product(*(grid[k] for k in prep_keys)):
        prep_params = {**fixed, **dict(zip(prep_keys, prep_values, strict=True))}
        template = build_single_label_model(**prep_params)
        prepared = template[0].fit_transform(texts)  # stateless: prepare once for all folds
        first = len(combos)
        combos += [
            {**prep_params, **dict(zip(clf_keys, v, strict=True))}
            for v in itertools.product(*(grid[k] for k in clf_keys))
        ]
        for inner_train, inner_val in splits:
            features = clone(template[1])
            a = features.fit_transform([prepared[i] for i in inner_train])
            b = features.transform([prepared[i] for i in inner_val])
            for k in range(first, len(combos)):
                clf = build_single_label_model(**combos[k])[-1].fit(a, y[inner_train])
                totals[k] = totals.get(k, 0.0) + float(
                    (clf.predict(b) == y[inner_val]).mean()
                ) / len(splits)
    scores = [(combos[k], totals[k]) for k in range(len(combos))]
    best_params, best = max(scores, key=lambda r: r[1])  # max keeps the first of equal scores
    model = build_single_label_model(**best_params).fit(texts, y)
    return model, {
        "params": best_params,
        "validation_accuracy": best,
        "folds": folds,
        "scores": [{**p, "accuracy": round(acc, 4)} for p, acc in scores],
    }


def topic_probabilities(model, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """(theme ids, probabilities) of a fitted topic model on ``texts``."""
    proba = model.predict_proba(list(texts))
    return [str(c) for c in model.classes_], np.asarray(proba, dtype=float)
