"""BG/NBD (purchase frequency) and Gamma-Gamma (spend) fitted by maximum likelihood.

Why our own code: ``lifetimes`` and ``btyd`` no longer import on Python 3.11+, and
``pymc-marketing`` is ~400 MB with ~15 s of compilation per fit. Both models have
closed-form likelihoods, so a vectorised numpy log-likelihood with its analytic
gradient and ``scipy.optimize.minimize`` on log-parameters fits 100k customers in
about a second (numbers in docs/value.md).

References
----------
Fader, Hardie & Lee (2005a), "Counting your customers the easy way: an alternative to
the Pareto/NBD model", Marketing Science 24(2) — BG/NBD likelihood (eq. 6), P(alive)
and conditional expectation (eq. 10).
Fader, Hardie & Lee (2005b), "RFM and CLV: using iso-value curves for customer base
analysis", JMR 42(4) — Gamma-Gamma spend model; Fader & Hardie (2013) note
"The Gamma-Gamma model of monetary value".

Uncertainty is a Laplace approximation: the inverse observed information (numerical
Hessian of the log-likelihood in log-parameter space) is the covariance of the
log-parameters; :func:`predict_clv` propagates it to each customer's CLV with the
delta method on the log scale, so intervals stay positive.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaincinv, betaln, digamma, expit, gammaln, hyp2f1
from scipy.stats import norm

from cxtext.value.rfm import DAYS_PER_MONTH

_LOG_BOUND = 15.0  # log-parameters live in [-15, 15]: keeps exp() finite during the search
_AT_LIMIT = 9.0  # a shape parameter past e^±9 has taken the model to one of its limits
_HOLD = 12.0  # held no further out than e^±12: gammaln rounding makes the search noisy beyond
_CLOSED_FORM_AB = 1e3  # dropout Beta with a + b above this: expected purchases by quadrature
_LIMIT_GAIN = 0.05  # log-likelihood slope back toward the interior a held parameter may have


_nodes, _weights = np.polynomial.legendre.leggauss(48)
_QUANTILE_NODES, _QUANTILE_WEIGHTS = (_nodes + 1.0) / 2.0, _weights / 2.0  # on (0, 1)


class NotFittedError(RuntimeError):
    """A model's prediction was asked for before ``fit``."""


def _as_float(*arrays: object) -> list[np.ndarray]:
    return [np.asarray(a, dtype=float) for a in arrays]


# --- BG/NBD -----------------------------------------------------------------------


def bgnbd_loglik(
    log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, *, grad: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Per-customer BG/NBD log-likelihood (FHL 2005a eq. 6) and optionally its gradient.

    ``log_params`` is ``log([r, alpha, a, b])``; the gradient (n × 4) is with respect to
    the log-parameters.
    """
    r, alpha, a, b = np.exp(np.asarray(log_params, dtype=float))
    x, t_x, T = _as_float(x, t_x, T)
    rep = x > 0
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    bx1 = np.where(rep, b + x - 1.0, 1.0)
    a4 = np.where(rep, np.log(a) - np.log(bx1) - (r + x) * np.log(alpha + t_x), -np.inf)
    mix = np.logaddexp(a3, a4)
    ll = a1 + a2 + mix
    if not grad:
        return ll
    w4 = np.exp(a4 - mix)  # weight of the "dropped out after the last purchase" branch
    w3 = 1.0 - w4
    d_r = (
        digamma(r + x)
        - digamma(r)
        + np.log(alpha)
        - w3 * np.log(alpha + T)
        - w4 * np.log(alpha + t_x)
    )
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + t_x))
    psi_ab, psi_abx = digamma(a + b), digamma(a + b + x)
    d_a = psi_ab - psi_abx + w4 / a
    d_b = psi_ab + digamma(b + x) - digamma(b) - psi_abx - w4 / bx1
    g = np.column_stack([r * d_r, alpha * d_alpha, a * d_a, b * d_b])
    return ll, g


@dataclass
class _Fit:
    """What :func:`_fit_mle` found: log-parameters, total log-likelihood, covariance."""

    theta: np.ndarray
    loglik: float
    converged: bool
    cov: np.ndarray
    at_limit: tuple[int, ...] = ()  # shape parameters held where the data sent them


def _fit_mle(
    loglik, start: np.ndarray, args: tuple[np.ndarray, ...], max_iter: int, shapes: tuple[int, ...]
) -> _Fit:
    """Maximum likelihood on log-parameters, allowing for a best fit at a limit of the model.

    Data with no spread in purchase rates (or spend), or no dropout, have their likelihood
    rising toward a limit of the family (r → ∞, a → 0, q → ∞): the optimiser walks out
    along a flat ridge and stops anywhere on it, at a bound or with a singular Hessian.
    When some ``shapes`` (scale-free parameters) have run past ``_AT_LIMIT``, whether or
    not the search called that converged (the Hessian there is near-singular, and Laplace
    draws along it would leave floating point), those are held where they stopped,
    brought in together to at most ``_HOLD`` (the model is then its limit to within 1%: a
    Gamma shape of e^9 has a CV of 1.1%), and the rest refitted. The fit counts as
    converged only if the rest reach an interior optimum with a finite Hessian and the
    likelihood does not pull a held one back (its slope toward the interior is under
    ``_LIMIT_GAIN`` per unit of log; toward the limit it may rise, by about its slope
    at most: the rise shrinks like 1/r). Their covariance rows are 0: the limit is
    taken as known.
    """
    first = _maximise(loglik, start, args, max_iter, np.arange(len(start)))
    held = tuple(j for j in shapes if abs(first.theta[j]) > _AT_LIMIT)
    if not held:
        return first
    free = np.array([j for j in range(len(start)) if j not in held])
    theta = first.theta.copy()
    # brought in together (ratios such as a/(a+b), the mean dropout, are kept)
    excess = max(0.0, float(np.max(np.abs(theta[list(held)]))) - _HOLD)
    theta[list(held)] -= np.sign(theta[list(held)]) * excess
    second = _maximise(loglik, theta, args, max_iter, free)
    _, g = loglik(second.theta, *args, grad=True)
    outward = np.sign(second.theta[list(held)]) * g.sum(axis=0)[list(held)]
    toward_limit = bool(np.all(outward > -_LIMIT_GAIN))
    return _Fit(second.theta, second.loglik, second.converged and toward_limit, second.cov, held)


def _maximise(
    loglik, start: np.ndarray, args: tuple[np.ndarray, ...], max_iter: int, free: np.ndarray
) -> _Fit:
    """L-BFGS-B on the ``free`` log-parameters (the others stay at ``start``)."""
    n = len(args[0])
    theta = np.array(start, dtype=float)

    def objective(sub: np.ndarray) -> tuple[float, np.ndarray]:
        full = theta.copy()
        full[free] = sub
        ll, g = loglik(full, *args, grad=True)
        return -float(ll.sum()) / n, -g.sum(axis=0)[free] / n

    res = minimize(
        objective,
        np.clip(theta[free], -_LOG_BOUND, _LOG_BOUND),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * len(free),
        options={"maxiter": max_iter, "ftol": 1e-13, "gtol": 1e-9},
    )
    theta[free] = res.x
    at_bound = np.any(np.abs(res.x) >= _LOG_BOUND - 1e-6)
    sub_cov = _laplace_cov(lambda sub: -objective(sub)[1] * n, res.x)
    # L-BFGS-B may stop with "ABNORMAL_TERMINATION_IN_LNSRCH" at the optimum when ftol is
    # below what float sums can resolve: a vanishing gradient is convergence all the same,
    # in the mean or as the Newton decrement (what a Newton step would still gain).
    g = res.jac * n
    newton_gain = float(g @ sub_cov @ g) / 2 if np.all(np.isfinite(sub_cov)) else np.inf
    stationary = bool(np.max(np.abs(res.jac)) < 1e-6 or newton_gain < 1e-6)
    cov = np.zeros((len(theta), len(theta)))
    cov[np.ix_(free, free)] = sub_cov
    ok = (res.success or stationary) and not at_bound and bool(np.all(np.isfinite(cov)))
    return _Fit(theta, -res.fun * n, bool(ok), cov)


def _laplace_cov(total_grad, theta: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """Inverse of the observed information: central differences of the analytic gradient."""
    k = len(theta)
    hess = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = step
        hess[:, j] = (total_grad(theta + e) - total_grad(theta - e)) / (2 * step)
    info = -(hess + hess.T) / 2  # Hessian of the log-likelihood is negative definite at a maximum
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.full((k, k), np.nan)
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
        return np.full((k, k), np.nan)
    return cov


def bgnbd_conditional_body(
    t: float | np.ndarray,
    x: np.ndarray,
    T: np.ndarray,
    r: float,
    alpha: float,
    a: float,
    b: float,
) -> np.ndarray:
    """1 − ((α+T)/(α+T+t))^(r+x) · ₂F₁(r+x, b+x; a+b+x−1; z), z = t/(α+T+t).

    The bracket of FHL 2005a eq. 10. Written as printed, ₂F₁'s first two parameters
    grow with the frequency x and ``scipy.special.hyp2f1`` returns NaN or inf for heavy
    buyers at long horizons (x of a few hundred, 36+ months). Euler's transformation
    ₂F₁(A, B; C; z) = (1−z)^(C−A−B) ₂F₁(C−A, C−B; C; z) turns it into

        1 − (1−z)^(a−1) · ₂F₁(a+b−1−r, a−1; a+b+x−1; z)

    whose upper parameters no longer depend on x (only C grows, which makes the series
    converge faster). The same identity is the "alternative formulation" lifetimes
    falls back to. A customer for whom scipy still returns a non-finite value is
    summed term by term (:func:`_hyp2f1_series`); checked against 40-digit mpmath values
    in ``test_value_btyd.py``.
    """
    x = np.asarray(x, dtype=float)
    t = np.broadcast_to(np.asarray(t, dtype=float), x.shape)
    T = np.asarray(T, dtype=float)
    log1m_z = np.log((alpha + T) / (alpha + T + t))  # log(1 − z), no cancellation
    z = t / (alpha + T + t)
    A, B, C = a + b - 1.0 - r, a - 1.0, a + b + x - 1.0
    with np.errstate(all="ignore"):
        f = hyp2f1(A, B, C, z)
        bad = ~np.isfinite(f)
        if bad.any():
            f = np.where(bad, 0.0, f)
            f[bad] = _hyp2f1_series(A, B, C[bad], z[bad])
        scale = np.exp((a - 1.0) * log1m_z)
        # 1 − scale·f = (1 − scale) + scale·(1 − f): the first part without cancellation
        return -np.expm1((a - 1.0) * log1m_z) + scale * (1.0 - f)


def purchases_if_alive(
    t: float, x: np.ndarray, T: np.ndarray, r: float, alpha: float, a: float, b: float
) -> np.ndarray:
    """E[purchases in (T, T+t] | alive at T, x, T]: FHL eq. 10 without its P(alive) factor.

    Closed form (:func:`bgnbd_conditional_body`) where it is finite and the dropout
    Beta is not near its limit; else by quadrature (:func:`_purchases_if_alive_by_quadrature`):
    with a + b in the thousands (a fit at the "same dropout for everyone" limit) ₂F₁'s
    parameters are that large too and neither scipy nor the series evaluates it.
    """
    if a + b > _CLOSED_FORM_AB:
        return _purchases_if_alive_by_quadrature(t, x, T, r, alpha, a, b)
    with np.errstate(all="ignore"):
        out = (a + b + x - 1.0) / (a - 1.0) * bgnbd_conditional_body(t, x, T, r, alpha, a, b)
    bad = ~np.isfinite(out)
    if bad.any():
        out[bad] = _purchases_if_alive_by_quadrature(t, x[bad], T[bad], r, alpha, a, b)
    return out


def _purchases_if_alive_by_quadrature(
    t: float, x: np.ndarray, T: np.ndarray, r: float, alpha: float, a: float, b: float
) -> np.ndarray:
    """∫ (1 − ((α+T)/(α+T+pt))^(r+x)) / p dBeta(p; a, b+x), Gauss-Legendre in the quantile.

    Given alive, λ | x, T ~ Gamma(r+x, α+T) and p | x ~ Beta(a, b+x), independent; a
    customer with traits (λ, p) makes (1 − e^(−λpt))/p purchases in t, whose mean over λ
    is the integrand. Substituting p = F⁻¹(u) (the Beta quantile) makes the integrand
    smooth on (0, 1) for large a, b (48 nodes: ~1e-9 relative accuracy); with a < 1 it
    has a u^(1/a) cusp at 0 and the error is ~1e-6 (checked against the closed form in
    ``test_value_btyd.py``). Quantiles are computed once per distinct frequency.
    """
    x = np.asarray(x, dtype=float)
    T = np.asarray(T, dtype=float)
    freqs, which = np.unique(x, return_inverse=True)
    p = np.maximum(betaincinv(a, b + freqs[:, None], _QUANTILE_NODES[None, :]), 1e-300)
    out = np.empty_like(x)
    for start in range(0, len(x), 20_000):  # (customers × nodes) temporaries stay ~8 MB
        sl = slice(start, start + 20_000)
        pk = p[which[sl]]
        shrink = (r + x[sl])[:, None] * np.log1p(t * pk / (alpha + T[sl])[:, None])
        out[sl] = (-np.expm1(-shrink) / pk) @ _QUANTILE_WEIGHTS
    return out


def _hyp2f1_series(
    A: float, B: float, C: np.ndarray, z: np.ndarray, max_terms: int = 200_000
) -> np.ndarray:
    """₂F₁(A, B; C; z) for 0 ≤ z < 1 by summing the power series (NaN if it has not converged)."""
    total = np.ones_like(z)
    term = np.ones_like(z)
    active = np.ones(z.shape, dtype=bool)
    for n in range(max_terms):
        if not active.any():
            break
        term = np.where(active, term * (A + n) * (B + n) / ((C + n) * (n + 1.0)) * z, 0.0)
        total += term
        active &= np.abs(term) > 1e-17 * np.abs(total)
    return np.where(active | ~np.isfinite(total), np.nan, total)


# What a shape parameter held at a limit means, by (name, toward infinity?): docs/value.md §1
_LIMIT_MEANING = {
    ("r", True): "every customer buys at the same rate",
    ("a", False): "no customer drops out",
    ("b", True): "no customer drops out",
    ("a", True): "every customer drops out with the same probability",
    ("p", True): "each customer's purchases cost the same",
    ("q", True): "every customer has the same mean spend",
}


def limit_note(model: _FittedByMle) -> str:
    """One line on the limits a fit reached ('' for an interior fit), for the run's warnings."""
    if not getattr(model, "at_limit_", None):
        return ""
    up = {name: value > 1 for name, value in model.at_limit_.items()}
    if up.get("a") and up.get("b"):  # a, b -> inf together: a/(a+b) is the one dropout
        up.pop("b")
    meanings = dict.fromkeys(  # ordered, without repeats
        _LIMIT_MEANING.get((name, high), f"{name} held near {'infinity' if high else 0}")
        for name, high in up.items()
    )
    held = ", ".join(f"{name} = {value:.3g}" for name, value in model.at_limit_.items())
    return (
        f"{model.label} fitted at a limit of the model ({held}: {'; '.join(meanings)}); "
        "the data fit best there, so those parameters are held and the others fitted"
    )


class _FittedByMle:
    """What both models keep of a fit (the scikit-learn contract: learned state ends in _)."""

    names: tuple[str, ...] = ()
    label = ""

    def __init__(self, max_iter: int = 1000) -> None:
        self.max_iter = max_iter

    def _set_fit(self, fit: _Fit, loglik: float, n: int, started: float) -> None:
        self.log_params_ = fit.theta
        self.params_ = dict(zip(self.names, np.exp(fit.theta).tolist(), strict=True))
        self.cov_ = fit.cov
        self.loglik_ = float(loglik)
        self.n_customers_ = n
        self.converged_ = fit.converged
        self.at_limit_ = {self.names[j]: self.params_[self.names[j]] for j in fit.at_limit}
        self.fit_seconds_ = time.perf_counter() - started


class BetaGeoModel(_FittedByMle):
    """BG/NBD: Poisson purchases at rate λ ~ Gamma(r, α); after each repeat purchase the
    customer drops out with probability p ~ Beta(a, b).

    Parameters
    ----------
    max_iter : int
        L-BFGS-B iteration limit.

    Attributes
    ----------
    params_ : dict[str, float]
        ``r, alpha, a, b`` (alpha in days, the unit of the summary).
    log_params_, cov_ : numpy arrays
        Log-parameters and their Laplace covariance (NaN when the Hessian is singular;
        0 for a parameter held at a limit).
    at_limit_ : dict[str, float]
        Shape parameters at one of the model's limits (``r``: the same purchase rate for
        everyone; ``a`` small or ``b`` large: no dropout; both large: the same dropout
        probability for everyone), held where the fit left them; empty for an interior fit.
    loglik_, n_customers_, converged_, fit_seconds_ : fit diagnostics.

    Examples
    --------
    >>> from cxtext.value.simulate import simulate_transactions
    >>> sim = simulate_transactions(2000, seed=1)
    >>> m = BetaGeoModel().fit(sim.summary["frequency"], sim.summary["recency"], sim.summary["T"])
    >>> sorted(m.params_)
    ['a', 'alpha', 'b', 'r']
    """

    names = ("r", "alpha", "a", "b")
    label = "BG/NBD"

    def fit(self, frequency: object, recency: object, T: object) -> BetaGeoModel:
        """Maximum-likelihood fit on a customer summary (see :mod:`cxtext.value.rfm`)."""
        x, t_x, T = _as_float(frequency, recency, T)
        if len(x) == 0:
            raise ValueError("BG/NBD needs at least one customer")
        if np.any(t_x > T) or np.any(x < 0):
            raise ValueError("BG/NBD summary needs 0 <= recency <= T and frequency >= 0")
        started = time.perf_counter()
        # time in units of the mean T: alpha then lives near 1 whatever the data's clock
        unit = float(T.mean()) if T.mean() > 0 else 1.0
        rate = max(x.sum(), 1.0) / max(T.sum() / unit, 1.0)  # repeat purchases per unit
        start = np.log([1.0, 1.0 / rate, 1.0, 3.0])
        fit = _fit_mle(bgnbd_loglik, start, (x, t_x / unit, T / unit), self.max_iter, (0, 2, 3))
        fit.theta[1] += np.log(unit)
        self._set_fit(fit, bgnbd_loglik(fit.theta, x, t_x, T).sum(), len(x), started)
        return self

    def _theta(self, log_params: np.ndarray | None) -> np.ndarray:
        if log_params is not None:
            return np.asarray(log_params, dtype=float)
        if not hasattr(self, "log_params_"):
            raise NotFittedError("BetaGeoModel is not fitted yet: call fit() first")
        return self.log_params_

    def p_alive(
        self, frequency: object, recency: object, T: object, log_params: np.ndarray | None = None
    ) -> np.ndarray:
        """P(still active at T | x, t_x, T); 1 for customers without repeat purchases."""
        r, alpha, a, b = np.exp(self._theta(log_params))
        x, t_x, T = _as_float(frequency, recency, T)
        rep = x > 0
        odds = (
            np.log(a)
            - np.log(np.where(rep, b + x - 1.0, 1.0))
            + (r + x) * np.log((alpha + T) / (alpha + t_x))
        )
        return np.where(rep, expit(-odds), 1.0)

    def expected_purchases(
        self,
        t: float,
        frequency: object,
        recency: object,
        T: object,
        log_params: np.ndarray | None = None,
    ) -> np.ndarray:
        """E[purchases in (T, T+t] | x, t_x, T] (FHL 2005a eq. 10); ``t`` in days.

        Evaluated through Euler's transformation (see :func:`bgnbd_conditional_body`),
        which stays finite for any frequency and horizon, or by quadrature where that
        is not finite or the fit is at the equal-dropout limit (:func:`purchases_if_alive`).
        """
        r, alpha, a, b = np.exp(self._theta(log_params))
        x, t_x, T = _as_float(frequency, recency, T)
        if t <= 0:
            return np.zeros_like(x)
        out = purchases_if_alive(t, x, T, r, alpha, a, b) * self.p_alive(x, t_x, T, log_params)
        return np.maximum(out, 0.0)

    def expected_purchases_population(
        self, t: object, log_params: np.ndarray | None = None
    ) -> np.ndarray:
        """E[X(t)] for a new customer over the t days after the first purchase (FHL eq. 9)."""
        r, alpha, a, b = np.exp(self._theta(log_params))
        t = np.asarray(t, dtype=float)
        none = np.zeros(1)  # no history: x = 0 and T = 0
        values = [purchases_if_alive(u, none, none, r, alpha, a, b)[0] for u in t.reshape(-1)]
        return np.array(values).reshape(t.shape)

    def discounted_purchases(
        self,
        frequency: object,
        recency: object,
        T: object,
        *,
        horizon_months: int,
        annual_discount_rate: float,
        log_params: np.ndarray | None = None,
    ) -> np.ndarray:
        """Σ over months m of expected purchases in month m / (1 + monthly rate)^m."""
        x, t_x, T = _as_float(frequency, recency, T)
        total = np.zeros_like(x)
        previous = np.zeros_like(x)
        monthly = (1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0
        for m in range(1, int(horizon_months) + 1):
            cumulative = self.expected_purchases(m * DAYS_PER_MONTH, x, t_x, T, log_params)
            total += (cumulative - previous) / (1.0 + monthly) ** m
            previous = cumulative
        return total


# --- Gamma-Gamma ------------------------------------------------------------------


def gamma_gamma_loglik(
    log_params: np.ndarray, x: np.ndarray, m: np.ndarray, *, grad: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Per-customer Gamma-Gamma log-likelihood of the mean repeat spend ``m`` over ``x``
    purchases (FHL 2005b); ``log_params`` is ``log([p, q, gamma])``."""
    p, q, gamma = np.exp(np.asarray(log_params, dtype=float))
    x, m = _as_float(x, m)
    px = p * x
    log_xm_g = np.log(x * m + gamma)
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_xm_g
    )
    if not grad:
        return ll
    psi_pxq = digamma(px + q)
    d_p = x * (psi_pxq - digamma(px) + np.log(m) + np.log(x) - log_xm_g)
    d_q = psi_pxq - digamma(q) + np.log(gamma) - log_xm_g
    d_g = q / gamma - (px + q) / (x * m + gamma)
    return ll, np.column_stack([p * d_p, q * d_q, gamma * d_g])


class GammaGammaModel(_FittedByMle):
    """Gamma-Gamma spend model: each purchase ~ Gamma(p, ν), ν ~ Gamma(q, γ) across customers.

    Fitted on repeat buyers with positive mean spend; predicts the expected spend per
    purchase for anyone, shrinking a customer's mean toward the population mean
    ``pγ/(q-1)`` (one-time buyers get the population mean; with q ≤ 1 it is infinite
    and theirs is NaN, see :meth:`expected_spend`).

    Attributes
    ----------
    params_ : dict[str, float]
        ``p, q, gamma``.
    log_params_, cov_, at_limit_, loglik_, n_customers_, converged_, fit_seconds_ : as in
        :class:`BetaGeoModel` (``q`` at a limit: every customer has the same mean spend;
        ``p``: each customer's purchases all cost the same).
    """

    names = ("p", "q", "gamma")
    label = "Gamma-Gamma"

    def fit(self, frequency: object, monetary_value: object) -> GammaGammaModel:
        """Maximum-likelihood fit on customers with frequency > 0 and monetary value > 0."""
        x, m = _as_float(frequency, monetary_value)
        keep = (x > 0) & (m > 0) & np.isfinite(m)
        x, m = x[keep], m[keep]
        if len(x) < 2:
            raise ValueError("Gamma-Gamma needs at least two repeat buyers with positive spend")
        started = time.perf_counter()
        # money in units of the mean spend: gamma then lives near 1 in rials or dollars alike
        unit = float(m.mean())
        var = max((m / unit).var(), 1e-9)
        start = np.log([max(1.0 / var, 0.5) + 1.0, 3.0, 1.0])  # method-of-moments flavoured
        fit = _fit_mle(gamma_gamma_loglik, start, (x, m / unit), self.max_iter, (0, 1))
        fit.theta[2] += np.log(unit)
        self._set_fit(fit, gamma_gamma_loglik(fit.theta, x, m).sum(), len(x), started)
        return self

    def expected_spend(
        self, frequency: object, monetary_value: object, log_params: np.ndarray | None = None
    ) -> np.ndarray:
        """E[spend per purchase | x, m̄] = p(γ + x m̄) / (p x + q − 1).

        NaN where p x + q ≤ 1: with q ≤ 1 (spend across customers so heavy-tailed that
        its mean is infinite) a one-time buyer's expected spend does not exist; a
        repeat buyer's does (p x > 1 − q once x ≥ 1 unless p is tiny).
        """
        if log_params is None:
            if not hasattr(self, "log_params_"):
                raise NotFittedError("GammaGammaModel is not fitted yet: call fit() first")
            log_params = self.log_params_
        p, q, gamma = np.exp(np.asarray(log_params, dtype=float))
        x, m = _as_float(frequency, monetary_value)
        m = np.where(x > 0, np.maximum(m, 0.0), 0.0)
        denominator = p * x + q - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(denominator > 0, p * (gamma + x * m) / denominator, np.nan)


# --- CLV ----------------------------------------------------------------------------


def discounted_value(
    lam: np.ndarray,
    p_drop: np.ndarray,
    mean_spend: np.ndarray,
    alive: np.ndarray,
    *,
    horizon_months: int,
    annual_discount_rate: float,
) -> np.ndarray:
    """Expected discounted spend of customers whose latent traits are known.

    An active customer buys at rate λ until a purchase that ends the relationship
    (probability p each), so the dropout time is exponential with rate λp and the
    expected purchases in month m are (e^{-λp s_{m-1}} - e^{-λp s_m}) / p.
    """
    monthly = (1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0
    total = np.zeros(np.broadcast(lam, p_drop).shape, dtype=float)
    k = lam * p_drop
    previous = np.ones_like(total)
    for m in range(1, int(horizon_months) + 1):
        current = np.exp(-k * m * DAYS_PER_MONTH)
        total += (previous - current) / (1 + monthly) ** m
        previous = current
    return np.where(alive, total / p_drop * mean_spend, 0.0)


def predict_clv(
    bgnbd: BetaGeoModel,
    gamma_gamma: GammaGammaModel,
    summary: pd.DataFrame,
    *,
    horizon_months: int,
    annual_discount_rate: float,
    level: float,
    draws: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Discounted CLV per customer, its posterior interval, and the interval of its mean.

    CLV = E[spend per purchase] × Σ_m E[purchases in month m] / (1+d)^m.

    ``clv_mean_low/high``: the interval of the *expected* CLV from the parameters'
    uncertainty (shared by all customers, so these bounds add up over customers): the
    two factors depend on separately fitted parameters, so on the log scale their
    variances add, var(log CLV) = g_bgᵀ Σ_bg g_bg + g_ggᵀ Σ_gg g_gg, with gradients g
    by forward differences in log-parameter space.

    ``clv_low/high``: the posterior interval of *this customer's* value, percentiles of
    ``draws`` draws of: the parameters (Laplace), whether the customer is still active
    (P(alive)), their purchase rate λ | alive ~ Gamma(r + x, α + T), their dropout
    probability p | alive ~ Beta(a, b + x), and their spend rate ν ~ Gamma(p x + q, γ + x m̄)
    (mean spend p/ν), each draw valued by :func:`discounted_value`. A customer who may
    have left has a low end of 0. ``clv_sd``: the part of the posterior spread that is
    the customer's own (total variance minus the parameters' share): independent across
    customers, so it adds in quadrature over a sum.

    Returns columns clv, clv_low, clv_high, clv_mean_low, clv_mean_high, clv_sd,
    p_alive, expected_purchases, indexed like ``summary``.
    """
    x = summary["frequency"].to_numpy(float)
    t_x = summary["recency"].to_numpy(float)
    T = summary["T"].to_numpy(float)
    mon = summary["monetary_value"].to_numpy(float)
    kw = {"horizon_months": horizon_months, "annual_discount_rate": annual_discount_rate}

    purchases = bgnbd.discounted_purchases(x, t_x, T, **kw)
    spend = gamma_gamma.expected_spend(x, mon)
    clv = purchases * spend
    var = np.zeros_like(clv)
    step = 1e-4
    for model, base, fn in (
        (bgnbd, purchases, lambda th: bgnbd.discounted_purchases(x, t_x, T, log_params=th, **kw)),
        (gamma_gamma, spend, lambda th: gamma_gamma.expected_spend(x, mon, log_params=th)),
    ):
        cov = model.cov_
        if not np.all(np.isfinite(cov)):
            var[:] = np.nan
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            log_base = np.log(base)
            # a parameter held at a limit has no variance: its gradient is not needed
            grads = np.column_stack(
                [
                    (np.log(fn(model.log_params_ + step * e)) - log_base) / step
                    if cov[j, j] > 0
                    else np.zeros_like(base)
                    for j, e in enumerate(np.eye(len(cov)))
                ]
            )
        grads = np.nan_to_num(grads, nan=0.0, posinf=0.0, neginf=0.0)
        var += np.einsum("ij,jk,ik->i", grads, cov, grads)
    z = norm.ppf(0.5 + level / 2)
    sd = np.sqrt(np.maximum(var, 0.0))
    mean_low = np.where(np.isfinite(sd), clv * np.exp(-z * sd), np.nan)
    mean_high = np.where(np.isfinite(sd), clv * np.exp(z * sd), np.nan)
    low, high, total_var = _posterior_value(
        bgnbd, gamma_gamma, (x, t_x, T, mon), kw, level, draws, np.random.default_rng(seed)
    )
    parameter_var = (clv * sd) ** 2
    return pd.DataFrame(
        {
            "clv": clv,
            "clv_low": np.minimum(low, clv),
            "clv_high": np.maximum(high, clv),
            "clv_mean_low": mean_low,
            "clv_mean_high": mean_high,
            "clv_sd": np.sqrt(np.maximum(total_var - parameter_var, 0.0)),
            "p_alive": bgnbd.p_alive(x, t_x, T),
            "expected_purchases": bgnbd.expected_purchases(
                horizon_months * DAYS_PER_MONTH, x, t_x, T
            ),
        },
        index=summary.index,
    )


def _posterior_value(
    bgnbd: BetaGeoModel,
    gamma_gamma: GammaGammaModel,
    data: tuple[np.ndarray, ...],
    kw: dict,
    level: float,
    draws: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(low, high, variance) of each customer's value over ``draws`` posterior draws.

    Customers are processed in chunks so that memory stays near 30 MB whatever their
    number (float32 draws).
    """
    x, t_x, T, mon = data
    n = len(x)
    low, high, variance = np.empty(n), np.empty(n), np.empty(n)
    params = []
    for model in (bgnbd, gamma_gamma):
        cov = model.cov_ if np.all(np.isfinite(model.cov_)) else np.zeros_like(model.cov_)
        params.append(rng.multivariate_normal(model.log_params_, cov, size=draws))
    alpha = (1.0 - level) / 2
    chunk = max(1, 4_000_000 // max(draws, 1))
    m_bar = np.where(x > 0, np.maximum(mon, 0.0), 0.0)
    for start in range(0, n, chunk):
        sl = slice(start, min(n, start + chunk))
        xs, ts, Ts, ms = x[sl], t_x[sl], T[sl], m_bar[sl]
        values = np.empty((draws, len(xs)), dtype=np.float32)
        for d in range(draws):
            r, a_, a, b = np.exp(params[0][d])
            p, q, gamma = np.exp(params[1][d])
            alive = rng.random(len(xs)) < bgnbd.p_alive(xs, ts, Ts, log_params=params[0][d])
            lam = rng.gamma(r + xs, 1.0 / (a_ + Ts))
            p_drop = np.clip(rng.beta(a, b + xs), 1e-9, 1.0)
            nu = rng.gamma(p * xs + q, 1.0 / (gamma + xs * ms))
            values[d] = discounted_value(lam, p_drop, p / nu, alive, **kw)
        low[sl], high[sl] = np.quantile(values, [alpha, 1 - alpha], axis=0)
        variance[sl] = values.astype(float).var(axis=0)
    return low, high, variance
