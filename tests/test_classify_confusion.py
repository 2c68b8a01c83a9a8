"""The topic card's held-out confusion, pooled and per language."""

import numpy as np

from cxtext.classify.confusion import assignment_confusion, held_out_confusion
from cxtext.themes.taxonomy import load_taxonomy


def test_counts_per_language_add_up_to_the_pooled_ones():
    assigned = [{"late"}, {"late"}, set(), {"taste"}, {"taste"}, set(), set()]
    gold = [{"late"}, {"service"}, {"late"}, {"taste"}, {"quality"}, {"taste"}, {"quality"}]
    langs = ["en", "en", "en", "fa", "fa", "fa", "fa"]
    themes = ["late", "service", "taste", "quality"]
    c = assignment_confusion(assigned, gold, themes, languages=langs)
    by = c["by_language"]
    assert {lang: part["n"] for lang, part in by.items()} == {"en": 3, "fa": 4}
    for t in themes:
        for cell in ("tp", "fp", "fn", "tn"):
            assert (
                by["en"]["per_theme"][t][cell] + by["fa"]["per_theme"][t][cell]
                == (c["per_theme"][t][cell])
            )
    # the Persian theme's false-positive rate among Persian texts: 1 of 2, pooled 1 of 5
    fa = by["fa"]["per_theme"]["taste"]
    assert (fa["fp"], fa["fp"] + fa["tn"]) == (1, 2)
    pooled = c["per_theme"]["taste"]
    assert (pooled["fp"], pooled["fp"] + pooled["tn"]) == (1, 5)
    assert "by_language" not in assignment_confusion(assigned, gold, themes)  # no languages


class _NoModelVotes:
    """A topic model that never reaches the threshold: the seed keywords assign alone."""

    def __init__(self, ids):
        self.classes_ = np.array(ids)

    def predict_proba(self, texts):
        return np.zeros((len(texts), len(self.classes_)))


def test_held_out_confusion_splits_by_the_language_the_normalize_stage_detects():
    taxonomy = load_taxonomy("data/taxonomy.yaml")
    texts = [
        "The app keeps crashing when I open it",
        "My refund never arrived",
        "برنامه مدام بسته می‌شود و کرش می‌کند",
    ]
    gold = [["app_bugs"], ["payments_refunds"], ["app_bugs"]]
    c = held_out_confusion(_NoModelVotes(taxonomy.ids), texts, gold, taxonomy, threshold=0.5)
    assert {lang: part["n"] for lang, part in c["by_language"].items()} == {"en": 2, "fa": 1}
    en, fa = c["by_language"]["en"]["per_theme"], c["by_language"]["fa"]["per_theme"]
    assert en["app_bugs"]["tp"] + en["app_bugs"]["fn"] == 1
    assert fa["app_bugs"]["tp"] + fa["app_bugs"]["fn"] == 1
