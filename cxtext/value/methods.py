"""Which methods a run's figures came from, reuse of stored ones, and changes between runs.

A run given only feedback knows nothing about customers' value or churn, yet the
warehouse may hold both from an earlier run with CRM, transactions and churn labels.
Re-valuing every customer at the segment default and the churn model at the prior
would move every figure (the top theme went from 4,260 to 7,583) for no reason in the
data. So such a run reuses the stored customer values and churn model (unless told to
re-estimate), and any change of method between runs is named, never silent.
"""

from __future__ import annotations

import re

import pandas as pd

_REUSED = re.compile(r"^reused\(run ([^)]*)\): ")


def method_summary(values: pd.DataFrame | None, uplift: pd.DataFrame | None) -> dict[str, str]:
    """``{"clv": "bgnbd_gammagamma 76%/crm 24%", "uplift": "joint_logit"}`` (keys absent if no rows).

    Examples
    --------
    >>> v = pd.DataFrame({"method": ["crm", "bgnbd_gammagamma", "bgnbd_gammagamma", "bgnbd_gammagamma"]})
    >>> u = pd.DataFrame({"method": ["reused(run 1): joint_logit(l2 prior sd 1)", "prior(x; y)"]})
    >>> method_summary(v, u)
    {'clv': 'bgnbd_gammagamma 75%/crm 25%', 'uplift': 'joint_logit/prior'}
    """
    out: dict[str, str] = {}
    if values is not None and len(values) and "method" in values.columns:
        out["clv"] = method_shares(values["method"])
    if uplift is not None and len(uplift) and "method" in uplift.columns:
        families = [uplift_family(m) for m in uplift["method"].dropna()]
        out["uplift"] = "/".join(dict.fromkeys(families))
    return out


def method_shares(methods: pd.Series) -> str:
    """``bgnbd_gammagamma 75%/crm 25%``: largest share first, ties by name.

    The tie order must not depend on row order, or two runs over the same data (one of
    them split across concurrent runs) would write different method texts.

    >>> method_shares(pd.Series(["simple_rate", "crm", None, "crm", "simple_rate", None]))
    'crm 33%/simple_rate 33%/unknown 33%'
    """
    counts = methods.fillna("unknown").value_counts()
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return "/".join(f"{name} {n / len(methods):.0%}" for name, n in ordered)


def uplift_family(method: str) -> str:
    """``joint_logit`` or ``prior`` (a reused model counts as what it was estimated with)."""
    return _REUSED.sub("", str(method)).split("(")[0]


def method_changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """One line per figure whose method differs from the previous run's.

    CLV methods compare by the set of methods used (shares move with the customer mix);
    the uplift by family.

    Examples
    --------
    >>> method_changes({"clv": "crm 24%/bgnbd_gammagamma 76%", "uplift": "joint_logit"},
    ...                {"clv": "segment_default 100%", "uplift": "prior"})
    ['clv: crm 24%/bgnbd_gammagamma 76% → segment_default 100%', 'uplift: joint_logit → prior']
    >>> method_changes({"clv": "crm 20%/bgnbd_gammagamma 80%"}, {"clv": "crm 24%/bgnbd_gammagamma 76%"})
    []
    """
    changes = []
    for key in ("clv", "uplift"):
        if key not in before or key not in after:
            continue
        if _names(before[key]) != _names(after[key]):
            changes.append(f"{key}: {before[key]} → {after[key]}")
    return changes


def _names(summary: str) -> set[str]:
    return {part.split(" ")[0] for part in summary.split("/")}


def fitted_run(stored: pd.DataFrame) -> str:
    """The run that estimated a stored churn model (a reused one names it in its method)."""
    if not len(stored):
        return "?"
    if again := _REUSED.match(str(stored["method"].iloc[0])):
        return again.group(1)
    return str(stored["run_id"].iloc[0]) if "run_id" in stored.columns else "?"


def reused_uplift(stored: pd.DataFrame) -> pd.DataFrame:
    """The stored churn model as this run's, its method saying where it came from."""
    out = stored.drop(columns=["run_id"], errors="ignore").copy()
    run = fitted_run(stored)
    out["method"] = [f"reused(run {run}): {_REUSED.sub('', str(m))}" for m in out["method"]]
    return out.reset_index(drop=True)
