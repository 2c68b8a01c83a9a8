"""Training, evaluation, splitting, prediction on hostile input and the promotion rule."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxtext.classify.evaluation import (
    evaluate_model,
    held_out_split,
    parse_labels,
    prediction_errors,
    split_indices,
)
from cxtext.classify.prediction import predict_table
from cxtext.classify.promotion import comparison_markdown, decide_promotion
from cxtext.classify.registry import load_model, save_model
from cxtext.classify.sentiment import NBLogisticRegression, build_sentiment_model
from cxtext.classify.training import (
    clean_labelled,
    source_weights,
    train_and_evaluate,
    train_model,
)

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def sentiment_frame() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "sentiment_small.csv")


@pytest.fixture(scope="module")
def trained(sentiment_frame):
    return train_and_evaluate(
        sentiment_frame["text"],
        sentiment_frame["sentiment"],
        task="sentiment",
        lang="auto",
        groups=sentiment_frame["language"],
    )


def test_split_is_fixed_and_stratified():
    labels = ["a"] * 80 + ["b"] * 20
    first = split_indices(labels, test_size=0.2, seed=42)
    second = split_indices(labels, test_size=0.2, seed=42)
    np.testing.assert_array_equal(first[1], second[1])
    assert sorted(labels[i] for i in first[1]).count("b") == 4
    assert set(first[0]).isdisjoint(first[1])
    # a class with one row cannot be stratified: falls back to a plain split
    train, test = split_indices(["a"] * 9 + ["b"], test_size=0.2)
    assert len(train) + len(test) == 10
    tr_x, te_x, tr_y, te_y = held_out_split(list(range(100)), labels)
    assert len(te_x) == 20 and te_y.count("b") == 4


def test_parse_labels_formats():
    assert parse_labels("a|b") == ["a", "b"]
    assert parse_labels('["a", "b"]') == ["a", "b"]
    assert parse_labels(["a", " "]) == ["a"]
    assert parse_labels(None) == parse_labels("") == parse_labels(float("nan")) == []


def test_clean_labelled_drops_unusable_rows():
    data = clean_labelled(["good", "", None, "bad"], ["positive", "negative", "x", ""])
    assert data.texts == ["good"] and data.dropped == 3 and data.languages == ["en"]


def test_train_and_evaluate_round_trip(trained):
    metrics = trained.metrics
    assert metrics["accuracy"] > 0.8
    assert set(metrics["per_class"]) == {"negative", "neutral", "positive"}
    assert set(metrics["per_language"]) == {"fa", "en"}
    matrix = np.array(metrics["confusion"]["matrix"])
    assert matrix.sum() == metrics["n"] == len(trained.test.texts)
    card = trained.card
    assert card["rows_train"] + card["rows_eval"] == 300
    assert set(card["per_dataset"]) == {"fa", "en"}
    assert card["throughput_docs_per_s"] > 0 and card["training_seconds"] > 0
    assert card["labels"] == ["negative", "neutral", "positive"]
    json.dumps(card)  # a card is plain JSON


def test_model_reads_negation(trained):
    model = trained.model
    assert model.predict(["the food was not good"])[0] == "negative"
    assert model.predict(["غذا خوب نبود"])[0] == "negative"
    assert model.predict(["غذا عالی بود"])[0] == "positive"


def test_prediction_errors_lists_misses(trained):
    errors = prediction_errors(trained.model, ["great", "terrible"], ["negative", "negative"])
    assert list(errors["text"]) == ["great"]


def test_predict_table_keeps_rows_on_hostile_input(trained):
    hostile = [
        "great food",
        None,
        "",
        "   ",
        float("nan"),
        12345,
        "😡😡😡",
        "x" * 100_000,
        "<html><script>alert(1)</script><b>غذا سرد بود</b></html>",
        "\x00\x01 broken \ufffe",
    ]
    out = predict_table(trained.model, hostile)
    assert len(out) == len(hostile)
    assert list(out["prediction_reason"][:6]) == [
        "",
        "missing text",
        "empty text",
        "empty text",
        "missing text",
        "not text (int)",
    ]
    assert out["prediction"][1] == "" and pd.isna(out["probability"][1])
    assert (out["prediction"][[0, 6, 7, 8, 9]] != "").all()
    probs = out[["proba_negative", "proba_neutral", "proba_positive"]].iloc[[0, 6, 7, 8, 9]]
    np.testing.assert_allclose(probs.sum(axis=1).astype(float), 1.0)


def test_topic_training_is_multilabel():
    frame = pd.read_csv(FIXTURES / "topics_small.csv")
    result = train_and_evaluate(frame["text"], frame["topic"], task="topic", lang="auto")
    metrics = result.metrics
    assert metrics["multilabel"] is True
    assert metrics["micro_f1"] > 0.8 and "subset_accuracy" in metrics
    assert set(metrics["per_class"]) == {"app", "delivery", "price"}
    out = predict_table(result.model, ["the app crashes and it is too expensive", None])
    assert set(out["prediction"][0].split("|")) == {"app", "price"}
    assert set(json.loads(out["probability"][0])) == {"app", "delivery", "price"}
    again = evaluate_model(result.model, ["delivery took two hours"], ["delivery"])
    assert again["multilabel"] is True and again["subset_accuracy"] == 1.0


def test_train_model_rejects_bad_input():
    with pytest.raises(ValueError, match="two labels"):
        train_model(["a b", "c d"], ["x", "x"], task="sentiment")
    with pytest.raises(ValueError, match="unknown task"):
        train_model(["a"], ["x"], task="churn")
    with pytest.raises(ValueError, match="no trainable rows"):
        train_model(["", None], ["x", "y"], task="sentiment")


def test_nb_logistic_regression_binary_and_multiclass(sentiment_frame):
    model = build_sentiment_model("auto", classifier="nblr", min_df=1)
    model.fit(sentiment_frame["text"], sentiment_frame["sentiment"])
    proba = model.predict_proba(["great", "terrible", "where is my order?"])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert model.predict(["غذا افتضاح بود"])[0] == "negative"
    binary = NBLogisticRegression().fit(np.array([[1.0, 0], [0, 1.0]]), ["n", "p"])
    assert binary.predict_proba(np.array([[0, 1.0]])).shape == (1, 2)


@pytest.mark.parametrize(
    ("champion", "challenger", "margin", "promoted"),
    [
        (0.80, 0.81, 0.005, True),  # better by more than the margin
        (0.80, 0.805, 0.005, True),  # exactly the margin
        (0.80, 0.803, 0.005, False),  # better, but under the margin
        (0.80, 0.79, 0.005, False),  # worse
        (0.80, 0.80, 0.005, False),  # tie
        (0.80, 0.80, 0.0, False),  # a tie never promotes, even without a margin
        (0.80, 0.8001, 0.0, True),
    ],
)
def test_promotion_rule(champion, challenger, margin, promoted):
    decision = decide_promotion(
        {"macro_f1": champion}, {"macro_f1": challenger}, metric="macro_f1", margin=margin
    )
    assert decision.promote is promoted
    assert decision.champion_score == champion


def test_promotion_without_champion_and_bad_input():
    assert decide_promotion(None, {"macro_f1": 0.1}).promote
    assert not decide_promotion(None, {"macro_f1": float("nan")}).promote
    with pytest.raises(KeyError):
        decide_promotion(None, {"accuracy": 0.9}, metric="macro_f1")
    with pytest.raises(ValueError):
        decide_promotion(None, {"macro_f1": 0.9}, margin=-1)


def test_comparison_markdown():
    old = {"accuracy": 0.8, "macro_f1": 0.7, "per_language": {"fa": {"macro_f1": 0.7}}}
    new = {"accuracy": 0.82, "macro_f1": 0.75, "per_language": {"fa": {"macro_f1": 0.75}}}
    decision = decide_promotion(old, new)
    text = comparison_markdown(
        decision,
        role="sentiment-fa",
        challenger_name="b",
        challenger_metrics=new,
        champion_name="a",
        champion_metrics=old,
        held_out_rows=10,
    )
    assert "**promoted**" in text and "| macro_f1 | 0.7000 | 0.7500 | +0.0500 |" in text
    assert "| fa | 0.7000 | 0.7500 |" in text


def test_source_weights_give_each_source_the_same_total_at_exponent_one():
    groups = ["big"] * 30 + ["small"] * 10
    even = source_weights(groups, 1.0)
    assert even.mean() == pytest.approx(1.0)
    assert even[:30].sum() == pytest.approx(even[30:].sum())
    assert source_weights(groups, 0.0).tolist() == [1.0] * 40
    half = source_weights(groups, 0.5)
    assert even[0] < half[0] < 1.0 < half[-1] < even[-1]


def test_sample_weights_decide_between_contradicting_rows():
    """The same words labelled both ways: the heavier rows win, whichever they are."""
    texts = ["great service"] * 10 + ["awful service"] * 10
    labels = ["positive"] * 5 + ["negative"] * 5 + ["negative"] * 10
    params = {"min_df": 1}
    for heavy, expected in ((0, "positive"), (5, "negative")):
        weight = np.full(len(texts), 0.01)
        weight[heavy : heavy + 5] = 1.0
        weight[10:] = 1.0
        model = train_model(texts, labels, lang="en", params=params, sample_weight=weight)
        assert model.predict(["great service"]).tolist() == [expected]
    with pytest.raises(ValueError, match="sample_weight"):
        train_model(["great", "", "bad"], ["positive", "negative", "negative"], lang="en",
                    sample_weight=[1, 1, 1])  # fmt: skip


def test_raw_text_fusion_round_trips_and_averages_its_members(sentiment_frame, tmp_path):
    """raw_share fits a raw-text model beside and averages the two; saved, it loads and
    predicts the same (skops' trusted types only)."""
    texts, labels = sentiment_frame["text"].tolist(), sentiment_frame["sentiment"].tolist()
    params = {"min_df": 1, "C": 2.0}
    alone = train_model(texts, labels, lang="auto", params=params)
    fused = train_model(texts, labels, lang="auto", params={**params, "raw_share": 0.3})
    prepared, raw = (fused.named_estimators_[n].estimator for n in ("prepared", "raw"))
    probe = ["the app crashes every time", "عالی بود ممنون", "ok"]
    expected = 0.7 * prepared.predict_proba(probe) + 0.3 * raw.predict_proba(probe)
    assert fused.predict_proba(probe) == pytest.approx(expected)
    assert prepared.predict_proba(probe) == pytest.approx(alone.predict_proba(probe))
    save_model(fused, "fused", {"task": "sentiment"}, tmp_path)
    loaded, _ = load_model("fused", tmp_path)
    assert loaded.predict_proba(probe) == pytest.approx(fused.predict_proba(probe))
    with pytest.raises(ValueError, match="raw_share"):
        train_model(texts, labels, task="sentiment", params={**params, "raw_share": 0.3,
                                                             "features": "tfidf+static"})  # fmt: skip
