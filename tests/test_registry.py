"""Model registry: skops round trip, model cards, champions, and refusing untrusted files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from cxtext.classify import registry
from cxtext.classify.registry import (
    ModelNotFoundError,
    UntrustedModelError,
    champion_name,
    list_models,
    load_champion,
    load_model,
    promote,
    save_model,
)
from cxtext.classify.training import train_model

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def small_model():
    frame = pd.read_csv(FIXTURES / "sentiment_small.csv")
    return train_model(frame["text"], frame["sentiment"], task="sentiment", lang="auto")


def _card() -> dict:
    return {"task": "sentiment", "lang": "auto", "metrics": {"accuracy": 0.9, "macro_f1": 0.88}}


def test_save_and_load_round_trip(tmp_path, small_model):
    folder = save_model(small_model, "sent-a", _card(), tmp_path)
    assert folder == tmp_path / "sent-a"
    assert {p.name for p in folder.iterdir()} >= {"model.skops", "card.json", "card.md"}
    loaded, card = load_model("sent-a", tmp_path)
    texts = ["غذا خوب نبود", "great crew", "", None]
    np.testing.assert_allclose(loaded.predict_proba(texts), small_model.predict_proba(texts))
    assert card["name"] == "sent-a"
    assert card["file_bytes"] == (folder / "model.skops").stat().st_size
    assert "scikit-learn" in card["library_versions"]
    assert "# Model card: sent-a" in (folder / "card.md").read_text(encoding="utf-8")


def test_promote_champion_and_list(tmp_path, small_model):
    save_model(small_model, "sent-a", _card(), tmp_path)
    save_model(small_model, "sent-b", _card(), tmp_path)
    assert champion_name("sentiment-fa", tmp_path) is None
    with pytest.raises(ModelNotFoundError, match="no champion"):
        load_champion("sentiment-fa", tmp_path)
    assert promote("sent-a", "sentiment-fa", tmp_path) is None
    assert promote("sent-b", "sentiment-fa", tmp_path) == "sent-a"
    promote("sent-a", "sentiment-en", tmp_path)
    assert champion_name("sentiment-fa", tmp_path) == "sent-b"
    _, card = load_champion("sentiment-en", tmp_path)
    assert card["name"] == "sent-a"
    table = list_models(tmp_path)
    assert list(table["name"]) == ["sent-a", "sent-b"]
    assert dict(zip(table["name"], table["champion_of"], strict=True)) == {
        "sent-a": "sentiment-en",
        "sent-b": "sentiment-fa",
    }
    history = json.loads((tmp_path / "registry.json").read_text())["history"]
    assert [h["name"] for h in history] == ["sent-a", "sent-b", "sent-a"]


def test_bad_names_roles_and_missing_models(tmp_path, small_model):
    with pytest.raises(ValueError, match="invalid model name"):
        save_model(small_model, "../escape", _card(), tmp_path)
    with pytest.raises(ValueError, match="unknown role"):
        promote("x", "churn", tmp_path)
    with pytest.raises(ModelNotFoundError, match="no model 'nope'"):
        load_model("nope", tmp_path)
    with pytest.raises(ModelNotFoundError):
        promote("nope", "topic", tmp_path)
    assert list_models(tmp_path / "empty").empty


def test_refuses_a_file_with_an_untrusted_function(tmp_path):
    # A model whose "transform" would call os.system on the input at predict time.
    evil = Pipeline([("f", FunctionTransformer(os.system)), ("m", LogisticRegression())])
    (tmp_path / "evil").mkdir()
    sio.dump(evil, tmp_path / "evil" / "model.skops")
    with pytest.raises(UntrustedModelError, match=r"posix\.system|allow-list"):
        load_model("evil", tmp_path)
    with pytest.raises(UntrustedModelError, match="builtins.len"):
        sio.dump(FunctionTransformer(len), tmp_path / "len.skops")
        registry.load_skops(tmp_path / "len.skops")


class NotAllowed(LogisticRegression):
    """A subclass from a module that is not on the allow-list."""


def test_refuses_an_unknown_class_and_non_skops_files(tmp_path):
    model = NotAllowed().fit(np.array([[0.0], [1.0]]), [0, 1])
    (tmp_path / "odd").mkdir()
    sio.dump(model, tmp_path / "odd" / "model.skops")
    with pytest.raises(UntrustedModelError, match="NotAllowed"):
        load_model("odd", tmp_path)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "model.skops").write_bytes(b"not a zip file")
    with pytest.raises(UntrustedModelError, match="not a readable skops file"):
        load_model("junk", tmp_path)


def test_allow_list_is_explicit():
    assert registry.is_trusted_type("cxtext.classify.features.TextPreparer")
    assert registry.is_trusted_type("cxtext.classify.topics.ThemeClassifier")
    assert not registry.is_trusted_type("cxtext.cli.models.evil")
    assert not registry.is_trusted_type("builtins.eval")
    assert not registry.is_trusted_type("sklearnx.Thing")
    assert not hasattr(registry, "register_trusted_type")  # no trust by import side effect
