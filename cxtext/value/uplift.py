"""Each theme's effect on churn, estimated jointly over all themes, or a documented prior.

With churn labels, one L2-regularised logistic regression of ``churned`` on every
theme's negative-mention indicator plus segment and tenure covariates
(so co-occurring themes do not take each other's credit). uplift(t) is the mean, over
the customers who raised t negatively, of P(churn | indicator on) − P(churn | off),
the other features held at their values. The L2 penalty is a N(0, ``prior_sd``²)
prior on each log-odds effect: a theme with few customers has little likelihood to
outweigh it, so its uplift shrinks toward zero. Intervals are percentile bootstraps
over customers.

Without labels (or with labels that do not vary), uplift(t) = prior × negativity(t),
the prior being the theme's ``churn_prior`` or the configured ``churn_uplift_prior``
(PwC 2018, see docs/value.md) and negativity the share of its mentions that are
negative; the interval runs from no effect to twice the prior.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import expit
from threadpoolctl import threadpool_limits

from cxtext.painpoints.mentions import theme_mentions
from cxtext.themes.taxonomy import Taxonomy
from cxtext.value.cooccurrence import Component, joint_components, refit_components
from cxtext.value.customer_value import to_bool
from cxtext.value.misclassification import (
    Confusion,
    customer_probability_of_signatures,
    mention_truth,
    signature_counts,
)

UPLIFT_COLUMNS = [
    "theme_id",
    "churn_uplift",
    "churn_uplift_low",
    "churn_uplift_high",
    "customers",
    "method",
]


def estimate_churn_uplift(
    feedback: pd.DataFrame,
    customers: pd.DataFrame | None,
    taxonomy: Taxonomy,
    *,
    prior: float,
    segment_column: str,
    tenure_hints: Sequence[str],
    seed: int,
    n_bootstrap: int,
    prior_sd: float,
    level: float,
    confusion: Confusion | None = None,
    sweeps: int = 4,
) -> pd.DataFrame:
    """One row per theme: theme_id, churn_uplift (+ low/high at ``level``), customers, method.

    With ``confusion`` (the classifiers' held-out confusion, :mod:`.misclassification`)
    the theme indicators are latent: each customer's indicator has the prior probability
    that they truly raised the theme negatively, and the fit alternates between drawing
    the indicators given churn and the current coefficients and refitting (stochastic
    EM / data augmentation, ``sweeps`` rounds per bootstrap replicate, the confusion
    counts redrawn in each), so misclassification neither attenuates the uplift nor
    hides from its interval. Themes that customers raise together beyond what their
    documents show (:mod:`.cooccurrence`, found and fitted on the feedback itself) are
    imputed together, every state of the group at once, so the decoy of a pair does
    not take the other's credit.

    Themes are the taxonomy's plus any other id found in ``feedback.topics``. Feedback
    written after a customer's ``churned_at`` is ignored (it cannot have caused it).
    Covariates: the ``segment_column`` one-hot and every customers column whose name
    contains one of ``tenure_hints``. The interval is kept as estimated: a low end below
    zero says the data cannot rule out no effect (or a protective one).
    """
    if not 0 < level < 1:
        raise ValueError(f"value.interval_level must be between 0 and 1, got {level}")
    if n_bootstrap < 1 or prior_sd <= 0:
        raise ValueError(
            f"value.uplift_bootstrap must be >= 1 and value.uplift_prior_sd > 0, got {n_bootstrap} and {prior_sd}"
        )
    mentions = _negative_mentions(feedback)
    theme_ids = list(
        dict.fromkeys([*taxonomy.ids, *mentions["theme_id"].dropna().unique().tolist()])
    )
    labels, reason = _labels(customers)
    if labels is None:
        return _prior_uplift(mentions, theme_ids, taxonomy, prior, reason)

    who = _positions(mentions["customer_id"], labels.index)  # -1: not a labelled customer
    if "churned_at" in labels.columns:
        cut = _at(_utc_values(labels["churned_at"]), who)
        before = np.isnat(cut) | (_utc_values(mentions["created_at"]) <= cut)
        mentions, who = mentions[before], who[before]
    neg = (who >= 0) & mentions["negative"].to_numpy(bool)
    indicators = _indicators(who[neg], mentions["theme_id"][neg], theme_ids, len(labels))
    raised = np.diff(indicators.indptr)  # customers per theme (CSC columns)
    covariates = _covariates(labels, segment_column, tenure_hints)
    fit_cols = np.flatnonzero(raised > 0)
    fit_themes = [theme_ids[j] for j in fit_cols]
    y = labels["churned"].to_numpy(bool)

    rows = {
        t: _prior_row(t, mentions, taxonomy, prior, "no labelled customer raised it")
        for t in theme_ids
    }
    if fit_themes and confusion is not None:
        draw_prior = _indicator_priors(feedback, labels, theme_ids, fit_themes, confusion)
        prior_matrix, even, rho = draw_prior(None)
        components = joint_components(even, rho)
        prior_matrix = _with_joint(prior_matrix, even, components)
        point, draws = _corrected_bootstrap(
            prior_matrix, rho, draw_prior, components, covariates, y, prior_sd, seed,
            n_bootstrap, sweeps,
        )  # fmt: skip
        together = "".join(
            f"; imputed together: {'+'.join(fit_themes[j] for j in c.cols)}"
            f" (log odds ratio {c.J[np.triu_indices(len(c.cols), 1)].max():.1f})"
            for c in components
        )
        method = (
            f"joint_logit(l2 prior sd {prior_sd:g}, bootstrap {n_bootstrap}, "
            f"corrected for misclassification: {confusion.source}{together})"
        )
    elif fit_themes:
        point, draws = _uncorrected_bootstrap(
            indicators[:, fit_cols].tocsr(), covariates, y, prior_sd, seed, n_bootstrap
        )
        method = f"joint_logit(l2 prior sd {prior_sd:g}, bootstrap {n_bootstrap})"
    if fit_themes:
        alpha = (1.0 - level) / 2
        for j, t in enumerate(fit_themes):
            finite = draws[:, j][np.isfinite(draws[:, j])]
            if not np.isfinite(point[j]):  # the correction left no one with the theme
                point[j] = float(np.median(finite)) if len(finite) else 0.0
            low, high = np.quantile(finite, [alpha, 1 - alpha]) if len(finite) else (np.nan, np.nan)
            rows[t] = {
                "theme_id": t,
                "churn_uplift": float(point[j]),
                "churn_uplift_low": float(min(low, point[j])),
                "churn_uplift_high": float(max(high, point[j])),
                "customers": int(raised[fit_cols[j]]),
                "method": method,
            }
    return _frame(list(rows.values()))


def _negative_mentions(feedback: pd.DataFrame) -> pd.DataFrame:
    """All mentions with customer_id and created_at attached (negative flag kept)."""
    if feedback is None or len(feedback) == 0 or "topics" not in feedback.columns:
        return pd.DataFrame(
            {
                "doc": pd.Series(dtype="int64"),
                "theme_id": pd.Series(dtype="string"),
                "negative": pd.Series(dtype=bool),
                "customer_id": pd.Series(dtype="string"),
                "created_at": pd.Series(dtype="datetime64[us, UTC]"),
            }
        )
    fb = feedback.reset_index(drop=True)
    m = theme_mentions(fb)
    doc = m["doc"].to_numpy()
    created = (
        pd.to_datetime(fb["created_at"], utc=True)
        if "created_at" in fb.columns
        else pd.Series(pd.NaT, index=fb.index, dtype="datetime64[us, UTC]")
    )
    # gathered as Arrow strings and datetimes: no Python object per mention
    m["customer_id"] = _customer_ids(fb).array.take(doc)
    m["created_at"] = created.array.take(doc)
    return m


def _customer_ids(fb: pd.DataFrame) -> pd.Series:
    """Each document's customer id as stripped text (NA when there is none)."""
    if "customer_id" not in fb.columns:
        return pd.Series(pd.NA, index=fb.index, dtype="string")
    return fb["customer_id"].astype("string").str.strip()


def _positions(ids: pd.Series, index: pd.Index) -> np.ndarray:
    """Each id's position in ``index`` (-1: missing or not there), looked up once per
    distinct id (factorizing Arrow strings makes no Python object per row)."""
    codes, uniques = pd.factorize(ids)
    return np.append(index.get_indexer(uniques), -1)[codes]  # code -1 (NA): the -1 appended


def _utc_values(times: pd.Series) -> np.ndarray:
    """Timezone-aware times as UTC datetime64 (NaT kept), for comparisons in NumPy."""
    return pd.to_datetime(times, utc=True).dt.tz_localize(None).to_numpy()


def _labels(customers: pd.DataFrame | None) -> tuple[pd.DataFrame | None, str]:
    """Labelled customers indexed by id (churned bool, churned_at), or why there are none."""
    if customers is None or len(customers) == 0 or "churned" not in customers.columns:
        return None, "no churn labels"
    c = customers[customers["customer_id"].notna()].copy()
    c["customer_id"] = c["customer_id"].astype("string").str.strip()
    c = c.drop_duplicates("customer_id", keep="last").set_index("customer_id")
    c["churned"] = to_bool(c["churned"])
    c = c[c["churned"].notna()]
    if c.empty:
        return None, "no churn labels"
    if c["churned"].all():
        return None, "all labelled customers churned"
    if not c["churned"].any():
        return None, "no labelled customer churned"
    if "churned_at" in c.columns:
        c["churned_at"] = pd.to_datetime(c["churned_at"], utc=True, errors="coerce")
    return c, ""


def _covariates(
    labels: pd.DataFrame, segment_column: str, tenure_hints: Sequence[str]
) -> np.ndarray:
    """Segment one-hot (first level dropped) and standardised tenure columns.

    Feedback volume is deliberately not a covariate: it is nearly the sum of the theme
    indicators, so it would soak up their effects instead of adjusting them.
    """
    parts = [np.ones((len(labels), 0))]
    if segment_column in labels.columns:
        seg = labels[segment_column].astype("string").fillna("(missing)")
        dummies = pd.get_dummies(seg, drop_first=True, dtype=float)
        parts.append(dummies.to_numpy())
    numeric = [c for c in labels.columns if any(h.lower() in c.lower() for h in tenure_hints)]
    for col in numeric:
        v = pd.to_numeric(labels[col], errors="coerce").astype(float)
        v = v.fillna(v.median() if v.notna().any() else 0.0).to_numpy()
        parts.append(_standardise(v)[:, None])
    return np.column_stack(parts)


def _indicators(
    customer: np.ndarray, theme: pd.Series, theme_ids: list[str], n_customers: int
) -> sparse.csc_matrix:
    """Customers × themes, 1.0 where the customer (``customer``: position, one per
    negative mention) raised the theme negatively at least once.

    Sparse: a customer raises a few of a hundred themes and candidates, so the dense
    matrix (100,000 customers × 130 columns, float64: 100 MB, and copies of it in the
    fit) would be nearly all zeros.
    """
    cols = _positions(theme, pd.Index(theme_ids))
    keep = cols >= 0
    m = sparse.csc_matrix(
        (np.ones(int(keep.sum())), (customer[keep], cols[keep])),
        shape=(n_customers, len(theme_ids)),
    )
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def _at(times: np.ndarray, position: np.ndarray) -> np.ndarray:
    """``times[position]``, NaT where the position is -1."""
    return np.append(times, np.datetime64("NaT"))[position]


def _standardise(v: np.ndarray) -> np.ndarray:
    sd = v.std()
    return (v - v.mean()) / sd if sd > 0 else np.zeros_like(v)


def fit_logit(
    X: np.ndarray | sparse.spmatrix,
    y: np.ndarray,
    prior_sd: float,
    start: np.ndarray | None = None,
    weight: np.ndarray | None = None,
) -> np.ndarray:
    """MAP logistic regression with a N(0, prior_sd²) prior on the slopes (not the intercept).

    Newton-Raphson: with a dozen features it converges in a handful of O(n p²) steps,
    ~100× faster than a generic solver, which matters inside the bootstrap. Returns
    ``[intercept, slopes...]``; same optimum as scikit-learn's ``LogisticRegression(C=prior_sd**2)``.
    ``weight``: each row counts that many times (a bootstrap resample: its copies, 0 for
    a customer not drawn). A sparse ``X`` (many theme columns, few set per customer)
    costs O(Σ row nonzeros²) a step instead of O(n p²), and is never made dense.
    """
    ones = np.ones((X.shape[0], 1))
    if sparse.issparse(X):
        Z = sparse.hstack([ones, X], format="csr")
        Zt = Z.T.tocsr()

        def gram(c: np.ndarray) -> np.ndarray:
            return (Zt @ (Z.multiply(c[:, None]).tocsr())).toarray()
    else:
        Z = np.column_stack([ones, X])
        Zt = Z.T

        def gram(c: np.ndarray) -> np.ndarray:
            return (Zt * c) @ Z

    penalty = np.full(Z.shape[1], 1.0 / prior_sd**2)
    penalty[0] = 0.0
    w = np.zeros(Z.shape[1]) if start is None else start.copy()
    for _ in range(50):
        p = _sigmoid(Z @ w)
        residual, curvature = y - p, p * (1 - p)
        if weight is not None:
            residual, curvature = residual * weight, curvature * weight
        grad = Zt @ residual - penalty * w
        hess = gram(curvature) + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w = w + step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w


def _uplift_from(
    X: np.ndarray | sparse.spmatrix,
    w: np.ndarray,
    n_themes: int,
    weight: np.ndarray | None = None,
) -> np.ndarray:
    """Uplift per theme over its affected rows (NaN if none), rows counted ``weight`` times
    (a row of weight 0 is not affected)."""
    coef = w[1:]
    eta = X @ coef + w[0]
    if sparse.issparse(X):
        themes = sparse.csc_matrix(X[:, :n_themes])
        themes.eliminate_zeros()
        themes.sort_indices()
        rows_of = [themes.indices[themes.indptr[j] : themes.indptr[j + 1]] for j in range(n_themes)]
    else:
        rows_of = [np.flatnonzero(X[:, j] > 0) for j in range(n_themes)]
    out = np.full(n_themes, np.nan)
    for j, rows in enumerate(rows_of):
        if weight is not None:
            rows = rows[weight[rows] > 0]
        if not len(rows):
            continue
        base = eta[rows] - coef[j]  # indicator off
        lift = _sigmoid(base + coef[j]) - _sigmoid(base)
        out[j] = float(np.mean(lift) if weight is None else np.average(lift, weights=weight[rows]))
    return out


def _uncorrected_bootstrap(
    indicators: sparse.csr_matrix,
    covariates: np.ndarray,
    y: np.ndarray,
    prior_sd: float,
    seed: int,
    n_bootstrap: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(point uplifts, bootstrap draws) with the theme indicators as observed.

    A resample is the sample with each customer weighted by how often it was drawn (0:
    not drawn): the same fit as on its copies, from the point's optimum, on one sparse
    design shared by every replicate (no copy of it per replicate).
    """
    rng = np.random.default_rng(seed)
    k = indicators.shape[1]
    X = sparse.hstack([indicators, sparse.csr_matrix(covariates)], format="csr")
    yf = y.astype(float)
    draws = np.full((n_bootstrap, k), np.nan)
    # small matrices: threaded BLAS only adds contention (20-40x slower on 2 cores)
    with threadpool_limits(limits=1, user_api="blas"):
        w = fit_logit(X, yf, prior_sd)
        point = _uplift_from(X, w, k)
        for b in range(n_bootstrap):
            idx = rng.integers(0, len(y), len(y))
            if y[idx].all() or not y[idx].any():
                continue
            count = np.bincount(idx, minlength=len(y)).astype(float)
            w_b = fit_logit(X, yf, prior_sd, start=w, weight=count)
            draws[b] = _uplift_from(X, w_b, k, count)
    return point, draws


def _indicator_priors(
    feedback: pd.DataFrame,
    labels: pd.DataFrame,
    theme_ids: list[str],
    fit_themes: list[str],
    confusion: Confusion,
):
    """A function of an rng (None: the point) giving customers × fit themes matrices:

    P(truly raised it negatively) with missed mentions placed by the card's strata; the
    same with them spread evenly; and the even spread's base rate for a customer with
    that many documents, not looking at them (the joint prior's normaliser,
    :mod:`.cooccurrence`). Themes imputed jointly use the even spread: the pair strata
    describe the same co-occurrence at the document level, and with both it counts
    twice (measured: billing and refund imputed together for 547 customers where 284
    raised both, against 316 with the even spread).
    """
    fb = feedback.reset_index(drop=True)
    truth_even = mention_truth(fb, theme_ids, replace(confusion, unassigned={}, unassigned_with={}))
    truth = mention_truth(fb, theme_ids, confusion)
    codes = _positions(_customer_ids(fb), labels.index)
    if "churned_at" in labels.columns and "created_at" in fb.columns:
        cut = _at(_utc_values(labels["churned_at"]), codes)
        late = ~np.isnat(cut) & (_utc_values(fb["created_at"]) > cut)
        codes = np.where(late, -1, codes)
    cols = [theme_ids.index(t) for t in fit_themes]
    n, linked = len(labels), codes >= 0
    # a customer's probability depends on their documents only through their signatures
    counts = signature_counts(truth.signature, codes, n)
    linked_per_signature = np.asarray(counts.sum(axis=0)).ravel()
    docs_per_customer = np.asarray(counts.sum(axis=1)).ravel()

    def prior(rng: np.random.Generator | None):
        if rng is None:
            prob = truth.signature_probability(None)[:, cols]
            even = truth_even.signature_probability(None)[:, cols]
        else:  # one draw of the confusion counts for both (same seed, same stream)
            child = int(rng.integers(2**32))
            prob = truth.signature_probability(np.random.default_rng(child))[:, cols]
            even = truth_even.signature_probability(np.random.default_rng(child))[:, cols]
        # what a customer with that many documents raises at the base rate per document
        base = linked_per_signature @ even / linked.sum() if linked.any() else np.zeros(len(cols))
        base_logs = np.log1p(-np.clip(base, 0.0, 1.0 - 1e-12))
        return (
            customer_probability_of_signatures(prob, counts),
            customer_probability_of_signatures(even, counts),
            -np.expm1(docs_per_customer[:, None] * base_logs[None, :]),
        )

    return prior


def _with_joint(p: np.ndarray, even: np.ndarray, components: list[Component]) -> np.ndarray:
    """``p`` with the columns of jointly imputed themes taken from the even spread."""
    cols = [j for c in components for j in c.cols]
    out = p.copy()
    out[:, cols] = even[:, cols]
    return out


def _corrected_bootstrap(
    prior_matrix: np.ndarray,
    rho: np.ndarray | None,
    draw_prior,
    components: list[Component],
    covariates: np.ndarray,
    y: np.ndarray,
    prior_sd: float,
    seed: int,
    n_bootstrap: int,
    sweeps: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(point uplifts, bootstrap draws) with the theme indicators imputed given churn."""
    rng = np.random.default_rng(seed)
    k = prior_matrix.shape[1]
    draws = np.full((n_bootstrap, k), np.nan)
    with threadpool_limits(limits=1, user_api="blas"):
        code, levels = _covariate_code(covariates)
        point, w = _augmented_uplifts(
            prior_matrix, components, covariates, y, prior_sd, rng,
            burn=3 * sweeps, keep=5 * sweeps, covariate_code=(code, levels),
        )  # fmt: skip
        for b in range(n_bootstrap):
            idx = rng.integers(0, len(y), len(y))
            if y[idx].all() or not y[idx].any():
                continue
            p_b, even_b, rho_b = (m[idx] for m in draw_prior(rng))
            comps = refit_components(components, even_b, rho_b)
            p_b = _with_joint(p_b, even_b, comps)
            draws[b], _ = _augmented_uplifts(
                p_b, comps, covariates[idx], y[idx], prior_sd, rng, burn=sweeps, keep=1,
                start=w, covariate_code=(code[idx], levels),
            )  # fmt: skip
    return point, draws


def _augmented_uplifts(
    prior: np.ndarray,
    components: list[Component],
    covariates: np.ndarray,
    y: np.ndarray,
    prior_sd: float,
    rng: np.random.Generator,
    *,
    burn: int,
    keep: int,
    start: np.ndarray | None = None,
    covariate_code: tuple[np.ndarray, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean uplift over ``keep`` rounds after ``burn`` of: draw indicators | churn, refit.

    P(indicator = 1 | churn, rest) ∝ prior × P(churn | indicator = 1, rest): a customer
    who churned is more likely to have truly raised a theme that raises churn. Without
    conditioning on churn, imputed indicators would be independent of it and the
    coefficient would stay attenuated. A component's themes are drawn as one block
    (its joint prior × the churn likelihood of each state): one at a time, a strongly
    tied pair would barely move from its starting draw.
    """
    n, k = prior.shape
    yf = y.astype(float)
    X = np.column_stack([(rng.random(prior.shape) < prior).astype(float), covariates])
    joint = {j for c in components for j in c.cols}
    blocks = [(list(c.cols), c.states(), c.log_weights(prior)) for c in components]
    for cols, Z, lw in blocks:  # start from the joint prior, not from independent draws
        X[:, cols] = Z[_pick(lw, rng)]
    distinct = _DistinctRows(covariate_code or _covariate_code(covariates), k)
    w = distinct.fit(X, yf, prior_sd, start)
    kept = []
    for r in range(burn + keep):
        eta = w[0] + X @ w[1:]
        for cols, Z, lw in blocks:  # every state of the component, given churn
            beta = w[1 + np.array(cols)]
            base = eta - X[:, cols] @ beta
            p_state = _sigmoid(base[:, None] + (Z @ beta)[None, :])
            churn = np.where(y[:, None], p_state, 1.0 - p_state)
            X[:, cols] = Z[_pick(lw + np.log(np.maximum(churn, 1e-300)), rng)]
            eta = base + X[:, cols] @ beta
        for j in range(k):
            if j in joint:
                continue
            beta = w[1 + j]
            base = eta - beta * X[:, j]
            p1, p0 = _sigmoid(base + beta), _sigmoid(base)
            l1 = np.where(y, p1, 1.0 - p1) * prior[:, j]
            l0 = np.where(y, p0, 1.0 - p0) * (1.0 - prior[:, j])
            X[:, j] = (rng.random(n) * (l1 + l0) < l1).astype(float)
            eta = base + beta * X[:, j]
        w = distinct.fit(X, yf, prior_sd, w)
        if r >= burn:
            kept.append(_uplift_from(X, w, k))
    kept_arr = np.array(kept)
    seen = np.isfinite(kept_arr).any(axis=0)  # NaN: no customer imputed with the theme
    mean = np.full(k, np.nan)
    mean[seen] = np.nanmean(kept_arr[:, seen], axis=0)
    return mean, w


class _DistinctRows:
    """Fits of the augmentation's design, each distinct row once.

    Customers with the same imputed indicators and covariates have the same likelihood
    terms, so the fit runs on the distinct rows, each weighted by its customers (their
    mean churn as the outcome): the same optimum, on a few thousand rows instead of
    every customer (the indicators are sparse 0/1, covariates few). Rows are told apart
    by an integer key: the indicators' bits and the covariate row's code.
    """

    def __init__(self, covariate_code: tuple[np.ndarray, int], n_indicators: int):
        self.k = n_indicators
        self.code, self.levels = covariate_code
        # the key fits in 63 bits: else every row is its own (no grouping)
        self.keyed = self.k <= 62 - int(np.ceil(np.log2(self.levels + 1)))
        self.bits = np.left_shift(np.int64(1), np.arange(self.k, dtype=np.int64))

    def fit(
        self, X: np.ndarray, y: np.ndarray, prior_sd: float, start: np.ndarray | None
    ) -> np.ndarray:
        if not self.keyed:
            return fit_logit(X, y, prior_sd, start=start)
        key = (X[:, : self.k] > 0) @ self.bits * self.levels + self.code
        _, first, group = np.unique(key, return_index=True, return_inverse=True)
        group = group.ravel()
        count = np.bincount(group).astype(float)
        churn = np.bincount(group, weights=y) / count
        return fit_logit(X[first], churn, prior_sd, start=start, weight=count)


def _covariate_code(covariates: np.ndarray) -> tuple[np.ndarray, int]:
    """(each row's code among the distinct covariate rows, how many there are): computed
    once for the sample, a resample's are ``code[idx]``."""
    if not covariates.shape[1]:
        return np.zeros(len(covariates), dtype=np.int64), 1
    _, code = np.unique(covariates, axis=0, return_inverse=True)
    return code.ravel().astype(np.int64), int(code.max()) + 1 if len(code) else 1


def _pick(log_weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One state per row, drawn with probability ∝ exp(log_weights)."""
    w = np.exp(log_weights - log_weights.max(axis=1, keepdims=True))
    cum = np.cumsum(w, axis=1)
    return (rng.random(len(w))[:, None] * cum[:, -1:] > cum).sum(axis=1)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return expit(z)


def _prior_row(
    theme_id: str, mentions: pd.DataFrame, taxonomy: Taxonomy, prior: float, reason: str
) -> dict:
    """prior × negativity, interval [0, 2 × prior] × negativity, and where the prior came from."""
    theme_prior, source = prior, "churn_uplift_prior"
    if theme_id in taxonomy.ids and taxonomy[theme_id].churn_prior is not None:
        theme_prior, source = float(taxonomy[theme_id].churn_prior), "taxonomy churn_prior"
    mine = mentions[mentions["theme_id"] == theme_id]
    negativity = float(mine["negative"].mean()) if len(mine) else 0.0
    customers = mine.loc[mine["negative"], "customer_id"].dropna().nunique()
    return {
        "theme_id": theme_id,
        "churn_uplift": theme_prior * negativity,
        "churn_uplift_low": 0.0,
        "churn_uplift_high": min(1.0, 2.0 * theme_prior) * negativity,
        "customers": int(customers),
        "method": f"prior({source} {theme_prior:g} × negativity {negativity:.2f}; {reason})",
    }


def _prior_uplift(
    mentions: pd.DataFrame, theme_ids: list[str], taxonomy: Taxonomy, prior: float, reason: str
) -> pd.DataFrame:
    out = _frame([_prior_row(t, mentions, taxonomy, prior, reason) for t in theme_ids])
    out.attrs["notes"] = [  # not an estimate from this data: said in `runs` as well
        f"every theme's churn uplift is a prior ({prior:g}, or the taxonomy's churn_prior, "
        f"× negativity), not estimated: {reason}; add a churned column to the customers file"
    ]
    return out


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=UPLIFT_COLUMNS)
    return df.astype(
        {
            "theme_id": "string",
            "churn_uplift": "Float64",
            "churn_uplift_low": "Float64",
            "churn_uplift_high": "Float64",
            "customers": "Int64",
            "method": "string",
        }
    )
