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

import numpy as np

from ..scenario import AccountHealth as HealthRules


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
