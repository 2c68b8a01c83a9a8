"""What teams act on, wired from stage functions: new themes, follow-ups, any segment.

Plain functions (the nightly flow wraps them as tasks; the CLI and the notebook call
them directly): each passes settings to stage functions of ``cxtext`` and nothing more.
Candidates are valued by the very functions that value taxonomy themes.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any

import pandas as pd

from cxtext.painpoints.follow_ups import follow_ups
from cxtext.painpoints.rank import rank_pain_points
from cxtext.painpoints.segments import uplift_from_pain_points
from cxtext.schema import DISCOVERED_THEMES
from cxtext.store.warehouse import Warehouse
from cxtext.themes.discovery import (
    DiscoveryOptions,
    candidate_feedback,
    candidate_taxonomy,
    discover_themes,
    discovered_table,
)
from cxtext.themes.taxonomy import Taxonomy
from cxtext.value.uplift import estimate_churn_uplift


def section(settings: Any, name: str) -> dict[str, Any]:
    """One settings section as a mapping (typed sections and plain dicts alike)."""
    part = settings[name] if isinstance(settings, dict) else getattr(settings, name)
    return asdict(part) if is_dataclass(part) else dict(part)


def currency(settings: Any) -> str:
    return str(section(settings, "value")["currency"])


def rank_kwargs(settings: Any, window_days: int | None = None) -> dict[str, Any]:
    """Keyword arguments of ``rank_pain_points`` from the settings (segments excluded)."""
    cfg, value_cfg = section(settings, "painpoints"), section(settings, "value")
    return {
        "window_days": window_days or cfg["window_days"],
        "segment_column": value_cfg["segment_column"],
        "spike_ratio": cfg["spike_ratio"],
        "spike_min_mentions": cfg["spike_min_mentions"],
        "spike_alpha": cfg["spike_alpha"],
        "examples": cfg["examples"],
        "example_chars": tuple(cfg["example_chars"]),
        "default_clv": value_cfg["default_clv"],
        "default_clv_by_segment": dict(value_cfg["default_clv_by_segment"]),
    }


def discover_and_value(
    recent: pd.DataFrame,
    previous: pd.DataFrame | None,
    customers: pd.DataFrame | None,
    customer_value: pd.DataFrame,
    window_end: pd.Timestamp,
    settings: Any,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(DISCOVERED_THEMES rows, each window document's candidate, notes for the run record)."""
    window_days = section(settings, "painpoints")["window_days"]
    start = window_end - pd.Timedelta(days=window_days)
    found = discover_themes(
        recent,
        previous,
        window_start=start,
        window_end=window_end,
        options=DiscoveryOptions(**section(settings, "discovery")),
    )
    if found.candidates.empty:
        return DISCOVERED_THEMES.empty(), found.assignments, found.notes
    docs = candidate_feedback(recent, found.assignments)
    themes = candidate_taxonomy(found.candidates)
    value_cfg = section(settings, "value")
    uplift = estimate_churn_uplift(
        docs,
        customers,
        themes,
        prior=value_cfg["churn_uplift_prior"],
        segment_column=value_cfg["segment_column"],
        tenure_hints=value_cfg["tenure_hints"],
        seed=value_cfg["uplift_seed"],
        n_bootstrap=value_cfg["uplift_bootstrap"],
        prior_sd=value_cfg["uplift_prior_sd"],
        level=value_cfg["interval_level"],
    )
    valued = rank_pain_points(
        docs,
        customer_value,
        uplift,
        themes,
        window_end=window_end,
        segments=["all"],
        **rank_kwargs(settings),
    )
    table = discovered_table(
        found.candidates,
        valued,
        window_start=start,
        window_end=window_end,
        currency=currency(settings),
    )
    return table, found.assignments, found.notes


def follow_up_rows(
    recent: pd.DataFrame,
    pain: pd.DataFrame,
    customer_value: pd.DataFrame,
    taxonomy: Taxonomy,
    settings: Any,
) -> pd.DataFrame:
    """FOLLOW_UPS rows for the window's top pain points, routed to the themes' owners."""
    return follow_ups(
        recent,
        pain,
        customer_value,
        taxonomy.owners,
        top_themes=section(settings, "painpoints")["follow_up_themes"],
        currency=currency(settings),
    )


def pain_points_on_demand(
    wh: Warehouse, settings: Any, taxonomy: Taxonomy, segment: str, days: int | None
) -> pd.DataFrame:
    """Pain points of ``segment`` ("all", "plan", "plan=premium") over the newest stored
    window (or its last ``days`` days), computed from the stored tables.
    """
    stored = wh.latest_pain_points()
    if stored.empty:
        return stored
    end = pd.Timestamp(stored["window_end"].max())
    kwargs = rank_kwargs(settings, days)
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
    out["currency"] = currency(settings)
    return out
