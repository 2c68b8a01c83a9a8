"""The theme taxonomy: ids, English and Persian labels, seed keywords per language.

Read from ``data/taxonomy.yaml`` (see that file for the format). Seed keywords are
matched on normalized text, so Persian keywords go through the same hazm normalizer
as the documents and "پشتيباني" in a keyword list still matches "پشتیبانی".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from cxtext.normalize.english import normalize_english
from cxtext.normalize.persian import normalize_persian


@dataclass(frozen=True)
class Theme:
    id: str
    label_en: str
    label_fa: str
    keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language -> phrases
    description: str = ""
    churn_prior: float | None = None  # overrides settings' churn_uplift_prior for this theme
    owner: str | None = None  # the team that acts on it and follows up with its customers


@dataclass(frozen=True)
class Taxonomy:
    themes: tuple[Theme, ...]

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]

    @property
    def owners(self) -> dict[str, str]:
        """Theme id -> owning team, for the themes that name one."""
        return {t.id: t.owner for t in self.themes if t.owner}

    def __getitem__(self, theme_id: str) -> Theme:
        for t in self.themes:
            if t.id == theme_id:
                return t
        raise KeyError(f"theme {theme_id!r} is not in the taxonomy (known: {', '.join(self.ids)})")


def parse_taxonomy(data: dict, origin: str = "taxonomy") -> Taxonomy:
    """A :class:`Taxonomy` from the YAML's mapping; errors name the theme and the field."""
    themes = []
    seen: set[str] = set()
    for i, entry in enumerate(data.get("themes") or []):
        where = f"{origin}: theme #{i + 1}"
        for required in ("id", "label_en", "label_fa"):
            if not entry.get(required):
                raise ValueError(f"{where} has no {required!r}")
        if entry["id"] in seen:
            raise ValueError(f"{where}: duplicate id {entry['id']!r}")
        seen.add(entry["id"])
        raw_keywords = entry.get("keywords") or {}
        keywords = {
            "fa": tuple(normalize_persian(k) for k in raw_keywords.get("fa", [])),
            "en": tuple(normalize_english(k).lower() for k in raw_keywords.get("en", [])),
        }
        prior = entry.get("churn_prior")
        themes.append(
            Theme(
                id=str(entry["id"]),
                label_en=str(entry["label_en"]),
                label_fa=str(entry["label_fa"]),
                keywords=keywords,
                description=str(entry.get("description", "")),
                churn_prior=float(prior) if prior is not None else None,
                owner=str(entry["owner"]).strip() or None if entry.get("owner") else None,
            )
        )
    if not themes:
        raise ValueError(f"{origin}: no themes defined")
    return Taxonomy(tuple(themes))


def load_taxonomy(path: Path) -> Taxonomy:
    """Read and check a taxonomy file.

    Parsed once per process for the same bytes: a run reads it in three places (its
    pre-flight check, the flow, the classifiers), ~0.08 CPU-s each (YAML and the
    keywords' normalization), a tenth of a 1%-new night's fixed cost.
    """
    return _parsed(Path(path).read_bytes(), str(path))


@lru_cache(maxsize=8)
def _parsed(content: bytes, origin: str) -> Taxonomy:
    return parse_taxonomy(yaml.safe_load(content.decode("utf-8")) or {}, origin)
