"""A fine-label member (intents, complaint reasons) summed per theme, the third late-fusion member."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from cxtext.classify.late_fusion import FineLabelThemes, LanguageGate, ThemeLateFusion
from cxtext.classify.registry import load_model, save_model
from cxtext.classify.topics import build_topic_model

THEMES = ["delivery", "card_issues", "billing_fees"]
FINE = {
    "card_arrival": ("delivery", "card_issues"),
    "card_fee": ("billing_fees", "card_issues"),
    "parcel_late": ("delivery",),
    "age_limit": (),  # a fine label with no theme
}
WORDS = {
    "card_arrival": "my new card has not arrived yet",
    "card_fee": "why was I charged a fee on my card",
    "parcel_late": "the parcel is late again",
    "age_limit": "how old do I need to be",
}


def _rows(n: int = 60):
    fine = [list(WORDS)[i % 4] for i in range(n)]
    texts = [f"{WORDS[f]} {i}" for i, f in enumerate(fine)]
    y = np.array([[int(t in FINE[f]) for t in THEMES] for f in fine], dtype=np.int8)
    return texts, fine, y


def _fine_model() -> FineLabelThemes:
    lr = Pipeline([("tfidf", TfidfVectorizer()), ("lr", LogisticRegression(C=10.0))])
    return FineLabelThemes(lr, themes=THEMES, fine_themes=FINE)


def test_fine_probabilities_are_summed_per_theme():
    texts, fine, _ = _rows()
    model = _fine_model().fit(texts, [*fine[:-4], None, "", None, None])  # unlabelled rows skipped
    p = model.predict_proba(["my new card has not arrived", "how old do I need to be"])
    inner = model.estimator_.predict_proba(
        ["my new card has not arrived", "how old do I need to be"]
    )
    k = {c: i for i, c in enumerate(model.estimator_.classes_)}
    assert list(model.classes_) == THEMES
    np.testing.assert_allclose(p[:, 0], inner[:, k["card_arrival"]] + inner[:, k["parcel_late"]])
    np.testing.assert_allclose(p[:, 1], inner[:, k["card_arrival"]] + inner[:, k["card_fee"]])
    assert p[0].argmax() in (0, 1) and p[1].max() < 0.5  # age_limit's mass goes to no theme
    with pytest.raises(ValueError, match="not in themes"):
        FineLabelThemes(model.estimator, THEMES, {"x": ("nope",)}).fit(texts, fine)


def test_three_member_fusion_blends_and_round_trips(tmp_path):
    texts, fine, y = _rows()
    texts += ["پیک دیر رسید", "کارت نرسید"]  # Persian: the gated members skip them
    fine += [None, None]
    y = np.vstack([y, [[1, 0, 0], [0, 1, 0]]])
    model = ThemeLateFusion(
        tfidf=build_topic_model(THEMES, min_df=1),
        encoder=LanguageGate(build_topic_model(THEMES, min_df=1, C=4.0)),
        share=0.3,
        fine=LanguageGate(_fine_model()),
        fine_share=0.5,
    ).fit(texts, y, fine_labels=fine)
    probe = ["my new card has not arrived", "the parcel is late", "پیک دیر رسید", ""]
    tfidf, (enc, fin) = model.tfidf_.predict_proba(probe), model.member_probas(probe)
    expected = 0.2 * tfidf + 0.3 * enc + 0.5 * fin
    expected[2] = tfidf[2]  # Persian: TF-IDF alone
    got = model.predict_proba(probe)
    np.testing.assert_allclose(got[[0, 1, 3]], expected[[0, 1, 3]], rtol=1e-9)
    np.testing.assert_allclose(got[2], tfidf[2], rtol=1e-9)
    assert np.isnan(fin[2]).all() and not np.isnan(fin[0]).any()
    save_model(model, "t", {"task": "topic", "params": {}}, tmp_path)
    loaded, _ = load_model("t", tmp_path)
    np.testing.assert_allclose(loaded.predict_proba(probe), got, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="fine_labels"):
        ThemeLateFusion(model.tfidf, model.encoder, 0.3, model.fine, 0.5).fit(texts, y)
    with pytest.raises(ValueError, match="sum to"):
        ThemeLateFusion(model.tfidf, model.encoder, 0.6, model.fine, 0.5).fit(texts, y, fine)


def test_card_names_the_fine_member():
    from cxtext.classify.model_card import render_card_markdown

    params = {"features": "tfidf+encoder", "fusion": "late", "feature_weight": 0.0,
              "embed_C": 2.0, "fine_share": 0.6, "fine_C": 32.0, "encoder_languages": "en"}  # fmt: skip
    text = render_card_markdown("m", {"params": params})
    assert "fine-label member's share 0.6, its C 32.0; encoder on en documents only" in text
