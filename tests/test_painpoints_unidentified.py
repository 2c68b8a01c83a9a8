"""A theme assigned no more often than its held-out false-positive rate: the correction
would put 0 people at risk with a 0–0 interval, claiming a certainty it does not have.
The theme is kept as labelled with its interval down to 0, the pain point says so, and
the flow warns (found on an own-data export whose mined keyword fired on most texts)."""

from __future__ import annotations

import dataclasses

import pandas as pd

from cxtext.painpoints.rank import UNIDENTIFIED, rank_pain_points, unidentified_themes
from cxtext.value.customer_value import estimate_customer_value
from cxtext.value.evaluate import RANK
from cxtext.value.misclassification import confusion_from_cards, mention_truth
from cxtext.value.simulate import add_classifier_noise, default_noise, simulate_voc


def _ranked(fpr_of: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    voc = simulate_voc(600, seed=1)
    noise = dataclasses.replace(default_noise(), held_out=600)
    noisy, topic_card, sentiment_cards = add_classifier_noise(voc, noise, seed=1)
    confusion = confusion_from_cards(topic_card, sentiment_cards, prior_texts=5)
    if fpr_of is not None:  # held-out texts where the theme fired on 3 in 10 others
        tp, _, fn, _ = confusion.topics[fpr_of]
        confusion.topics[fpr_of] = (tp, 300, fn, 700)
    values = estimate_customer_value(
        voc.customers, voc.transactions, as_of=voc.window_end, horizon_months=12,
        annual_discount_rate=0.10, default_clv=250.0, default_clv_by_segment={},
        segment_column="plan", min_repeat_buyers=30, level=0.9,
    )  # fmt: skip
    themes = list(voc.taxonomy.ids)
    uplift = pd.DataFrame(
        {
            "theme_id": themes,
            "churn_uplift": 0.1,
            "churn_uplift_low": 0.05,
            "churn_uplift_high": 0.15,
            "method": "given",
        }
    )
    ranked = rank_pain_points(
        noisy.feedback, values, uplift, noisy.taxonomy, window_end=noisy.window_end,
        window_days=noisy.window_days, confusion=confusion, **RANK,
    )  # fmt: skip
    truth = mention_truth(noisy.feedback, themes, confusion)
    return ranked.set_index("theme_id"), pd.Series(truth.unidentified, index=themes)


def test_an_unidentified_correction_is_kept_as_labelled_said_and_reaches_0() -> None:
    plain, plain_flags = _ranked(None)
    assert not plain_flags.any()
    assert unidentified_themes(plain.reset_index()) == []
    theme = str(plain["negative_mentions"].idxmax())

    ranked, flags = _ranked(theme)
    assert flags[theme] and flags.sum() == 1
    row = ranked.loc[theme]
    assert UNIDENTIFIED in row["method"]
    assert "people corrected" not in row["method"]  # kept as labelled, not 0 people
    assert row["customers"] > 0 and pd.isna(row["corrected_people"])
    assert row["clv_at_risk_low"] == 0 < row["clv_at_risk"] < row["clv_at_risk_high"]
    assert unidentified_themes(ranked.reset_index()) == [theme]
    others = ranked.drop(index=theme)
    assert not others["method"].str.contains(UNIDENTIFIED, regex=False).any()
