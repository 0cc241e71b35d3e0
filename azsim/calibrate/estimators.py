"""Estimators with 95% confidence intervals: rates (Wilson score interval, scipy.stats), order
arrivals (Poisson, widened by the observed overdispersion of daily counts), prices (lognormal)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["Interval", "proportion", "poisson_rate", "lognormal"]

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float
    n: int

    def scaled(self, f) -> Interval:
        """The interval through a monotone function ``f`` (endpoints re-sorted)."""
        a, b = f(self.low), f(self.high)
        return Interval(f(self.value), min(a, b), max(a, b), self.n)


def proportion(k: float, n: float) -> Interval:
    """k events in n trials: k/n with the Wilson score interval (scipy.stats.binomtest)."""
    k, n = int(round(k)), int(round(n))
    if n <= 0:
        raise ValueError("no trials")
    k = min(max(k, 0), n)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return Interval(k / n, float(ci.low), float(ci.high), n)


def poisson_rate(daily: np.ndarray) -> tuple[Interval, float]:
    """Events a day from daily counts (zeros included): (rate with its 95% CI, dispersion var/mean).

    Exact (Garwood) interval for a Poisson total; when the days vary more than Poisson
    (dispersion > 1, e.g. weekdays and promotions), the interval is widened by sqrt(dispersion)
    around the rate (quasi-Poisson)."""
    daily = np.asarray(daily, dtype=float)
    days = len(daily)
    total = float(daily.sum())
    rate = total / days
    mean = daily.mean()
    disp = float(daily.var(ddof=1) / mean) if days > 1 and mean > 0 else 1.0
    low = stats.chi2.ppf(0.025, 2 * total) / 2 / days if total > 0 else 0.0
    high = stats.chi2.ppf(0.975, 2 * total + 2) / 2 / days
    if disp > 1.0:
        w = math.sqrt(disp)
        low, high = max(0.0, rate - (rate - low) * w), rate + (high - rate) * w
    return Interval(rate, float(low), float(high), int(total)), disp


@dataclass(frozen=True)
class LognormalFit:
    median: Interval
    sigma: Interval
    quantiles: dict[str, float]


def lognormal(values: np.ndarray) -> LognormalFit:
    """Lognormal fit of positive values: median = exp(mean ln x) with a t interval, sigma = sd(ln x)
    with a chi-square interval; p10/p50/p90 of the data kept for the summary."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x) & (x > 0)]
    n = len(x)
    if n == 0:
        raise ValueError("no positive values")
    logs = np.log(x)
    mu = float(logs.mean())
    q = {f"p{p}": float(np.percentile(x, p)) for p in (10, 50, 90)}
    if n < 2:
        return LognormalFit(Interval(math.exp(mu), math.exp(mu), math.exp(mu), n), Interval(0.0, 0.0, 0.0, n), q)
    sd = float(logs.std(ddof=1))
    t = stats.t.ppf(0.975, n - 1)
    half = t * sd / math.sqrt(n)
    med = Interval(math.exp(mu), math.exp(mu - half), math.exp(mu + half), n)
    lo = sd * math.sqrt((n - 1) / stats.chi2.ppf(0.975, n - 1))
    hi = sd * math.sqrt((n - 1) / stats.chi2.ppf(0.025, n - 1))
    return LognormalFit(med, Interval(sd, lo, hi, n), q)
