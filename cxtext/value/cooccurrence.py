"""Themes that one customer raises together: a joint prior for the imputed indicators.

The correction (docs/value.md, §4) imputes whether each customer truly raised each
theme. Imputed one theme at a time from per-document probabilities, a customer's
themes are independent given their documents; but complaints come in pairs (a
customer with a billing problem often also asks for a refund), and then the decoy of
a pair takes part of the other's churn credit: imputed billing and refund are drawn
apart, so refund alone seems to churn.

This module finds such pairs and models them, from the feedback and the confusion
alone (no labelled customers needed). For themes j and k, the customer-level
probabilities p (:func:`.misclassification.customer_probability`, what the documents
say) are tilted by a log-linear prior,

    P(z_j, z_k | documents) ∝ p_j^z_j (1 − p_j)^(1 − z_j) · p_k^z_k (1 − p_k)^(1 − z_k)
                              · exp(a_j z_j + a_k z_k + J z_j z_k),

whose parameters maximise the likelihood of the observed documents: the same tilt
applied to ρ, the probability a customer with that many documents raises the theme
when the documents are not looked at (the base rate per document), is the prior's
normaliser. J is the log odds ratio of the two themes across customers beyond what
the documents already show. Pairs with J ≥ ``min_log_odds`` and a likelihood-ratio
statistic ≥ ``min_statistic`` are joined, unless J ends on (within 1 of) the
optimiser's bound: the likelihood then keeps rising or is flat, which is what a topic
model that puts two confusable themes on one document produces (each theme's probability is right alone,
but the documents' evidence for the pair is not independent; real airline complaints,
one gold topic each, gave J = 10 for late/cancelled/bad flight), not co-occurrence.
Connected themes form a component whose indicators are imputed together (every state
of the component, exactly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

MAX_COMPONENT = 8  # 2^8 states per customer; larger groups keep their strongest pairs
# |tilt| allowed to the optimiser. A J that ends within 1 of it (odds ratio > 8,000) sits
# where the likelihood is still rising or flat, wherever the optimiser stopped: not identified
BOUND = 10.0
IDENTIFIED = BOUND - 1.0


@dataclass(frozen=True)
class Component:
    """Themes imputed together: column indices, main tilts a, pair log odds J (c × c)."""

    cols: tuple[int, ...]
    a: np.ndarray
    J: np.ndarray

    def states(self) -> np.ndarray:
        c = len(self.cols)
        return ((np.arange(2**c)[:, None] >> np.arange(c)) & 1).astype(float)

    def log_weights(self, p: np.ndarray) -> np.ndarray:
        """customers × states: log P(state | documents) up to a constant per customer."""
        Z = self.states()
        q = np.clip(p[:, list(self.cols)], 1e-9, 1 - 1e-9)
        pair = np.einsum("sj,jk,sk->s", Z, np.triu(self.J, 1), Z)
        return np.log(q) @ Z.T + np.log1p(-q) @ (1 - Z).T + (Z @ self.a + pair)[None, :]


def _fit(
    p: np.ndarray,
    rho: np.ndarray,
    edges: list[tuple[int, int]],
    start: np.ndarray | None = None,
    ranks: np.ndarray | None = None,
):
    """(a, J on edges, log-likelihood) of the tilt over the columns of ``p``
    (``ranks``: :func:`column_ranks` of ``[p, rho]`` when already known)."""
    c = p.shape[1]
    # customers with the same (p, rho) row count once, weighted; no documents: no evidence
    rows, weight = unique_rows(np.column_stack([p, rho]), ranks)
    keep = rows.any(axis=1)
    rows, weight = rows[keep], weight[keep].astype(float)
    Z = ((np.arange(2**c)[:, None] >> np.arange(c)) & 1).astype(float)
    S = np.column_stack([Z, *[Z[:, i] * Z[:, j] for i, j in edges]]) if edges else Z

    def base(q: np.ndarray) -> np.ndarray:
        q = np.clip(q, 1e-9, 1 - 1e-9)
        return np.log(q) @ Z.T + np.log1p(-q) @ (1 - Z).T

    bp, br = base(rows[:, :c]), base(rows[:, c:])

    def loss(theta: np.ndarray):
        e = S @ theta
        total, grad = 0.0, np.zeros_like(theta)
        for b, sign in ((bp, 1.0), (br, -1.0)):
            lw = b + e
            top = lw.max(axis=1, keepdims=True)
            w = np.exp(lw - top)
            s = w.sum(axis=1)
            total += sign * float(weight @ (np.log(s) + top[:, 0]))
            grad += sign * (weight @ (w / s[:, None])) @ S
        return -total, -grad

    x0 = np.zeros(S.shape[1]) if start is None else start
    res = minimize(loss, x0, jac=True, method="L-BFGS-B", bounds=[(-BOUND, BOUND)] * S.shape[1])
    return res.x[:c], res.x[c:], -float(res.fun)


def column_ranks(m: np.ndarray) -> np.ndarray:
    """Each value's rank among its column's distinct values (ties share one)."""
    return np.column_stack([np.unique(col, return_inverse=True)[1].ravel() for col in m.T])


def unique_rows(m: np.ndarray, ranks: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(distinct rows in lexicographic order, how many times each occurs).

    ``np.unique(m, axis=0, return_counts=True)``'s result, from each column's ranks
    sorted as integers (``ranks``: :func:`column_ranks` of ``m`` when already known, as
    in the pair scan, where every column takes part in many pairs): faster than its
    sort of whole rows, called for every pair of themes and in every bootstrap replicate.
    """
    if len(m) == 0:
        return m[:0], np.zeros(0, dtype=np.intp)
    if ranks is None:
        ranks = column_ranks(m)
    order = np.lexsort(ranks.T[::-1])  # first column most significant
    ranked = ranks[order]
    new = np.r_[True, (ranked[1:] != ranked[:-1]).any(axis=1)]
    starts = np.flatnonzero(new)
    return m[order[starts]], np.diff(np.r_[starts, len(m)])


def identified(component: Component) -> bool:
    """No tilt within 1 of the optimiser's bound (see the module's docstring)."""
    return bool(np.abs(component.J).max() < IDENTIFIED)


def joint_components(
    p: np.ndarray,
    rho: np.ndarray,
    *,
    min_log_odds: float = 1.0,
    min_statistic: float = 10.83,
) -> list[Component]:
    """Groups of themes that customers raise together beyond what their documents show.

    ``p``: customers × themes, P(truly raised | documents); ``rho``: the same without
    looking at the documents (base rate per document over the customer's documents).
    """
    k = p.shape[1]
    ranks = column_ranks(np.column_stack([p, rho]))  # each column ranked once for all pairs

    def rank_of(cols: list[int]) -> np.ndarray:
        return ranks[:, [*cols, *(k + j for j in cols)]]

    # each theme alone (no pair), then every pair
    single = [_fit(p[:, [j]], rho[:, [j]], [], ranks=rank_of([j])) for j in range(k)]
    edges = []
    for j in range(k):
        for m in range(j + 1, k):
            cols = [j, m]
            start = np.r_[single[j][0], single[m][0], 0.0]
            _, J, ll = _fit(p[:, cols], rho[:, cols], [(0, 1)], start, rank_of(cols))
            interior = J[0] < IDENTIFIED
            if (
                min_log_odds <= J[0]
                and interior
                and 2 * (ll - single[j][2] - single[m][2]) >= min_statistic
            ):
                edges.append((J[0], j, m))
    parent = list(range(k))

    def root(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    kept = []
    for _, j, m in sorted(edges, reverse=True):  # strongest first, groups capped in size
        rj, rm = root(j), root(m)
        if rj != rm:
            size = sum(root(x) in (rj, rm) for x in range(k))
            if size > MAX_COMPONENT:
                continue
            parent[rj] = rm
        kept.append((j, m))
    groups: dict[int, list[int]] = {}
    for x in range(k):
        groups.setdefault(root(x), []).append(x)
    out = []
    for cols in groups.values():
        if len(cols) < 2:
            continue
        local = [(cols.index(j), cols.index(m)) for j, m in kept if j in cols and m in cols]
        component = fit_component(p, rho, cols, local)
        if identified(component):  # refitted together: still identified
            out.append(component)
    return out


def refit_components(
    components: list[Component], p: np.ndarray, rho: np.ndarray
) -> list[Component]:
    """The point's components refitted on a bootstrap replicate's ``p``/``rho``, each
    from its point fit; one whose tilt ends within 1 of the bound is not joined in that
    replicate (its themes are imputed one at a time), as in the point fit."""
    refitted = (fit_component(p, rho, list(c.cols), edges_of(c), start=c) for c in components)
    return [c for c in refitted if identified(c)]


def fit_component(
    p: np.ndarray,
    rho: np.ndarray,
    cols: list[int],
    edges: list[tuple[int, int]],
    start: Component | None = None,
) -> Component:
    """The component's tilt refitted on ``p``/``rho`` (a bootstrap replicate refits it,
    starting from the point's ``start``)."""
    x0 = None if start is None else np.r_[start.a, [start.J[i, j] for i, j in edges]]
    a, J_edges, _ = _fit(p[:, cols], rho[:, cols], edges, x0)
    J = np.zeros((len(cols), len(cols)))
    for (i, j), v in zip(edges, J_edges, strict=True):
        J[i, j] = J[j, i] = v
    return Component(tuple(cols), a, J)


def edges_of(component: Component) -> list[tuple[int, int]]:
    c = len(component.cols)
    return [(i, j) for i in range(c) for j in range(i + 1, c) if component.J[i, j] != 0]
