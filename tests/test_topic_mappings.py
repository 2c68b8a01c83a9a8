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


def _promotion_of(registry: dict, name: str) -> dict | None:
    """The registry's latest entry that made ``name`` the topic champion."""
    entries = [h for h in registry["history"] if h["role"] == "topic" and h["name"] == name]
    return entries[-1] if entries else None


def test_shipped_topic_champion_was_promoted_by_a_rule_not_forced():
    registry = json.loads((ROOT / "models" / "registry.json").read_text())
    champion = registry["champions"]["topic"]
    card = json.loads((ROOT / "models" / champion / "card.json").read_text())
    assert card["params"]["encoder_languages"] == "en" and card["params"]["fusion"] == "late"
    entry = _promotion_of(registry, champion)
    assert entry is not None and not entry.get("forced", False)
    if "comparison" in entry:  # `cxtext models promote`: not below the champion it replaced
        assert entry["comparison"]["challenger"] >= entry["comparison"]["champion"]
    else:  # the training script's rule: both of its decisions said promote
        decisions = card["promotion"]["decisions"]
        assert all(d["promote"] for d in decisions.values()) and card["promotion"]["promoted"]


def test_the_scripts_challenger_records_both_decisions_and_is_champion_only_by_a_rule():
    card = json.loads((ROOT / "models" / NAME / "card.json").read_text())
    decisions = card["promotion"]["decisions"]
    assert set(decisions) == {"champion's rows", "mapped labelled rows"}
    assert card["promotion"]["promoted"] == all(d["promote"] for d in decisions.values())
    registry = json.loads((ROOT / "models" / "registry.json").read_text())
    if registry["champions"]["topic"] == NAME:
        entry = _promotion_of(registry, NAME)
        assert card["promotion"]["promoted"] or (entry and not entry.get("forced", False))
    assert card["label_mappings"]["parsinlu"] == {k: list(v) for k, v in PARSINLU_THEMES.items()}
