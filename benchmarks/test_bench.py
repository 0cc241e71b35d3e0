"""Speed and memory benchmarks (run by `make bench`, never by `make test`).

Each runs `azsim bench` in a fresh process so that peak RSS belongs to that run alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _bench(orders: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "azsim.cli", "bench", "--orders", str(orders)],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    print(json.dumps(result))
    return result


def test_one_million_orders_speed_ratio():
    r = _bench(1_000_000)
    assert r["ratio"] >= 0.1, r
    assert 0.1 <= r["incident_share"] <= 0.4, r  # realistic rates: returns and defects included


def test_ten_million_orders_stay_under_1000_mb():
    r = _bench(10_000_000)
    assert r["peak_rss_mb"] < 1000, r
