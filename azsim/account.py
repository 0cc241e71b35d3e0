"""Account health: ODR over a rolling window, late shipment, cancel and valid tracking rates.

Defects (negative feedback, A-to-z claims not denied, chargebacks) count once per order and
are attributed to the day the order was placed, as Amazon's Order Defect Rate does: the ODR
at a review on day T is the share of orders placed in [T - window, T) that have a defect
known by T. Other metrics count seller-fulfilled orders by day. A review that finds a metric
outside its limit suspends the account with a probability; reinstatement takes a drawn number
of days (the plan of action); no orders are taken while suspended.
"""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING

import numpy as np

from . import rng
from .ledger import AMAZON, CAT, FORGONE, SELLER

if TYPE_CHECKING:
    from .books import Books
    from .scenario import AccountHealth as HealthRules

_H_SUSPEND, _H_REINSTATE, _H_UNINSURED = 0, 1, 2  # account-level decision streams
_LOST = CAT["lost_profit"]
_LOST_FEES = CAT["lost_referral_fees"]


class Health:
    """Per-day counters and the review rule of one run."""

    def __init__(self, rules: HealthRules, horizon_days: int):
        n = horizon_days + 1
        self.rules = rules
        self.orders = np.zeros(n)  # orders placed (not while suspended)
        self.mfn = np.zeros(n)  # seller-fulfilled orders: the cancel-rate denominator
        self.shipped = np.zeros(n)  # seller-fulfilled orders shipped: late-shipment and tracking denominator
        self.late = np.zeros(n)
        self.cancelled = np.zeros(n)
        self.tracked = np.zeros(n)
        self.defects = np.zeros(n)  # orders with a known defect, by order day
        self._pending: list[tuple[float, int]] = []  # (time the defect happens, order day)
        self._defective: set[int] = set()
        self.series: list[tuple] = []  # (day, odr, late shipment, cancel, valid tracking, suspended)

    def add_defect(self, at: float, order_id: int, order_day: int) -> bool:
        """Record a defect on an order at time ``at``; returns False if the order already had one."""
        if order_id in self._defective:
            return False
        self._defective.add(order_id)
        heapq.heappush(self._pending, (at, order_day))
        return True

    def add_bulk_defects(self, at: float, order_day: int, count: int) -> None:
        """Defects on orders that have no incident object (base negative feedback)."""
        for _ in range(count):
            heapq.heappush(self._pending, (at, order_day))

    def _realise(self, now: float) -> None:
        pending = self._pending
        while pending and pending[0][0] <= now:
            _, day = heapq.heappop(pending)
            self.defects[day] += 1

    @staticmethod
    def _rate(num: np.ndarray, den: np.ndarray, day: int, window: int) -> tuple[float, float]:
        lo = max(0, day - window)
        return float(num[lo:day].sum()), float(den[lo:day].sum())

    def metrics(self, day: int) -> dict[str, float]:
        """Metric values at the start of ``day`` (NaN where the window has too few orders)."""
        self._realise(day)
        r = self.rules
        out = {}
        for name, num, den, window in (
            ("odr", self.defects, self.orders, r.odr_window_days),
            ("late_shipment_rate", self.late, self.shipped, r.late_shipment_window_days),
            ("cancel_rate", self.cancelled, self.mfn, r.cancel_window_days),
            ("valid_tracking_rate", self.tracked, self.shipped, r.valid_tracking_window_days),
        ):
            a, b = self._rate(num, den, day, window)
            out[name] = a / b if b >= max(r.min_orders, 1) else math.nan
        return out

    def breached(self, m: dict[str, float]) -> list[str]:
        """Names of the metrics outside their limits (NaN metrics are not enforced)."""
        r = self.rules
        bad = []
        if m["odr"] >= r.odr_limit:
            bad.append("odr")
        if m["late_shipment_rate"] >= r.late_shipment_limit:
            bad.append("late_shipment_rate")
        if m["cancel_rate"] >= r.cancel_limit:
            bad.append("cancel_rate")
        if m["valid_tracking_rate"] < r.valid_tracking_min:
            bad.append("valid_tracking_rate")
        return bad


class Account:
    """Reviews, suspensions and reinstatement of one run (the rules around :class:`Health`)."""

    def __init__(self, books: Books, account_key, horizon_days: int):
        self.books = books
        self.rules = books.scenario.account_health
        self.health = Health(self.rules, horizon_days)
        days = np.arange(horizon_days, dtype=np.uint64)
        self._u_suspend = rng.uniforms(account_key, days, _H_SUSPEND)
        self._u_reinstate = rng.uniforms(account_key, days, _H_REINSTATE)
        self._u_uninsured = rng.uniforms(account_key, days, _H_UNINSURED)
        self.suspended_until = 0
        self.suspended_days = 0

    def suspended(self, d: int) -> bool:
        return d < self.suspended_until

    def lost_day(self, d: int, block, i: int) -> None:
        """Day ``d`` passes while suspended: its orders are lost."""
        self.suspended_days += 1
        books = self.books
        books.counts["orders_lost_to_suspension"] += int(block.orders[i])
        books.ledger.book(d, -1, SELLER, FORGONE, _LOST, float(block.margin[i]))
        books.ledger.book(d, -1, AMAZON, FORGONE, _LOST_FEES, float(block.fees[i]))

    def _suspend(self, d: int, reason: str) -> None:
        mean_days = self.rules.reinstatement_days
        days = max(1, math.ceil(rng.exponential(float(self._u_reinstate[d]), mean_days)))
        self.suspended_until = d + days
        self.books.count("suspensions")
        self.books.count(f"suspensions.{reason}")

    def review(self, d: int) -> None:
        m = self.health.metrics(d)
        suspended = d < self.suspended_until
        bad = self.health.breached(m)
        if bad and not suspended and self._u_suspend[d] < self.rules.suspension_probability:
            self._suspend(d, bad[0])
            suspended = True
        self.health.series.append(
            (d, m["odr"], m["late_shipment_rate"], m["cancel_rate"], m["valid_tracking_rate"], suspended)
        )

    def month_end(self, d: int, insurance_missing: bool) -> None:
        """Month end: a seller without the cover Amazon requires may be suspended."""
        if insurance_missing and d >= self.suspended_until:
            if self._u_uninsured[d] < self.rules.uninsured_suspension_probability:
                self._suspend(d, "insurance_missing")

    def metrics(self, per_year: float) -> dict[str, float]:
        """Result metrics of the account-health module (flat keys)."""
        return {}
