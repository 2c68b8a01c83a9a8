"""A small night keeps the stored churn model (and says which run fitted it); anything that
changes the model's inputs, or enough new documents, refits it."""

from __future__ import annotations

import pandas as pd
import pytest

from cxtext.value.refit import keep_stored_uplift

FIT = "joint_logit(l2 prior sd 1, bootstrap 200)"


def stored(method: str = FIT, run: str = "20261101T000000Z-aaaaaa") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": [run, run],
            "theme_id": ["app_bugs", "delivery"],
            "churn_uplift": [0.1, 0.02],
            "churn_uplift_low": [0.05, -0.01],
            "churn_uplift_high": [0.15, 0.05],
            "customers": [40, 12],
            "method": [method, method],
        }
    )


def keep(model: pd.DataFrame, **changes):
    kwargs = dict(
        inputs_unchanged=True, documents_since_fit=100, documents=10_000, refit_share=0.05
    )
    kwargs.update(changes)
    return keep_stored_uplift(model, ["app_bugs", "delivery"], **kwargs)


def test_a_small_night_keeps_the_fit_and_names_its_run() -> None:
    kept, why = keep(stored())
    assert kept is not None
    assert kept["churn_uplift"].tolist() == [0.1, 0.02]
    assert kept["method"].str.startswith("reused(run 20261101T000000Z-aaaaaa): joint_logit").all()
    assert "1.0%" in why and "20261101T000000Z-aaaaaa" in why


def test_a_model_kept_twice_still_names_the_run_that_fitted_it() -> None:
    again = stored(f"reused(run 20261101T000000Z-aaaaaa): {FIT}", run="20261102T000000Z-bbbbbb")
    kept, _ = keep(again)
    assert kept["method"].str.startswith("reused(run 20261101T000000Z-aaaaaa): joint_").all()


@pytest.mark.parametrize(
    ("model", "changes", "reason"),
    [
        (stored(), {"documents_since_fit": 500}, "5.0% of the documents"),
        (stored(), {"inputs_unchanged": False}, "changed"),
        (stored(), {"refit_share": 0.0}, "refit_share is 0"),
        (stored("prior(0.15 x negativity)"), {}, "prior"),
        (stored().iloc[:1], {}, "themes the stored model lacks"),
        (stored().iloc[:0], {}, "no stored churn model"),
    ],
)
def test_refits_when_inputs_changed_or_enough_is_new(model, changes, reason) -> None:
    kept, why = keep(model, **changes)
    assert kept is None
    assert reason in why
