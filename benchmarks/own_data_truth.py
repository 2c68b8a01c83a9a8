"""The own-data path against planted truth, through the CLI only (docs/own-data.md).

Builds an export the way an organisation would have one, outside the repository: real
airline complaint tweets whose reason is known (6 reasons) and ParsiNLU grocery reviews
with one negative aspect (3 reasons); an old labelled file (half the tweets, 40% of the
reviews) and a new feedback export (the rest, plus praise tweets, "Can't Tell" tweets,
SnappFood comments and a failing-QR-payment complaint no label covers, in both
languages); customers from ``simulate_transactions`` with churn planted per reason
(``EFFECTS``: a frequent harmless decoy, a reason raised by the most valuable customers).
Then ``cxtext init``, ``taxonomy init --from-labels``, ``train``, ``models promote`` and
``run`` (an English CSV with its own column names and a day-first date format, a Persian
JSONL with Jalali dates), and compares the pain-point table with the truth: Spearman,
top 3, interval coverage, the decoy's rank, and whether discovery found the QR theme.

    nice -n 10 .venv/bin/python benchmarks/own_data_truth.py --out /tmp/own --seed 0

About 2.5 minutes (the run itself ~70 s wall, 36 CPU-s on 2 shared cores).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import jdatetime
import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import spearmanr

from cxtext.themes.from_labels import slug
from cxtext.value.simulate import simulate_transactions

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("CXTEXT_DATASETS", REPO.parent / "shared" / "datasets"))
# label: (share of the language's customers who raise it, log-odds effect on churn, raised
# mostly by the most valuable customers)
EFFECTS = {
    "Customer Service Issue": (0.30, 0.0, False),  # the decoy: frequent, harmless
    "Cancelled Flight": (0.10, 1.3, False),
    "Lost Luggage": (0.07, 1.0, True),
    "Late Flight": (0.15, 0.5, False),
    "Bad Flight": (0.06, 0.2, False),
    "Flight Booking Problems": (0.05, 0.0, False),
    "Food Taste": (0.25, 0.0, False),
    "Food Quality": (0.12, 1.1, False),
    "Value for Money": (0.10, 0.4, False),
    "QR_NEW": (0.04, 0.8, False),  # not in the labels: discovery should find it
}
FA_ASPECTS = {"طعم": "Food Taste", "کیفیت": "Food Quality", "ارزش خرید": "Value for Money"}
QR = {
    "en": (["The new QR code payment", "Paying with the QR code", "The QR scanner in the app",
            "QR pay at the counter", "Scan-to-pay with QR"],
           ["keeps failing with error 502", "never works, it just spins",
            "says the QR code is invalid every time", "crashed twice today",
            "charged me but the QR payment shows failed"]),
    "fa": (["پرداخت با کیو آر کد", "اسکن کیو آر کد توی اپ", "پرداخت QR جدید", "کیوآرکد پرداخت",
            "پرداخت با اسکن کد QR"],
           ["همش خطا میده", "اصلا کار نمیکنه و فقط میچرخه", "هر بار میگه کد نامعتبره",
            "امروز دوبار اپ رو بست", "پول کم شد ولی پرداخت ناموفق زد"]),
}  # fmt: skip
SOURCES = """
sources:
  - path: data/tweets_en.csv
    columns: {id: tweet_id, text: comment, created_at: date, customer_id: passenger}
    channel: social
    date_format: "%d/%m/%Y %H:%M"
    timezone: UTC
  - path: data/reviews_fa.jsonl
    timezone: Asia/Tehran
"""


def texts_by_label(seed: int) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The labelled file's rows and, per label, the texts left for the new export."""
    air = pd.read_csv(DATASETS / "en_airline_tweets" / "train.csv")
    parts = [
        pd.read_csv(DATASETS / "fa_parsinlu_food_aspects" / f) for f in ("train.csv", "dev.csv")
    ]
    rows = []
    for text, aspects in zip(*pd.concat(parts)[["text", "aspects"]].T.values, strict=True):
        negative = [k for k, v in json.loads(aspects).items() if int(v) < 0]
        if len(negative) == 1 and negative[0] in FA_ASPECTS:
            rows.append((text, FA_ASPECTS[negative[0]]))
    food = pd.DataFrame(rows, columns=["text", "topic"])
    labelled, pool = [], {}
    for label in [lab for lab in EFFECTS if lab != "QR_NEW"]:
        persian = label in FA_ASPECTS.values()
        source = food if persian else air
        texts = source.loc[source["topic"] == label, "text"].sample(frac=1, random_state=seed)
        k = int(len(texts) * (0.4 if persian else 0.5))
        labelled += [(t, label) for t in texts[:k]]
        pool[label] = texts[k:].tolist()
    frame = pd.DataFrame(labelled, columns=["comment", "reason"]).sample(frac=1, random_state=seed)
    frame.insert(0, "ticket_id", [f"OLD-{i:05d}" for i in range(len(frame))])
    return frame, pool


def build_export(folder: Path, seed: int, n: int = 2000) -> pd.DataFrame:
    """Write the export under ``folder``; return the truth per theme (and per customer in
    ``.attrs["customers"]``: the reasons they truly raised, churned, plan, tenure)."""
    rng, prng = np.random.default_rng(seed), random.Random(seed)
    labelled, pool = texts_by_label(seed)
    labelled.to_csv(folder / "labelled.csv", index=False)
    sim = simulate_transactions(n, seed=seed, id_prefix="CUS-")
    ids, clv = sim.truth.index.to_numpy(), sim.truth["true_clv"].to_numpy()
    lang = np.where(rng.random(n) < 0.3, "fa", "en")
    premium = rng.random(n) < 0.35
    tenure = 547.0 - sim.truth["first_day"].to_numpy()
    themes = list(EFFECTS)
    rank = pd.Series(clv).rank(pct=True).to_numpy()
    raised = np.zeros((n, len(themes)), dtype=bool)
    for j, label in enumerate(themes):
        share, _, rich = EFFECTS[label]
        own = (
            np.ones(n, bool)
            if label == "QR_NEW"
            else lang == ("fa" if label in FA_ASPECTS.values() else "en")
        )
        p = share * 4 * rank**3 if rich else share  # E[4u^3] = 1: same share, at the top
        raised[:, j] = own & (rng.random(n) < np.minimum(p, 1))
    beta = np.array([EFFECTS[t][1] for t in themes])
    z = (tenure - tenure.mean()) / tenure.std()
    eta = -2.0 - 0.6 * premium - 0.3 * z + raised @ beta
    churned = rng.random(n) < expit(eta)
    truth = []
    for j, label in enumerate(themes):
        aff = raised[:, j]
        up = (expit(eta - aff * beta[j] + beta[j]) - expit(eta - aff * beta[j]))[aff]
        truth.append({"theme_id": slug(label), "affected": int(aff.sum()), "true_uplift": up.mean(),
                      "true_mean_clv": float(clv[aff].mean()) if aff.any() else 0.0,
                      "true_clv_at_risk": float((clv[aff] * up).sum())})  # fmt: skip
    customers = pd.DataFrame(raised, index=ids, columns=[slug(t) for t in themes])
    customers = customers.assign(churned=churned, premium=premium, tenure_z=z)

    window_start = sim.as_of - pd.Timedelta(days=28)
    docs = []

    def add(cust: str, language: str, text: str, previous: bool = False) -> None:
        day = rng.uniform(0.2, 27.8) - (28 if previous else 0)
        docs.append((cust, language, text, window_start + pd.Timedelta(days=float(day))))

    def qr(language: str) -> str:
        a, b = QR[language]
        return f"{prng.choice(a)} {prng.choice(b)}"

    for i in range(n):
        for j in np.flatnonzero(raised[i]):
            label = themes[j]
            add(ids[i], lang[i], qr(lang[i]) if label == "QR_NEW" else prng.choice(pool[label]))
        known = [themes[j] for j in np.flatnonzero(raised[i]) if themes[j] != "QR_NEW"]
        if known and rng.random() < 0.10:  # an earlier complaint, for trends
            add(ids[i], lang[i], prng.choice(pool[prng.choice(known)]), previous=True)
    air = pd.read_csv(DATASETS / "en_airline_tweets" / "train.csv")
    snapp = pd.read_csv(DATASETS / "fa_snappfood_sentiment" / "dev.csv")
    english, persian = ids[lang == "en"], ids[lang == "fa"]
    for text in air.loc[air["sentiment"] == "positive", "text"].sample(300, random_state=seed):
        add(prng.choice(english), "en", text)
    for text in air.loc[air["topic"] == "Can't Tell", "text"].sample(120, random_state=seed):
        add(prng.choice(english), "en", text)
    for text in snapp["text"].sample(200, random_state=seed):
        add(prng.choice(persian), "fa", text)
    feedback = pd.DataFrame(docs, columns=["cust", "lang", "text", "at"]).sample(
        frac=1, random_state=seed
    )
    en = feedback[feedback["lang"] == "en"].reset_index(drop=True)
    pd.DataFrame({"tweet_id": [f"TW{i:06d}" for i in range(len(en))], "comment": en["text"],
                  "date": en["at"].dt.strftime("%d/%m/%Y %H:%M"), "passenger": en["cust"]}
                 ).to_csv(folder / "tweets_en.csv", index=False)  # fmt: skip
    fa = feedback[feedback["lang"] == "fa"].reset_index(drop=True)
    with open(folder / "reviews_fa.jsonl", "w", encoding="utf-8") as out:
        for i, row in fa.iterrows():
            local = (
                row["at"].floor("s").tz_convert("Asia/Tehran").to_pydatetime().replace(tzinfo=None)
            )
            jalali = jdatetime.datetime.fromgregorian(datetime=local).strftime("%Y/%m/%d %H:%M")
            out.write(json.dumps({"id": f"FA{i:06d}", "text": row["text"], "created_at": jalali,
                                  "customer_id": row["cust"], "channel": "review"},
                                 ensure_ascii=False) + "\n")  # fmt: skip
    churned_at = pd.Series(sim.as_of + pd.to_timedelta(rng.uniform(1, 60, n), unit="D")).where(
        churned
    )
    pd.DataFrame({"customer_id": ids, "plan": np.where(premium, "premium", "basic"),
                  "tenure_days": tenure.round(), "churned": churned,
                  "churned_at": churned_at.dt.strftime("%Y-%m-%d")}
                 ).to_csv(folder / "crm.csv", index=False)  # fmt: skip
    sim.transactions.assign(amount=lambda d: d["amount"].round(2)).to_csv(
        folder / "orders.csv", index=False
    )
    out = pd.DataFrame(truth)
    out.attrs["customers"] = customers  # who truly raised what, and churned (never exported)
    return out


def cli(args: list[str], cwd: Path | None = None) -> None:
    """``cxtext ARGS`` in a fresh process of this checkout, as a user would type it in ``cwd``."""
    code = "from cxtext.cli import app; app()"
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100"}
    subprocess.run(
        [sys.executable, "-c", code, *args], check=True, env=env, cwd=cwd, stdout=subprocess.DEVNULL
    )


def run_cli(workspace: Path) -> float:
    """The own-data commands of docs/own-data.md; the run's wall seconds."""

    def call(*args: str) -> None:
        cli(list(args), cwd=workspace)  # inside the workspace: the commands find it

    columns = ["--label-column", "reason", "--text-column", "comment"]
    call("taxonomy", "init", "--from-labels", "data/labelled.csv", *columns, "--force")
    call(
        "train", "--task", "topic", "--data", "data/labelled.csv", *columns, "--name", "reasons-v1"
    )
    call("models", "promote", "reasons-v1", "--as", "topic")
    with open(workspace / "cxtext.yaml", "a", encoding="utf-8") as settings:
        settings.write(SOURCES)
    start = pd.Timestamp.now()
    call(
        "run",
        "--customers",
        "data/crm.csv",
        "--transactions",
        "data/orders.csv",
        "--as-of",
        "2025-01-01",
    )
    return (pd.Timestamp.now() - start).total_seconds()


def compare(workspace: Path, truth: pd.DataFrame) -> dict:
    with duckdb.connect(str(workspace / "out" / "cxtext.duckdb"), read_only=True) as con:
        pain = con.sql(
            "select theme_id, rank, customers, churn_uplift, clv_at_risk, clv_at_risk_low, "
            "clv_at_risk_high from pain_points where segment = 'all'"
        ).df()
        qr = con.sql(  # the planted unknown theme's documents, and those given a candidate
            "select language, count(*) as docs, count(candidate_theme) as in_candidate "
            "from feedback where lower(text_redacted) like '%qr%' or text_redacted like '%کیو%' "
            "group by language order by language"
        ).df()
    m = truth.merge(pain, on="theme_id")
    m["true_rank"] = m["true_clv_at_risk"].rank(ascending=False, method="min").astype(int)
    m["inside"] = m["clv_at_risk_low"].le(m["true_clv_at_risk"]) & m["true_clv_at_risk"].le(
        m["clv_at_risk_high"]
    )
    print(m.round(3).sort_values("true_rank").to_string(index=False))
    return {
        "spearman": round(float(spearmanr(m["true_clv_at_risk"], m["clv_at_risk"]).statistic), 3),
        "top3": len(set(m.nsmallest(3, "true_rank")["theme_id"]) & set(m.nsmallest(3, "rank")["theme_id"])),
        "inside": f"{int(m['inside'].sum())}/{len(m)}",
        "decoy_rank": int(m.set_index("theme_id").loc["customer_service_issue", "rank"]),
        "qr_docs_in_a_candidate": {r.language: f"{r.in_candidate}/{r.docs}" for r in qr.itertuples()},
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="a folder outside the repository")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    workspace = args.out / f"ws{args.seed}"
    shutil.rmtree(workspace, ignore_errors=True)
    cli(["init", str(workspace)])
    truth = build_export(workspace / "data", args.seed)
    seconds = run_cli(workspace)
    print(
        json.dumps(
            {
                **compare(workspace, truth),
                "run_wall_s": round(seconds, 1),
                "load": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
