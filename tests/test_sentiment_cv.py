"""scripts/train_models.py chooses the Persian sentiment model's settings by CV on training rows."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from scripts.train_models import choose_by_cv

GOOD = ["عالی بود", "خیلی خوب بود", "خوشمزه و داغ", "سریع رسید ممنون", "کیفیت عالی"]
BAD = ["افتضاح بود", "سرد و دیر رسید", "اصلا خوب نبود", "بد بود پول هدر رفت", "خراب رسید"]


def _rows(n: int = 60) -> tuple[list[str], list[str]]:
    """Two positive rows for each negative one."""
    texts, labels = [], []
    for i in range(n):
        good = i % 3 != 0
        texts.append(f"{(GOOD if good else BAD)[i % 5]} سفارش {i}")
        labels.append("positive" if good else "negative")
    return texts, labels


def test_the_setting_with_the_best_out_of_fold_accuracy_is_chosen():
    """A C so small that every row gets the majority class (2 in 3) loses, though tried first."""
    texts, labels = _rows()
    chosen, record = choose_by_cv(
        texts, labels, "fa", {"min_df": 1}, [{"C": (1e-6, 10.0)}], cache=None
    )
    scores = {s["C"]: s["accuracy"] for s in record["scores"]}
    assert scores[10.0] > 0.9 > scores[1e-6]  # 0.667: all positive
    assert chosen == {"C": 10.0} == record["chosen"]
    assert record["rows"] == 60 and record["folds"] == 3


def test_stages_build_on_the_earlier_choice_and_ties_go_to_the_earlier_setting():
    texts, labels = _rows()
    stages = [{"C": (1e-6, 10.0, 20.0)}, {"features": ("tfidf", "tfidf+static")}]
    chosen, record = choose_by_cv(texts, labels, "fa", {"min_df": 1}, stages, cache=None)
    tried = record["scores"]
    assert [s.get("features", "tfidf") for s in tried] == ["tfidf"] * 3 + ["tfidf+static"]
    assert tried[1]["accuracy"] == tried[2]["accuracy"]  # separable: C 10 and 20 tie
    assert tried[3]["C"] == 10.0  # the second stage tries the static table at C 10
    assert chosen["C"] == 10.0
    best = max(s["accuracy"] for s in tried[1:])
    assert chosen.get("features", "tfidf") == (
        "tfidf" if tried[1]["accuracy"] == best else "tfidf+static"
    )


def test_out_of_fold_predictions_are_kept_on_disk(tmp_path, monkeypatch):
    """A second run with the same inputs refits nothing; other labels are another key."""
    texts, labels = _rows()
    grid = [{"C": (0.5, 10.0)}]
    first = choose_by_cv(texts, labels, "fa", {"min_df": 1}, grid, cache=tmp_path)
    assert len(list(tmp_path.glob("cv-*.npy"))) == 6  # 2 settings x 3 folds
    assert len(list(tmp_path.glob("prepared-*.json"))) == 1

    def no_fit(*args, **kwargs):
        raise AssertionError("refitted although cached")

    monkeypatch.setattr(LogisticRegression, "fit", no_fit)
    again = choose_by_cv(texts, labels, "fa", {"min_df": 1}, grid, cache=tmp_path)
    assert again[0] == first[0] and again[1]["scores"] == first[1]["scores"]
    flipped = ["negative" if y == "positive" else "positive" for y in labels]
    with pytest.raises(AssertionError, match="refitted"):
        choose_by_cv(texts, flipped, "fa", {"min_df": 1}, grid, cache=tmp_path)


def test_source_weights_reach_the_fit_and_each_source_is_scored(monkeypatch):
    """The source_weight stage fits with weights that even the sources' totals; the record
    holds every source's out-of-fold accuracy, and the metric asked for decides."""
    texts, labels = _rows()
    groups = ["big"] * 45 + ["small"] * 15
    seen = []
    real_fit = LogisticRegression.fit

    def fit(self, X, y, sample_weight=None):
        seen.append(sample_weight)
        return real_fit(self, X, y, sample_weight)

    monkeypatch.setattr(LogisticRegression, "fit", fit)
    stages = [{"C": (10.0,)}, {"source_weight": (0.0, 1.0)}]
    chosen, record = choose_by_cv(
        texts, labels, "fa", {"min_df": 1}, stages, None, groups, "source_mean_accuracy"
    )
    assert seen[:3] == [None] * 3  # exponent 0: no weights
    for weight in seen[3:]:  # exponent 1: the two sources' totals are equal in every fold
        values, counts = np.unique(weight, return_counts=True)
        assert len(values) == 2 and values @ [counts[0], -counts[1]] == pytest.approx(0)
    assert [sorted(s["per_source"]) for s in record["scores"]] == [["big", "small"]] * 2
    assert "source mean accuracy" in record["metric"]
    by_setting = {s.get("source_weight", 0.0): s["source_mean_accuracy"] for s in record["scores"]}
    assert by_setting[chosen.get("source_weight", 0.0)] == max(by_setting.values())


def test_a_raw_text_share_is_scored_from_both_members_probabilities(tmp_path):
    """raw_share 1 is the raw-text model alone, raw_share 0 the prepared one; both
    members' out-of-fold probabilities are kept, so a finer grid refits nothing."""
    texts, labels = _rows()
    stages = [{"C": (10.0,)}, {"raw_share": (0.0, 0.5, 1.0)}]
    _, record = choose_by_cv(texts, labels, "fa", {"min_df": 1}, stages, tmp_path)
    assert [s.get("raw_share", 0.0) for s in record["scores"]] == [0.0, 0.5, 1.0]
    assert len(list(tmp_path.glob("cvp-*.npy"))) == 6  # 2 members x 3 folds
    assert all(s["accuracy"] > 0.9 for s in record["scores"])  # separable either way
