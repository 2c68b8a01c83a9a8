"""Lifetime value per customer: CRM figure, else BG/NBD × Gamma-Gamma, else simple rate,
else a configured default — with the method recorded per customer.

The order is the order of trust: a CRM ``clv`` is the business's own number; a fitted
buy-till-you-die model uses each customer's own purchase history; with too few repeat
buyers to fit one, a pooled purchase rate times the customer's average order value is
still better than a constant; a customer with no history gets the segment's default.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import chi2

from cxtext.painpoints.mentions import metadata_field
from cxtext.schema import CUSTOMER_VALUE, conform
from cxtext.value.btyd import BetaGeoModel, GammaGammaModel, limit_note, predict_clv
from cxtext.value.rfm import DAYS_PER_MONTH, summarize_transactions

# the columns that bound a customer's value (docs/value.md §1)
VALUE_BOUNDS = ("clv_low", "clv_high", "clv_mean_low", "clv_mean_high", "clv_sd")
METHODS = ("crm", "bgnbd_gammagamma", "simple_rate", "simple_rate_fallback", "segment_default")


def estimate_customer_value(
    customers: pd.DataFrame | None,
    transactions: pd.DataFrame | None,
    *,
    as_of: pd.Timestamp,
    horizon_months: int,
    annual_discount_rate: float,
    default_clv: float,
    default_clv_by_segment: dict[str, float],
    segment_column: str,
    min_repeat_buyers: int,
    level: float,
    time_resolution: str = "auto",
) -> pd.DataFrame:
    """CUSTOMER_VALUE rows, one per customer in ``customers`` ∪ ``transactions``.

    ``clv`` is the discounted expected spend over ``horizon_months``; ``clv_low`` and
    ``clv_high`` bound the customer's value at ``level`` (for the fitted model the
    posterior interval given their history, see :func:`predict_clv`; a Poisson interval
    on the pooled rate for ``simple_rate``; CRM and default figures are taken as given,
    so their bounds equal the value); ``clv_mean_low/high`` bound the expected value
    from the parameters alone and ``clv_sd`` is the customer's own spread (0 where the
    method has none), which is how sums over customers combine them. ``p_alive`` and
    ``expected_purchases`` come from the BG/NBD model whenever it was fitted, whatever
    the customer's CLV method. BG/NBD needs ``min_repeat_buyers`` customers with a
    repeat purchase and a converged fit, else the simple rate is used; a single customer
    whose model value is not finite gets ``simple_rate_fallback`` alone. Refunds are
    netted against purchases (a customer with only refunds has no purchase-based CLV);
    ``time_resolution`` is passed to :func:`summarize_transactions`. ``attrs["notes"]``
    lists fallbacks and refund matching in words, for the run's output;
    ``attrs["observed_days"]`` is the customers' mean observed time T in days (None
    without transactions) and ``attrs["after_as_of"]`` the transactions left out as
    later than ``as_of``: what :func:`cxtext.value.refit.keep_stored_values` needs to
    tell whether the values still hold at a later as-of date.

    Examples
    --------
    >>> cust = pd.DataFrame({"customer_id": ["a", "b"], "clv": [500.0, None], "plan": ["pro", "pro"]})
    >>> out = estimate_customer_value(cust, None, as_of=pd.Timestamp("2025-01-01", tz="UTC"),
    ...     horizon_months=12, annual_discount_rate=0.1, default_clv=250.0,
    ...     default_clv_by_segment={"pro": 900.0}, segment_column="plan", min_repeat_buyers=30, level=0.9)
    >>> out[["customer_id", "clv", "method"]].values.tolist()
    [['a', 500.0, 'crm'], ['b', 900.0, 'segment_default']]
    """
    if not 0 < level < 1:
        raise ValueError(f"value.interval_level must be between 0 and 1, got {level}")
    cust = _customers_frame(customers, segment_column)
    summary = (
        summarize_transactions(transactions, as_of=as_of, resolution=time_resolution)
        if transactions is not None
        else None
    )
    notes: list[str] = []
    if summary is not None:
        notes += _refund_notes(summary.attrs.get("refunds"))
        if later := summary.attrs.get("after_as_of", 0):
            notes.append(
                f"{later:,} transaction{'s' if later != 1 else ''} dated after the as-of date {as_of:%Y-%m-%d} left out"
                " of the CLV fit (a mistyped date, or transactions newer than the feedback;"
                " --as-of sets the date)"
            )
    ids = pd.Index(cust.index, dtype="string")
    if summary is not None and transactions is not None and len(transactions):
        tx_ids = pd.Index(
            transactions["customer_id"].dropna().astype("string").str.strip().unique(),
            dtype="string",
        )
        ids = ids.append(tx_ids.difference(ids))
    observed = {
        "observed_days": float(summary["T"].mean())
        if summary is not None and len(summary)
        else None,
        "after_as_of": int(summary.attrs.get("after_as_of", 0)) if summary is not None else 0,
    }
    if len(ids) == 0:
        return _with_notes(CUSTOMER_VALUE.empty(), notes, observed)

    out = pd.DataFrame(index=pd.Index(ids, name="customer_id"))
    out["segment"] = cust["segment"].reindex(out.index)
    out["churned"] = cust["churned"].reindex(out.index)
    for col in ("clv", *VALUE_BOUNDS, "p_alive", "expected_purchases"):
        out[col] = np.nan
    out["method"] = pd.Series(pd.NA, index=out.index, dtype="string")

    crm = cust["clv"].reindex(out.index)
    has_crm = crm.notna()
    out.loc[has_crm, ["clv", *VALUE_BOUNDS]] = _given(crm[has_crm].to_numpy())
    out.loc[has_crm, "method"] = "crm"

    if summary is not None and len(summary):
        summary = summary.loc[summary.index.intersection(out.index)]
        modelled, model_notes = _fit_and_predict(
            summary, horizon_months, annual_discount_rate, min_repeat_buyers, level
        )
        notes += model_notes
        out.loc[modelled.index, ["p_alive", "expected_purchases"]] = modelled[
            ["p_alive", "expected_purchases"]
        ]
        need = modelled.index[~has_crm.reindex(modelled.index).to_numpy()]
        out.loc[need, ["clv", *VALUE_BOUNDS]] = modelled.loc[
            need, ["clv", *VALUE_BOUNDS]
        ].to_numpy()
        out.loc[need, "method"] = modelled.loc[need, "method"]

    rest = out["method"].isna()
    defaults = out.loc[rest, "segment"].map(
        lambda s: default_clv_by_segment.get(s, default_clv) if pd.notna(s) else default_clv
    )
    values = defaults.astype(float).to_numpy()
    out.loc[rest, ["clv", *VALUE_BOUNDS]] = _given(values)
    out.loc[rest, "method"] = "segment_default"
    if rest.any():  # a configured figure, not this customer's value: said in `runs` as well
        notes.append(
            f"{int(rest.sum()):,} of {len(out):,} customers valued at their segment's "
            "default CLV (no CRM clv and no transactions for them)"
        )
    return _with_notes(conform(out.reset_index(), CUSTOMER_VALUE), notes, observed)


def _given(values: np.ndarray) -> np.ndarray:
    """A figure taken as given: every bound equals it and it has no spread of its own."""
    v = np.asarray(values, dtype=float)[:, None]
    return np.hstack([np.repeat(v, 5, axis=1), np.zeros_like(v)])


def _with_notes(
    values: pd.DataFrame, notes: list[str], observed: dict | None = None
) -> pd.DataFrame:
    """``values`` with ``attrs["notes"]``: what a user should read about how they were made
    (and ``observed``: what the transactions' summary says of their time, see above)."""
    values.attrs["notes"] = list(notes)
    values.attrs.update(observed or {})
    return values


def _refund_notes(counts: dict[str, int] | None) -> list[str]:
    if not counts or not counts.get("refunds"):
        return []
    text = (
        f"refunds: {counts['refunds']} netted against purchases "
        f"({counts['by_order_id']} by order_id, {counts['by_date']} by nearest earlier purchase)"
    )
    if counts["unmatched"]:
        text += f"; {counts['unmatched']} with no earlier purchase ignored"
    if counts["excess"]:
        text += f"; {counts['excess']} purchases refunded beyond their amount (kept at 0)"
    return [text]


def customers_from_feedback(feedback: pd.DataFrame | None, segment_column: str) -> pd.DataFrame:
    """The customers a feedback-only run knows of: distinct ``customer_id`` with a segment.

    With no customers or transactions file the ids in feedback are the only customer
    list; valued by :func:`estimate_customer_value` they get the segment default, so
    their CLV at risk is a configured figure instead of unknown. The segment is the
    ``segment_column`` metadata field of the customer's newest document that has one.

    Examples
    --------
    >>> fb = pd.DataFrame({"customer_id": ["a", " a", None, "b"],
    ...                    "created_at": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"]),
    ...                    "metadata": ['{"plan": "basic"}', '{"plan": "pro"}', '{"plan": "pro"}', "{}"]})
    >>> customers_from_feedback(fb, "plan").values.tolist()
    [['a', 'pro'], ['b', <NA>]]
    """
    out = pd.DataFrame(
        {"customer_id": pd.Series(dtype="string"), segment_column: pd.Series(dtype="string")}
    )
    if feedback is None or len(feedback) == 0 or "customer_id" not in feedback.columns:
        return out
    fb = feedback.reset_index(drop=True)
    ids = fb["customer_id"].astype("string").str.strip()
    ids = ids.where(ids != "", pd.NA)
    seg = metadata_field(fb, segment_column)
    order = (
        pd.to_datetime(fb["created_at"], utc=True)
        if "created_at" in fb.columns
        else pd.Series(0, index=fb.index)
    )
    rows = pd.DataFrame({"customer_id": ids, segment_column: seg, "_at": order})[ids.notna()]
    rows = rows.sort_values("_at", kind="stable")
    segs = (
        rows.dropna(subset=[segment_column])
        .groupby("customer_id", sort=False)[segment_column]
        .last()
    )
    known = pd.Index(rows["customer_id"].unique(), dtype="string").sort_values()
    return pd.DataFrame(
        {
            "customer_id": pd.array(known, dtype="string"),
            segment_column: pd.array(segs.reindex(known), dtype="string"),
        }
    )


def _customers_frame(customers: pd.DataFrame | None, segment_column: str) -> pd.DataFrame:
    """customer_id-indexed clv (float), churned (boolean), segment (string)."""
    cols = {
        "clv": pd.Series(dtype=float),
        "churned": pd.Series(dtype="boolean"),
        "segment": pd.Series(dtype="string"),
    }
    if customers is None or len(customers) == 0 or "customer_id" not in customers.columns:
        return pd.DataFrame(cols, index=pd.Index([], dtype="string", name="customer_id"))
    c = customers[customers["customer_id"].notna()].copy()
    c["customer_id"] = c["customer_id"].astype("string").str.strip()
    c = c.drop_duplicates("customer_id", keep="last").set_index("customer_id")
    out = pd.DataFrame(index=c.index)
    out["clv"] = (
        pd.to_numeric(c["clv"], errors="coerce").astype(float) if "clv" in c.columns else np.nan
    )
    out["churned"] = (
        to_bool(c["churned"])
        if "churned" in c.columns
        else pd.Series(pd.NA, index=c.index, dtype="boolean")
    )
    out["segment"] = (
        c[segment_column].astype("string")
        if segment_column in c.columns
        else pd.Series(pd.NA, index=c.index, dtype="string")
    )
    return out


def to_bool(values: pd.Series) -> pd.Series:
    """Churn flags as nullable booleans: true/false, 1/0, yes/no in any case."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean")
    text = values.astype("string").str.strip().str.lower()
    mapping = {
        "true": True,
        "1": True,
        "1.0": True,
        "yes": True,
        "y": True,
        "t": True,
        "false": False,
        "0": False,
        "0.0": False,
        "no": False,
        "n": False,
        "f": False,
    }
    return text.map(mapping).astype("boolean")


def _fit_and_predict(
    summary: pd.DataFrame,
    horizon_months: int,
    annual_discount_rate: float,
    min_repeat_buyers: int,
    level: float,
) -> tuple[pd.DataFrame, list[str]]:
    """BG/NBD × Gamma-Gamma when identifiable and converged, else the simple rate.

    A customer whose model value is not finite gets the simple rate alone
    (``simple_rate_fallback``), counted in the notes; it never changes the method
    of the other customers.
    """
    kw = {"horizon_months": horizon_months, "annual_discount_rate": annual_discount_rate}
    repeaters = int(((summary["frequency"] > 0) & (summary["monetary_value"] > 0)).sum())
    if repeaters < max(min_repeat_buyers, 2):
        note = (
            f"simple rate for all {len(summary)} customers with transactions: "
            f"{repeaters} repeat buyers < value.min_repeat_buyers {min_repeat_buyers}"
        )
        return simple_rate_clv(summary, level=level, **kw), [note]
    try:
        bg = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
        gg = GammaGammaModel().fit(summary["frequency"], summary["monetary_value"])
    except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
        note = f"simple rate for all customers with transactions: the fit failed ({exc})"
        return simple_rate_clv(summary, level=level, **kw), [note]
    if not (bg.converged_ and gg.converged_):
        which = "BG/NBD" if not bg.converged_ else "Gamma-Gamma"
        note = f"simple rate for all customers with transactions: the {which} fit did not converge"
        return simple_rate_clv(summary, level=level, **kw), [note]
    with np.errstate(all="ignore"):
        pred = predict_clv(bg, gg, summary, level=level, **kw).assign(method="bgnbd_gammagamma")
    bad = ~np.isfinite(pred[["clv", *VALUE_BOUNDS]].to_numpy()).all(axis=1)
    notes = [note for note in (limit_note(bg), limit_note(gg)) if note]
    if bad.any():
        fallback = simple_rate_clv(summary, level=level, **kw)
        cols = ["clv", *VALUE_BOUNDS, "expected_purchases"]
        pred.loc[bad, cols] = fallback.loc[bad, cols].to_numpy()
        pred.loc[bad, "method"] = "simple_rate_fallback"
        why = (
            f"Gamma-Gamma q = {gg.params_['q']:.3g} <= 1: mean spend across customers is "
            "infinite (heavy-tailed), so one-time buyers have no expected spend"
            if gg.params_["q"] <= 1.0
            else "value not finite"
        )
        notes.append(
            f"simple rate for {int(bad.sum())} of {len(pred)} customers ({why}; method "
            "simple_rate_fallback); the others keep bgnbd_gammagamma"
        )
    return pred, notes


def simple_rate_clv(
    summary: pd.DataFrame,
    *,
    horizon_months: int,
    annual_discount_rate: float,
    level: float,
    draws: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Average order value × the customer's repeat-purchase rate × discounted horizon.

    The rate is empirical-Bayes Gamma-Poisson: a customer's x repeat purchases in T days
    are Poisson(λT) with λ ~ Gamma(r, α) across customers, r and α from the moments of
    the counts (:func:`gamma_poisson_prior`), so λ | x, T ~ Gamma(r + x, α + T); its mean,
    the customer's own rate pulled toward the pooled Σx/ΣT (less so the longer they were
    watched), gives ``clv``. With counts no more spread out than Poisson the data show no
    differences between customers and everyone gets the pooled rate. The customer's own
    spread (``clv_sd``) combines the rate's posterior variance and that of their average
    order value (a mean of n purchases: variance aov²·cv²/n, cv² the within-customer
    spread of amounts pooled over customers with two or more, :func:`_spend_cv2`); their
    interval is the ``level`` quantiles of ``draws`` draws of both (Gamma distributed).
    ``clv_mean_low/high`` scale ``clv`` by the exact (Garwood) Poisson interval of the
    pooled count (shared by all customers), and the customer's interval is at least as
    wide. p_alive is unknown here (NaN).
    """
    x = summary["frequency"].to_numpy(float)
    T = summary["T"].to_numpy(float)
    purchases, exposure = float(x.sum()), float(T.sum())
    monthly = (1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0
    months = np.arange(1, int(horizon_months) + 1)
    discounted_days = float(np.sum(DAYS_PER_MONTH / (1.0 + monthly) ** months))
    n = summary["n_purchases"].to_numpy(float)
    aov = summary["total_amount"].to_numpy(float) / n
    spend_var = aov**2 * _spend_cv2(summary) / n
    tail = (1.0 - level) / 2
    zero = np.zeros_like(x)
    prior = None
    if exposure <= 0:
        rate = rate_var = mean_low = mean_high = zero
    elif purchases == 0:  # no repeat purchase anywhere: rate 0, bounded above
        rate, rate_var, mean_low = zero, zero, zero
        mean_high = np.full_like(x, chi2.ppf(1 - tail, 2) / 2 / exposure)
    else:
        pooled = purchases / exposure
        prior = gamma_poisson_prior(x, T)
        if prior is None:  # no spread between customers beyond Poisson's
            rate, rate_var = np.full_like(x, pooled), zero
        else:
            shape, scale = prior[0] + x, 1.0 / (prior[1] + T)
            rate, rate_var = shape * scale, shape * scale**2
        # Garwood bounds of the pooled rate, as ratios to it (shared by every customer)
        low = chi2.ppf(tail, 2 * purchases) / 2 / exposure / pooled
        high = chi2.ppf(1 - tail, 2 * purchases + 2) / 2 / exposure / pooled
        mean_low, mean_high = rate * low, rate * high
    own_var = rate**2 * spend_var + aov**2 * rate_var + rate_var * spend_var
    own_low, own_high = mean_low * aov, mean_high * aov
    spread = own_var > 0
    if spread.any():
        q_low, q_high = _value_quantiles(
            rate[spread], rate_var[spread], aov[spread], spend_var[spread],
            (tail, 1 - tail), draws, np.random.default_rng(seed),
        )  # fmt: skip
        own_low[spread] = np.minimum(own_low[spread], q_low)
        own_high[spread] = np.maximum(own_high[spread], q_high)
    return pd.DataFrame(
        {
            "clv": aov * rate * discounted_days,
            "clv_low": own_low * discounted_days,
            "clv_high": own_high * discounted_days,
            "clv_mean_low": aov * mean_low * discounted_days,
            "clv_mean_high": aov * mean_high * discounted_days,
            "clv_sd": np.sqrt(own_var) * discounted_days,
            "p_alive": np.nan,
            "expected_purchases": rate * horizon_months * DAYS_PER_MONTH,
            "method": "simple_rate",
        },
        index=summary.index,
    )


def _spend_cv2(summary: pd.DataFrame) -> float:
    """Squared coefficient of variation of a customer's purchase amounts around their own
    mean, pooled over customers with two or more purchases (0 when none has, or the
    summary has no ``sum_sq_amount``): Σ Σ(a − ā)² / Σ (n − 1) ā²."""
    if "sum_sq_amount" not in summary.columns:
        return 0.0
    n = summary["n_purchases"].to_numpy(float)
    total = summary["total_amount"].to_numpy(float)
    several = n >= 2
    aov = total[several] / n[several]
    within = summary["sum_sq_amount"].to_numpy(float)[several] - n[several] * aov**2
    denominator = float(np.sum((n[several] - 1.0) * aov**2))
    return max(float(np.sum(within)), 0.0) / denominator if denominator > 0 else 0.0


def _value_quantiles(
    rate: np.ndarray,
    rate_var: np.ndarray,
    aov: np.ndarray,
    spend_var: np.ndarray,
    quantiles: tuple[float, float],
    draws: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of rate × spend, each drawn from a Gamma with its mean and variance
    (a constant where its variance is 0), by ``draws`` draws in chunks of customers."""

    def gamma_draws(mean: np.ndarray, var: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        varies = var > 0
        scale = np.where(varies, var / np.where(mean > 0, mean, 1.0), 1.0)
        shape = np.where(varies, mean / scale, 1.0)
        return np.where(varies, rng.gamma(shape, scale, size=size), mean)

    low, high = np.empty_like(rate), np.empty_like(rate)
    chunk = max(1, 2_000_000 // max(draws, 1))
    for start in range(0, len(rate), chunk):
        sl = slice(start, start + chunk)
        size = (draws, len(rate[sl]))
        values = gamma_draws(rate[sl], rate_var[sl], size) * gamma_draws(
            aov[sl], spend_var[sl], size
        )
        low[sl], high[sl] = np.quantile(values, quantiles, axis=0)
    return low, high


def gamma_poisson_prior(x: np.ndarray, T: np.ndarray) -> tuple[float, float] | None:
    """(r, α) of λ ~ Gamma(r, α) from repeat counts x over exposures T, by moments; None
    when the counts show no spread beyond Poisson (or too little data to tell).

    E[x] = λ̄T and Var[x] = λ̄T + σ²T² with σ² = r/α² the spread of rates, so
    σ̂² = Σ((x − λ̄T)² − λ̄T) / ΣT² (moments, any exposures), r = λ̄²/σ̂², α = λ̄/σ̂².

    Examples
    --------
    >>> gamma_poisson_prior(np.array([0.0, 1.0, 0.0]), np.array([100.0, 100.0, 100.0])) is None
    True
    >>> r, alpha = gamma_poisson_prior(np.array([0.0, 9.0, 0.0, 6.0]), np.full(4, 100.0))
    >>> round(float(r / alpha), 4)  # the mean rate is the pooled one
    0.0375
    """
    exposure = float(T.sum())
    if len(x) < 2 or exposure <= 0 or x.sum() <= 0:
        return None
    pooled = x.sum() / exposure
    spread = float(np.sum((x - pooled * T) ** 2 - pooled * T) / np.sum(T**2))
    if spread <= 0:
        return None
    return pooled**2 / spread, pooled / spread
