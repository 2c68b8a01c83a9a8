"""A synthetic but realistic feedback corpus for the throughput benchmark.

Texts are real customer comments drawn (with replacement) from the labelled datasets in
``../shared/datasets`` (Persian: SnappFood, Digikala, bank-app reviews, Taaghche,
DeepSentiPers; English: airline tweets, Banking77, Bitext), plus code-mixed documents (a
Persian comment with an English support phrase, as in the shipped sample), a few with
phone numbers or e-mails for the redaction step. Documents are spread over ``days``
days, one CSV file per day as a nightly export would arrive, with ``source``,
``channel``, ``customer_id`` and NPS scores; customers and transactions files go with
them. Nothing generated here is committed: the datasets' licences (research use,
CC BY-NC-SA) allow local benchmarking, not redistribution.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

FA_SOURCES = {
    "fa_snappfood_sentiment": "train.csv",
    "fa_digikala_comments": "train.csv",
    "fa_bank_app_reviews": "train.csv",
    "fa_taaghche_sentiment": "train.csv",
    "fa_deepsentipers_sentiment": "train.csv",
}
EN_SOURCES = {
    "en_airline_tweets": "train.csv",
    "en_banking77": "train.csv",
    "en_bitext_support": "train.csv",
}
# Share of documents per language; mixed = a Persian comment plus an English phrase.
LANGUAGE_MIX = {"fa": 0.55, "en": 0.35, "mixed": 0.10}
SOURCES = {
    "tickets": "ticket",
    "social": "social",
    "survey": "survey",
    "reviews": "review",
    "chat": "chat",
}
SOURCE_SHARE = [0.35, 0.2, 0.2, 0.15, 0.1]
PLANS = ["basic", "plus", "premium"]
PII_SHARE = 0.03
END = pd.Timestamp("2026-11-28", tz="UTC")


@dataclass
class Corpus:
    """Where the generated files are: the base days and the incremental (new) file."""

    feedback_dir: Path
    new_file: Path
    customers: Path
    transactions: Path
    documents: int
    new_documents: int


def sample_texts(sample: Path) -> dict[str, list[str]]:
    """Texts of the shipped sample by language: a small stand-in when the datasets are absent."""
    from cxtext.ingest.feedback import iter_feedback
    from cxtext.normalize.language import detect_language

    pools: dict[str, list[str]] = {"fa": [], "en": []}
    batches = iter_feedback(
        [sample],
        partition_rows=10_000,
        max_text_chars=20_000,
        min_text_chars=1,
        default_channel="survey",
        pseudonym_key=b"benchmark-corpus",
    )
    for batch in batches:
        for text in batch.records["text"].dropna().astype(str):
            pools["en" if detect_language(text) in ("en", "other") else "fa"].append(text)
    return pools


def load_texts(datasets: Path | None) -> dict[str, list[str]]:
    """Real comments per language from the shared datasets (text column only).

    ``None``: the shipped sample's texts (for the harness's smoke test).
    """
    if datasets is None:
        return sample_texts(Path(__file__).resolve().parents[1] / "data" / "sample" / "feedback")
    pools: dict[str, list[str]] = {"fa": [], "en": []}
    for lang, sources in (("fa", FA_SOURCES), ("en", EN_SOURCES)):
        for name, file in sources.items():
            path = datasets / name / file
            if not path.exists():
                raise FileNotFoundError(
                    f"{path}: the benchmark reads the shared datasets (--datasets)"
                )
            texts = pd.read_csv(path, usecols=["text"], dtype=str, keep_default_na=False)["text"]
            pools[lang].extend(t for t in texts.str.strip().tolist() if t)
    return pools


def _texts(
    pools: dict[str, list[str]], n: int, rng: np.random.Generator, langs: np.ndarray | None = None
) -> list[str]:
    if langs is None:
        langs = rng.choice(list(LANGUAGE_MIX), size=n, p=list(LANGUAGE_MIX.values()))
    fa, en = pools["fa"], pools["en"]
    fa_pick = rng.integers(0, len(fa), size=n)
    en_pick = rng.integers(0, len(en), size=n)
    pii = rng.random(n) < PII_SHARE
    phone = rng.integers(10**8, 10**9, size=n)
    out = []
    for i, lang in enumerate(langs):
        if lang == "fa":
            text = fa[fa_pick[i]]
        elif lang == "en":
            text = en[en_pick[i]]
        else:  # a Persian comment with a short English phrase, as support chats read
            phrase = " ".join(en[en_pick[i]].split()[:6])
            text = f"{fa[fa_pick[i]]} {phrase}"
        if pii[i]:
            text += f" شماره من 09{phone[i]}" if lang != "en" else f" call me at +98 9{phone[i]}"
        out.append(text)
    return out


def _documents(
    pools: dict[str, list[str]],
    n: int,
    start: pd.Timestamp,
    days: int,
    customers: int,
    rng: np.random.Generator,
    id_offset: int,
    langs: np.ndarray | None = None,
) -> pd.DataFrame:
    source = rng.choice(list(SOURCES), size=n, p=SOURCE_SHARE)
    seconds = rng.integers(0, days * 86400, size=n)
    created = start + pd.to_timedelta(np.sort(seconds), unit="s")
    # Customers write unevenly: a Zipf-like draw, 75% of documents linked to one.
    cust = np.minimum(rng.zipf(1.3, size=n), customers) - 1
    linked = rng.random(n) < 0.75
    survey = source == "survey"
    nps = np.where(survey & (rng.random(n) < 0.6), rng.integers(0, 11, size=n), -1)
    return pd.DataFrame(
        {
            "id": [f"D{id_offset + i:09d}" for i in range(n)],
            "source": source,
            "channel": [SOURCES[s] for s in source],
            "text": _texts(pools, n, rng, langs),
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "customer_id": np.where(linked, [f"C{c:07d}" for c in cust], ""),
            "score": np.where(nps >= 0, nps.astype(str), ""),
            "score_type": np.where(nps >= 0, "nps", ""),
        }
    )


def _write_days(df: pd.DataFrame, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    day = pd.to_datetime(df["created_at"], utc=True).dt.strftime("%Y-%m-%d")
    for name, part in df.groupby(day, sort=True):
        part.to_csv(folder / f"feedback-{name}.csv", index=False)


def corpus_transactions(ids: list[str], rng: np.random.Generator) -> pd.DataFrame:
    """About five purchases per customer on uniform days of the year before ``END``."""
    per = rng.poisson(4, size=len(ids)) + 1
    owner = np.repeat(np.arange(len(ids)), per)
    when = END - pd.to_timedelta(rng.integers(0, 365, size=len(owner)), unit="D")
    return pd.DataFrame(
        {
            "customer_id": [ids[i] for i in owner],
            "date": when.strftime("%Y-%m-%d"),
            "amount": np.round(rng.lognormal(3.5, 0.8, size=len(owner)), 2),
        }
    )


def generate_corpus(
    datasets: Path | None,
    folder: Path,
    documents: int,
    *,
    days: int = 90,
    new_share: float = 0.01,
    seed: int = 0,
) -> Corpus:
    """``documents`` over ``days`` days into ``folder``, plus one more day of ``new_share`` new ones."""
    rng = np.random.default_rng(seed)
    pools = load_texts(datasets)
    n_customers = max(50, documents // 10)
    start = END - pd.Timedelta(days=days)
    base = _documents(pools, documents, start, days, n_customers, rng, 0)
    feedback_dir = folder / "feedback"
    _write_days(base, feedback_dir)
    n_new = max(1, round(documents * new_share))
    new = _documents(pools, n_new, END, 1, n_customers, rng, documents)
    new_dir = folder / "new"
    new_dir.mkdir(parents=True, exist_ok=True)
    new_file = new_dir / f"feedback-{END.date()}.csv"
    new.to_csv(new_file, index=False)

    _side_files(folder, n_customers, rng)
    return Corpus(
        feedback_dir,
        new_file,
        folder / "customers.csv",
        folder / "transactions.csv",
        documents,
        n_new,
    )


def _side_files(folder: Path, n_customers: int, rng: np.random.Generator) -> None:
    """customers.csv (plans, tenure, churn labels) and transactions.csv (~5 per customer)."""
    ids = [f"C{c:07d}" for c in range(n_customers)]
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "plan": rng.choice(PLANS, size=n_customers, p=[0.6, 0.3, 0.1]),
            "tenure_months": rng.integers(1, 72, size=n_customers),
            "churned": np.where(rng.random(n_customers) < 0.12, "true", "false"),
        }
    )
    transactions = corpus_transactions(ids, rng)
    customers.to_csv(folder / "customers.csv", index=False)
    transactions.to_csv(folder / "transactions.csv", index=False)


# --- --synthetic-classified: the value stages alone, at sizes classification cannot reach here

# Planted classifier output: share of documents with 0, 1 or 2 taxonomy themes (those with
# none are what theme discovery clusters), and the sentiment classes.
THEME_COUNTS = [0.3, 0.55, 0.15]
SENTIMENTS = {"negative": 0.45, "neutral": 0.2, "positive": 0.35}
CHUNK_DOCUMENTS = 100_000


def classified_rows(
    docs: pd.DataFrame,
    langs: np.ndarray,
    theme_ids: list[str],
    rng: np.random.Generator,
    pseudonym_key: bytes,
) -> pd.DataFrame:
    """``docs`` as the feedback table stores them, with planted labels in place of the
    classifiers' output: themes drawn by a Zipf-like popularity, a sentiment per document
    that each of its themes shares, and a score for every theme (the stored width). The
    raw texts' hashes are the warehouse's (``pseudonym_key``), as ingest writes them, so
    a run reading the same documents again finds them stored and unchanged."""
    from cxtext.ingest.dedupe import raw_text_hashes
    from cxtext.normalize.pii import redact_column
    from cxtext.schema import FEEDBACK, conform, utc_timestamp

    n = len(docs)
    popularity = 1.0 / np.arange(1, len(theme_ids) + 1)
    popularity /= popularity.sum()
    count = rng.choice(len(THEME_COUNTS), size=n, p=THEME_COUNTS)
    picks = rng.choice(len(theme_ids), size=(n, 2), p=popularity)
    sentiment = rng.choice(list(SENTIMENTS), size=n, p=list(SENTIMENTS.values()))
    scores = np.round(rng.random((n, len(theme_ids))) * 0.5, 2)
    topics, aspects, score_json = [], [], []
    for i in range(n):
        themes = list(dict.fromkeys(theme_ids[j] for j in picks[i, : count[i]]))
        for t in themes:
            scores[i, theme_ids.index(t)] += 0.5
        topics.append(json.dumps(themes))
        aspects.append(json.dumps(dict.fromkeys(themes, str(sentiment[i]))))
        score_json.append(
            json.dumps(dict(zip(theme_ids, scores[i].round(2).tolist(), strict=True)))
        )
    polarity = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}
    out = docs.drop(columns=["text"]).assign(
        created_at=[utc_timestamp(t) for t in docs["created_at"]],
        customer_id=docs["customer_id"].replace("", None),
        score=pd.to_numeric(docs["score"], errors="coerce"),
        score_type=docs["score_type"].replace("", None),
        language=langs,
        text_redacted=redact_column(docs["text"]),
        text_hash=raw_text_hashes(docs["text"], pseudonym_key),
        topics=topics,
        topic_scores=score_json,
        sentiment=sentiment,
        sentiment_score=[polarity[s] * 0.8 for s in sentiment],
        aspect_sentiment=aspects,
        topic_model="planted",
        sentiment_model="planted",
        metadata="{}",
        run_id="synthetic-classified",
    )
    return conform(out, FEEDBACK)


def generate_classified(
    datasets: Path | None,
    folder: Path,
    documents: int,
    warehouse: Path,
    theme_ids: list[str],
    *,
    days: int = 90,
    seed: int = 0,
) -> Corpus:
    """A warehouse already holding ``documents`` classified documents (planted labels, not
    the classifiers'), the customers and transactions files, and a one-night feedback
    file whose documents are all stored: a run over it reads nothing new but fits the
    churn model, ranks pain points and discovers themes over the whole stored history.
    Built in chunks of ``CHUNK_DOCUMENTS`` so this process never holds the corpus."""
    from cxtext.normalize.pseudonym_key import key_file_for, load_or_create_key
    from cxtext.store import staging
    from cxtext.store.warehouse import RunTables, open_warehouse, run_row

    key = load_or_create_key(key_file_for(str(warehouse), folder, postgres=False))
    rng = np.random.default_rng(seed)
    pools = load_texts(datasets)
    n_customers = max(50, documents // 10)
    start = END - pd.Timedelta(days=days)
    parts, last = [], None
    for index, offset in enumerate(range(0, documents, CHUNK_DOCUMENTS)):
        n = min(CHUNK_DOCUMENTS, documents - offset)
        langs = rng.choice(list(LANGUAGE_MIX), size=n, p=list(LANGUAGE_MIX.values()))
        docs = _documents(pools, n, start, days, n_customers, rng, offset, langs)
        last = docs.tail(100)
        rows = classified_rows(docs, langs, theme_ids, rng, key)
        parts.append(staging.write_partition(rows, folder / "staged", "feedback", index))
    with open_warehouse(warehouse) as wh:
        wh.commit_run(
            RunTables(
                run=run_row(run_id="synthetic-classified", status="planted"), feedback_files=parts
            )
        )
    shutil.rmtree(folder / "staged")
    night = folder / "feedback"
    night.mkdir(parents=True, exist_ok=True)
    last.to_csv(night / f"feedback-{END.date()}.csv", index=False)  # already stored: 0 new
    _side_files(folder, n_customers, rng)
    return Corpus(
        night, night / f"feedback-{END.date()}.csv", folder / "customers.csv",
        folder / "transactions.csv", documents, 0,
    )  # fmt: skip
