"""Means, paired differences and 95% confidence intervals over replications."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import stdtrit


def mean_ci(values, level: float = 0.95) -> tuple[float | None, list[float] | None]:
    """Mean and Student-t confidence interval of independent replications.

    NaN values (a metric undefined in a replication) are left out. With fewer than two values
    the interval is ``None``; with none the mean is ``None`` too.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return None, None
    m = float(x.mean())
    if x.size < 2:
        return m, None
    sd = float(x.std(ddof=1))
    half = float(stdtrit(x.size - 1, 0.5 + level / 2)) * sd / math.sqrt(x.size)
    return m, [m - half, m + half]


def half_width(values, level: float = 0.95) -> float:
    """Half-width of the ``level`` confidence interval of the mean (NaN with < 2 values)."""
    m, ci = mean_ci(values, level)
    return math.nan if ci is None else (ci[1] - ci[0]) / 2


def pct_change(delta_mean: float | None, base_mean: float | None) -> float | None:
    """Percentage change of a paired difference relative to the baseline mean."""
    if delta_mean is None or base_mean is None or base_mean == 0:
        return None
    return 100.0 * delta_mean / abs(base_mean)


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
