"""Discovery of new themes among documents that no taxonomy theme claims.

A document is *unclaimed* when the topic stage gave it no theme (none reached the
topic threshold). Unclaimed documents of a window are clustered per language group —
``fa``, ``en``, and ``mixed`` (mixed-script text, clustered jointly over both scripts'
vocabularies) — on word and character n-gram TF-IDF reduced with truncated SVD, by
HDBSCAN, which chooses the number of clusters itself and leaves stray documents as
noise. Each cluster becomes a candidate theme whose keywords are the words most
over-represented in it against the rest of its group (a class-based TF-IDF, as in
BERTopic). A candidate keeps the id of the previous window's candidate whose keywords
it shares most (Jaccard at least ``match_overlap``), so the id a team discusses today
is the one they see tomorrow; otherwise it is new.

Valuing candidates is not done here: :func:`candidate_feedback` rewrites the documents
as mentions of their candidate so that the very functions that value taxonomy themes
(``value.uplift`` and ``painpoints.rank``) value the candidates too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from hazm import stopwords_list
from scipy import sparse
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist
from sklearn.cluster._hdbscan._tree import tree_to_labels
from sklearn.cluster._hdbscan.hdbscan import _process_mst, mst_from_data_matrix
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfVectorizer
from sklearn.metrics import DistanceMetric
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from cxtext.classify.encoder import embed_texts
from cxtext.config import DiscoverySettings
from cxtext.errors import ModelError
from cxtext.schema import DISCOVERED_THEMES, conform, utc_timestamp
from cxtext.themes.taxonomy import Taxonomy, Theme

GROUPS = {"fa": ("fa",), "en": ("en",), "mixed": ("mixed", "other")}
_PERSIAN = re.compile(r"[\u0600-\u06FF]")
# A word starts with a letter; Persian words keep their zero-width non-joiner ("می‌کنه").
_WORD = r"(?u)[^\W\d_][\w\u200c]*"
# A keyword has two letters at least: "t" of "can't" named a candidate (own-data check)
_KEYWORD = r"(?u)[^\W\d_][\w\u200c]+"
# Redaction placeholders ("[EMAIL]") are not what a theme is about.
_PLACEHOLDERS = {"email", "url", "iban", "phone", "card", "national_id", "number"}
# Linking languages embeds at most 16 documents per candidate and 200 per language (the
# neighbourhood each centroid is scaled by, its 20 nearest): a few CPU-seconds a window.
LINK_SAMPLE = (16, 200)
LINK_NEIGHBOURS = 20


@dataclass
class Discovery:
    """Candidates (without figures) and each unclaimed document's candidate."""

    candidates: pd.DataFrame  # theme_id, language, keywords (dict), size, first_seen, is_new
    assignments: pd.DataFrame  # source, id, candidate_theme (NA: noise or claimed)
    notes: list[str]  # what was skipped and why, for the run record


def unclaimed(feedback: pd.DataFrame) -> np.ndarray:
    """True for documents the topic stage gave no theme."""
    if "topics" not in feedback.columns:
        return np.ones(len(feedback), dtype=bool)

    def empty(value: object) -> bool:
        if not isinstance(value, str) or not value.strip():
            return True
        try:
            parsed = json.loads(value)
        except ValueError:
            return True
        return not parsed

    return np.array([empty(v) for v in feedback["topics"].tolist()], dtype=bool)


@cache
def _stop_words(group: str) -> list[str]:
    # hazm's list is already as the normalize stage writes Persian (tested), so it is
    # not put through hazm's Normalizer, whose construction costs ~1.3 CPU-s.
    fa = set(stopwords_list())
    words = set(_PLACEHOLDERS)
    if group in ("fa", "mixed"):
        words |= fa
    if group in ("en", "mixed"):
        words |= set(ENGLISH_STOP_WORDS)
    return sorted(words)


def _fit_vectors(
    texts: list[str], components: int, group: str
) -> tuple[np.ndarray, Callable[[list[str]], np.ndarray]]:
    """Word (1-2) and character (3-5) n-gram TF-IDF reduced by SVD, fitted on ``texts``:
    their rows of unit length, and the same map for other texts.

    The SVD runs in float32 (the explained variance agrees with float64's to 1e-7 and
    costs half the CPU).

    The word block leaves out stop words of both scripts (hazm's, scikit-learn's): in
    short Persian comments "خیلی", "بود", "که" otherwise outweigh the few words that say
    what the comment is about.
    """
    words = TfidfVectorizer(
        token_pattern=_WORD,
        ngram_range=(1, 2),
        min_df=2,
        sublinear_tf=True,
        stop_words=_stop_words("mixed"),
        dtype=np.float32,
    )
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True, dtype=np.float32
    )
    matrix = sparse.hstack([words.fit_transform(texts), chars.fit_transform(texts)]).tocsr()
    k = max(2, min(components, matrix.shape[1] - 1, len(texts) - 1))
    svd = TruncatedSVD(n_components=k, random_state=0)
    fitted = normalize(svd.fit_transform(matrix))

    def transform(more: list[str]) -> np.ndarray:
        both = sparse.hstack([words.transform(more), chars.transform(more)]).tocsr()
        return normalize(svd.transform(both))

    return fitted, transform


def _keywords(
    texts: list[str], labels: np.ndarray, group: str, k: int
) -> dict[int, dict[str, list[str]]]:
    """Per cluster, the words most over-represented in it against the rest of its group.

    Score: share of the cluster's documents with the term × log of that share over the
    share among the others (smoothed); a term must occur in a fifth of the cluster.
    """
    counts = CountVectorizer(
        token_pattern=_KEYWORD, ngram_range=(1, 2), stop_words=_stop_words(group), binary=True
    )
    try:
        present = counts.fit_transform(texts).tocsc()
    except ValueError:  # nothing but stop words
        return {}
    vocab = np.array(counts.get_feature_names_out(), dtype=object)
    out = {}
    for label in sorted(set(labels) - {-1}):
        inside = labels == label
        p_in = np.asarray(present[inside].mean(axis=0)).ravel()
        p_out = (np.asarray(present[~inside].sum(axis=0)).ravel() + 0.5) / ((~inside).sum() + 1)
        score = np.where(p_in >= 0.2, p_in * np.log((p_in + 1e-9) / p_out), -np.inf)
        picked: dict[str, list[str]] = {"fa": [], "en": []}
        for j in np.argsort(-score, kind="stable"):
            if not np.isfinite(score[j]) or score[j] <= 0:
                break
            term = str(vocab[j])
            # A unigram already inside a kept phrase adds nothing to it.
            lang = "fa" if _PERSIAN.search(term) else "en"
            if any(term in kept.split() for kept in picked[lang]):
                continue
            if len(picked["fa"]) + len(picked["en"]) >= k:
                break
            picked[lang].append(term)
        out[int(label)] = picked
    return out


def _cluster_group(
    texts: list[str], group: str, options: DiscoverySettings
) -> tuple[np.ndarray, np.ndarray, dict[int, dict[str, list[str]]]]:
    """Cluster labels (-1: noise) as HDBSCAN found them (the clusters' cores), the labels
    once the other documents joined, and keywords per cluster for one language group.

    Above ``max_documents`` HDBSCAN sees a fixed-seed sample of that size (its memory
    and time grow faster than linearly). The n-gram vocabularies and the SVD are fitted
    on that same sample and the other documents mapped through them ``max_documents`` at
    a time, so memory stays bounded by the sample: on the 54,793 unclaimed Persian
    documents of a 1M-document corpus's window, clustering peaked 659 MiB above its
    input when fitted on all of them and 371 MiB on the sample (89 -> 63 CPU-s, the same
    110 clusters; benchmarks/README.md). Then the documents outside the sample join by
    :func:`_join` (as close as a cluster's least typical member), and HDBSCAN's noise by
    :func:`_join_by_neighbours`; the keywords describe the joined cluster.
    """
    n = len(texts)
    fit = np.arange(n)
    if n > options.max_documents:
        fit = np.sort(np.random.default_rng(0).choice(n, options.max_documents, replace=False))
    fitted, transform = _fit_vectors([texts[i] for i in fit], options.svd_components, group)
    vectors = np.empty((n, fitted.shape[1]))
    vectors[fit] = fitted
    rest = np.setdiff1d(np.arange(n), fit)
    for start in range(0, len(rest), options.max_documents):
        chunk = rest[start : start + options.max_documents]
        vectors[chunk] = transform([texts[i] for i in chunk])
    labels = np.full(n, -1)
    labels[fit] = _merge(vectors[fit], _hdbscan(vectors[fit], options), options.merge_similarity)
    joined = _join(vectors, labels, rest, len(fit) / n)
    if options.join_margin is not None:
        near = _join_by_neighbours(
            vectors[fit], labels[fit], options.min_cluster_size, options.join_margin
        )
        joined = joined.copy()  # _join may hand back ``labels`` itself: the cores stay
        joined[fit] = np.where(joined[fit] == -1, near, joined[fit])
    return labels, joined, _keywords(texts, joined, group, options.keywords)


def _join_by_neighbours(
    vectors: np.ndarray, labels: np.ndarray, k: int, margin: float, chunk: int = 256
) -> np.ndarray:
    """Each noise document joins the cluster whose ``k`` nearest members it is closer to
    (mean cosine) than to its ``k`` nearest fellow noise documents, by ``margin``.

    A centroid rule (:func:`_join`) let a diffuse cluster take in background that sat
    as close to its centroid as its members; here a document of the background has
    background about it and stays noise, while a theme's document that HDBSCAN left
    out has the theme's members nearer than any noise (benchmarks/README.md, session 9).
    """
    noise = np.flatnonzero(labels == -1)
    found = sorted(set(labels.tolist()) - {-1})
    if not found or len(noise) <= k:
        return labels
    members = [np.flatnonzero(labels == c) for c in found]
    out = labels.copy()
    for start in range(0, len(noise), chunk):
        rows = noise[start : start + chunk]
        sims = vectors[rows] @ vectors.T
        sims[np.arange(len(rows)), rows] = -np.inf  # not its own neighbour
        own = _top_mean(sims[:, noise], k)
        best = np.full(len(rows), -np.inf)
        owner = np.full(len(rows), -1)
        for c, cols in zip(found, members, strict=True):
            near = _top_mean(sims[:, cols], k)
            better = near > best
            best[better], owner[better] = near[better], c
        take = best > own + margin
        out[rows[take]] = owner[take]
    return out


def _top_mean(sims: np.ndarray, k: int) -> np.ndarray:
    """Per row, the mean of its ``k`` largest values (all of them if fewer)."""
    k = min(k, sims.shape[1])
    return np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:].mean(axis=1)


def _join(vectors: np.ndarray, labels: np.ndarray, among: np.ndarray, sampled: float) -> np.ndarray:
    """Each document of ``among`` (those outside HDBSCAN's sample) joins the cluster whose
    centroid it is closest to, if at least as close as that cluster's least typical
    member; ``sampled``: the share of the documents HDBSCAN clustered.

    Session 8 let HDBSCAN's noise join this way too (at a quantile of the members): it
    raised the recall of found themes but a diffuse cluster took in background and
    themes were lost on held-out seeds, so the noise joins by
    :func:`_join_by_neighbours` instead (benchmarks/README.md).
    """
    found, centroids = _centroids(vectors, labels)
    if not found or not len(among):
        return labels
    floor = np.array([(vectors[labels == c] @ centroids[k]).min() for k, c in enumerate(found)])
    sims = vectors[among] @ centroids.T
    best = sims.argmax(axis=1)
    nearest = sims[np.arange(len(among)), best]
    close = nearest >= floor[best]
    # A cluster at most doubles (its core scaled up by the share HDBSCAN saw), its
    # closest joiners first: a diffuse cluster's floor is low, and its theme's documents
    # must stay the bulk of it.
    for k, c in enumerate(found):
        mine = np.flatnonzero(close & (best == k))
        core = int((labels == c).sum())
        room = int(2 * core / sampled) - core
        if len(mine) > room:
            close[mine[np.argsort(-nearest[mine], kind="stable")[room:]]] = False
    joined = labels.copy()
    joined[among[close]] = np.array(found)[best[close]]
    return joined


def _hdbscan(vectors: np.ndarray, options: DiscoverySettings) -> np.ndarray:
    """HDBSCAN labels (-1: noise); no cluster holds more than ``max_cluster_share`` of the
    group (or 10 x ``min_cluster_size`` documents in a small group).

    Without the cap HDBSCAN's excess-of-mass selection often kept one cluster of most of
    the group (1,932 airline tweets with the 80 planted "card arrival" queries inside,
    benchmarks/discovery_quality.py), so a new theme went unseen. A real theme larger
    than the cap is cut, and :func:`_merge` joins its parts again.

    These are scikit-learn's ``HDBSCAN(min_cluster_size, max_cluster_size=cap)`` steps
    (the same labels, tested) but for the core distances: its ``fit`` finds them with a
    k-d tree, which at 100 dimensions visits nearly every point and cost 3-4x the whole
    rest (17.6 CPU-s for 10k Persian documents, against 0.8 by brute force on BLAS).
    """
    cap = max(10 * options.min_cluster_size, int(options.max_cluster_share * len(vectors)))
    data = np.ascontiguousarray(vectors, dtype=np.float64)
    k = min(options.min_cluster_size, len(data))  # min_samples, the point itself included
    metric = DistanceMetric.get_metric("euclidean")
    tree = mst_from_data_matrix(data, _core_distances(data, k), metric)
    labels, _probabilities = tree_to_labels(_process_mst(tree), k, "eom", False, 0.0, cap)
    return labels


def _core_distances(data: np.ndarray, k: int) -> np.ndarray:
    """Each row's distance to its ``k``-th nearest row (itself the first), as the k-d tree
    of scikit-learn's HDBSCAN finds it.

    The neighbours come from BLAS (|x|^2 + |y|^2 - 2xy, rounded otherwise), twice ``k``
    of them in case rounding reorders them, and their distances are summed again one
    coordinate after another as the k-d tree does: the MST's edges tie at core
    distances, so a last-bit difference changed which clusters HDBSCAN kept. (Rows with
    more than ``2k`` neighbours tied to the last bit may still differ.)
    """
    extra = min(2 * k, len(data))
    near = NearestNeighbors(n_neighbors=extra, algorithm="brute").fit(data)
    rows = near.kneighbors(data, return_distance=False)
    squares = np.zeros(rows.shape)
    for j in range(data.shape[1]):
        step = data[:, j, None] - data[rows, j]
        squares += step * step
    return np.ascontiguousarray(np.sort(np.sqrt(squares), axis=1)[:, k - 1])


def _centroids(vectors: np.ndarray, labels: np.ndarray) -> tuple[list[int], np.ndarray]:
    """The cluster labels (noise left out) and their centroids of unit length."""
    found = sorted(set(labels.tolist()) - {-1})
    if not found:
        return [], np.empty((0, vectors.shape[1]))
    return found, normalize(np.vstack([vectors[labels == c].mean(axis=0) for c in found]))


def _merge(vectors: np.ndarray, labels: np.ndarray, similarity: float) -> np.ndarray:
    """Clusters alike by ``similarity`` or more (average linkage) as one: alike both in
    their centroids' cosine and in that of their centroids less the group's mean.

    HDBSCAN cuts one theme by phrasing ("the coupon is not applied" and "my promo code
    says expired" were two to six clusters); on the benchmark's tuning seeds fragments of
    one planted theme had centroid cosine 0.15-0.47 and a planted theme and any other
    cluster at most 0.19, but Persian tea and bank-app reviews had 0.23, from the words
    every comment shares: less the group's mean, 0.12, while fragments of one theme are
    as alike either way (+0.02). Merged, the smaller theme was not found (tea there,
    coffee on a held-out seed; benchmarks/README.md, session 10).

    Each cluster's mean is taken once: less the group's mean it is the mean of the
    centred vectors, and ``pdist`` scales every row itself, so neither a centred copy
    of the group nor unit centroids are needed (cosines within 1e-15 of the two-pass
    form's, the nearest linkage height 1.9e-3 from the threshold: the same merges on
    every group of 15 benchmark windows; benchmarks/README.md, session 11).
    """
    found = sorted(set(labels.tolist()) - {-1})
    if len(found) < 2:
        return labels
    means = np.vstack([vectors[labels == c].mean(axis=0) for c in found])
    distance = np.maximum(
        pdist(means, metric="cosine"), pdist(means - vectors.mean(axis=0), metric="cosine")
    )
    tree = linkage(distance, method="average")
    groups = fcluster(tree, t=1 - similarity, criterion="distance")
    first = {g: found[int(np.flatnonzero(groups == g)[0])] for g in set(groups.tolist())}
    out = labels.copy()
    for c, g in zip(found, groups, strict=True):
        out[labels == c] = first[g]
    return out


def _flat(keywords: dict[str, list[str]]) -> set[str]:
    return {w for words in keywords.values() for w in words}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _new_id(group: str, keywords: dict[str, list[str]], taken: set[str]) -> str:
    top = [w for words in keywords.values() for w in words[:3]]
    digest = hashlib.sha1(" ".join(sorted(top)).encode("utf-8")).hexdigest()
    base = f"new_{group.replace('+', '_')}_{digest[:6]}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def link_languages(
    clusters: list[tuple[str, dict[str, list[str]]]],
    members: list[np.ndarray],
    texts: pd.Series,
    groups: pd.Series,
    margin: float,
    embed: Callable[[list[str]], np.ndarray] = embed_texts,
) -> tuple[list[tuple[str, dict[str, list[str]]]], list[np.ndarray]]:
    """An ``fa`` and an ``en`` cluster that are each other's closest and alike by ``margin``
    become one ``en+fa`` cluster with both scripts' keywords.

    Each cluster is its centroid in multilingual-e5 (:func:`embed_texts`: Persian and
    English text in one space) over up to ``LINK_SAMPLE`` of its documents, so the cost
    does not grow with the window. e5 vectors of any two texts have cosine ~0.9, so the
    score is CSLS (Conneau et al. 2018): 2 cos(x, y) minus each centroid's mean cosine
    with its ``LINK_NEIGHBOURS`` nearest documents of the other language (a sample of the
    window's documents in no cluster); a pair is linked when each is the other's best and the score is at least
    ``margin``. On the benchmark's tuning seeds the planted pairs scored 0.087-0.106 and
    the best other mutual pair 0.079 (benchmarks/README.md).
    """
    fa = [k for k, (g, _kw) in enumerate(clusters) if g == "fa"]
    en = [k for k, (g, _kw) in enumerate(clusters) if g == "en"]
    if not fa or not en:
        return clusters, members
    rng = np.random.default_rng(0)

    def sample(rows: np.ndarray) -> list[str]:
        picked = rng.choice(rows, min(LINK_SAMPLE[0], len(rows)), replace=False)
        return texts.iloc[np.sort(picked)].tolist()

    clustered = np.zeros(len(groups), dtype=bool)
    clustered[np.concatenate(members)] = True

    def documents(group: str) -> list[str]:
        # The group's unclustered documents: had a pair's own documents been the
        # neighbourhood, a theme that is much of its window could never be linked.
        rows = np.flatnonzero((groups == group).to_numpy() & ~clustered)
        if len(rows) < LINK_NEIGHBOURS:
            rows = np.flatnonzero((groups == group).to_numpy())
        picked = rng.choice(rows, min(LINK_SAMPLE[1], len(rows)), replace=False)
        return texts.iloc[np.sort(picked)].tolist()

    # Drawn in this order (each candidate's sample, English first, then each language's
    # neighbourhood) and embedded in one call: one call batches texts of like length
    # across candidates (18% fewer CPU-s than a call per candidate, the same vectors).
    parts = [sample(members[k]) for k in en + fa] + [documents("en"), documents("fa")]
    vectors = embed([t for part in parts for t in part])
    bounds = np.cumsum([0] + [len(part) for part in parts])
    blocks = [vectors[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    c_en = normalize(np.vstack([b.mean(axis=0) for b in blocks[: len(en)]]))
    c_fa = normalize(np.vstack([b.mean(axis=0) for b in blocks[len(en) : -2]]))
    d_en, d_fa = blocks[-2], blocks[-1]

    def hub(c: np.ndarray, docs: np.ndarray) -> np.ndarray:
        k = min(LINK_NEIGHBOURS, len(docs))
        return -np.sort(-(c @ docs.T), axis=1)[:, :k].mean(axis=1)

    score = 2 * (c_en @ c_fa.T) - hub(c_en, d_fa)[:, None] - hub(c_fa, d_en)[None, :]
    pairs = [
        (en[i], fa[j])
        for i, j in enumerate(score.argmax(axis=1))
        if score[:, j].argmax() == i and score[i, j] >= margin
    ]
    joined = {k for pair in pairs for k in pair}
    out = [(clusters[k], members[k]) for k in range(len(clusters)) if k not in joined]
    for e, f in pairs:
        kw_en, kw_fa = clusters[e][1], clusters[f][1]
        keywords = {
            lang: list(dict.fromkeys(kw_en.get(lang, []) + kw_fa.get(lang, [])))
            for lang in ("fa", "en")
        }
        out.append((("en+fa", keywords), np.concatenate([members[e], members[f]])))
    return [c for c, _m in out], [m for _c, m in out]


def _with_joined(
    parts: list[np.ndarray], joined: list[np.ndarray], linked: list[np.ndarray], n: int
) -> list[np.ndarray]:
    """Each cluster after linking (``linked``: the cores of one or two ``parts``) with the
    documents that ``joined`` those parts."""
    owner = np.full(n, -1)
    for k, rows in enumerate(parts):
        owner[rows] = k
    return [
        np.sort(np.concatenate([rows, *(joined[k] for k in np.unique(owner[rows]))]))
        for rows in linked
    ]


def _languages(group: str) -> set[str]:
    return set(group.split("+"))


def match_previous(
    clusters: list[tuple[str, dict[str, list[str]]]],
    previous: pd.DataFrame | None,
    window_end: pd.Timestamp,
    overlap: float,
) -> list[tuple[str, pd.Timestamp, bool]]:
    """(id, first_seen, is_new) per (group, keywords), one-to-one with the previous candidates.

    Pairs are taken best keyword overlap first, within a language group (an ``en+fa``
    theme matches an ``en`` or ``fa`` one either way); a cluster with
    no previous candidate at ``overlap`` or more gets a new id and is flagged new.
    """
    prev = []
    if previous is not None and len(previous):
        for r in previous.itertuples():
            kw = r.keywords if isinstance(r.keywords, dict) else json.loads(r.keywords or "{}")
            prev.append((str(r.theme_id), str(r.language), _flat(kw), utc_timestamp(r.first_seen)))
    pairs = sorted(
        (
            (-_jaccard(_flat(kw), p[2]), i, j)
            for i, (group, kw) in enumerate(clusters)
            for j, p in enumerate(prev)
            if _languages(p[1]) & _languages(group)
        ),
    )
    result: dict[int, tuple[str, pd.Timestamp, bool]] = {}
    used: set[int] = set()
    for neg, i, j in pairs:
        if -neg < overlap or i in result or j in used:
            continue
        result[i] = (prev[j][0], prev[j][3], False)
        used.add(j)
    taken = {p[0] for p in prev} | {r[0] for r in result.values()}
    for i, (group, kw) in enumerate(clusters):
        if i not in result:
            new = _new_id(group, kw, taken)
            taken.add(new)
            result[i] = (new, utc_timestamp(window_end), True)
    return [result[i] for i in range(len(clusters))]


def discover_themes(
    feedback: pd.DataFrame,
    previous: pd.DataFrame | None,
    *,
    window_start: pd.Timestamp,
    window_end: pd.Timestamp,
    options: DiscoverySettings,
    embed: Callable[[list[str]], np.ndarray] = embed_texts,
) -> Discovery:
    """Candidate themes among the window's unclaimed documents, ids matched to ``previous``.

    ``feedback`` needs source, id, created_at, language, text_redacted and topics;
    ``previous`` is the last stored window's ``discovered_themes`` rows (or None);
    ``embed`` (multilingual text embeddings) links a Persian and an English candidate
    of one theme (:func:`link_languages`).
    Every window document gets an assignment row, NA when it has no candidate, so that
    storing the assignments replaces the window's old ones entirely.
    """
    start, end = utc_timestamp(window_start), utc_timestamp(window_end)
    fb = feedback.reset_index(drop=True)
    created = pd.to_datetime(fb["created_at"], utc=True)
    in_window = ((created >= start) & (created < end)).to_numpy()
    free = in_window & unclaimed(fb)
    text = fb["text_redacted"].astype("string").fillna("").str.strip()
    free &= (text.str.len() > 0).to_numpy()
    language = fb["language"].astype("string").fillna("other")
    candidate = np.full(len(fb), None, dtype=object)

    clusters: list[tuple[str, dict[str, list[str]]]] = []
    cores: list[np.ndarray] = []  # each cluster's core (as HDBSCAN found it)
    joined: list[np.ndarray] = []  # the documents that joined it (:func:`_join`)
    notes = []
    for group, langs in GROUPS.items():
        rows = np.flatnonzero(free & language.isin(langs).to_numpy())
        if len(rows) < options.min_documents:
            if len(rows):
                notes.append(
                    f"discovery: {len(rows)} unclaimed {group} documents, fewer than "
                    f"discovery.min_documents ({options.min_documents}): not clustered"
                )
            continue
        texts = text.iloc[rows].tolist()
        if len(rows) > options.max_documents:
            notes.append(
                f"discovery: {len(rows)} unclaimed {group} documents; clustered a sample of "
                f"discovery.max_documents ({options.max_documents}), the rest joined the "
                "nearest cluster"
            )
        # One BLAS / OpenMP thread: on two busy cores the SVD's second thread mostly
        # spun waiting for the first (twice the CPU-s; benchmarks/README.md).
        with threadpool_limits(limits=1):
            core, labels, keywords = _cluster_group(texts, group, options)
        for label, kw in keywords.items():
            if not _flat(kw):
                continue
            clusters.append((group, kw))
            cores.append(rows[core == label])
            joined.append(rows[(labels == label) & (core != label)])
    linked = cores  # unless linking below makes some pairs one
    try:
        # Linked on the cores: which documents joined a cluster must not decide its link.
        clusters, linked = link_languages(
            clusters, cores, text, language.where(free, "none"), options.link_margin, embed
        )
    except ModelError as exc:  # the encoder's runtime is missing: candidates stay apart
        notes.append(f"discovery: fa and en candidates not linked: {exc}")
    members = _with_joined(cores, joined, linked, len(fb))
    ids = match_previous(clusters, previous, end, options.match_overlap)
    records = []
    for (group, kw), docs, (theme_id, first_seen, is_new) in zip(
        clusters, members, ids, strict=True
    ):
        candidate[docs] = theme_id
        records.append(
            {
                "theme_id": theme_id,
                "language": group,
                "keywords": kw,
                "size": len(docs),
                "first_seen": first_seen,
                "is_new": is_new,
            }
        )
    candidates = pd.DataFrame(
        records, columns=["theme_id", "language", "keywords", "size", "first_seen", "is_new"]
    )
    assignments = pd.DataFrame(
        {
            "source": fb.loc[in_window, "source"].astype("string").to_numpy(),
            "id": fb.loc[in_window, "id"].astype("string").to_numpy(),
            "candidate_theme": pd.array(candidate[in_window], dtype="string"),
        }
    )
    return Discovery(candidates, assignments, notes)


def candidate_label(keywords: dict[str, list[str]], language: str) -> str:
    """A readable name for a candidate: its first keywords in that script."""
    words = keywords.get(language) or keywords.get("en") or keywords.get("fa") or []
    return ", ".join(words[:3]) or "(no keywords)"


def candidate_taxonomy(candidates: pd.DataFrame) -> Taxonomy:
    """Candidates as taxonomy themes, so the ranking and uplift code can value them."""
    themes = tuple(
        Theme(
            id=str(r.theme_id),
            label_en=candidate_label(r.keywords, "en"),
            label_fa=candidate_label(r.keywords, "fa"),
            keywords={k: tuple(v) for k, v in r.keywords.items()},
        )
        for r in candidates.itertuples()
    )
    return Taxonomy(themes)


def candidate_feedback(feedback: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """The documents that have a candidate, with ``topics`` = [candidate].

    Their aspect map is emptied so that the document's own sentiment says whether the
    candidate was raised negatively, as for a taxonomy theme with no aspect label.
    """
    chosen = assignments[assignments["candidate_theme"].notna()]
    # Stored rows carry last night's candidate_theme: tonight's assignment replaces it.
    stale = feedback.drop(columns=["candidate_theme"], errors="ignore")
    keyed = stale.merge(chosen, on=["source", "id"], how="inner")
    keyed["topics"] = [json.dumps([t], ensure_ascii=False) for t in keyed["candidate_theme"]]
    keyed["aspect_sentiment"] = "{}"
    return keyed.drop(columns=["candidate_theme"])


def discovered_table(
    candidates: pd.DataFrame,
    valued: pd.DataFrame,
    *,
    window_start: pd.Timestamp,
    window_end: pd.Timestamp,
    currency: str,
) -> pd.DataFrame:
    """DISCOVERED_THEMES rows: candidates joined with their pain-point figures."""
    if candidates.empty:
        return DISCOVERED_THEMES.empty()
    figures = valued[valued["segment"] == "all"].set_index("theme_id") if len(valued) else None
    rows = []
    for c in candidates.itertuples():
        f = figures.loc[c.theme_id] if figures is not None and c.theme_id in figures.index else None
        row = {
            "window_start": utc_timestamp(window_start),
            "window_end": utc_timestamp(window_end),
            "theme_id": c.theme_id,
            "language": c.language,
            "keywords": json.dumps(c.keywords, ensure_ascii=False),
            "size": c.size,
            "first_seen": c.first_seen,
            "is_new": c.is_new,
            "currency": currency,
        }
        if f is not None:
            for col in (
                "negative_mentions",
                "negative_rate",
                "customers",
                "unlinked_mentions",
                "mean_clv",
                "churn_uplift",
                "clv_at_risk",
                "clv_at_risk_low",
                "clv_at_risk_high",
                "examples",
                "method",
            ):
                row[col] = f[col]
        rows.append(row)
    out = pd.DataFrame(rows)
    out = out.sort_values(["clv_at_risk", "size"], ascending=False, na_position="last")
    return conform(out, DISCOVERED_THEMES)
