"""Buyer-remorse returns, computed for a whole block of days at once.

Remorse returns are the commonest incident (about half of all orders with one) and, unless the
seller fails to authorise them within 48 h, a chain of fixed delays that touches no shared
resource: request, authorisation, return shipment, refund, restocking. This module computes
those chains with numpy for every remorse return of a block and books each day's entries when
the day loop reaches it (so that orders of suspended days are dropped). It is the vectorised
twin of :func:`azsim.flows.orders.remorse_return` with :func:`azsim.flows.atoz.return_item`,
which handle the orders that go down the claim path, and which the test suite checks it
against entry by entry (``run_policy(..., vectorised=False)``).

Steps (parameters): request ``buyers.return_request_days`` after the EDD; a share
``incidents.return_fraud_share`` are fraudulent (the item is not recovered, the refund goes to
the fraudster); authorised within the window at once (FBA, or ``seller.returns.authorise_within_48h``)
or late (``seller.returns.late_authorisation_days``) -> the claim path when
``policy.auto_grant_unauthorised_return``; shipped back in ``buyers.return_transit_days``;
refunded after ``seller.returns.refund_delay_days``, by Amazon at the seller's cost past
``policy.refund_deadline_days``; the buyer pays the label; the seller restocks
``incidents.resale_share.remorse`` of the cost of goods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..ledger import AMAZON, BUYER, CARRIER, CAT, FRAUDSTER, GOODS, HARM, SELLER, STAFF
from ..world import D, OrderArrays

if TYPE_CHECKING:
    from ..books import Books  # the bookkeeping interface; flows never import the engine


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
        in_time = a.fba | (u[:, D.AUTHORISE] < r.authorise_within_48h)
        claim_path = ~in_time & p.auto_grant_unauthorised_return
        self.scalar = [[] for _ in range(n_days)]
        if claim_path.any():
            for o in a.select(claim_path).orders():
                self.scalar[o.day - a.first_day].append(o)
        keep = ~claim_path
        a, u, requested, in_time = a.select(keep), u[keep], requested[keep], in_time[keep]
        n = len(a)
        authorised = requested + np.where(
            in_time,
            u[:, D.AUTH_DELAY] * min(window, 1.0),
            window + _exp(u[:, D.AUTH_DELAY], r.late_authorisation_days),
        )
        fraud = u[:, D.RETURN_FRAUD] < s.incidents.return_fraud_share
        claimant = np.where(fraud, FRAUDSTER, BUYER)
        arrives = authorised + _exp(u[:, D.TRANSIT], s.buyers.return_transit_days)
        delay = np.where(a.fba, 0.0, _exp(u[:, D.REFUND_DELAY], r.refund_delay_days))
        refund_at = arrives + np.minimum(delay, p.refund_deadline_days)
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
        self.late_refunds = day_count(a.day[delay > p.refund_deadline_days], minlength=n_days)
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
            if run.health.add_defect(float(self.nf_at[j]) + run.scenario.account_health.feedback_delay_days,
                                     int(self.nf_order[j]), day):
                counts["odr_defects"] += 1
