"""A taxonomy from an organisation's own labels: one theme per label, keywords mined from its texts.

Each distinct label becomes a theme: an id slug ("Lost Luggage" -> ``lost_luggage``),
the label as its English (or, for a Persian label, Persian) name, and seed keywords
mined from the texts carrying that label. Keywords are the words and two-word phrases
most over-represented in a theme's texts compared with all the others, by the log-odds
ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin'
Words"): its z-score is large only for terms both frequent and specific to the theme,
so rare one-offs and words every theme uses are both left out. A z-score is not enough
on its own, though: the keyword tagger assigns a theme on the keyword alone, and a word
over-represented in a theme can still mostly appear in others' texts ("flight" in
cancelled-flight tweets, an airline's handle, colloquial Persian "اصلا"), above all when
the labelled file mixes languages or domains, so the others' rate is diluted. A keyword
is therefore also kept only if most labelled texts containing it carry the label
(``MIN_PRECISION``). Mined keywords are marked as such in the YAML for the user to review.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import yaml
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from cxtext.normalize.documents import normalize_text

_PERSIAN = re.compile("[\u0600-\u06ff]")
_SLUG = re.compile(r"[^\w]+")
_TOKEN = r"(?u)\b[^\W\d_][^\W\d]{2,}\b"  # words of 3+ letters, no numbers or placeholders
KEYWORD_PRIOR = 0.01  # Dirichlet prior per term, as a share of the whole corpus counts
MIN_DOCS = 2  # a keyword appears in at least this many of the theme's texts
# Share of the labelled texts containing a keyword that carry its label. The tagger fires
# on the keyword alone, and real feedback holds texts no label covers, so the labelled
# share overstates it: 0.7 keeps "delayed" (0.82 on airline tweets), "luggage" (0.74),
# "طعم" (0.87) and drops "flight" (0.26), "united" (0.11), "اصلا" (0.61). Measured on
# 3,041 labelled airline + Persian food texts, the themes assigned on a fresh export of
# 2,104 such texts: precision 0.12-0.55 -> 0.21-0.72, themes per text 1.61 -> 0.93.
MIN_PRECISION = 0.7


@dataclass(frozen=True)
class MinedTheme:
    id: str
    label: str
    rows: int
    keywords: dict[str, list[str]]  # "en"/"fa" -> keywords, best first


def slug(label: str) -> str:
    """A theme id from a label: lower-case words joined by ``_``.

    Examples
    --------
    >>> slug("Lost Luggage"), slug("Cancelled Flight"), slug("  Customer-Service Issue ")
    ('lost_luggage', 'cancelled_flight', 'customer_service_issue')
    """
    return _SLUG.sub("_", label.strip().lower()).strip("_") or "theme"


def _stop_words() -> frozenset[str]:
    from hazm import stopwords_list  # noqa: PLC0415

    return frozenset(ENGLISH_STOP_WORDS) | frozenset(stopwords_list())


def mine_keywords(
    texts: Sequence[str], labels: Sequence[Sequence[str]], *, top: int = 8
) -> dict[str, list[tuple[str, float]]]:
    """Per label: up to ``top`` (keyword, z-score) pairs, the most label-specific first.

    ``texts`` are normalized as the nightly flow stores them (hazm for Persian), so a
    keyword is written the way the keyword tagger will meet it.
    """
    docs = [normalize_text(str(t))[1].lower() for t in texts]
    # Stop words are dropped after counting, so a phrase is always words that stood
    # side by side in a text (removing them first would join "late" and "cold" across "and").
    vectorizer = CountVectorizer(
        token_pattern=_TOKEN, ngram_range=(1, 2), min_df=MIN_DOCS, binary=True, lowercase=False
    )
    try:
        counts = vectorizer.fit_transform(docs).tocsc()
    except ValueError:  # no term in at least MIN_DOCS texts
        return {label: [] for doc in labels for label in doc}
    terms = vectorizer.get_feature_names_out()
    stop = _stop_words()
    content = np.array([not any(w in stop for w in t.split()) for t in terms])
    total = np.asarray(counts.sum(axis=0)).ravel().astype(float)
    prior = KEYWORD_PRIOR * total + 1e-3
    a0 = prior.sum()
    out: dict[str, list[tuple[str, float]]] = {}
    for label in sorted({lab for doc in labels for lab in doc}):
        mask = np.array([label in doc for doc in labels])
        y_i = np.asarray(counts[mask].sum(axis=0)).ravel().astype(float)
        y_j = total - y_i
        n_i, n_j = y_i.sum(), y_j.sum()
        delta = np.log((y_i + prior) / (n_i + a0 - y_i - prior)) - np.log(
            (y_j + prior) / (n_j + a0 - y_j - prior)
        )
        z = delta / np.sqrt(1.0 / (y_i + prior) + 1.0 / (y_j + prior))
        order = np.argsort(-z)
        chosen: list[tuple[str, float]] = []
        for j in order:
            if z[j] <= 1.96 or len(chosen) >= top:  # over-represented at the 5% level
                break
            if (
                not content[j]
                or y_i[j] < MIN_DOCS
                or y_i[j] < MIN_PRECISION * total[j]
                or any(terms[j] in kw.split() for kw, _ in chosen)
            ):
                continue
            chosen.append((str(terms[j]), round(float(z[j]), 2)))
        out[label] = chosen
    return out


def themes_from_labels(
    texts: Sequence[str], labels: Sequence[Sequence[str]], *, top: int = 8
) -> list[MinedTheme]:
    """One :class:`MinedTheme` per distinct label, most frequent label first."""
    mined = mine_keywords(texts, labels, top=top)
    counts: dict[str, int] = {}
    for doc in labels:
        for lab in doc:
            counts[lab] = counts.get(lab, 0) + 1
    themes, used = [], set()
    for label in sorted(counts, key=lambda lab: (-counts[lab], lab)):
        base = slug(label)
        theme_id, n = base, 2
        while theme_id in used:
            theme_id, n = f"{base}_{n}", n + 1
        used.add(theme_id)
        keywords: dict[str, list[str]] = {"en": [], "fa": []}
        for kw, _ in mined.get(label, []):
            keywords["fa" if _PERSIAN.search(kw) else "en"].append(kw)
        themes.append(MinedTheme(theme_id, label, counts[label], keywords))
    return themes


def taxonomy_yaml(themes: Sequence[MinedTheme], source: str) -> str:
    """The taxonomy file for ``themes``, commented for the user who will review it."""
    lines = [
        f"# Taxonomy made by `cxtext taxonomy init --from-labels {source}`: one theme per label.",
        "# Review it: write the label in the other language (a copy until you do: TODO),",
        "# and prune the seed keywords. Keywords marked `keywords_mined: true` were mined from",
        "# the labelled texts (log-odds z-score of a word in the theme's texts vs the others,",
        f"# and at least {MIN_PRECISION:.0%} of the labelled texts containing it carry the label);",
        "# a document gets the theme whenever one of them occurs, whatever the topic model says.",
        "version: 1",
        "themes:",
    ]
    for theme in themes:
        persian = bool(_PERSIAN.search(theme.label))
        entry = {
            "id": theme.id,
            "label_en": theme.label,
            "label_fa": theme.label,
            "description": f"Label {theme.label!r} ({theme.rows} labelled rows in {source}).",
            "keywords_mined": True,
            "keywords": {k: v for k, v in theme.keywords.items() if v},
        }
        block = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=100)
        todo = "label_en" if persian else "label_fa"  # the name left for the user to write
        block = "\n".join(
            f"{line}  # TODO: the {'English' if persian else 'Persian'} label"
            if line.lstrip("- ").startswith(f"{todo}:")
            else line
            for line in block.splitlines()
        )
        lines += ["  " + line if line else line for line in block.splitlines()]
    return "\n".join(lines) + "\n"


def theme_ids_for(
    labels: Sequence[Sequence[str]], theme_ids: Sequence[str], theme_labels: dict[str, str]
) -> tuple[list[list[str]], list[str]]:
    """Labels mapped to theme ids, and the labels that match no theme.

    A label matches a theme by its id, by its slug ("Lost Luggage" -> ``lost_luggage``)
    or by one of its names (case and spaces ignored); ``theme_labels`` maps each name
    to its theme id.

    Examples
    --------
    >>> theme_ids_for([["Lost Luggage"], ["late_flight", "Refund"]],
    ...               ["lost_luggage", "late_flight"], {"lost luggage": "lost_luggage"})
    ([['lost_luggage'], ['late_flight']], ['Refund'])
    """
    ids = set(theme_ids)
    names = {k.strip().lower(): v for k, v in theme_labels.items()}
    mapped, unknown = [], []
    for doc in labels:
        row = []
        for label in doc:
            theme = (
                label
                if label in ids
                else slug(label)
                if slug(label) in ids
                else names.get(label.strip().lower())
            )
            if theme is None:
                if label not in unknown:
                    unknown.append(label)
            elif theme not in row:
                row.append(theme)
        mapped.append(row)
    return mapped, unknown
