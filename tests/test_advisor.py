"""The practice advisor (azsim.advisor): what to fix first, and insure or not."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import NO_ACCOUNT_ACTIONS

import azsim
from azsim.advisor import PRACTICES, advise, insurance_answer, practice_moves
from azsim.insurance import expected_insured_loss, risk_premium
from azsim.stats import mean_ci

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
        "account_health": NO_ACCOUNT_ACTIONS,
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
        for name in ("saving", "gross_saving", "practice_cost"):
            assert (row[f"{name}_mean"], row[f"{name}_ci_low"], row[f"{name}_ci_high"]) == (0.0, 0.0, 0.0)
    assert (rows["rank"] == len(PRACTICES)).all()
    assert advice.ranking[-1] == "tracking_at_once"


def test_clearly_bad_practice_ranks_first_with_a_positive_saving(advice):
    assert advice.ranking[0] == "accurate_listings"
    rows = advice.practices[advice.practices["practice"] == "accurate_listings"]
    assert (rows["rank"] == 1).all()
    assert (rows["saving_ci_low"] > 0).all()
    # ranks are 1..n, one per practice, the same on every policy's row
    ranks = advice.practices.groupby("practice")["rank"].agg(["min", "max"])
    assert (ranks["min"] == ranks["max"]).all() and sorted(ranks["min"]) == list(range(1, len(PRACTICES) + 1))


def test_weekend_cover_costs_its_rostered_wages():
    """Staff are paid for rostered hours: the advisor's practice cost of weekend cover is its wages."""
    support = {"staff": 2, "work_days_per_week": 5, "open_hour": 9.0, "close_hour": 13.0, "wage_per_hour": 20.0}
    sc = short_scenario({"messages": {"reply_rate": 0.99}, "support": support})
    assert practice_moves(sc, "reply_to_messages") == {"seller.support.work_days_per_week": (5, 7)}
    adv = advise(sc, replications=2, seed=SEED)
    rows = adv.practices.set_index(["practice", "policy"])
    weekend_days = sum(1 for d in range(120) if (sc.market.start_weekday + d) % 7 >= 5)
    wages = 2 * 4.0 * 20.0 * weekend_days * 365 / 120  # two people, 4 h a day, on the weekend days, per year
    for policy in ("old", "new"):
        row = rows.loc[("reply_to_messages", policy)]
        assert row["practice_cost_mean"] == pytest.approx(wages, abs=0.01)
        assert row["saving_mean"] == pytest.approx(row["gross_saving_mean"] - wages, abs=0.01)
        assert row["saving_ci_high"] < 0  # weekend cover for this inbox does not pay for itself


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


def test_insurance_breakeven(scenario, advice):
    ins = advice.insurance.set_index("policy")
    assert list(advice.insurance["policy"]) == ["old", "new"]
    covered = scenario.with_overrides({"seller.insurance.carry": "always"})
    for policy in ("old", "new"):
        row = ins.loc[policy]
        assert row["breakeven_premium_mean"] > 0
        # the premium paid is the risk price of this seller under the policy (one policy year in 120 days),
        # booked monthly in cents
        expected = expected_insured_loss(covered, covered.policies[policy])
        assert row["expected_insured_loss"] == pytest.approx(expected)
        assert row["premium_mean"] == pytest.approx(risk_premium(covered, covered.policies[policy]), abs=0.08)
        assert row["premium_mean"] == pytest.approx(500.0 + 1.45 * expected, abs=0.08)
        # insured - uninsured = premium - break-even, to the cent
        lhs = row["cost_insured_mean"] - row["cost_uninsured_mean"]
        assert lhs == pytest.approx(row["premium_mean"] - row["breakeven_premium_mean"], abs=0.005)
        assert row["breakeven_premium_ci_low"] <= row["breakeven_premium_mean"] <= row["breakeven_premium_ci_high"]
    # Amazon pays small claims of an insured seller under the new rules: cover is worth more there
    assert ins.loc["new", "breakeven_premium_ci_low"] > 0
    assert ins.loc["new", "breakeven_premium_mean"] > ins.loc["old", "breakeven_premium_mean"]


def test_at_the_breakeven_premium_both_choices_cost_the_same(scenario, advice):
    breakeven = float(advice.insurance.set_index("policy").loc["new", "breakeven_premium_mean"])
    quote = {"seller.insurance.pricing": "fixed", "seller.insurance.premium_per_year": breakeven}
    again = insurance_answer(scenario.with_overrides(quote), replications=REPS, seed=SEED)
    again = again.set_index("policy").loc["new"]
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
    first = d["practices"][0]
    assert first["net_saving"] == first["saving"] and set(first["net_saving"]) == {"old", "new"}
    assert set(first["gross_saving"]) == set(first["practice_cost"]) == {"old", "new"}
    assert set(first["policy_effect"]) == {"new"}  # against the baseline, old
    assert d["baseline"] == "old" and "support_wages" in d["practice_cost_categories"]
    text = advice.format()
    assert "Keep listings accurate" in text and "already at the good level" in text
    assert "gross saving" in text and "practice cost" in text and "policy effect vs old" in text
    assert text.index("  under new") < text.index("  under old")
    assert "minutes worked" not in text
    assert text.count("Under new:") == 1 and text.count("Under old:") == 1


# ------------------------------------------------------------------------------------------------
# the arithmetic, with a stand-in for the simulator
# ------------------------------------------------------------------------------------------------
class FakeComparison:
    """Seller cost as a made-up function of the practice levels; replications differ by a shift."""

    def __init__(self, scenario: azsim.Scenario, replications: int):
        s = scenario.seller
        shift = np.arange(replications, dtype=float)
        # what the practices cost: weekend cover adds wages, better packing costs more per order
        self.practice = {"support_wages": 1000.0 * s.support.staff * s.support.work_days_per_week / 5,
                         "packaging": 400.0 * s.packaging_quality}
        cost = (500 * (1 - s.packaging_quality) + 300 * s.messages.reply_rate + 100 * s.returns.refund_delay_days
                + sum(self.practice.values()))
        # bad listings cost more under new, by a different amount in each replication (a policy effect)
        listings = {"old": 1000 * (1 - s.listing_accuracy) * (1 + 0.1 * shift),
                    "new": 1500 * (1 - s.listing_accuracy) * (1 + 0.2 * shift)}
        insured = s.insurance.carry == "always"
        self.premium = s.insurance.premium_per_year if insured else 0.0
        self.cost = {"old": cost + listings["old"] + shift + self.premium + (0 if insured else 400),
                     "new": cost + listings["new"] + 2 * shift + self.premium + (0 if insured else 900)}

    def values(self, policy, metric):
        if metric == "seller_cost.by_category.insurance_premium":
            return np.full(len(self.cost[policy]), self.premium)
        if metric.startswith("seller_cost.by_category."):  # a practice cost, or a category never booked here
            return np.full(len(self.cost[policy]), self.practice.get(metric.rsplit(".", 1)[1], 0.0))
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
    assert len(calls) == len(set(calls)) == 1 + 5 + 1  # base (= insured) + 5 practices that move + uninsured
    rows = adv.practices.set_index(["practice", "policy"])
    sav = rows["saving_mean"]
    assert sav[("accurate_listings", "new")] == pytest.approx(1500 * 0.45 * 1.2)  # mean of 1 + 0.2 x (0, 1, 2)
    assert sav[("accurate_listings", "old")] == pytest.approx(1000 * 0.45 * 1.1)
    assert sav[("returns_on_time", "new")] == pytest.approx(100 * 1.0)
    # gross saving before the practice's own cost; the cost; net = gross - cost
    pack = rows.loc[("packaging_and_stock", "old")]
    assert pack["gross_saving_mean"] == pytest.approx(500 * 0.05)
    assert pack["practice_cost_mean"] == pytest.approx(400 * 0.05)
    assert pack["saving_mean"] == pytest.approx(500 * 0.05 - 400 * 0.05)
    reply = rows.loc[("reply_to_messages", "new")]
    assert reply["practice_cost_mean"] == pytest.approx(1000 * 3 * (7 - 5) / 5)  # weekend cover for 3 staff
    assert reply["gross_saving_mean"] == pytest.approx(-300 * 0.04)  # answering more costs money in this stand-in
    assert reply["saving_mean"] == pytest.approx(-300 * 0.04 - 1200)
    for _, row in adv.practices.iterrows():
        assert row["saving_mean"] == pytest.approx(row["gross_saving_mean"] - row["practice_cost_mean"])
    # the policy effect: net saving under new - under old, paired per replication, with its CI
    effect = 0.45 * (1500 * (1 + 0.2 * np.arange(3.0)) - 1000 * (1 + 0.1 * np.arange(3.0)))
    m, (lo, hi) = mean_ci(effect)
    row = rows.loc[("accurate_listings", "new")]
    assert (row["policy_effect_mean"], row["policy_effect_ci_low"], row["policy_effect_ci_high"]) == pytest.approx(
        (m, lo, hi))
    assert hi - lo > 1  # a spread over replications, not a constant
    assert np.isnan(rows.loc[("accurate_listings", "old"), "policy_effect_mean"])  # the baseline has none
    assert rows.loc[("packaging_and_stock", "new"), "policy_effect_mean"] == pytest.approx(0.0)
    # negative saving still ranks above "nothing to change"
    assert adv.ranking == ["accurate_listings", "returns_on_time", "packaging_and_stock", "claims_and_certificate",
                           "reply_to_messages", "tracking_at_once"]
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
    assert "no CI" in adv.format()


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


def test_certificate_on_file_is_worth_more_under_the_new_policy():
    """The practice the 2021 change is about: under new, an insured seller that proves cover late reimburses
    Amazon for small claims, a certificate on file spares it; under old Amazon takes no PD/PI claim, so the
    certificate is worth nothing there. The advisor's policy effect must show that difference, paired."""
    sc = short_scenario({"insurance": {"carry": "always", "proof_delay_days": 20.0, "deductible": 1000.0},
                         "claims": {"response_rate": 0.99, "response_days": 0.5}},
                        incidents={"product_safety": 0.004, "pdpi_amount": {"median": 300.0, "sigma": 0.8}})
    assert practice_moves(sc, "claims_and_certificate") == {"seller.insurance.certificate_on_file": (False, True)}
    adv = advise(sc, replications=4, seed=SEED)
    row = adv.practices.set_index(["practice", "policy"]).loc[("claims_and_certificate", "new")]
    assert row["saving_ci_low"] > 0  # fewer reimbursements of Amazon under new
    assert row["policy_effect_ci_low"] > 0  # ... and that is the policy change's doing
