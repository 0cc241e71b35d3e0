"""Seller practices: what they cost, and the sales that negative feedback costs.

Rules (docs/model.md, section 3.11), each a field of the scenario:

1. **Support wages.** The support desk is paid for the hours it is rostered, busy or idle:
   ``seller.support.staff`` x (``close_hour`` - ``open_hour``) x ``wage_per_hour`` on every
   work day (the first ``work_days_per_week`` days of each week from ``market.start_weekday``,
   as the desk's own calendar), booked ``support_wages`` (seller -> staff). Answering buyer
   messages is the roster's work and books nothing more. Back-office tasks outside the
   roster (checking in returns, answering claims and chargebacks, appeals, disputes) keep
   booking their minutes x ``wage_per_hour`` as ``staff_time`` (azsim/books.py).
2. **Packaging**: ``seller.practice_costs.packaging_per_order`` at ``seller.packaging_quality``
   (linear between its level-0 and level-1 costs) per seller-fulfilled order shipped
   (``packaging``, seller -> vendor).
3. **Listing upkeep**: ``listing_per_month`` at ``seller.listing_accuracy`` per 30-day month,
   pro rata per calendar day, suspended or not (``listing_work``, seller -> vendor).
4. **Tracking work**: ``tracking_per_order`` at ``seller.tracking.upload_rate`` per
   seller-fulfilled order shipped, plus ``confirm_run_cost`` per shipment-confirmation run:
   confirming in runs every T days leaves an order waiting T/2 on average, so a mean delay of
   ``upload_delay_days`` takes 1 / (2 x delay) runs a day, at most ``max_confirm_runs_per_day``,
   on every day with shipments (``tracking_work``, seller -> vendor).
5. **Buy Shipping**: ``buy_shipping_extra_per_label`` x ``seller.tracking.buy_shipping_share``
   per seller-fulfilled order shipped (``buy_shipping_labels``, seller -> carrier).
6. Costs 1-5 accrue per day from the account-health counters of orders actually taken
   (orders not taken while suspended or restricted ship nothing) and are booked at each model
   month end (every 30 days) and at the horizon for the last part-month, like the premium.
7. **Negative feedback lowers sales** (``market.feedback_effect``). On each trading day d the
   share of negative feedback buyers see is the negative feedback left in the last
   ``window_days`` days (dated when left: the prompting event + ``account_health.
   feedback_delay_days``) over all feedback left in that window, estimated as
   ``feedback_rate`` x the orders placed in the same window shifted back by the feedback delay
   (rounded to whole days), and never below the negative count (share <= 1). The day's sales
   fall by min(``max_sales_loss``, ``sales_loss_per_point`` x 100 x share): the seller books
   that share of the day's margin as ``lost_profit_feedback`` and Amazon that share of the
   day's referral fees as ``lost_referral_fees`` (both to forgone). A seller with no negative
   feedback loses nothing. The day's orders are simulated in full, so the incidents of the
   lost orders still happen (a second-order overstatement); there is no history before day 0.

The engine calls :meth:`Practices.trading_day` on each day orders are taken,
:meth:`Practices.month_end` every 30 days and :meth:`Practices.close` at the horizon; flows
report negative feedback through :meth:`Practices.feedback_left` (via ``Books.feedback``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .account import SELLER_FULFILLED
from .books import MONTH_DAYS
from .ledger import AMAZON, CARRIER, CAT, FORGONE, SELLER, STAFF, VENDOR

if TYPE_CHECKING:
    from .books import Books

__all__ = ["Practices", "PRACTICE_COST_CATEGORIES", "MONTH_DAYS"]

PRACTICE_COST_CATEGORIES = ("support_wages", "packaging", "listing_work", "tracking_work", "buy_shipping_labels")
"""Ledger categories of what the seller's practices cost (the advisor's "cost of the practice")."""

_PAYEE = {"support_wages": STAFF, "packaging": VENDOR, "listing_work": VENDOR, "tracking_work": VENDOR,
          "buy_shipping_labels": CARRIER}
_LOST_FB = CAT["lost_profit_feedback"]
_LOST_FEES = CAT["lost_referral_fees"]


class WindowSum:
    """The sum of ``values[lo:hi]`` for a window that mostly moves on a day at a time, kept running.

    ``values`` are whole numbers (counts), so the running sum is exactly the slice's sum whatever the
    order of the additions; a window that jumps back, or past the last one, is summed afresh."""

    __slots__ = ("values", "lo", "hi", "total")

    def __init__(self, values) -> None:
        self.values = values  # a list or an array, read (and, through add, written) in place
        self.lo = self.hi = 0
        self.total = 0.0

    def __call__(self, lo: int, hi: int) -> float:
        """``sum(values[lo:hi])``."""
        v = self.values
        if hi == self.hi + 1 and lo == self.lo + 1 and lo <= self.hi:  # the next day (the usual step)
            total = self.total + v[hi - 1] - v[lo - 1]
        elif lo < self.lo or hi < self.hi or lo >= self.hi:
            total = float(sum(v[lo:hi]))
        else:
            total = self.total
            for day in range(self.hi, hi):
                total += v[day]
            for day in range(self.lo, lo):
                total -= v[day]
        self.lo, self.hi, self.total = lo, hi, total
        return float(total)

    def add(self, day: int, n: float) -> None:
        """``values[day] += n`` (also inside the window already summed)."""
        self.values[day] += n
        if self.lo <= day < self.hi:
            self.total += n


def confirm_runs_per_day(upload_delay_days: float, max_runs: float) -> float:
    """Shipment-confirmation runs a day that give a mean confirmation delay of ``upload_delay_days``."""
    if upload_delay_days <= 0:
        return max_runs
    return min(max_runs, 1.0 / (2.0 * upload_delay_days))


class Practices:
    """Practice costs and the negative-feedback sales effect of one run."""

    def __init__(self, books: Books, horizon_days: int):
        self.books = books
        s = books.scenario
        seller = s.seller
        sup = seller.support
        self._wage_day = sup.staff * (sup.close_hour - sup.open_hour) * sup.wage_per_hour
        self._work_days = sup.work_days_per_week
        self._weekday0 = s.market.start_weekday
        pc, tr = seller.practice_costs, seller.tracking
        self._packaging = pc.packaging_per_order.at(seller.packaging_quality)
        self._listing_day = pc.listing_per_month.at(seller.listing_accuracy) / MONTH_DAYS
        self._tracking = pc.tracking_per_order.at(tr.upload_rate)
        self._run_day = pc.confirm_run_cost * confirm_runs_per_day(tr.upload_delay_days, pc.max_confirm_runs_per_day)
        self._label = pc.buy_shipping_extra_per_label * tr.buy_shipping_share
        self._booked_to = 0  # costs are booked for days before this
        self.cents = dict.fromkeys(PRACTICE_COST_CATEGORIES, 0)  # booked so far, per category
        fe = s.market.feedback_effect
        self._fe = fe
        self._lag = int(round(s.account_health.feedback_delay_days))
        self._negative = [0.0] * (horizon_days + 1)  # negative feedback left, by day (whole numbers)
        # running sums over the last windows negative_share read: negative[lo:hi], orders[lo:hi]
        self._window_negative = WindowSum(self._negative)
        self._window_orders = WindowSum(books.health.views["orders"])  # set on the day: final for days < hi
        self._share_sum = 0.0
        self._loss_sum = 0.0
        self._lost_orders = 0.0
        self._trading_days = 0

    # ---- practice costs ---------------------------------------------------------------------
    def is_work_day(self, day: int) -> bool:
        """A rostered day of the support desk (the same calendar as :class:`azsim.flows.desk.Desk`)."""
        return (self._weekday0 + day) % 7 < self._work_days

    def costs(self, lo: int, hi: int) -> dict[str, float]:
        """What the practices cost over days [lo, hi), by category (dollars, unrounded)."""
        h = self.books.health
        shipped = float(h.shipped[lo:hi].sum())
        shipping_days = int(np.count_nonzero(h.shipped[lo:hi]))
        work_days = sum(1 for d in range(lo, hi) if self.is_work_day(d))
        return {
            "support_wages": work_days * self._wage_day,
            "packaging": shipped * self._packaging,
            "listing_work": (hi - lo) * self._listing_day,
            "tracking_work": shipped * self._tracking + shipping_days * self._run_day,
            "buy_shipping_labels": shipped * self._label,
        }

    def _book(self, d: int) -> None:
        lo = self._booked_to
        if d <= lo:
            return
        ledger = self.books.ledger
        for cat, amount in self.costs(lo, d).items():
            self.cents[cat] += ledger.book(d, -1, SELLER, _PAYEE[cat], CAT[cat], amount) * (1 if amount >= 0 else -1)
        self._booked_to = d

    def month_end(self, d: int) -> None:
        """Model month end (day ``d``, a multiple of 30): book the month's practice costs."""
        self._book(d)

    def close(self, d: int) -> None:
        """The horizon ends on day ``d``: book the last part-month."""
        self._book(d)

    # ---- negative feedback and sales ------------------------------------------------------------
    def feedback_left(self, at: float, n: int = 1) -> None:
        """``n`` negative feedback ratings appear at time ``at`` (days)."""
        day = int(at)
        if 0 <= day < len(self._negative):
            self._window_negative.add(day, n)

    def negative_share(self, d: int) -> float:
        """Share of negative ratings among the feedback buyers see at the start of day ``d``.

        The window sums are kept as running sums of whole numbers (exactly the sums of the array
        slices the rule names); a ``d`` earlier than the last one asked recomputes them."""
        fe = self._fe
        lo = max(0, d - fe.window_days)
        negative = self._window_negative(lo, d)
        if negative <= 0.0:
            return 0.0
        orders = self._window_orders(max(0, lo - self._lag), max(0, d - self._lag))
        return negative / max(negative, fe.feedback_rate * orders)

    def sales_loss(self, share: float) -> float:
        """Share of a day's sales lost at a negative-feedback share ``share``."""
        fe = self._fe
        return min(fe.max_sales_loss, fe.sales_loss_per_point * 100.0 * share)

    def trading_day(self, d: int, block, i: int, stop: str | None = None) -> None:
        """Day ``d`` (day ``i`` of ``block``) takes orders, on every channel but ``stop`` (the
        narrower-than-account scope stopped, if any): book the share of their margin (seller) and
        referral fees (Amazon) that negative feedback costs."""
        b = block.lists
        orders, margin, fees = float(b.orders[i]), b.margin[i], b.fees[i]
        if stop is not None:  # the stopped channel's orders are not placed (booked by azsim.account)
            part = block.seller_fulfilled if stop == SELLER_FULFILLED else block.restricted_categories
            orders -= float(part.orders[i])
            margin -= float(part.margin[i])
            fees -= float(part.fees[i])
        share = self.negative_share(d)
        self._trading_days += 1
        if share == 0.0:  # no negative feedback in the window: nothing lost (the sums below stay as they are)
            return
        loss = self.sales_loss(share)
        self._share_sum += share
        self._loss_sum += loss
        if loss <= 0.0:
            return
        self._lost_orders += loss * orders
        ledger = self.books.ledger
        ledger.book(d, -1, SELLER, FORGONE, _LOST_FB, loss * margin)
        ledger.book(d, -1, AMAZON, FORGONE, _LOST_FEES, loss * fees)

    # ---- results ---------------------------------------------------------------------------
    def metrics(self, per_year: float) -> dict[str, float]:
        """Result metrics of the practices module (flat keys; money and counts per year)."""
        out = {f"practice_costs.{cat}": c / 100 * per_year for cat, c in self.cents.items()}
        out["practice_costs.total"] = sum(self.cents.values()) / 100 * per_year
        days = max(self._trading_days, 1)
        out["feedback.negative_share_mean"] = self._share_sum / days
        out["feedback.sales_loss_mean"] = self._loss_sum / days
        out["feedback.orders_lost"] = self._lost_orders * per_year
        counts = self.books.counts
        for name in ("cancelled_orders", "refunds_by_amazon_late", "late_refund_claims"):
            out[f"counts.{name}"] = counts[name] * per_year
        return out
