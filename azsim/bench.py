"""Speed and memory benchmark: azsim's cost per order against SimPy's bare event loop."""

from __future__ import annotations

import resource
import sys
import time

import simpy

from .scenario import Scenario
from .simulate import run_policies
from .world import World


def bare_simpy_events_per_s(n_events: int = 300_000) -> float:
    """Events per second of the simplest SimPy model: one process yielding ``env.timeout(1)``."""

    def chain(env, n):
        timeout = env.timeout
        for _ in range(n):
            yield timeout(1)

    best = 0.0
    for _ in range(3):
        env = simpy.Environment()
        env.process(chain(env, n_events))
        t0 = time.perf_counter()
        env.run()
        best = max(best, n_events / (time.perf_counter() - t0))
    return best


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def bench(scenario: Scenario, orders: int = 1_000_000, seed: int = 0, repeat: int = 3) -> dict:
    """Simulate about ``orders`` orders of ``scenario`` through every policy; time it.

    The horizon is stretched so that the expected number of orders is ``orders`` at the
    scenario's own rates (incident rates unchanged). ``orders_per_s`` counts an order once per
    policy flow it goes through: (orders x policies) / wall time. The run is timed ``repeat`` times
    (each generating its world afresh) and the best is kept, as for the bare SimPy loop: other work
    on a shared machine only ever slows a run down.
    """
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    rate = World(scenario, seed, 0).order_rate.mean()
    horizon = max(1, round(orders / rate))
    # not validated: 10M orders of the default seller need more days than a scenario file may ask for
    s = scenario.model_copy(update={"horizon_days": horizon})
    walls, cpus = [], []
    for _ in range(repeat):
        world = World(s, seed, 0)
        t0, c0 = time.perf_counter(), time.process_time()
        results = run_policies(s, s.policy_names, seed, 0, world=world, entries=False)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        placed = sum(r.counts["orders"] for r in results)
        del results, world
    incident_orders = total_orders = 0
    for block in World(s, seed, 0).blocks():
        incident_orders += sum(len(day) for day in block.incidents) + len(block.remorse)
        total_orders += int(block.orders.sum())
    bare = bare_simpy_events_per_s()
    wall = min(walls)
    orders_per_s = placed / wall
    return {
        "orders": total_orders,
        "policies": len(s.policy_names),
        "horizon_days": horizon,
        "repeat": repeat,
        "wall_s": round(wall, 3),
        "wall_s_each": [round(w, 3) for w in walls],
        "cpu_s": round(min(cpus), 3),
        "orders_per_s": round(orders_per_s, 1),
        "bare_simpy_events_per_s": round(bare, 1),
        "ratio": round(orders_per_s / bare, 4),
        "incident_share": round(incident_orders / max(total_orders, 1), 4),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
