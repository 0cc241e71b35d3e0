"""What happens to an order with an incident: the buyer's side of each incident type.

Only orders with an incident reach this module; uneventful orders are counted in bulk by the
day loop (:mod:`azsim.simulate`). An incident that involves the support desk or a PD/PI claim
becomes a SimPy process; everything else is a chain of fixed delays on the order's own
pre-drawn uniforms, computed in one step with future-dated ledger entries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..ledger import AMAZON, BUYER, CAT, FORGONE, FRAUDSTER, SELLER
from ..rng import exponential
from ..world import DELIVERY_PROBLEMS, KINDS, D
from . import atoz, pdpi

if TYPE_CHECKING:
    from ..books import Books  # the bookkeeping interface; flows never import the engine

_REFUND = CAT["refund"]
_INCIDENT_COUNT = {k: "incidents." + k for k in KINDS}
_LOST_CANCELLED = CAT["lost_profit_cancelled"]
_LOST_FEES = CAT["lost_referral_fees"]


def start(run: Books, o) -> None:
    """Dispatch an incident order placed now (the account is not suspended)."""
    kind = o.kind
    if kind == "fraud_claim":
        if o.pos >= run.policy.fraud_attempt_rate:
            # the fraud slot is as wide as the largest policy rate; under this policy the order is
            # uneventful and gets exactly what the day loop gives quiet orders
            run.quiet_feedback(o)
            return
        run.counts["incidents.fraud_claim"] += 1
        run.env.process(pdpi.claim_process(run, o, fraud=True))
        return
    if kind == "out_of_stock" and o.fba:
        return  # Amazon holds FBA stock: no out-of-stock sale
    run.counts[_INCIDENT_COUNT[kind]] += 1
    if o.fba and kind in DELIVERY_PROBLEMS:
        _amazon_delivery_problem(run, o)
    else:
        _FLOWS[kind](run, o)


def _edd(run: Books, o) -> float:
    return o.t + run.scenario.market.delivery_days


def _slow(run: Books, msg: float, reply: float) -> float:
    """Negative-feedback factor: replies later than 24 h draw more negative feedback."""
    return run.scenario.buyers.negative_feedback.slow_reply_factor if reply - msg > 1.0 else 1.0


# ---- delivery problems (seller-fulfilled) ----------------------------------------------------
def _amazon_delivery_problem(run: Books, o) -> None:
    """FBA: lost, late and transit-damaged orders are Amazon's problem and Amazon's money."""
    if o.kind == "late_delivery":
        return
    at = _edd(run, o) + exponential(o.u[D.CONTACT_DELAY], run.scenario.buyers.contact_delay_days)
    run.harm(at, o, o.paid)
    run.ledger.book(at, o.id, AMAZON, BUYER, _REFUND, o.paid)
    run.paid(at, at, "fba")


def lost_in_transit(run: Books, o) -> None:
    """Item not received: message first (48 h rule) or a claim from EDD + 3 days."""
    b, p = run.scenario.buyers, run.policy
    edd = _edd(run, o)
    eligible = edd + p.claim_eligible_after_edd_days
    run.harm(edd, o, o.paid)
    protected = _protected(run, o)

    def refund(t: float) -> None:
        run.seller_refund(t, o, o.paid, edd)

    def late_refund(t: float) -> None:
        refund(t)
        run.feedback(t, o, b.negative_feedback.resolved * b.negative_feedback.slow_reply_factor)

    if o.u[D.CONTACT] < b.contact_seller_first:
        def after(msg: float, reply: float) -> None:
            deadline = msg + p.message_reply_hours / 24.0
            if reply <= deadline:
                refund(reply)
                run.feedback(reply, o, b.negative_feedback.resolved * _slow(run, msg, reply))
                return
            atoz.unresolved(run, o, "item_not_received", max(eligible, deadline), edd,
                            auto=p.auto_grant_unanswered_message or not o.tracked, fix=late_refund, fix_at=reply,
                            protected=protected)

        run.desk.send(run, o, edd + exponential(o.u[D.CONTACT_DELAY], b.contact_delay_days), after)
        return
    atoz.unresolved(run, o, "item_not_received", eligible, edd, auto=not o.tracked, protected=protected)


def late_delivery(run: Books, o, extra_days: float | None = None) -> None:
    """The item arrives after the EDD; a buyer may ask where it is, or claim before it arrives."""
    b, p = run.scenario.buyers, run.policy
    edd = _edd(run, o)
    if extra_days is None:
        extra_days = exponential(o.u[D.LATE_DAYS], run.scenario.incidents.late_delivery_mean_days)
    arrives = edd + extra_days
    eligible = edd + p.claim_eligible_after_edd_days

    if o.u[D.LATE_QUESTION] < b.late_question_rate:
        at = edd + exponential(o.u[D.CONTACT_DELAY], b.contact_delay_days)
        # an item that arrives before a claim is possible, to a buyer who leaves no negative feedback even after a
        # slow reply: whenever the reply comes (or none), `after` books nothing (no claim can be filed before the
        # item turns up), so the queue desk books no event for it (the reference desk calls `after` anyway)
        if arrives <= eligible and _no_feedback_whatever_reply(run, o, b.negative_feedback.resolved):
            run.desk.send(run, o, at, None)
            return

        def after(msg: float, reply: float) -> None:
            deadline = msg + p.message_reply_hours / 24.0
            answered = reply <= deadline
            if answered and arrives <= eligible:
                run.feedback(arrives, o, b.negative_feedback.resolved * _slow(run, msg, reply))
                return
            unanswered_rule = (not answered) and p.auto_grant_unanswered_message
            auto = unanswered_rule or not o.tracked
            start = max(eligible, deadline) if unanswered_rule else eligible
            atoz.unresolved(run, o, "item_not_received", start, edd, auto=auto, protected=_protected(run, o),
                            arrives=arrives, feedback_factor=_slow(run, msg, reply))

        run.desk.send(run, o, at, after)
        return
    if arrives <= eligible:
        run.feedback(arrives, o, b.negative_feedback.resolved)
        return
    atoz.unresolved(run, o, "item_not_received", eligible, edd, auto=not o.tracked, protected=_protected(run, o),
                    arrives=arrives)


def _no_feedback_whatever_reply(run: Books, o, chance: float) -> bool:
    """The buyer leaves no negative feedback at ``chance``, even scaled up for a slow reply: the queue desk
    then books no event for the reply (the reference desk, which calls back anyway, is not told)."""
    slow = run.scenario.buyers.negative_feedback.slow_reply_factor
    return "desk" in run.fast and o.u[D.NEG_FB] >= chance * max(1.0, slow)


def _protected(run: Books, o) -> bool:
    """Buy Shipping protection of a late parcel (read only on the claim path)."""
    return o.tracked and o.confirm <= 1.0 and o.u[D.BUY_SHIPPING] < run.scenario.seller.tracking.buy_shipping_share


def cancelled_margin(run: Books, o) -> float:
    """What a seller-fulfilled order would have earned: price + shipping - referral fee - cost of
    goods - outbound label (the margin a cancellation forgoes)."""
    m = run.scenario.market
    return o.paid - o.fee - o.price * m.cogs_share - m.shipping_cost


def out_of_stock(run: Books, o) -> None:
    """Seller-fulfilled order it cannot ship: cancel (cancel rate, the sale is lost) or ship late
    (late shipment; the sale is kept)."""
    oos = run.scenario.seller.out_of_stock
    if oos.handling == "cancel":
        run.health.views["cancelled"][o.day] += 1
        run.counts["cancelled_orders"] += 1
        run.ledger.book(o.t, o.id, SELLER, FORGONE, _LOST_CANCELLED, cancelled_margin(run, o))
        run.ledger.book(o.t, o.id, AMAZON, FORGONE, _LOST_FEES, o.fee)
        run.feedback(o.t, o, run.scenario.incidents.base_negative_feedback)
        return
    v, day = run.health.views, o.day
    v["shipped"][day] += 1
    v["late"][day] += 1
    v["tracked"][day] += o.tracked
    late_delivery(run, o, extra_days=exponential(o.u[D.LATE_DAYS], oos.restock_days))


# ---- delivered with a seller-fault defect -------------------------------------------------------
_RESALE_FIELD = {"damaged_in_transit": "damaged", "not_as_described": "not_as_described", "wrong_item": "wrong_item"}


def _resale(run: Books, kind: str) -> float:
    return getattr(run.scenario.incidents.resale_share, _RESALE_FIELD[kind])


def defective(run: Books, o) -> None:
    """Damaged, not as described or wrong item: a message or a return request, else a claim."""
    b, p = run.scenario.buyers, run.policy
    noticed = _edd(run, o) + exponential(o.u[D.NOTICE_DELAY], b.defect_notice_days)
    run.harm(noticed, o, o.paid)
    resale = _resale(run, o.kind)
    if not o.fba and o.u[D.CONTACT] < b.contact_seller_first:
        def after(msg: float, reply: float) -> None:
            deadline = msg + p.message_reply_hours / 24.0
            if reply <= deadline:
                atoz.return_item(run, o, msg, noticed, True, resale, authorised_at=reply,
                                 feedback_factor=_slow(run, msg, reply))
                return

            def late_return(t: float) -> None:
                atoz.return_item(run, o, t, noticed, True, resale, authorised_at=t,
                                 feedback_factor=b.negative_feedback.slow_reply_factor)

            atoz.unresolved(run, o, "not_as_described", deadline, noticed,
                            auto=p.auto_grant_unanswered_message, fix=late_return, fix_at=reply)

        run.desk.send(run, o, noticed + exponential(o.u[D.CONTACT_DELAY], b.contact_delay_days), after)
        return
    atoz.return_item(run, o, noticed, noticed, True, resale)


def remorse_return(run: Books, o) -> None:
    """Buyer-remorse return: the buyer pays the label; a share are fraudulent returns."""
    s = run.scenario
    requested = _edd(run, o) + exponential(o.u[D.RETURN_DELAY], s.buyers.return_request_days)
    fraud = run.claimant(o) == FRAUDSTER
    if not fraud:
        run.harm(requested, o, o.price)  # the buyer hands back an item paid for
    atoz.return_item(run, o, requested, requested, False, s.incidents.resale_share.remorse, fraud=fraud)


def routine_question(run: Books, o) -> None:
    """A pre- or post-sale question: desk load, and negative feedback if answered slowly."""
    b = run.scenario.buyers
    chance = run.scenario.incidents.base_negative_feedback

    at = o.t + exponential(o.u[D.CONTACT_DELAY], b.contact_delay_days)
    # a buyer whose feedback uniform is above the chance even after a slow reply leaves none: the reply
    # then leads to nothing the desk must come back for (the queue desk books no event for it; the
    # reference desk calls `after` anyway, which books nothing)
    if _no_feedback_whatever_reply(run, o, chance):
        run.desk.send(run, o, at, None)
        return

    def after(msg: float, reply: float) -> None:
        run.feedback(min(reply, msg + 2.0), o, chance * _slow(run, msg, reply))

    run.desk.send(run, o, at, after)


def product_safety(run: Books, o) -> None:
    run.env.process(pdpi.claim_process(run, o, fraud=False))


_FLOWS = {
    "lost_in_transit": lost_in_transit,
    "late_delivery": late_delivery,
    "damaged_in_transit": defective,
    "not_as_described": defective,
    "wrong_item": defective,
    "remorse_return": remorse_return,
    "product_safety": product_safety,
    "routine_question": routine_question,
    "out_of_stock": out_of_stock,
}
