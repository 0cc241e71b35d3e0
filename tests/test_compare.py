"""compare(): the JSON contract, the summary table, common random numbers."""

from __future__ import annotations

import json

import pytest

from azsim import Comparison, compare, load_scenario, scenario_from_dict
from azsim.stats import half_width

SMALL = {"horizon_days": 90, "market": {"orders_per_day": 30}}


@pytest.fixture(scope="module")
def small() -> Comparison:
    return compare(scenario_from_dict(SMALL), replications=4, seed=7)


def _is_stat(node, delta=False):
    keys = {"mean", "ci95", "pct", "n", "baseline_mean", "policy_mean"} if delta else {"mean", "ci95"}
    return isinstance(node, dict) and set(node) == keys


def _leaves(node):
    if isinstance(node, dict) and "ci95" in node:
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from _leaves(v)


def test_json_top_level_contract(small):
    d = small.to_dict()
    for key in ("azsim_version", "scenario", "seed", "replications", "policies", "delta"):
        assert key in d
    assert d["seed"] == 7 and d["replications"] == 4
    assert len(d["scenario"]["hash"]) == 16
    assert list(d["policies"]) == ["old", "new"]
    assert list(d["delta"]) == ["new"]
    json.dumps(d, allow_nan=False)  # strict JSON: no NaN anywhere


def test_json_policy_contract(small):
    d = small.to_dict()
    for pol in d["policies"].values():
        for party in ("seller_cost", "amazon_cost", "insurer_cost", "buyer_uncompensated"):
            assert _is_stat(pol[party]["total"])
            assert all(_is_stat(v) for v in pol[party]["by_category"].values())
        counts = pol["counts"]
        for key in ("orders", "messages", "chargebacks", "negative_feedback"):
            assert _is_stat(counts[key])
        assert set(counts["incidents"]) >= {"lost_in_transit", "late_delivery", "damaged_in_transit",
                                            "not_as_described", "wrong_item", "remorse_return", "product_safety",
                                            "fraud_claim"}
        assert counts["claims"]["by_type"] and counts["claims"]["by_outcome"]
        assert _is_stat(pol["odr"]["mean"]) and _is_stat(pol["odr"]["max"])
        assert _is_stat(pol["suspended_days"])
        assert _is_stat(pol["resolution_days"]["all"])
        assert _is_stat(pol["compensation_days"]["all"]["p90"])
    for leaf in _leaves(d["delta"]):
        assert _is_stat(leaf, delta=True)
    ci = d["policies"]["old"]["seller_cost"]["total"]["ci95"]
    m = d["policies"]["old"]["seller_cost"]["total"]["mean"]
    assert ci[0] <= m <= ci[1]


def test_delta_is_the_paired_difference(small):
    d = small.to_dict()
    new = d["policies"]["new"]["seller_cost"]["total"]["mean"]
    old = d["policies"]["old"]["seller_cost"]["total"]["mean"]
    delta = d["delta"]["new"]["seller_cost"]["total"]
    assert delta["mean"] == pytest.approx(new - old, abs=1e-4)
    assert delta["pct"] == pytest.approx(100 * (new - old) / abs(old), rel=1e-4)
    per_rep = small.deltas("new", "seller_cost.total")
    assert len(per_rep) == 4 and per_rep.mean() == pytest.approx(delta["mean"], abs=1e-4)


def test_summary_frame(small):
    table = small.summary()
    assert "Seller cost (USD/yr)" in table.index
    assert {"old", "new", "new-old", "new-old ci95 low", "new-old ci95 high", "new-old change %"} <= set(table.columns)
    assert table.loc["Seller cost (USD/yr)", "new-old"] == pytest.approx(
        table.loc["Seller cost (USD/yr)", "new"] - table.loc["Seller cost (USD/yr)", "old"], abs=1e-3)


def test_different_seeds_differ_and_one_replication_has_no_ci():
    s = scenario_from_dict(SMALL)
    a = compare(s, replications=1, seed=1).to_dict()
    b = compare(s, replications=1, seed=2).to_dict()
    assert a["policies"]["old"]["seller_cost"]["total"] != b["policies"]["old"]["seller_cost"]["total"]
    assert a["policies"]["old"]["seller_cost"]["total"]["ci95"] is None


def test_a_third_policy_in_yaml_without_code(tmp_path):
    f = tmp_path / "three.yaml"
    f.write_text(
        "horizon_days: 60\nmarket: {orders_per_day: 20}\n"
        "policies:\n  old: {preset: old}\n  new: {preset: new}\n"
        "  new_500: {preset: new, amazon_pays_threshold: 500, message_reply_hours: 72}\n"
    )
    s = load_scenario(f)
    assert s.policies["new_500"].amazon_pays_threshold == 500
    assert s.policies["new_500"].pdpi_handler == "amazon"
    d = compare(s, replications=2, seed=1).to_dict()
    assert list(d["policies"]) == ["old", "new", "new_500"]
    assert list(d["delta"]) == ["new", "new_500"]


def test_common_random_numbers_narrow_the_paired_ci_at_least_3x():
    s = load_scenario("scenarios/default.yaml")
    crn = compare(s, replications=20, seed=20210901)
    indep = compare(s, replications=20, seed=20210901, common_random_numbers=False)
    h_crn = half_width(crn.deltas("new", "seller_cost.total"))
    h_ind = half_width(indep.deltas("new", "seller_cost.total"))
    assert h_ind >= 3 * h_crn, (h_crn, h_ind)


def test_replications_auto_reaches_the_precision_or_says_capped():
    s = scenario_from_dict({"horizon_days": 90, "market": {"orders_per_day": 30},
                            "policies": {"old": {}, "new": {"pdpi_claim_propensity": 1.0}},
                            "incidents": {"product_safety": 0.01}})
    loose = compare(s, replications="auto", precision=0.5, max_replications=40, seed=3)
    assert loose.rule["mode"] == "auto" and loose.rule["converged"] is True
    d = loose.deltas("new", "seller_cost.total")
    assert len(d) == loose.replications >= 10  # the first 5, then at least the 5 of the look-ahead
    assert half_width(d) <= 0.5 * abs(d.mean())
    capped = compare(s, replications="auto", precision=0.001, max_replications=7, seed=3)
    assert capped.replications == 7 and capped.rule["converged"] is False
    assert capped.to_dict()["replication_rule"]["converged"] is False
    # the auto path takes the same replications as a fixed run of the same length
    fixed = compare(s, replications=7, seed=3)
    assert fixed.rule == {"mode": "fixed"}
    assert (fixed.deltas("new", "seller_cost.total") == capped.deltas("new", "seller_cost.total")).all()
