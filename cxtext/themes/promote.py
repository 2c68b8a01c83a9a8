"""Adopting a discovered theme into the taxonomy file, comments and layout kept.

The new theme is appended as a YAML block at the end of the file (``themes:`` is its
last key), then the whole file is parsed again: a file that would not load, or an id
already in use, leaves the taxonomy untouched.
"""

from __future__ import annotations

import re

import yaml

from cxtext.themes.taxonomy import parse_taxonomy

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def promote_candidate(
    taxonomy_text: str,
    *,
    theme_id: str,
    label_en: str,
    label_fa: str,
    keywords: dict[str, list[str]],
    origin: str,
    owner: str | None = None,
) -> str:
    """The taxonomy file's text with the candidate appended as a theme seeded by its keywords.

    ``origin`` (e.g. "discovered theme new_en_1a2b3c, 2026-11-20") goes into the
    description, so a reader of the taxonomy knows where the theme came from.
    """
    if not _ID.match(theme_id):
        raise ValueError(f"theme id {theme_id!r}: use lower-case snake_case such as crypto_rewards")
    current = parse_taxonomy(yaml.safe_load(taxonomy_text) or {}, "taxonomy")
    if theme_id in current.ids:
        raise ValueError(f"theme id {theme_id!r} is already in the taxonomy")
    seeds = {lang: list(words) for lang, words in keywords.items() if words}
    if not seeds:
        raise ValueError(f"{origin}: no keywords to seed the theme with")
    entry = {
        "id": theme_id,
        "label_en": label_en,
        "label_fa": label_fa,
        "description": f"Promoted from {origin}.",
        **({"owner": owner} if owner else {}),
        "keywords": seeds,
    }
    block = yaml.safe_dump(
        [entry], allow_unicode=True, sort_keys=False, default_flow_style=None, width=88
    )
    indented = "".join(f"  {line}" if line.strip() else line for line in block.splitlines(True))
    text = taxonomy_text.rstrip("\n") + "\n\n" + indented
    updated = parse_taxonomy(yaml.safe_load(text) or {}, "taxonomy")
    if updated.ids != [*current.ids, theme_id]:
        raise ValueError(
            "the taxonomy file does not end with its themes list; add the theme by hand"
        )
    return text
