"""Weak supervision round trip: keywords label a tiny corpus, the model generalizes beyond them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cxtext.classify.registry import load_model, save_model
from cxtext.classify.topics import ThemeClassifier, labels_to_indicator
from cxtext.classify.weak_labels import (
    MASK_TOKEN,
    mask_keywords,
    train_weak_topic_model,
    weak_training_set,
)
from cxtext.themes.taxonomy import parse_taxonomy

TAXONOMY = parse_taxonomy(
    {
        "themes": [
            {
                "id": "delivery",
                "label_en": "Delivery",
                "label_fa": "ارسال",
                "keywords": {"en": ["courier"], "fa": ["پیک"]},
            },
            {
                "id": "fees",
                "label_en": "Fees",
                "label_fa": "کارمزد",
                "keywords": {"en": ["fee"], "fa": ["کارمزد"]},
            },
            {
                "id": "unused",
                "label_en": "Unused",
                "label_fa": "بی‌استفاده",
                "keywords": {"en": ["zzzz"]},
            },
        ]
    }
)
# "parcel"/"بسته" only ever co-occur with delivery keywords, "commission"/"کسر" with fee ones.
CORPUS = [
    "the courier lost my parcel",
    "courier never brought the parcel",
    "parcel late, courier rude",
    "a fee and a commission again",
    "hidden fee plus commission",
    "commission fee is too high",
    "پیک بسته را دیر آورد",
    "بسته را پیک گم کرد",
    "پیک و بسته خراب",
    "کارمزد و کسر از حساب",
    "کسر کارمزد بی دلیل",
    "کارمزد زیاد کسر شد",
    "hello there",
    "سلام خوبید",
]


def test_weak_training_set_and_masking() -> None:
    texts, labels, summary = weak_training_set(CORPUS, None, TAXONOMY)
    assert summary.documents == 14 and summary.labelled == 12 and len(texts) == 12
    assert summary.per_theme == {"delivery": 6, "fees": 6}
    _, _, negative = weak_training_set(CORPUS, None, TAXONOMY, unlabelled="negative")
    assert negative.used_for_training == 14
    masked = mask_keywords(["the Courier came", "پیک‌ها آمدند", "nothing"], None, TAXONOMY, rate=1.0)
    assert masked == [f"the {MASK_TOKEN} came", f"{MASK_TOKEN} آمدند", "nothing"]


def test_weak_model_generalizes_beyond_keywords_and_round_trips(tmp_path: Path) -> None:
    model, summary = train_weak_topic_model(
        CORPUS * 3, None, TAXONOMY, min_df=1, cv=2, mask_rate=0.5, self_training=0.9
    )
    assert list(model.classes_) == ["delivery", "fees", "unused"]
    probe = ["where is my parcel", "بسته کجاست", "why this commission", "کسر از حساب"]
    proba = model.predict_proba(probe)
    assert proba.shape == (4, 3)
    assert list(proba[:, :2].argmax(axis=1)) == [0, 0, 1, 1]
    assert np.allclose(proba[:, 2], 0.0)  # no positives: the constant prior
    save_model(model, "topic-test", {"task": "topic", "weak_labels": summary.as_dict()}, tmp_path)
    loaded, card = load_model("topic-test", tmp_path)
    assert np.allclose(loaded.predict_proba(probe), proba)
    assert card["weak_labels"]["labelled_by_keywords"] == 36


def test_theme_classifier_contract() -> None:
    x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [1.0, 0.1], [0.0, 0.8]])
    y = labels_to_indicator([["a"], ["a"], ["b"], ["b"], ["a"], ["b"]], ["a", "b"])
    clf = ThemeClassifier(themes=("a", "b"), cv=2)
    assert clf.fit(x, y) is clf
    assert clf.predict(x).shape == (6, 2)
    assert clf.get_params()["themes"] == ("a", "b")
