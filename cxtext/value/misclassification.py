"""Topic and sentiment misclassification, carried into churn uplift and CLV at risk.

A theme is "raised negatively" when the topic model assigns it and the sentiment model
calls the mention negative. Both make mistakes, measured on held-out human-labelled
documents and stored in the model cards (topic: ``assignment_confusion`` per theme;
sentiment: the 3 × 3 ``metrics.confusion`` per language). From those counts and the
rates observed in today's feedback this module gives, for every (document, theme), the
probability that the document truly raises the theme negatively:

- topic: sensitivity se = tp/(tp+fn) and false-positive rate f = fp/(fp+tn) of the
  assignment; the true share of documents about the theme is the Rogan–Gladen estimate
  π = (q − f)/(se − f) from the observed share q (so a prevalence different from the
  held-out set's is allowed for); then P(true | assigned) = se·π/q, and the missed
  share (1 − se)·π placed over the unassigned documents by the held-out rates of their
  stratum (no theme at all, or beside each other theme; evenly when the card lacks
  them);
- sentiment: P(truly negative | predicted label l) = M[neg, l]·π_neg / q_l with M the
  row-normalised confusion and π the class shares solving q = Mᵀπ (non-negative least
  squares), per language.

The two are multiplied (topic and sentiment errors taken as independent). Draws of the
confusion counts from their Beta posteriors (each rate's prior worth ``prior_texts``
texts at the rate pooled over all themes) give the uncertainty of the correction
itself, so a theme measured on 4 held-out documents gets a wide interval, narrowed by
what the other themes say about the classifier.

The per-document topic probabilities of the model are deliberately not used: the
shipped topic model is calibrated against weak keyword labels, not human labels, so
its probabilities say how keyword-like a text is. The held-out confusion is the honest
measurement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import nnls

from cxtext.painpoints.mentions import _json, distinct_triples

SENTIMENT_LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class Confusion:
    """Held-out confusion of the topic assignment (per theme) and the sentiment labels.

    ``topics[t] = (tp, fp, fn, tn)``; ``sentiment[lang]`` a 3 × 3 count matrix, gold
    rows × predicted columns in :data:`SENTIMENT_LABELS` order.
    """

    topics: dict[str, tuple[int, int, int, int]]
    sentiment: dict[str, np.ndarray] = field(default_factory=dict)
    source: str = ""
    unassigned: dict[str, tuple[int, int]] = field(default_factory=dict)  # (fn, tn), no theme
    unassigned_with: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    prior_texts: float = 0.0  # pseudo-texts of the pooled prior on each rate

    def describe(self, theme_id: str) -> str:
        """One line for ``cxtext explain``: the theme's measured precision and recall."""
        if theme_id not in self.topics:
            return f"{theme_id}: no held-out confusion (not corrected)"
        tp, fp, fn, tn = self.topics[theme_id]
        prec = f"{tp / (tp + fp):.2f}" if tp + fp else "n/a"
        rec = f"{tp / (tp + fn):.2f}" if tp + fn else "n/a"
        line = (
            f"precision {prec} ({tp}/{tp + fp}), recall {rec} ({tp}/{tp + fn}), "
            f"false-positive rate {fp / max(fp + tn, 1):.3f} ({fp}/{fp + tn}) on held-out labels; "
            f"rests on {tp + fn} held-out texts about it (of {tp + fp + fn + tn})"
        )
        if self.prior_texts:
            line += (
                f", each rate shrunk toward all themes' by a prior of {self.prior_texts:g} texts"
            )
        return line


def describe_sentiment(confusion: Confusion) -> str:
    """One line: each language's held-out recall and precision of the negative label."""
    parts = []
    for lang, m in sorted(confusion.sentiment.items()):
        tp, gold, pred = m[0, 0], m[0].sum(), m[:, 0].sum()
        rec = f"{tp / gold:.2f}" if gold else "n/a"
        prec = f"{tp / pred:.2f}" if pred else "n/a"
        parts.append(
            f"{lang} negative recall {rec} ({int(tp)}/{int(gold)}), "
            f"precision {prec} ({int(tp)}/{int(pred)})"
        )
    return "; ".join(parts) or "no sentiment confusion (negative labels taken as given)"


def confusion_from_cards(
    topic_card: dict[str, Any] | None,
    sentiment_cards: dict[str, dict[str, Any]],
    prior_texts: float = 0.0,
) -> Confusion | None:
    """The confusion the cards hold, or None when the topic card has none (no correction).

    ``prior_texts``: each theme's rates get a Beta prior worth that many held-out texts,
    centred on the rate pooled over all themes, so a theme measured on 4 texts borrows
    strength from the others instead of resting on a uniform prior.
    """
    field_ = (topic_card or {}).get("assignment_confusion") or {}
    per_theme = field_.get("per_theme") or {}
    if not per_theme:
        return None
    topics = {
        str(t): (int(v["tp"]), int(v["fp"]), int(v["fn"]), int(v["tn"]))
        for t, v in per_theme.items()
    }
    unassigned = {
        str(t): (int(v["fn_unassigned"]), int(v["tn_unassigned"]))
        for t, v in per_theme.items()
        if v.get("fn_unassigned") is not None and v.get("tn_unassigned") is not None
    }
    unassigned_with = {
        str(t): {str(o): (int(c[0]), int(c[1])) for o, c in v["unassigned_with"].items()}
        for t, v in per_theme.items()
        if isinstance(v.get("unassigned_with"), dict)
    }
    sentiment = {}
    for lang, card in sentiment_cards.items():
        conf = ((card or {}).get("metrics") or {}).get("confusion") or {}
        labels, matrix = conf.get("labels"), conf.get("matrix")
        if labels and matrix and set(SENTIMENT_LABELS) <= set(labels):
            order = [labels.index(x) for x in SENTIMENT_LABELS]
            sentiment[lang] = np.asarray(matrix, dtype=float)[np.ix_(order, order)]
    name = (topic_card or {}).get("name", "topic model")
    sources = "+".join(field_.get("sources") or []) or "held-out labels"
    return Confusion(
        topics,
        sentiment,
        f"{name} card: {sources}, {field_.get('n', '?')} documents",
        unassigned,
        unassigned_with,
        float(prior_texts),
    )


@dataclass
class MentionTruth:
    """Per document × theme: observed negative mention (0/1) and P(truly negative mention).

    Held per distinct document signature (a few thousand rows however many documents)
    and each document's row there: the documents × themes matrices are built only when
    asked for (:attr:`probability`, :attr:`observed`); the churn model never does (at a
    million documents each is 128 MB of float64). ``draw(rng)`` gives the probabilities
    under one draw of the confusion counts.
    """

    themes: list[str]
    corrected: np.ndarray  # n_themes, bool: the theme had a held-out confusion
    # n_themes, bool: it had one, but the correction is not identified here (see _unidentified)
    unidentified: np.ndarray
    _cells: dict[str, Any] = field(repr=False, default_factory=dict)  # the rates' inputs
    # One row per distinct document signature, and each document's row in it (_compact)
    _distinct: dict[str, Any] = field(repr=False, default_factory=dict)
    _signature: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=int))
    _rows: tuple | None = field(repr=False, default=None)  # last rows: their signatures

    @cached_property
    def probability(self) -> np.ndarray:
        """n_docs × n_themes, the point estimate (built on first use, then kept)."""
        return self.signature_probability(None)[self._signature]

    @property
    def observed(self) -> np.ndarray:
        """n_docs × n_themes, bool: the document was assigned the theme, negatively."""
        return self._distinct["observed"][self._signature]

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        return self.signature_probability(rng)[self._signature]

    @property
    def signature(self) -> np.ndarray:
        """Each document's row in :meth:`signature_probability`."""
        return self._signature

    def signature_probability(self, rng: np.random.Generator | None) -> np.ndarray:
        """Distinct document signatures × themes: the point (``rng`` None) or one draw.

        Gathered by :attr:`signature` it gives every document's; what depends on
        documents only through their probabilities (a customer's, say) can be summed
        per signature instead of per document.
        """
        rates = correction_rates(self._cells, rng)  # rates from every document
        return apply_rates(self._distinct, rates)

    def draw_rates(self, rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
        """``n`` draws of the correction's cell rates, for :meth:`probability_under`."""
        return [correction_rates(self._cells, rng) for _ in range(n)]

    def probability_under(
        self, rates: dict[str, Any], rows: np.ndarray, col: int | None = None
    ) -> np.ndarray:
        """Probabilities of documents ``rows`` under one draw: theme ``col``, or every theme."""
        distinct, back = self.signature_probability_under(rates, rows, col)
        p = distinct[back]
        return p if col is None else p[:, 0]

    def signature_probability_under(
        self, rates: dict[str, Any], rows: np.ndarray, col: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`probability_under` as (its rows' distinct signatures × themes, each row's
        signature there): what is computed per document from its probabilities alone
        (a logarithm, say) can be computed per signature and gathered, with the same values."""
        if self._rows is None or self._rows[0] is not rows:  # the same rows for every draw
            self._rows = (rows, *np.unique(self._signature[rows], return_inverse=True))
        _, used, back = self._rows
        cols = None if col is None else np.array([col])
        return apply_rates(self._distinct, rates, used, cols), back.ravel()


def mention_truth(feedback: pd.DataFrame, themes: list[str], confusion: Confusion) -> MentionTruth:
    """P(document truly raises theme t negatively) for every document and theme.

    Themes without a held-out confusion keep their observed 0/1 (uncorrected).
    """
    cells, parsed = _document_cells(feedback, themes, confusion)
    distinct, signature = _compact(cells, parsed)
    rates_inputs = {name: v for name, v in cells.items() if name not in _PER_DOCUMENT}
    return MentionTruth(
        themes, cells["corrected"], cells["unidentified"], rates_inputs, distinct, signature
    )


def _document_cells(
    feedback: pd.DataFrame, themes: list[str], confusion: Confusion
) -> tuple[dict[str, Any], np.ndarray]:
    """(the correction's cells with one row per document, each document's parsed code)."""
    n, k = len(feedback), len(themes)
    # Parsed once per distinct (topics, aspects, sentiment) triple, not once per document
    codes, triples = distinct_triples(feedback)
    topics_u = [set(map(str, _json(t, list))) for t, _, _ in triples]
    assigned_u = np.zeros((len(triples), k), dtype=bool)
    label_u = np.zeros((len(triples), k), dtype=np.int8)  # index into SENTIMENT_LABELS, -1 unknown
    sent_index = {s: i for i, s in enumerate(SENTIMENT_LABELS)}
    for i, (_, aspect_raw, sent) in enumerate(triples):
        aspects = _json(aspect_raw, dict)
        base = sent_index.get(sent, -1) if isinstance(sent, str) else -1
        for j, t in enumerate(themes):
            assigned_u[i, j] = t in topics_u[i]
            lab = aspects.get(t) if assigned_u[i, j] else None
            label_u[i, j] = sent_index.get(lab, base) if isinstance(lab, str) else base
    assigned, label = assigned_u[codes], label_u[codes]
    lang_array = _languages(feedback)
    observed = assigned & (label == 0)
    corrected = np.array([t in confusion.topics for t in themes], dtype=bool)
    empty_u = np.array([not ts for ts in topics_u], dtype=bool)
    empty = empty_u[codes] if n else np.zeros(0, dtype=bool)  # the assignment gave no theme
    cells = {
        "assigned": assigned,
        "label": label,
        "langs": lang_array,  # fixed-width: compared per draw in C, not per object
        "observed": observed,
        "measured": corrected,  # has held-out counts: pooled into every theme's prior
        "corrected": corrected,  # corrected when applied (measured and identified)
        "q": assigned.mean(axis=0) if n else np.zeros(k),
        "empty": empty,
        "topic_counts": np.array(
            [confusion.topics.get(t, (0, 0, 0, 0)) for t in themes], dtype=float
        ),
        "unassigned_counts": np.array(
            [confusion.unassigned.get(t, (-1, -1)) for t in themes], dtype=float
        ),
        "with_counts": np.array(
            [[confusion.unassigned_with.get(t, {}).get(o, (0, 0)) for o in themes] for t in themes],
            dtype=float,
        ).reshape(k, k, 2),
        "prior_texts": confusion.prior_texts,
        "sentiment": confusion.sentiment,
        "label_counts": _label_counts(label, lang_array),
    }
    cells["unidentified"] = unidentified = _unidentified(cells)
    cells["corrected"] = corrected & ~unidentified  # their column as labelled
    return cells, codes


def _unidentified(cells: dict[str, Any]) -> np.ndarray:
    """Themes assigned in the data no more often than their held-out false-positive rate
    (posterior means), though the classifier is informative.

    Rogan–Gladen would put their share at 0 in (nearly) every draw: 0 people, an interval
    0–0. That 0 is an assumption (the held-out false positives explain every assignment:
    e.g. held-out texts all in-domain, the run's data mostly praise or another
    language), not evidence, so such a theme is kept as labelled and said to be so
    (:data:`cxtext.painpoints.rank.UNIDENTIFIED`), with its interval down to 0.
    """
    se, fpr = _topic_rates(cells, None)
    q = cells["q"]
    return cells["measured"] & _informative(se, fpr) & (q > 0) & (q <= fpr)


def _compact(cells: dict[str, Any], parsed: np.ndarray) -> tuple[dict[str, Any], np.ndarray]:
    """(cells with one row per distinct document signature, each document's row there).

    A document's probabilities depend only on its parsed (topics, aspects, sentiment)
    triple (``parsed``: its code) and its language: thousands of documents share a few
    hundred signatures, so each draw is computed per signature (``weight`` documents
    each) and gathered, with the same figures as per document.
    """
    n = len(cells["assigned"])
    if n == 0:
        return {**cells, "weight": np.zeros(0)}, np.zeros(0, dtype=int)
    lang_names, lang_codes = np.unique(cells["langs"], return_inverse=True)
    key = parsed.astype(np.int64) * len(lang_names) + lang_codes.ravel()
    _, first, signature, counts = np.unique(
        key, return_index=True, return_inverse=True, return_counts=True
    )
    distinct = {**cells, **{name: cells[name][first] for name in _PER_DOCUMENT}}
    distinct["weight"] = counts.astype(float)
    return distinct, signature.ravel()


_PER_DOCUMENT = ("assigned", "label", "langs", "observed", "empty")  # one row per document


def _languages(feedback: pd.DataFrame) -> np.ndarray:
    """Each document's language as fixed-width text ("" when not a string)."""
    if "language" not in feedback.columns:
        return np.full(len(feedback), "", dtype="<U1")
    codes, values = pd.factorize(feedback["language"], use_na_sentinel=False)
    names = [v if isinstance(v, str) else "" for v in values]
    return np.asarray(names or [""], dtype=str)[codes]


def _topic_rates(
    cells: dict[str, Any], rng: np.random.Generator | None
) -> tuple[np.ndarray, np.ndarray]:
    """(sensitivity, false-positive rate) per theme: posterior means, or one draw of each
    (sensitivity first: the random stream every seeded figure was computed with)."""
    tp, fp, fn, tn = cells["topic_counts"].T
    m, have = cells["prior_texts"], cells["measured"]
    se = _beta(tp, fn, _pooled(tp, fn, have), m, rng)
    fpr = _beta(fp, tn, _pooled(fp, tn, have), m, rng)
    return se, fpr


def _informative(se: np.ndarray, fpr: np.ndarray) -> np.ndarray:
    """A classifier better than chance on the theme: else its assignment is kept as it is."""
    return se > fpr + 1e-3


def correction_rates(cells: dict[str, Any], rng: np.random.Generator | None) -> dict[str, Any]:
    """The cell rates of one draw of the confusion counts (posterior mean when ``rng`` is None)."""
    _, _, fn, tn = cells["topic_counts"].T
    se, fpr = _topic_rates(cells, rng)
    p_yes, p_no = topic_cell_rates(cells["q"], se, fpr)
    return {
        "p_yes": p_yes,
        "p_no": p_no,
        **_unassigned_rates(cells, fn, tn, rng),
        "negative": _negative_rates(cells["label_counts"], cells["sentiment"], rng),
    }


def apply_rates(
    cells: dict[str, Any],
    rates: dict[str, Any],
    rows: np.ndarray | None = None,
    cols: np.ndarray | None = None,
) -> np.ndarray:
    """P(truly negative mention) for the documents ``rows`` × themes ``cols`` (None: all)."""
    sel = slice(None) if rows is None else rows
    cs = slice(None) if cols is None else cols
    # rows x cols at once: a pain point's draws take one column of the window's rows
    pick = (sel, cs) if rows is None or cols is None else np.ix_(rows, cols)
    assigned, label = cells["assigned"][pick], cells["label"][pick]
    observed = cells["observed"][pick]
    topic = np.where(assigned, rates["p_yes"][cs][None, :], _p_no(cells, rates, sel, cs))
    negative = (label == 0).astype(float)
    if rates["negative"]:
        langs = cells["langs"][sel]
        for lang, neg in rates["negative"].items():
            m = langs == lang
            labs = label[m]
            negative[m] = np.where(labs >= 0, neg[np.clip(labs, 0, 2)], 0.0)
    prob = topic * negative
    return np.where(cells["corrected"][cs][None, :], prob, observed.astype(float))


def topic_cell_rates(
    q: np.ndarray, se: np.ndarray, fpr: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(P(true | assigned), P(true | not assigned)) at the observed assigned share ``q``.

    Rogan–Gladen: the true share is π = (q − fpr)/(se − fpr), clipped to [0, 1]. A
    classifier no better than chance (se ≤ fpr) cannot be corrected: then the observed
    assignment is kept as it is (1 and 0).

    Examples
    --------
    >>> [round(float(v[0]), 3) for v in topic_cell_rates(np.array([0.1]), np.array([0.6]), np.array([0.02]))]
    [0.828, 0.061]
    """
    q = np.asarray(q, dtype=float)
    informative = _informative(se, fpr)
    pi = np.clip((q - fpr) / np.where(informative, se - fpr, 1.0), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_yes = np.where(q > 0, np.minimum(se * pi / q, 1.0), 0.0)
        p_no = np.where(q < 1, np.minimum((1.0 - se) * pi / (1.0 - q), 1.0), 0.0)
    return np.where(informative, p_yes, 1.0), np.where(informative, p_no, 0.0)


def _pooled(hit: np.ndarray, miss: np.ndarray, have: np.ndarray) -> float:
    """hit / (hit + miss) summed over the themes that have counts (0.5 when none)."""
    total = float((hit + miss)[have].sum())
    return float(hit[have].sum()) / total if total else 0.5


def _beta(
    hit: np.ndarray, miss: np.ndarray, centre, m: float, rng: np.random.Generator | None
) -> np.ndarray:
    """Posterior mean (``rng`` None) or a draw of a rate: Beta(hit + m·c + 1, miss + m·(1 − c) + 1)."""
    a = hit + m * np.asarray(centre) + 1.0
    b = miss + m * (1.0 - np.asarray(centre)) + 1.0
    return a / (a + b) if rng is None else rng.beta(a, b)


def _unassigned_rates(
    cells: dict[str, Any], fn: np.ndarray, tn: np.ndarray, rng: np.random.Generator | None
) -> dict[str, np.ndarray]:
    """Where a theme's missed mentions hide: the held-out rate per stratum of documents.

    A missed mention mostly hides in a document the assignment left empty, or in one
    it gave a theme it co-occurs with (billing in a ticket tagged refund), seldom in
    the others; spreading it evenly over all unassigned documents hands a theme's
    people to customers who raised something else and dilutes the churn model's
    indicator. The held-out fn/tn among empty documents and among documents assigned
    each other theme s give the rates r_empty(t) and r(t, s) (each shrunk toward the
    theme's rate over all non-empty documents); a document assigned several themes
    gets 1 − Π (1 − r(t, s)). :func:`_p_no` scales them so that today's total keeps
    the Rogan–Gladen share. Themes whose card lacks the split keep the even spread.
    """
    counts, pairs = cells["unassigned_counts"], cells["with_counts"]
    split = (counts >= 0).all(axis=1) & cells["measured"]
    fn_e, tn_e = np.where(split, counts[:, 0], 0.0), np.where(split, counts[:, 1], 0.0)
    fn_o, tn_o = np.maximum(fn - fn_e, 0.0), np.maximum(tn - tn_e, 0.0)
    m = max(cells["prior_texts"], 2.0)  # a pair cell always borrows from its theme
    r_empty = _beta(fn_e, tn_e, 0.5, 0.0, rng)
    r_other = _beta(fn_o, tn_o, 0.5, 0.0, None)
    r_pair = _beta(pairs[..., 0], pairs[..., 1], r_other[:, None], m, rng)
    np.fill_diagonal(r_pair, 0.0)
    return {"split": split, "r_empty": r_empty, "log_miss": np.log1p(-np.clip(r_pair, 0, 1 - 1e-9))}


def _p_no(cells: dict[str, Any], rates: dict[str, Any], sel, cs) -> np.ndarray:
    """P(true | not assigned) for documents ``sel`` × themes ``cs``."""
    if "scale" not in rates:  # once per draw: keep each theme's Rogan–Gladen total
        r_all = _stratum_rates(cells, rates, slice(None), slice(None))
        not_assigned = ~cells["assigned"]
        weight = cells.get("weight")  # documents per row (rows are signatures: _compact)
        if weight is None:
            weight = np.ones(len(not_assigned))
        total = rates["p_no"] * (weight @ not_assigned)
        rates["scale"] = total / np.maximum(weight @ (r_all * not_assigned), 1e-12)
    r = _stratum_rates(cells, rates, sel, cs)
    even = np.broadcast_to(rates["p_no"][cs][None, :], r.shape)
    scaled = np.minimum(r * rates["scale"][cs][None, :], 1.0)
    return np.where(rates["split"][cs][None, :], scaled, even)


def _stratum_rates(cells: dict[str, Any], rates: dict[str, Any], sel, cs) -> np.ndarray:
    assigned = cells["assigned"][sel].astype(float)
    with_others = -np.expm1(assigned @ rates["log_miss"][cs].T)
    return np.where(cells["empty"][sel][:, None], rates["r_empty"][cs][None, :], with_others)


def _label_counts(label: np.ndarray, langs: np.ndarray) -> dict[str, np.ndarray]:
    """Per language (sorted): how many (document, theme) cells carry each predicted label.

    Fixed for a window, so counted once, not in every draw of the correction.
    """
    out = {}
    for lang in np.unique(langs):
        labs = label[langs == lang]
        out[str(lang)] = np.array([(labs == c).sum() for c in range(3)], dtype=float)
    return out


def _negative_rates(
    label_counts: dict[str, np.ndarray],
    sentiment: dict[str, np.ndarray],
    rng: np.random.Generator | None,
) -> dict[str, np.ndarray]:
    """Per language: P(truly negative | predicted negative, neutral, positive)."""
    if not sentiment:
        return {}
    pooled = sum(sentiment.values())
    out = {}
    for lang, q in label_counts.items():
        counts = sentiment.get(lang, pooled)
        if rng is None:
            m = (counts + 1) / (counts + 1).sum(axis=1, keepdims=True)
        else:
            m = np.vstack([rng.dirichlet(row + 1) for row in counts])
        if q.sum() == 0:
            continue
        pi, _ = nnls(m.T, q / q.sum())
        pi = pi / pi.sum() if pi.sum() > 0 else np.full(3, 1 / 3)
        pred = m.T @ pi  # P(predicted label) under the fitted class shares
        out[lang] = np.where(pred > 0, m[0] * pi[0] / np.where(pred > 0, pred, 1.0), 0.0)
    return out


def customer_probability(
    prob: np.ndarray, customer_codes: np.ndarray, n_customers: int
) -> np.ndarray:
    """P(customer raised t negatively at least once) = 1 − Π over their documents (1 − p)."""
    return customer_probability_of_logs(log_none(prob), customer_codes, n_customers)


def log_none(prob: np.ndarray) -> np.ndarray:
    """log(1 − p), elementwise, p clipped below 1: a document's share of 'not raised'."""
    return np.log1p(-np.clip(prob, 0.0, 1.0 - 1e-12))


def customer_probability_of_logs(
    logs: np.ndarray, customer_codes: np.ndarray, n_customers: int
) -> np.ndarray:
    """:func:`customer_probability` from each document's :func:`log_none` (rows × columns)."""
    keep = customer_codes >= 0
    kept, codes = logs[keep], customer_codes[keep]
    # bincount adds in document order like np.add.at, without its per-element overhead
    total = np.column_stack(
        [
            np.bincount(codes, weights=kept[:, j], minlength=n_customers)
            for j in range(logs.shape[1])
        ]
    ).reshape(n_customers, logs.shape[1])
    return -np.expm1(total)


def signature_counts(
    signature: np.ndarray, customer_codes: np.ndarray, n_customers: int
) -> sparse.csr_matrix:
    """Customers × document signatures: how many of the customer's documents have it
    (documents with a negative code are left out)."""
    keep = customer_codes >= 0
    return sparse.csr_matrix(
        (np.ones(int(keep.sum())), (customer_codes[keep], signature[keep])),
        shape=(n_customers, int(signature.max()) + 1 if len(signature) else 0),
    )


def customer_probability_of_signatures(prob: np.ndarray, counts: sparse.csr_matrix) -> np.ndarray:
    """:func:`customer_probability` from per-signature probabilities (``prob``: signatures
    × columns) and :func:`signature_counts`: a customer's documents that share a
    signature share their probability, so the product runs over the few distinct
    signatures (same figures up to the order of the floating-point sum)."""
    return -np.expm1(counts @ log_none(prob))
