"""Means, paired differences and 95% confidence intervals over replications.

One definition of each number, used by every layer (:mod:`azsim.comparison`,
:mod:`azsim.store`, :mod:`azsim.sweep`):

- **Missing values.** A money or count metric (keys starting with one of
  :data:`PER_YEAR_PREFIXES`) that a run did not report is 0: nothing was booked or counted.
  Any other metric (ODR, compensation days) that a run did not report is undefined in that
  replication (NaN) and is left out (:func:`fill_missing`).
- **Level** of one policy: mean over the replications where the metric is defined, with a
  Student-t interval (:func:`column_stats`, :func:`mean_ci`).
- **Paired difference** of a policy from the baseline: over the replications where BOTH have a
  value, the mean of the per-replication differences and its Student-t interval; beside it the
  two levels over those same replications, so that baseline level + difference = policy level,
  and the percentage change relative to that baseline level (:func:`paired_columns`,
  :func:`paired`). For money and count metrics every replication has a value under every
  policy, so the paired levels are the plain means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import stdtrit

LEVEL = 0.95
"""Confidence level of every interval."""

PER_YEAR_PREFIXES = ("seller_cost", "amazon_cost", "insurer_cost", "buyer_uncompensated", "counts", "suspended_days")
"""Metrics that are 0 when a run did not report them (money and counts per year)."""


def missing_is_zero(metric: str) -> bool:
    """True for money and count metrics: absent from a run means 0, not undefined."""
    return metric.startswith(PER_YEAR_PREFIXES)


def fill_missing(metric: str, values) -> np.ndarray:
    """``values`` as floats, with NaN (not reported) replaced by 0 for money and count metrics."""
    x = np.asarray(values, dtype=float)
    return np.nan_to_num(x, nan=0.0, posinf=np.inf, neginf=-np.inf) if missing_is_zero(metric) else x


def column_stats(x, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per column of ``x`` (replications x columns, NaN = undefined): n, mean, CI low, CI high.

    Student-t interval mean +/- t(level, n-1) sd / sqrt(n) with the sample sd (ddof 1); the mean
    is NaN with no value, the interval NaN with fewer than two.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    ok = ~np.isnan(x)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, x, 0.0).sum(axis=0) / n
        dev = np.where(ok, x - mean, 0.0)
        var = (dev * dev).sum(axis=0) / (n - 1)
        half = stdtrit(np.maximum(n - 1, 1), 0.5 + level / 2) * np.sqrt(var / n)
    mean = np.where(n > 0, mean, np.nan)
    half = np.where(n > 1, half, np.nan)
    return n, mean, mean - half, mean + half


def mean_ci(values, level: float = LEVEL) -> tuple[float | None, list[float] | None]:
    """Mean and Student-t confidence interval of independent replications (see :func:`column_stats`).

    NaN values (a metric undefined in a replication) are left out. With fewer than two values
    the interval is ``None``; with none the mean is ``None`` too.
    """
    n, m, lo, hi = column_stats(np.asarray(values, dtype=float).reshape(-1, 1), level)
    if n[0] == 0:
        return None, None
    if n[0] < 2:
        return float(m[0]), None
    return float(m[0]), [float(lo[0]), float(hi[0])]


def half_width(values, level: float = LEVEL) -> float:
    """Half-width of the ``level`` confidence interval of the mean (NaN with < 2 values)."""
    m, ci = mean_ci(values, level)
    return math.nan if ci is None else (ci[1] - ci[0]) / 2


def pct_change(delta_mean: float | None, base_mean: float | None) -> float | None:
    """Percentage change of a paired difference relative to the baseline mean."""
    if delta_mean is None or base_mean is None or base_mean == 0 or math.isnan(delta_mean) or math.isnan(base_mean):
        return None
    return 100.0 * delta_mean / abs(base_mean)


def paired_columns(base, other, level: float = LEVEL, also=()) -> dict[str, np.ndarray]:
    """THE paired difference ``other - base``, per column (replications x columns, NaN = undefined).

    Over the replications where ``base`` and ``other`` (and every array in ``also``, e.g. the
    other policies of a summary) all have a value: ``n`` such replications, ``base_mean`` and
    ``other_mean`` (the two levels over them), ``mean``, ``ci_low``, ``ci_high`` of the
    differences (Student t; NaN with fewer than two) and ``pct`` = 100 mean / |base_mean| (NaN
    when the base level is 0 or undefined). ``base_mean + mean == other_mean`` up to rounding.
    Fill missing money and count values with 0 first (:func:`fill_missing`).
    """
    b = np.asarray(base, dtype=float)
    o = np.asarray(other, dtype=float)
    if b.ndim == 1:
        b, o = b[:, None], o[:, None]
    both = ~np.isnan(b) & ~np.isnan(o)
    for a in also:
        a = np.asarray(a, dtype=float)
        both &= ~np.isnan(a[:, None] if a.ndim == 1 else a)
    bb, oo = np.where(both, b, np.nan), np.where(both, o, np.nan)
    n, dm, lo, hi = column_stats(oo - bb, level)
    _, bm, _, _ = column_stats(bb, level)
    _, om, _, _ = column_stats(oo, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where((bm != 0) & ~np.isnan(bm) & ~np.isnan(dm), 100.0 * dm / np.abs(bm), np.nan)
    return {"n": n, "base_mean": bm, "other_mean": om, "mean": dm, "ci_low": lo, "ci_high": hi, "pct": pct}


@dataclass(frozen=True)
class Paired:
    """One paired difference (see :func:`paired_columns`); ``None`` where undefined."""

    n: int
    base_mean: float | None
    other_mean: float | None
    mean: float | None
    ci95: list[float] | None
    pct: float | None


def _num(x) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def paired(base, other, level: float = LEVEL, also=()) -> Paired:
    """The paired difference ``other - base`` of one metric over replications (1-D arrays)."""
    r = paired_columns(np.asarray(base, dtype=float).reshape(-1, 1), np.asarray(other, dtype=float).reshape(-1, 1),
                       level, [np.asarray(a, dtype=float).reshape(-1, 1) for a in also])
    lo, hi = _num(r["ci_low"][0]), _num(r["ci_high"][0])
    return Paired(int(r["n"][0]), _num(r["base_mean"][0]), _num(r["other_mean"][0]), _num(r["mean"][0]),
                  None if lo is None or hi is None else [lo, hi], _num(r["pct"][0]))


class SequentialRule:
    """How many replications: the sequential procedure of Hoad, Robinson and Davies (2010).

    Start with ``start`` replications; after each batch, the rule is met when the 95% CI
    half-width of the paired differences is within ``precision`` of the absolute mean. Once
    met, it must stay met over ``lookahead`` further replications (their kLimit); otherwise
    more replications are added (a quarter of those so far), up to ``cap``. The steps depend
    only on the values, never on timing, so a run and its resumption take the same path.
    """

    def __init__(self, precision: float, cap: int, start: int = 5, lookahead: int = 5):
        self.precision, self.cap, self.start, self.lookahead = precision, cap, min(start, cap), lookahead
        self.met_at: int | None = None
        self.converged: bool | None = None  # None while running

    def met(self, deltas) -> bool:
        d = np.asarray(deltas, dtype=float)
        if d.size < 2 or not np.isfinite(d).all():
            return False
        hw = half_width(d)
        m = float(d.mean())
        return math.isfinite(hw) and m != 0 and hw <= self.precision * abs(m)

    def next_target(self, deltas) -> int | None:
        """Given the paired differences so far, the total replications to reach next, or None to stop."""
        n = len(deltas)
        ok = self.met(deltas)
        if ok and self.met_at is None:
            self.met_at = n
        elif not ok:
            self.met_at = None
        if ok and n >= self.met_at + self.lookahead:
            self.converged = True
            return None
        if n >= self.cap:
            self.converged = False
            return None
        return min(self.cap, n + (self.lookahead if ok else max(1, n // 4)))
