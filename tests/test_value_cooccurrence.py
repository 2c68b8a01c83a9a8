"""The joint prior's guard: a pair whose tilt runs to the optimiser's bound is not joined."""

import numpy as np

from cxtext.value import cooccurrence


def _interior_pair():
    rng = np.random.default_rng(0)
    kind = rng.choice(4, 3000, p=[0.15, 0.2, 0.2, 0.45])
    p = np.select(
        [kind[:, None] == 0, kind[:, None] == 1, kind[:, None] == 2],
        [np.array([0.9, 0.9]), np.array([0.9, 0.03]), np.array([0.03, 0.9])],
        np.array([0.03, 0.03]),
    )
    return p, np.broadcast_to(p.mean(axis=0), p.shape).copy()


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
    p, rho = _interior_pair()
    (component,) = cooccurrence.joint_components(p, rho, min_log_odds=0.5)
    assert component.cols == (0, 1) and 0.5 <= component.J[0, 1] < cooccurrence.BOUND


def test_replicate_on_the_bound_is_not_joined():
    # the point fit joins the pair; a bootstrap replicate whose refit runs to the bound
    # imputes the two themes apart, as the point fit would have
    p, rho = _interior_pair()
    (component,) = cooccurrence.joint_components(p, rho, min_log_odds=0.5)
    (again,) = cooccurrence.refit_components([component], p, rho)
    assert again.cols == component.cols and again.J[0, 1] < cooccurrence.IDENTIFIED
    confusable = np.full((3000, 2), 0.01)
    confusable[:900] = 0.95
    assert cooccurrence.refit_components([component], confusable, np.full_like(p, 0.05)) == []


def test_unique_rows_is_numpys():
    rng = np.random.default_rng(1)
    m = rng.choice([0.0, -0.0, 1e-9, 0.25, 0.5, 0.9], size=(2000, 4))
    m[:500] = rng.random((500, 4))
    rows, counts = cooccurrence.unique_rows(m)
    expected_rows, expected_counts = np.unique(m, axis=0, return_counts=True)
    np.testing.assert_array_equal(rows, expected_rows)
    np.testing.assert_array_equal(counts, expected_counts)
