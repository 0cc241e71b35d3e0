"""Global (Sobol) and one-at-a-time (tornado) sensitivity analysis on the unit hypercube.

Pure functions: nothing here runs a simulation. The coordinator builds a design with
:func:`sobol_design` or :func:`oat_design`, maps each unit coordinate onto its factor's range,
runs the points and hands the outputs back to :func:`sobol_indices` or :func:`tornado`.

Sobol indices use SALib (Saltelli's extension of the scrambled Sobol' sequence, first-order and
total indices with the Saltelli 2010 / Jansen estimators and bootstrap confidence intervals).
The design rows are in SALib's order: for each of the ``n`` base points, the row of matrix A,
then ``d`` rows of A with one column taken from B (AB_1 ... AB_d), then the row of B; so the
design has ``n * (d + 2)`` rows and the outputs must come back in the same order.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "OatPoint",
    "oat_design",
    "oat_labels",
    "sobol_design",
    "sobol_indices",
    "sobol_problem",
    "tornado",
]

SOBOL_COLUMNS = ["factor", "S1", "S1_ci_low", "S1_ci_high", "ST", "ST_ci_low", "ST_ci_high"]
TORNADO_COLUMNS = ["factor", "low", "high", "centre", "swing"]


def _check_names(names: Sequence[str]) -> list[str]:
    names = list(names)
    if not names:
        raise ValueError("sensitivity analysis needs at least one factor")
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"factor names must be non-empty strings (got {name!r})")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"factor names must be unique; repeated: {', '.join(dupes)}")
    return names


def sobol_problem(names: Sequence[str]) -> dict:
    """The SALib problem for ``names`` on the unit hypercube."""
    names = _check_names(names)
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0] for _ in names]}


def _check_power_of_two(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"Sobol sample size n must be an integer power of 2 (got {n!r})")
    n = int(n)
    if n < 2 or n & (n - 1):
        lower = 2 ** max(1, int(math.log2(n))) if n >= 2 else 2
        hint = f"; try {lower} or {lower * 2}" if n >= 2 else ""
        raise ValueError(f"Sobol sample size n must be a power of 2, at least 2 (got {n}{hint})")
    return n


def sobol_design(names: Sequence[str], n: int, seed: int) -> np.ndarray:
    """Saltelli design on the unit hypercube: ``n * (d + 2)`` rows, one column per factor.

    ``n`` is the number of base points and must be a power of 2 (the balance properties of the
    Sobol' sequence hold only then). The sequence is scrambled (LMS + digital shift) with
    ``seed``: the same arguments always give the same matrix.
    """
    from SALib.sample import sobol as sobol_sample

    problem = sobol_problem(names)
    n = _check_power_of_two(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scipy's balance warning cannot fire: n is a power of 2
        x = sobol_sample.sample(problem, n, calc_second_order=False, scramble=True, seed=int(seed))
    return np.asarray(x, dtype=float)


def sobol_indices(names: Sequence[str], y, seed: int = 0, resamples: int = 1000) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices of ``y`` with 95% bootstrap CIs.

    ``y`` holds one output per row of :func:`sobol_design` (same order). SALib reports each
    CI as a half-width (``S1_conf``: 1.96 x the bootstrap standard deviation over
    ``resamples`` resamples of the base points); here it is turned into ``*_ci_low`` /
    ``*_ci_high``. The bootstrap is seeded by ``seed``, 0 included (SALib itself treats 0
    as "unseeded"). A constant output has no variance to apportion: every index is then 0
    with a zero-width CI and ``frame.attrs["constant_output"]`` is True.
    """
    from SALib.analyze import sobol as sobol_analyze

    problem = sobol_problem(names)
    d = problem["num_vars"]
    y = np.asarray(y, dtype=float)
    if y.ndim == 2 and 1 in y.shape:
        y = y.reshape(-1)
    if y.ndim != 1:
        raise ValueError(f"y must be one output per design row (a 1-D array), got shape {y.shape}")
    if y.size == 0 or y.size % (d + 2):
        raise ValueError(f"y has {y.size} values; a Sobol design for {d} factors has n * {d + 2} rows")
    n = y.size // (d + 2)
    if n < 2:
        raise ValueError("y must come from a Sobol design with at least 2 base points")
    bad = int(np.count_nonzero(~np.isfinite(y)))
    if bad:
        raise ValueError(f"y has {bad} missing or non-finite values; Sobol indices need every design point")
    if int(resamples) < 2:
        raise ValueError("resamples must be at least 2")

    if np.ptp(y) == 0.0:
        zeros = np.zeros(d)
        frame = _sobol_frame(problem["names"], zeros, zeros, zeros, zeros)
        frame.attrs["constant_output"] = True
        return frame
    rng = np.random.default_rng(int(seed))  # a Generator: SALib's "if seed:" is then always true
    si = sobol_analyze.analyze(problem, y, calc_second_order=False, num_resamples=int(resamples), conf_level=0.95,
                               seed=rng)
    frame = _sobol_frame(problem["names"], si["S1"], si["S1_conf"], si["ST"], si["ST_conf"])
    frame.attrs["constant_output"] = False
    return frame


def _sobol_frame(names, s1, s1_conf, st, st_conf) -> pd.DataFrame:
    s1, s1_conf, st, st_conf = (np.asarray(v, dtype=float) for v in (s1, s1_conf, st, st_conf))
    return pd.DataFrame({
        "factor": list(names),
        "S1": s1,
        "S1_ci_low": s1 - s1_conf,
        "S1_ci_high": s1 + s1_conf,
        "ST": st,
        "ST_ci_low": st - st_conf,
        "ST_ci_high": st + st_conf,
    }, columns=SOBOL_COLUMNS)


class OatPoint(dict):
    """One point of a one-at-a-time design: ``{factor: unit coordinate}`` with a ``label``."""

    def __init__(self, values: dict[str, float], label: str):
        super().__init__(values)
        self.label = label

    def __repr__(self) -> str:
        return f"OatPoint({self.label!r}, {dict(self)!r})"

    def __reduce__(self):
        return (OatPoint, (dict(self), self.label))


def oat_labels(names: Sequence[str]) -> list[str]:
    """Labels of :func:`oat_design`'s points: ``centre``, then ``<name>=low``, ``<name>=high`` per factor."""
    names = _check_names(names)
    out = ["centre"]
    for name in names:
        out += [f"{name}=low", f"{name}=high"]
    return out


def oat_design(names: Sequence[str], centre: float = 0.5) -> list[OatPoint]:
    """One-at-a-time (tornado) design on the unit cube: ``1 + 2d`` points.

    First every factor at ``centre``; then, factor by factor, that factor at 0 and at 1 with
    the others at ``centre``. Each point is a dict ``{factor: unit coordinate}`` with a
    ``label`` attribute (see :func:`oat_labels`).
    """
    names = _check_names(names)
    centre = float(centre)
    if not 0.0 <= centre <= 1.0:
        raise ValueError(f"centre must lie in [0, 1] (got {centre})")
    labels = iter(oat_labels(names))
    base = dict.fromkeys(names, centre)
    points = [OatPoint(base, next(labels))]
    for name in names:
        for level in (0.0, 1.0):
            points.append(OatPoint({**base, name: level}, next(labels)))
    return points


def tornado(names: Sequence[str], y_oat) -> pd.DataFrame:
    """Tornado data from the outputs of :func:`oat_design`'s points (same order).

    One row per factor: the output with that factor at 0 (``low``), at 1 (``high``), at the
    centre, and ``swing = |high - low|``; sorted by swing, largest first (ties keep the
    factors' order).
    """
    names = _check_names(names)
    y = np.asarray(y_oat, dtype=float).reshape(-1)
    if y.size != 1 + 2 * len(names):
        raise ValueError(f"y_oat has {y.size} values; a one-at-a-time design for {len(names)} factors has "
                         f"{1 + 2 * len(names)} points")
    low, high = y[1::2], y[2::2]
    frame = pd.DataFrame({"factor": names, "low": low, "high": high, "centre": y[0], "swing": np.abs(high - low)},
                         columns=TORNADO_COLUMNS)
    return frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
