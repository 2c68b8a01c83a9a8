"""A late-fused sentiment model (prepared-text + raw-text members) on the classify stage's fast path.

The stage scores a soft ``VotingClassifier`` member by member: the prepared-text member
from the normalize stage's output (``TextPreparer.transform_normalized``), the raw-text
member on stored text as it is (its ``StageNormalizer`` made exactly that), both through
the shared n-gram pass. The result must be the model's own ``predict_proba`` on the raw
texts, which is what training and the held-out benchmark measure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from cxtext.classify.aspects import sentiment_score
from cxtext.classify.features import StageNormalizer, TextPreparer
from cxtext.classify.late_fusion import soft_vote_members
from cxtext.classify.shared_ngrams import SharedNgrams, _counted_here, _split_model
from cxtext.classify.stage import Classifiers, _sentiment_proba, classify_feedback
from cxtext.classify.training import train_model
from cxtext.normalize.documents import normalize_text
from cxtext.themes.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "sentiment_small.csv"
# Latin words in every case, emoji runs, Arabic letters, Persian digits, PII, ZWNJ.
PLANTED = [
    "اپلیکیشن بانک بعد از UPDATE مدام Crash میکنه 😡😡",
    "برنامه عالیه 👍👍👍 ولی login با Password جدید کار نمیکنه",
    "ميخواستم كارت رو فعال كنم ولي خطا داد",
    "رمز دوم رو زدم ۳ بار، Error 500 داد!!!",
    "کارت ۶۰۳۷۹۹۱۱۲۲۳۳۴۴۵۵ شارژ شد ولی سفارش ثبت نشد، شماره من ۰۹۱۲۳۴۵۶۷۸۹",
    "خسته نباشید، خیلی ممنون 🙏",
    "خب",
    "VERY GOOD app, خیلی خوب",
    "می‌خواستم نصب کنم نمی‌شه",
    "😍",
]


@pytest.fixture(scope="module")
def fused():
    """A small fused model as ``scripts/train_models.py`` builds ``sentiment-fa-v3``."""
    frame = pd.read_csv(FIXTURE)
    frame = frame[frame["language"] == "fa"]
    groups = np.where(np.arange(len(frame)) % 3 == 0, "a", "b")
    weights = np.where(groups == "a", 2.0, 1.0)
    return train_model(
        frame["text"].tolist(),
        frame["sentiment"].tolist(),
        task="sentiment",
        lang="fa",
        params={"C": 0.5, "raw_share": 0.5},
        sample_weight=weights / weights.mean(),
    )


@pytest.fixture(scope="module")
def raw_texts() -> list[str]:
    sample = pd.read_csv(ROOT / "data" / "sample" / "feedback" / "tickets_fa.csv")
    return sample["text"].dropna().astype(str).tolist()[::7] + PLANTED


def test_every_member_takes_the_shared_ngram_pass(fused) -> None:
    members = soft_vote_members(fused)
    assert members is not None and len(members) == 2
    prepared, raw = members
    assert isinstance(prepared[0], TextPreparer) and isinstance(raw[0], StageNormalizer)
    for member in members:
        parts = _split_model(member[1:])
        assert parts is not None
        vectorizers = [t for t in parts[0] if isinstance(t, TfidfVectorizer)]
        assert vectorizers and all(_counted_here(v) for v in vectorizers)


def test_fast_path_equals_the_models_own_probabilities(fused, raw_texts) -> None:
    model = fused
    stored = [normalize_text(t)[1] for t in raw_texts]
    ngrams = SharedNgrams()
    _sentiment_proba(model, stored[::2], ngrams)  # a first batch fills the word cache
    fast, kept = _sentiment_proba(model, stored, ngrams)
    np.testing.assert_allclose(fast, model.predict_proba(raw_texts), rtol=0, atol=1e-12)
    assert kept is not None and kept[0] == kept[1].transform(raw_texts)
    assert np.isclose(fast, model.predict_proba(stored), atol=1e-9).all(axis=1).mean() >= 0.99


def test_the_stage_takes_the_fast_path(fused, raw_texts, monkeypatch) -> None:
    """No member's own normalization or vectorizer transform runs inside the stage."""
    pairs = [normalize_text(t) for t in raw_texts]
    docs = pd.DataFrame(
        {
            "id": [str(i) for i in range(len(pairs))],
            "language": pd.array([p[0] for p in pairs], dtype="string"),
            "text_redacted": pd.array([p[1] for p in pairs], dtype="string"),
        }
    )
    expected = fused.predict_proba(raw_texts)

    def refuse(*_args, **_kwargs):
        raise AssertionError("the stage left its fast path")

    for cls in (StageNormalizer, TextPreparer, TfidfVectorizer):
        monkeypatch.setattr(cls, "transform", refuse)
    monkeypatch.setattr(type(fused), "predict_proba", refuse)
    taxonomy = load_taxonomy(ROOT / "data" / "taxonomy.yaml")
    classifiers = Classifiers(taxonomy, {"fa": fused, "en": fused}, {"fa": "f", "en": "f"})
    out = classify_feedback(docs, classifiers, topic_threshold=0.5, neutral_band=0.2)
    scores = sentiment_score(expected, [str(c) for c in fused.classes_]).round(4)
    np.testing.assert_allclose(out["sentiment_score"].to_numpy(float), scores, atol=1e-4)


@pytest.mark.parametrize("weights", [None, [2.0, 0.0, 1.0]])
def test_soft_vote_is_the_models_own_average(weights) -> None:
    from sklearn.ensemble import VotingClassifier  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.naive_bayes import GaussianNB  # noqa: PLC0415

    from cxtext.classify.late_fusion import soft_vote  # noqa: PLC0415

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 3)), np.repeat(["a", "b", "c"], 20)
    members = [("lr", LogisticRegression()), ("off", "drop" if weights else GaussianNB())]
    members.append(("nb", GaussianNB()))
    model = VotingClassifier(members, voting="soft", weights=weights).fit(x, y)
    found = soft_vote_members(model)
    assert found is not None and len(found) == (2 if weights else 3)
    probas = [m.predict_proba(x) for m in found]
    np.testing.assert_array_equal(soft_vote(model, probas), model.predict_proba(x))
    assert soft_vote_members(LogisticRegression().fit(x, y)) is None
