"""Is a theme's rise in mentions a spike, or noise and a busier week?

Mentions are counts, so a small theme going from 26 to 40 mentions is well within
chance, and when all feedback doubles (a new channel, a campaign) every theme "rises".
A spike therefore needs three things: enough mentions to matter, a rate *per
document* up by ``ratio``, and a rise that chance does not explain: the exact
conditional test for two Poisson counts (given both windows' mentions, the current
window's share is Binomial with p = its share of documents if the rate did not change).
"""

from __future__ import annotations

from scipy.stats import binomtest


def spike_p_value(mentions: int, previous: int, docs_now: int, docs_prev: int) -> float:
    """One-sided p-value that the mention rate per document did not rise."""
    if docs_now <= 0 or docs_prev <= 0 or mentions + previous == 0:
        return 1.0
    share_of_docs = docs_now / (docs_now + docs_prev)
    return float(
        binomtest(mentions, mentions + previous, share_of_docs, alternative="greater").pvalue
    )


def is_spike(
    mentions: int,
    previous: int,
    docs_now: int,
    docs_prev: int,
    *,
    ratio: float,
    min_mentions: int,
    alpha: float,
) -> bool:
    """True when mentions are frequent, their rate rose by ``ratio`` and p < ``alpha``.

    Without a previous window (``docs_prev == 0``, e.g. the first run) nothing can spike.

    >>> is_spike(254, 121, 1330, 1300, ratio=1.5, min_mentions=10, alpha=0.01)
    True
    >>> is_spike(40, 26, 1330, 1300, ratio=1.5, min_mentions=10, alpha=0.01)  # chance
    False
    """
    if mentions < min_mentions or docs_now <= 0 or docs_prev <= 0:
        return False
    rate_now, rate_prev = mentions / docs_now, previous / docs_prev
    if rate_now < ratio * rate_prev:
        return False
    return spike_p_value(mentions, previous, docs_now, docs_prev) < alpha
