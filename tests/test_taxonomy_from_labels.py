"""Mining a taxonomy from labels: one theme per label, discriminative keywords, nothing invented."""

from __future__ import annotations

import yaml

from cxtext.themes.from_labels import taxonomy_yaml, theme_ids_for, themes_from_labels
from cxtext.themes.taxonomy import parse_taxonomy

FA = ["غذا خیلی دیر رسید و سرد بود", "پیک دیر اومد", "ارسال خیلی طول کشید",
      "کیفیت غذا افتضاح بود", "غذا شور بود و کیفیت نداشت", "طعم غذا بد بود"] * 20  # fmt: skip
FA_LABELS = ([["تاخیر ارسال"]] * 3 + [["کیفیت غذا"]] * 3) * 20


def test_keywords_are_specific_words_or_adjacent_phrases_never_stop_words():
    themes = {t.label: t for t in themes_from_labels(FA, FA_LABELS)}
    late = themes["تاخیر ارسال"].keywords["fa"]
    quality = themes["کیفیت غذا"].keywords["fa"]
    assert "دیر" in late and "کیفیت" in quality and not set(late) & set(quality)
    for kw in late + quality:
        assert any(kw in text for text in FA), kw  # a phrase that really occurs
        assert not {"و", "بود", "خیلی"} & set(kw.split())


def test_yaml_loads_marks_mined_keywords_and_leaves_the_other_label_to_the_user():
    text = taxonomy_yaml(themes_from_labels(FA, FA_LABELS), "fa.csv")
    taxonomy = parse_taxonomy(yaml.safe_load(text))
    assert taxonomy.ids == ["تاخیر_ارسال", "کیفیت_غذا"]
    assert text.count("\n    keywords_mined: true") == 2
    assert text.count("# TODO: the English label") == 2
    en = taxonomy_yaml(themes_from_labels(["bag lost"] * 4, [["Lost Luggage"]] * 4), "en.csv")
    assert "label_fa: Lost Luggage  # TODO: the Persian label" in en


def test_labels_match_themes_by_id_slug_or_name():
    mapped, unknown = theme_ids_for(
        [["Lost Luggage"], ["late_flight"], ["LATE FLIGHT", "Refund"]],
        ["lost_luggage", "late_flight"],
        {"Late Flight": "late_flight"},
    )
    assert mapped == [["lost_luggage"], ["late_flight"], ["late_flight"]]
    assert unknown == ["Refund"]


def test_a_word_mostly_in_other_labels_texts_is_no_keyword_even_if_over_represented():
    # "flight" is in every cancelled-flight text but also in most late-flight ones; the
    # Persian texts dilute the others' rate, so its z-score alone would keep it, and the
    # keyword tagger would then tag every "flight" tweet as cancelled.
    en = ["flight cancelled today", "my flight was cancelled", "cancelled flight again"] * 10
    late = ["flight delayed two hours", "delayed again", "my flight is late"] * 10
    texts, labels = en + late + FA, [["Cancelled"]] * 30 + [["Late"]] * 30 + FA_LABELS
    keywords = {t.label: t.keywords["en"] for t in themes_from_labels(texts, labels)}
    assert "cancelled" in keywords["Cancelled"] and "delayed" in keywords["Late"]
    assert "flight" not in keywords["Cancelled"], keywords  # 30 of its 50 texts: 0.6 < 0.7
