"""One definition of every paired difference: compare's JSON and summary, the results store's
point_summary and a sweep's point outputs agree, and every summary row adds up."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import make_scenario

from azsim import compare
from azsim.comparison import Comparison
from azsim.stats import fill_missing, paired, paired_columns
from azsim.store import Store, load
from azsim.sweep import point_outputs

# Two replications. In replication 0 `old` paid no PD/PI claim (no compensation days) and booked
# nothing as PD/PI reimbursement; in replication 1 both did.
RUNS = {
    0: {"old": {"seller_cost.total": 100.0, "odr.mean": 0.004},
        "new": {"seller_cost.total": 130.0, "odr.mean": 0.004, "compensation_days.pdpi.mean": 5.0,
                "seller_cost.by_category.pdpi_reimbursement": 40.0}},
    1: {"old": {"seller_cost.total": 120.0, "odr.mean": 0.005, "compensation_days.pdpi.mean": 60.0,
                "seller_cost.by_category.pdpi_reimbursement": 10.0},
        "new": {"seller_cost.total": 170.0, "odr.mean": 0.005, "compensation_days.pdpi.mean": 42.5,
                "seller_cost.by_category.pdpi_reimbursement": 70.0}},
}
EXPECTED = {  # metric: (paired n, baseline level, policy level, mean difference) under the one definition
    "compensation_days.pdpi.mean": (1, 60.0, 42.5, -17.5),  # replication 1 only: old has no value in 0
    "seller_cost.by_category.pdpi_reimbursement": (2, 5.0, 55.0, 50.0),  # missing money is 0
    "seller_cost.total": (2, 110.0, 150.0, 40.0),
}


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "two.duckdb"
    with Store(path) as s:
        s.begin_sweep("sw", {"design": "grid", "replications": 2}, [{"seller.messages.reply_rate": 0.9}])
        for r, metrics in RUNS.items():
            s.write_run("sw", 0, r, metrics, None, 0.1)
        s.summarise("sw", "old")
    return path


def _comparison(runs: dict) -> Comparison:
    rows = [(r, p, m, v) for r, per in runs.items() for p, ms in per.items() for m, v in ms.items()]
    scenario = make_scenario(policies={"old": {}, "new": {}})
    return Comparison(scenario, 1, len(runs), pd.DataFrame(rows, columns=["replication", "policy", "metric", "value"]),
                      pd.DataFrame())


@pytest.mark.parametrize("metric", sorted(EXPECTED))
def test_compare_store_and_sweep_agree_on_the_paired_difference(store, metric):
    n, base_level, level, diff = EXPECTED[metric]
    delta = _comparison(RUNS).to_dict()["delta"]["new"]
    node = delta
    for part in metric.split("."):
        node = node[part]
    assert (node["n"], node["baseline_mean"], node["policy_mean"], node["mean"]) == (n, base_level, level, diff)
    ps = load(store)["point_summary"].set_index(["policy", "metric"])
    row = ps.loc[("new", metric)]
    assert (row["delta_n"], row["delta_baseline_mean"], row["delta_policy_mean"]) == (n, base_level, level)
    assert row["delta_mean"] == pytest.approx(diff, abs=1e-12)
    assert row["delta_pct"] == pytest.approx(node["pct"], abs=1e-6)
    with Store(store, read_only=True) as s:
        out = point_outputs(s, "sw", metric, ["old", "new"])
    assert out.tolist() == pytest.approx([diff], abs=1e-12)


def test_the_old_sweep_definition_would_differ(store):
    # filling old's missing compensation days with 0 (what sweeps used to do) gives (5 - 0 + 42.5 - 60) / 2
    filled = np.array([[0.0], [60.0]]), np.array([[5.0], [42.5]])
    assert paired_columns(*filled)["mean"][0] == pytest.approx(-6.25)
    with Store(store, read_only=True) as s:
        assert point_outputs(s, "sw", "compensation_days.pdpi.mean", ["old", "new"])[0] == pytest.approx(-17.5)


def test_missing_values_are_zero_only_for_money_and_counts():
    assert fill_missing("seller_cost.by_category.refund", [np.nan, 2.0]).tolist() == [0.0, 2.0]
    assert fill_missing("counts.claims.total.pdpi", [np.nan]).tolist() == [0.0]
    assert np.isnan(fill_missing("compensation_days.pdpi.p90", [np.nan])).all()
    assert np.isnan(fill_missing("odr.mean", [np.nan])).all()


def test_paired_levels_add_up_and_pct_is_against_the_paired_baseline():
    p = paired([np.nan, 20.0, 40.0, 10.0], [5.0, 30.0, np.nan, 16.0])
    assert p.n == 2 and p.base_mean == 15.0 and p.other_mean == 23.0 and p.mean == 8.0
    assert p.base_mean + p.mean == p.other_mean and p.pct == pytest.approx(100 * 8 / 15)
    assert p.ci95 is not None and p.ci95[0] < 8.0 < p.ci95[1]
    one = paired([np.nan, 1.0], [2.0, np.nan])
    assert one.n == 0 and one.mean is None and one.ci95 is None and one.pct is None


@pytest.fixture(scope="module")
def few_claims():
    """Rare PD/PI claims: some replications pay none under one of the policies."""
    s = make_scenario({"incidents": {"product_safety": 0.0004, "lost_in_transit": 0.01}},
                      policies={"old": {}, "new": {}})
    return compare(s, replications=8, seed=3)


def test_every_summary_row_adds_up(few_claims):
    table = few_claims.summary()
    for label, row in table.iterrows():
        if row["old"] is None or row["new"] is None or pd.isna(row["old"]) or pd.isna(row["new"]):
            continue
        assert row["old"] + row["new-old"] == pytest.approx(row["new"], abs=1e-6 * max(1.0, abs(row["new"]))), label
    pdpi = [label for label in table.index if label.startswith("PD/PI incident to payment, mean")]
    assert len(pdpi) == 1
    n = int(table.loc[pdpi[0], "replications"])
    assert 0 < n < 8  # some replications had no PD/PI payment under one policy ...
    assert f"[{n} of 8 reps]" in pdpi[0]  # ... and the row says over how many it is
    assert "reps]" not in [lbl for lbl in table.index if lbl.startswith("Seller cost")][0]


def test_the_json_delta_is_the_summary_with_two_policies(few_claims):
    d = few_claims.to_dict()["delta"]["new"]["compensation_days"]["pdpi"]["mean"]
    table = few_claims.summary()
    (label,) = [lbl for lbl in table.index if lbl.startswith("PD/PI incident to payment, mean")]
    row = table.loc[label]
    assert (row["old"], row["new"], row["new-old"], row["replications"]) == pytest.approx(
        (d["baseline_mean"], d["policy_mean"], d["mean"], d["n"]), abs=1e-6)


def test_a_real_comparison_and_its_store_agree_on_every_metric(few_claims, tmp_path):
    runs = few_claims.runs
    path = tmp_path / "real.duckdb"
    with Store(path) as s:
        s.begin_sweep("sw", {"design": "grid"}, [{}])
        for r, per in runs.groupby("replication"):
            metrics = {p: dict(zip(g["metric"], g["value"], strict=True)) for p, g in per.groupby("policy")}
            s.write_run("sw", 0, int(r), metrics, None, 0.1)
        s.summarise("sw", "old")
    ps = load(path)["point_summary"]
    ps = ps[ps["policy"] == "new"].set_index("metric")
    delta = few_claims.to_dict()["delta"]["new"]
    checked = 0
    for metric, row in ps.iterrows():
        node = delta
        for part in metric.split("."):
            node = node[part]
        for key, col in (("mean", "delta_mean"), ("baseline_mean", "delta_baseline_mean"), ("pct", "delta_pct")):
            want = node[key]
            got = row[col]
            assert (want is None and pd.isna(got)) or got == pytest.approx(want, abs=1e-5), (metric, key)
        assert node["n"] == (0 if pd.isna(row["delta_n"]) else row["delta_n"]), metric
        checked += 1
    assert checked > 50
    with Store(path, read_only=True) as s:
        for metric in ("compensation_days.pdpi.mean", "seller_cost.total", "odr.max"):
            got = point_outputs(s, "sw", metric, ["old", "new"])[0]
            want = few_claims.to_dict()["delta"]["new"]
            for part in metric.split("."):
                want = want[part]
            assert (want["mean"] is None and math.isnan(got)) or got == pytest.approx(want["mean"], abs=1e-5)
