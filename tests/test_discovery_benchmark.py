"""The discovery benchmark's scoring (benchmarks/discovery_quality.py): found, split,
purity, recall, linked and other candidates, on a hand-made window (no datasets)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.discovery_quality import COMPOSED, Plant, composed, score  # noqa: E402


def test_scores_a_split_theme_a_linked_theme_and_background_candidates():
    rows = (
        [("en", "wallet", "A")] * 6  # wallet, English: two candidates (A, B), one stray
        + [("en", "wallet", "B")] * 3
        + [("en", "wallet", None)]
        + [("fa", "wallet", "A")] * 4  # the same theme in Persian, in candidate A: linked
        + [("en", "", "B")]  # one background document in B: purity 3/4
        + [("fa", "books", None)] * 5  # a Persian theme never found
        + [("en", "", "C")] * 5  # a background candidate
    )
    df = pd.DataFrame(rows, columns=["planted_language", "truth", "cand"])
    plants = [
        Plant("wallet", ("en", "fa"), composed("wallet_topup")),
        Plant("books", ("fa",), composed("promo_code")),
    ]
    result, other = score(df, df["cand"], plants)
    by = {(r["theme"], r["lang"]): r for r in result}
    en, fa, books = by["wallet", "en"], by["wallet", "fa"], by["books", "fa"]
    assert en["found"] and en["split"] == 2 and en["recall"] == 0.9
    assert en["purity"] == round(9 / 10, 3) and en["linked"]
    assert fa["found"] and fa["split"] == 1 and fa["recall"] == 1.0 and fa["linked"]
    assert not books["found"] and books["recall"] == 0.0 and books["linked"] is None
    assert other == 1


def test_composed_themes_have_every_phrasing_in_both_languages():
    for name, (en_subjects, en_problems, fa_subjects, fa_problems) in COMPOSED.items():
        texts = composed(name)
        english, persian = set(texts("en")), set(texts("fa"))
        assert len(english) >= len(en_subjects) * len(en_problems)
        assert len(persian) >= len(fa_subjects) * len(fa_problems)
        assert all(any(s in t for s in fa_subjects) for t in persian)
