"""The cost estimate (azsim.scenario.estimate) models what a run holds since issue 12: comparisons keep
ledger totals, not entries; the policies of a replication walk one world; worlds are kept across
comparisons up to the cache's budget (the advisor's larger one while it runs, in this process or in each
pool worker); pool workers each hold their own. Figures measured by benchmarks/test_estimate_bench.py are in
comments."""

from __future__ import annotations

from pathlib import Path

import pytest

import azsim.scenario
import azsim.world
from azsim import ScenarioError, load_scenario
from azsim.advisor import WORLDS_MB
from azsim.cli import main
from azsim.scenario import check_budget, estimate

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = str(ROOT / "scenarios" / "default.yaml")
MIB = 2**20 / 1e6  # the cache's budget is in MiB, the estimate's memory in MB


def worlds(s, replications, workers=None, kept=None) -> float:
    """MB the estimate counts for kept worlds: with the cache, less without it."""
    with_cache = estimate(s, replications, workers=workers, kept_worlds_mb=kept)["memory_mb"]
    return with_cache - estimate(s, replications, workers=workers, kept_worlds_mb=0)["memory_mb"]


def test_the_estimate_mirrors_the_worlds_own_constants():
    assert azsim.scenario._BLOCK_DAYS == azsim.world.BLOCK_DAYS
    assert azsim.scenario._GROUP_ORDERS == azsim.world.GROUP_ORDERS
    assert azsim.scenario._WORLD_CACHE_MB == azsim.world.WORLD_CACHE_MB
    assert azsim.scenario._BYTES_PER_KEPT_ORDER == azsim.world._BYTES_PER_KEPT_ORDER


def test_kept_worlds_grow_with_the_replications_up_to_the_cache_budget():
    s = load_scenario(DEFAULT)  # 21,900 orders a year: 6.6 MB a world by the cache's count
    world = 21_900 * azsim.scenario._BYTES_PER_KEPT_ORDER / 1e6
    assert worlds(s, 1) == pytest.approx(world)
    assert worlds(s, 5) == pytest.approx(5 * world)
    assert worlds(s, 20) == pytest.approx(64 * MIB)  # ten of twenty fit in 64 MB (measured: 213 MB in all)
    assert worlds(s, 1000) == pytest.approx(64 * MIB)
    # the advisor keeps up to 256 MB while it runs in this process (measured: advise --workers 1, 320 MB)
    assert worlds(s, 20 * 9, kept=WORLDS_MB) == pytest.approx(256 * MIB)
    assert worlds(s, 20, kept=WORLDS_MB) == pytest.approx(20 * world)
    # each pool worker keeps its own, from the replications it runs
    assert worlds(s, 4, workers=2) == pytest.approx(2 * 2 * world)
    assert worlds(s, 1000, workers=2) == pytest.approx(2 * 64 * MIB)
    assert worlds(s, 0) == 0 and estimate(s, 0)["memory_mb"] == pytest.approx(azsim.scenario._PROCESS_MB)


def test_a_world_over_a_quarter_of_the_budget_is_not_counted():
    busy = load_scenario(DEFAULT, {"market.orders_per_day": 200})  # 73,000 orders: 21.9 MB > 64 MB / 4
    assert worlds(busy, 20) == 0
    assert worlds(busy, 20, kept=WORLDS_MB) == pytest.approx(256 * MIB)  # under a quarter of 256
    long = load_scenario(DEFAULT, {"horizon_days": 36_500})
    assert worlds(long, 1) == 0 and worlds(long, 1, kept=WORLDS_MB) == 0


def test_a_comparison_does_not_count_entries_it_does_not_keep():
    # 100 years of the default seller, one replication: 2.19 million orders per policy. Measured peak 187 to
    # 204 MB (azsim compare --set horizon_days=36500 -r 1); the constants from before issue 12 (270 bytes per
    # order of the horizon, for ledger entries a comparison no longer keeps) said 746 MB.
    long = load_scenario(DEFAULT, {"horizon_days": 36_500})
    assert 150 < estimate(long, 1)["memory_mb"] < 400
    # synth-reports keeps every order's records and ledger entries (measured: about 920 bytes an order)
    assert estimate(long, 1, entries=True)["memory_mb"] > 10 * estimate(long, 1)["memory_mb"]
    # the group of blocks in flight, not the horizon, sets a busy seller's size (measured: 20,000 orders a
    # day for 56 days, 311 MB over the process's own)
    busy = load_scenario(DEFAULT, {"market.orders_per_day": 20_000, "horizon_days": 56})
    assert 250 < estimate(busy, 1)["memory_mb"] - estimate(busy, 0)["memory_mb"] < 700


def test_a_huge_run_is_still_refused_naming_the_flag():
    s = load_scenario(DEFAULT)
    with pytest.raises(ScenarioError, match=r"needs about [\d.]+ GB of memory \(limit 4.0 GB; --max-memory MB"):
        check_budget(estimate(s, 100_000))
    with pytest.raises(ScenarioError, match="--max-orders N to raise it"):
        check_budget(estimate(s.with_overrides({"market.orders_per_day": 1e6}), 20))


@pytest.fixture
def seen(monkeypatch):
    """The keyword arguments of each estimate the CLI makes; the run stops at its budget check."""
    calls = []

    def spy(*args, **kw):
        calls.append(kw)
        raise ScenarioError(["stopped by the test"])

    monkeypatch.setattr(azsim.scenario, "estimate", spy)
    return calls


@pytest.mark.parametrize("argv, kept, workers", [
    (["advise", DEFAULT, "--workers", "1"], WORLDS_MB, None),  # in this process, with the advisor's cache
    (["advise", DEFAULT, "--workers", "2"], WORLDS_MB, 2),  # each worker keeps the advisor's cache (sent with tasks)
    (["report", DEFAULT, "--out", "{tmp}/rep"], WORLDS_MB, None),
    (["compare", DEFAULT], None, None),
])
def test_the_cli_tells_the_estimate_who_keeps_worlds(argv, kept, workers, seen, tmp_path, capsys):
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    assert "stopped by the test" in capsys.readouterr().err
    assert seen[0].get("kept_worlds_mb") == kept and seen[0].get("workers") == workers


def test_synth_reports_counts_the_entries_it_keeps(tmp_path, capsys, monkeypatch):
    # 1,000 orders a day for ten years: a comparison's totals would fit (about 300 MB), every order's records
    # and entries do not (about 7 GB)
    import azsim.calibrate

    def boom(*a, **k):
        raise AssertionError("synth_reports() must not be called")

    monkeypatch.setattr(azsim.calibrate, "synth_reports", boom)
    out = tmp_path / "reports"
    assert main(["synth-reports", DEFAULT, "--out", str(out), "--days", "3650",
                 "--set", "market.orders_per_day=1000"]) == 2
    err = capsys.readouterr().err
    assert "the simulation needs about" in err and "GB of memory" in err and "Traceback" not in err
    assert not out.exists()
