"""Theme discovery against planted themes the taxonomy does not know (docs/topics.md).

Each seed builds one window of unclaimed documents: an English background of airline
tweets that name no complaint (positive, neutral, "Can't Tell") and a Persian one of
SnappFood comments, 2,000 each, into which real label classes are planted at 1, 2 or 4%
of the language's background: two English-only classes (an airline reason or Banking77
intent, and a Bitext support category), two Persian-only classes (a ParsiNLU grocery
category, and one-star bank-app reviews or negative Taaghche book comments) and one
composed theme in both languages (subject x problem phrasings with greetings and
sign-offs, like the QR theme of benchmarks/own_data_truth.py). Texts go through the
normalize stage (redaction, hazm / English normalisation, language detection) and
:func:`discover_themes` runs on the window as the nightly flow calls it. Per planted theme
and language: found (a candidate whose documents are mostly the theme's), split (how
many such candidates), purity and recall of those candidates, and for the composed
themes whether one candidate holds both languages (linked). Candidates that belong to
no planted theme are counted as "other" (the background has real themes of its own:
pizza, cold food, thanks; they are not all false).

Tuning seeds (below 10) and held-out seeds (10 and up) plant disjoint classes and
composed themes, so a change tuned on the first is judged on the second. ``--scale N``
times discovery alone on N window documents drawn from the datasets (30% unclaimed, the
language mix of benchmarks/corpus.py) and reports CPU seconds.

    nice -n 10 .venv/bin/python benchmarks/discovery_quality.py --seeds 0 1 2
    nice -n 10 .venv/bin/python benchmarks/discovery_quality.py --seeds 10 11 12 13 14
    nice -n 10 .venv/bin/python benchmarks/discovery_quality.py --scale 100000 --seeds
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from cxtext.config import load_settings
from cxtext.normalize.documents import normalize_text
from cxtext.themes.discovery import discover_themes

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("CXTEXT_DATASETS", REPO.parent / "shared" / "datasets"))
END = pd.Timestamp("2026-11-20", tz="UTC")
HELD_OUT_FROM = 10  # seeds from here on plant the held-out classes
SHARES = (0.01, 0.02, 0.04)
BACKGROUND = 2000  # unclaimed documents per language before planting

# Composed themes: (English subjects, English problems, Persian subjects, Persian problems)
COMPOSED = {
    "wallet_topup": (
        ["Topping up my wallet", "The wallet top-up", "Adding credit to the wallet",
         "Charging my in-app wallet", "Wallet recharge", "My wallet balance top up"],
        ["failed three times today", "took the money but the balance did not change",
         "shows an error at the last step", "is stuck on pending", "keeps timing out",
         "says try again later"],
        ["شارژ کیف پول", "افزایش اعتبار کیف پول", "شارژ کردن کیف پولم", "کیف پول اپ",
         "پرداخت برای شارژ کیف پول", "موجودی کیف پول"],
        ["امروز سه بار ناموفق بود", "پول کم شد ولی موجودی زیاد نشد", "مرحله آخر خطا میده",
         "همش در انتظار میمونه", "هی قطع میشه", "میگه بعدا تلاش کنید"],
    ),
    "promo_code": (
        ["The discount code", "My promo code", "The voucher from your email", "The coupon",
         "The offer code", "Your promo"],
        ["is not applied at checkout", "says expired although it is valid",
         "did not reduce the price", "gives an invalid code error",
         "disappeared from my account", "only works on the first order apparently"],
        ["کد تخفیف", "کد تخفیفی که پیامک شد", "کوپن تخفیف", "کد هدیه", "تخفیف اولین سفارش",
         "کد پروموشن"],
        ["موقع پرداخت اعمال نمیشه", "میگه منقضی شده در حالی که معتبره", "قیمت رو کم نکرد",
         "خطای کد نامعتبر میده", "از حسابم پاک شد", "فقط برای سفارش اول کار میکنه"],
    ),
    "login_otp": (
        ["The login code", "The SMS verification code", "The one-time password",
         "The OTP text", "The sign-in code", "The verification SMS"],
        ["never arrives", "comes after it has expired", "arrives twenty minutes late",
         "is rejected as wrong", "is sent to my old number",
         "does not come at all so I cannot log in"],
        ["کد ورود", "کد تایید پیامکی", "رمز یکبار مصرف", "پیامک کد", "کد فعالسازی",
         "پیامک تایید"],
        ["اصلا نمیاد", "بعد از منقضی شدن میرسه", "بیست دقیقه دیر میرسه", "میگه اشتباهه",
         "به شماره قبلیم میره", "نمیاد و نمیتونم وارد بشم"],
    ),
    "auto_renewal": (
        ["My subscription", "The premium membership", "The monthly plan", "The auto renewal",
         "My annual membership", "The trial"],
        ["renewed without asking me", "charged me twice this month",
         "was billed after I cancelled it", "cannot be cancelled in the app",
         "charged the full price instead of the trial",
         "keeps charging my card after cancelling"],
        ["اشتراکم", "عضویت ویژه", "اشتراک ماهانه", "تمدید خودکار", "اشتراک سالانه",
         "دوره آزمایشی"],
        ["بدون اجازه تمدید شد", "این ماه دوبار پول کم کرد", "بعد از لغو باز پول برداشت",
         "توی اپ لغو نمیشه", "به جای رایگان پول کامل کم کرد",
         "بعد از لغو هم از کارتم برداشت میکنه"],
    ),
}  # fmt: skip
OPENERS = {
    "en": ["", "", "", "Hi, ", "Seriously, ", "@support ", "Again: ", "Hello team, "],
    "fa": ["", "", "", "سلام ", "واقعا ", "باز هم ", "سلام وقت بخیر ", "ببخشید "],
}
CLOSERS = {
    "en": ["", "", "", " please fix this", "!!!", " very annoying", " what is going on?",
           " thanks"],
    "fa": ["", "", "", " لطفا درستش کنید", "!!!", " خیلی بده", " چه خبره؟", " ممنون"],
}  # fmt: skip


@cache
def _csv(name: str, file: str = "train.csv") -> pd.DataFrame:
    return pd.read_csv(DATASETS / name / file)


def _parsinlu() -> pd.DataFrame:
    parts = [_csv("fa_parsinlu_food_aspects", f) for f in ("train.csv", "dev.csv")]
    return pd.concat(parts, ignore_index=True)


def _rows(name: str, column: str, value: object) -> list[str]:
    """Texts of a dataset whose ``column`` is ``value``."""
    frame = _parsinlu() if name == "fa_parsinlu_food_aspects" else _csv(name)
    return frame.loc[frame[column] == value, "text"].dropna().tolist()


def airline(topic: str) -> Callable[[str], list[str]]:
    return lambda _lang: _rows("en_airline_tweets", "topic", topic)


def banking77(intent: str) -> Callable[[str], list[str]]:
    return lambda _lang: _rows("en_banking77", "topic", intent)


def parsinlu_category(category: str) -> Callable[[str], list[str]]:
    return lambda _lang: _rows("fa_parsinlu_food_aspects", "category", category)


def bitext(category: str) -> Callable[[str], list[str]]:
    return lambda _lang: _rows("en_bitext_support", "category", category)


def rated(name: str, value: object) -> Callable[[str], list[str]]:
    """Bank-app reviews of one star, or Taaghche comments rated negative."""
    column = "rating" if name == "fa_bank_app_reviews" else "sentiment"
    return lambda _lang: _rows(name, column, value)


def composed(name: str) -> Callable[[str], list[str]]:
    en_subj, en_prob, fa_subj, fa_prob = COMPOSED[name]

    def texts(lang: str) -> list[str]:
        subjects, problems = (en_subj, en_prob) if lang == "en" else (fa_subj, fa_prob)
        return [
            f"{o}{s} {p}{c}"
            for s in subjects
            for p in problems
            for o, c in zip(OPENERS[lang], CLOSERS[lang], strict=True)
        ]

    return texts


@dataclass(frozen=True)
class Plant:
    name: str
    languages: tuple[str, ...]
    texts: Callable[[str], list[str]]


PLANTS = {  # per split, per slot: the classes a seed draws one of
    "tune": {
        "en": [
            Plant("airline:Lost Luggage", ("en",), airline("Lost Luggage")),
            Plant("banking77:card_arrival", ("en",), banking77("card_arrival")),
            Plant(
                "airline:Flight Attendant Complaints",
                ("en",),
                airline("Flight Attendant Complaints"),
            ),
        ],
        "en2": [
            Plant("bitext:DELIVERY", ("en",), bitext("DELIVERY")),
            Plant("bitext:SHIPPING_ADDRESS", ("en",), bitext("SHIPPING_ADDRESS")),
        ],
        "fa": [
            Plant("parsinlu:tea", ("fa",), parsinlu_category("چای")),
            Plant("parsinlu:honey", ("fa",), parsinlu_category("عسل")),
            Plant("parsinlu:biscuits", ("fa",), parsinlu_category("بیسکویت و ویفر")),
        ],
        "fa2": [Plant("bank_app:rating=1", ("fa",), rated("fa_bank_app_reviews", 1))],
        "composed": [
            Plant(f"composed:{n}", ("en", "fa"), composed(n))
            for n in ("wallet_topup", "promo_code")
        ],
    },
    "held_out": {
        "en": [
            Plant("airline:Flight Booking Problems", ("en",), airline("Flight Booking Problems")),
            Plant("banking77:lost_or_stolen_card", ("en",), banking77("lost_or_stolen_card")),
            Plant("banking77:exchange_rate", ("en",), banking77("exchange_rate")),
        ],
        "en2": [
            Plant("bitext:REFUND", ("en",), bitext("REFUND")),
            Plant("bitext:CANCELLATION_FEE", ("en",), bitext("CANCELLATION_FEE")),
        ],
        "fa": [
            Plant("parsinlu:coffee", ("fa",), parsinlu_category("قهوه")),
            Plant("parsinlu:tuna", ("fa",), parsinlu_category("تن ماهی")),
            Plant("parsinlu:soda", ("fa",), parsinlu_category("نوشابه")),
        ],
        "fa2": [Plant("taaghche:negative", ("fa",), rated("fa_taaghche_sentiment", "negative"))],
        "composed": [
            Plant(f"composed:{n}", ("en", "fa"), composed(n)) for n in ("login_otp", "auto_renewal")
        ],
    },
}


def background(lang: str, n: int, rng: np.random.Generator) -> list[str]:
    if lang == "en":
        air = _csv("en_airline_tweets")
        pool = air.loc[air["topic"].isna() | (air["topic"] == "Can't Tell"), "text"]
    else:
        pool = pd.concat(
            [_csv("fa_snappfood_sentiment", f)["text"] for f in ("train.csv", "dev.csv")]
        )
    pool = pool.dropna().drop_duplicates().tolist()
    return [pool[i] for i in rng.choice(len(pool), size=n, replace=False)]


def build_window(seed: int) -> tuple[pd.DataFrame, list[Plant]]:
    """Unclaimed feedback of one window with a ``truth`` column (planted name or "")."""
    rng = np.random.default_rng(seed)
    split = PLANTS["held_out" if seed >= HELD_OUT_FROM else "tune"]
    chosen = [split[slot][int(rng.integers(len(split[slot])))] for slot in split]
    rows = []
    for lang in ("en", "fa"):
        rows += [(lang, t, "") for t in background(lang, BACKGROUND, rng)]
    for plant in chosen:
        for lang in plant.languages:
            pool = list(dict.fromkeys(plant.texts(lang)))
            k = min(len(pool), int(round(float(rng.choice(SHARES)) * BACKGROUND)))
            rows += [(lang, pool[i], plant.name) for i in rng.choice(len(pool), k, replace=False)]
    df = pd.DataFrame(rows, columns=["planted_language", "text", "truth"])
    df = df.sample(frac=1, random_state=seed).reset_index(drop=True)
    # As the normalize stage stores them: redacted, hazm- or English-normalised, language
    # detected (a Persian text with Latin words may be "mixed").
    pairs = [normalize_text(t) for t in df["text"]]
    df["language"] = [p[0] for p in pairs]
    df["text_redacted"] = [p[1] for p in pairs]
    n = len(df)
    df["source"] = "tickets"
    df["id"] = [f"S{seed}-{i:05d}" for i in range(n)]
    df["created_at"] = END - pd.to_timedelta(rng.integers(3600, 27 * 86400, n), unit="s")
    df["topics"] = "[]"
    return df, chosen


def score(df: pd.DataFrame, candidate: pd.Series, plants: list[Plant]) -> tuple[list[dict], int]:
    """Per planted theme and language: found, split, purity, recall, linked; and the number
    of candidates that belong to no planted theme."""
    frame = pd.DataFrame({"truth": df["truth"], "lang": df["planted_language"], "cand": candidate})
    assigned = frame.dropna(subset=["cand"])
    owner = assigned.groupby("cand")["truth"].agg(lambda s: s.value_counts().idxmax())
    rows = []
    for plant in plants:
        own = set(owner[owner == plant.name].index)
        linked = any(
            assigned.loc[
                (assigned["cand"] == c) & (assigned["truth"] == plant.name), "lang"
            ].nunique()
            > 1
            for c in own
        )
        for lang in plant.languages:
            theme = frame[(frame["truth"] == plant.name) & (frame["lang"] == lang)]
            in_lang = assigned[assigned["cand"].isin(own) & (assigned["lang"] == lang)]
            hits = int((in_lang["truth"] == plant.name).sum())
            split = int(in_lang["cand"].nunique())
            rows.append(
                {
                    "theme": plant.name,
                    "lang": lang,
                    "docs": len(theme),
                    "found": split > 0,
                    "split": split,
                    "purity": round(hits / len(in_lang), 3) if len(in_lang) else None,
                    "recall": round(hits / len(theme), 3),
                    "linked": linked if len(plant.languages) > 1 else None,
                }
            )
    other = int((owner == "").sum())
    return rows, other


def _mode(truth: pd.Series) -> str | None:
    return str(truth.mode()[0]) if len(truth) else None


def run_seed(seed: int, options) -> tuple[list[dict], dict]:
    df, plants = build_window(seed)
    cpu, wall = time.process_time(), time.perf_counter()
    found = discover_themes(
        df,
        None,
        window_start=END - pd.Timedelta(days=28),
        window_end=END,
        options=options,
    )
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    candidate = df[["source", "id"]].merge(found.assignments, on=["source", "id"], how="left")
    cand = candidate["candidate_theme"].reset_index(drop=True)
    rows, other = score(df, cand, plants)
    for r in rows:
        r["seed"] = seed
    links = found.candidates.loc[found.candidates["language"] == "en+fa", "theme_id"]
    # A linked candidate's halves are its documents of each detected language (a
    # Persian-planted review written in Latin letters is in the English half).
    owners = [
        {
            lang: _mode(df.loc[(cand == theme) & (df["language"] == lang), "truth"])
            for lang in ("en", "fa")
        }
        for theme in links
    ]
    summary = {
        "seed": seed,
        "documents": len(df),
        "candidates": len(found.candidates),
        "other_candidates": other,
        "links": len(owners),
        # an en+fa candidate whose two halves are mostly different planted themes, or a
        # planted theme and background
        "false_links": sum(o["en"] != o["fa"] for o in owners),
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
    }
    return rows, summary


def summarise(rows: pd.DataFrame) -> dict:
    """Found rate, mean split (over found), mean purity and recall, link rate, per language."""
    out = {}
    for lang, g in rows.groupby("lang"):
        hit = g[g["found"]]
        out[lang] = {
            "found": f"{int(g['found'].sum())}/{len(g)}",
            "mean_split": round(float(hit["split"].mean()), 2) if len(hit) else None,
            "one_candidate": f"{int((hit['split'] == 1).sum())}/{len(hit)}",
            "purity": round(float(hit["purity"].mean()), 3) if len(hit) else None,
            "recall": round(float(g["recall"].mean()), 3),
        }
    pairs = rows[rows["linked"].notna()].drop_duplicates(["seed", "theme"])
    out["linked"] = f"{int(pairs['linked'].astype(bool).sum())}/{len(pairs)}"
    return out


def scale_run(n: int, options, seed: int = 0) -> dict:
    """CPU seconds of discovery on ``n`` window documents, 30% unclaimed (fa 55%, en 35%,
    mixed 10%, as benchmarks/corpus.py draws them)."""
    from benchmarks.corpus import LANGUAGE_MIX, _texts, load_texts

    rng = np.random.default_rng(seed)
    pools = load_texts(DATASETS)
    langs = rng.choice(list(LANGUAGE_MIX), size=n, p=list(LANGUAGE_MIX.values()))
    free = rng.random(n) < 0.3
    df = pd.DataFrame(
        {
            "source": "tickets",
            "id": [f"D{i:09d}" for i in range(n)],
            "created_at": END - pd.to_timedelta(rng.integers(3600, 27 * 86400, n), unit="s"),
            "language": langs,
            "text_redacted": _texts(pools, n, rng, langs),
            "topics": np.where(free, "[]", '["delivery"]'),
        }
    )
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu, wall = time.process_time(), time.perf_counter()
    found = discover_themes(
        df,
        None,
        window_start=END - pd.Timedelta(days=28),
        window_end=END,
        options=options,
    )
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "documents": n,
        "unclaimed": int(free.sum()),
        "candidates": len(found.candidates),
        "cpu_s": round(time.process_time() - cpu, 1),
        "wall_s": round(time.perf_counter() - wall, 1),
        "max_rss_mib": round(max(before.ru_maxrss, after.ru_maxrss) / 1024),
        "load": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--scale", type=int, default=0, help="also time discovery on N documents")
    ap.add_argument("--link", type=float, help="discovery.link_margin for this run")
    ap.add_argument("--out", type=Path, help="write the per-theme rows (CSV) and summary (JSON)")
    args = ap.parse_args(argv)
    options = load_settings(None).discovery
    if args.link is not None:
        options = replace(options, link_margin=args.link)
    rows, seeds = [], []
    for seed in args.seeds:
        r, s = run_seed(seed, options)
        rows += r
        seeds.append(s)
    result: dict = {"load": round(os.getloadavg()[0], 2), "seeds": seeds}
    if rows:
        table = pd.DataFrame(rows)
        print(table.to_string(index=False))
        result["summary"] = summarise(table)
    if args.scale:
        result["scale"] = scale_run(args.scale, options)
    print(json.dumps(result, ensure_ascii=False))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        if rows:
            pd.DataFrame(rows).to_csv(args.out / "themes.csv", index=False)
        (args.out / "summary.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
