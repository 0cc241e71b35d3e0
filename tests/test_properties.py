"""Invariants, checked on many random scenarios with hypothesis."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azsim import compare, scenario_from_dict
from azsim.comparison import summarise_run
from azsim.ledger import CATEGORIES, PARTIES
from azsim.simulate import run_policy

rate = st.floats(0.0, 0.05)


@st.composite
def scenarios(draw):
    data = {
        "horizon_days": draw(st.integers(20, 90)),
        "market": {
            "orders_per_day": draw(st.floats(5, 60)),
            "fba_share": draw(st.sampled_from([0.0, 0.5, 1.0])),
            "price": {"median": draw(st.floats(5, 200)), "sigma": draw(st.floats(0, 1.2))},
            "shipping_charge": draw(st.sampled_from([0.0, 4.99])),
        },
        "incidents": {
            "lost_in_transit": draw(rate),
            "late_delivery": draw(rate),
            "damaged_in_transit": {"best": 0.0, "worst": draw(rate)},
            "not_as_described": {"best": 0.0, "worst": draw(rate)},
            "wrong_item": draw(rate),
            "remorse_return": draw(st.floats(0, 0.2)),
            "product_safety": draw(st.floats(0, 0.01)),
            "routine_question": draw(rate),
            "out_of_stock": draw(rate),
        },
        "buyers": {
            "contact_seller_first": draw(st.floats(0, 1)),
            "escalate_to_atoz": draw(st.floats(0, 1)),
            "chargeback": draw(st.floats(0, 1)),
        },
        "seller": {
            "messages": {"reply_rate": draw(st.floats(0, 1))},
            "support": {"staff": draw(st.integers(1, 3))},
            "out_of_stock": {"handling": draw(st.sampled_from(["cancel", "ship_late"]))},
            "insurance": {"carry": draw(st.sampled_from(["always", "when_required", "never"]))},
            "disputes": {"strategy": draw(st.sampled_from(["never", "when_fraud_suspected", "always"]))},
        },
        "policies": {
            "old": {"preset": "old", "fraud_attempt_rate": draw(st.floats(0, 0.01))},
            "new": {"preset": "new", "fraud_attempt_rate": draw(st.floats(0, 0.01)),
                    "amazon_pays_threshold": draw(st.sampled_from([0.0, 500.0, 1000.0, 5000.0]))},
        },
    }
    return scenario_from_dict(data)


PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(s=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_money_is_conserved_to_the_cent(s, seed):
    for name in s.policy_names:
        result = run_policy(s, name, seed, 0)
        net = result.ledger.net_cents()
        assert net.dtype == np.int64
        # every cent paid in a category is received by someone in that category
        assert (net.sum(axis=0) == 0).all()
        # each party's net cost is what it paid out minus what it received, entry by entry
        frame = result.ledger.to_frame()
        assert (frame["amount"] > 0).all()
        for party in ("seller", "amazon", "insurer", "buyer"):
            row = net[PARTIES.index(party)]
            paid = frame.loc[frame.payer == party, "amount"].sum()
            received = frame.loc[frame.payee == party, "amount"].sum()
            assert abs(row.sum() / 100 - (paid - received)) < 0.005


@PROPS
@given(s=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_summary_totals_equal_their_categories(s, seed):
    result = run_policy(s, "new", seed, 1)
    m = summarise_run(result, s)
    for key in ("seller_cost", "amazon_cost", "insurer_cost", "buyer_uncompensated"):
        parts = sum(v for k, v in m.items() if k.startswith(key + ".by_category."))
        assert abs(parts - m[key + ".total"]) < 1e-6 * max(1.0, abs(parts))
    assert set(CATEGORIES) >= {k.rsplit(".", 1)[1] for k in m if ".by_category." in k}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_same_scenario_and_seed_give_identical_json(s, seed):
    a = compare(s, replications=2, seed=seed).to_json()
    b = compare(s, replications=2, seed=seed).to_json()
    assert a == b


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_identical_policies_give_exactly_zero_difference(s, seed):
    same = s.with_overrides({})
    data = same.to_dict()
    data["policies"] = {"a": data["policies"]["new"], "b": data["policies"]["new"]}
    twin = scenario_from_dict(data)
    delta = compare(twin, replications=3, seed=seed).to_dict()["delta"]["b"]

    def leaves(node):
        if isinstance(node, dict) and "ci95" in node:
            yield node
        elif isinstance(node, dict):
            for v in node.values():
                yield from leaves(v)

    found = list(leaves(delta))
    assert found
    for leaf in found:
        assert leaf["mean"] in (0.0, None)
        assert leaf["ci95"] in ([0.0, 0.0], None)
