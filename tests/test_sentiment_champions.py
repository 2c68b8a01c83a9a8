"""benchmarks/sentiment_champions.py judges each sentiment champion on the rows it was judged on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.sentiment_champions import english_split, persian_split

REPO = Path(__file__).resolve().parents[1]


def _card(role: str) -> dict:
    name = json.loads((REPO / "models" / "registry.json").read_text())["champions"][role]
    return json.loads((REPO / "models" / name / "card.json").read_text())


@pytest.mark.parametrize(("role", "split"), [("sentiment-en", english_split),
                                             ("sentiment-fa", persian_split)])  # fmt: skip
def test_the_rebuilt_split_is_the_champions_own(role, split, shared_datasets):
    (xtr, ytr, _), (xte, yte, groups) = split(shared_datasets)
    card = _card(role)
    assert (len(xtr), len(xte)) == (card["rows_train"], card["rows_eval"])
    assert len(ytr) == len(xtr) and len(yte) == len(xte) == len(groups)
    if role == "sentiment-fa":  # the per-dataset rows the card was judged on, too
        per_dataset = {g: groups.count(g) for g in set(groups)}
        assert per_dataset == {g: m["n"] for g, m in card["per_dataset"].items()}
