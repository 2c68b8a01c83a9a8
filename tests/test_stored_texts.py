"""The classify stage reads stored text once: the shipped models never normalize it again."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import pandas as pd
import pytest

import cxtext.classify.features as features
import cxtext.classify.late_fusion as late_fusion
import cxtext.classify.stage as stage
from cxtext.classify.labelled import read_labelled
from cxtext.classify.stage import classify_feedback, load_classifiers
from cxtext.classify.text_input import stored_texts, texts_are_stored
from cxtext.normalize.documents import normalize_feedback, normalize_text
from cxtext.themes.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "feedback"
COLUMNS = ["topics", "topic_scores", "sentiment", "sentiment_score", "aspect_sentiment"]


@pytest.fixture(scope="module")
def docs() -> pd.DataFrame:
    """30 sample documents of every file, as the normalize stage stores them."""
    frames = [read_labelled(p).rows[["text"]].dropna().head(30) for p in sorted(SAMPLE.iterdir())]
    frame = pd.concat(frames, ignore_index=True)
    frame["id"] = [str(i) for i in range(len(frame))]
    return normalize_feedback(frame[["id", "text"]].astype({"text": "string"}))


@pytest.fixture(scope="module")
def classifiers():
    return load_classifiers(ROOT / "models", load_taxonomy(ROOT / "data" / "taxonomy.yaml"))


def test_the_flag_holds_inside_the_block_only():
    assert not texts_are_stored()
    with stored_texts():
        assert texts_are_stored()
        assert features.StageNormalizer().transform(["a  b\u200c ", None]) == ["a  b\u200c ", ""]
    assert not texts_are_stored()


def test_shipped_models_in_the_stage_never_normalize_again(docs, classifiers, monkeypatch):
    calls = {"n": 0}

    def counted(text, share=0.2):
        calls["n"] += 1
        return normalize_text(text, share)

    for module in (features, late_fusion):
        monkeypatch.setattr(module, "normalize_text", counted)
    once = classify_feedback(docs, classifiers, topic_threshold=0.5, neutral_band=0.2)
    assert calls["n"] == 0  # every text was prepared from the stored text alone
    # the stage before this change: each model normalized the stored text a second time
    monkeypatch.setattr(stage, "stored_texts", nullcontext)
    twice = classify_feedback(docs, classifiers, topic_threshold=0.5, neutral_band=0.2)
    assert calls["n"] > len(docs)  # the encoder models' branches normalized every text
    # the same predictions wherever normalizing stored text again changes nothing (hazm
    # re-spaces a few number formats, "۴ ٫ ۰.۳"; there the model now reads what it was
    # trained on: normalize_text once)
    fixed = [normalize_text(t)[1] == t for t in docs["text_redacted"]]
    assert sum(fixed) >= 0.98 * len(docs)
    pd.testing.assert_frame_equal(once.loc[fixed, COLUMNS], twice.loc[fixed, COLUMNS])
