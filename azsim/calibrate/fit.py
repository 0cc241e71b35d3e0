"""Model parameters no report measures, fitted so that the simulated rate matches the observed one.

The account health report counts, per order, A-to-z claims that hit the ODR, chargebacks and
negative feedback. In the model these come out of chains of buyer and seller decisions; three
parameters scale them without changing anything upstream (each is read on its own pre-drawn
uniform, common random numbers):

- ``buyers.escalate_to_atoz``: an unresolved buyer files a claim. The expected number of ODR
  claims is linear in it, ``C0 + e (C1 - C0)`` (C0: claims no buyer files by choice, such as
  "returned but not refunded"), so two simulations (e = 0 and e = 1) give the closed form.
- ``buyers.chargeback``: a buyer who did not claim disputes the card payment: expected
  chargebacks are ``k (B0 + e (B1 - B0))``, from the same two runs.
- ``incidents.base_negative_feedback``: negative feedback is ``F0 + b F1`` at the fitted e and k
  (two more runs, b = 0 and b = 0.01).

Each run is 4 independent replications; the fit's simulation variance is the larger of Poisson's
and the spread between them.

Runs are one policy (the scenario's first: these flows are the same under every version), with
account-health actions and the feedback sales effect switched off (they would only remove
orders), about 100,000 orders, and the events counted exactly as the synthetic reports count them
(:func:`azsim.calibrate.synth.performance_counts`). The fit's 95% CI combines the observed rate's
Wilson interval (mapped through the linear relation) with the simulation's own Poisson noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..scenario import Scenario
from .estimators import Z95, Interval
from .synth import ODR_LAG_DAYS, performance_counts, simulate_events

__all__ = ["FitResult", "fit_rates", "SIM_ORDERS"]

SIM_ORDERS = 100_000
"""Orders each fitting run covers (over its replications)."""

_RULES = ("odr", "late_shipment", "cancel", "valid_tracking", "insurance_missing")


@dataclass
class FitResult:
    path: str
    estimate: Interval
    observed: Interval
    note: str
    warning: str | None = None


REPLICATIONS = 4
"""Independent replications each fitting run is split into: their spread measures the simulation's noise
(claims cluster more than Poisson: late refunds over weekends, the desk's backlog)."""


def _sim(base: Scenario, seed: int, **values: float) -> np.ndarray:
    """Per replication: (orders, ODR claims, chargebacks, negative feedback) of one fitting run."""
    H = base.horizon_days
    overrides = {"buyers.escalate_to_atoz": values["e"], "buyers.chargeback": values["k"],
                 "incidents.base_negative_feedback": values["b"]}
    s = base.with_overrides(overrides)
    rows = []
    for rep in range(REPLICATIONS):
        ev = simulate_events(s, seed, replication=rep)
        c = performance_counts(ev, 0, H - ODR_LAG_DAYS)
        tot = {k: c["mfn"][k] + c["afn"][k] for k in c["mfn"]}
        rows.append((tot["orders"], tot["claims"], tot["chargebacks"], tot["negative_feedback"]))
    return np.array(rows, dtype=float)


def _line(lo: np.ndarray, hi: np.ndarray, col: int, step: float = 1.0) -> tuple[float, float, float, float]:
    """(a, b, var a, var b) of rate = a + b x from runs at x = 0 (``lo``) and x = step (``hi``): pooled
    rates, and variances the larger of Poisson's and the spread between replications."""
    n = lo[:, 0].sum()
    a = lo[:, col].sum() / n
    b = (hi[:, col].sum() - lo[:, col].sum()) / n / step
    ra = lo[:, col] / lo[:, 0]
    rb = (hi[:, col] - lo[:, col]) / lo[:, 0] / step
    r = len(lo)
    var_a = max(lo[:, col].sum() / n**2, ra.var(ddof=1) / r if r > 1 else 0.0)
    var_b = max((lo[:, col].sum() + hi[:, col].sum()) / n**2 / step**2, rb.var(ddof=1) / r if r > 1 else 0.0)
    return a, b, var_a, var_b


def fitting_scenario(scenario: Scenario) -> Scenario:
    """``scenario`` as the fits simulate it: about SIM_ORDERS / REPLICATIONS orders a replication (at most
    2,000 days), no account-health action, no feedback sales effect, no Q4 peak."""
    days = int(min(2_000, max(120, math.ceil(SIM_ORDERS / REPLICATIONS / scenario.market.orders_per_day)
                                      + ODR_LAG_DAYS)))
    over = {"horizon_days": days, "market.feedback_effect.sales_loss_per_point": 0.0,
            "market.q4_peak_multiplier": 1.0}
    over.update({f"account_health.{r}.action_probability": 0.0 for r in _RULES})
    return scenario.with_overrides(over)


def _solve(observed: Interval, a: float, b: float, var_a: float, var_b: float, path: str, what: str,
           top: float = 1.0) -> FitResult:
    """x with a + b x = observed rate, clipped to [0, top]; its CI from the observed CI and the
    simulation variances of a and b."""
    if b <= 0:
        return FitResult(path, Interval(math.nan, math.nan, math.nan, observed.n), observed,
                         f"not fitted: the simulation gives no {what} that this parameter moves",
                         f"{path}: not fitted: the base scenario's incidents give no {what} it could move")

    def x(r: float) -> float:
        return min(max((r - a) / b, 0.0), top)

    value = x(observed.value)
    raw = (observed.value - a) / b
    sd = math.sqrt(var_a + raw**2 * var_b) / b
    lo = max(0.0, value - math.hypot(value - x(observed.low), Z95 * sd))
    hi = min(top, value + math.hypot(x(observed.high) - value, Z95 * sd))
    warning = None
    if raw > top:
        warning = (f"{path}: the observed {what} ({observed.value:.4%} of orders) is more than the base scenario's "
                   f"incidents can produce even at {top:g} ({(a + b * top):.4%}); set to {top:g}: the incident "
                   "rates of the base scenario are probably too low")
    elif raw < 0:
        warning = (f"{path}: the observed {what} ({observed.value:.4%}) is below what the base scenario produces at 0 "
                   f"({a:.4%}); set to 0")
    return FitResult(path, Interval(value, lo, min(hi, top), observed.n), observed,
                     f"fitted: simulated {what} per order = {a:.5f} + {b:.5f} x value", warning)


def fit_rates(scenario: Scenario, claims: Interval | None, chargebacks: Interval | None,
              negative_feedback: Interval | None, seed: int = 20210901) -> list[FitResult]:
    """Fit escalate_to_atoz, chargeback and base_negative_feedback to the observed per-order rates
    (any may be None: that parameter keeps its value)."""
    base = fitting_scenario(scenario)
    out: list[FitResult] = []
    e, k = scenario.buyers.escalate_to_atoz, scenario.buyers.chargeback
    b0 = scenario.incidents.base_negative_feedback
    if claims is not None or chargebacks is not None:
        lo, hi = _sim(base, seed, e=0.0, k=1.0, b=b0), _sim(base, seed, e=1.0, k=1.0, b=b0)
        if claims is not None:
            r = _solve(claims, *_line(lo, hi, 1), "buyers.escalate_to_atoz", "A-to-z claims that hit the ODR")
            out.append(r)
            if r.estimate.value == r.estimate.value:
                e = r.estimate.value
        if chargebacks is not None:
            at_e = lo * (1 - e) + hi * e  # chargebacks are linear in e too: those at k = 1 and the fitted e
            at_e[:, 0] = lo[:, 0]
            _, per_k, _, var_k = _line(np.c_[lo[:, :1], np.zeros((len(lo), 3))], at_e, 2)
            r = _solve(chargebacks, 0.0, per_k, 0.0, var_k, "buyers.chargeback", "chargebacks")
            out.append(r)
            if r.estimate.value == r.estimate.value:
                k = r.estimate.value
    if negative_feedback is not None:
        step = 0.01
        lo, hi = _sim(base, seed, e=e, k=k, b=0.0), _sim(base, seed, e=e, k=k, b=step)
        out.append(_solve(negative_feedback, *_line(lo, hi, 3, step), "incidents.base_negative_feedback",
                          "negative feedback"))
    return out
