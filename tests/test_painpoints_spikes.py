"""Spikes: a real rise, not chance and not a busier window."""

from __future__ import annotations

import pytest

from cxtext.painpoints.spikes import is_spike, spike_p_value

RULE = dict(ratio=1.5, min_mentions=10, alpha=0.01)


@pytest.mark.parametrize(
    "mentions, previous, docs_now, docs_prev, expected",
    [
        (254, 121, 1330, 1300, True),  # app_bugs on the sample: a real spike
        (40, 26, 1330, 1300, False),  # +54 % on a small theme: within chance (p ~ 0.05)
        (80, 40, 2000, 1000, False),  # twice the mentions, twice the feedback: rate unchanged
        (15, 0, 1000, 1000, True),  # a new problem out of nowhere
        (9, 0, 1000, 1000, False),  # ... but too few mentions to matter
        (300, 0, 1000, 0, False),  # no previous window (first run): nothing to compare
    ],
)
def test_is_spike(mentions, previous, docs_now, docs_prev, expected):
    assert is_spike(mentions, previous, docs_now, docs_prev, **RULE) is expected


def test_p_value_is_the_exact_conditional_test():
    # equal windows: under no change each of the 66 mentions falls in either with p = 1/2
    assert spike_p_value(40, 26, 1000, 1000) == pytest.approx(0.0545, abs=5e-4)
    assert spike_p_value(0, 0, 1000, 1000) == 1.0
