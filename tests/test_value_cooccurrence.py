"""The joint prior's guard: a pair whose tilt runs to the optimiser's bound is not joined."""

import numpy as np

from cxtext.value import cooccurrence


def test_pair_on_the_bound_is_not_joined():
    # every customer with evidence for one theme has the same evidence for the other:
    # what a topic model that tags two confusable themes on one document gives
    p = np.full((3000, 2), 0.01)
    p[:900] = 0.95
    rho = np.full_like(p, 0.05)
    _, J, _ = cooccurrence._fit(p, rho, [(0, 1)])
    assert J[0] >= cooccurrence.IDENTIFIED  # the likelihood keeps rising: not identified
    assert cooccurrence.joint_components(p, rho) == []


def test_interior_pair_is_joined():
    rng = np.random.default_rng(0)
    kind = rng.choice(4, 3000, p=[0.15, 0.2, 0.2, 0.45])
    p = np.select(
        [kind[:, None] == 0, kind[:, None] == 1, kind[:, None] == 2],
        [np.array([0.9, 0.9]), np.array([0.9, 0.03]), np.array([0.03, 0.9])],
        np.array([0.03, 0.03]),
    )
    rho = np.broadcast_to(p.mean(axis=0), p.shape).copy()
    (component,) = cooccurrence.joint_components(p, rho, min_log_odds=0.5)
    assert component.cols == (0, 1) and 0.5 <= component.J[0, 1] < cooccurrence.BOUND
