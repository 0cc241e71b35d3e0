"""Sweeps end to end: designs, the store, resume after SIGKILL, failures, locking, auto replications."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from azsim import scenario_from_dict
from azsim.cli import main
from azsim.experiments import SweepSpec, parse_vary
from azsim.store import Store, load
from azsim.sweep import run_sweep

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--set", "horizon_days=60", "--set", "market.orders_per_day=20"]


def _metrics(path) -> list[tuple]:
    m = load(path)["metrics"]
    m = m.sort_values(["point_id", "replication", "policy", "metric"])
    rows = m[["point_id", "replication", "policy", "metric", "value"]].itertuples(index=False)
    return [(p, r, pol, k, None if v is None or v != v else v) for p, r, pol, k, v in rows]  # NaN -> None


def test_grid_sweep_end_to_end_and_rerun_resumes(tmp_path, capsys):
    out = tmp_path / "s.duckdb"
    args = ["sweep", "scenarios/default.yaml", "--vary", "seller.messages.reply_rate=0.5:1:3",
            "--vary", "seller.insurance.carry=always,never", "-r", "2", "--out", str(out), "--executor", "inline",
            "-q", *SMALL]
    assert main(args) == 0
    assert "6 points, 12 runs done now, 0 already stored, 0 failed" in capsys.readouterr().out
    first = _metrics(out)
    tables = load(out)
    assert len(tables["points"]) == 6 and len(tables["runs"]) == 12
    assert {"old", "new"} == set(tables["metrics"]["policy"])
    summary = tables["point_summary"]
    assert len(summary) and summary["n"].max() == 2
    assert main(args) == 0  # the same command again: nothing to do
    assert "0 runs done now, 12 already stored" in capsys.readouterr().out
    assert _metrics(out) == first


@pytest.mark.parametrize("design, samples, points", [("lhs", 5, 5), ("sobol", 2, 8)])
def test_lhs_and_sobol_designs_end_to_end(tmp_path, design, samples, points):
    out = tmp_path / f"{design}.duckdb"
    rc = main(["sweep", "scenarios/default.yaml", "--vary", "seller.listing_accuracy=0.5:1",
               "--vary", "seller.packaging_quality=0.5:1", "--design", design, "--samples", str(samples),
               "-r", "1", "--out", str(out), "--executor", "inline", "-q", *SMALL])
    assert rc == 0
    pts = load(out)["points"]
    assert len(pts) == points


def test_results_are_the_same_on_every_executor(tmp_path):
    base = scenario_from_dict({"horizon_days": 60, "market": {"orders_per_day": 20}})
    spec = SweepSpec(base, [parse_vary("seller.messages.reply_rate=0.5:1:3")], replications=2, seed=4)
    run_sweep(spec, tmp_path / "a.duckdb", executor="inline")
    run_sweep(spec, tmp_path / "b.duckdb", executor="local", workers=2)
    assert _metrics(tmp_path / "a.duckdb") == _metrics(tmp_path / "b.duckdb")


def test_a_failing_run_is_stored_and_the_rest_goes_on(tmp_path, monkeypatch):
    import azsim.sweep as sweep_module

    real = sweep_module.run_replication

    def flaky(scenario, seed, replication):
        if scenario.seller.messages.reply_rate == 1.0 and replication == 1:
            raise RuntimeError("boom at the last point")
        return real(scenario, seed, replication)

    monkeypatch.setattr(sweep_module, "run_replication", flaky)
    base = scenario_from_dict({"horizon_days": 40, "market": {"orders_per_day": 10}})
    spec = SweepSpec(base, [parse_vary("seller.messages.reply_rate=0.5:1:2")], replications=2)
    res = run_sweep(spec, tmp_path / "f.duckdb", executor="inline")
    assert res.runs_done == 4 and len(res.failures) == 1
    assert res.failures[0][:2] == (1, 1) and "boom at the last point" in res.failures[0][2]
    assert "failed: point 1, replication 1: RuntimeError: boom at the last point" in res.format()
    runs = load(tmp_path / "f.duckdb")["runs"]
    assert sorted(runs["status"]) == ["error", "ok", "ok", "ok"]


def test_bad_vary_writes_nothing(tmp_path):
    out = tmp_path / "bad.duckdb"
    p = subprocess.run([sys.executable, "-m", "azsim.cli", "sweep", "scenarios/default.yaml", "--vary",
                        "seller.suport.staff=1:3:3", "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 2 and "did you mean seller.support?" in p.stderr and "Traceback" not in p.stderr
    assert not out.exists()


def _sweep_cmd(out: Path, reps: int = 4) -> list[str]:
    return [sys.executable, "-m", "azsim.cli", "sweep", "scenarios/default.yaml", "--vary",
            "seller.messages.reply_rate=0.6:1:5", "-r", str(reps), "--out", str(out), "--executor", "inline", "-q"]


def test_kill_9_and_resume_gives_the_uninterrupted_result(tmp_path):
    whole = tmp_path / "whole.duckdb"
    t0 = time.perf_counter()
    subprocess.run(_sweep_cmd(whole), cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    with Store(whole, read_only=True) as s:
        total = len(s.finished(load(whole)["sweeps"]["sweep_id"][0]))
    assert total == 20

    killed = tmp_path / "killed.duckdb"
    proc = subprocess.Popen(_sweep_cmd(killed), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.6 * wall)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    part = load(killed)
    done_before = len(part["runs"])
    assert 0 < done_before < total, f"the kill landed outside the run ({done_before} of {total})"
    subprocess.run(_sweep_cmd(killed), cwd=ROOT, check=True, capture_output=True)
    assert _metrics(killed) == _metrics(whole)
    assert len(load(killed)["runs"]) == total


def test_a_second_writer_gets_a_clear_error(tmp_path):
    out = tmp_path / "busy.duckdb"
    proc = subprocess.Popen(_sweep_cmd(out, reps=8), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if out.exists():
                break
            time.sleep(0.1)
        time.sleep(0.5)
        p = subprocess.run(_sweep_cmd(out), capture_output=True, text=True, cwd=ROOT)
        assert p.returncode == 2, p.stderr
        assert "in use" in p.stderr and "Traceback" not in p.stderr
    finally:
        proc.kill()
        proc.wait()


def test_auto_replications_reach_the_precision_or_say_capped(tmp_path):
    base = scenario_from_dict({"horizon_days": 90, "market": {"orders_per_day": 30},
                               "policies": {"old": {}, "new": {"pdpi_claim_propensity": 1.0}},
                               "incidents": {"product_safety": 0.002}})
    loose = SweepSpec(base, [parse_vary("seller.support.staff=1,2")], replications="auto", precision=0.5,
                      max_replications=40)
    res = run_sweep(loose, tmp_path / "auto.duckdb", executor="inline")
    assert all(res.converged.values()) and min(res.replications.values()) >= 10  # 5 + the look-ahead
    with Store(tmp_path / "auto.duckdb", read_only=True) as s:
        b = s.run_values(loose.sweep_id, "seller_cost.total", "old")
        n = s.run_values(loose.sweep_id, "seller_cost.total", "new")
    d = (n.sort_values(["point_id", "replication"])["value"].to_numpy()
         - b.sort_values(["point_id", "replication"])["value"].to_numpy())
    assert np.isfinite(d).all()
    tight = SweepSpec(base, [parse_vary("seller.support.staff=1")], replications="auto", precision=0.001,
                      max_replications=7)
    res = run_sweep(tight, tmp_path / "auto.duckdb", executor="inline")
    assert res.converged == {0: False} and res.replications == {0: 7}
    assert "0 of 1 points reached the precision" in res.format()


@pytest.mark.parametrize("seconds, batch, sizes", [
    (0.0, 16, [1] * 10),  # runs that arrive after the write interval: each written as it finishes
    (3600.0, 4, [1, 4, 4, 1]),  # runs that arrive soon after a write: several to a transaction
])
def test_finished_runs_are_written_as_they_finish_several_at_a_time_when_they_come_fast(
        tmp_path, monkeypatch, seconds, batch, sizes):
    import azsim.sweep

    writes = []
    real = Store.write_runs

    def write_runs(self, sweep_id, runs):
        writes.append(len(runs))
        return real(self, sweep_id, runs)

    monkeypatch.setattr(Store, "write_runs", write_runs)
    monkeypatch.setattr(azsim.sweep, "WRITE_SECONDS", seconds)
    monkeypatch.setattr(azsim.sweep, "WRITE_RUNS", batch)
    base = scenario_from_dict({"horizon_days": 30, "market": {"orders_per_day": 10}})
    spec = SweepSpec(base, [parse_vary("seller.messages.reply_rate=0.5:1:2")], replications=5, seed=3)
    result = run_sweep(spec, tmp_path / "s.duckdb", executor="inline")
    assert writes == sizes and result.runs_done == 10
    tables = load(tmp_path / "s.duckdb")
    assert len(tables["runs"]) == 10 and set(tables["metrics"]["replication"]) == set(range(5))
