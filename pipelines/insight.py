"""What teams act on, wired from stage functions: new themes and any segment on demand.

Plain functions (the nightly flow wraps them as tasks; the CLI and the notebook call
them directly): each passes settings to stage functions of ``cxtext`` and nothing more.
Candidates are valued by the very functions that value taxonomy themes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cxtext.classify.registry import champions, read_card
from cxtext.config import (
    DiscoverySettings,
    PainpointsSettings,
    Settings,
    ValueSettings,
    resolve,
)
from cxtext.painpoints.rank import attributes_by_customer, rank_pain_points, segment_values
from cxtext.painpoints.segments import uplift_from_pain_points
from cxtext.schema import DISCOVERED_THEMES
from cxtext.store.warehouse import Warehouse
from cxtext.themes.discovery import (
    candidate_feedback,
    candidate_taxonomy,
    discover_themes,
    discovered_table,
)
from cxtext.themes.taxonomy import Taxonomy
from cxtext.value.misclassification import Confusion, confusion_from_cards
from cxtext.value.uplift import estimate_churn_uplift


def champion_confusion(models_dir: Path, value: ValueSettings) -> Confusion | None:
    """The champions' held-out confusion (model cards), or None when the topic card has none.

    One place for the nightly table, on-demand segments and ``cxtext explain``, so the
    three read the same cards with the same prior.
    """
    names = champions(models_dir)
    if not names.get("topic"):
        return None
    cards = {
        lang: read_card(names[f"sentiment-{lang}"], models_dir)
        for lang in ("en", "fa")
        if names.get(f"sentiment-{lang}")
    }
    return confusion_from_cards(
        read_card(names["topic"], models_dir), cards, value.confusion_prior_texts
    )


def uncorrected_note(confusion: Confusion | None, value: ValueSettings) -> str | None:
    """The run warning when CLV at risk goes uncorrected for misclassification, and why."""
    if confusion is not None and value.misclassification_correction:
        return None
    why = (
        "turned off: value.misclassification_correction"
        if confusion is not None
        else "the topic model's card has no assignment_confusion: retrain it with "
        "`cxtext train --task topic` or `cxtext retrain topic`, which measure it"
    )
    return f"value: CLV at risk is not corrected for misclassification ({why})"


def rank_kwargs(
    painpoints: PainpointsSettings,
    value: ValueSettings,
    window_days: int | None = None,
    confusion: Confusion | None = None,
) -> dict[str, Any]:
    """Keyword arguments of ``rank_pain_points`` from the settings (segments excluded).

    One place for them, so the nightly table, candidates and on-demand segments are
    ranked alike (interval level included).
    """
    return {
        "window_days": window_days or painpoints.window_days,
        "segment_column": value.segment_column,
        "spike_ratio": painpoints.spike_ratio,
        "spike_min_mentions": painpoints.spike_min_mentions,
        "spike_alpha": painpoints.spike_alpha,
        "examples": painpoints.examples,
        "example_chars": painpoints.example_chars,
        "default_clv": value.default_clv,
        "default_clv_by_segment": value.default_clv_by_segment,
        "confusion": confusion if value.misclassification_correction else None,
        "level": value.interval_level,
    }


def uplift_kwargs(value: ValueSettings, confusion: Confusion | None = None) -> dict[str, Any]:
    """Keyword arguments of ``estimate_churn_uplift`` from the settings: one place for the
    taxonomy themes' model and the candidates'.
    """
    return {
        "prior": value.churn_uplift_prior,
        "segment_column": value.segment_column,
        "tenure_hints": list(value.tenure_hints),
        "seed": value.uplift_seed,
        "n_bootstrap": value.uplift_bootstrap,
        "prior_sd": value.uplift_prior_sd,
        "level": value.interval_level,
        "confusion": confusion if value.misclassification_correction else None,
        "sweeps": value.misclassification_sweeps,
    }


def discover_and_value(
    recent: pd.DataFrame,
    previous: pd.DataFrame | None,
    history: pd.DataFrame,
    customers: pd.DataFrame | None,
    customer_value: pd.DataFrame,
    taxonomy: Taxonomy,
    window_end: pd.Timestamp,
    *,
    discovery: DiscoverySettings,
    painpoints: PainpointsSettings,
    value: ValueSettings,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(DISCOVERED_THEMES rows, each window document's candidate, notes for the run record).

    The candidates' churn uplift is one joint model over all labelled customers, every
    taxonomy theme and candidate a column, so a candidate does not take the credit of a
    theme its customers also raised. It is the model without the misclassification
    correction (a candidate has no held-out confusion; its taxonomy columns are as
    labelled), fitted on a sparse design: ~40 CPU-s for 350 candidates at a million
    documents, bootstrap as configured (benchmarks/README.md).
    """
    start = window_end - pd.Timedelta(days=painpoints.window_days)
    found = discover_themes(
        recent, previous, window_start=start, window_end=window_end, options=discovery
    )
    if found.candidates.empty:
        return DISCOVERED_THEMES.empty(), found.assignments, found.notes
    docs = candidate_feedback(recent, found.assignments)
    themes = candidate_taxonomy(found.candidates)
    uplift = estimate_churn_uplift(
        with_candidates(history, docs),
        customers,
        Taxonomy(taxonomy.themes + themes.themes),
        **uplift_kwargs(value),
    )
    uplift = candidate_uplift(uplift[uplift["theme_id"].isin(themes.ids)])
    valued = rank_pain_points(
        docs,
        customer_value,
        uplift,
        themes,
        window_end=window_end,
        segments=["all"],
        **rank_kwargs(painpoints, value),
    )
    table = discovered_table(
        found.candidates,
        valued,
        window_start=start,
        window_end=window_end,
        currency=value.currency,
    )
    return table, found.assignments, found.notes


# What a candidate's fitted uplift is, in its method (docs/report.md, "value")
CANDIDATE_UPLIFT = (
    "candidate: its documents of this window as clustered, beside every taxonomy theme "
    "as labelled; not corrected for misclassification"
)


def candidate_uplift(uplift: pd.DataFrame) -> pd.DataFrame:
    """The candidates' churn-model rows, a fitted row's method saying what it is."""
    fitted = uplift["method"].str.startswith("joint_logit(").fillna(False).to_numpy(bool)
    method = uplift["method"].copy()
    method[fitted] = method[fitted].str.slice(stop=-1) + f"; {CANDIDATE_UPLIFT})"
    return uplift.assign(method=method)


def with_candidates(history: pd.DataFrame, docs: pd.DataFrame) -> pd.DataFrame:
    """``history`` followed by ``docs`` (the candidates' documents, topics = [candidate]):
    the feedback the candidates' churn model reads.

    A candidate's documents are unclaimed (the topic stage gave them no theme), so as
    stored they raise nothing: appended as mentions of their candidate they give the
    mentions that rewriting them in place gave, without a merge over every stored key or
    a copy of history's text columns (~0.3 GB of Python strings at a million documents).
    """
    columns = [c for c in history.columns if c in docs.columns and c != "candidate_theme"]
    return pd.concat([history[columns], docs[columns]], ignore_index=True)


def pain_points_on_demand(
    wh: Warehouse, settings: Settings, taxonomy: Taxonomy, segment: str, days: int | None
) -> pd.DataFrame:
    """Pain points of ``segment`` ("all", "plan", "plan=premium") over the newest stored
    window (or its last ``days`` days), computed from the stored tables.

    Ranked by the nightly table's method: the stored churn model, and people corrected
    for misclassification with the champions' held-out confusion (when the setting is on).
    """
    stored = wh.latest_pain_points()
    if stored.empty:
        return stored
    end = pd.Timestamp(stored["window_end"].max())
    confusion = champion_confusion(resolve(settings.paths.models), settings.value)
    kwargs = rank_kwargs(settings.painpoints, settings.value, days, confusion)
    start = end - pd.Timedelta(days=2 * kwargs["window_days"])  # current + previous window
    feedback = wh.read_feedback(start, end)
    out = rank_pain_points(
        feedback,
        wh.read_table("customer_value"),
        uplift_from_pain_points(stored),
        taxonomy,
        window_end=end,
        segments=[segment],
        customer_attributes=wh.read_table("customer_attributes"),
        **kwargs,
    )
    out["currency"] = settings.value.currency
    return out


def segment_choices(wh: Warehouse, settings: Settings, column: str) -> list[str]:
    """The values ``column`` takes in the newest window (what a user may ask for)."""
    stored = wh.latest_pain_points("all")
    if stored.empty:
        return []
    end = pd.Timestamp(stored["window_end"].max())
    feedback = wh.read_feedback(end - pd.Timedelta(days=settings.painpoints.window_days), end)
    cid = feedback["customer_id"].astype("string").str.strip()
    attrs = attributes_by_customer(wh.read_table("customer_attributes"))
    values = segment_values(feedback, cid, attrs, column)
    if column == settings.value.segment_column:
        cv = wh.read_table("customer_value").set_index("customer_id")["segment"]
        values = values.fillna(cid.map(cv).astype("string"))
    return sorted(values.dropna().unique().tolist())
