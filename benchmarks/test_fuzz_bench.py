"""The input fuzz at scale (run by `make bench`): thousands of mutated scenario files, --set values
and sweep files (tests/fuzzing.py), and in-domain extremes (every numeric field at its bounds,
random combinations of them) run through `compare`. Every case must exit 0 or 2 within its time
limit, with no traceback."""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import fuzzing  # noqa: E402
from conftest import schema_leaves  # noqa: E402

from azsim.policy import Policy  # noqa: E402
from azsim.scenario import Scenario, field_info  # noqa: E402

pytestmark = pytest.mark.slow
BUDGET = ["--max-memory", "1500", "--max-orders", "2e7"]


def test_fuzz_at_scale():
    counts: dict[str, int] = {}
    bad = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i, (family, kind, data) in enumerate(fuzzing.cases(3000, 1500, 400, seed=2021)):
            for what, outcome, _took, err in fuzzing.run_case(family, data, Path(tmp), 20.0, compare_every=2,
                                                             index=i, budget=BUDGET if family != "sweep" else None):
                counts[outcome] = counts.get(outcome, 0) + 1
                if outcome not in ("ok", "refused"):
                    bad.append((i, family, kind, what, outcome, err[-300:]))
    print(f"\nfuzz: 4,900 inputs, {sum(counts.values())} runs in {time.perf_counter() - t0:.0f} s: {counts}")
    assert not bad, bad[:20]


def _numeric_paths():
    paths = [p for p, _ in schema_leaves(Scenario) if p != "policies"]
    paths += [f"policies.{n}.{p}" for n in ("old", "new") for p, _ in schema_leaves(Policy)]
    out = []
    for p in paths:
        info = field_info(p)
        if info["type"] in (int, float) and info["low"] is not None and info["high"] is not None:
            out.append((p, info))
    return out


def test_in_domain_extremes_run_or_are_refused():
    """Each numeric field at its lower and upper bound, then 300 random combinations of up to 12
    fields at or near their bounds: a valid scenario runs (or is refused by the cost check)."""
    fields = _numeric_paths()
    argv0 = ["compare", str(ROOT / "scenarios" / "default.yaml"), "-r", "1", "--json", "-", *BUDGET]
    cases = []
    for path, info in fields:
        for v in (info["low"], info["high"]):
            cases.append([f"{path}={v}"])
    rnd = random.Random(7)
    for _ in range(300):
        sets = []
        for path, info in rnd.sample(fields, rnd.randint(1, 12)):
            lo, hi = float(info["low"]), float(info["high"])
            r = rnd.random()
            v = hi if r < 0.3 else lo if r < 0.45 else lo + (hi - lo) * rnd.random() ** 4
            sets.append(f"{path}={int(round(v)) if info['type'] is int else v}")
        cases.append(sets)
    counts: dict[str, int] = {}
    bad = []
    t0 = time.perf_counter()
    for sets in cases:
        argv = [*argv0, "--set", "horizon_days=91"]
        for s in sets:
            argv += ["--set", s]
        outcome, _, err, took = fuzzing.run_cli(argv, 120.0)
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome not in ("ok", "refused"):
            bad.append((sets, outcome, err[-300:]))
    print(f"\nextremes: {len(cases)} compares in {time.perf_counter() - t0:.0f} s: {counts}")
    assert not bad, bad[:20]
