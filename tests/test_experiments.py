"""Factors, designs, sweep files, executors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from azsim import ScenarioError, scenario_from_dict
from azsim.executors import ExecutorError, InlineExecutor, LocalExecutor, make_executor
from azsim.experiments import SweepSpec, load_sweep, parse_vary
from azsim.sweep import Task, run_task

BASE = scenario_from_dict({"horizon_days": 40, "market": {"orders_per_day": 15}})


def test_parse_vary_ranges_and_lists():
    f = parse_vary("seller.messages.reply_rate=0.5:1:3")
    assert f.grid_values() == [0.5, 0.75, 1.0]
    g = parse_vary("seller.insurance.carry=always,never")
    assert g.grid_values() == ["always", "never"]
    assert g.from_unit(0.0) == "always" and g.from_unit(0.99) == "never"
    for bad in ("seller.staff", "x=1:", "x=a:b:c", "x=2:1:3", "x=0:1:0"):
        with pytest.raises(ScenarioError):
            parse_vary(bad)


def test_grid_design_is_the_full_product_and_integers_stay_integers():
    factors = [parse_vary("seller.support.staff=1:3:3"), parse_vary("seller.insurance.carry=always,never")]
    spec = SweepSpec(BASE, factors)
    pts = spec.points()
    assert len(pts) == 6
    assert {p["seller.support.staff"] for p in pts} == {1, 2, 3}
    assert all(isinstance(p["seller.support.staff"], int) for p in pts)
    assert len(spec.validate()) == 6


def test_lhs_design_stratifies_each_factor():
    spec = SweepSpec(BASE, [parse_vary("seller.listing_accuracy=0:1:2"), parse_vary("seller.packaging_quality=0:1:2")],
                     design="lhs", samples=20, seed=3)
    pts = np.array([[p["seller.listing_accuracy"], p["seller.packaging_quality"]] for p in spec.points()])
    assert pts.shape == (20, 2)
    for j in range(2):  # one point in each of the 20 strata of every factor
        assert sorted(np.floor(pts[:, j] * 20).astype(int)) == list(range(20))
    again = SweepSpec(BASE, spec.factors, design="lhs", samples=20, seed=3)
    assert again.points() == spec.points() and again.sweep_id == spec.sweep_id


def test_sweep_id_changes_with_the_spec():
    a = SweepSpec(BASE, [parse_vary("seller.listing_accuracy=0:1:3")])
    b = SweepSpec(BASE, [parse_vary("seller.listing_accuracy=0:1:4")])
    c = SweepSpec(BASE, [parse_vary("seller.listing_accuracy=0:1:3")], replications=6)
    assert len({a.sweep_id, b.sweep_id, c.sweep_id}) == 3


@pytest.mark.parametrize(
    "vary, needle",
    [
        ("seller.suport.staff=1:2:2", "did you mean seller.support?"),
        ("seller.listing_accuracy=0.5:1.5:3", "seller.listing_accuracy: input should be less than or equal to 1"),
        ("seller.insurance.carry=always,sometimes", "seller.insurance.carry"),
    ],
)
def test_bad_factor_paths_and_values_fail_before_running(vary, needle):
    spec = SweepSpec(BASE, [parse_vary(vary)])
    with pytest.raises(ScenarioError) as err:
        spec.validate()
    assert any(needle in p for p in err.value.problems), err.value.problems


def test_sweep_file(tmp_path):
    (tmp_path / "base.yaml").write_text("horizon_days: 40\nmarket: {orders_per_day: 15}\n")
    f = tmp_path / "sweep.yaml"
    f.write_text(
        "scenario: base.yaml\n"
        "set: {seller.support.staff: 2}\n"
        "factors:\n"
        "  seller.messages.reply_rate: {low: 0.5, high: 1.0, steps: 2}\n"
        "  seller.insurance.carry: [always, never]\n"
        "design: grid\nreplications: 3\nseed: 9\n"
    )
    spec = load_sweep(f)
    assert spec.base.seller.support.staff == 2 and spec.replications == 3 and spec.seed == 9
    assert len(spec.points()) == 4


@pytest.mark.parametrize(
    "text, needle",
    [
        ("scenario: base.yaml\nfactors: {}\n", "factors: missing or empty"),
        ("scenario: base.yaml\nfactor: {a: [1]}\n", "did you mean factors?"),
        ("scenario: nope.yaml\nfactors: {seller.listing_accuracy: [0.5]}\n", "file not found"),
        ("scenario: base.yaml\nfactors: {seller.listing_accuracy: [0.5]}\ndesign: sobolev\n",
         "design: input should be 'grid', 'lhs', 'sobol' or 'oat'"),
        ("scenario: base.yaml\nfactors: {seller.listing_accuracy: {low: 0}}\n",
         "factors.seller.listing_accuracy: a range needs low and high"),
        ("scenario: base.yaml\nfactors: {seller.listing_accuracy: [0.5]}\nreplications: some\n",
         "replications: a whole number from 1 to 100,000 or auto, got 'some'"),
        ("scenario: base.yaml\nfactors: {x: [1]}\ndesign: sobol\nsamples: 10\n", "power of 2"),
    ],
)
def test_bad_sweep_files_name_the_field(tmp_path, text, needle):
    (tmp_path / "base.yaml").write_text("horizon_days: 40\n")
    f = tmp_path / "sweep.yaml"
    f.write_text(text)
    with pytest.raises(ScenarioError) as err:
        load_sweep(f)
    assert any(needle in p for p in err.value.problems), err.value.problems


def _tasks():
    spec = SweepSpec(BASE, [parse_vary("seller.messages.reply_rate=0.5:1:2")])
    scen = spec.validate()
    return [Task(p, r, scen[p], 5) for p in range(2) for r in range(3)]


def _plain(results):
    """NaN-safe comparable form of {task: metrics}."""
    return {k: json.dumps(v, sort_keys=True, default=float).replace("NaN", "null") for k, v in results.items()}


def test_executors_give_identical_results_whatever_the_order():
    tasks = _tasks()
    inline = {(t.point, t.replication): out["metrics"] for t, out in InlineExecutor().run(run_task, tasks)}
    with LocalExecutor(workers=2) as ex:
        local = {(t.point, t.replication): out["metrics"] for t, out in ex.run(run_task, list(reversed(tasks)))}
    assert len(inline) == len(tasks) and _plain(inline) == _plain(local)


def test_a_failing_run_is_returned_with_its_error():
    bad = Task(0, 0, None, 1)  # not a scenario: the run raises inside
    out = run_task(bad)
    assert out["metrics"] is None and "Error" in out["error"]


def test_unknown_executor():
    with pytest.raises(ExecutorError):
        make_executor("threads")


def test_dask_local_cluster_gives_the_same_results_as_inline_and_the_pool():
    from azsim.executors import DaskExecutor

    tasks = _tasks()
    inline = {(t.point, t.replication): out["metrics"] for t, out in InlineExecutor().run(run_task, tasks)}
    with DaskExecutor(workers=2) as ex:
        assert ex.workers == 2
        dask = {(t.point, t.replication): out["metrics"] for t, out in ex.run(run_task, tasks)}
    assert len(dask) == len(tasks) and _plain(inline) == _plain(dask)


def test_unreachable_dask_scheduler_is_a_clear_error():
    with pytest.raises(ExecutorError, match="127.0.0.1:1"):
        make_executor("dask://127.0.0.1:1")
