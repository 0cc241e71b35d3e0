"""The world: common random numbers across policies, practice levels and added policies."""

from __future__ import annotations

from collections import Counter

import numpy as np

from azsim import scenario_from_dict
from azsim.rng import uniform_matrix, uniforms
from azsim.simulate import run_policy
from azsim.world import World


def _fates(s, seed=4):
    out = {}
    for block in World(s, seed, 0).blocks():
        for day in block.incidents:
            for o in day:
                out[o.id] = (o.kind, o.price, o.u[0])
        for o in block.remorse.orders():
            out[o.id] = (o.kind, o.price, o.u[0])
    return out


def test_hashed_uniforms_are_uniform_and_keyed():
    ids = np.arange(200_000, dtype=np.uint64)
    u = uniforms(np.uint64(12345), ids, 3)
    assert 0.0 <= u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    assert np.histogram(u, bins=10, range=(0, 1))[0].min() > 19_000
    other_stream = uniforms(np.uint64(12345), ids, 4)
    other_key = uniforms(np.uint64(54321), ids, 3)
    assert abs(np.corrcoef(u, other_stream)[0, 1]) < 0.01 and abs(np.corrcoef(u, other_key)[0, 1]) < 0.01
    m = uniform_matrix(np.uint64(12345), ids[:100], 8)
    assert np.array_equal(m[:, 3], u[:100])


def test_world_is_a_pure_function_of_scenario_seed_and_replication():
    s = scenario_from_dict({"horizon_days": 60})
    assert _fates(s) == _fates(s)
    assert _fates(s, seed=4) != _fates(s, seed=5)


def test_a_practice_level_only_moves_orders_in_its_own_incident_slot():
    good = scenario_from_dict({"horizon_days": 120, "seller": {"packaging_quality": 0.9}})
    poor = scenario_from_dict({"horizon_days": 120, "seller": {"packaging_quality": 0.2}})
    a, b = _fates(good), _fates(poor)
    changed = {i for i in a.keys() | b.keys() if a.get(i) != b.get(i)}
    assert changed  # the poorer packer has more damage...
    assert all((a.get(i) or b.get(i))[0] == "damaged_in_transit" for i in changed)  # ...and nothing else moves
    kinds = Counter(k for k, _, _ in b.values())
    assert kinds["damaged_in_transit"] > Counter(k for k, _, _ in a.values())["damaged_in_transit"]


def test_adding_a_policy_changes_nothing_for_the_others():
    base = {"horizon_days": 120, "market": {"orders_per_day": 80}}
    two = scenario_from_dict(base)
    three = scenario_from_dict({**base, "policies": {"old": {}, "new": {},
                                                     "fraudy": {"preset": "new", "fraud_attempt_rate": 0.01}}})
    for name in ("old", "new"):
        a, b = run_policy(two, name, 9, 0), run_policy(three, name, 9, 0)
        assert (a.ledger.net_cents() == b.ledger.net_cents()).all()
        assert a.counts == b.counts
    assert run_policy(three, "fraudy", 9, 0).counts["incidents.fraud_claim"] > 50


def test_account_level_draws_do_not_reuse_order_draws():
    w = World(scenario_from_dict({"horizon_days": 30}), 1, 0)
    assert w.account_key != w.key
    days = np.arange(30, dtype=np.uint64)
    assert not np.array_equal(uniforms(w.account_key, days, 0), uniforms(w.key, days, 0))
