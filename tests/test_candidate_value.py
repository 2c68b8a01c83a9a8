"""Discovery's value step: the candidates' churn model reads history plus the candidates'
documents (not a rewritten copy of history), with the same figures, and its method says
what a candidate's uplift is."""

from __future__ import annotations

import json

import pandas as pd
from discovery_fixture import END, planted_feedback

from cxtext.config import load_settings
from cxtext.themes.discovery import candidate_feedback, candidate_taxonomy, discover_themes
from cxtext.themes.taxonomy import Taxonomy, Theme
from cxtext.value.uplift import estimate_churn_uplift
from pipelines.insight import CANDIDATE_UPLIFT, candidate_uplift, uplift_kwargs, with_candidates

SETTINGS = load_settings()
TAX = Taxonomy((Theme("delivery", "Delivery", "ارسال"),))


def test_history_plus_candidate_documents_values_as_rewriting_history():
    fb = planted_feedback(seed=0)
    found = discover_themes(
        fb,
        None,
        window_start=END - pd.Timedelta(days=28),
        window_end=END,
        options=SETTINGS.discovery,
    )
    chosen = found.assignments.dropna(subset=["candidate_theme"])
    assert len(chosen)
    planted = fb["text_redacted"].str.contains("staking|استیکینگ")
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{k:03d}" for k in range(200)],
            "churned": [
                f"C{k:03d}" in set(fb.loc[planted, "customer_id"]) or k % 7 == 0 for k in range(200)
            ],
        }
    )
    # the former way: every assigned document's topics rewritten in place
    candidate = fb[["source", "id"]].merge(chosen, how="left")["candidate_theme"]
    rewritten = fb.copy()
    hit = candidate.notna().to_numpy()
    rewritten.loc[hit, "topics"] = [json.dumps([t]) for t in candidate[hit]]
    rewritten.loc[hit, "aspect_sentiment"] = "{}"

    themes = Taxonomy(TAX.themes + candidate_taxonomy(found.candidates).themes)
    kwargs = uplift_kwargs(SETTINGS.value)
    docs = candidate_feedback(fb, found.assignments)
    appended = with_candidates(fb, docs)
    assert len(appended) == len(fb) + len(chosen)
    out = estimate_churn_uplift(appended, customers, themes, **kwargs)
    pd.testing.assert_frame_equal(
        out, estimate_churn_uplift(rewritten, customers, themes, **kwargs)
    )
    fitted = out[out["theme_id"].str.startswith("new_")]
    assert fitted["method"].str.startswith("joint_logit").all() and (fitted["customers"] > 0).all()


def test_a_candidates_method_says_what_its_uplift_is():
    uplift = pd.DataFrame(
        {
            "theme_id": ["new_en_1", "new_en_2"],
            "method": ["joint_logit(l2 prior sd 1, bootstrap 200)", "prior(x; y)"],
        }
    )
    out = candidate_uplift(uplift)["method"].tolist()
    assert out[0] == f"joint_logit(l2 prior sd 1, bootstrap 200; {CANDIDATE_UPLIFT})"
    assert out[1] == "prior(x; y)"  # a prior is not a fit: nothing to qualify
