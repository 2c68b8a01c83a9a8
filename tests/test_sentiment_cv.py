"""scripts/train_models.py chooses the Persian sentiment model's settings by CV on training rows."""

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
