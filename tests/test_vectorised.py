"""The vectorised buyer-remorse returns equal the scalar reference flow, entry by entry."""

from __future__ import annotations

import numpy as np
import pytest

from azsim import scenario_from_dict
from azsim.simulate import run_policy


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"market": {"fba_share": 0.5}, "seller": {"returns": {"authorise_within_48h": 0.3, "refund_delay_days": 4}},
         "policies": {"old": {"auto_authorise_returns": False}, "new": {"auto_authorise_returns": False}}},
        {"policies": {"new": {"auto_grant_unauthorised_return": False, "auto_authorise_returns": False,
                              "refund_deadline_business_days": 0.5}}},
        # late refunds: many buyers claim "returned but not refunded" (the scalar path), and their
        # negative feedback costs sales (the conversion effect reads every feedback of both paths)
        {"buyers": {"late_refund_claim": 0.6}, "seller": {"returns": {"refund_delay_days": 3.0}},
         "market": {"start_weekday": 3, "feedback_effect": {"sales_loss_per_point": 0.02}},
         "incidents": {"base_negative_feedback": 0.02}},
        {"buyers": {"late_refund_claim": 1.0},
         "seller": {"returns": {"refund_delay_days": 2.0, "authorise_within_48h": 0.5}},
         "policies": {"old": {"auto_authorise_returns": False},
                      "new": {"auto_authorise_returns": False, "auto_grant_unauthorised_return": False,
                              "refund_deadline_business_days": 1.5}}},
        {"incidents": {"return_fraud_share": 0.5, "remorse_return": 0.3}, "account_health": {"odr": {"limit": 0.001}}},
        # seller-fulfilled and category restrictions: only some of a day's remorse returns are placed
        {"market": {"fba_share": 0.5}, "account_health": {
            "late_shipment": {"limit": 0.0, "min_events": 0, "consecutive_reviews": 1, "action_probability": 0.2},
            "valid_tracking": {"limit": 1.0, "consecutive_reviews": 1, "action_probability": 0.5}}},
        {"market": {"price": {"median": 0.5, "sigma": 3.0}}},  # free items: no referral fee to credit
        {"policies": {"new": {"auto_grant_unauthorised_return": False, "auto_authorise_returns": False}},
         "seller": {"returns": {"authorise_within_48h": 0}}},
    ],
)
def test_vectorised_remorse_returns_match_the_scalar_flow(overrides):
    s = scenario_from_dict({"horizon_days": 150, "market": {"orders_per_day": 40}, **overrides})
    for policy in s.policy_names:
        fast = run_policy(s, policy, 3, 0)
        slow = run_policy(s, policy, 3, 0, vectorised=False)
        assert (fast.ledger.net_cents() == slow.ledger.net_cents()).all()
        assert fast.counts == slow.counts
        assert fast.health == slow.health
        key = ["order", "category", "payer", "payee", "amount"]
        a = fast.ledger.to_frame().sort_values(key + ["t"]).reset_index(drop=True)
        b = slow.ledger.to_frame().sort_values(key + ["t"]).reset_index(drop=True)
        assert (a[key] == b[key]).all().all()
        assert np.allclose(a["t"], b["t"], rtol=0, atol=1e-9)
        if "late_refund_claim" in overrides.get("buyers", {}):
            assert fast.counts["late_refund_claims"] > 10  # the late-refund claim path was exercised
            assert fast.ledger.cost("seller").get("lost_profit_feedback", 0) > 0
