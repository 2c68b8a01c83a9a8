"""The pain-point ranking against known truth: which rank basis orders themes best.

Two sources of tables with known true CLV at risk per theme:

- ``sim``: ``simulate_voc`` (8 themes: effects 1.4 to 0, a frequent harmless theme
  ``ui`` and a non-causal companion ``refund``) at ``--customers`` sizes, with the
  simulated classifier's noise and the misclassification correction (``corrected``)
  or with the true labels (``perfect``); value, uplift and ranking as the nightly flow
  runs them (``cxtext.value.evaluate``'s settings).
- ``own``: the warehouses that ``benchmarks/own_data_truth.py --out DIR --seed N`` left
  (real texts through the CLI), with the truth rebuilt from the same seed; with
  ``--recompute`` the churn model and pain points are recomputed by this code on the
  stored feedback (a change to the value stages measured without a new CLI run).

Each source's "all" pain-point rows are cached (CSV under ``--cache``); the rank bases
are then applied to the same rows, so they differ in nothing but the order:

- ``point``: the CLV-at-risk figure (main until session 7);
- ``lower``: its interval's low end;
- ``shipped`` (``cxtext.painpoints.order``): themes whose churn uplift's interval holds 0
  (not distinguishable from no effect) after the others, each part by the figure;
  ``clv_part``: the same with the CLV-at-risk interval reaching 0 (wider: it holds the
  count's and the CLV's spread too); ``uplift_part``: the shipped rule written out;
- ``flat``: people × mean CLV × E[max(0, u)] under the bootstrap's spread alone (no prior:
  the expected loss); ``normal``: the same after a N(0, τ²) prior fitted on the run's
  themes (empirical Bayes); ``ash``: after the adaptive-shrinkage prior (Stephens 2017,
  a zero-centred mixture fitted by EM); ``ash_null10``: with ashr's null-biased penalty.

Reported per basis: Spearman and Kendall (tau-b) with the truth, NDCG (gain: true CLV at
risk), top-3 precision, the best rank of a zero-effect theme and how often one is in the
top 3, over the seeds given; interval coverage (which no basis changes) once.

    nice -n 10 python benchmarks/ranking_truth.py --seeds 0-9 --customers 2000,4000
    nice -n 10 python benchmarks/ranking_truth.py --own /work/cache/ranking/own --seeds 0-7
    nice -n 10 python benchmarks/ranking_truth.py --own /work/cache/decoy/own --seeds 0-13 \
        --recompute --cache /tmp/rt_variant
    nice -n 10 python benchmarks/ranking_truth.py --own /work/cache/decoy/own --seeds 0-7 \
        --cache /work/cache/decoy/rt_base --bases point,shipped --decompose

``--decompose`` (own data) says which factor of the figure misranks: the figure with its
people, mean CLV or uplift replaced by the truth, one at a time.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy.stats import kendalltau, norm, spearmanr

from cxtext.painpoints.order import ranks as shipped_ranks
from cxtext.painpoints.rank import rank_pain_points
from cxtext.value.customer_value import estimate_customer_value
from cxtext.value.evaluate import RANK
from cxtext.value.misclassification import confusion_from_cards
from cxtext.value.simulate import add_classifier_noise, default_noise, simulate_voc
from cxtext.value.uplift import estimate_churn_uplift

LEVEL = 0.9
Z = float(norm.ppf(0.5 + LEVEL / 2))
COLUMNS = [
    "theme_id", "negative_mentions", "customers", "unlinked_mentions", "corrected_people",
    "mean_clv", "churn_uplift", "churn_uplift_low", "churn_uplift_high", "clv_at_risk",
    "clv_at_risk_low", "clv_at_risk_high", "method",
]  # fmt: skip


def _seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = map(int, text.split("-"))
        return list(range(lo, hi + 1))
    return [int(s) for s in text.split(",")]


# ``decoy``: ui raised by a quarter of the customers (the own-data decoy: ~21%), no effect
SCENARIOS = {"base": None, "decoy": {"ui": (0.25, 0.0)}}


def simulated_case(seed: int, n: int, mode: str, scenario: str = "base") -> pd.DataFrame:
    """The "all" rows of one simulated run, with ``true`` and ``zero_effect`` per theme."""
    voc = simulate_voc(n, seed=seed, effects=SCENARIOS[scenario])
    data, confusion = voc, None
    if mode == "corrected":
        noise = dataclasses.replace(default_noise(), held_out=4000)
        data, topic_card, sentiment_cards = add_classifier_noise(voc, noise, seed=seed)
        confusion = confusion_from_cards(topic_card, sentiment_cards, 0.0)
    values = estimate_customer_value(
        voc.customers, voc.transactions, as_of=voc.window_end, horizon_months=12,
        annual_discount_rate=0.10, default_clv=250.0, default_clv_by_segment={},
        segment_column="plan", min_repeat_buyers=30, level=LEVEL,
    )  # fmt: skip
    uplift = estimate_churn_uplift(
        data.feedback, data.customers, data.taxonomy, prior=0.15, segment_column="plan",
        tenure_hints=["tenure"], seed=seed, n_bootstrap=60, prior_sd=1.0, level=LEVEL,
        confusion=confusion,
    )  # fmt: skip
    pain = rank_pain_points(
        data.feedback, values, uplift, data.taxonomy, window_end=data.window_end,
        window_days=data.window_days, confusion=confusion, **RANK,
    )  # fmt: skip
    truth = voc.truth.set_index("theme_id")
    out = pain[COLUMNS].set_index("theme_id")
    out["true"] = truth["true_clv_at_risk"]
    out["zero_effect"] = truth["beta"] == 0
    return out.reset_index()


def own_case(folder: Path, seed: int) -> pd.DataFrame | None:
    """The "all" rows of an own-data run left by own_data_truth.py, with its truth."""
    warehouse = folder / f"ws{seed}" / "out" / "cxtext.duckdb"
    if not warehouse.exists():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        pain = con.sql(
            "select * from pain_points where segment = 'all' "
            "and window_end = (select max(window_end) from pain_points)"
        ).df()[COLUMNS]
    return _with_own_truth(pain, seed)


def _with_own_truth(pain: pd.DataFrame, seed: int) -> pd.DataFrame:
    """``pain`` ("all" rows) with the draw's true CLV at risk and zero-effect flag."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from own_data_truth import EFFECTS, build_export  # the same seed rebuilds the same truth

    from cxtext.themes.from_labels import slug

    with tempfile.TemporaryDirectory() as tmp:
        truth = build_export(Path(tmp), seed).set_index("theme_id")
    out = pain.set_index("theme_id").join(truth["true_clv_at_risk"].rename("true"), how="inner")
    zero = {slug(label) for label, (_, effect, _) in EFFECTS.items() if effect == 0}
    out["zero_effect"] = out.index.isin(zero)
    return out.reset_index()


def own_recomputed(folder: Path, seed: int) -> pd.DataFrame | None:
    """``own_case`` with the churn model and pain points recomputed by this code on the
    warehouse's stored feedback (classification, customer values and cards as stored),
    as the nightly flow runs them: a change to the value stages measured in seconds per
    draw instead of a new ``own_data_truth.py`` run."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from cxtext.config import load_settings
    from cxtext.ingest.tables import read_customers
    from cxtext.normalize.pseudonym_key import load_or_create_key
    from cxtext.store.warehouse import open_warehouse
    from cxtext.themes.taxonomy import load_taxonomy
    from pipelines.insight import champion_confusion, rank_kwargs, uplift_kwargs
    from pipelines.nightly import HISTORY_COLUMNS

    ws = folder / f"ws{seed}"
    warehouse = ws / "out" / "cxtext.duckdb"
    if not warehouse.exists():
        return None
    settings = load_settings(ws / "cxtext.yaml")
    taxonomy = load_taxonomy(ws / "taxonomy.yaml")
    confusion = champion_confusion(ws / "models", settings.value)
    key = load_or_create_key(ws / "out" / "cxtext.duckdb.key")
    customers, _ = read_customers(ws / "data" / "crm.csv", pseudonym_key=key)
    with open_warehouse(warehouse) as wh:
        end = pd.Timestamp(wh.latest_pain_points("all")["window_end"].max())
        days = settings.painpoints.window_days
        history = wh.read_feedback(columns=HISTORY_COLUMNS)
        recent = wh.read_feedback(end - pd.Timedelta(days=2 * days), end)
        values = wh.read_table("customer_value")
    uplift = estimate_churn_uplift(
        history, customers, taxonomy, **uplift_kwargs(settings.value, confusion)
    )
    pain = rank_pain_points(
        recent, values, uplift, taxonomy, window_end=end, segments=["all"],
        **rank_kwargs(settings.painpoints, settings.value, confusion=confusion),
    )  # fmt: skip
    return _with_own_truth(pain[pain["segment"] == "all"][COLUMNS], seed)


def decoy_labels(folder: Path, seed: int, decoy: str = "customer_service_issue") -> str:
    """Why the own-data decoy's uplift leans positive: its churn log-odds in a plain joint
    logit on the customers' true reasons and on the model's negative assignments (the
    run's feedback table), and who its false assignments are."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from own_data_truth import EFFECTS, build_export
    from sklearn.linear_model import LogisticRegression

    from cxtext.themes.from_labels import slug

    with tempfile.TemporaryDirectory() as tmp:
        people = build_export(Path(tmp), seed).attrs["customers"]
    reasons = [slug(label) for label in EFFECTS if label != "QR_NEW"]
    with duckdb.connect(str(folder / f"ws{seed}" / "out" / "cxtext.duckdb"), read_only=True) as con:
        fb = con.sql("select customer_id, topics, aspect_sentiment from feedback").df()
    assigned = pd.DataFrame(False, index=people.index, columns=reasons)
    for cid, topics, aspects in fb.itertuples(index=False):
        negative = json.loads(aspects) if isinstance(aspects, str) else {}
        for t in json.loads(topics) if isinstance(topics, str) else []:
            if cid in assigned.index and t in reasons and negative.get(t) == "negative":
                assigned.at[cid, t] = True
    covariates = people[["premium", "tenure_z"]].to_numpy(float)

    def log_odds(indicators: pd.DataFrame) -> float:
        X = np.column_stack([indicators[reasons].to_numpy(float), covariates])
        fit = LogisticRegression(C=1.0, max_iter=2000).fit(X, people["churned"])
        return float(fit.coef_[0][reasons.index(decoy)])

    causal = people[[slug(k) for k, (_, b, _) in EFFECTS.items() if b >= 1.0]].any(axis=1)
    false = assigned[decoy] & ~people[decoy]
    return (
        f"own seed {seed}: {decoy} log-odds {log_odds(people):+.2f} on true reasons, "
        f"{log_odds(assigned):+.2f} on the model's; assigned to {int(assigned[decoy].sum())}, "
        f"{int(false.sum())} of them falsely, {causal[false].mean():.0%} of whom truly raised "
        f"a reason with effect >= 1 ({causal[~assigned[decoy]].mean():.0%} of the unassigned)"
    )


def decompose(cases: dict[str, pd.DataFrame]) -> str:
    """Which factor of the figure misranks the own-data themes: each draw's figure
    (people × mean CLV × max(0, uplift)) with one factor replaced by its truth (people:
    who truly raised it; CLV: their mean true CLV; uplift: true CLV at risk / (people ×
    mean CLV), so all three give the truth), and with the zero-effect themes' uplift at 0;
    the figure's order (``point``) scored as in the main table, and per theme the mean
    ratio of each estimated factor to its truth."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from own_data_truth import build_export

    rows = []
    for key, case in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            truth = build_export(Path(tmp), int(key.rsplit("_s", 1)[1])).set_index("theme_id")
        r = case.set_index("theme_id").join(truth[["affected", "true_mean_clv"]], how="inner")
        r["people"] = r["corrected_people"].fillna(r["customers"] + r["unlinked_mentions"])
        r["true_u"] = (r["true"] / (r["affected"] * r["true_mean_clv"])).fillna(0.0)
        rows.append(r.reset_index().assign(case=key))
    df = pd.concat(rows, ignore_index=True)
    pos = lambda u: np.maximum(u, 0.0)  # noqa: E731
    variants = {
        "as estimated": lambda r: r["clv_at_risk"],
        "true people": lambda r: r["affected"] * r["mean_clv"] * pos(r["churn_uplift"]),
        "raw people (customers)": lambda r: (
            (r["customers"] + r["unlinked_mentions"]) * r["mean_clv"] * pos(r["churn_uplift"])
        ),
        "true mean CLV": lambda r: r["people"] * r["true_mean_clv"] * pos(r["churn_uplift"]),
        "true uplift": lambda r: r["people"] * r["mean_clv"] * r["true_u"],
        "zero-effect uplift 0": lambda r: r["clv_at_risk"].where(~r["zero_effect"], 0.0),
        "true people and uplift": lambda r: r["affected"] * r["mean_clv"] * r["true_u"],
    }
    out = [f"{'figure with':<24} spearman  ndcg  top3  zero-effect in top 3"]
    for name, f in variants.items():
        m = pd.DataFrame(
            [
                metrics(c.assign(clv_at_risk=f(c)), ranks(c.assign(clv_at_risk=f(c)), "point"))
                for _, c in df.groupby("case", sort=False)
            ]
        )
        out.append(
            f"{name:<24} {m['spearman'].mean():8.3f} {m['ndcg'].mean():5.3f} "
            f"{m['top3'].mean():5.2f} {int(m['decoy_top3'].sum()):5d}/{len(m)}"
        )
    ratios = df.assign(
        people_ratio=df["people"] / df["affected"],
        clv_ratio=df["mean_clv"] / df["true_mean_clv"],
        uplift_minus_true=df["churn_uplift"] - df["true_u"],
    ).groupby("theme_id")[["people_ratio", "clv_ratio", "uplift_minus_true"]]
    table = ratios.mean().join(ratios.std().add_suffix("_sd")).round(3)
    return "\n".join(out) + "\n\nper theme, mean (sd) over the draws:\n" + table.to_string()


# --- rank bases: a score per row, higher first (ties: more negative mentions first) ---


def _people_clv(rows: pd.DataFrame) -> np.ndarray:
    people = rows["corrected_people"].fillna(rows["customers"] + rows["unlinked_mentions"])
    return (people * rows["mean_clv"]).to_numpy(float)


def _se(rows: pd.DataFrame) -> np.ndarray:
    return ((rows["churn_uplift_high"] - rows["churn_uplift_low"]) / (2 * Z)).to_numpy(float)


def ash_prior(est: np.ndarray, se: np.ndarray, null_weight: float = 1.0):
    """(σ grid with 0 first, weights): adaptive shrinkage's prior (Stephens 2017, ashr),
    g = π₀δ₀ + Σ πₖ N(0, σₖ²), σ from min(se)/10 to 2√max(û² − se²) by √2, weights by
    EM on the marginal likelihood; ``null_weight`` > 1 is ashr's null-biased penalty."""
    low = float(se.min()) / 10
    high = 2 * float(np.sqrt(max((est**2 - se**2).max(), low**2)))
    n = max(int(np.ceil(np.log(high / low) / np.log(np.sqrt(2)))), 0) + 1
    grid = np.concatenate([[0.0], low * np.sqrt(2) ** np.arange(n)])
    density = norm.pdf(est[:, None], scale=np.sqrt(grid[None, :] ** 2 + se[:, None] ** 2))
    weights = np.full(len(grid), 1 / len(grid))
    penalty = np.zeros(len(grid))
    penalty[0] = null_weight - 1
    for _ in range(500):
        resp = density * weights
        resp /= resp.sum(axis=1, keepdims=True)
        weights = (resp.sum(axis=0) + penalty) / (len(est) + penalty.sum())
    return grid, weights


def normal_prior(est: np.ndarray, se: np.ndarray):
    """N(0, τ²), τ² = mean(û² − se²) (moments), as a one-component grid."""
    return np.array([np.sqrt(max(float(np.mean(est**2 - se**2)), 1e-12))]), np.array([1.0])


def expected_positive(est, se, grid, weights) -> np.ndarray:
    """E[max(0, u) | û] under the prior: a mixture of normal posteriors."""
    est, se = est[:, None], se[:, None]
    var = grid[None, :] ** 2
    resp = norm.pdf(est, scale=np.sqrt(var + se**2)) * weights[None, :]
    resp /= resp.sum(axis=1, keepdims=True)
    mean, sd = est * var / (var + se**2), np.sqrt(var * se**2 / (var + se**2))
    safe = np.where(sd > 0, sd, 1.0)
    pos = np.where(sd > 0, mean * norm.cdf(mean / safe) + sd * norm.pdf(mean / safe), 0.0)
    return (resp * np.maximum(pos, 0.0)).sum(axis=1)


def _shrunk(rows: pd.DataFrame, prior) -> np.ndarray:
    """people × mean CLV × E[max(0, u) | û], the uplifts pooled over the estimated themes."""
    est, se = rows["churn_uplift"].to_numpy(float), _se(rows)
    ok = (se > 0) & ~rows["method"].astype(str).str.contains("prior\\(").to_numpy()
    score = rows["clv_at_risk"].to_numpy(float).copy()
    if ok.sum() >= 3:
        grid, weights = prior(est[ok], se[ok])
        score[ok] = _people_clv(rows)[ok] * expected_positive(est[ok], se[ok], grid, weights)
    return score


def _flat(rows: pd.DataFrame) -> np.ndarray:
    """The expected loss under the bootstrap's spread alone (no prior)."""
    m, s = rows["churn_uplift"].to_numpy(float), np.maximum(_se(rows), 1e-12)
    return _people_clv(rows) * (m * norm.cdf(m / s) + s * norm.pdf(m / s))


BASES = {
    "point": lambda r: r["clv_at_risk"].to_numpy(float),
    "lower": lambda r: r["clv_at_risk_low"].to_numpy(float),
    "shipped": None,  # cxtext.painpoints.order: distinguishable from no effect first
    "clv_part": lambda r: (
        r["clv_at_risk"].to_numpy(float)
        + np.where(r["clv_at_risk_low"].to_numpy(float) > 0, 1e12, 0.0)
    ),
    "uplift_part": lambda r: (
        r["clv_at_risk"].to_numpy(float)
        + np.where(r["churn_uplift_low"].to_numpy(float) > 0, 1e12, 0.0)
    ),
    "flat": _flat,
    "normal": lambda r: _shrunk(r, normal_prior),
    "ash": lambda r: _shrunk(r, ash_prior),
    "ash_null10": lambda r: _shrunk(r, lambda e, s: ash_prior(e, s, 10.0)),
}


def ranks(rows: pd.DataFrame, basis: str) -> np.ndarray:
    if BASES[basis] is None:
        return shipped_ranks(rows)
    key = np.nan_to_num(BASES[basis](rows), nan=-np.inf)
    order = np.lexsort((-rows["negative_mentions"].to_numpy(), -key))
    out = np.empty(len(rows), int)
    out[order] = np.arange(1, len(rows) + 1)
    return out


def metrics(rows: pd.DataFrame, rank: np.ndarray) -> dict:
    true = rows["true"].to_numpy(float)
    gains = true[np.argsort(rank)]
    discount = 1 / np.log2(np.arange(2, len(true) + 2))
    ideal = np.sort(true)[::-1]
    top_true = set(np.argsort(-true, kind="stable")[:3])
    zero = rows["zero_effect"].to_numpy(bool)
    return {
        "spearman": spearmanr(true, -rank).statistic,
        "kendall": kendalltau(true, -rank).statistic,
        "ndcg": float(gains @ discount / (ideal @ discount)),
        "top3": len(top_true & set(np.flatnonzero(rank <= 3))) / 3,
        "decoy_best": int(rank[zero].min()) if zero.any() else np.nan,
        "decoy_top3": bool((rank[zero] <= 3).any()) if zero.any() else np.nan,
        # pairs (zero-effect theme, theme with ≥ 10% of the top truth) in the wrong order
        "decoy_above_real": float(
            (rank[zero][:, None] < rank[true >= 0.1 * true.max()][None, :]).mean()
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-9")
    ap.add_argument("--customers", default="2000,4000", help="simulator sizes")
    ap.add_argument("--modes", default="corrected,perfect")
    ap.add_argument("--scenarios", default="base,decoy", help=f"simulator: {list(SCENARIOS)}")
    ap.add_argument("--own", type=Path, help="own_data_truth.py's --out folder (instead of sim)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/ranking_truth"))
    ap.add_argument("--bases", default=",".join(BASES))
    ap.add_argument(
        "--recompute",
        action="store_true",
        help="with --own: the churn model and pain points recomputed by this code",
    )
    ap.add_argument(
        "--decoy-check", action="store_true", help="with --own: why the decoy's uplift leans"
    )
    ap.add_argument(
        "--decompose",
        action="store_true",
        help="with --own: which factor of the figure (people, CLV, uplift) misranks",
    )
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    cases: dict[str, pd.DataFrame] = {}
    for seed in _seeds(args.seeds):
        keys = (
            [(f"own_s{seed}", None, None, None)]
            if args.own
            else [
                (f"sim{'' if sc == 'base' else '_' + sc}_n{n}_{mode}_s{seed}", n, mode, sc)
                for sc in args.scenarios.split(",")
                for n in map(int, args.customers.split(","))
                for mode in args.modes.split(",")
            ]
        )
        for key, n, mode, scenario in keys:
            path = args.cache / f"{key}.csv"
            if not path.exists():
                t0, c0 = time.time(), time.process_time()
                rows = (
                    (own_recomputed if args.recompute else own_case)(args.own, seed)
                    if args.own
                    else simulated_case(seed, n, mode, scenario)
                )
                if rows is None:
                    continue
                rows.to_csv(path, index=False)
                print(f"{key}: {time.time() - t0:.0f} s wall, {time.process_time() - c0:.0f} s CPU")
            cases[key] = pd.read_csv(path)
            if args.own and args.decoy_check:
                print(decoy_labels(args.own, seed))
    if args.own and args.decompose:
        print(decompose(cases))
    groups: dict[str, list[str]] = {}
    for key in cases:
        groups.setdefault(key.rsplit("_s", 1)[0], []).append(key)
    bases = args.bases.split(",")
    for group, keys in [*groups.items(), ("all cases", list(cases))]:
        cov = np.mean(
            [
                ((c["clv_at_risk_low"] <= c["true"]) & (c["true"] <= c["clv_at_risk_high"])).mean()
                for c in (cases[k] for k in keys)
            ]
        )
        print(f"\n{group}: {len(keys)} tables, interval coverage {cov:.0%}")
        print(
            f"{'basis':<11} spearman (vs point ± se)  kendall  ndcg  top3  "
            "decoy: best rank  in top 3  above a real theme"
        )
        per = {
            b: pd.DataFrame([metrics(cases[k], ranks(cases[k], b)) for k in keys]) for b in bases
        }
        for b, m in per.items():
            diff = m["spearman"] - per[bases[0]]["spearman"]
            se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else np.nan
            print(
                f"{b:<11} {m['spearman'].mean():8.3f} ({diff.mean():+.3f} ± {se:.3f}) "
                f"{m['kendall'].mean():7.3f} {m['ndcg'].mean():5.3f} {m['top3'].mean():5.2f} "
                f"{m['decoy_best'].mean():17.2f} {int(m['decoy_top3'].sum()):5d}/{len(m):<3d} "
                f"{m['decoy_above_real'].mean():10.1%}"
            )


if __name__ == "__main__":
    main()
