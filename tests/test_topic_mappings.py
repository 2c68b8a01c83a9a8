"""The label mappings behind the topic champion point at themes of the shipped taxonomy."""

from __future__ import annotations

import json
from pathlib import Path

from cxtext.themes.taxonomy import load_taxonomy
from scripts.train_topic_mapped import AIRLINE_THEMES, NAME, PARSINLU_THEMES
from scripts.train_topic_model import BANKING77_THEMES, BITEXT_THEMES

ROOT = Path(__file__).resolve().parents[1]


def test_every_mapped_label_is_a_theme_of_the_taxonomy():
    themes = set(load_taxonomy(ROOT / "data" / "taxonomy.yaml").ids)
    for mapping in (AIRLINE_THEMES, BANKING77_THEMES, BITEXT_THEMES, PARSINLU_THEMES):
        targets = {t for v in mapping.values() for t in v}
        assert targets <= themes, targets - themes
    # reasons no theme describes stay unmapped (not forced onto the nearest theme)
    assert not {"Late Flight", "Bad Flight", "Can't Tell"} & set(AIRLINE_THEMES)


def test_shipped_topic_champion_records_its_english_only_encoder_and_both_decisions():
    registry = json.loads((ROOT / "models" / "registry.json").read_text())
    champion = registry["champions"]["topic"]
    card = json.loads((ROOT / "models" / champion / "card.json").read_text())
    assert card["params"]["encoder_languages"] == "en" and card["params"]["fusion"] == "late"
    decisions = card["promotion"]["decisions"]
    assert set(decisions) == {"champion's rows", "mapped labelled rows"}
    assert all(d["promote"] for d in decisions.values()) and card["promotion"]["promoted"]


def test_the_scripts_challenger_is_promoted_only_if_both_decisions_say_so():
    card = json.loads((ROOT / "models" / NAME / "card.json").read_text())
    decisions = card["promotion"]["decisions"]
    assert set(decisions) == {"champion's rows", "mapped labelled rows"}
    promoted = all(d["promote"] for d in decisions.values())
    assert card["promotion"]["promoted"] == promoted
    registry = json.loads((ROOT / "models" / "registry.json").read_text())
    assert (registry["champions"]["topic"] == NAME) == promoted
    assert card["label_mappings"]["parsinlu"] == {k: list(v) for k, v in PARSINLU_THEMES.items()}
