"""Fit time and parameter recovery of the CLV model on 100k customers / ~1M transactions.

Run: ``.venv/bin/python benchmarks/clv_fit.py [--customers 100000] [--threads 2]``.
Not a test: the numbers go into docs/value.md. Threads are capped before numpy loads
(the model is vectorised numpy, effectively one core; the cap keeps BLAS honest).
"""

from __future__ import annotations

import argparse
import os
import platform
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import numpy as np
    import pandas as pd
    from scipy.stats import norm

    from cxtext.config import load_settings
    from cxtext.value.btyd import BetaGeoModel, GammaGammaModel, predict_clv
    from cxtext.value.customer_value import estimate_customer_value
    from cxtext.value.rfm import summarize_transactions
    from cxtext.value.simulate import simulate_transactions

    bg_true = {"r": 1.2, "alpha": 30.0, "a": 0.6, "b": 6.0}
    gg_true = {"p": 6.0, "q": 4.0, "gamma": 40.0}
    t = time.perf_counter()
    sim = simulate_transactions(args.customers, bgnbd=bg_true, gamma_gamma=gg_true, seed=args.seed)
    t_sim = time.perf_counter() - t
    tx = sim.transactions
    print(
        f"machine: {platform.processor() or platform.machine()}, cpus={os.cpu_count()}, threads cap={args.threads}"
    )
    print(f"customers={args.customers:,} transactions={len(tx):,} (simulated in {t_sim:.1f} s)")

    cfg = load_settings().value  # the nightly run's settings, not the benchmark's own
    kw = {
        "horizon_months": cfg.horizon_months,
        "annual_discount_rate": cfg.annual_discount_rate,
    }
    timings = {}
    t = time.perf_counter()
    s = summarize_transactions(tx, as_of=sim.as_of)
    timings["rfm summary"] = time.perf_counter() - t
    t = time.perf_counter()
    bg = BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])
    timings["BG/NBD fit (+Hessian)"] = time.perf_counter() - t
    t = time.perf_counter()
    gg = GammaGammaModel().fit(s["frequency"], s["monetary_value"])
    timings["Gamma-Gamma fit (+Hessian)"] = time.perf_counter() - t
    t = time.perf_counter()
    pred = predict_clv(bg, gg, s, **kw, level=cfg.interval_level)
    timings[f"CLV + intervals ({cfg.horizon_months} months)"] = time.perf_counter() - t
    t = time.perf_counter()
    estimate_customer_value(
        None,
        tx,
        as_of=sim.as_of,
        **kw,
        default_clv=cfg.default_clv,
        default_clv_by_segment=cfg.default_clv_by_segment,
        segment_column=cfg.segment_column,
        min_repeat_buyers=cfg.min_repeat_buyers,
        level=cfg.interval_level,
    )
    timings["estimate_customer_value end to end"] = time.perf_counter() - t
    for name, sec in timings.items():
        print(f"  {name:<38} {sec:7.2f} s")

    z = norm.ppf(0.5 + cfg.interval_level / 2)
    print(f"\nparameter recovery (true, estimate, {cfg.interval_level:.0%} Laplace interval):")
    for model, true in ((bg, bg_true), (gg, gg_true)):
        se = np.sqrt(np.diag(model.cov_))
        for i, name in enumerate(model.names):
            est = model.params_[name]
            lo, hi = est * np.exp(-z * se[i]), est * np.exp(z * se[i])
            print(
                f"  {name:<6} {true[name]:8.3f} {est:8.3f}  [{lo:.3f}, {hi:.3f}]  err {est / true[name] - 1:+.1%}"
            )
    truth = sim.truth["true_clv"].reindex(pred.index)
    print(
        f"\nΣ CLV estimated {pred['clv'].sum():,.0f} vs true {truth.sum():,.0f} ({pred['clv'].sum() / truth.sum() - 1:+.1%});"
        f" corr(customer) {np.corrcoef(pred['clv'], truth)[0, 1]:.3f}"
    )
    inside = ((pred["clv_low"] <= truth) & (truth <= pred["clv_high"])).mean()
    mean_inside = ((pred["clv_mean_low"] <= truth) & (truth <= pred["clv_mean_high"])).mean()
    print(
        f"customers whose simulated value is inside their {cfg.interval_level:.0%} interval: "
        f"{inside:.1%} (posterior); {mean_inside:.1%} (the expected value's interval, "
        f"median high/low {(pred['clv_mean_high'] / pred['clv_mean_low']).median():.3f})"
    )
    _ = pd  # keep the import for interactive use


if __name__ == "__main__":
    main()
