"""The misclassification correction against the simulator's truth, over seeds and sizes.

    nice -n 10 python benchmarks/value_correction.py --seeds 0-7 --customers 4000 \
        --modes raw,corrected,perfect --cache /tmp/value_correction

Prints one line per seed (strong themes' errors, coverage of the 8 themes) and the
pooled summary that docs/value.md §4 reports. Each (seed, size, settings) result is
cached as CSV under ``--cache`` so reruns only compute what is new. Seeds 4-7 are used
by no test.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from cxtext.value.evaluate import compare_to_truth, covered, strong_errors


def _seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = map(int, text.split("-"))
        return list(range(lo, hi + 1))
    return [int(s) for s in text.split(",")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-7")
    ap.add_argument("--customers", type=int, default=4000)
    ap.add_argument("--bootstrap", type=int, default=60)
    ap.add_argument("--held-out", type=int, default=4000)
    ap.add_argument("--prior-texts", type=float, default=0.0, help="value.confusion_prior_texts")
    ap.add_argument("--modes", default="raw,corrected,perfect")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/value_correction"))
    ap.add_argument("--tag", default="", help="names a method variant in the cache key")
    args = ap.parse_args()
    modes = tuple(args.modes.split(","))
    args.cache.mkdir(parents=True, exist_ok=True)
    frames = {}
    for seed in _seeds(args.seeds):
        key = (
            f"{args.tag}n{args.customers}_b{args.bootstrap}_h{args.held_out}"
            + (f"_p{args.prior_texts:g}" if args.prior_texts else "")
            + f"_s{seed}_{'+'.join(modes)}"
        )
        path = args.cache / f"{key}.csv"
        if path.exists():
            df = pd.read_csv(path, index_col=0)
        else:
            t0, c0 = time.time(), time.process_time()
            df = compare_to_truth(
                seed, n_customers=args.customers, n_bootstrap=args.bootstrap,
                held_out=args.held_out, prior_texts=args.prior_texts, modes=modes,
            )  # fmt: skip
            df.to_csv(path)
            print(
                f"seed {seed}: {time.time() - t0:.0f} s wall, {time.process_time() - c0:.0f} s CPU"
            )
        frames[seed] = df
        parts = []
        for mode in modes:
            err = strong_errors(df, mode)
            cov = int(covered(df, mode).sum())
            parts.append(
                f"{mode}: " + " ".join(f"{t} {e:+.0%}" for t, e in err.items()) + f" | cov {cov}/8"
            )
        print(f"seed {seed}  " + "  ".join(parts), flush=True)
    for mode in modes:
        errs = pd.concat([strong_errors(df, mode) for df in frames.values()])
        cov = pd.concat([covered(df, mode) for df in frames.values()])
        per_seed = [int(covered(df, mode).sum()) for df in frames.values()]
        print(
            f"{mode}: coverage {int(cov.sum())}/{len(cov)} ({cov.mean():.0%}), per seed {per_seed}; "
            f"strong within 20%: {int((errs.abs() < 0.2).sum())}/{len(errs)}, "
            f"mean error {errs.mean():+.1%}, mean |error| {errs.abs().mean():.1%}"
        )


if __name__ == "__main__":
    main()
