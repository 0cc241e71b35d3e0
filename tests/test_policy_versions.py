"""Policy versions (presets) with currency, dates and sources; selecting them by name; the
currency of results; delays to compensation as distributions."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import SEED, claims_of, make_scenario, run

from azsim import compare, load_scenario, scenario_from_dict
from azsim.cli import format_summary, main
from azsim.comparison import summarise_run
from azsim.policy import ALIASES, PRESETS, policy_versions, preset
from azsim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = str(ROOT / "scenarios/default.yaml")

# version: currency, marketplace, effective, PD/PI handler, Amazon-pays threshold, monthly sales that
# trigger the insurance requirement, consecutive months over it, proceeds above which a deductible is allowed
EXPECTED = {
    "us-2021-old": ("USD", "amazon.com", "2020-07", "seller", 1000.0, 10_000.0, 3, None),
    "us-2021-new": ("USD", "amazon.com", "2021-09-01", "amazon", 1000.0, 10_000.0, 1, None),
    "us-2022-06": ("USD", "amazon.com", "2022-06-27", "amazon", 1000.0, 10_000.0, 1, 1_000_000.0),
    "ca-2024": ("CAD", "amazon.ca", "2024-05", "amazon", 1000.0, 10_000.0, 1, None),
    "uk-pre-2024": ("GBP", "amazon.co.uk", None, "seller", 1000.0, 4_000.0, 3, None),
    "uk-2024": ("GBP", "amazon.co.uk", "2024-05", "amazon", 1000.0, 4_000.0, 1, None),
    "eu-2024": ("EUR", "amazon.de, .fr, .it, .es, .nl", "2024-05", "amazon", 1000.0, 5_000.0, 1, None),
}


def test_every_version_is_tested():
    assert set(EXPECTED) == set(PRESETS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_version_has_its_distinguishing_values(name):
    cur, market, effective, handler, threshold, sales, months, proceeds = EXPECTED[name]
    p = preset(name)
    assert (p.currency, p.marketplace, p.effective) == (cur, market, effective)
    assert p.preset == name
    assert p.pdpi_handler == handler
    assert p.amazon_pays_threshold == threshold
    assert p.insurance_required_monthly_sales == sales
    assert p.insurance_required_consecutive_months == months
    assert p.deductible_allowed_above_proceeds == proceeds
    assert p.sources and all(re.search(r" <https://[^ >]+>$", s) for s in p.sources)
    assert p.description


def test_versions_differ_where_the_rules_changed():
    old, new, jun22 = preset("us-2021-old"), preset("us-2021-new"), preset("us-2022-06")
    # 2021: Amazon takes the claims, any single month triggers insurance; 2022: only the deductible rule moves
    assert (old.pdpi_handler, old.insurance_required_consecutive_months) == ("seller", 3)
    assert (new.pdpi_handler, new.insurance_required_consecutive_months) == ("amazon", 1)
    differ = {k for k, v in jun22.model_dump().items() if v != new.model_dump()[k]}
    assert differ == {"description", "preset", "effective", "sources", "deductible_allowed_above_proceeds"}


def test_old_and_new_are_aliases_of_the_2021_versions():
    assert ALIASES == {"old": "us-2021-old", "new": "us-2021-new"}
    assert preset("old") == preset("us-2021-old") and preset("new") == preset("us-2021-new")
    implicit = scenario_from_dict({"policies": {"old": {}, "new": {}}})
    explicit = scenario_from_dict({"policies": {"old": {"preset": "us-2021-old"}, "new": {"preset": "us-2021-new"}}})
    by_alias = scenario_from_dict({"policies": {"old": {"preset": "old"}, "new": {"preset": "new"}}})
    assert implicit.to_dict() == explicit.to_dict() == by_alias.to_dict()


def _write(tmp_path, data: dict) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_versions_are_chosen_by_name_in_yaml(tmp_path):
    path = _write(tmp_path, {"policies": {"old": {"preset": "us-2021-old"}, "new": {"preset": "us-2022-06"}}})
    s = load_scenario(path)
    assert s.policies["old"].pdpi_handler == "seller"
    assert s.policies["new"].preset == "us-2022-06"
    assert s.policies["new"].deductible_allowed_above_proceeds == 1_000_000.0


def test_versions_are_chosen_with_the_policies_flag(capsys):
    assert main(["validate", DEFAULT, "--policies", "us-2021-old,us-2022-06"]) == 0
    out = capsys.readouterr().out
    assert "us-2021-old (us-2021-old)" in out and "us-2022-06 (us-2022-06)" in out
    s = load_scenario(DEFAULT, policies="base=us-2021-new,later=us-2022-06")
    assert s.policy_names == ["base", "later"]
    assert s.policies["later"].deductible_allowed_above_proceeds == 1_000_000.0


def test_set_preset_moves_a_spelled_out_policy_to_the_new_version():
    # default.yaml spells every field of `new` out; fields it only restated follow the new version
    s = load_scenario(DEFAULT, {"policies.new.preset": "us-2022-06"})
    assert s.policies["new"] == preset("us-2022-06")
    # a field set together with the version is kept
    s = load_scenario(DEFAULT, {"policies.new.preset": "us-2022-06", "policies.new.amazon_pays_threshold": 500})
    assert s.policies["new"].amazon_pays_threshold == 500 and s.policies["new"].preset == "us-2022-06"
    # a field in which the file's policy differs from its version is kept too (threshold_500.yaml: $500)
    s = load_scenario(ROOT / "scenarios/threshold_500.yaml", {"policies.new_500.preset": "us-2022-06"})
    assert s.policies["new_500"].amazon_pays_threshold == 500.0
    assert s.policies["new_500"].deductible_allowed_above_proceeds == 1_000_000.0
    # the same through a resolved scenario (the app's path)
    s = load_scenario(DEFAULT).with_overrides({"policies.new.preset": "us-2022-06"})
    assert s.policies["new"] == preset("us-2022-06")


@pytest.mark.parametrize("args, needle", [
    (["--policies", "us-2021-old,us-2099"], "--policies: unknown preset 'us-2099'"),
    (["--set", "policies.new.preset=us-2099"], "policies.new.preset: unknown preset 'us-2099'"),
    (["--policies", "us-2021-old,uk-2024"], "policies.uk-2024.currency: GBP"),
])
def test_a_bad_version_exits_2_naming_the_field(args, needle, capsys):
    assert main(["validate", DEFAULT, *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    if "unknown" in needle:
        assert "us-2022-06" in err  # the choices are listed
    else:
        assert "market.currency USD" in err


def test_an_unknown_version_in_a_file_names_the_field(tmp_path):
    path = _write(tmp_path, {"policies": {"old": {"preset": "us-1999"}}})
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert "policies.old.preset: unknown preset 'us-1999'" in str(err.value)


def test_policies_command_lists_every_version_with_description_and_sources(capsys):
    assert main(["policies"]) == 0
    out = capsys.readouterr().out
    for v in policy_versions():
        assert v["name"] in out and v["description"] in out
        for src in v["sources"]:
            assert src in out
    assert main(["policies", "--json", "-"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [v["name"] for v in data["policy_versions"]] == list(PRESETS)


def test_docs_sources_lists_every_source_of_every_version():
    text = (ROOT / "docs/sources.md").read_text()
    for name, values in PRESETS.items():
        assert f"`{name}`" in text
        for src in values["sources"]:
            address = re.search(r"<(https://[^>]+)>$", src).group(1)
            assert address in text


def _gbp_scenario():
    return make_scenario({"market": {"currency": "GBP"}, "incidents": {"product_safety": 0.002}},
                         policies={"old": {"preset": "uk-pre-2024"}, "new": {"preset": "uk-2024"}})


def test_results_carry_the_currency():
    result = compare(_gbp_scenario(), replications=2, seed=1)
    data = result.to_dict()
    assert data["currency"] == "GBP" and data["scenario"]["market"]["currency"] == "GBP"
    text = format_summary(result)
    assert "money in GBP" in text and "Seller cost (GBP/yr)" in text and "USD" not in text
    assert "old = uk-pre-2024, new = uk-2024" in text
    usd = compare(make_scenario(policies={"old": {}, "new": {}}), replications=1, seed=1).to_dict()
    assert usd["currency"] == "USD"


def test_the_uk_scenario_compares_the_uk_versions_in_pounds():
    s = load_scenario(ROOT / "scenarios/uk_2024.yaml")
    assert s.market.currency == "GBP"
    assert (s.policies["old"].preset, s.policies["new"].preset) == ("uk-pre-2024", "uk-2024")


# ---- delays to compensation ------------------------------------------------------------------------
_MANY_CLAIMS = {"horizon_days": 365, "market": {"orders_per_day": 100.0},
                "incidents": {"product_safety": 0.02}, "buyers": {"pdpi_report_delay_days": 1.0},
                "seller": {"disputes": {"strategy": "never"}, "claims": {"response_days": 0.01}}}


def _delays(result, outcomes) -> np.ndarray:
    return np.array([c.decided - c.filed for c in claims_of(result, "pdpi") if c.outcome in outcomes])


def _check_lognormal(d: np.ndarray, mean: float, cv: float) -> None:
    """Sample mean and median against the lognormal's, within 4 standard errors."""
    assert d.size > 300
    sigma = math.sqrt(math.log1p(cv * cv))
    median = mean / math.sqrt(1 + cv * cv)
    assert abs(d.mean() - mean) < 4 * mean * cv / math.sqrt(d.size)
    # the sample median of log-delays: standard error ~ 1.2533 sigma / sqrt(n)
    assert abs(np.log(np.median(d)) - math.log(median)) < 4 * 1.2533 * sigma / math.sqrt(d.size)
    assert d.std() / d.mean() == pytest.approx(cv, rel=0.25)


def test_amazon_payment_delay_has_the_configured_mean_and_median():
    pol = {"pdpi_claim_propensity": 1.0, "screening_false_positive": 0.0, "amazon_pays_threshold": 1e9,
           "pdpi_report_window_days": 10_000.0, "amazon_payment_days": {"mean": 30.0, "cv": 0.6}}
    res = run(make_scenario(_MANY_CLAIMS, policies={"new": pol}))
    _check_lognormal(_delays(res, {"amazon_paid_seller_reimbursed", "amazon_paid_insured_seller"}), 30.0, 0.6)


def test_seller_path_delay_has_the_configured_mean_and_median():
    pol = {"pdpi_claim_propensity": 1.0, "screening_false_positive": 0.0, "amazon_pays_threshold": 0.0,
           "pdpi_report_window_days": 10_000.0, "seller_path_resolution_days": {"mean": 80.0, "cv": 0.4}}
    res = run(make_scenario(_MANY_CLAIMS, policies={"new": pol}))
    d = _delays(res, {"seller_paid", "amazon_paid_recovered", "amazon_paid_unrecovered"})
    _check_lognormal(d, 80.0, 0.4)


def test_settlement_and_judgement_delays_have_the_configured_mean_and_median():
    old = {"preset": "old", "pdpi_claim_propensity": 1.0}
    settle = make_scenario({**_MANY_CLAIMS, "litigation": {"settlement_days": {"mean": 45.0, "cv": 0.8}}},
                           policies={"old": old})
    _check_lognormal(_delays(run(settle, "old"), {"settled_by_seller"}), 45.0, 0.8)
    sue = make_scenario({**_MANY_CLAIMS, "seller": {"claims": {"response_rate": 0.0}},
                         "litigation": {"rate": 1.0, "days_to_judgement": {"mean": 400.0, "cv": 0.3}}},
                        policies={"old": old})
    _check_lognormal(_delays(run(sue, "old"), {"won_in_court", "lost_in_court"}), 400.0, 0.3)


def test_a_delay_keeps_its_rank_and_cv_zero_is_fixed():
    pol = {"pdpi_claim_propensity": 1.0, "screening_false_positive": 0.0, "amazon_pays_threshold": 1e9,
           "pdpi_report_window_days": 10_000.0}
    extra = {**_MANY_CLAIMS, "horizon_days": 120}

    def delays(days):
        res = run(make_scenario(extra, policies={"new": {**pol, "amazon_payment_days": days}}))
        return {c.order: c.decided - c.filed for c in claims_of(res, "pdpi") if c.outcome.startswith("amazon_paid")}

    base, double, fixed = delays({"mean": 21.0}), delays({"mean": 42.0}), delays({"mean": 21.0, "cv": 0.0})
    assert base.keys() == double.keys() and len(base) > 50
    for k in base:  # the same uniform, twice the mean: every claim takes exactly twice as long
        assert double[k] == pytest.approx(2 * base[k], rel=1e-9)
        assert fixed[k] == pytest.approx(21.0, abs=1e-9)
    # a bare number is the mean with the field's default spread
    p = scenario_from_dict({"policies": {"new": {"amazon_payment_days": 30}}}).policies["new"]
    assert (p.amazon_payment_days.mean, p.amazon_payment_days.cv) == (30.0, 0.5)


def test_reported_compensation_days_are_numpys_statistics_of_the_recorded_delays():
    s = make_scenario({**_MANY_CLAIMS, "horizon_days": 200, "incidents": {"product_safety": 0.005,
                                                                            "lost_in_transit": 0.01}},
                      policies={"new": {"pdpi_claim_propensity": 1.0}})
    res = run(s, "new", SEED)
    metrics = summarise_run(res, s)
    pdpi = np.array(res.resolution["pdpi"])
    assert pdpi.size > 20
    assert metrics["compensation_days.pdpi.p90"] == np.percentile(pdpi, 90)
    assert metrics["compensation_days.pdpi.median"] == np.median(pdpi)
    assert metrics["compensation_days.pdpi.mean"] == pytest.approx(pdpi.mean(), rel=1e-12)
    everything = np.array(res.resolution["atoz"] + res.resolution["pdpi"] + res.resolution["chargeback"])
    assert metrics["compensation_days.all.p90"] == np.percentile(everything, 90)
    # each PD/PI payment is one paid claim, paid after its report (which follows the incident)
    paid = [c for c in claims_of(res, "pdpi") if c.outcome.startswith(("amazon_paid", "seller_paid"))]
    assert len(paid) == pdpi.size
    assert np.all(np.sort(pdpi) >= np.sort([c.decided - c.filed for c in paid]) - 1e-9)
    assert metrics["resolution_days.pdpi"] == metrics["compensation_days.pdpi.mean"]


def test_the_app_has_a_version_box_per_policy_in_the_scenarios_currency():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception
    # one box per policy, labelled with the policy's name and its plain label (azsim.labels)
    boxes = {b.label.split(":")[0]: b for b in at.sidebar.selectbox if b.label.startswith("Policy '")}
    assert set(boxes) == {"Policy 'old'", "Policy 'new'"}
    shown = {b.label.replace("\\", "") for b in boxes.values()}  # labels are Markdown: brackets escaped
    assert shown == {"Policy 'old': Old (to Aug 2021)", "Policy 'new': New (from Sep 2021)"}
    assert boxes["Policy 'old'"].value == "us-2021-old" and boxes["Policy 'new'"].value == "us-2021-new"
    assert "uk-2024" not in boxes["Policy 'new'"].options and "us-2022-06" in boxes["Policy 'new'"].options
    boxes["Policy 'new'"].set_value("us-2022-06").run()
    assert not at.exception and not at.error
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "effective 2022-06-27" in captions


def test_sweep_and_report_take_policy_versions_by_name(tmp_path, capsys):
    """--policies works beyond compare: a sweep stores the chosen versions, a report shows them."""
    import duckdb

    from azsim.report import build_report

    path = _write(tmp_path, {"horizon_days": 40, "market": {"orders_per_day": 20.0}})
    store = tmp_path / "s.duckdb"
    assert main(["sweep", path, "--vary", "seller.claims.response_rate=0.5,1", "-r", "1", "--policies",
                 "us-2021-new,us-2022-06", "--out", str(store), "--quiet"]) == 0
    con = duckdb.connect(str(store), read_only=True)
    stored = {r[0] for r in con.sql("select distinct policy from metrics").fetchall()}
    con.close()
    assert stored == {"us-2021-new", "us-2022-06"}
    out = build_report(path, tmp_path / "rep", ["md"], replications=2, advisor_replications=2,
                       policies="us-2021-old,us-2022-06")
    md = (out / "report.md").read_text()
    assert "us-2022-06" in md and "us-2021-old" in md
    assert main(["report", str(store), "--out", str(tmp_path / "r2"), "--policies", "us-2021-old,us-2021-new"]) == 2
    assert "applies to a scenario file" in capsys.readouterr().err
    assert not (tmp_path / "r2").exists()
