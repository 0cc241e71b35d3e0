"""The round trip: reports written from a simulated seller (synth-reports), calibrated, give back
the scenario's parameters within their 95% CIs, for the default scenario, an FBA-heavy one and a
seller whose rates all differ from the defaults (an estimator biased towards the defaults fails);
the claim, chargeback and feedback fits recover their parameters from a large independent sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from azsim.calibrate import calibrate, synth_reports
from azsim.calibrate.estimators import Interval
from azsim.calibrate.fit import fit_rates, fitting_scenario
from azsim.calibrate.synth import ODR_LAG_DAYS, performance_counts, simulate_events
from azsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent

DIFFERENT = {
    "market.orders_per_day": 140.0, "market.price.median": 55.0, "market.price.sigma": 0.9, "market.fba_share": 0.3,
    "seller.tracking.upload_delay_days": 0.4, "seller.tracking.upload_rate": 0.9, "incidents.out_of_stock": 0.03,
    "incidents.remorse_return": 0.05, "buyers.escalate_to_atoz": 0.7, "buyers.chargeback": 0.2,
    "incidents.base_negative_feedback": 0.004, "seller.support.staff": 2,
    # account health never acts: a seller whose seller-fulfilled offers were stopped sells (and reports) only
    # FBA orders meanwhile, so its reports show a larger FBA share than its scenario's: not what this checks
    **{f"account_health.{r}.action_probability": 0.0 for r in ("odr", "late_shipment", "cancel", "valid_tracking")},
}

DIRECT = ("market.orders_per_day", "market.price.median", "market.price.sigma", "market.fba_share",
          "seller.tracking.upload_delay_days", "seller.tracking.upload_rate", "incidents.remorse_return")


def value(s, path):
    node = s
    for p in path.split("."):
        node = getattr(node, p)
    return float(node)


@pytest.mark.parametrize("name, overrides, seed", [
    ("default.yaml", {}, 3),
    ("fba_heavy.yaml", {}, 4),
    ("default.yaml", DIFFERENT, 5),
])
def test_round_trip_recovers_the_scenario_within_its_cis(name, overrides, seed):
    s = load_scenario(ROOT / "scenarios" / name).with_overrides(overrides)
    files = synth_reports(s, days=365, seed=seed)
    cal = calibrate([(k, v.encode()) for k, v in files.items()], "US", s, seed=seed + 100)
    assert cal.ok, cal.problems
    got = {e.path: e for e in cal.fields()}
    for path in DIRECT + ("buyers.escalate_to_atoz", "incidents.base_negative_feedback"):
        if path == "market.fba_share" and s.market.fba_share == 0:
            continue
        assert path in got, path
    for path, e in got.items():
        true = value(s, path)
        assert e.low <= true <= e.high, f"{path}: true {true}, estimated {e.value} [{e.low}, {e.high}] n={e.n}"
    assert cal.scenario.market.currency == s.market.currency


def test_fits_recover_claims_chargebacks_feedback_from_a_large_sample():
    """The linear fits are unbiased: rates observed on a large simulated sample (another seed) give back
    the parameters that produced them, within a CI that is narrow at this sample size."""
    s = load_scenario(ROOT / "scenarios" / "default.yaml").with_overrides(
        {"buyers.escalate_to_atoz": 0.65, "buyers.chargeback": 0.3, "incidents.base_negative_feedback": 0.003,
         "market.orders_per_day": 60})
    # a stationary seller (its desk keeps up): an overloaded desk's backlog, and so its claim rate, grows with time;
    # the "observed" sample: 4 sellers of another seed, about 100,000 orders
    big = fitting_scenario(s).with_overrides({"horizon_days": 450})
    totals: dict[str, int] = {}
    for rep in range(4):
        c = performance_counts(simulate_events(big, 99, replication=rep), 0, big.horizon_days - ODR_LAG_DAYS)
        for k in c["mfn"]:
            totals[k] = totals.get(k, 0) + c["mfn"][k] + c["afn"][k]
    n = totals["orders"]

    def obs(k) -> Interval:
        return _prop(totals[k], n)

    fits = {r.path: r for r in fit_rates(s, obs("claims"), obs("chargebacks"), obs("negative_feedback"), seed=7)}
    for path, true, width in (("buyers.escalate_to_atoz", 0.65, 0.5), ("buyers.chargeback", 0.3, 0.8),
                              ("incidents.base_negative_feedback", 0.003, 0.002)):
        e = fits[path].estimate
        assert e.low <= true <= e.high, (path, e)
        assert e.high - e.low < width, (path, e)


def _prop(k, n):
    from azsim.calibrate.estimators import proportion

    return proportion(k, n)
