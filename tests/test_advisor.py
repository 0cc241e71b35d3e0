"""The practice advisor (azsim.advisor): what to fix first, and insure or not."""

from __future__ import annotations

import json

import numpy as np
import pytest

import azsim
from azsim.advisor import PRACTICES, advise, insurance_answer, practice_moves

SEED = 20210901
REPS = 8

GOOD_TRACKING = {  # already at the good level of "tracking_at_once"
    "upload_rate": PRACTICES["tracking_at_once"]["seller.tracking.upload_rate"],
    "upload_delay_days": PRACTICES["tracking_at_once"]["seller.tracking.upload_delay_days"],
    "buy_shipping_share": PRACTICES["tracking_at_once"]["seller.tracking.buy_shipping_share"],
}


def short_scenario(seller: dict | None = None, **top) -> azsim.Scenario:
    """The default seller over 120 days, PD/PI incidents 40x as frequent, no suspensions (tight CIs)."""
    data = {
        "name": "advisor-test",
        "horizon_days": 120,
        "incidents": {"product_safety": 0.002},
        "account_health": {"suspension_probability": 0.0, "uninsured_suspension_probability": 0.0},
        "seller": seller or {},
        **top,
    }
    return azsim.scenario_from_dict(data)


@pytest.fixture(scope="module")
def scenario():
    # listings clearly bad; tracking already good; messages, returns and packing at the defaults
    return short_scenario({"listing_accuracy": 0.0, "tracking": GOOD_TRACKING})


@pytest.fixture(scope="module")
def advice(scenario):
    return advise(scenario, replications=REPS, seed=SEED)


# ------------------------------------------------------------------------------------------------
# the simulator itself
# ------------------------------------------------------------------------------------------------
def test_practice_at_its_good_level_saves_exactly_zero_and_ranks_last(scenario, advice):
    assert practice_moves(scenario, "tracking_at_once") == {}
    rows = advice.practices[advice.practices["practice"] == "tracking_at_once"]
    assert sorted(rows["policy"]) == ["new", "old"]
    for _, row in rows.iterrows():
        assert (row["saving_mean"], row["saving_ci_low"], row["saving_ci_high"]) == (0.0, 0.0, 0.0)
    assert (rows["rank"] == len(PRACTICES)).all()
    assert advice.ranking[-1] == "tracking_at_once"


def test_clearly_bad_practice_ranks_first_with_a_positive_saving(advice):
    assert advice.ranking[0] == "accurate_listings"
    rows = advice.practices[advice.practices["practice"] == "accurate_listings"]
    assert (rows["rank"] == 1).all()
    assert (rows["saving_ci_low"] > 0).all()
    # ranks are 1..5, one per practice, the same on every policy's row
    ranks = advice.practices.groupby("practice")["rank"].agg(["min", "max"])
    assert (ranks["min"] == ranks["max"]).all() and sorted(ranks["min"]) == [1, 2, 3, 4, 5]


def test_savings_are_paired_differences_of_the_simulation(scenario, advice):
    base = azsim.compare(scenario, replications=REPS, seed=SEED)
    better = azsim.compare(scenario.with_overrides({"seller.listing_accuracy": 0.95}), replications=REPS, seed=SEED)
    row = advice.practices.set_index(["practice", "policy"]).loc[("accurate_listings", "new")]
    saving = base.values("new", "seller_cost.total") - better.values("new", "seller_cost.total")
    assert row["saving_mean"] == pytest.approx(saving.mean(), abs=1e-9)
    # the good level of an at-level practice is the scenario itself: rerunning it changes nothing
    same = azsim.compare(scenario.with_overrides({f"seller.tracking.{k}": v for k, v in GOOD_TRACKING.items()}),
                         replications=REPS, seed=SEED)
    np.testing.assert_array_equal(same.values("old", "seller_cost.total"), base.values("old", "seller_cost.total"))


def test_insurance_breakeven(advice):
    ins = advice.insurance.set_index("policy")
    assert list(advice.insurance["policy"]) == ["old", "new"]
    for policy in ("old", "new"):
        row = ins.loc[policy]
        assert row["breakeven_premium_mean"] > 0
        assert row["premium_mean"] == pytest.approx(1200.0, abs=0.05)  # $1,200 a year, booked monthly in cents
        # insured - uninsured = premium - break-even, to the cent
        lhs = row["cost_insured_mean"] - row["cost_uninsured_mean"]
        assert lhs == pytest.approx(row["premium_mean"] - row["breakeven_premium_mean"], abs=0.005)
        assert row["breakeven_premium_ci_low"] <= row["breakeven_premium_mean"] <= row["breakeven_premium_ci_high"]
    # Amazon pays small claims of an insured seller under the new rules: cover is worth more there
    assert ins.loc["new", "breakeven_premium_ci_low"] > 0
    assert ins.loc["new", "breakeven_premium_mean"] > ins.loc["old", "breakeven_premium_mean"]


def test_at_the_breakeven_premium_both_choices_cost_the_same(scenario, advice):
    breakeven = float(advice.insurance.set_index("policy").loc["new", "breakeven_premium_mean"])
    again = insurance_answer(scenario.with_overrides({"seller.insurance.premium_per_year": breakeven}),
                             replications=REPS, seed=SEED).set_index("policy").loc["new"]
    assert again["breakeven_premium_mean"] == pytest.approx(breakeven, abs=0.05)  # not a function of the premium
    # equal up to the cent rounding of the premium's monthly bookings (<= 5 x half a cent, x 365/120 per year)
    assert again["cost_insured_mean"] == pytest.approx(again["cost_uninsured_mean"], abs=0.08)


def test_report_and_json(advice):
    d = advice.to_dict()
    json.dumps(d, allow_nan=False)
    assert [p["practice"] for p in d["practices"]] == advice.ranking
    assert d["practices"][-1]["changes"] == {}
    assert d["practices"][0]["changes"] == {"seller.listing_accuracy": {"from": 0.0, "to": 0.95}}
    assert set(d["insurance"]) == {"old", "new"}
    text = advice.format()
    assert "Keep listings accurate" in text and "already at the good level" in text
    assert text.index("saving under new") < text.index("saving under old")
    assert text.count("Under new:") == 1 and text.count("Under old:") == 1


# ------------------------------------------------------------------------------------------------
# the arithmetic, with a stand-in for the simulator
# ------------------------------------------------------------------------------------------------
class FakeComparison:
    """Seller cost as a made-up function of the practice levels; replications differ by a shift."""

    def __init__(self, scenario: azsim.Scenario, replications: int):
        s = scenario.seller
        shift = np.arange(replications, dtype=float)
        cost = (1000 * (1 - s.listing_accuracy) + 500 * (1 - s.packaging_quality)
                + 300 * s.messages.reply_rate + 100 * s.returns.refund_delay_days)
        insured = s.insurance.carry == "always"
        self.premium = s.insurance.premium_per_year if insured else 0.0
        self.cost = {"old": cost + shift + self.premium + (0 if insured else 400),
                     "new": cost + 2 * shift + self.premium + (0 if insured else 900)}

    def values(self, policy, metric):
        if metric == "seller_cost.by_category.insurance_premium":
            return np.full(len(self.cost[policy]), self.premium)
        assert metric == "seller_cost.total"
        return self.cost[policy]


def test_arithmetic_ranking_and_one_run_per_distinct_scenario():
    sc = short_scenario({"listing_accuracy": 0.5, "packaging_quality": 0.9, "tracking": GOOD_TRACKING,
                         "support": {"staff": 3, "handling_minutes": 5.0}, "insurance": {"carry": "always"}})
    calls = []

    def run(scenario, replications, seed):
        calls.append(scenario.hash)
        assert (replications, seed) == (3, 7)
        return FakeComparison(scenario, replications)

    adv = advise(sc, replications=3, seed=7, run=run)
    assert len(calls) == len(set(calls)) == 1 + 4 + 1  # base (= insured) + 4 practices that move + uninsured
    sav = adv.practices.set_index(["practice", "policy"])["saving_mean"]
    assert sav[("accurate_listings", "new")] == pytest.approx(1000 * 0.45)
    assert sav[("packaging_and_stock", "old")] == pytest.approx(500 * 0.05)
    assert sav[("reply_to_messages", "new")] == pytest.approx(-300 * 0.04)  # costs money in this stand-in
    assert sav[("returns_on_time", "new")] == pytest.approx(100 * 1.0)
    # negative saving still ranks above "nothing to change"
    assert adv.ranking == ["accurate_listings", "returns_on_time", "packaging_and_stock", "reply_to_messages",
                           "tracking_at_once"]
    # never moved to a worse level than the scenario's own
    moves = adv.moves["reply_to_messages"]
    assert "seller.support.staff" not in moves and "seller.support.handling_minutes" not in moves
    assert moves["seller.support.work_days_per_week"] == (5, 7)
    ins = adv.insurance.set_index("policy")
    assert ins.loc["new", "breakeven_premium_mean"] == pytest.approx(900.0)
    assert ins.loc["old", "insuring_saves_mean"] == pytest.approx(400.0 - 1200.0)
    assert ins.loc["old", "insuring_saves_ci_high"] == pytest.approx(-800.0)  # paired: no spread
    assert "going without is cheaper" in adv.format()


def test_single_replication_gives_json_without_nan():
    sc = short_scenario({"tracking": GOOD_TRACKING})
    adv = advise(sc, replications=1, seed=1, run=lambda s, r, seed: FakeComparison(s, r))
    d = adv.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["practices"][0]["saving"]["new"]["ci95"] is None
    assert "[no CI]" in adv.format()


def test_moves_respect_better_levels_and_categories():
    sc = short_scenario({"messages": {"reply_rate": 1.0}, "returns": {"refund_delay_days": 0.2},
                         "out_of_stock": {"handling": "ship_late"}})
    assert "seller.messages.reply_rate" not in practice_moves(sc, "reply_to_messages")
    assert practice_moves(sc, "returns_on_time") == {"seller.returns.authorise_within_48h": (0.95, 0.99)}
    assert practice_moves(sc, "packaging_and_stock")["seller.out_of_stock.handling"] == ("ship_late", "cancel")
    with pytest.raises(ValueError, match="unknown practice"):
        practice_moves(sc, "smile_more")
    with pytest.raises(TypeError):
        advise({"seller": {}})
