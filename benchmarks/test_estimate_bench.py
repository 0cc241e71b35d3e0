"""The cost estimate against what runs really need (run by `make bench`, never by `make test`).

``azsim.scenario.estimate`` predicts a run's peak memory and one-core seconds before anything runs;
``compare``, ``advise``, ``report``, ``sweep`` and ``sensitivity`` refuse a run over ``--max-memory`` or
``--max-orders`` from it. Here each case runs in a fresh process: its peak memory is the process's own
peak RSS (VmHWM at exit) for a run in one process, and the peak of its RSS plus its workers' unique
memory (USS, sampled every 50 ms: a forked worker shares the rest) for a run on a pool; its seconds are
the CPU seconds of the process and its workers after the imports. The table prints estimated, measured
and their ratio; each ratio must lie in a band: memory measured/estimated in [0.5, 2], seconds in
[0.33, 3] (the docstring promises "within a factor of about 2").

Seconds depend on the engine: the bench also prints the two constants that fit the cases best
(orders x policies per second, seconds per simulated day and policy; least squares on relative error),
to be copied into azsim/scenario.py when the engine changes speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import psutil
import pytest
from scipy.optimize import nnls

from azsim import load_scenario
from azsim.advisor import WORLDS_MB
from azsim.cli import _advisor_comparisons
from azsim.experiments import SweepSpec, parse_vary
from azsim.scenario import estimate

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
pytestmark = pytest.mark.slow

MEMORY_BAND = (0.5, 2.0)  # measured / estimated
SECONDS_BAND = (0.33, 3.0)


_LAUNCH = """
import atexit, json, os, resource, sys

def _cpu():
    return sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for f in ("ru_utime", "ru_stime"))

def _report():  # this process's own peak RSS (ru_maxrss would carry the parent's across exec)
    line = next(x for x in open("/proc/self/status") if x.startswith("VmHWM:"))
    with open(os.environ["AZSIM_PEAK_FILE"], "w") as f:
        json.dump({"peak_kb": int(line.split()[1]), "start_cpu_s": START}, f)

import importlib
import azsim.cli
for name in os.environ["AZSIM_PRELOAD"].split():  # what the command imports anyway
    importlib.import_module(name)
START = _cpu()  # imports done: what follows is the command (reading the scenario, simulating, writing)
atexit.register(_report)
sys.argv = ["azsim", *sys.argv[1:]]
sys.exit(azsim.cli.main())
"""


PRELOAD = {  # modules each command imports before it simulates
    "compare": ["azsim.comparison", "azsim.headline"],
    "advise": ["azsim.advisor", "azsim.comparison", "azsim.executors"],
    "sweep": ["azsim.sweep", "azsim.store", "azsim.executors"],
    "sensitivity": ["azsim.sensitivity", "azsim.sweep", "azsim.store", "azsim.executors"],
}


def _tree_bytes(proc: psutil.Process) -> float:
    """Bytes of ``proc``'s RSS and its descendants' unique set sizes (the pages only they hold: a forked
    worker shares the rest with its parent)."""
    total = 0.0
    for k, p in enumerate([proc, *proc.children(recursive=True)]):
        try:
            total += p.memory_info().rss if k == 0 else p.memory_full_info().uss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def measure(args: list[str]) -> dict:
    """Run ``azsim ARGS`` in a fresh process: its own peak RSS (MB, from /proc/self/status at exit), the
    peak of its RSS plus its workers' unique memory (MB, sampled every 50 ms), the CPU seconds of all of
    them after the imports (the command's own work) and the wall seconds."""
    with tempfile.NamedTemporaryFile("r", suffix=".peak") as peak_file:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "AZSIM_PEAK_FILE": peak_file.name,
               "AZSIM_PRELOAD": " ".join(PRELOAD[args[0]])}
        t0 = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", _LAUNCH, *args], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        peak = [0.0]
        done = threading.Event()

        def sample():
            proc = psutil.Process(child.pid)
            while not done.is_set():
                try:
                    peak[0] = max(peak[0], _tree_bytes(proc))
                except psutil.NoSuchProcess:
                    return
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        done.set()
        sampler.join()
        wall = time.perf_counter() - t0
        err = child.stderr.read().decode()
        child.stderr.close()
        child.returncode = os.waitstatus_to_exitcode(status)
        assert child.returncode == 0, (args, err)
        report = json.loads(peak_file.read())
    own = report["peak_kb"] / 1024
    return {"own_mb": own, "tree_mb": max(own, peak[0] / 2**20),
            "cpu_s": usage.ru_utime + usage.ru_stime - report["start_cpu_s"], "wall_s": wall}


DEFAULT = str(SCENARIOS / "default.yaml")


def _cases(tmp: Path) -> list[dict]:
    """Each case: a label, the CLI arguments, the estimate the CLI checks for it, whether it runs on a pool,
    the simulation's size (orders x policies x runs, days x policies x runs) for the fit."""
    s = load_scenario(DEFAULT)

    def compare(label, path, reps, **sets):
        sc = load_scenario(path, {k.replace("__", "."): v for k, v in sets.items()})
        extra = [x for k, v in sets.items() for x in ("--set", f"{k.replace('__', '.')}={v}")]
        return {"case": label, "args": ["compare", path, "-r", str(reps), "--quiet", *extra],
                "estimate": estimate(sc, reps), "pool": False, "days": sc.horizon_days * len(sc.policies) * reps}

    def advise(label, workers, reps=20):
        comparisons = _advisor_comparisons()
        # as the CLI asks: the advisor's world budget in this process, or in each worker (sent with its tasks)
        kw = {"workers": workers if workers > 1 else None, "kept_worlds_mb": WORLDS_MB}
        return {"case": label, "args": ["advise", DEFAULT, "-r", str(reps), "--workers", str(workers), "--quiet"],
                "estimate": estimate(s, reps * comparisons, **kw), "pool": workers > 1,
                "days": s.horizon_days * len(s.policies) * reps * comparisons}

    sweep = SweepSpec(s, [parse_vary("seller.messages.reply_rate=0.6:1:5")], replications=4)
    sens = SweepSpec(s, [parse_vary("seller.messages.reply_rate=0.6:1"), parse_vary("seller.listing_accuracy=0.9:1")],
                     replications=2, design="sobol", samples=4)
    sens_cost = sens.estimate(2)
    oat = replace(sens, design="oat", _points=None).estimate(2)
    sens_cost = {k: sens_cost[k] + oat[k] if k != "memory_mb" else max(sens_cost[k], oat[k]) for k in sens_cost}
    return [
        compare("compare default 1 y x 20", DEFAULT, 20),
        compare("compare default 10 y x 3", DEFAULT, 3, horizon_days=3650),
        compare("compare default 100 y x 1", DEFAULT, 1, horizon_days=36500),
        compare("compare fba_heavy 1 y x 20", str(SCENARIOS / "fba_heavy.yaml"), 20),
        compare("compare negligent 1 y x 20", str(SCENARIOS / "negligent.yaml"), 20),
        compare("compare 2000/day 91 d x 2", DEFAULT, 2, market__orders_per_day=2000, horizon_days=91),
        compare("compare 150/day 1 y x 20", DEFAULT, 20, market__orders_per_day=150),
        compare("compare 2/day 10 y x 5", DEFAULT, 5, market__orders_per_day=2, horizon_days=3650),
        advise("advise default, 1 worker", 1),
        advise("advise default, 2 workers", 2),
        {"case": "sweep 5 points x 4, 2 workers",
         "args": ["sweep", DEFAULT, "--vary", "seller.messages.reply_rate=0.6:1:5", "-r", "4", "--workers", "2",
                  "--quiet", "--out", str(tmp / "sweep.duckdb")],
         "estimate": sweep.estimate(2), "pool": True, "days": s.horizon_days * len(s.policies) * 4 * 5},
        {"case": "sensitivity 2 factors, 4 samples x 2",
         "args": ["sensitivity", DEFAULT, "--vary", "seller.messages.reply_rate=0.6:1", "--vary",
                  "seller.listing_accuracy=0.9:1", "--samples", "4", "-r", "2", "--workers", "2", "--quiet",
                  "--out", str(tmp / "sens.duckdb")],
         "estimate": sens_cost, "pool": True, "days": s.horizon_days * len(s.policies) * sens_cost["runs"]},
    ]


def _fit_seconds(rows: list[dict]) -> tuple[float, float]:
    """Orders x policies per second and seconds per simulated day and policy that fit
    cpu = orders / ops + days * spd best (least squares on relative error, both terms non-negative)."""
    a = np.array([[r["orders"], r["days"]] for r in rows], float)
    y = np.array([r["cpu_s"] for r in rows], float)
    w = 1 / np.maximum(y, 0.5)
    coef, _ = nnls(a * w[:, None], y * w)
    return (1 / coef[0] if coef[0] > 0 else float("inf")), float(coef[1])


def _fitted(rows: list[dict]) -> str:
    ops, spd = _fit_seconds(rows)
    return (f"fitted on these cases (azsim/scenario.py): _ORDERS_PER_SECOND = {ops:,.0f}, "
            f"_SECONDS_PER_DAY = {spd:.3g}")


def run_cases(only: set[str] | None = None) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for case in _cases(Path(tmp)):
            if only and not any(o in case["case"] for o in only):
                continue
            m = measure(case["args"])
            est = case["estimate"]
            memory = m["tree_mb"] if case["pool"] else m["own_mb"]
            cpu = max(0.01, m["cpu_s"])
            rows.append({"case": case["case"], "est_mb": est["memory_mb"], "mb": memory,
                         "mem_ratio": memory / est["memory_mb"], "est_s": est["seconds"], "cpu_s": cpu,
                         "s_ratio": cpu / est["seconds"], "wall_s": m["wall_s"], "orders": est["orders"],
                         "days": case["days"]})
            print(_line(rows[-1]), flush=True)
    return rows


HEADER = (f"{'case':<38} {'est MB':>8} {'meas MB':>8} {'ratio':>6}  {'est s':>7} {'cpu s':>7} {'ratio':>6}"
          f" {'wall s':>7}")


def _line(r: dict) -> str:
    return (f"{r['case']:<38} {r['est_mb']:>8.0f} {r['mb']:>8.0f} {r['mem_ratio']:>6.2f}  {r['est_s']:>7.1f} "
            f"{r['cpu_s']:>7.1f} {r['s_ratio']:>6.2f} {r['wall_s']:>7.1f}")


def test_estimates_are_within_a_factor_of_what_runs_need():
    print("\n" + HEADER)
    rows = run_cases()
    print(_fitted(rows))
    bad_memory = [r["case"] for r in rows if not MEMORY_BAND[0] <= r["mem_ratio"] <= MEMORY_BAND[1]]
    bad_seconds = [r["case"] for r in rows if not SECONDS_BAND[0] <= r["s_ratio"] <= SECONDS_BAND[1]]
    assert not bad_memory, bad_memory
    assert not bad_seconds, bad_seconds


if __name__ == "__main__":  # python benchmarks/test_estimate_bench.py [case substring ...]
    print(HEADER)
    out = run_cases(set(sys.argv[1:]) or None)
    print(_fitted(out))
    print(json.dumps(out))
