"""The order of a segment's pain points: what rank 1 means, in one place.

Themes whose churn uplift's interval stays above 0 come first, then those whose interval
holds 0 (not distinguishable from no effect; a prior uplift's interval starts at 0, so
without churn labels no theme is); each part by CLV at risk, ties and missing figures by
more negative mentions. Ranking by the figure alone let a frequent harmless theme's
uplift noise × its hundreds of customers rank it 3rd and 4th of 9 in two of five
own-data draws while its interval said it may have no effect. Compared against known
truth (``benchmarks/ranking_truth.py``; docs/value.md, "Ranking robust to noise") with
empirical-Bayes shrinkage of the uplifts, the expected loss, the CLV-at-risk interval's
low end and that interval reaching 0: no basis wins everywhere; this one stays within
±0.01 of the figure's rank correlation on average, never changes a figure, and does not
lean on a prior that the own data contradicts. Kept free of the value stage's imports:
the terminal and the report mark rows with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def distinguishable(churn_uplift_low: pd.Series) -> np.ndarray:
    """Rows whose churn uplift's interval stays above 0 (a missing one does not)."""
    low = pd.to_numeric(pd.Series(churn_uplift_low), errors="coerce").astype(float)
    return (low > 0).to_numpy(bool)


def no_effect(churn_uplift_low: pd.Series) -> np.ndarray:
    """Rows marked "not distinguishable from no effect": an interval known to hold 0 (a
    missing one ranks with them but is not marked: nothing was estimated)."""
    low = pd.to_numeric(pd.Series(churn_uplift_low), errors="coerce").astype(float)
    return (np.isfinite(low) & ~distinguishable(low)).to_numpy(bool)


def _parts(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(the part, 0 first; CLV at risk, a missing figure last within its part)."""
    key = pd.to_numeric(rows["clv_at_risk"], errors="coerce").astype(float).fillna(-np.inf)
    return (~distinguishable(rows["churn_uplift_low"])).astype(int), key.to_numpy()


def ranks(rows: pd.DataFrame) -> np.ndarray:
    """1, 2, … for ``rows`` (one segment's PAIN_POINTS rows) in the order above."""
    part, key = _parts(rows)
    order = np.lexsort((-rows["negative_mentions"].to_numpy(float), -key, part))
    out = np.empty(len(rows), dtype=int)
    out[order] = np.arange(1, len(rows) + 1)
    return out


def competition_ranks(rows: pd.DataFrame) -> np.ndarray:
    """The same order with ties as ties (1, 2, 2, 4): rows of one part with the same CLV
    at risk share a rank, where :func:`ranks` breaks the tie by negative mentions (a
    chart that compares ranks should not show a difference the figures do not have).

    >>> rows = pd.DataFrame({"clv_at_risk": [5.0, 0.0, 0.0, 9.0], "churn_uplift_low": [0.1, -0.1, -0.2, -0.1]})
    >>> competition_ranks(rows).tolist()
    [1, 3, 3, 2]
    """
    part, key = _parts(rows)
    order = np.lexsort((-key, part))
    new = np.ones(len(order), dtype=bool)  # a row that differs from the one before it
    p, k = part[order], key[order]
    new[1:] = (p[1:] != p[:-1]) | (k[1:] != k[:-1])
    first = np.maximum.accumulate(np.where(new, np.arange(len(order)), 0))
    out = np.empty(len(order), dtype=int)
    out[order] = first + 1
    return out
