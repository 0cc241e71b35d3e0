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
