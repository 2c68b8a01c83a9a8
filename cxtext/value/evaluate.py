"""CLV at risk against the simulator's truth: raw, corrected, and with perfect labels.

Shared by ``tests/test_value_misclassification.py`` and ``benchmarks/value_correction.py``
so the test and the 8-seed table in docs/value.md (§4) measure the same thing.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from cxtext.painpoints.rank import rank_pain_points
from cxtext.value.customer_value import estimate_customer_value
from cxtext.value.misclassification import confusion_from_cards
from cxtext.value.simulate import add_classifier_noise, default_noise, simulate_voc
from cxtext.value.uplift import estimate_churn_uplift

RANK = dict(
    segments=["all"],
    segment_column="plan",
    spike_ratio=1.5,
    spike_min_mentions=10,
    spike_alpha=0.01,
    examples=1,
    example_chars=(20, 280),
    default_clv=250.0,
    default_clv_by_segment={},
)
STRONG = 0.7  # log-odds effect from which a theme counts as "a real effect" (billing, app_crash, delivery)


def compare_to_truth(
    seed: int,
    *,
    n_customers: int = 4000,
    n_bootstrap: int = 60,
    held_out: int = 4000,
    prior_texts: float = 0.0,
    modes: tuple[str, ...] = ("raw", "corrected"),
) -> pd.DataFrame:
    """Per theme: true CLV at risk and uplift, and each mode's figure with its 90% interval.

    Modes: ``raw`` (noisy labels taken as given), ``corrected`` (noisy labels, the
    correction with the confusion measured on ``held_out`` simulated labelled texts) and
    ``perfect`` (the true labels: the sampling-noise floor any estimator has).
    """
    voc = simulate_voc(n_customers, seed=seed)
    noise = dataclasses.replace(default_noise(), held_out=held_out)
    noisy, topic_card, sentiment_cards = add_classifier_noise(voc, noise, seed=seed)
    confusion = confusion_from_cards(topic_card, sentiment_cards, prior_texts)
    values = estimate_customer_value(
        voc.customers, voc.transactions, as_of=voc.window_end, horizon_months=12,
        annual_discount_rate=0.10, default_clv=250.0, default_clv_by_segment={},
        segment_column="plan", min_repeat_buyers=30, level=0.9,
    )  # fmt: skip
    truth = voc.truth.set_index("theme_id")
    out = pd.DataFrame(
        {
            "beta": truth["beta"],
            "true": truth["true_clv_at_risk"],
            "true_uplift": truth["true_uplift"],
        }
    )
    for mode in modes:
        data, conf = (
            (voc, None)
            if mode == "perfect"
            else (noisy, confusion if mode == "corrected" else None)
        )
        uplift = estimate_churn_uplift(
            data.feedback, data.customers, data.taxonomy, prior=0.15, segment_column="plan",
            tenure_hints=["tenure"], seed=seed, n_bootstrap=n_bootstrap, prior_sd=1.0,
            level=0.9, confusion=conf,
        )  # fmt: skip
        ranked = rank_pain_points(
            data.feedback, values, uplift, data.taxonomy, window_end=data.window_end,
            window_days=data.window_days, confusion=conf, **RANK,
        ).set_index("theme_id")  # fmt: skip
        out[mode] = ranked["clv_at_risk"]
        out[f"{mode}_low"] = ranked["clv_at_risk_low"]
        out[f"{mode}_high"] = ranked["clv_at_risk_high"]
        out[f"{mode}_uplift"] = uplift.set_index("theme_id")["churn_uplift"]
    return out.astype(float)


def covered(df: pd.DataFrame, mode: str = "corrected") -> pd.Series:
    """Whether each theme's true CLV at risk lies inside ``mode``'s interval."""
    return (df[f"{mode}_low"] <= df["true"]) & (df["true"] <= df[f"{mode}_high"])


def strong_errors(df: pd.DataFrame, mode: str = "corrected") -> pd.Series:
    """Relative error of ``mode`` against the truth, for the themes with a real effect."""
    strong = df[df["beta"] >= STRONG]
    return strong[mode] / strong["true"] - 1
