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
        {"market": {"fba_share": 0.5}, "seller": {"returns": {"authorise_within_48h": 0.3, "refund_delay_days": 4}}},
        {"policies": {"new": {"auto_grant_unauthorised_return": False, "refund_deadline_days": 0.5}}},
        {"incidents": {"return_fraud_share": 0.5, "remorse_return": 0.3}, "account_health": {"odr_limit": 0.001}},
        {"market": {"price": {"median": 0.5, "sigma": 3.0}}},  # free items: no referral fee to credit
        {"policies": {"new": {"auto_grant_unauthorised_return": False}},
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
