"""Liability insurance (azsim.insurance): requirement and grace, limits, the deductible rule, proof
of cover, the risk-priced premium and its renewal, the insurer's results. docs/model.md, "Insurance".
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import SEED, by_order, claims_of, entries, frame, make_scenario, world_orders

import azsim
from azsim import insurance as ins
from azsim.comparison import summarise_run
from azsim.rng import exponential
from azsim.simulate import Run, run_policy
from azsim.world import D, World


def run_keep(scenario, policy="new", seed=SEED, rep=0, until=None) -> Run:
    """Run a policy and return the Run itself (cover, account, ledger)."""
    r = Run(scenario, policy, World(scenario, seed, rep))
    r.begin()
    r.env.run(until=until)
    return r


def step_days(scenario, policy, days):
    """Run day by day; yield (day, run) at mid-day of each day in ``days`` (the day's month end done)."""
    r = Run(scenario, policy, World(scenario, SEED, 0))
    r.begin()
    for d in days:
        r.env.run(until=d + 0.5)
        yield d, r


def insurer_by_order(r) -> dict[int, float]:
    """The insurer's net payments per order (damages, reimbursements and defence, less reversals)."""
    df = frame(r)
    df = df[df["order"] >= 0]
    paid = df[df["payer"].astype(str) == "insurer"].groupby("order")["amount"].sum()
    got = df[df["payee"].astype(str) == "insurer"].groupby("order")["amount"].sum()
    return paid.sub(got, fill_value=0.0).to_dict()


# ================================================================================================
# 1. Requirement: old 3 consecutive months, new any month; 30 days' grace to obtain cover
# ================================================================================================
def _sales_scenario(carry="when_required", obtain=14, horizon=150, orders=20.0, price=20.0, start_month=1,
                    q4=1.0, insurance_missing=0.0, policies=None):
    # $20 items, 20 a day: about $12,000 per 30-day month; no history before day 0
    return make_scenario(
        horizon_days=horizon,
        market={"orders_per_day": orders, "price": {"median": price, "sigma": 0.0}, "established_months": 0,
                "start_month": start_month, "q4_peak_multiplier": q4},
        seller={"insurance": {"carry": carry, "obtain_days": obtain}},
        account_health={"insurance_missing": {"action_probability": insurance_missing}},
        policies=policies or {"new": {}},
    )


def test_when_required_seller_obtains_cover_within_its_delay_and_is_not_missing_in_the_grace_period():
    s = _sales_scenario(obtain=14)
    seen = {d: (r.cover.required, r.cover.insured, r.cover.missing) for d, r in step_days(s, "new", range(150))}
    assert s.policies["new"].insurance_grace_days == 30.0
    for d, (required, insured, missing) in seen.items():
        assert required == (d >= 30)  # first month over $10k ends on day 30
        assert insured == (d >= 44)  # 30 + obtain_days
        assert not missing  # cover came inside the 30-day grace


def test_cover_is_missing_only_after_the_grace_period():
    late = _sales_scenario(obtain=45)  # slower than Amazon's 30 days
    for d, r in step_days(late, "new", range(150)):
        assert r.cover.missing == (60 <= d < 75), d
        assert r.cover.insured == (d >= 75), d
    never = _sales_scenario(carry="never")
    for d, r in step_days(never, "new", range(150)):
        assert r.cover.missing == (d >= 60), d


def test_the_account_is_not_stopped_for_missing_cover_during_the_grace_period():
    s = _sales_scenario(carry="never", insurance_missing=1.0)  # Amazon acts at once on missing cover
    counts = {d: r.counts["suspensions.insurance_missing"] for d, r in step_days(s, "new", [30, 59, 60])}
    assert counts == {30: 0, 59: 0, 60: 1}  # required on day 30, first sanction at the month end after 30 days


def test_three_consecutive_months_old_against_any_month_new():
    # 100 orders a day at $2.33: ~$7,000 a month, doubled in Oct-Dec (~$14,000)
    common = {"orders": 100.0, "price": 2.333, "q4": 2.0, "horizon": 300,
              "policies": {"old": {}, "new": {}}}
    oct_start = _sales_scenario(start_month=10, **common)  # Oct, Nov, Dec over: 3 months in a row
    nov_start = _sales_scenario(start_month=11, **common)  # Nov, Dec over, then Jan under: only 2
    assert run_policy(oct_start, "new", SEED, 0).extra["insurance_required_from_day"] == 30
    assert run_policy(oct_start, "old", SEED, 0).extra["insurance_required_from_day"] == 90
    assert run_policy(nov_start, "new", SEED, 0).extra["insurance_required_from_day"] == 30
    old = run_keep(nov_start, "old")
    assert old.cover.required_from is None and old.cover.insured_from is None
    assert entries(old, "insurance_premium").empty


def test_history_before_day_0_starts_the_requirement_and_the_grace_in_the_past():
    # an established seller required for months already: insured at day 0 even with a slow purchase
    s = _sales_scenario(obtain=60).with_overrides({"market.established_months": 12})
    r = run_keep(s, "new", until=1)
    assert r.cover.required_since == -11 * 30 and r.cover.insured_from == 0
    assert r.cover.required_from == 0 and not r.cover.missing


# ================================================================================================
# 2. Limits: per occurrence and aggregate per policy year; defence outside the limits
# ================================================================================================
def _limit_scenario(policy: dict, seller: dict, amount=8000.0):
    return make_scenario(
        {"incidents": {"product_safety": 0.002, "pdpi_amount": {"median": amount, "sigma": 0.0}}},
        horizon_days=150,
        buyers={"pdpi_report_delay_days": 1.0},
        seller={"insurance": {"carry": "always", "deductible": 1000.0, "per_occurrence_limit": 5000.0,
                              "aggregate_limit": 12_000.0}, "disputes": {"strategy": "never"}, **seller},
        policies={"p": policy},
    )


def test_per_occurrence_and_aggregate_limits_on_a_hand_built_case():
    s = _limit_scenario({"preset": "new", "pdpi_claim_propensity": 1.0, "screening_false_positive": 0.0},
                        {"claims": {"response_rate": 1.0, "response_days": 0.01}})
    r = run_keep(s, "p")
    claims = sorted(claims_of(r, "pdpi"), key=lambda c: c.filed)
    assert len(claims) >= 6 and {c.outcome for c in claims} == {"seller_paid"}
    insurer = by_order(r, "pdpi_compensation", "insurer", "buyer")
    seller = by_order(r, "pdpi_compensation", "seller", "buyer")
    # $8,000 each: deductible 1,000, then at most 5,000 an occurrence and 12,000 in all
    expected_insurer = [5000.0, 5000.0, 2000.0] + [0.0] * (len(claims) - 3)
    assert [insurer.get(c.order, 0.0) for c in claims] == expected_insurer
    assert [seller[c.order] for c in claims] == [8000.0 - x for x in expected_insurer]
    assert len(r.cover.years) == 1 and r.cover.years[0].aggregate_used == 12_000.0
    over = sum(8000.0 - 1000.0 - x for x in expected_insurer)  # above the limits: back on the seller
    m = r.cover.metrics(1.0)
    assert m["insurance.uncovered_losses"] == pytest.approx(over)
    assert m["insurance.insurer_losses"] == pytest.approx(12_000.0)


def test_defence_costs_are_outside_the_limits_until_the_aggregate_is_exhausted():
    s = _limit_scenario({"preset": "old", "pdpi_claim_propensity": 1.0},
                        {"claims": {"response_rate": 0.0}})
    s = s.with_overrides({"litigation.rate": 1.0, "litigation.buyer_win_if_valid": 1.0,
                          "litigation.seller_legal_cost": 15_000.0})
    r = run_keep(s, "p")
    claims = sorted(claims_of(r, "pdpi"), key=lambda c: c.filed)
    assert len(claims) >= 5 and {c.outcome for c in claims} == {"won_in_court"}
    defence_insurer = by_order(r, "legal_costs", "insurer", "legal")
    defence_seller = by_order(r, "legal_costs", "seller", "legal")
    damages_insurer = by_order(r, "pdpi_compensation", "insurer", "buyer")
    # 15,000 defence does not erode the 12,000 aggregate; the insurer defends until damages exhaust it
    assert [defence_insurer.get(c.order, 0.0) for c in claims] == [15_000.0] * 3 + [0.0] * (len(claims) - 3)
    assert [defence_seller.get(c.order, 0.0) for c in claims] == [0.0] * 3 + [15_000.0] * (len(claims) - 3)
    assert [damages_insurer.get(c.order, 0.0) for c in claims] == [5000.0, 5000.0, 2000.0] + [0.0] * (len(claims) - 3)


# ================================================================================================
# 3. Deductible: up to $10,000; from 27 Jun 2022 only above USD 1M gross proceeds in 12 months
# ================================================================================================
JUNE_2022 = {"preset": "new", "deductible_allowed_above_proceeds": 1_000_000.0}


def test_deductible_rule_on_trailing_proceeds():
    s = azsim.scenario_from_dict({"policies": {"new": {}, "y2022": JUNE_2022}})
    new, y2022 = s.policies["new"], s.policies["y2022"]
    assert new.deductible_allowed_above_proceeds is None
    assert ins.allowed_deductible(s, new, 0.0) == 1000.0  # no proceeds condition before 27 Jun 2022
    assert ins.allowed_deductible(s, y2022, 999_999.0) == 0.0
    assert ins.allowed_deductible(s, y2022, 1_000_000.0) == 0.0  # must EXCEED USD 1M
    assert ins.allowed_deductible(s, y2022, 1_000_001.0) == 1000.0
    big = s.with_overrides({"seller.insurance.deductible": 25_000.0})
    assert ins.allowed_deductible(big, big.policies["new"]) == 10_000.0  # Amazon's cap
    # the default seller (~$776k a year) may not keep a deductible under the 2022 rule: it pays more
    assert ins.allowed_deductible(s, y2022) == 0.0
    assert ins.risk_premium(s, y2022) > ins.risk_premium(s, new) + 100


def _deductible_scenario(orders_per_day: float, established: int = 12, horizon: int = 150):
    return make_scenario(
        {"incidents": {"product_safety": 0.001, "pdpi_amount": {"median": 5000.0, "sigma": 0.0}}},
        horizon_days=horizon,
        market={"orders_per_day": orders_per_day, "price": {"median": 36.0, "sigma": 0.0},
                "established_months": established},
        buyers={"pdpi_report_delay_days": 1.0},
        seller={"insurance": {"carry": "always", "deductible": 1000.0},
                "claims": {"response_rate": 1.0, "response_days": 0.01}, "disputes": {"strategy": "never"}},
        policies={"y2022": {**JUNE_2022, "pdpi_claim_propensity": 1.0, "screening_false_positive": 0.0}},
    )


@pytest.mark.parametrize("orders, deductible", [(60.0, 0.0), (100.0, 1000.0)])  # ~$778k / ~$1.3M a year
def test_deductible_under_and_over_usd_1m_proceeds(orders, deductible):
    r = run_keep(_deductible_scenario(orders), "y2022")
    assert r.cover.years[0].deductible == deductible
    seller = by_order(r, "pdpi_compensation", "seller", "buyer")
    insurer = by_order(r, "pdpi_compensation", "insurer", "buyer")
    assert len(insurer) >= 5
    for order, paid in insurer.items():
        assert seller.get(order, 0.0) == deductible and paid == 5000.0 - deductible


def test_deductible_is_granted_at_the_renewal_after_proceeds_pass_usd_1m():
    # a new seller (no history) selling ~$1.3M a year: no deductible in year 1, $1,000 from year 2
    r = run_keep(_deductible_scenario(100.0, established=0, horizon=400), "y2022")
    assert [y.deductible for y in r.cover.years[:2]] == [0.0, 1000.0]
    assert r.cover.years[1].expected < r.cover.years[0].expected


# ================================================================================================
# 4. Proof of cover: a certificate on file proves it at once
# ================================================================================================
def _small_claims(certificate: bool, carry="always"):
    return make_scenario(
        {"incidents": {"product_safety": 0.02, "pdpi_amount": {"median": 200.0, "sigma": 0.3}}},
        horizon_days=150,
        buyers={"pdpi_report_delay_days": 1.0},
        seller={"insurance": {"carry": carry, "proof_delay_days": 36_500.0, "certificate_on_file": certificate}},
        policies={"new": {"pdpi_claim_propensity": 1.0, "screening_false_positive": 0.0}},
    )


def test_certificate_on_file_proves_cover_at_once():
    with_file = run_keep(_small_claims(True))
    claims = claims_of(with_file, "pdpi")
    assert len(claims) > 50 and {c.outcome for c in claims} == {"amazon_paid_insured_seller"}
    assert entries(with_file, "pdpi_reimbursement").empty
    staff = by_order(with_file, "staff_time", "seller")
    assert not any(c.order in staff for c in claims)  # nothing to send
    # the same seller sending its proof (mean delay huge): every claim comes back to it
    without = run_keep(_small_claims(False))
    assert {c.outcome for c in claims_of(without, "pdpi")} == {"amazon_paid_seller_reimbursed"}
    # a certificate without cover proves nothing
    uninsured = run_keep(_small_claims(True, carry="never"))
    assert {c.outcome for c in claims_of(uninsured, "pdpi")} == {"amazon_paid_seller_reimbursed"}


def test_proof_is_sent_at_the_one_drawn_delay_and_counts_only_within_the_deadline():
    s = _small_claims(False).with_overrides({"seller.insurance.proof_delay_days": 7.0})
    r = run_keep(s)
    orders = world_orders(s)
    staff = entries(r, "staff_time", "seller")
    n_in = 0
    for c in claims_of(r, "pdpi"):
        delay = exponential(orders[c.order].u[D.PROOF_DELAY], 7.0)
        assert (c.outcome == "amazon_paid_insured_seller") == (delay <= 7.0)
        if delay <= 7.0:
            n_in += 1
            t = staff[staff["order"] == c.order]["t"].tolist()
            assert t == pytest.approx([c.filed + delay])
    assert n_in > 20


# ================================================================================================
# 5. The expected insured loss: closed form against simulation
# ================================================================================================
def test_layer_expectation_against_numerical_integration():
    rng = np.random.default_rng(7)
    x = 800.0 * np.exp(0.9 * rng.standard_normal(2_000_000))
    for d, lim, lo, hi in [(0, math.inf, 0, math.inf), (250, 2000, 0, 1000), (250, 2000, 1000, math.inf),
                           (5000, 1e6, 0, math.inf)]:
        sel = (x > lo) & (x <= hi)
        y = np.where(sel, np.minimum(np.maximum(x - d, 0), lim), 0.0)
        se = y.std() / math.sqrt(len(y))
        assert abs(ins.layer_expectation(800.0, 0.9, d, lim, lo, hi) - y.mean()) <= 4 * se, (d, lim, lo, hi)
    assert ins.layer_expectation(800.0, 0.0, 250, 300) == 300.0  # a fixed amount
    assert ins.layer_expectation(800.0, 0.0, 250, 1000, high=700) == 0.0


def _loss_world(policy: dict, seller: dict | None = None, **extra):
    data = {"incidents": {"product_safety": 0.02, "pdpi_amount": {"median": 800.0, "sigma": 0.8}}}
    return make_scenario(
        data,
        horizon_days=extra.pop("horizon", 730),
        market={"orders_per_day": 60.0},
        seller={
            "insurance": {"carry": "always", "deductible": 250.0, "proof_delay_days": 7.0},
            "claims": {"response_rate": 0.8, "response_days": 3.0},
            **(seller or {}),
        },
        policies={"p": {"fraud_attempt_rate": 0.01, **policy}},
        **extra,
    )


REPS = 10  # 20 years of a seller with ~800 PD/PI claims and fraud attempts a year: ~2% standard error


@pytest.mark.parametrize("name, policy, seller", [
    ("new flow", {"preset": "new"}, {}),
    ("new flow, disputes always, cap and limit bind",
     {"preset": "new", "damages_cap": 3000.0, "amazon_recovery_rate": 0.6},
     {"disputes": {"strategy": "always", "evidence_quality": 0.9}}),
    ("new flow, certificate on file", {"preset": "new", "amazon_pays_threshold": 500.0},
     {"insurance": {"carry": "always", "deductible": 250.0, "certificate_on_file": True}}),
    ("new flow, slow reports, no proof, disputes often won",
     {"preset": "new", "amazon_pays_threshold": 5000.0, "dispute_success_if_valid": 0.5},
     {"disputes": {"strategy": "always", "evidence_quality": 1.0},
      "insurance": {"carry": "always", "deductible": 250.0, "proof_delay_days": 36_500.0}}),
    ("old flow, litigation", {"preset": "old"}, {}),
])
def test_expected_insured_loss_agrees_with_simulation(name, policy, seller):
    if "cap" in name:
        seller = {**seller, "insurance": {"carry": "always", "deductible": 250.0, "proof_delay_days": 7.0,
                                          "per_occurrence_limit": 1500.0}}
    s = _loss_world(policy, seller)
    if "old" in name:
        s = s.with_overrides({"litigation.rate": 0.5, "litigation.seller_legal_cost": 2000.0})
    if "slow reports" in name:
        s = s.with_overrides({"buyers.pdpi_report_delay_days": 60.0})  # a fifth report after the 90-day window
    p = s.policies["p"]
    total, squares = 0.0, 0.0
    for rep in range(REPS):
        r = run_keep(s, "p", rep=rep)
        per_order = insurer_by_order(r)
        total += sum(per_order.values())
        squares += sum(v * v for v in per_order.values())
        assert r.cover.insurer_losses == pytest.approx(sum(per_order.values()), abs=0.01)
    years = REPS * s.horizon_days / 365.0
    expected = ins.expected_insured_loss(s, p) * years
    assert expected > 0
    # compound-Poisson standard error of the simulated total: sqrt(sum of squared claim amounts)
    assert abs(total - expected) <= 3.5 * math.sqrt(squares), (name, total, expected, math.sqrt(squares))


def test_expected_insured_loss_branches_move_it_the_right_way():
    s = _loss_world({"preset": "new"})
    p = s.policies["p"]
    base = ins.expected_insured_loss(s, p)
    on_file = s.with_overrides({"seller.insurance.certificate_on_file": True})
    assert ins.expected_insured_loss(on_file, p) < base  # small claims no longer come back
    assert ins.expected_insured_loss(s, p, deductible=0.0) > base
    more_fraud = s.with_overrides({"policies.p.screening_recall": 0.0})
    assert ins.expected_insured_loss(more_fraud, more_fraud.policies["p"]) > base
    assert ins.expected_insured_loss(s, p.model_copy(update={"pdpi_claim_propensity": 0.0})) < base


# ================================================================================================
# 6. The premium: priced from risk, re-priced at renewal with credibility-weighted experience
# ================================================================================================
def _renewal_scenario():
    return make_scenario(
        {"incidents": {"product_safety": 0.0003, "pdpi_amount": {"median": 2000.0, "sigma": 1.0}}},
        horizon_days=3 * 365,
        market={"orders_per_day": 60.0},
        seller={"insurance": {"carry": "always", "credibility_k": 2.0}},
    )


def test_first_year_premium_is_minimum_plus_loaded_expected_loss():
    s = _renewal_scenario()
    p = s.policies["new"]
    r = run_keep(s, until=1)
    y0 = r.cover.years[0]
    e = ins.expected_insured_loss(s, p, y0.deductible)
    assert y0.expected == pytest.approx(e) and y0.credibility == 0.0
    assert y0.premium == pytest.approx(500.0 + 1.45 * e)
    fixed = run_keep(s.with_overrides({"seller.insurance.pricing": "fixed"}), until=1)
    assert fixed.cover.years[0].premium == 1200.0


def test_renewal_reprices_with_credibility_weighted_experience():
    s = _renewal_scenario()
    premiums = []
    for rep in range(4):
        r = run_keep(s, rep=rep)
        world = world_orders(s, rep=rep)
        per_order = insurer_by_order(r)
        claims = {c.order: c for c in claims_of(r, "pdpi")}
        years = r.cover.years
        assert [y.start for y in years[:3]] == [0, 365, 730]
        for j in (1, 2):
            start = years[j].start
            observed = 0.0
            for order, paid in per_order.items():
                o = world[order]
                harm = o.t + s.market.delivery_days + exponential(o.u[D.HARM_DELAY], s.incidents.use_days_before_harm)
                if harm < start and claims[order].filed <= start:
                    observed += paid
            z = j / (j + 2.0)
            assert years[j].credibility == pytest.approx(z)
            assert years[j].observed == pytest.approx(observed / j, abs=0.01)
            assert years[j].premium == pytest.approx(500.0 + 1.45 * (z * observed / j + (1 - z) * years[j].expected))
        # the ledger books each month at the rate of its policy year: days 390-420 lie in year 2
        prem = entries(r, "insurance_premium", "seller", "insurer")
        assert prem[prem["t"] == 420]["amount"].iloc[0] == pytest.approx(years[1].premium * 30 / 365, abs=0.01)
        premiums.append((years[1].observed, years[1].premium))
    # a seller with more claims in its first year pays more at renewal
    premiums.sort()
    assert premiums[0][0] < premiums[-1][0]
    assert [p for _, p in premiums] == sorted(p for _, p in premiums)


def _long_run(scenario: azsim.Scenario, years: int, policy: str):
    quiet = {k: v for k, v in make_scenario().to_dict()["incidents"].items()
             if k not in ("product_safety", "pdpi_amount", "use_days_before_harm")}
    s = scenario.with_overrides({
        "horizon_days": years * 365,
        **{f"incidents.{k}": v for k, v in quiet.items()},
        **{f"account_health.{rule}.action_probability": 0.0
           for rule in ("odr", "late_shipment", "cancel", "valid_tracking", "insurance_missing")},
    })
    return run_keep(s, policy), s


@pytest.mark.parametrize("scenario_file, years, policies", [
    ("default.yaml", 250, ("new",)),  # under old, rare $15,000 defence costs need thousands of years
    ("electrical.yaml", 250, ("old", "new")),
])
def test_insurer_results_stay_near_the_loading(scenario_file, years, policies):
    """Over many policy years premiums net of the minimum are (1 + loading) x the insurer's losses,
    within the sampling error of the heavy-tailed losses (3 compound-Poisson standard errors)."""
    base = azsim.load_scenario(f"scenarios/{scenario_file}")
    for policy in policies:
        r, s = _long_run(base, years, policy)
        c = r.cover
        loading = s.seller.insurance.loading
        n_years = len([y for y in c.years if y.start < s.horizon_days])
        assert n_years == years
        loss_cost = c.premium_booked - s.seller.insurance.minimum_premium * years  # premium net of the minimum
        ratio = c.insurer_losses / loss_cost
        per_order = insurer_by_order(r)
        rel_se = math.sqrt(sum(v * v for v in per_order.values())) / c.insurer_losses
        assert abs(ratio * (1 + loading) - 1.0) <= max(3.0 * rel_se, 0.05), (policy, ratio, rel_se)
        # premiums follow the risk: the expected insured loss used in pricing is the formula's
        assert c.years[0].expected == pytest.approx(ins.expected_insured_loss(s, s.policies[policy]))


def test_default_seller_premium_in_the_brokers_range():
    s = azsim.load_scenario("scenarios/default.yaml")
    sales = s.market.expected_monthly_sales() * 365 / 30
    for p in s.policies.values():
        premium = ins.risk_premium(s, p)
        assert 500.0 <= premium <= 2000.0  # brokers: $500-2,000 a year for $1M cover
        assert premium / sales < 0.01  # at most 1% of revenue
    # the high-risk electrical seller (10x the incidents, larger harms) pays many times more
    e = azsim.load_scenario("scenarios/electrical.yaml")
    assert ins.risk_premium(e, e.policies["new"]) > 20 * ins.risk_premium(s, s.policies["new"])


# ================================================================================================
# 7. Money: every cent of a loss is paid by someone, the metrics match the ledger
# ================================================================================================
@pytest.mark.parametrize("policy", ["old", "new"])
def test_money_is_conserved_between_seller_insurer_and_claimants(policy):
    s = _loss_world({"preset": policy}, horizon=365).with_overrides({
        "seller.insurance.per_occurrence_limit": 2000.0, "seller.insurance.aggregate_limit": 60_000.0,
        "litigation.seller_legal_cost": 2000.0})
    r = run_keep(s, "p")
    res = run_policy(s, "p", SEED, 0)
    df = frame(res)
    assert df.groupby("category", observed=True)["amount"].sum().gt(0).all()
    # the run's books: insurer's net cost = its losses - premiums, to the cent
    net = res.ledger.cost("insurer")
    assert sum(net.values()) == pytest.approx(r.cover.insurer_losses - r.cover.premium_booked, abs=0.005)
    # every compensation paid by the seller's side is the whole (capped) amount
    orders = world_orders(s)
    comp = df[(df["category"] == "pdpi_compensation") & df["payer"].isin(["seller", "insurer"])]
    for order, paid in comp.groupby("order")["amount"].sum().items():
        assert paid == pytest.approx(min(orders[order].amount, s.policies["p"].damages_cap), abs=0.005)
    m = summarise_run(res, s)
    assert m["insurance.premium"] == pytest.approx(m["seller_cost.by_category.insurance_premium"], abs=0.01)
    assert m["insurance.loss_ratio"] == pytest.approx(r.cover.insurer_losses / r.cover.premium_booked)
    assert m["insurance.uncovered_losses"] > 0  # the $2,000 per-occurrence limit binds
    assert m["insurance.insured_days"] == pytest.approx(365.0)


def test_metrics_of_an_uninsured_seller():
    s = _sales_scenario(carry="never")
    m = run_policy(s, "new", SEED, 0).metrics
    assert m["insurance.premium"] == 0.0 and m["insurance.insured_days"] == 0.0
    assert math.isnan(m["insurance.loss_ratio"]) and math.isnan(m["insurance.expected_loss"])
    assert m["insurance.missing_days"] == pytest.approx(90.0 * 365 / 150)  # days 60-150, per year
