"""The standard A-to-z Guarantee flow, chargebacks and returns (Amazon's rules: docs/sources.md [13]-[26]).

Step list (each step names the parameter behind it):
1. The buyer contacts the seller (``buyers.contact_seller_first``); the seller must answer within
   ``policy.message_reply_hours`` (48 h) or authorise a return within
   ``policy.return_authorisation_hours`` (48 h).
2. An unresolved buyer may file (``buyers.escalate_to_atoz``) from
   ``policy.claim_eligible_after_edd_days`` (3) after the latest EDD for items not received,
   or once the 48 h to answer a message or authorise a return have passed for items that
   arrived, until ``policy.claim_window_days`` (90) after the EDD.
3. Automatic grant: no valid tracking, a message unanswered for 48 h, a return not authorised
   within 48 h. Otherwise the seller may refund at once (``seller.claims.refund_on_claim``);
   Amazon may ask the seller for information (``policy.info_request_rate``) with
   ``policy.info_response_hours`` to answer; then Amazon reviews
   (``policy.review_grant_rate``).
4. Outcomes: withdrawn (no ODR hit), refunded in review (ODR hit), denied, granted and
   seller-funded (debit + ODR hit), granted and Amazon-funded (Buy Shipping protection).
5. Seller appeal within ``policy.appeal_window_days`` (30); success reverses the debit.
6. Chargebacks: the seller answers within 7 days; service chargebacks (not received) are on
   the seller.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..ledger import AMAZON, BUYER, CARRIER, CAT, FRAUDSTER, GOODS, SELLER
from ..rng import exponential
from ..world import D
from .returns import refund_deadline_scalar

if TYPE_CHECKING:
    from ..books import Books  # the bookkeeping interface; flows never import the engine

_ATOZ = CAT["atoz_claim"]
_REVERSAL = CAT["appeal_reversal"]
_CHARGEBACK = CAT["chargeback"]
_RETURN_SHIPPING = CAT["return_shipping"]
_RECOVERED = CAT["recovered_goods"]

CHARGEBACK_RESPONSE_DAYS = 7.0


def claim(run: Books, o, reason: str, filed: float, incident_at: float, auto: bool = False,
          protected: bool = False, arrives: float = math.inf) -> str:
    """File an A-to-z claim on order ``o`` at ``filed``; pay, record and return its outcome.

    ``auto``: a rule grants it without review. ``protected``: Buy Shipping protection makes a
    grant Amazon-funded. ``arrives``: a late item that turns up before the decision lets the
    buyer withdraw.
    """
    p, u, c = run.policy, o.u, run.scenario.seller.claims
    amount = o.paid
    if auto:
        decided = filed
        outcome = "granted_seller_funded"
    else:
        responds = u[D.RESPOND] < c.response_rate
        respond_at = filed + exponential(u[D.RESPONSE_DELAY], c.response_days)
        if responds:
            run.staff_time(respond_at, o, c.handling_minutes)
        decided = filed + p.review_days
        if arrives <= decided and u[D.WITHDRAW] < run.scenario.buyers.withdraw_when_refunded:
            decided = max(arrives, filed)
            outcome = "withdrawn"
        elif u[D.INFO_REQUEST] < p.info_request_rate and (
            not responds or respond_at - filed > p.info_response_hours / 24.0
        ):
            decided = filed + p.info_response_hours / 24.0
            outcome = "granted_seller_funded"
        elif responds and respond_at <= decided and u[D.REFUND_ON_CLAIM] < c.refund_on_claim:
            decided = respond_at
            run.seller_refund(decided, o, amount, incident_at, to=run.claimant(o))
            withdrawn = u[D.WITHDRAW] < run.scenario.buyers.withdraw_when_refunded
            outcome = "withdrawn" if withdrawn else "refunded_in_review"
        elif u[D.REVIEW] < getattr(p.review_grant_rate, reason):
            outcome = "granted_amazon_funded" if (protected and p.buy_shipping_protection) else "granted_seller_funded"
        else:
            outcome = "denied"

    if outcome == "granted_seller_funded":
        run.seller_refund(decided, o, amount, incident_at, category=_ATOZ, to=run.claimant(o))
        reversed_at = _appeal(run, o, decided)
        if reversed_at is not None:
            run.ledger.book(reversed_at, o.id, AMAZON, SELLER, _REVERSAL, amount)
            outcome = "reversed_on_appeal"
    elif outcome == "granted_amazon_funded":
        run.ledger.book(decided, o.id, AMAZON, run.claimant(o), _ATOZ, amount)
        run.paid(decided, incident_at, "atoz")
    if outcome in ("granted_seller_funded", "refunded_in_review"):
        run.defect(decided, o)
    run.record_claim(o, "atoz", reason, filed, decided, outcome)
    if outcome == "denied" and arrives == math.inf:
        run.feedback(decided, o, run.scenario.buyers.negative_feedback.unresolved)
    return outcome


APPEAL_REVERSAL_DAYS = 7.0
"""Amazon reverses a grant within 7 days of a successful appeal (docs/sources.md [21])."""


def _appeal(run: Books, o, decided: float) -> float | None:
    """The seller appeals a seller-funded grant (dispute strategy ``always``) within the window.

    Returns the time the debit is reversed, or None if there is no appeal or it fails.
    """
    d = run.scenario.seller.disputes
    if d.strategy != "always":
        return None
    appeal_at = decided + exponential(o.u[D.APPEAL_DELAY], run.scenario.seller.claims.response_days)
    if appeal_at - decided > run.policy.appeal_window_days:
        return None
    run.staff_time(appeal_at, o, d.handling_minutes)
    if o.u[D.APPEAL] < run.policy.appeal_success_rate * d.evidence_quality:
        return appeal_at + APPEAL_REVERSAL_DAYS
    return None


def chargeback(run: Books, o, at: float, incident_at: float, service: bool) -> None:
    """The buyer disputes the card payment; the seller answers within 7 days or loses."""
    s = run.scenario.seller
    run.counts["chargebacks"] += 1
    u = o.u
    answer_days = exponential(u[D.RESPONSE_DELAY], s.claims.response_days)
    responds = u[D.RESPOND] < s.claims.response_rate and answer_days <= CHARGEBACK_RESPONSE_DAYS
    if responds:
        run.staff_time(at + answer_days, o, s.claims.handling_minutes)
    if not service and responds and u[D.CHARGEBACK_WIN] < s.disputes.evidence_quality:
        run.record_claim(o, "chargeback", "not_as_described", at, at + CHARGEBACK_RESPONSE_DAYS, "denied")
        return
    paid_at = at + CHARGEBACK_RESPONSE_DAYS
    run.ledger.book(paid_at, o.id, SELLER, run.claimant(o), _CHARGEBACK, o.paid)
    run.paid(paid_at, incident_at, "chargeback")
    run.defect(at, o)
    reason = "item_not_received" if service else "not_as_described"
    run.record_claim(o, "chargeback", reason, at, paid_at, "granted_seller_funded")


def unresolved(run: Books, o, reason: str, eligible: float, incident_at: float, auto: bool = False,
               fix=None, fix_at: float = math.inf, protected: bool = False, arrives: float = math.inf,
               feedback_factor: float = 1.0) -> None:
    """A buyer whose problem the seller has not solved: claim, chargeback, or give up.

    ``fix(t)`` is what the seller does if it acts late, at ``fix_at`` (a late reply or a late
    return authorisation), including the buyer's feedback on it; a buyer still waiting at that
    time takes it. ``feedback_factor`` scales the feedback when a late item turns up.
    """
    b, p = run.scenario.buyers, run.policy
    u = o.u
    edd = o.t + run.scenario.market.delivery_days
    if u[D.ESCALATE] < b.escalate_to_atoz:
        filed = eligible + exponential(u[D.CLAIM_DELAY], b.claim_delay_days)
        if filed <= edd + p.claim_window_days and filed < fix_at and filed < arrives:
            claim(run, o, reason, filed, incident_at, auto=auto, protected=protected, arrives=arrives)
            return
    if fix is not None and fix_at < math.inf:
        fix(fix_at)
        return
    if arrives < math.inf:  # a late item that turns up: nothing more than a late delivery
        run.feedback(arrives, o, b.negative_feedback.resolved * feedback_factor)
        return
    if u[D.CHARGEBACK] < b.chargeback:
        chargeback(run, o, max(eligible, edd), incident_at, service=(reason == "item_not_received"))
        return
    run.feedback(eligible, o, b.negative_feedback.unresolved)


def return_item(run: Books, o, requested: float, incident_at: float, seller_fault: bool, resale_share: float,
                authorised_at: float | None = None, fraud: bool = False, feedback_factor: float = 1.0) -> None:
    """The return flow: authorise (48 h rule), ship back, refund (deadline), restock.

    ``authorised_at`` is set when the seller authorised in a message reply; otherwise the
    seller's return practice decides (``seller.returns``). A request not authorised within
    ``policy.return_authorisation_hours`` lets the buyer file a claim that is granted
    automatically.
    """
    s, p, u = run.scenario, run.policy, o.u
    r = s.seller.returns
    window = p.return_authorisation_hours / 24.0
    if authorised_at is None:
        if p.auto_authorise_returns:  # Amazon authorises an in-policy request at once (US, Prepaid Return Labels)
            authorised_at = requested
        elif o.fba or u[D.AUTHORISE] < r.authorise_within_48h:
            authorised_at = requested + u[D.AUTH_DELAY] * min(window, 1.0)
        else:
            authorised_at = requested + window + exponential(u[D.AUTH_DELAY], r.late_authorisation_days)
    run.counts["returns"] += 1
    if authorised_at - requested > window and p.auto_grant_unauthorised_return:
        run.counts["returns_unauthorised_48h"] += 1

        def late_return(t: float) -> None:
            base = s.buyers.negative_feedback.resolved if seller_fault else s.incidents.base_negative_feedback
            chance = base * s.buyers.negative_feedback.slow_reply_factor
            run.feedback(t, o, chance)
            _ship_back(run, o, t, incident_at, seller_fault, resale_share, fraud, chance)

        unresolved(run, o, "return_issue", requested + window, incident_at, auto=True,
                   fix=late_return, fix_at=authorised_at)
        return
    fb = s.buyers.negative_feedback
    base = fb.resolved if seller_fault else s.incidents.base_negative_feedback
    if authorised_at - requested > window:  # authorised late: as slow as a late reply
        feedback_factor = max(feedback_factor, fb.slow_reply_factor)
    run.feedback(authorised_at, o, base * feedback_factor)
    _ship_back(run, o, authorised_at, incident_at, seller_fault, resale_share, fraud, base * feedback_factor)


def _ship_back(run: Books, o, authorised_at: float, incident_at: float, seller_fault: bool,
               resale_share: float, fraud: bool, feedback_chance: float) -> None:
    """The item travels back; the seller refunds (or Amazon does, at the seller's cost, at the deadline).

    ``feedback_chance`` is the chance of negative feedback already drawn for this return (the
    order's one feedback uniform): a buyer who claims over a late refund raises it to
    ``resolved`` x ``slow_reply_factor``, drawn on the same uniform, so an order gets at most
    one negative feedback.
    """
    s, p, u = run.scenario, run.policy, o.u
    m = s.market
    arrives = authorised_at + exponential(u[D.TRANSIT], s.buyers.return_transit_days)
    delay = 0.0 if o.fba else exponential(u[D.REFUND_DELAY], s.seller.returns.refund_delay_days)
    deadline = refund_deadline_scalar(arrives, p.refund_deadline_business_days, m.start_weekday)
    late = arrives + delay > deadline
    refund_at = deadline if late else arrives + delay  # past the deadline Amazon refunds, seller pays
    amount = o.paid if seller_fault else o.price
    buyer = FRAUDSTER if fraud else BUYER
    if late:
        run.counts["refunds_by_amazon_late"] += 1
    if late and u[D.LATE_REFUND_CLAIM] < s.buyers.late_refund_claim:
        # "returned but not refunded": the buyer files an A-to-z claim; Amazon grants it at once with
        # the refund it makes on the seller's behalf (seller-funded: an ODR defect)
        run.counts["late_refund_claims"] += 1
        run.seller_refund(refund_at, o, amount, incident_at, category=_ATOZ, to=buyer)
        run.defect(refund_at, o)
        run.record_claim(o, "atoz", "return_issue", refund_at, refund_at, "granted_seller_funded")
        fb = s.buyers.negative_feedback
        if u[D.NEG_FB] >= feedback_chance:  # not already negative over the return itself
            run.feedback(refund_at, o, fb.resolved * fb.slow_reply_factor)
    else:
        run.seller_refund(refund_at, o, amount, incident_at, compensation=seller_fault, to=buyer)
    label_payer = SELLER if seller_fault else buyer
    run.ledger.book(arrives, o.id, label_payer, CARRIER, _RETURN_SHIPPING, m.return_shipping_cost)
    if fraud:
        run.counts["return_fraud"] += 1
    else:
        run.ledger.book(arrives, o.id, GOODS, SELLER, _RECOVERED, o.price * m.cogs_share * resale_share)
    if not o.fba:
        run.staff_time(arrives, o, s.seller.returns.handling_minutes)


__all__ = ["claim", "chargeback", "unresolved", "return_item"]
