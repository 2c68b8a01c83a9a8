"""Simulated customer bases with known truth, to test the value and ranking stages.

:func:`simulate_transactions` draws a BG/NBD × Gamma-Gamma population (so fitted
parameters can be compared with the true ones) and each customer's true expected
CLV from their latent purchase rate, dropout probability and spend. :func:`simulate_voc`
adds plans, tenure, feedback in which chosen themes truly raise churn by known amounts
(including a correlated pair where only one causes churn), churn labels, and the true
uplift and CLV at risk per theme.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from cxtext.classify.confusion import assignment_confusion
from cxtext.schema import FEEDBACK, conform
from cxtext.themes.taxonomy import Taxonomy, Theme
from cxtext.value.btyd import discounted_value
from cxtext.value.rfm import summarize_transactions

AS_OF = pd.Timestamp("2025-01-01", tz="UTC")
BGNBD_TRUE = {"r": 0.8, "alpha": 40.0, "a": 0.8, "b": 4.0}  # alpha in days
GAMMA_GAMMA_TRUE = {"p": 6.0, "q": 4.0, "gamma": 40.0}  # mean spend p*gamma/(q-1) = 80


@dataclass
class SimulatedTransactions:
    """Transactions up to ``as_of`` (+ ``holdout``), the RFM summary at ``as_of`` and truth."""

    transactions: pd.DataFrame  # customer_id, date, amount (calibration period only)
    holdout: pd.DataFrame  # transactions in (as_of, as_of + holdout_days]
    summary: pd.DataFrame
    truth: pd.DataFrame  # per customer: lam, p_drop, nu, alive, true_clv
    as_of: pd.Timestamp
    bgnbd: dict[str, float] = field(default_factory=dict)
    gamma_gamma: dict[str, float] = field(default_factory=dict)


def simulate_transactions(
    n_customers: int,
    *,
    bgnbd: dict[str, float] | None = None,
    gamma_gamma: dict[str, float] | None = None,
    acquisition_days: int = 365,
    observation_days: int = 547,
    holdout_days: int = 0,
    as_of: pd.Timestamp = AS_OF,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
    seed: int = 0,
    id_prefix: str = "c",
) -> SimulatedTransactions:
    """A BG/NBD × Gamma-Gamma population, fully vectorised (1M transactions in seconds).

    Customers make their first purchase uniformly in the first ``acquisition_days`` of
    an ``observation_days`` period that ends at ``as_of``. Repeat purchase times are the
    first x order statistics of the Poisson arrivals in (first, end], x = min(arrivals,
    purchases until dropout), drawn via exponential spacings so no arrival beyond x is
    materialised.
    """
    bg = {**BGNBD_TRUE, **(bgnbd or {})}
    gg = {**GAMMA_GAMMA_TRUE, **(gamma_gamma or {})}
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    lam = rng.gamma(bg["r"], 1.0 / bg["alpha"], n)
    p_drop = rng.beta(bg["a"], bg["b"], n)
    nu = rng.gamma(gg["q"], 1.0 / gg["gamma"], n)
    start = rng.uniform(0, acquisition_days, n).round()  # day index of the first purchase
    T_total = observation_days + holdout_days - start  # days from first purchase to the end
    arrivals = rng.poisson(lam * T_total)
    until_drop = rng.geometric(p_drop)  # the dropping purchase is itself a purchase
    x = np.minimum(arrivals, until_drop)
    # Order statistics: U_(k) = S_k / S_{N+1}, S = cumulative Exp(1); S_{N+1} = S_x + Gamma(N+1-x).
    owner = np.repeat(np.arange(n), x)
    spacing = rng.exponential(1.0, owner.size)
    cums = np.cumsum(spacing)
    offsets = np.concatenate([[0], np.cumsum(x)[:-1]])
    base = np.concatenate([[0.0], cums])[offsets]  # cumsum before each customer's block
    s_k = cums - np.repeat(base, x)
    s_x = np.where(x > 0, np.concatenate([[0.0], cums])[offsets + x] - base, 0.0)
    s_total = s_x + rng.gamma(np.maximum(arrivals + 1 - x, 1e-12), 1.0)
    times = s_k / np.repeat(s_total, x) * np.repeat(T_total, x)
    cust = np.concatenate([np.arange(n), owner])
    day = np.concatenate([start, start[owner] + times])
    amount = rng.gamma(gg["p"], 1.0 / nu[cust])
    end_day = float(observation_days)
    dates = as_of - pd.to_timedelta(np.round((end_day - day) * 86400), unit="s")
    ids = pd.array([f"{id_prefix}{i:06d}" for i in range(n)], dtype="string")
    all_tx = pd.DataFrame({"customer_id": ids[cust], "date": dates, "amount": amount})
    all_tx = all_tx.sort_values(["customer_id", "date"], ignore_index=True)
    calib = all_tx[all_tx["date"] <= as_of].reset_index(drop=True)
    holdout = all_tx[all_tx["date"] > as_of].reset_index(drop=True)
    # alive at as_of: the dropping purchase has not happened by then
    arrivals_calib = np.bincount(cust[day <= end_day], minlength=n) - 1
    alive = until_drop > arrivals_calib
    truth = pd.DataFrame(
        {
            "lam": lam,
            "p_drop": p_drop,
            "nu": nu,
            "alive": alive,
            "true_clv": discounted_value(
                lam,
                p_drop,
                gg["p"] / nu,
                alive,
                horizon_months=horizon_months,
                annual_discount_rate=annual_discount_rate,
            ),
            "first_day": start,
        },
        index=pd.Index(ids, name="customer_id"),
    )
    return SimulatedTransactions(
        transactions=calib,
        holdout=holdout,
        summary=summarize_transactions(calib, as_of=as_of),
        truth=truth,
        as_of=as_of,
        bgnbd=bg,
        gamma_gamma=gg,
    )


# --- voice of customer with churn ---------------------------------------------------

# theme id -> (incidence of a negative mention per customer, true log-odds effect on churn)
THEME_EFFECTS: dict[str, tuple[float, float]] = {
    "billing": (0.12, 1.4),
    "delivery": (0.20, 0.7),
    "app_crash": (0.10, 1.0),
    "support": (0.15, 0.45),
    "login": (0.08, 0.25),
    "price": (0.18, 0.1),
    "ui": (0.10, 0.0),
    "refund": (0.0, 0.0),  # not drawn independently: follows billing (see below)
}
LABELS_FA = {
    "billing": "صورتحساب",
    "delivery": "ارسال",
    "app_crash": "خرابی برنامه",
    "support": "پشتیبانی",
    "login": "ورود",
    "price": "قیمت",
    "ui": "رابط کاربری",
    "refund": "بازپرداخت",
}
CAUSAL, NON_CAUSAL = "billing", "refund"


@dataclass
class SimulatedVoC:
    """Inputs of the value and pain-point stages plus the truth they should recover."""

    customers: pd.DataFrame  # customer_id, plan, tenure_days, churned, churned_at
    transactions: pd.DataFrame
    feedback: pd.DataFrame  # FEEDBACK columns
    taxonomy: Taxonomy
    truth: pd.DataFrame  # per theme: true_uplift, affected, true_clv_at_risk
    customer_truth: pd.DataFrame
    window_end: pd.Timestamp
    window_days: int


def simulation_taxonomy() -> Taxonomy:
    """The simulator's themes, with labels in both languages."""
    return Taxonomy(
        tuple(
            Theme(id=t, label_en=t.replace("_", " ").title(), label_fa=LABELS_FA[t])
            for t in THEME_EFFECTS
        )
    )


def simulate_voc(
    n_customers: int = 4000,
    *,
    seed: int = 0,
    window_days: int = 28,
    unlinked_share: float = 0.05,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
    effects: dict[str, tuple[float, float]] | None = None,
) -> SimulatedVoC:
    """A customer base whose themes raise churn by known amounts.

    Churn is logistic in plan (premium churns less), tenure and the negative-mention
    indicators with the log-odds effects of :data:`THEME_EFFECTS`. ``refund`` is
    raised by 55% of the customers who raise ``billing`` (and 2% of the others) but has
    no effect of its own, so a per-theme comparison would credit it with billing's
    churn; support issues are commoner on the basic plan, which also churns more
    (confounding that the plan covariate removes). The true uplift of theme t is the
    mean over its affected customers of P(churn | with t) − P(churn | without t).
    ``effects`` replaces some of :data:`THEME_EFFECTS`' (incidence, effect) pairs, same
    themes (e.g. a frequent harmless ``ui`` for the ranking benchmark).
    """
    effects = {**THEME_EFFECTS, **(effects or {})}
    if set(effects) != set(THEME_EFFECTS):
        raise ValueError(f"effects: themes must be among {list(THEME_EFFECTS)}")
    rng = np.random.default_rng(seed + 1_000)
    sim = simulate_transactions(
        n_customers,
        seed=seed,
        horizon_months=horizon_months,
        annual_discount_rate=annual_discount_rate,
    )
    ids = sim.truth.index.to_numpy()
    n = len(ids)
    premium = rng.random(n) < 0.35
    tenure = 547.0 - sim.truth["first_day"].to_numpy()  # days since the first purchase
    themes = list(THEME_EFFECTS)
    ind = np.zeros((n, len(themes)), dtype=bool)
    for j, t in enumerate(themes):
        rate = effects[t][0]
        if t == "support":
            rate = np.where(premium, 0.06, 0.20)
        ind[:, j] = rng.random(n) < rate
    b, r = themes.index(CAUSAL), themes.index(NON_CAUSAL)
    ind[:, r] = rng.random(n) < np.where(ind[:, b], 0.55, 0.02)
    beta = np.array([effects[t][1] for t in themes])
    z_tenure = (tenure - tenure.mean()) / tenure.std()
    eta0 = -2.0 - 0.6 * premium - 0.3 * z_tenure
    eta = eta0 + ind @ beta
    churned = rng.random(n) < expit(eta)

    window_end = sim.as_of
    window_start = window_end - pd.Timedelta(days=window_days)
    churn_offset = pd.to_timedelta(np.round(rng.uniform(1, 60, n) * 86400), unit="s")
    churned_at = pd.Series(window_end + churn_offset).where(churned)
    customers = pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string"),
            "plan": pd.array(np.where(premium, "premium", "basic"), dtype="string"),
            "tenure_days": tenure.astype(float),
            "churned": churned,
            "churned_at": churned_at.to_numpy(),
        }
    )

    # truth per theme
    truth_rows = []
    clv = sim.truth["true_clv"].to_numpy()
    for j, t in enumerate(themes):
        aff = ind[:, j]
        with_t = expit(eta - ind[:, j] * beta[j] + beta[j])
        without_t = expit(eta - ind[:, j] * beta[j])
        uplift = float((with_t - without_t)[aff].mean()) if aff.any() else 0.0
        truth_rows.append(
            {
                "theme_id": t,
                "beta": beta[j],
                "affected": int(aff.sum()),
                "true_uplift": uplift,
                "true_clv_at_risk": float(clv[aff].sum() * uplift),
            }
        )
    truth = pd.DataFrame(truth_rows).sort_values(
        "true_clv_at_risk", ascending=False, ignore_index=True
    )
    truth["true_rank"] = np.arange(1, len(truth) + 1)

    feedback = _simulate_feedback(
        rng, ids, premium, ind, themes, window_start, window_days, unlinked_share
    )
    customer_truth = sim.truth.assign(plan=customers["plan"].to_numpy(), churned=churned)
    return SimulatedVoC(
        customers=customers,
        transactions=sim.transactions,
        feedback=feedback,
        taxonomy=simulation_taxonomy(),
        truth=truth,
        customer_truth=customer_truth,
        window_end=window_end,
        window_days=window_days,
    )


def _simulate_feedback(
    rng: np.random.Generator,
    ids: np.ndarray,
    premium: np.ndarray,
    ind: np.ndarray,
    themes: list[str],
    window_start: pd.Timestamp,
    window_days: int,
    unlinked_share: float,
) -> pd.DataFrame:
    """Documents: one per negative mention (billing and refund often in one ticket), some
    positive mentions that do not move churn, NPS scores on a third, a few unlinked."""
    rows: list[dict] = []

    def add(
        cust: str | None, topics: list[str], sentiment: str, plan: str, previous: bool = False
    ) -> None:
        offset = rng.uniform(0, window_days) - (window_days if previous else 0)
        score_type = "nps" if rng.random() < 0.35 else None
        score = None
        if score_type:
            score = float(rng.integers(0, 7) if sentiment == "negative" else rng.integers(7, 11))
        polarity = {"negative": -0.8, "neutral": 0.0, "positive": 0.7}[sentiment]
        words = " and ".join(t.replace("_", " ") for t in topics)
        text = {
            "negative": f"Terrible {words}, this keeps happening to me and nobody fixes it.",
            "neutral": f"A question about {words}.",
            "positive": f"Really happy with the {words}, thanks!",
        }[sentiment]
        rows.append(
            {
                "source": "sim",
                "id": f"d{len(rows):07d}",
                "channel": "survey" if score_type else "ticket",
                "created_at": window_start + pd.Timedelta(seconds=round(offset * 86400)),
                "customer_id": cust,
                "score": score,
                "score_type": score_type,
                "language": "en",
                "text_redacted": text,
                "topics": json.dumps(topics),
                "topic_scores": json.dumps(dict.fromkeys(topics, 0.9)),
                "sentiment": sentiment,
                "sentiment_score": polarity + rng.uniform(-0.15, 0.15),
                "aspect_sentiment": json.dumps(dict.fromkeys(topics, sentiment)),
                "metadata": json.dumps({"plan": plan}),
            }
        )

    b, r = themes.index(CAUSAL), themes.index(NON_CAUSAL)
    for i, cust in enumerate(ids):
        plan = "premium" if premium[i] else "basic"
        raised = [themes[j] for j in np.flatnonzero(ind[i])]
        if ind[i, b] and ind[i, r] and rng.random() < 0.5:
            add(cust, [CAUSAL, NON_CAUSAL], "negative", plan)
            raised = [t for t in raised if t not in (CAUSAL, NON_CAUSAL)]
        for t in raised:
            add(cust, [t], "negative", plan)
        if rng.random() < 0.15:  # praise: mentions that are not negative
            add(cust, [themes[rng.integers(len(themes))]], "positive", plan)
        if rng.random() < 0.10:  # previous window, for trends: an earlier complaint
            own = np.flatnonzero(ind[i])  # about a problem the customer truly has, else a
            if len(own):  # question: a negative mention counts as exposure wherever it falls
                add(cust, [themes[rng.choice(own)]], "negative", plan, previous=True)
            else:
                add(cust, [themes[rng.integers(len(themes))]], "neutral", plan, previous=True)
    n_unlinked = int(unlinked_share * len(rows))
    for _ in range(n_unlinked):
        j = rng.integers(len(themes))
        add(None, [themes[j]], "negative", "premium" if rng.random() < 0.35 else "basic")
    return conform(pd.DataFrame(rows), FEEDBACK)


# --- a noisy classifier of known confusion ----------------------------------------

# P(predicted label | true label), rows and columns negative, neutral, positive
SENTIMENT_NOISE = np.array([[0.85, 0.10, 0.05], [0.20, 0.60, 0.20], [0.05, 0.15, 0.80]])


@dataclass(frozen=True)
class ClassifierNoise:
    """A topic assignment that finds a true theme with probability ``recall`` and adds a
    false one with probability ``false_positive_rate`` per document, and a sentiment
    model with confusion ``sentiment`` (rows true, columns predicted)."""

    recall: dict[str, float]
    false_positive_rate: dict[str, float]
    sentiment: np.ndarray = field(default_factory=lambda: SENTIMENT_NOISE.copy())
    held_out: int = 800  # labelled documents the card's confusion is measured on


def default_noise() -> ClassifierNoise:
    """Per-theme recall 0.55–0.85 and false-positive rates 0.5–3%, like the real topic-v1."""
    themes = list(THEME_EFFECTS)
    recall = dict(zip(themes, [0.75, 0.6, 0.85, 0.55, 0.7, 0.65, 0.8, 0.6], strict=True))
    fpr = dict(zip(themes, [0.01, 0.02, 0.005, 0.03, 0.01, 0.02, 0.015, 0.02], strict=True))
    return ClassifierNoise(recall, fpr)


def add_classifier_noise(
    voc: SimulatedVoC, noise: ClassifierNoise, *, seed: int = 0
) -> tuple[SimulatedVoC, dict, dict[str, dict]]:
    """(``voc`` with noisy topics and sentiment, topic card, sentiment cards by language).

    The cards hold the confusion *measured* on ``noise.held_out`` simulated labelled
    documents (as a trainer measures it), not the true rates, so the correction has
    to live with the same estimation error as on real data.
    """
    rng = np.random.default_rng(seed + 2_000)
    themes = list(THEME_EFFECTS)
    fb = voc.feedback.copy()
    true_topics = [json.loads(t) for t in fb["topics"]]
    true_sent = fb["sentiment"].astype(str).tolist()
    labels = ["negative", "neutral", "positive"]

    def corrupt(topics: list[list[str]], sentiments: list[str]):
        out_t, out_s = [], []
        for tops, sent in zip(topics, sentiments, strict=True):
            got = [
                t
                for t in themes
                if rng.random() < (noise.recall[t] if t in tops else noise.false_positive_rate[t])
            ]
            out_t.append(got)
            out_s.append(labels[rng.choice(3, p=noise.sentiment[labels.index(sent)])])
        return out_t, out_s

    topics, sentiments = corrupt(true_topics, true_sent)
    fb["topics"] = pd.array([json.dumps(t) for t in topics], dtype="string")
    fb["topic_scores"] = pd.array(
        [json.dumps(dict.fromkeys(t, 0.9)) for t in topics], dtype="string"
    )
    fb["sentiment"] = pd.array(sentiments, dtype="string")
    fb["aspect_sentiment"] = pd.array(
        [json.dumps(dict.fromkeys(t, s)) for t, s in zip(topics, sentiments, strict=True)],
        dtype="string",
    )

    # the held-out measurement: documents like the feedback, labelled by hand
    pick = rng.integers(0, len(fb), noise.held_out)
    gold_t = [true_topics[i] for i in pick]
    gold_s = [true_sent[i] for i in pick]
    pred_t, pred_s = corrupt(gold_t, gold_s)
    matrix = np.zeros((3, 3), dtype=int)
    for g, p in zip(gold_s, pred_s, strict=True):
        matrix[labels.index(g), labels.index(p)] += 1
    topic_card = {
        "name": "simulated-topic",
        "assignment_confusion": assignment_confusion(pred_t, gold_t, themes, sources=["simulated"]),
    }
    sentiment_cards = {
        "en": {"metrics": {"confusion": {"labels": labels, "matrix": matrix.tolist()}}}
    }
    noisy = SimulatedVoC(
        customers=voc.customers,
        transactions=voc.transactions,
        feedback=conform(fb, FEEDBACK),
        taxonomy=voc.taxonomy,
        truth=voc.truth,
        customer_truth=voc.customer_truth,
        window_end=voc.window_end,
        window_days=voc.window_days,
    )
    return noisy, topic_card, sentiment_cards
