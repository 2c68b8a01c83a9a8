"""When a nightly run may keep the stored churn model instead of refitting it.

The churn model (:func:`cxtext.value.uplift.estimate_churn_uplift`) reads every stored
document and refits with a bootstrap: seconds that do not shrink with the night's new
data. When its other inputs are what the stored fit saw (the same customers file with
its churn labels, settings and taxonomy: the caller checks their fingerprints) and the
documents stored since that fit are a small share of the history, refitting would move
the figures by about that share's weight, so the stored model is kept and the run says
so (``reused(run R): ...`` in the method column, a note on screen and in ``runs``). Once
the documents added since the fit reach ``refit_share`` of the history, the next run
refits. ``refit_share`` 0 refits every run.
"""

from __future__ import annotations

import pandas as pd

from cxtext.value.methods import fitted_run, reused_uplift, uplift_family


def keep_stored_uplift(
    stored: pd.DataFrame,
    theme_ids: list[str],
    *,
    inputs_unchanged: bool,
    documents_since_fit: int,
    documents: int,
    refit_share: float,
) -> tuple[pd.DataFrame | None, str]:
    """(the stored model marked as reused, or None to refit; why, one line).

    ``documents_since_fit``: stored or staged documents written after the fitting run
    (this run's new ones included); ``documents``: all of them.
    """
    if not len(stored):
        return None, "no stored churn model"
    if refit_share <= 0:
        return None, "run.refit_share is 0"
    if not inputs_unchanged:
        return None, "customers file, settings or taxonomy changed"
    families = {uplift_family(m) for m in stored["method"].dropna()}
    if "joint_logit" not in families:
        return None, "the stored model is the prior (no churn labels)"
    if not set(theme_ids) <= set(stored["theme_id"].astype(str)):
        return None, "the taxonomy has themes the stored model lacks"
    share = documents_since_fit / documents if documents else 1.0
    if share >= refit_share:
        return None, f"{share:.1%} of the documents are newer than the stored model"
    run = fitted_run(stored)
    return reused_uplift(stored), (
        f"kept the churn model fitted by run {run}: customers, settings and taxonomy unchanged "
        f"and {documents_since_fit:,} of {documents:,} documents ({share:.1%}) are newer, under "
        f"run.refit_share ({refit_share:.0%}); it refits when that share is reached "
        "(--reestimate: refit now)"
    )
