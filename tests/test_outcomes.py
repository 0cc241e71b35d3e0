"""Every outcome of the A-to-z, chargeback and PD/PI flows is reachable, and no other exists.

A flow branch that can never be taken (a condition that is always false after a change) would
silently drop an outcome from every result; this test reaches each at least once in a few
scenarios built to visit them.
"""

from __future__ import annotations

from collections import defaultdict

from azsim import scenario_from_dict
from azsim.simulate import run_policy

ATOZ = {"withdrawn", "refunded_in_review", "denied", "granted_seller_funded", "granted_amazon_funded",
        "reversed_on_appeal"}
CHARGEBACK = {"denied", "granted_seller_funded"}
PDPI_OLD = {"settled_by_seller", "abandoned", "won_in_court", "lost_in_court"}
PDPI_NEW = {"out_of_window", "screened_out", "amazon_paid_insured_seller", "amazon_paid_seller_reimbursed",
            "dispute_won", "seller_paid", "unpaid", "amazon_paid_recovered", "amazon_paid_unrecovered"}

BUSY = {
    "horizon_days": 240,
    "market": {"orders_per_day": 80.0},
    "incidents": {"lost_in_transit": 0.02, "late_delivery": 0.05, "product_safety": 0.004,
                  "pdpi_amount": {"median": 900.0, "sigma": 1.2},
                  "not_as_described": {"best": 0.03, "worst": 0.03}},
    "buyers": {"chargeback": 0.3, "pdpi_report_delay_days": 40.0, "withdraw_when_refunded": 0.5,
               "contact_seller_first": 0.5},
    "litigation": {"rate": 0.6},
    "seller": {"messages": {"reply_rate": 0.6}, "claims": {"response_rate": 0.6, "refund_on_claim": 0.6},
               "disputes": {"strategy": "always", "evidence_quality": 0.9}},
}


def _outcomes(data: dict, reps: int = 2) -> dict[str, set[str]]:
    s = scenario_from_dict(data)
    seen: dict[str, set[str]] = defaultdict(set)
    for name in s.policy_names:
        for rep in range(reps):
            for c in run_policy(s, name, 7, rep).claims:
                seen[f"{c.kind}:{s.policies[name].pdpi_handler}" if c.kind == "pdpi" else c.kind].add(c.outcome)
    return seen


def test_every_claim_outcome_is_reached_and_no_unknown_one_appears():
    policies = {"old": {"preset": "old", "fraud_attempt_rate": 0.002},
                "new": {"preset": "new", "fraud_attempt_rate": 0.002, "amazon_pays_if_seller_fails": 0.8,
                        "amazon_recovery_rate": 0.6}}
    seen: dict[str, set[str]] = defaultdict(set)
    for insurance in ({"carry": "always", "proof_delay_days": 6.0}, {"carry": "never"}):
        for strategy in ("always", "when_fraud_suspected"):
            data = {**BUSY, "policies": policies,
                    "seller": {**BUSY["seller"], "insurance": insurance,
                               "disputes": {"strategy": strategy, "evidence_quality": 0.9}}}
            for k, v in _outcomes(data).items():
                seen[k] |= v
    assert seen["atoz"] == ATOZ, ATOZ ^ seen["atoz"]
    assert seen["chargeback"] == CHARGEBACK, CHARGEBACK ^ seen["chargeback"]
    assert seen["pdpi:seller"] == PDPI_OLD, PDPI_OLD ^ seen["pdpi:seller"]
    assert seen["pdpi:amazon"] == PDPI_NEW, PDPI_NEW ^ seen["pdpi:amazon"]
