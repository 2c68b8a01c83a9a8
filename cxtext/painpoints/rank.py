"""Themes of a window ranked by customer lifetime value at risk, per segment.

clv_at_risk(t) = Σ over customers who raised t negatively in the window CLV(c) ×
max(0, uplift(t)) — written on each row as (customers + unlinked_mentions) × mean_clv ×
max(0, churn_uplift) so that every figure can be recomputed from the row. Negative
mentions without a known customer count once each at the segment's mean CLV (the
configured default when no customer has a value), and are counted in
``unlinked_mentions``. A theme whose effect on churn may be zero or protective puts
nothing at risk, so the figure and its interval are never negative. The order of the
rows (``rank``) is :mod:`cxtext.painpoints.order`'s.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import cache, partial

import numpy as np
import pandas as pd
from scipy.stats import norm

from cxtext.painpoints.mentions import metadata_field, theme_mentions
from cxtext.painpoints.nps import score_impact
from cxtext.painpoints.order import ranks
from cxtext.painpoints.spikes import is_spike
from cxtext.schema import PAIN_POINTS, conform, utc_timestamp
from cxtext.themes.taxonomy import Taxonomy
from cxtext.value.methods import method_shares
from cxtext.value.misclassification import (
    Confusion,
    customer_probability_of_logs,
    log_none,
    mention_truth,
)

# Said in a pain point's method (and warned by the flow) when the correction cannot
# separate a theme's assignments from its held-out false positives
UNIDENTIFIED = (
    "not corrected: assigned no more often than its held-out false-positive rate, so "
    "the correction cannot tell how many truly raised it; figures as labelled, interval "
    "down to 0 (check the theme's keywords or model)"
)


def rank_pain_points(
    feedback: pd.DataFrame,
    customer_value: pd.DataFrame,
    uplift: pd.DataFrame,
    taxonomy: Taxonomy,
    *,
    window_end: pd.Timestamp,
    window_days: int,
    segments: list[str],
    segment_column: str,
    spike_ratio: float,
    spike_min_mentions: int,
    spike_alpha: float,
    examples: int,
    example_chars: tuple[int, int],
    default_clv: float,
    default_clv_by_segment: dict[str, float],
    customer_attributes: pd.DataFrame | None = None,
    confusion: Confusion | None = None,
    level: float = 0.9,
    correction_draws: int = 100,
) -> pd.DataFrame:
    """PAIN_POINTS rows for the window [window_end − window_days, window_end).

    ``segments`` holds "all", column names (one set of rows per value, labelled
    "plan=premium") and/or "column=value" (that value only). A document's value is, in
    this order: its own column (channel, language, source, score_type), its metadata
    field, its customer's column in ``customer_attributes`` (customer_id, attributes
    JSON), and for ``segment_column`` the customer's segment in ``customer_value``.
    Within a segment, themes distinguishable from no effect rank first, then the others,
    each part by CLV at risk (ties and missing values: more negative mentions first;
    :mod:`cxtext.painpoints.order`). Unlinked mentions count at the segment's mean CLV;
    when there are no customer values at all (a feedback-only run without ids) at
    ``default_clv_by_segment`` for a ``segment_column`` segment, else ``default_clv``.
    ``run_id`` is left null.

    With ``confusion`` (held-out classifier confusion, :mod:`cxtext.value.misclassification`)
    the people counted for a theme are the *expected* number who truly raised it
    negatively (``corrected_people``): each customer weighted by that probability, every
    document of the window contributing (a missed mention counts too). The uncertainty
    of that count (the confusion counts redrawn ``correction_draws`` times, plus the
    Bernoulli spread) widens the CLV at risk interval at ``level``.
    """
    if feedback is None or len(feedback) == 0 or not segments:
        return PAIN_POINTS.empty()
    end = utc_timestamp(window_end)
    start = end - pd.Timedelta(days=window_days)
    prev_start = start - pd.Timedelta(days=window_days)

    fb = feedback.reset_index(drop=True)
    created = pd.to_datetime(fb["created_at"], utc=True)
    in_window = ((created >= start) & (created < end)).to_numpy()
    in_prev = ((created >= prev_start) & (created < start)).to_numpy()
    if not in_window.any():
        return PAIN_POINTS.empty()
    cid = (
        fb["customer_id"].astype("string").str.strip()
        if "customer_id" in fb.columns
        else pd.Series(pd.NA, index=fb.index, dtype="string")
    )
    cv = _customer_value(customer_value)

    m = theme_mentions(fb)
    if m.empty:
        return PAIN_POINTS.empty()
    themes_per_doc = m.groupby("doc").size()
    d = m["doc"].to_numpy()
    m["customer_id"] = pd.array(cid.to_numpy()[d], dtype="string")
    m["in_window"] = in_window[d]
    m["in_prev"] = in_prev[d]
    m = m[m["in_window"] | m["in_prev"]].reset_index(drop=True)

    up = _uplift_table(uplift)
    doc_info = _doc_info(fb, themes_per_doc)
    correction = None
    z = float(norm.ppf(0.5 + level / 2))
    if confusion is not None:
        theme_list = list(dict.fromkeys([*taxonomy.ids, *m["theme_id"].unique().tolist()]))
        truth = mention_truth(fb, theme_list, confusion)
        rates = truth.draw_rates(np.random.default_rng(0), correction_draws)
        correction = (truth, theme_list, rates, cid.to_numpy(dtype=object))
    rows: list[dict] = []
    attrs = attributes_by_customer(customer_attributes)
    segs = _segments(fb, cid, cv, attrs, segments, segment_column)
    for label, doc_mask, seg_cv, seg_value in segs:
        n_docs = int((doc_mask & in_window).sum())
        if n_docs == 0:
            continue
        n_prev_docs = int((doc_mask & in_prev).sum())
        sm = m[doc_mask[m["doc"].to_numpy()]]
        cur, prev = sm[sm["in_window"]], sm[sm["in_prev"]]
        prev_counts = prev.groupby("theme_id").size()
        default = (
            default_clv_by_segment.get(seg_value, default_clv)
            if seg_value is not None
            else default_clv
        )
        seg_mean = _segment_mean(seg_cv, cv, cur, float(default))
        # who the segment's window rows belong to and every theme's draws: worked out at
        # the first corrected theme, shared by the segment's other themes
        segment_draws = (
            cache(
                partial(
                    _segment_draws,
                    correction[0],
                    correction[2],
                    np.flatnonzero(doc_mask & in_window),
                    correction[3],
                    cv,
                    seg_mean,
                )
            )
            if correction is not None
            else None
        )
        seg_rows = []
        for theme_id, tm in cur.groupby("theme_id", sort=True):
            seg_rows.append(
                _theme_row(
                    str(theme_id),
                    tm,
                    doc_info,
                    doc_mask & in_window,
                    (n_docs, n_prev_docs),
                    int(prev_counts.get(theme_id, 0)),
                    cv,
                    seg_mean,
                    up,
                    taxonomy,
                    (spike_ratio, spike_min_mentions, spike_alpha),
                    examples,
                    example_chars,
                    correction,
                    segment_draws,
                    z,
                )
            )
        seg_df = pd.DataFrame(seg_rows)
        seg_df["rank"] = ranks(seg_df)
        seg_df["segment"] = label
        rows.extend(seg_df.to_dict("records"))
    if not rows:
        return PAIN_POINTS.empty()
    out = pd.DataFrame(rows)
    out["window_start"] = start
    out["window_end"] = end
    out["run_id"] = pd.NA
    out["_not_all"] = out["segment"] != "all"
    out = out.sort_values(["_not_all", "segment", "rank"])
    return conform(out, PAIN_POINTS)


def _customer_value(customer_value: pd.DataFrame | None) -> pd.DataFrame:
    """Per customer: clv with the bounds that add up over customers (the expected value's,
    from shared parameters: ``clv_mean_low/high``; a warehouse written before they existed
    has only ``clv_low/high``, which then meant the same), ``clv_var`` (the customer's own
    variance, independent across customers), method and segment."""
    cols = ["clv", "clv_low", "clv_high", "clv_var", "method", "segment"]
    if customer_value is None or len(customer_value) == 0:
        return pd.DataFrame(
            {c: pd.Series(dtype=float) for c in cols}, index=pd.Index([], dtype="string")
        )
    cv = customer_value[customer_value["customer_id"].notna()].copy()
    cv["customer_id"] = cv["customer_id"].astype("string").str.strip()
    cv = cv.drop_duplicates("customer_id", keep="last").set_index("customer_id")
    out = pd.DataFrame(index=cv.index)

    def num(c: str) -> pd.Series:
        if c not in cv.columns:
            return pd.Series(np.nan, index=cv.index)
        return pd.to_numeric(cv[c], errors="coerce").astype(float)

    out["clv"] = num("clv")
    for side in ("low", "high"):
        out[f"clv_{side}"] = num(f"clv_mean_{side}").fillna(num(f"clv_{side}")).fillna(out["clv"])
    out["clv_var"] = num("clv_sd").fillna(0.0) ** 2
    out["method"] = cv["method"].astype("string") if "method" in cv.columns else pd.NA
    out["segment"] = cv["segment"].astype("string") if "segment" in cv.columns else pd.NA
    return out[out["clv"].notna()]


def _uplift_table(uplift: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["churn_uplift", "churn_uplift_low", "churn_uplift_high", "method"]
    if uplift is None or len(uplift) == 0:
        return pd.DataFrame(columns=cols)
    u = uplift.drop_duplicates("theme_id", keep="last").set_index("theme_id")
    return u[[c for c in cols if c in u.columns]]


# Feedback's own columns that make sense as segments (the rest is metadata).
DOCUMENT_SEGMENTS = ("channel", "language", "source", "score_type")


def attributes_by_customer(customer_attributes: pd.DataFrame | None) -> dict[str, dict]:
    """customer_id -> its attributes (CUSTOMER_ATTRIBUTES rows, JSON decoded)."""
    if customer_attributes is None or customer_attributes.empty:
        return {}
    out = {}
    for cid, raw in zip(
        customer_attributes["customer_id"], customer_attributes["attributes"], strict=True
    ):
        if cid is not None and not pd.isna(cid):
            out[str(cid).strip()] = json.loads(raw) if isinstance(raw, str) and raw else {}
    return out


def segment_values(
    fb: pd.DataFrame, cid: pd.Series, attrs: dict[str, dict], column: str
) -> pd.Series:
    """Each document's value of a segment column (NA where unknown), as strings."""
    if column in DOCUMENT_SEGMENTS and column in fb.columns:
        values = fb[column].astype("string")
    else:
        values = metadata_field(fb, column)
    if attrs and values.isna().any():
        from_customer = [
            None if pd.isna(c) or attrs.get(c, {}).get(column) is None else str(attrs[c][column])
            for c in cid.tolist()
        ]
        values = values.fillna(pd.Series(from_customer, index=fb.index, dtype="string"))
    return values.str.strip().replace("", pd.NA)


def _segments(
    fb: pd.DataFrame,
    cid: pd.Series,
    cv: pd.DataFrame,
    attrs: dict[str, dict],
    segments: list[str],
    segment_column: str,
):
    """(label, document mask, customer values of the segment or None, segment_column value or None)."""
    for spec in dict.fromkeys(segments):
        if spec == "all":
            yield "all", np.ones(len(fb), dtype=bool), cv, None
            continue
        column, _, only = spec.partition("=")
        values = segment_values(fb, cid, attrs, column)
        if column == segment_column:
            values = values.fillna(cid.map(cv["segment"]).astype("string"))
        for value in sorted(values.dropna().unique()):
            if only and value != only:
                continue
            seg_cv = cv[cv["segment"] == value] if column == segment_column else None
            mask = (values == value).fillna(False).to_numpy(bool)
            yield (
                f"{column}={value}",
                mask,
                seg_cv,
                (str(value) if column == segment_column else None),
            )


def _segment_mean(
    seg_cv: pd.DataFrame | None, cv: pd.DataFrame, cur: pd.DataFrame, default: float
) -> tuple[float, float, float, str, float]:
    """Mean (clv, low, high) that an unlinked mention counts with, its source, and the
    mean of the customers' own variance.

    The segment's customers when the segment is defined on customers; else the
    customers seen in the segment's feedback; else everyone; else (no customer values
    at all) the configured default, taken as exact like every default.
    """
    pool = seg_cv
    if pool is None:
        seen = cur["customer_id"].dropna().unique()
        pool = cv.loc[cv.index.intersection(pd.Index(seen, dtype="string"))]
    if pool is None or pool.empty:
        pool = cv
    if pool.empty:
        return (default, default, default, f"default clv {default:g}", 0.0)
    return (
        float(pool["clv"].mean()),
        float(pool["clv_low"].mean()),
        float(pool["clv_high"].mean()),
        "segment mean clv",
        float(pool["clv_var"].mean()),
    )


def _theme_row(
    theme_id: str,
    tm: pd.DataFrame,
    doc_info: pd.DataFrame,
    window_docs: np.ndarray,
    doc_counts: tuple[int, int],  # documents in this window and the previous one
    previous: int,
    cv: pd.DataFrame,
    seg_mean: tuple[float, float, float, str, float],
    up: pd.DataFrame,
    taxonomy: Taxonomy,
    spike: tuple[float, int, float],
    examples: int,
    example_chars: tuple[int, int],
    correction: tuple | None = None,
    segment_draws: Callable[[], dict] | None = None,
    z: float = 0.0,
) -> dict:
    mentions = len(tm)
    neg = tm[tm["negative"]]
    ids = neg["customer_id"]
    linked_ids = pd.Index(ids.dropna().unique(), dtype="string")
    known = linked_ids.intersection(cv.index)
    unlinked = int(ids.isna().sum()) + len(linked_ids.difference(cv.index))
    vals = cv.loc[known]
    n_people = len(known) + unlinked
    sums = [
        float(vals[c].sum()) + unlinked * seg_mean[i]
        for i, c in enumerate(("clv", "clv_low", "clv_high"))
    ]
    if unlinked == 0:
        sums = [float(vals[c].sum()) for c in ("clv", "clv_low", "clv_high")]
    mean_clv = sums[0] / n_people if n_people else math.nan
    people = negatives = None
    # the customers' own spread (independent, so in quadrature); z as for the other terms
    spread = z * math.sqrt(float(vals["clv_var"].sum()) + unlinked * seg_mean[4])
    if correction is not None and theme_id in correction[0].themes:
        corrected = _corrected_sums(theme_id, seg_mean, correction, segment_draws, z)
        if corrected is not None:
            people, negatives, sums, spread = corrected
            n_people = people
            if people > 1e-9:  # else no one truly raised it: the labelled people's mean stays
                mean_clv = sums[0] / people

    if theme_id in up.index:
        u = float(up.at[theme_id, "churn_uplift"])
        u_low = _float(up.at[theme_id, "churn_uplift_low"], u)
        u_high = _float(up.at[theme_id, "churn_uplift_high"], u)
        u_method = str(up.at[theme_id, "method"]) if "method" in up.columns else "given"
    else:
        u = u_low = u_high = math.nan
        u_method = "missing"
    risk, risk_low, risk_high = (
        clv_at_risk_interval(sums[0], sums[1], sums[2], u, u_low, u_high, spread)
        if n_people
        else (0.0, 0.0, 0.0)
    )
    unidentified = correction is not None and _unidentified(correction[0], theme_id)
    if unidentified:  # kept as labelled, but nobody may truly have raised it
        risk_low = 0.0

    docs = tm["doc"].to_numpy()
    scores, stype = doc_info["score"].to_numpy(float), doc_info["score_type"].to_numpy(object)
    has_theme = np.zeros(len(doc_info), dtype=bool)
    has_theme[docs] = True
    impacts = {}
    for kind in ("nps", "csat"):
        sel = window_docs & (stype == kind) & np.isfinite(scores)
        impacts[kind] = score_impact(scores[sel], has_theme[sel], kind)

    try:
        theme = taxonomy[theme_id]
        en, fa = theme.label_en, theme.label_fa
    except KeyError:
        en = fa = theme_id
    return {
        "theme_id": theme_id,
        "theme_en": en,
        "theme_fa": fa,
        "mentions": mentions,
        "negative_mentions": len(neg),
        "customers": len(known),
        "unlinked_mentions": unlinked,
        "corrected_people": people,
        "corrected_negative_mentions": negatives,
        "share": mentions / doc_counts[0],
        "negative_rate": len(neg) / mentions,
        "previous_mentions": previous,
        "trend": (mentions - previous) / previous if previous else math.nan,
        "spike": is_spike(
            mentions, previous, *doc_counts, ratio=spike[0], min_mentions=spike[1], alpha=spike[2]
        ),
        "nps_impact": impacts["nps"],
        "csat_impact": impacts["csat"],
        "mean_clv": mean_clv,
        "churn_uplift": u,
        "churn_uplift_low": u_low,
        "churn_uplift_high": u_high,
        "clv_at_risk": risk,
        "clv_at_risk_low": risk_low,
        "clv_at_risk_high": risk_high,
        "examples": json.dumps(
            pick_examples(
                doc_info, neg["doc"].to_numpy() if len(neg) else docs, examples, example_chars
            ),
            ensure_ascii=False,
        ),
        "method": _method(u_method, vals["method"], unlinked, seg_mean[3])
        + ("; people corrected for misclassification" if people is not None else "")
        + (f"; {UNIDENTIFIED}" if unidentified else ""),
    }


def _corrected_sums(
    theme_id: str,
    seg_mean: tuple[float, float, float, str, float],
    correction: tuple,
    segment_draws: Callable[[], dict],
    z: float,
) -> tuple[float, float, list[float], float] | None:
    """(expected people, expected negative mentions, [Σ clv, low, high], z × sd of Σ clv).

    A customer counts with P(they truly raised the theme negatively in the window) =
    1 − Π over their documents (1 − p); documents without a known customer count
    like unlinked mentions, at the segment mean.
    """
    truth, theme_list, _, _ = correction
    j = theme_list.index(theme_id)
    if not truth.corrected[j]:
        return None
    seg = segment_draws()
    clv, clv_var = seg["clv"], seg["clv_var"]
    p = truth.probability[seg["rows"], j]
    pi, unlinked = _people(p[:, None], seg)
    pi, unlinked = pi[:, 0], float(unlinked[0])
    sums = [float(clv[:, i] @ pi + unlinked * seg_mean[i]) for i in range(3)]
    draws = seg["draws"][j].tolist()
    bernoulli = float((clv[:, 0] ** 2) @ (pi * (1 - pi)) + seg_mean[0] ** 2 * unlinked)
    own = float(clv_var @ pi + seg_mean[4] * unlinked)  # each person's own CLV spread
    sd = math.sqrt(float(np.var(draws) if draws else 0.0) + bernoulli + own)
    return float(pi.sum() + unlinked), float(p.sum()), sums, z * sd


def _segment_draws(
    truth, rates: list, rows: np.ndarray, cid: np.ndarray, cv: pd.DataFrame, seg_mean: tuple
) -> dict:
    """The window rows' customers (codes, values) and Σ clv of every corrected theme
    under each draw of the correction (themes × draws): all themes of a draw in one
    pass over the rows."""
    ids = pd.array(cid[rows], dtype="string")
    known = pd.Index(ids).isin(cv.index) & pd.notna(ids)
    codes, uniques = pd.factorize(pd.Series(ids).where(known, None))
    known_values = cv.reindex(pd.Index(uniques, dtype="string"))
    no_id = ~known
    unknown_codes, _ = pd.factorize(pd.Series(ids).where(no_id & pd.notna(ids), None))
    seg = {
        "rows": rows,
        "codes": codes,
        "customers": len(uniques),
        "unknown_codes": unknown_codes,
        "unlinked_rows": no_id & pd.isna(ids),
        "clv": known_values[["clv", "clv_low", "clv_high"]].to_numpy(),
        "clv_var": known_values["clv_var"].to_numpy(),
    }
    corrected = np.flatnonzero(truth.corrected)
    draws = np.full((len(truth.themes), len(rates)), np.nan)
    signature_rows: dict[str, np.ndarray] = {}
    for d, r in enumerate(rates):
        distinct, back = truth.signature_probability_under(r, rows)
        if not signature_rows:  # the same rows every draw: where each kind's rows point
            signature_rows = {
                "known": back[seg["codes"] >= 0],
                "unknown": back[seg["unknown_codes"] >= 0],
                "unlinked": back[seg["unlinked_rows"]],
            }
        per_customer, unlinked = _people_of_signatures(distinct[:, corrected], signature_rows, seg)
        for i, k in enumerate(corrected):
            draws[k, d] = float(seg["clv"][:, 0] @ per_customer[:, i] + unlinked[i] * seg_mean[0])
    seg["draws"] = draws
    return seg


def _people(p: np.ndarray, seg: dict) -> tuple[np.ndarray, list[float]]:
    """(P(customer truly raised it) per known customer × column, expected unlinked people
    per column): a known customer counts once, unknown ids and rows without one at the
    segment mean."""
    back = np.arange(len(p))
    rows = {
        "known": back[seg["codes"] >= 0],
        "unknown": back[seg["unknown_codes"] >= 0],
        "unlinked": back[seg["unlinked_rows"]],
    }
    return _people_of_signatures(p, rows, seg)


def _people_of_signatures(
    p: np.ndarray, rows: dict[str, np.ndarray], seg: dict
) -> tuple[np.ndarray, list[float]]:
    """:func:`_people` from the probabilities of distinct signatures (``p``) and, per kind
    of row (known customer, unknown id, no id), each row's signature: log(1 − p) is taken
    once per signature and gathered, so the per-customer sums add the same values in the
    same order as from every row's own."""
    logs = log_none(p)
    codes = seg["codes"]
    per_customer = customer_probability_of_logs(
        logs[rows["known"]], codes[codes >= 0], seg["customers"]
    )
    unknown_codes = seg["unknown_codes"]
    unknown = customer_probability_of_logs(
        logs[rows["unknown"]], unknown_codes[unknown_codes >= 0], unknown_codes.max() + 1
    )
    unlinked_p = p[rows["unlinked"]]
    unlinked = [float(unlinked_p[:, i].sum() + unknown[:, i].sum()) for i in range(p.shape[1])]
    return per_customer, unlinked


def _unidentified(truth, theme_id: str) -> bool:
    return theme_id in truth.themes and bool(truth.unidentified[truth.themes.index(theme_id)])


def unidentified_themes(pain: pd.DataFrame) -> list[str]:
    """Themes of the "all" segment whose correction was not identified (see UNIDENTIFIED)."""
    if pain.empty:
        return []
    hit = (pain["segment"] == "all") & pain["method"].astype("string").str.contains(
        UNIDENTIFIED, regex=False
    ).fillna(False)
    return pain.loc[hit, "theme_id"].astype(str).tolist()


def _float(value: object, default: float) -> float:
    return default if value is None or pd.isna(value) else float(value)


def clv_at_risk_interval(
    clv_sum: float,
    clv_low: float,
    clv_high: float,
    uplift: float,
    uplift_low: float,
    uplift_high: float,
    count_spread: float = 0.0,
) -> tuple[float, float, float]:
    """Σ CLV × max(0, uplift) with an interval from both factors' intervals, never below 0.

    Value at risk is what a theme may cost, so a theme that may be harmless or even
    protective (uplift or its low end below 0) puts 0 at risk at that end rather than
    "saving" value. max(0, ·) is monotone, so the clipped uplift bounds are exactly the
    bounds of the clipped uplift. Then first-order propagation for a product of
    independent factors, side by side: the distance to each bound is the root sum of
    squares of (uplift × CLV's distance) and (CLV × uplift's distance), floored at 0.
    CLV bounds are summed over customers as given (the expected values' bounds: their
    uncertainty comes from shared model parameters, so customers move together).
    ``count_spread`` is a third, independent factor: the half-width of Σ CLV due to each
    customer's own uncertain value and, when corrected, to misclassification (who truly
    raised the theme), added in quadrature on both sides.

    Examples
    --------
    >>> [round(v) for v in clv_at_risk_interval(1000, 900, 1100, 0.1, 0.05, 0.15)]
    [100, 49, 151]
    >>> [round(v) for v in clv_at_risk_interval(1000, 900, 1100, -0.02, -0.08, 0.03)]
    [0, 0, 30]
    """
    if any(map(math.isnan, (clv_sum, uplift))):
        return (math.nan, math.nan, math.nan)
    u, u_low, u_high = (max(0.0, v) for v in (uplift, uplift_low, uplift_high))
    risk = clv_sum * u
    low = risk - math.hypot(u * (clv_sum - clv_low), clv_sum * (u - u_low), u * count_spread)
    high = risk + math.hypot(u * (clv_high - clv_sum), clv_sum * (u_high - u), u * count_spread)
    return (risk, max(0.0, low), high)


def _doc_info(fb: pd.DataFrame, themes_per_doc: pd.Series) -> pd.DataFrame:
    """Per document: quote text and length, theme count, sentiment and survey scores."""
    n = len(fb)
    text = (
        fb["text_redacted"].astype("string").str.strip()
        if "text_redacted" in fb.columns
        else pd.Series(pd.NA, index=fb.index, dtype="string")
    )
    return pd.DataFrame(
        {
            "text": text,
            "n": text.str.len().fillna(0).astype(int),
            "themes": themes_per_doc.reindex(range(n), fill_value=0).to_numpy(),
            "sentiment_score": pd.to_numeric(fb["sentiment_score"], errors="coerce").astype(float)
            if "sentiment_score" in fb.columns
            else np.full(n, np.nan),
            "score": pd.to_numeric(fb["score"], errors="coerce").astype(float)
            if "score" in fb.columns
            else np.full(n, np.nan),
            "score_type": fb["score_type"].astype("string").str.lower().fillna("").astype(object)
            if "score_type" in fb.columns
            else np.full(n, "", dtype=object),
        },
        index=fb.index,
    )


def pick_examples(
    doc_info: pd.DataFrame, docs: np.ndarray, k: int, chars: tuple[int, int]
) -> list[str]:
    """Up to ``k`` distinct redacted quotes that a reader takes as being about the theme.

    Preferred in order: ``chars`` long, about this theme alone (a quote that raises three
    themes illustrates none of them well), most negative, shortest.
    """
    if k <= 0 or len(docs) == 0:
        return []
    sub = doc_info.iloc[np.unique(docs)]
    sub = sub[sub["n"] > 0]
    if sub.empty:
        return []
    sub = sub.assign(awkward=~sub["n"].between(*chars), multi=sub["themes"] > 1)
    sub = sub.sort_values(
        ["awkward", "multi", "sentiment_score", "n"], na_position="last"
    ).drop_duplicates("text")
    return [str(t) for t in sub["text"].head(k)]


def _method(uplift_method: str, clv_methods: pd.Series, unlinked: int, unlinked_at: str) -> str:
    """e.g. "uplift=joint_logit(...); clv=crm 31%/bgnbd_gammagamma 60%; unlinked 2 at segment mean clv"."""
    parts = [f"uplift={uplift_method}"]
    if len(clv_methods):
        parts.append("clv=" + method_shares(clv_methods))
    if unlinked:
        parts.append(f"unlinked {unlinked} at {unlinked_at}")
    return "; ".join(parts)
