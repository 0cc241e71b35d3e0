"""Speed and memory benchmarks (run by `make bench`, never by `make test`).

Each runs `azsim bench` in a fresh process so that peak RSS belongs to that run alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


BEFORE_ISSUE_8 = "48cbb33"
"""The last commit before issue 8 (account health, insurance and practice mechanics)."""


def _bench(orders: int, code: Path = ROOT, scenario: str | None = None, repeat: int | None = None) -> dict:
    """`azsim bench` in a fresh process with the code at ``code`` (``repeat``: timed runs in that process,
    best kept; None: the command's default, for code that predates --repeat)."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    extra = ["--scenario", scenario] if scenario else []
    if repeat is not None:
        extra += ["--repeat", str(repeat)]
    out = subprocess.run([sys.executable, "-m", "azsim.cli", "bench", "--orders", str(orders), *extra],
                         capture_output=True, text=True, cwd=code, check=True, env=env).stdout
    result = json.loads(out.strip().splitlines()[-1])
    print(json.dumps(result))
    return result


def test_one_million_orders_speed_ratio():
    r = _bench(1_000_000)
    assert r["ratio"] >= 0.1, r
    assert 0.1 <= r["incident_share"] <= 0.4, r  # realistic rates: returns and defects included


def test_ten_million_orders_stay_under_600_mb():
    r = _bench(10_000_000, repeat=1)
    assert r["peak_rss_mb"] < 600, r


def test_ratio_before_and_after_issue_8_in_one_run():
    """The mechanics of issue 8 must not make an order dearer: today's ratio >= 0.18 (the figure before
    the issue on the reference machine), measured beside the code of the commit before it."""
    if shutil.which("git") is None or subprocess.run(["git", "cat-file", "-e", BEFORE_ISSUE_8], cwd=ROOT,
                                                     capture_output=True).returncode:
        pytest.skip(f"commit {BEFORE_ISSUE_8} not in this clone")
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "before.tar"
        subprocess.run(["git", "archive", "-o", str(archive), BEFORE_ISSUE_8, "azsim", "scenarios"], cwd=ROOT,
                       check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(Path(tmp) / "before", filter="data")
        before = _bench(1_000_000, Path(tmp) / "before")
    after = _bench(1_000_000)
    print(json.dumps({"before_issue_8": before["ratio"], "after": after["ratio"],
                      "after/before": round(after["ratio"] / before["ratio"], 3)}))
    assert after["ratio"] >= 0.18, (before, after)


BEFORE_ISSUE_12 = "6ae383b"
"""The last commit before issue 12 (speed: the shared desk queue, one world per replication, blocks generated
in groups, remorse returns per group, ledger totals for comparisons)."""


def _checkout(commit: str, tmp: str) -> Path:
    archive = Path(tmp) / f"{commit}.tar"
    subprocess.run(["git", "archive", "-o", str(archive), commit, "azsim", "scenarios"], cwd=ROOT, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(Path(tmp) / commit, filter="data")
    return Path(tmp) / commit


def _best(orders: int, code: Path, scenario: str, tries: int = 3) -> dict:
    """The best of ``tries`` bench runs (other work on a shared 2-core machine only slows a run down)."""
    return max((_bench(orders, code, scenario) for _ in range(tries)), key=lambda r: r["ratio"])


def test_issue_12_ratio_before_and_after_for_every_shipped_scenario():
    """Issue 12: 1M orders of every shipped scenario, the code before the issue beside today's, in one run (best
    of three each). The goal: ratio >= 0.5 on the default scenario and >= 0.35 on negligent.yaml."""
    if shutil.which("git") is None or subprocess.run(["git", "cat-file", "-e", BEFORE_ISSUE_12], cwd=ROOT,
                                                     capture_output=True).returncode:
        pytest.skip(f"commit {BEFORE_ISSUE_12} not in this clone")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        before_code = _checkout(BEFORE_ISSUE_12, tmp)
        for path in sorted((ROOT / "scenarios").glob("*.yaml")):
            before = _best(1_000_000, before_code, str(path))  # that code's bench times one run: best of 3 processes
            after = _bench(1_000_000, ROOT, str(path), repeat=3)  # best of 3 runs in one process
            rows[path.stem] = (before, after)
    print("\n| scenario | ratio before | ratio after | orders/s after | bare SimPy events/s | incident share |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, (b, a) in rows.items():
        print(f"| {name} | {b['ratio']:.2f} | {a['ratio']:.2f} | {a['orders_per_s']:,.0f} | "
              f"{a['bare_simpy_events_per_s']:,.0f} | {a['incident_share']:.2f} |")
    print(json.dumps({k: {"before": b["ratio"], "after": a["ratio"]} for k, (b, a) in rows.items()}))
    # never slower than before on any scenario (a loose bar: the machine is shared), and the issue's goals
    assert all(a["ratio"] >= 1.2 * b["ratio"] for b, a in rows.values()), rows
    assert rows["default"][1]["ratio"] >= 0.5 and rows["negligent"][1]["ratio"] >= 0.35, rows


def test_issue_12_profile_after():
    """cProfile's top entries: 10 years of the default seller, both policies, as a comparison runs them."""
    import cProfile
    import io
    import pstats

    from azsim import load_scenario
    from azsim.simulate import run_policies

    s = load_scenario(str(ROOT / "scenarios" / "default.yaml"), {"horizon_days": 3650})
    prof = cProfile.Profile()
    prof.enable()
    run_policies(s, s.policy_names, 1, 0, entries=False)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(15)
    print(out.getvalue())


WALL_TIMES = {
    "advise": (["advise", "scenarios/default.yaml", "-q"], 10.0),
    "sensitivity (README example)": (
        ["sensitivity", "scenarios/electrical.yaml", "--vary", "seller.insurance.proof_delay_days=1:10",
         "--vary", "seller.claims.response_rate=0.5:1", "--vary", "policies.new.pdpi_claim_propensity=0.3:0.9",
         "--samples", "16", "-r", "3", "-q"], 20.0),
    "report (default scenario)": (["report", "scenarios/default.yaml", "--out", "{tmp}/report", "-q"], 15.0),
}


@pytest.mark.parametrize("name", list(WALL_TIMES))
def test_issue_12_wall_times(name, tmp_path):
    """The commands users wait for, timed end to end (best of two; the goals of issue 12 printed beside)."""
    args, goal = WALL_TIMES[name]
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "azsim.cli", *args], cwd=ROOT, check=True, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
        times.append(time.perf_counter() - t0)
    print(json.dumps({"command": name, "wall_s": round(min(times), 2), "goal_s": goal}))
    assert min(times) < 3 * goal  # a loose bar on a shared machine; the figures go in README
