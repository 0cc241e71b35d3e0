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

from ..ledger import AMAZON, BUYER, CARRIER, CAT, FRAUDSTER, GOODS, HARM, SELLER, STAFF
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
        return _refund_deadline_scalar(float(arrives), business_days, start_weekday)
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


def _refund_deadline_scalar(arrives: float, business_days: float, start_weekday: int) -> float:
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
        keep = ~claim_path
        a, u, requested, authorised, arrives = a.select(keep), u[keep], requested[keep], authorised[keep], arrives[keep]
        delay, deadline, late = delay[keep], deadline[keep], late[keep]
        n = len(a)
        fraud = u[:, D.RETURN_FRAUD] < s.incidents.return_fraud_share
        claimant = np.where(fraud, FRAUDSTER, BUYER)
        refund_at = np.where(late, deadline, arrives + delay)
        paid_pos = a.paid > 0
        credit = np.where(paid_pos, a.fee * np.minimum(1.0, a.price / np.where(paid_pos, a.paid, 1.0)), 0.0)
        admin = np.minimum(5.0, 0.2 * credit)
        wage = r.handling_minutes * s.seller.support.wage_per_hour / 60.0
        zeros = np.zeros(n)

        # one row of columns per entry kind: (t, payer, payee, category, amount, condition)
        kinds = (
            (requested, BUYER, HARM, CAT["harm"], a.price, ~fraud),
            (refund_at, SELLER, claimant, CAT["refund"], a.price, None),
            (refund_at, AMAZON, SELLER, CAT["referral_credit"], credit, None),
            (refund_at, SELLER, AMAZON, CAT["refund_admin_fee"], admin, None),
            (arrives, claimant, CARRIER, CAT["return_shipping"], zeros + m.return_shipping_cost, None),
            (arrives, GOODS, SELLER, CAT["recovered_goods"],
             a.price * m.cogs_share * s.incidents.resale_share.remorse, ~fraud),
            (arrives, SELLER, STAFF, CAT["staff_time"], zeros + wage, ~a.fba),
        )
        cols = {k: [] for k in ("day", "t", "order", "payer", "payee", "category", "cents")}
        for t, payer, payee, cat, amount, cond in kinds:
            cents = np.round(amount * 100).astype(np.int64)
            ok = cents != 0 if cond is None else (cents != 0) & cond
            cols["day"].append(a.day[ok])
            cols["t"].append(t[ok])
            cols["order"].append(a.id[ok].astype(np.int64))
            cols["payer"].append(np.broadcast_to(payer, n)[ok])
            cols["payee"].append(np.broadcast_to(payee, n)[ok])
            cols["category"].append(np.full(int(ok.sum()), cat))
            cols["cents"].append(cents[ok])
        flat = {k: np.concatenate(v) if v else np.zeros(0) for k, v in cols.items()}
        order = np.argsort(flat["day"], kind="stable")
        self.entries = {k: v[order] for k, v in flat.items()}
        self.entry_start = np.searchsorted(self.entries["day"], np.arange(n_days + 1))

        day_count = np.bincount
        self.returns = day_count(a.day, minlength=n_days)
        self.fraud = day_count(a.day[fraud], minlength=n_days)
        self.late_refunds = day_count(a.day[late], minlength=n_days)
        slow = np.where(authorised - requested > window, s.buyers.negative_feedback.slow_reply_factor, 1.0)
        nf = u[:, D.NEG_FB] < s.incidents.base_negative_feedback * slow
        self.nf_day = a.day[nf]
        self.nf_at = authorised[nf]
        self.nf_order = a.id[nf]

    def apply(self, run: Books, local_day: int, day: int) -> None:
        """Book the entries, counts and defects of the returns ordered on ``local_day``."""
        lo, hi = self.entry_start[local_day], self.entry_start[local_day + 1]
        e = self.entries
        if hi > lo:
            run.ledger.extend(e["t"][lo:hi], e["order"][lo:hi], e["payer"][lo:hi], e["payee"][lo:hi],
                              e["category"][lo:hi], e["cents"][lo:hi])
        n = int(self.returns[local_day])
        counts = run.counts
        counts["incidents.remorse_return"] += n
        counts["returns"] += n
        if self.fraud[local_day]:
            counts["return_fraud"] += int(self.fraud[local_day])
        if self.late_refunds[local_day]:
            counts["refunds_by_amazon_late"] += int(self.late_refunds[local_day])
        for j in np.flatnonzero(self.nf_day == local_day):
            counts["negative_feedback"] += 1
            at = float(self.nf_at[j]) + run.scenario.account_health.feedback_delay_days
            run.practices.feedback_left(at)
            if run.health.add_defect(at, int(self.nf_order[j]), day):
                counts["odr_defects"] += 1
