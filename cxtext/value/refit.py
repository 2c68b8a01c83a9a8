"""When a nightly run may keep what it estimated before instead of re-estimating it.

Lifetime values (:func:`keep_stored_values`): with the same customers and transactions
files, a night's values differ from the last estimate only by the as-of date, which
adds the days since to every customer's observed time T; their BG/NBD rate and so their
values drift by about that share of T (100k benchmark, mean T 297 days: 1 day moved the
summed CLV 0.34%, its 90% parameter interval being ±1.6%). Re-estimating them is most of
a 1%-new night's value stage (~0.9 CPU-s for 10,000 customers, benchmarks/README.md),
so the estimate is kept while that share is under ``value.refit_time_share``, and the
run says so.

The churn model (:func:`keep_stored_uplift`):

:func:`cxtext.value.uplift.estimate_churn_uplift` reads every stored
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


def keep_stored_values(
    estimated_as_of: pd.Timestamp,
    as_of: pd.Timestamp,
    *,
    after_as_of: int,
    observed_days: float | None,
    refit_time_share: float,
) -> str | None:
    """Why lifetime values estimated as of ``estimated_as_of`` stand at ``as_of`` (one line),
    or None to re-estimate them.

    The caller checks that the customers and transactions files, the pseudonym key, the
    value settings and the code are those of the estimate. ``after_as_of``: transactions
    the estimate left out as later than its as-of date (a later date would take them
    in); ``observed_days``: its customers' mean observed time T.

    >>> day = pd.Timestamp("2026-11-28", tz="UTC")
    >>> keep_stored_values(day, day + pd.Timedelta(days=1), after_as_of=0,
    ...                    observed_days=297.0, refit_time_share=0.01)[:40]
    'kept the lifetime values estimated as of'
    >>> keep_stored_values(day, day + pd.Timedelta(days=3), after_as_of=0,
    ...                    observed_days=297.0, refit_time_share=0.01) is None
    True
    """
    moved = (as_of - estimated_as_of) / pd.Timedelta(days=1)
    if moved < 0 or refit_time_share <= 0 or not observed_days or after_as_of:
        return None
    share = moved / observed_days
    if share >= refit_time_share:
        return None
    return (
        f"kept the lifetime values estimated as of {estimated_as_of.date()}: the same "
        f"customers and transactions files and settings, no transaction after that date, "
        f"and the as-of date moved {moved:g} day{'s' if moved != 1 else ''}, {share:.1%} of "
        f"the customers' mean observed time ({observed_days:.0f} days), under "
        f"value.refit_time_share ({refit_time_share:.0%}); values drift by about that "
        "share (--reestimate: re-estimate now)"
    )
