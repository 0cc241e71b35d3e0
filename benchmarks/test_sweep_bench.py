"""Sweep scaling (run by `make bench`): a 200-run sweep of the default scenario on 1 worker and on
all local cores (parallel efficiency), and on a Dask LocalCluster (against the process pool)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from azsim import load_scenario
from azsim.experiments import SweepSpec, parse_vary
from azsim.sweep import run_sweep

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _spec(seed: int) -> SweepSpec:
    base = load_scenario(ROOT / "scenarios/default.yaml")
    # 20 points x 10 replications = 200 runs, each old and new
    return SweepSpec(base, [parse_vary("seller.messages.reply_rate=0.6:1:20")], replications=10, seed=seed)


def _timed(tmp_path, executor: str, workers: int, seed: int) -> float:
    store = tmp_path / f"{executor}-{workers}-{seed}.duckdb"
    t0 = time.perf_counter()
    result = run_sweep(_spec(seed), store, executor=executor, workers=workers)
    wall = time.perf_counter() - t0
    assert result.runs_done == 200 and not result.failures
    return wall


def test_parallel_efficiency_and_dask_overhead(tmp_path):
    """Best of two timings each for the pool and Dask (the machine's own noise is about 10%)."""
    cores = os.cpu_count() or 1
    one = _timed(tmp_path, "local", 1, 1)
    pool = min(_timed(tmp_path, "local", cores, 2), _timed(tmp_path, "local", cores, 4))
    dask = min(_timed(tmp_path, "dask", cores, 3), _timed(tmp_path, "dask", cores, 5))
    efficiency = one / (cores * pool)
    figures = {"runs": 200, "cores": cores, "one_worker_s": round(one, 1), "pool_s": round(pool, 1),
               "dask_s": round(dask, 1), "parallel_efficiency": round(efficiency, 3),
               "dask_vs_pool": round(dask / pool, 3)}
    print(json.dumps(figures))
    assert efficiency >= 0.85, figures
    assert dask <= 1.15 * pool, figures
