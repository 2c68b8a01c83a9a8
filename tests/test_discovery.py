"""Theme discovery: a planted unseen theme in English and in Persian is found, quoted,
valued like a taxonomy theme, keeps its id over two nightly runs, and can be promoted."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import yaml
from discovery_fixture import END, planted_feedback

from cxtext.classify.topics import keyword_matcher
from cxtext.config import load_settings, resolve
from cxtext.schema import CUSTOMER_VALUE, DISCOVERED_THEMES, FEEDBACK, conform
from cxtext.themes.discovery import discover_themes
from cxtext.themes.promote import promote_candidate
from cxtext.themes.taxonomy import Taxonomy, Theme, parse_taxonomy
from pipelines.insight import discover_and_value

SETTINGS = load_settings()
TAX = Taxonomy((Theme("delivery", "Delivery", "ارسال"),))
KW = dict(discovery=SETTINGS.discovery, painpoints=SETTINGS.painpoints, value=SETTINGS.value)
NEXT = END + pd.Timedelta(days=1)
MARKERS = {"en": "staking", "fa": "استیکینگ"}


def _values() -> pd.DataFrame:
    ids = [f"C{k:03d}" for k in range(200)]
    clv = np.linspace(100, 1000, 200)
    return conform(
        pd.DataFrame({"customer_id": ids, "clv": clv, "clv_low": clv, "clv_high": clv}),
        CUSTOMER_VALUE,
    )


@pytest.fixture(scope="module")
def two_runs():
    first = planted_feedback(seed=0)
    t1, a1, _ = discover_and_value(first, None, first, None, _values(), TAX, END, **KW)
    second = planted_feedback(seed=1)  # the next night: new documents, same subjects
    t2, a2, _ = discover_and_value(second, t1, second, None, _values(), TAX, NEXT, **KW)
    return (first, t1, a1), (second, t2, a2)


def _planted(table: pd.DataFrame, language: str) -> pd.Series:
    hits = table[table["keywords"].str.contains(MARKERS[language])]
    assert len(hits) == 1, f"expected one {language} candidate about the planted theme"
    return hits.iloc[0]


@pytest.mark.parametrize("language", ["en", "fa"])
def test_planted_theme_is_found_with_its_documents(two_runs, language):
    (fb, table, assign), _ = two_runs
    assert list(table.columns) == DISCOVERED_THEMES.names
    theme = _planted(table, language)
    # one subject in both languages: one candidate, linked (multilingual-e5)
    assert theme["language"] == "en+fa"
    assert MARKERS[language] in json.loads(theme["keywords"])[language]
    members = assign.merge(fb, on=["source", "id"])
    members = members[
        (members["candidate_theme"] == theme["theme_id"]) & (members["language"] == language)
    ]
    about = members["text_redacted"].str.contains(MARKERS[language])
    planted = fb["text_redacted"].str.contains(MARKERS[language]).sum()
    assert about.mean() >= 0.9  # its documents are about it
    assert about.sum() >= 0.8 * planted  # and most of the planted documents are in it
    # claimed documents (a taxonomy theme) never get a candidate
    claimed = fb.loc[fb["topics"] != "[]", "id"]
    assert assign.set_index("id").loc[claimed, "candidate_theme"].isna().all()


@pytest.mark.parametrize("language", ["en", "fa"])
def test_planted_theme_is_valued_and_quoted(two_runs, language):
    (fb, table, _), _ = two_runs
    theme = _planted(table, language)
    quotes = json.loads(theme["examples"])
    assert quotes and all(any(m in q for m in MARKERS.values()) for q in quotes)
    assert theme["negative_rate"] == pytest.approx(0.75, abs=0.1)
    assert theme["clv_at_risk"] > 0 and theme["currency"] == "USD"
    assert "uplift=prior" in theme["method"]  # no churn labels given: the documented prior
    assert bool(theme["is_new"]) and theme["first_seen"] == END


@pytest.mark.parametrize("language", ["en", "fa"])
def test_candidate_keeps_its_id_on_the_next_night(two_runs, language):
    (_, t1, _), (_, t2, _) = two_runs
    before, after = _planted(t1, language), _planted(t2, language)
    assert after["theme_id"] == before["theme_id"]
    assert not bool(after["is_new"]) and after["first_seen"] == END
    assert after["window_end"] == NEXT


def test_noise_alone_finds_nothing_and_small_groups_are_said():
    fb = planted_feedback(seed=2, per_theme=0)
    options = replace(load_settings().discovery, min_documents=1000)
    found = discover_themes(
        fb, None, window_start=END - pd.Timedelta(days=28), window_end=END, options=options
    )
    assert found.candidates.empty and found.assignments["candidate_theme"].isna().all()
    assert any("fewer than discovery.min_documents" in note for note in found.notes)


def test_promoted_candidate_claims_its_documents(two_runs, tmp_path):
    (fb, table, _), _ = two_runs
    theme = _planted(table, "en")
    text = resolve(load_settings().paths.taxonomy).read_text(encoding="utf-8")
    updated = promote_candidate(
        text,
        theme_id="crypto_rewards",
        label_en="Crypto staking rewards",
        label_fa="پاداش رمزارز",
        keywords=json.loads(theme["keywords"]),
        origin=f"discovered theme {theme['theme_id']}",
        owner="product",
    )
    assert updated.startswith(text.rstrip("\n"))  # comments and themes kept as they were
    taxonomy = parse_taxonomy(yaml.safe_load(updated))
    assert taxonomy.ids[-1] == "crypto_rewards" and taxonomy.owners["crypto_rewards"] == "product"
    matcher = keyword_matcher(taxonomy)
    planted = fb[fb["text_redacted"].str.contains("staking")]
    claimed = [("crypto_rewards" in matcher.themes_in(t, "en")) for t in planted["text_redacted"]]
    assert all(claimed)
    with pytest.raises(ValueError, match="already in the taxonomy"):
        promote_candidate(
            updated,
            theme_id="crypto_rewards",
            label_en="x",
            label_fa="y",
            keywords={"en": ["x"]},
            origin="test",
        )


def test_candidates_share_the_joint_churn_model_with_the_taxonomy():
    fb = planted_feedback(seed=0)
    planted = fb["text_redacted"].str.contains("staking") & (fb["sentiment"] == "negative")
    churned = set(fb.loc[planted, "customer_id"])
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{k:03d}" for k in range(200)],
            "churned": [f"C{k:03d}" in churned for k in range(200)],
        }
    )
    table, _, _ = discover_and_value(fb, None, fb, customers, _values(), TAX, END, **KW)
    theme = _planted(table, "en")
    assert theme["method"].startswith("uplift=joint_logit")
    assert theme["churn_uplift"] > 0.1 and theme["clv_at_risk"] > 0


def test_a_large_group_is_clustered_on_a_sample_and_the_rest_joins_nearest():
    fb = planted_feedback(seed=0)
    options = replace(load_settings().discovery, max_documents=80)
    found = discover_themes(
        fb, None, window_start=END - pd.Timedelta(days=28), window_end=END, options=options
    )
    assert any("clustered a sample of discovery.max_documents (80)" in n for n in found.notes)
    members = found.assignments.merge(fb, on=["source", "id"])
    for marker in MARKERS.values():
        planted = members[members["text_redacted"].str.contains(marker)]
        top = planted["candidate_theme"].value_counts()
        assert len(top) and top.iloc[0] >= 0.8 * len(planted)  # one candidate holds them
        theirs = members[members["candidate_theme"] == top.index[0]]
        theirs = theirs[theirs["language"] == planted["language"].iloc[0]]
        assert theirs["text_redacted"].str.contains(marker).mean() >= 0.9


def test_stored_rows_with_last_nights_candidate_are_rediscovered(two_runs):
    """Rows read back from the warehouse carry feedback.candidate_theme: tonight's wins."""
    (first, t1, a1), _ = two_runs
    stored = first.merge(a1, on=["source", "id"], how="left")
    stored = conform(stored, FEEDBACK)  # as the warehouse returns them
    assert stored["candidate_theme"].notna().any()
    table, assignments, _ = discover_and_value(stored, t1, stored, None, _values(), TAX, NEXT, **KW)
    assert len(table) >= 1 and assignments["candidate_theme"].notna().any()


def test_keywords_have_two_letters_at_least():
    """'t' of "can't" once named a candidate: it is everywhere in the cluster and rarer
    outside, so it scored as a keyword."""
    from cxtext.themes.discovery import _keywords

    texts = ["i can't stake my coins"] * 6 + ["parcel arrived late today"] * 6
    labels = np.array([0] * 6 + [1] * 6)
    words = _keywords(texts, labels, "en", 8)[0]["en"]
    assert "stake" in words and "coins" in words
    assert all(len(w.split()[0]) > 1 and len(w.split()[-1]) > 1 for w in words)


def test_fragments_of_one_theme_merge_and_distinct_themes_do_not():
    from cxtext.themes.discovery import _merge

    # Three tight clusters: two share a direction (cosine 0.5), the third is orthogonal.
    a, b, c = np.eye(3)
    ab = (a + b) / np.sqrt(2)
    vectors = np.vstack([np.tile(a, (5, 1)), np.tile(ab, (5, 1)), np.tile(c, (5, 1))])
    labels = np.repeat([0, 1, 2], 5)
    merged = _merge(vectors, labels, similarity=0.1)
    assert len(set(merged[:10])) == 1 and merged[10] != merged[0]
    assert (_merge(vectors, labels, similarity=0.8) == labels).all()  # not alike enough


def test_two_themes_alike_only_in_what_every_document_shares_stay_apart():
    from cxtext.themes.discovery import _merge

    # Every document leans on a common direction g (the words every comment uses), as
    # the noise does. Theme A and its fragment A2 share e1; theme B shares only g with A.
    g, e1, e2, e3 = np.eye(4)
    a, a2, b = (v / np.linalg.norm(v) for v in (g + e1, g + e1 + e3, g + e2))
    vectors = np.vstack([np.tile(a, (5, 1)), np.tile(a2, (5, 1)), np.tile(b, (5, 1))])
    vectors = np.vstack([vectors, np.tile(g, (15, 1))])
    labels = np.array([0] * 5 + [1] * 5 + [2] * 5 + [-1] * 15)
    assert float(a @ b) == pytest.approx(0.5)  # alike by their centroids alone
    merged = _merge(vectors, labels, similarity=0.4)
    assert (merged[:10] == 0).all()  # the fragments: cosine 0.82, 0.51 less the mean
    assert (merged[10:15] == 2).all() and (merged[15:] == -1).all()  # B: -0.44 less it


def test_the_merge_is_the_two_pass_centred_centroids_form():
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist
    from sklearn.preprocessing import normalize

    from cxtext.themes.discovery import _merge

    # 40 clusters around random directions that all lean on a common one, plus noise:
    # the merge taken in one pass must group them exactly as unit centroids of the
    # vectors and of a centred copy of them do (the form it replaced).
    rng = np.random.default_rng(0)
    common = rng.normal(size=30)
    heads = normalize(rng.normal(size=(40, 30)) + 2 * common)
    labels = np.repeat(np.arange(40), 12)
    vectors = normalize(heads[labels] + 0.6 * rng.normal(size=(480, 30)))
    vectors = np.vstack([vectors, normalize(common + rng.normal(size=(120, 30)))])
    labels = np.concatenate([labels, np.full(120, -1)])
    for similarity in (0.1, 0.2, 0.3):
        plain = normalize(np.vstack([vectors[labels == c].mean(axis=0) for c in range(40)]))
        centred = vectors - vectors.mean(axis=0)
        less = normalize(np.vstack([centred[labels == c].mean(axis=0) for c in range(40)]))
        distance = np.maximum(pdist(plain, "cosine"), pdist(less, "cosine"))
        groups = fcluster(linkage(distance, "average"), t=1 - similarity, criterion="distance")
        merged = _merge(vectors, labels, similarity)
        assert (merged == -1).sum() == 120
        # the same partition (each group is named by its first cluster)
        for c in range(40):
            assert set(merged[labels == c]) == {int(np.flatnonzero(groups == groups[c])[0])}
    assert 1 < len(set(_merge(vectors, labels, 0.2).tolist()) - {-1}) < 40  # some merge, not all


def test_a_document_outside_the_sample_joins_a_cluster_only_if_as_close_as_its_members():
    from cxtext.themes.discovery import _join

    def at(cos: float, axis: int, sign: float = 1.0) -> np.ndarray:
        v = np.zeros(5)
        v[0], v[axis] = cos, sign * np.sqrt(1 - cos**2)
        return v

    # Cluster 0 (centroid e0 by symmetry): members at cosine 1.0, 0.9, 0.9, 0.6, 0.6.
    # Cluster 1: e4 alone. Outside the sample: cosine 0.8 and 0.5 to e0, and e4 itself.
    members = [np.eye(5)[0], at(0.9, 1), at(0.9, 1, -1), at(0.6, 2), at(0.6, 2, -1)]
    vectors = np.vstack([*members, np.eye(5)[4], at(0.8, 3), at(0.5, 3), np.eye(5)[4]])
    labels = np.array([0] * 5 + [1, -1, -1, -1])
    outside = np.array([6, 7, 8])
    # The least typical member (0.6) as the floor: 0.8 joins, 0.5 does not; e4 joins 1.
    joined = _join(vectors, labels, outside, 1.0)
    assert joined.tolist()[6:] == [0, -1, 1]
    assert (joined[:6] == labels[:6]).all()  # members stay put
    # Only the documents named may join (HDBSCAN's noise is not among them).
    assert _join(vectors, labels, np.array([8]), 1.0).tolist()[6:] == [-1, -1, 1]
    assert (_join(vectors, np.full(9, -1), outside, 1.0) == -1).all()  # no cluster: none join


def test_a_cluster_at_most_doubles_by_joining_its_closest_documents_first():
    from cxtext.themes.discovery import _join

    # A core of two documents at angles -0.5 and +0.5 (centroid at 0); five noise
    # documents inside that spread, at angles 0.45, 0.05, 0.35, 0.15, 0.25.
    angles = np.array([-0.5, 0.5, 0.45, 0.05, 0.35, 0.15, 0.25])
    vectors = np.column_stack([np.cos(angles), np.sin(angles)])
    labels = np.array([0, 0, -1, -1, -1, -1, -1])
    # All five are as close as the core's least typical member: the two closest join.
    outside = np.arange(2, 7)
    assert _join(vectors, labels, outside, 1.0).tolist() == [0, 0, -1, 0, -1, 0, -1]
    # Clustered on a half sample, the core stands for four documents: all five join.
    assert (_join(vectors, labels, outside, sampled=0.5) == 0).all()


def test_documents_that_joined_two_linked_parts_follow_them():
    from cxtext.themes.discovery import _with_joined

    parts = [np.array([0, 1]), np.array([2, 3]), np.array([4])]  # cores before linking
    joined = [np.array([5]), np.array([6]), np.array([7, 8])]
    linked = [np.array([0, 1]), np.array([2, 3, 4])]  # parts 1 and 2 are one theme
    out = _with_joined(parts, joined, linked, 9)
    assert [o.tolist() for o in out] == [[0, 1, 5], [2, 3, 4, 6, 7, 8]]


def _embed_by_topic(texts: list[str]) -> np.ndarray:
    """A stand-in encoder: a text's vector says which planted subject it names."""
    topics = [("staking", "استیکینگ"), ("parcel", "مرسوله")]
    rows = []
    for t in texts:
        v = np.full(len(topics) + 1, 0.1)
        for k, words in enumerate(topics):
            v[k] += any(w in t for w in words)
        v[-1] += 0.5 * bool(re.search("[a-z]", t))  # each language leans its own way
        rows.append(v / np.linalg.norm(v))
    return np.array(rows)


def test_a_theme_found_in_both_languages_is_one_candidate():
    fb = planted_feedback(seed=0)
    options = replace(load_settings().discovery, link_margin=0.05)
    found = discover_themes(
        fb,
        None,
        window_start=END - pd.Timedelta(days=28),
        window_end=END,
        options=options,
        embed=_embed_by_topic,
    )
    linked = found.candidates[found.candidates["language"] == "en+fa"]
    assert len(linked) == 1
    keywords = linked.iloc[0]["keywords"]
    assert MARKERS["en"] in keywords["en"] and MARKERS["fa"] in keywords["fa"]
    members = found.assignments.merge(fb, on=["source", "id"])
    theirs = members[members["candidate_theme"] == linked.iloc[0]["theme_id"]]
    assert set(theirs["language"]) == {"en", "fa"} and len(theirs) >= 40
    # never linked: a margin no pair reaches keeps the two apart
    apart = discover_themes(
        fb,
        None,
        window_start=END - pd.Timedelta(days=28),
        window_end=END,
        options=replace(options, link_margin=1.0),
        embed=_embed_by_topic,
    )
    assert set(apart.candidates["language"]) == {"en", "fa"}


def test_a_linked_theme_keeps_the_id_of_either_language_candidate():
    from cxtext.themes.discovery import match_previous

    previous = pd.DataFrame(
        {
            "theme_id": ["new_en_abc123"],
            "language": ["en"],
            "keywords": [json.dumps({"en": ["staking", "rewards"], "fa": []})],
            "first_seen": [END],
        }
    )
    kw = {"en": ["staking", "rewards"], "fa": ["استیکینگ"]}
    [(theme_id, first_seen, is_new)] = match_previous([("en+fa", kw)], previous, NEXT, 0.3)
    assert theme_id == "new_en_abc123" and first_seen == END and not is_new
    [(other, _, new)] = match_previous([("fa", kw)], previous.assign(language="mixed"), NEXT, 0.3)
    assert new and other.startswith("new_fa_")


def test_hdbscan_labels_are_scikit_learns_with_brute_force_core_distances():
    from sklearn.cluster import HDBSCAN

    from cxtext.themes.discovery import _hdbscan

    # Unit vectors as the SVD gives them: blobs of several sizes in background noise.
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(6, 30))
    sizes = [9, 15, 30, 60, 90, 8]
    blobs = [c + 0.35 * rng.normal(size=(n, 30)) for c, n in zip(centres, sizes, strict=True)]
    vectors = np.vstack([*blobs, rng.normal(size=(400, 30))])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    options = SETTINGS.discovery
    cap = max(10 * options.min_cluster_size, int(options.max_cluster_share * len(vectors)))
    expected = HDBSCAN(min_cluster_size=options.min_cluster_size, max_cluster_size=cap, copy=True)
    labels = _hdbscan(vectors, options)
    assert (labels == expected.fit_predict(vectors)).all()
    assert len(set(labels.tolist()) - {-1}) >= 4  # clusters found, not all noise


def test_hazm_stop_words_are_already_normalized():
    # discovery uses hazm's list as is (building hazm's Normalizer costs ~1.3 CPU-s)
    from hazm import stopwords_list

    from cxtext.normalize.persian import normalize_persian
    from cxtext.themes.discovery import _stop_words

    assert all(normalize_persian(w) == w for w in stopwords_list())
    assert set(stopwords_list()) <= set(_stop_words("fa"))


def test_a_noise_document_joins_only_if_nearer_the_cluster_than_its_noise():
    from cxtext.themes.discovery import _join_by_neighbours

    def unit(*v: float) -> np.ndarray:
        return np.array(v) / np.linalg.norm(v)

    # A tight cluster around e0 (three members); a background of noise around e1
    # (three documents); one noise document beside the cluster (cosine 0.95 to e0) and
    # one halfway (as near its fellow noise as the cluster's members).
    cluster = [unit(1, 0.05, 0), unit(1, -0.05, 0), unit(1, 0, 0.05)]
    background = [unit(0.1, 1, 0), unit(0, 1, 0.1), unit(0.05, 1, -0.1)]
    beside, halfway = unit(0.95, 0.3, 0), unit(1, 1, 0)
    vectors = np.vstack([*cluster, *background, beside, halfway])
    labels = np.array([0, 0, 0, -1, -1, -1, -1, -1])
    out = _join_by_neighbours(vectors, labels, k=2, margin=0.05)
    assert out[6] == 0  # beside the cluster: joins
    assert (out[[3, 4, 5, 7]] == -1).all()  # the background and the halfway one stay noise
    assert (out[:3] == 0).all()
    # With a margin above its lead, the one beside the cluster stays noise too.
    assert _join_by_neighbours(vectors, labels, k=2, margin=0.9)[6] == -1
    assert (_join_by_neighbours(vectors, np.full(8, -1), k=2, margin=0.0) == -1).all()


def test_the_neighbour_join_leaves_the_clusters_cores_as_hdbscan_found_them():
    from cxtext.themes.discovery import _cluster_group

    feedback = planted_feedback(seed=0)
    texts = feedback.loc[feedback["language"] == "en", "text_redacted"].tolist()
    off = replace(SETTINGS.discovery, join_margin=None)
    on = replace(SETTINGS.discovery, join_margin=0.0)
    cores_off, joined_off, _ = _cluster_group(texts, "en", off)
    cores_on, joined_on, _ = _cluster_group(texts, "en", on)
    # The link is decided on the cores, so joining must not change them.
    assert (cores_on == cores_off).all()
    assert (joined_on != -1).sum() > (joined_off != -1).sum()  # noise did join
    assert (joined_on[joined_off != -1] == joined_off[joined_off != -1]).all()
