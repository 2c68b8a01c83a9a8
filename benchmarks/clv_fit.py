"""The CLV model's fits: CDNOW, the shipped sample, the throughput corpus, the simulator.

Run: ``PYTHONPATH=$PWD nice -n 10 .venv/bin/python benchmarks/clv_fit.py
[--customers 100000] [--corpus-customers 10000,100000] [--threads 2]``.
Not a test: the numbers go into benchmarks/README.md ("CLV fits") and docs/value.md.
For each data set: whether BG/NBD and Gamma-Gamma converged, at which limit if any,
their parameters, wall and CPU seconds (the machine is shared: the load average is
printed). Then, on the simulator (known truth), fit times end to end and parameter
recovery. Threads are capped before numpy loads (the model is vectorised numpy,
effectively one core; the cap keeps BLAS honest).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# FHL 2005a (BG/NBD, weeks) and Fader & Hardie 2013 (Gamma-Gamma) on this summary
CDNOW_PUBLISHED = {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258}
CDNOW_PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def timed(fn, *args):
    """(result, wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def fit_both(x, t_x, T, m) -> tuple:
    """BG/NBD and Gamma-Gamma on one summary, each timed and printed on one line."""
    from cxtext.value.btyd import BetaGeoModel, GammaGammaModel

    fitted = []
    for model, args in ((BetaGeoModel(), (x, t_x, T)), (GammaGammaModel(), (x, m))):
        model, wall, cpu = timed(model.fit, *args)
        params = ", ".join(f"{k} {v:.4g}" for k, v in model.params_.items())
        held = f"; at limit: {', '.join(model.at_limit_)}" if model.at_limit_ else ""
        print(
            f"  {model.label:<12} converged={model.converged_!s:<5} {params}{held}"
            f"  (LL {model.loglik_:,.1f}; {wall:.2f} s, {cpu:.2f} CPU-s)"
        )
        fitted.append(model)
    return tuple(fitted)


def report_summary(name: str, s) -> tuple:
    print(f"\n{name}: {len(s):,} customers, {(s['frequency'] > 0).sum():,} repeat buyers")
    return fit_both(s["frequency"], s["recency"], s["T"], s["monetary_value"])


def value_methods(tx, as_of, cfg) -> None:
    """What estimate_customer_value does with these transactions: methods and notes."""
    from cxtext.value.customer_value import estimate_customer_value

    out, wall, cpu = timed(
        lambda: estimate_customer_value(
            None,
            tx,
            as_of=as_of,
            horizon_months=cfg.horizon_months,
            annual_discount_rate=cfg.annual_discount_rate,
            default_clv=cfg.default_clv,
            default_clv_by_segment=cfg.default_clv_by_segment,
            segment_column=cfg.segment_column,
            min_repeat_buyers=cfg.min_repeat_buyers,
            level=cfg.interval_level,
            time_resolution=cfg.time_resolution,
        )
    )
    methods = out["method"].value_counts().to_dict()
    print(
        f"  estimate_customer_value: {methods}, median clv_sd {out['clv_sd'].median():.2f} "
        f"({wall:.1f} s, {cpu:.1f} CPU-s)"
    )
    for note in out.attrs["notes"]:
        print(f"    note: {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000, help="simulator size")
    parser.add_argument("--corpus-customers", default="10000,100000")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import numpy as np
    import pandas as pd
    from scipy.stats import norm

    from benchmarks.corpus import END, corpus_transactions
    from cxtext.config import load_settings
    from cxtext.value.btyd import predict_clv
    from cxtext.value.rfm import summarize_transactions
    from cxtext.value.simulate import simulate_transactions

    cfg = load_settings().value  # the nightly run's settings, not the benchmark's own
    print(
        f"machine: {platform.processor() or platform.machine()}, cpus={os.cpu_count()}, "
        f"threads cap={args.threads}, load average {os.getloadavg()[0]:.1f}"
    )

    cdnow = pd.read_csv(ROOT / "tests" / "fixtures" / "cdnow_summary.csv")
    print(f"\nCDNOW (tests/fixtures/cdnow_summary.csv, weeks): {len(cdnow):,} customers")
    bg, gg = fit_both(cdnow["x"], cdnow["t_x"], cdnow["T"], cdnow["zbar"])
    for model, published in ((bg, CDNOW_PUBLISHED), (gg, CDNOW_PUBLISHED_GG)):
        print(
            "  vs published: "
            + ", ".join(f"{k} {model.params_[k] / v - 1:+.2%}" for k, v in published.items())
        )

    tx = pd.read_csv(ROOT / "data" / "sample" / "transactions.csv")
    as_of = pd.to_datetime(tx["date"], utc=True).max() + pd.Timedelta(days=1)
    report_summary(
        "shipped sample (data/sample/transactions.csv)", summarize_transactions(tx, as_of=as_of)
    )

    for n in (int(v) for v in args.corpus_customers.split(",") if v):
        rng = np.random.default_rng(args.seed)
        tx = corpus_transactions([f"C{c:07d}" for c in range(n)], rng)
        as_of = END + pd.Timedelta(days=1)  # the throughput run's window end
        s = summarize_transactions(tx, as_of=as_of)
        report_summary(f"throughput corpus (benchmarks/corpus.py), {len(tx):,} transactions", s)
        value_methods(tx, as_of, cfg)

    bg_true = {"r": 1.2, "alpha": 30.0, "a": 0.6, "b": 6.0}
    gg_true = {"p": 6.0, "q": 4.0, "gamma": 40.0}
    sim, wall, _ = timed(
        lambda: simulate_transactions(
            args.customers, bgnbd=bg_true, gamma_gamma=gg_true, seed=args.seed
        )
    )
    tx = sim.transactions
    s, t_sum, _ = timed(lambda: summarize_transactions(tx, as_of=sim.as_of))
    print(
        f"\nsimulator: {len(tx):,} transactions (simulated in {wall:.1f} s, summary {t_sum:.1f} s)"
    )
    bg, gg = report_summary("simulator", s)
    rial = s.assign(monetary_value=s["monetary_value"] * 1e5)
    print("the same spend in rials (x 100,000):")
    fit_both(rial["frequency"], rial["recency"], rial["T"], rial["monetary_value"])
    kw = {"horizon_months": cfg.horizon_months, "annual_discount_rate": cfg.annual_discount_rate}
    pred, wall, cpu = timed(lambda: predict_clv(bg, gg, s, **kw, level=cfg.interval_level))
    print(f"  CLV + intervals ({cfg.horizon_months} months): {wall:.1f} s, {cpu:.1f} CPU-s")
    value_methods(tx, sim.as_of, cfg)

    z = norm.ppf(0.5 + cfg.interval_level / 2)
    print(f"\nparameter recovery (true, estimate, {cfg.interval_level:.0%} Laplace interval):")
    for model, true in ((bg, bg_true), (gg, gg_true)):
        se = np.sqrt(np.diag(model.cov_))
        for i, name in enumerate(model.names):
            est = model.params_[name]
            lo, hi = est * np.exp(-z * se[i]), est * np.exp(z * se[i])
            print(
                f"  {name:<6} {true[name]:8.3f} {est:8.3f}  [{lo:.3f}, {hi:.3f}]  "
                f"err {est / true[name] - 1:+.1%}"
            )
    truth = sim.truth["true_clv"].reindex(pred.index)
    print(
        f"\nΣ CLV estimated {pred['clv'].sum():,.0f} vs true {truth.sum():,.0f} "
        f"({pred['clv'].sum() / truth.sum() - 1:+.1%}); "
        f"corr(customer) {np.corrcoef(pred['clv'], truth)[0, 1]:.3f}"
    )
    inside = ((pred["clv_low"] <= truth) & (truth <= pred["clv_high"])).mean()
    mean_inside = ((pred["clv_mean_low"] <= truth) & (truth <= pred["clv_mean_high"])).mean()
    print(
        f"customers whose simulated value is inside their {cfg.interval_level:.0%} interval: "
        f"{inside:.1%} (posterior); {mean_inside:.1%} (the expected value's interval, "
        f"median high/low {(pred['clv_mean_high'] / pred['clv_mean_low']).median():.3f})"
    )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
