"""Property damage / personal injury (PD/PI) claims under the old and the new flow.

Old flow (``policy.pdpi_handler: seller``), as Amazon's announcement describes it (docs/sources.md [1]):
1. A safety incident harms the buyer (``incidents.product_safety``; amount lognormal,
   ``incidents.pdpi_amount``) some days after delivery (``incidents.use_days_before_harm``).
2. The buyer contacts the seller directly (``policy.pdpi_claim_propensity``, after
   ``buyers.pdpi_report_delay_days``). Amazon takes no part; no timer applies.
3. The seller answers (``seller.claims.response_rate``) and settles after
   ``litigation.settlement_days`` (a lognormal delay, stream ``D.SETTLE_DELAY``; insurer above
   the deductible), or refuses a claim it recognises as fraudulent
   (``litigation.seller_detects_fraud``).
4. Ignored or refused buyers sue (``litigation.rate``); both sides pay legal costs; the buyer
   wins with ``litigation.buyer_win_if_valid`` / ``_if_fraud`` after ``days_to_judgement``
   (lognormal, stream ``D.JUDGE_DELAY``). Otherwise the buyer carries the loss.

New flow (``pdpi_handler: amazon``), Amazon's rules of 1 Sep 2021 (docs/sources.md [1]-[4]):
1. The buyer reports to Amazon within ``policy.pdpi_report_window_days`` (90).
2. Screening rejects fraudulent claims (``policy.screening_recall``) and some valid ones
   (``policy.screening_false_positive``).
3. Amount <= ``policy.amazon_pays_threshold``: Amazon pays the buyer after
   ``policy.amazon_payment_days`` (lognormal, stream ``D.PAY_DELAY``); if the seller is insured
   and proves it within ``policy.insurance_proof_days`` (7), Amazon bears the cost; otherwise
   the seller reimburses Amazon and may appeal within 30 days (``seller.disputes``).
4. Amount above the threshold: the seller (or insurer) must answer within
   ``policy.seller_response_days``; payment comes ``policy.seller_path_resolution_days``
   (lognormal, stream ``D.SELLER_PATH_DELAY``) after the report. If it pays, done. If it is
   silent or refuses a claim Amazon deems valid, Amazon pays
   (``policy.amazon_pays_if_seller_fails``) and pursues the seller (``policy.amazon_recovery_rate``);
   a dispute is reviewed again; unless it succeeds (``policy.dispute_success_if_fraud`` /
   ``_if_valid`` x evidence quality) the seller pays.
5. Every payment is capped at ``policy.damages_cap`` ($1M).
A fraudulent attempt (``policy.fraud_attempt_rate``) follows the same steps with no harm; what
it is paid goes to the ``fraudster`` party.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..ledger import AMAZON, BUYER, CAT, FRAUDSTER, LEGAL
from ..rng import exponential
from ..world import D

if TYPE_CHECKING:
    from ..books import Books  # the bookkeeping interface; flows never import the engine

_COMP = CAT["pdpi_compensation"]
_REIMB = CAT["pdpi_reimbursement"]
_LEGAL = CAT["legal_costs"]


def claim_process(run: Books, o, fraud: bool):
    """SimPy process: from the incident to the end of the PD/PI claim."""
    s, p, u, env = run.scenario, run.policy, o.u, run.env
    harm_at = o.t + s.market.delivery_days + exponential(u[D.HARM_DELAY], s.incidents.use_days_before_harm)
    amount = min(o.amount, p.damages_cap)
    if not fraud:
        run.harm(harm_at, o, o.amount)
        if u[D.PDPI_CLAIM] >= p.pdpi_claim_propensity:
            return  # the harmed buyer never claims and carries the loss
    report_at = harm_at + exponential(u[D.PDPI_DELAY], s.buyers.pdpi_report_delay_days)
    yield env.timeout(report_at - env.now)
    claimant = FRAUDSTER if fraud else BUYER
    if p.pdpi_handler == "seller":
        _old_flow(run, o, fraud, claimant, amount, harm_at, report_at)
    else:
        _new_flow(run, o, fraud, claimant, amount, harm_at, report_at)


def _seller_or_insurer_pays(run: Books, o, t: float, amount: float, payee: int, category: int,
                            occurred: float) -> tuple[float, float]:
    """The seller pays ``amount``, its insurer (if insured for the incident at ``occurred``) the insured
    part: see :meth:`azsim.insurance.Cover.pay`."""
    return run.cover.pay(o, t, amount, payee, category, occurred)


def _wants_dispute(run: Books, o, fraud: bool) -> bool:
    d = run.scenario.seller.disputes
    if d.strategy == "always":
        return True
    if d.strategy == "when_fraud_suspected":
        return fraud and o.u[D.SUSPECT] < d.evidence_quality
    return False


def _dispute_succeeds(run: Books, o, fraud: bool) -> bool:
    p, d = run.policy, run.scenario.seller.disputes
    chance = (p.dispute_success_if_fraud if fraud else p.dispute_success_if_valid) * d.evidence_quality
    return o.u[D.DISPUTE] < chance


def _old_flow(run: Books, o, fraud, claimant, amount, harm_at, report_at) -> None:
    s, u = run.scenario, o.u
    lit = s.litigation
    responds = u[D.RESPOND] < s.seller.claims.response_rate
    if responds:
        answer_at = report_at + exponential(u[D.RESPONSE_DELAY], s.seller.claims.response_days)
        run.staff_time(answer_at, o, s.seller.claims.handling_minutes)
    refuses = fraud and u[D.SUSPECT] < lit.seller_detects_fraud
    if responds and not refuses:
        paid_at = report_at + lit.settlement_days.draw(u[D.SETTLE_DELAY])
        _seller_or_insurer_pays(run, o, paid_at, amount, claimant, _COMP, harm_at)
        run.paid(paid_at, harm_at, "pdpi")
        run.record_claim(o, "pdpi", "fraud" if fraud else "valid", report_at, paid_at, "settled_by_seller")
        return
    if u[D.LITIGATE] >= lit.rate:
        run.record_claim(o, "pdpi", "fraud" if fraud else "valid", report_at, report_at, "abandoned")
        return
    judged = report_at + lit.days_to_judgement.draw(u[D.JUDGE_DELAY])
    run.cover.defend(o, judged, lit.seller_legal_cost, harm_at)  # the insurer's, outside the limits
    run.ledger.book(judged, o.id, claimant, LEGAL, _LEGAL, lit.buyer_legal_cost)
    win = lit.buyer_win_if_fraud if fraud else lit.buyer_win_if_valid
    if u[D.JUDGEMENT] < win:
        _seller_or_insurer_pays(run, o, judged, amount, claimant, _COMP, harm_at)
        run.paid(judged, harm_at, "pdpi")
        outcome = "won_in_court"
    else:
        outcome = "lost_in_court"
    run.record_claim(o, "pdpi", "fraud" if fraud else "valid", report_at, judged, outcome)


def _new_flow(run: Books, o, fraud, claimant, amount, harm_at, report_at) -> None:
    s, p, u = run.scenario, run.policy, o.u
    reason = "fraud" if fraud else "valid"
    if report_at - harm_at > p.pdpi_report_window_days:
        run.record_claim(o, "pdpi", reason, report_at, report_at, "out_of_window")
        return
    screen_out = p.screening_recall if fraud else p.screening_false_positive
    if u[D.SCREEN] < screen_out:
        run.record_claim(o, "pdpi", reason, report_at, report_at, "screened_out")
        return
    claims = s.seller.claims
    if amount <= p.amazon_pays_threshold:
        paid_at = report_at + p.amazon_payment_days.draw(u[D.PAY_DELAY])
        run.ledger.book(paid_at, o.id, AMAZON, claimant, _COMP, amount)
        run.paid(paid_at, harm_at, "pdpi")
        # proof of cover for the incident: at once with a certificate on file, else within the deadline
        proof_at = run.cover.proof(o, report_at, harm_at)
        if proof_at is not None:
            if not s.seller.insurance.certificate_on_file:
                run.staff_time(proof_at, o, claims.handling_minutes)  # sending the certificate
            run.record_claim(o, "pdpi", reason, report_at, paid_at, "amazon_paid_insured_seller")
            return
        # no proof in time: Amazon withholds the amount from the seller, whose insurer (if any)
        # covers what exceeds the deductible
        seller_part, insurer_part = _seller_or_insurer_pays(run, o, paid_at, amount, AMAZON, _REIMB, harm_at)
        outcome = "amazon_paid_seller_reimbursed"
        if _wants_dispute(run, o, fraud):
            run.staff_time(paid_at, o, s.seller.disputes.handling_minutes)
            if _dispute_succeeds(run, o, fraud):
                reversed_at = paid_at + p.appeal_window_days
                run.cover.reverse(o, reversed_at, seller_part, insurer_part, harm_at)
                outcome = "dispute_won"
        run.record_claim(o, "pdpi", reason, report_at, paid_at, outcome)
        return

    # above the threshold: the seller (or its insurer) must answer
    answer_days = exponential(u[D.RESPONSE_DELAY], claims.response_days)
    responds = u[D.RESPOND] < claims.response_rate and answer_days <= p.seller_response_days
    disputes = _wants_dispute(run, o, fraud)
    paid_at = report_at + p.seller_path_resolution_days.draw(u[D.SELLER_PATH_DELAY])
    if responds:
        run.staff_time(report_at + answer_days, o, claims.handling_minutes)
    if responds and not disputes:
        _seller_or_insurer_pays(run, o, paid_at, amount, claimant, _COMP, harm_at)
        run.paid(paid_at, harm_at, "pdpi")
        run.record_claim(o, "pdpi", reason, report_at, paid_at, "seller_paid")
        return
    if u[D.AMAZON_PAYS] >= p.amazon_pays_if_seller_fails:
        run.record_claim(o, "pdpi", reason, report_at, paid_at, "unpaid")
        return
    run.ledger.book(paid_at, o.id, AMAZON, claimant, _COMP, amount)
    run.paid(paid_at, harm_at, "pdpi")
    if disputes:
        run.staff_time(paid_at, o, s.seller.disputes.handling_minutes)
        if _dispute_succeeds(run, o, fraud):
            run.record_claim(o, "pdpi", reason, report_at, paid_at, "dispute_won")
            return
    if u[D.RECOVERY] < p.amazon_recovery_rate:
        _seller_or_insurer_pays(run, o, paid_at + p.appeal_window_days, amount, AMAZON, _REIMB, harm_at)
        outcome = "amazon_paid_recovered"
    else:
        outcome = "amazon_paid_unrecovered"
    run.record_claim(o, "pdpi", reason, report_at, paid_at, outcome)
