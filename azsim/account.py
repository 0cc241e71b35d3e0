"""Account health: the metrics Amazon reviews, what it stops when one is breached, and for how long.

Rules (docs/model.md, section 3.10), each a field of ``account_health``:

1. Counters by order day (:class:`Health`): orders placed, seller-fulfilled orders, those shipped,
   late, cancelled and with valid tracking, and orders with a known defect. Orders on a stopped
   channel are never placed, so they are in no count.
2. A review every ``review_every_days`` measures each metric over its own ``window_days``:
   ODR = defective orders / orders, Late Shipment Rate = late / shipped, cancel rate =
   cancelled / seller-fulfilled orders, Valid Tracking Rate = tracked / shipped.
3. A metric is breached when its rate is at or over its ``limit`` (below it for valid tracking),
   its denominator has at least ``min_orders`` orders and at least ``min_events`` events
   (defects, late shipments, cancellations, untracked packages) are behind it.
4. Amazon warns first: it acts only once ``consecutive_reviews`` reviews in a row have found the
   breach, and then with ``action_probability`` at each such review.
5. The action stops the metric's ``consequence``: the whole account (``account``), the
   seller-fulfilled offers (``seller_fulfilled``) or the seller-fulfilled offers in the restricted
   categories (``seller_fulfilled_categories``, ``valid_tracking.affected_share`` of them), for
   ceil(Exp(``reinstatement_days``)) days, at least 1. An action never starts on what is already
   stopped (by itself or by a broader action); a broader one may start during a narrower one.
6. At each month end a seller without the insurance Amazon requires meets
   ``insurance_missing`` (its consequence with its monthly ``action_probability``).
7. Each day under a restriction is booked once, for the broadest scope stopped that day: the
   margin of the orders of that scope as the seller's ``lost_profit`` and their referral fees as
   Amazon's ``lost_referral_fees`` (both to ``forgone``); the other channels keep selling.
8. A deactivation of the whole account withholds the seller's net proceeds of the last
   ``funds_held.balance_days`` days for the deactivation plus ``funds_held.hold_after_days``,
   costed at ``funds_held.cost_of_capital`` a year (``funds_held_cost``, seller -> forgone).
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from . import rng
from .ledger import AMAZON, CAT, FORGONE, SELLER

if TYPE_CHECKING:
    from .books import Books
    from .scenario import AccountHealth as HealthRules
    from .world import Block, OrderArrays

__all__ = ["Account", "Health", "ACCOUNT", "SELLER_FULFILLED", "CATEGORIES", "SCOPES", "REASONS"]

ACCOUNT, SELLER_FULFILLED, CATEGORIES = "account", "seller_fulfilled", "seller_fulfilled_categories"
SCOPES = (ACCOUNT, SELLER_FULFILLED, CATEGORIES)
"""What an action can stop, broadest first."""
_BREADTH = {ACCOUNT: 3, SELLER_FULFILLED: 2, CATEGORIES: 1, None: 0}

METRICS = ("odr", "late_shipment", "cancel", "valid_tracking")
"""The reviewed metrics, in the order a review checks them (and of the health series)."""
REASONS = (*METRICS, "insurance_missing")

# account-level decision streams (rng.uniforms(account_key, day, stream)): (action, reinstatement)
_STREAMS = {"odr": (0, 1), "insurance_missing": (2, 9), "late_shipment": (3, 6), "cancel": (4, 7),
            "valid_tracking": (5, 8)}
_COUNTERS = ("orders", "mfn", "shipped", "late", "cancelled", "tracked", "defects")
_METRIC_COUNTERS = (("odr", "defects", "orders"), ("late_shipment", "late", "shipped"), ("cancel", "cancelled", "mfn"),
                    ("valid_tracking", "tracked", "shipped"))  # each metric's numerator and denominator
_LOST = CAT["lost_profit"]
_LOST_FEES = CAT["lost_referral_fees"]
_FUNDS = CAT["funds_held_cost"]


class Health:
    """Per-day counters and the metric rules of one run."""

    def __init__(self, rules: HealthRules, horizon_days: int):
        n = horizon_days + 1
        self.rules = rules
        self.orders = np.zeros(n)  # orders placed (not on a stopped channel)
        self.mfn = np.zeros(n)  # seller-fulfilled orders: the cancel-rate denominator
        self.shipped = np.zeros(n)  # seller-fulfilled orders shipped: late-shipment and tracking denominator
        self.late = np.zeros(n)
        self.cancelled = np.zeros(n)
        self.tracked = np.zeros(n)
        self.defects = np.zeros(n)  # orders with a known defect, by order day
        # the same counters as memoryviews (the day loop's and the flows' reads and writes of single days,
        # and the reviews' window sums: cheaper than numpy's per call; every value is a whole number, so
        # a window's sum is exact in any order of addition)
        self.views = {name: memoryview(getattr(self, name)) for name in _COUNTERS}
        v = self.views
        # (metric, numerator, denominator, window days, events are the denominator minus the numerator)
        self._metrics = tuple((name, v[num], v[den], getattr(rules, name).window_days, name == "valid_tracking")
                              for name, num, den in _METRIC_COUNTERS)
        self._pending: list[tuple[float, int]] = []  # (time the defect happens, order day)
        self._defective: set[int] = set()
        self.series: list[tuple] = []  # (day, odr, late shipment, cancel, valid tracking, account suspended)

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
        defects = self.views["defects"]
        while pending and pending[0][0] <= now:
            _, day = heapq.heappop(pending)
            defects[day] += 1

    def measure(self, day: int) -> dict[str, tuple[float, float, float]]:
        """Each metric at the start of ``day``: (rate, events, orders) over its window.

        Events are what counts against the seller: defects, late shipments, cancellations,
        shipped packages without valid tracking. The rate is NaN when the window has no orders.
        """
        self._realise(day)
        out = {}
        for name, num, den, window, untracked in self._metrics:
            lo = day - window if day > window else 0
            a, b = sum(num[lo:day], 0.0), sum(den[lo:day], 0.0)
            out[name] = (a / b if b > 0 else math.nan, b - a if untracked else a, b)
        return out

    def metrics(self, day: int, measured: dict | None = None) -> dict[str, float]:
        """Rates at the start of ``day`` (NaN where the window has fewer than ``min_orders`` orders)."""
        out = {}
        for name, (rate, _, orders) in (measured or self.measure(day)).items():
            out[name] = rate if orders >= max(getattr(self.rules, name).min_orders, 1) else math.nan
        return out

    def breached(self, day: int, measured: dict | None = None) -> list[str]:
        """Names of the metrics breached at the start of ``day`` (rule 3 of the module docstring)."""
        bad = []
        for name, (rate, events, orders) in (measured or self.measure(day)).items():
            rule = getattr(self.rules, name)
            if orders < max(rule.min_orders, 1) or events < rule.min_events:
                continue
            if (rate < rule.limit) if name == "valid_tracking" else (rate >= rule.limit):
                bad.append(name)
        return bad


class Account:
    """Reviews, restrictions, reinstatement and held funds of one run (the rules around :class:`Health`)."""

    def __init__(self, books: Books, account_key, horizon_days: int):
        self.books = books
        self.rules = books.scenario.account_health
        self.health = Health(self.rules, horizon_days)
        days = np.arange(horizon_days, dtype=np.uint64)
        self._u_act = {k: rng.uniforms(account_key, days, a) for k, (a, _) in _STREAMS.items()}
        self._u_reinstate = {k: rng.uniforms(account_key, days, b) for k, (_, b) in _STREAMS.items()}
        self.until = dict.fromkeys(SCOPES, 0)  # first day each scope sells again
        self.all_sell_from = 0  # first day every scope sells again (the latest of until)
        self.streak = dict.fromkeys(METRICS, 0)  # reviews in a row that found the breach
        self.days_stopped = dict.fromkeys(SCOPES, 0)  # days by the broadest scope stopped
        self.orders_lost = dict.fromkeys(SCOPES, 0)
        self.actions: Counter = Counter()  # by reason
        self.proceeds = np.zeros(horizon_days + 1)  # seller's net proceeds of the orders placed each day
        self._proceeds = memoryview(self.proceeds)  # (written a day at a time)
        self.holds: list[tuple[int, float, float]] = []  # (day, balance withheld, days held)
        self.log: list[tuple[int, str, str, int]] = []  # actions: (day, reason, scope stopped, days)
        self.stopped_on = np.zeros(horizon_days + 1, dtype=np.int8)  # per day: 0 none, 1 categories, 2 MFN, 3 all
        self._fba_fee = books.scenario.market.fba_fee

    # ---- state ------------------------------------------------------------------------------------
    @property
    def suspended_days(self) -> int:
        """Days with the whole account deactivated."""
        return self.days_stopped[ACCOUNT]

    def stopped(self, d: int) -> str | None:
        """The broadest scope stopped on day ``d`` (None: everything sells)."""
        until = self.until
        if d < until[ACCOUNT]:
            return ACCOUNT
        if d < until[SELLER_FULFILLED]:
            return SELLER_FULFILLED
        if d < until[CATEGORIES]:
            return CATEGORIES
        return None

    def suspended(self, d: int) -> bool:
        """The whole account is deactivated on day ``d``."""
        return d < self.until[ACCOUNT]

    @staticmethod
    def sells(o, stop: str | None) -> bool:
        """Order ``o`` can be placed while ``stop`` is the broadest scope stopped."""
        if stop is None:
            return True
        if stop == ACCOUNT:
            return False
        if stop == SELLER_FULFILLED:
            return bool(o.fba)
        return not o.category_hit

    @staticmethod
    def sells_mask(a: OrderArrays, stop: str | None) -> np.ndarray:
        """:meth:`sells` for the columns of ``a``."""
        if stop is None:
            return np.ones(len(a), dtype=bool)
        if stop == ACCOUNT:
            return np.zeros(len(a), dtype=bool)
        if stop == SELLER_FULFILLED:
            return a.fba.astype(bool)
        return ~a.category_hit

    # ---- the day loop's calls -----------------------------------------------------------------------
    def lost_day(self, d: int, block: Block, i: int, stop: str) -> None:
        """Day ``d`` passes with ``stop`` stopped: the orders of that scope are lost (rule 7)."""
        part = block if stop == ACCOUNT else (
            block.seller_fulfilled if stop == SELLER_FULFILLED else block.restricted_categories)
        orders = int(part.orders[i])
        self.stopped_on[d] = _BREADTH[stop]
        self.days_stopped[stop] += 1
        self.orders_lost[stop] += orders
        books = self.books
        books.counts["orders_lost_to_suspension"] += orders
        books.ledger.book(d, -1, SELLER, FORGONE, _LOST, float(part.margin[i]))
        books.ledger.book(d, -1, AMAZON, FORGONE, _LOST_FEES, float(part.fees[i]))

    def open_day(self, d: int, block: Block, i: int, stop: str | None) -> tuple[int, float, int]:
        """Day ``d`` trades (``stop`` is None or narrower than the account): add the placed orders to
        the health counters and the proceeds; returns (orders placed, their sales, quiet negative feedback)."""
        h = self.health
        b = block.lists
        n, mfn, sales, fees = b.orders[i], float(b.mfn[i]), b.sales[i], b.fees[i]
        shipped, late, tracked = b.shipped[i], b.late_confirm[i], b.tracked[i]
        quiet_nf = b.quiet_neg_feedback[i]
        if stop is not None:
            p = block.seller_fulfilled if stop == SELLER_FULFILLED else block.restricted_categories
            n -= int(p.orders[i])
            mfn -= float(p.orders[i])
            sales -= float(p.sales[i])
            fees -= float(p.fees[i])
            shipped, late, tracked = shipped - p.shipped[i], late - p.late_confirm[i], tracked - p.tracked[i]
            quiet_nf -= int(p.quiet_neg_feedback[i])
        v = h.views
        v["orders"][d] = n
        v["mfn"][d] = mfn
        v["shipped"][d] += shipped
        v["late"][d] += late
        v["tracked"][d] += tracked
        self._proceeds[d] = sales - fees - self._fba_fee * (n - mfn)
        return n, sales, quiet_nf

    def review(self, d: int) -> None:
        """A review on day ``d`` (rules 2-5)."""
        h = self.health
        measured = h.measure(d)
        rates = h.metrics(d, measured)
        bad = h.breached(d, measured)
        for name in METRICS:
            rule = getattr(self.rules, name)
            if name not in bad or not self._can_start(d, rule.consequence):
                self.streak[name] = 0  # nothing to warn about, or already stopped
                continue
            self.streak[name] += 1
            if self.streak[name] >= rule.consecutive_reviews and self._u_act[name][d] < rule.action_probability:
                self._act(d, name, rule)
                self.streak[name] = 0
        h.series.append((d, rates["odr"], rates["late_shipment"], rates["cancel"], rates["valid_tracking"],
                         self.suspended(d)))

    def month_end(self, d: int, insurance_missing: bool) -> None:
        """Month end: a seller without the cover Amazon requires may be stopped (rule 6)."""
        rule = self.rules.insurance_missing
        if insurance_missing and self._can_start(d, rule.consequence):
            if self._u_act["insurance_missing"][d] < rule.action_probability:
                self._act(d, "insurance_missing", rule)

    # ---- actions ----------------------------------------------------------------------------------
    def _can_start(self, d: int, scope: str) -> bool:
        """An action on ``scope`` can start: neither it nor a broader scope is stopped on day ``d``."""
        return _BREADTH[self.stopped(d)] < _BREADTH[scope]

    def _act(self, d: int, reason: str, rule) -> None:
        days = max(1, math.ceil(rng.exponential(float(self._u_reinstate[reason][d]), rule.reinstatement_days)))
        scope = rule.consequence
        self.until[scope] = max(self.until[scope], d + days)
        self.all_sell_from = max(self.all_sell_from, self.until[scope])
        self.actions[reason] += 1
        self.log.append((d, reason, scope, days))
        self.books.count("suspensions")
        self.books.count(f"suspensions.{reason}")
        if scope == ACCOUNT:
            self._hold_funds(d, days)

    def _hold_funds(self, d: int, days: int) -> None:
        """Rule 8: the balance withheld and its cost of capital, booked when the deactivation starts."""
        fh = self.rules.funds_held
        balance = max(0.0, float(self.proceeds[max(0, d - fh.balance_days):d].sum()))
        held = days + fh.hold_after_days
        self.holds.append((d, balance, held))
        self.books.ledger.book(d, -1, SELLER, FORGONE, _FUNDS, balance * fh.cost_of_capital * held / 365.0)

    # ---- results ----------------------------------------------------------------------------------
    def metrics(self, per_year: float) -> dict[str, float]:
        """Result metrics of the account-health module (flat keys; docs/results.md)."""
        out: dict[str, float] = {}
        for reason in REASONS:
            out[f"counts.suspensions_by_reason.{reason}"] = self.actions[reason] * per_year
        for scope in SCOPES:
            out[f"suspended_days_by_channel.{scope}"] = self.days_stopped[scope] * per_year
            out[f"counts.orders_lost_by_channel.{scope}"] = self.orders_lost[scope] * per_year
        out["suspended_days_by_channel.any"] = sum(self.days_stopped.values()) * per_year
        balances = [b for _, b, _ in self.holds]
        out["funds_held.dollar_days"] = sum(b * h for _, b, h in self.holds) * per_year
        out["funds_held.amount"] = float(np.mean(balances)) if balances else math.nan
        out["funds_held.days"] = float(np.mean([h for _, _, h in self.holds])) if self.holds else math.nan
        return out
