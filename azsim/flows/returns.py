"""Buyer-remorse returns, computed for a whole block of days at once.

Remorse returns are the commonest incident (about half of all orders with one) and, unless the
seller fails to authorise them within 48 h or refunds them so late that the buyer claims, a
chain of fixed delays that touches no shared
resource: request, authorisation, return shipment, refund, restocking. This module computes
those chains with numpy for every remorse return of a block and books each day's entries when
the day loop reaches it (so that orders of suspended days are dropped). It is the vectorised
twin of :func:`azsim.flows.orders.remorse_return` with :func:`azsim.flows.atoz.return_item`,
which handle the orders that go down the claim path, and which the test suite checks it
against entry by entry (``run_policy(..., vectorised=False)``).

Steps (parameters): request ``buyers.return_request_days`` after the EDD; a share
``incidents.return_fraud_share`` are fraudulent (the item is not recovered, the refund goes to
the fraudster); authorised at the request when ``policy.auto_authorise_returns`` (US), else
within the window at once (FBA, or ``seller.returns.authorise_within_48h``) or late
(``seller.returns.late_authorisation_days``) -> the claim path when
``policy.auto_grant_unauthorised_return``; shipped back in ``buyers.return_transit_days``;
refunded after ``seller.returns.refund_delay_days``, by Amazon at the seller's cost at the end
of ``policy.refund_deadline_business_days`` business days after the arrival day
(:func:`refund_deadline`) -> the claim path when the buyer then files a "returned but not
refunded" claim (``buyers.late_refund_claim``, stream ``D.LATE_REFUND_CLAIM``); the buyer pays
the label; the seller restocks ``incidents.resale_share.remorse`` of the cost of goods.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..ledger import AMAZON, BUYER, CARRIER, CAT, FRAUDSTER, GOODS, HARM, SELLER, STAFF, Ledger, LedgerTotals
from ..world import D, OrderArrays

if TYPE_CHECKING:
    from ..books import Books  # the bookkeeping interface; flows never import the engine


BUSINESS_DAYS_PER_WEEK = 5
"""Monday to Friday: refund deadlines count these (weekdays from ``market.start_weekday``)."""


def refund_deadline(arrives, business_days: float, start_weekday: int):
    """When a refund for a return that arrived at ``arrives`` (days; scalar or array) is due.

    Amazon: the seller refunds "within two business days of receipt of a return". Business days
    (Monday to Friday; day ``d`` is weekday ``(start_weekday + d) % 7``, 0 = Monday) are counted
    from the day after the arrival day, and the refund is due at the END of the last one: a
    return that arrives on a Friday with 2 business days is due at the end of Tuesday (Monday 1,
    Tuesday 2), one that arrives on a Monday at the end of Wednesday. A fraction of a business
    day is that fraction of the next business day (0.5: noon of the first business day); 0
    business days is the end of the arrival day. Works elementwise on numpy arrays, with the
    same arithmetic as on floats, so the scalar and vectorised flows agree exactly.
    """
    if not np.ndim(arrives):
        return refund_deadline_scalar(float(arrives), business_days, start_weekday)
    start = np.floor(arrives) + 1.0  # midnight that ends the arrival day
    whole = math.floor(business_days)
    frac = business_days - whole
    if business_days <= 0:
        return start if np.ndim(start) else float(start)
    m = whole + 1 if frac > 0 else whole  # the business day the deadline falls in (1 = the first)
    weekday = np.mod(start + start_weekday, 7.0)
    weekend = weekday >= BUSINESS_DAYS_PER_WEEK
    first = np.where(weekend, start + (7.0 - weekday), start)  # the first business day from `start`
    w = np.where(weekend, 0.0, weekday)
    weeks, rest = np.divmod(m - 1 + w, BUSINESS_DAYS_PER_WEEK)
    day = first - w + 7.0 * weeks + rest  # the m-th business day
    due = day + frac if frac > 0 else day + 1.0
    return due if np.ndim(due) else float(due)


def refund_deadline_scalar(arrives: float, business_days: float, start_weekday: int) -> float:
    """:func:`refund_deadline` for one float, in plain Python (every step is on whole numbers, so
    the result is bit-identical to the numpy path; tests/test_practices.py checks it)."""
    start = math.floor(arrives) + 1.0
    if business_days <= 0:
        return start
    whole = math.floor(business_days)
    frac = business_days - whole
    m = whole + 1 if frac > 0 else whole
    weekday = (start + start_weekday) % 7.0
    if weekday >= BUSINESS_DAYS_PER_WEEK:
        first, w = start + (7.0 - weekday), 0.0
    else:
        first, w = start, weekday
    weeks, rest = divmod(m - 1 + w, BUSINESS_DAYS_PER_WEEK)
    day = first - w + 7.0 * weeks + rest
    return day + frac if frac > 0 else day + 1.0


def _exp(u: np.ndarray, mean: float) -> np.ndarray:
    return -mean * np.log1p(-u) if mean > 0 else np.zeros_like(u)


class RemorseBatch:
    """The remorse returns of one block: ledger entries, counts and defects, by local day."""

    def __init__(self, run: Books, a: OrderArrays, n_days: int):
        s, p = run.scenario, run.policy
        r, m = s.seller.returns, s.market
        u = a.u
        n = len(a)
        self.n_days = n_days
        window = p.return_authorisation_hours / 24.0
        requested = a.t + m.delivery_days + _exp(u[:, D.RETURN_DELAY], s.buyers.return_request_days)
        if p.auto_authorise_returns:  # Amazon authorises in-policy requests at once
            in_time = np.ones(n, dtype=bool)
            authorised = requested.copy()
        else:
            in_time = a.fba | (u[:, D.AUTHORISE] < r.authorise_within_48h)
            authorised = requested + np.where(
                in_time,
                u[:, D.AUTH_DELAY] * min(window, 1.0),
                window + _exp(u[:, D.AUTH_DELAY], r.late_authorisation_days),
            )
        arrives = authorised + _exp(u[:, D.TRANSIT], s.buyers.return_transit_days)
        delay = np.where(a.fba, 0.0, _exp(u[:, D.REFUND_DELAY], r.refund_delay_days))
        deadline = refund_deadline(arrives, p.refund_deadline_business_days, m.start_weekday)
        late = arrives + delay > deadline
        # the scalar flow takes the returns that may end in an A-to-z claim: not authorised within 48 h
        # while that grants a claim, or refunded late to a buyer who files "returned but not refunded"
        claim_path = ~in_time & p.auto_grant_unauthorised_return
        claim_path |= late & (u[:, D.LATE_REFUND_CLAIM] < s.buyers.late_refund_claim)
        self.scalar = [[] for _ in range(n_days)]
        if claim_path.any():
            for o in a.select(claim_path).orders():
                self.scalar[o.day - a.first_day].append(o)
        # the columns the bulk entries read (not the whole arrays: most of the 48 uniforms are not read here)
        ids, day_of, fba, price, paid, fee = a.id, a.day, a.fba, a.price, a.paid, a.fee
        u_fraud, u_negfb = u[:, D.RETURN_FRAUD], u[:, D.NEG_FB]
        if claim_path.any():
            keep = ~claim_path
            ids, day_of, fba, price, paid, fee = ids[keep], day_of[keep], fba[keep], price[keep], paid[keep], fee[keep]
            u_fraud, u_negfb = u_fraud[keep], u_negfb[keep]
            requested, authorised, arrives = requested[keep], authorised[keep], arrives[keep]
            delay, deadline, late = delay[keep], deadline[keep], late[keep]
        n = len(ids)
        fraud = u_fraud < s.incidents.return_fraud_share
        claimant = np.where(fraud, FRAUDSTER, BUYER)
        refund_at = np.where(late, deadline, arrives + delay)
        paid_pos = paid > 0
        credit = np.where(paid_pos, fee * np.minimum(1.0, price / np.where(paid_pos, paid, 1.0)), 0.0)
        admin = np.minimum(5.0, 0.2 * credit)
        wage = r.handling_minutes * s.seller.support.wage_per_hour / 60.0
        kept = ~fraud

        # one row per entry kind: time, amount, condition, payer, payee, category (the payer or payee
        # ``claimant`` is the buyer or, for a fraudulent return, the fraudster)
        rows = (
            (requested, price, kept, BUYER, HARM, CAT["harm"]),
            (refund_at, price, None, SELLER, claimant, CAT["refund"]),
            (refund_at, credit, None, AMAZON, SELLER, CAT["referral_credit"]),
            (refund_at, admin, None, SELLER, AMAZON, CAT["refund_admin_fee"]),
            (arrives, m.return_shipping_cost, None, claimant, CARRIER, CAT["return_shipping"]),
            (arrives, price * m.cogs_share * s.incidents.resale_share.remorse, kept, GOODS, SELLER,
             CAT["recovered_goods"]),
            (arrives, wage, ~fba, SELLER, STAFF, CAT["staff_time"]),
        )
        k = len(rows)
        times = np.empty((k, n))
        amounts = np.empty((k, n))
        ok = np.ones((k, n), dtype=bool)
        keys = np.empty((k, n), dtype=np.int64)
        order_key = Ledger.keys(ids.astype(np.int64), 0, 0, 0)
        for j, (t, amount, cond, payer, payee, cat) in enumerate(rows):
            times[j] = t
            amounts[j] = amount
            if cond is not None:
                ok[j] = cond
            keys[j] = order_key | Ledger.keys(-1, payer, payee, cat)
        cents = np.round(amounts * 100).astype(np.int64)
        ok &= cents != 0
        # kind by kind, then by day (stable): the order in which the scalar flow would book them per day
        ok = ok.ravel()
        day = np.broadcast_to(day_of, (k, n)).ravel()[ok]
        by_day = np.argsort(day, kind="stable")
        # the ledger's own columns in day order, packed once per block: apply() appends a day's slice
        self._packed = Ledger.pack(times.ravel()[ok][by_day], keys.ravel()[ok][by_day], cents.ravel()[ok][by_day])
        self._start = np.searchsorted(day[by_day], np.arange(n_days + 1)).tolist()
        # a ledger of totals takes every day's entries now, and gives back those of days not traded (skip):
        # the same sums, without a step per day
        self._upfront = isinstance(run.ledger, LedgerTotals)
        if self._upfront:
            run.ledger.extend_packed(self._packed, 0, self._start[-1])

        day_count = np.bincount
        self.returns = day_count(day_of, minlength=n_days)
        self.fraud = day_count(day_of[fraud], minlength=n_days)
        self.late_refunds = day_count(day_of[late], minlength=n_days)
        self._returns, self._fraud, self._late = self.returns.tolist(), self.fraud.tolist(), self.late_refunds.tolist()
        slow = np.where(authorised - requested > window, s.buyers.negative_feedback.slow_reply_factor, 1.0)
        nf = u_negfb < s.incidents.base_negative_feedback * slow
        self.nf_day = day_of[nf]
        self.nf_at = authorised[nf]
        self.nf_order = ids[nf]
        self._nf: dict[int, list[tuple[float, int]]] = {}  # local day -> [(feedback time, order id)]
        delay = s.account_health.feedback_delay_days
        for day, at, oid in zip(self.nf_day.tolist(), self.nf_at.tolist(), self.nf_order.tolist(), strict=True):
            self._nf.setdefault(day, []).append((at + delay, oid))

    def skip(self, run: Books, local_day: int) -> None:
        """The day loop does not apply ``local_day`` (its orders were not placed, or were placed one
        at a time): its entries are not booked."""
        if self._upfront:
            run.ledger.extend_packed(self._packed, self._start[local_day], self._start[local_day + 1], sign=-1)

    def day_view(self, offset: int) -> _DayView:
        """This batch seen from a block that starts ``offset`` days into it (``apply`` and ``scalar``
        by the block's own day numbers)."""
        return self if offset == 0 else _DayView(self, offset)

    def apply(self, run: Books, local_day: int, day: int) -> None:
        """Book the entries, counts and defects of the returns ordered on ``local_day``."""
        lo, hi = self._start[local_day], self._start[local_day + 1]
        if hi > lo and not self._upfront:
            run.ledger.extend_packed(self._packed, lo, hi)
        n = self._returns[local_day]
        counts = run.counts
        counts["incidents.remorse_return"] += n
        counts["returns"] += n
        if self._fraud[local_day]:
            counts["return_fraud"] += self._fraud[local_day]
        if self._late[local_day]:
            counts["refunds_by_amazon_late"] += self._late[local_day]
        nf = self._nf.get(local_day)
        if nf:
            feedback_left, add_defect = run.practices.feedback_left, run.health.add_defect
            for at, oid in nf:
                counts["negative_feedback"] += 1
                feedback_left(at)
                if add_defect(at, oid, day):
                    counts["odr_defects"] += 1


class _DayView:
    """A :class:`RemorseBatch` indexed by the days of one of its blocks."""

    __slots__ = ("batch", "offset", "scalar")

    def __init__(self, batch: RemorseBatch, offset: int):
        self.batch, self.offset = batch, offset
        self.scalar = batch.scalar[offset:]

    def apply(self, run: Books, local_day: int, day: int) -> None:
        self.batch.apply(run, self.offset + local_day, day)

    def skip(self, run: Books, local_day: int) -> None:
        self.batch.skip(run, self.offset + local_day)
