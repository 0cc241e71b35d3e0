"""Run a sweep: every design point x replication through all policies, streamed to a store.

The coordinator validates every point first, opens the store (one writer at a time), skips the
(point, replication) runs already stored, and hands the rest to an executor. Each finished run
is written in its own transaction, so a sweep interrupted anywhere resumes with the same command
and ends with exactly the results of an uninterrupted one. A run that raises is stored with its
error and the sweep goes on; so is a run whose worker process died twice running it
(:data:`azsim.executors.WORKER_DIED`). Ctrl-C waits while a run is written: DuckDB would otherwise
abort the write with its own "Query interrupted" error.

Seeds: run (point, replication) uses ``SeedSequence(seed, spawn_key=(replication,))``, the same
world for every point of a replication: common random numbers across design points as well as
across policies, and never a function of the worker or of completion order.

``replications: auto`` adds replications to each point until the 95% CI half-width of the
paired seller-cost change is within ``precision`` of its mean, confirmed over a look-ahead of
further replications (the sequential procedure of Hoad, Robinson and Davies, 2010), or until
``max_replications``; the result says which.
"""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass, field

import numpy as np

from .comparison import run_replication
from .executors import deferred_interrupt, make_executor
from .experiments import SweepSpec
from .scenario import Scenario
from .stats import SequentialRule, column_stats, paired_columns

__all__ = ["Task", "run_task", "run_sweep", "SweepResult", "run_sensitivity", "SensitivityReport", "point_outputs",
           "PRECISION_METRIC"]

PRECISION_METRIC = "seller_cost.total"


@dataclass(frozen=True)
class Task:
    point: int
    replication: int
    scenario: Scenario
    seed: int


def run_task(task: Task) -> dict:
    """One run: every policy of the point's scenario on one replication. Never raises."""
    t0 = time.perf_counter()
    try:
        metrics, _ = run_replication(task.scenario, task.seed, task.replication)
        return {"metrics": metrics, "error": None, "seconds": time.perf_counter() - t0}
    except Exception:  # stored with the run; the sweep goes on
        return {"metrics": None, "error": traceback.format_exc(limit=6), "seconds": time.perf_counter() - t0}


def _worker_died(task: Task, reason: str) -> dict:
    """The stored result of a run whose worker process died twice running it (see :mod:`azsim.executors`)."""
    return {"metrics": None, "error": reason, "seconds": None}


@dataclass
class SweepResult:
    sweep_id: str
    points: int
    runs_done: int = 0  # run in this invocation
    runs_skipped: int = 0  # already in the store (resumed)
    failures: list[tuple[int, int, str]] = field(default_factory=list)
    replications: dict[int, int] = field(default_factory=dict)  # point -> replications used
    converged: dict[int, bool] = field(default_factory=dict)  # auto only: point -> precision reached

    def format(self) -> str:
        from .labels import plural

        lines = [f"sweep {self.sweep_id}: {plural(self.points, 'point')}, {plural(self.runs_done, 'run')} done now, "
                 f"{self.runs_skipped:,} already stored, {len(self.failures):,} failed"]
        if self.converged:
            ok = sum(self.converged.values())
            lines.append(f"replications auto: {ok} of {len(self.converged)} points reached the precision; "
                         f"replications per point {min(self.replications.values())}-{max(self.replications.values())}")
        for point, rep, err in self.failures[:10]:
            last = err.strip().splitlines()[-1] if err.strip() else "error"
            lines.append(f"  failed: point {point}, replication {rep}: {last}")
        if len(self.failures) > 10:
            lines.append(f"  ... and {len(self.failures) - 10} more (azsim results STORE)")
        return "\n".join(lines)


WRITE_RUNS = 16
WRITE_SECONDS = 0.1
"""A finished run is written to the store as it arrives, with the runs waiting before it, in one
transaction, unless the last write ended less than WRITE_SECONDS ago and fewer than WRITE_RUNS wait; what
waits when the sweep ends or stops (Ctrl-C included) is written then. Short runs are so written several
at a time (a transaction a run cost more than a short run's own work and took a core from the workers),
long ones one at a time as before; a ``kill -9`` loses only runs not written yet, which a rerun runs
again."""


def run_sweep(spec: SweepSpec, store_path, executor: str = "local", workers: int | None = None,
              progress=None) -> SweepResult:
    """Run (or resume) ``spec`` into the DuckDB store at ``store_path``.

    ``progress(done, total)`` is called after each run (total grows under ``auto``).
    """
    from .store import Store

    n_points = spec.check()  # every point is checked before anything is written
    result = SweepResult(spec.sweep_id, n_points)
    cache: dict[int, Scenario] = {}

    def scenario(p: int) -> Scenario:
        """Point p's scenario, rebuilt when needed (tasks come point by point), so that a sweep
        of many points never holds them all."""
        if p not in cache:
            cache.clear()
            cache[p] = spec.scenario_at(spec.points()[p])
        return cache[p]

    policies = spec.base.policy_names
    # the executor first: a bad name or an unreachable scheduler fails before the store file exists
    with make_executor(executor, workers) as ex, Store(store_path) as store:
        store.begin_sweep(spec.sweep_id, spec.to_dict(), spec.points())
        done = store.finished(spec.sweep_id)

        def execute(pairs: list[tuple[int, int]], total: int) -> None:
            todo = [(p, r) for p, r in pairs if (p, r) not in done]
            result.runs_skipped += len(pairs) - len(todo)
            count = total - len(todo)
            if progress:
                progress(count, total)
            tasks = (Task(p, r, scenario(p), spec.seed) for p, r in todo)  # built as they are submitted
            waiting: list[tuple] = []  # finished runs not written yet
            written = -math.inf  # when the last write ended

            def write() -> None:
                """Write the waiting runs in one transaction (Ctrl-C waits for them to be written whole)."""
                if not waiting:
                    return
                batch = waiting[:]
                waiting.clear()  # a write that fails is not tried again (its runs are run again on resume)
                with deferred_interrupt():
                    store.write_runs(spec.sweep_id, [(t.point, t.replication, out["metrics"], out["error"],
                                                      out["seconds"]) for t, out in batch])
                for t, out in batch:
                    done.add((t.point, t.replication))
                    result.runs_done += 1
                    if out["error"]:
                        result.failures.append((t.point, t.replication, out["error"]))

            try:
                for task, out in ex.run(run_task, tasks, died=_worker_died):
                    waiting.append((task, out))
                    if len(waiting) >= WRITE_RUNS or time.monotonic() - written >= WRITE_SECONDS:
                        write()
                        written = time.monotonic()
                    count += 1
                    if progress:
                        progress(count, total)
            finally:  # what finished is kept, also when the sweep stops (Ctrl-C, an error)
                write()

        if spec.replications != "auto":
            n = int(spec.replications)
            execute([(p, r) for p in range(n_points) for r in range(n)], n_points * n)
            result.replications = {p: n for p in range(n_points)}
        else:
            _run_auto(spec, store, execute, result, policies)
        store.summarise(spec.sweep_id, policies[0])
    result.failures.sort()
    return result


def _run_auto(spec: SweepSpec, store, execute, result: SweepResult, policies: list[str]) -> None:
    """Sequential replications per point (:class:`azsim.stats.SequentialRule`), in deterministic waves."""
    n_points = len(spec.points())
    rules = {p: SequentialRule(spec.precision, spec.max_replications) for p in range(n_points)}
    target = {p: rules[p].start for p in range(n_points)}
    have = {p: 0 for p in range(n_points)}
    open_points = set(range(n_points))
    scheduled = 0
    while open_points:
        pairs = [(p, r) for p in sorted(open_points) for r in range(have[p], target[p])]
        scheduled += len(pairs)
        execute(pairs, scheduled)
        for p in open_points:
            have[p] = target[p]
        if len(policies) < 2:  # nothing to pair: a single policy cannot meet a paired rule
            result.converged.update({p: False for p in open_points})
            break
        base = store.run_values(spec.sweep_id, PRECISION_METRIC, policies[0])
        pol = store.run_values(spec.sweep_id, PRECISION_METRIC, policies[1])
        for p in sorted(open_points):
            b = base[base.point_id == p]
            q = pol[pol.point_id == p]
            merged = b.merge(q, on="replication", suffixes=("_b", "_p")).sort_values("replication")
            nxt = rules[p].next_target((merged["value_p"] - merged["value_b"]).to_numpy())
            if nxt is None:
                result.converged[p] = bool(rules[p].converged)
                open_points.discard(p)
            else:
                target[p] = nxt
    result.replications = dict(have)


def point_outputs(store, sweep_id: str, metric: str, policies: list[str]):
    """Per design point: the mean paired change ``policies[1] - policies[0]`` of ``metric`` (or the
    mean of the metric itself with a single policy), as a numpy array by point id (NaN where
    undefined). The paired change is :func:`azsim.stats.paired_columns`, the definition ``compare``
    and the store's ``point_summary`` use: money and counts a run did not book are 0, other
    metrics are paired over the replications where both policies have a value."""
    base = store.run_values(sweep_id, metric, policies[0])
    if not len(base):
        return np.array([])
    points = int(base["point_id"].max()) + 1

    def by_point(frame):
        wide = frame.pivot(index="replication", columns="point_id", values="value")
        return wide.reindex(columns=range(points)).to_numpy(dtype=float)

    if len(policies) == 1:
        return column_stats(by_point(base))[1]
    other = store.run_values(sweep_id, metric, policies[1])
    return paired_columns(by_point(base), by_point(other))["mean"]


@dataclass
class SensitivityReport:
    factors: list[str]
    outputs: list[str]
    policies: list[str]
    samples: int
    runs: int
    indices: dict  # output -> DataFrame (factor, S1, S1_ci_low, S1_ci_high, ST, ST_ci_low, ST_ci_high)
    tornado: dict  # output -> DataFrame (factor, low, high, centre, swing)
    failures: int = 0
    currency: str = "USD"  # the scenario's market.currency, for the text

    def to_dict(self) -> dict:
        def rows(df):
            return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
                    for r in df.to_dict(orient="records")]

        return {
            "factors": self.factors, "outputs": self.outputs, "policies": self.policies, "samples": self.samples,
            "runs": self.runs, "failures": self.failures,
            "sobol": {o: rows(df) for o, df in self.indices.items()},
            "tornado": {o: rows(df) for o, df in self.tornado.items()},
        }

    def format(self) -> str:
        what = f"{self.policies[1]} - {self.policies[0]}" if len(self.policies) > 1 else self.policies[0]
        from .labels import label, plural, unit_of, value

        lines = [f"Sensitivity of the paired change ({what}), {plural(len(self.factors), 'factor')}, Sobol base sample "
                 f"{self.samples}, {plural(self.runs, 'run')}" + (f", {self.failures} failed" if self.failures else "")]
        for o in self.outputs:
            if self.indices[o].attrs.get("constant_output"):
                lines += ["", f"{label(o)}: the output did not vary over the design (every point gave the same value); "
                              "no index can be estimated. Use more replications or a longer horizon."]
                continue
            lines += ["", f"{label(o)} change: Sobol indices (95% bootstrap CI)",
                      f"{'factor':44}{'S1':>8}{'':>18}{'ST':>8}{'':>18}"]
            for r in self.indices[o].itertuples():
                lines.append(f"{r.factor:44}{r.S1:8.3f}  [{r.S1_ci_low:6.3f}, {r.S1_ci_high:6.3f}]"
                             f"{r.ST:8.3f}  [{r.ST_ci_low:6.3f}, {r.ST_ci_high:6.3f}]")
            lines += ["", f"{label(o)} change: one at a time (tornado), others at the centre of their ranges",
                      f"{'factor':44}{'at low':>12}{'at high':>12}{'swing':>12}"]
            for r in self.tornado[o].itertuples():
                unit, cur = unit_of(o), self.currency
                lines.append(f"{r.factor:44}{value(r.low, unit, cur, True):>12}{value(r.high, unit, cur, True):>12}"
                             f"{value(r.swing, unit, cur):>12}")
        return "\n".join(lines)


def run_sensitivity(spec: SweepSpec, store_path, outputs: list[str], executor: str = "local",
                    workers: int | None = None, progress=None) -> SensitivityReport:
    """Sobol indices (SALib, bootstrap CIs) and one-at-a-time tornado data of the paired change.

    Runs two sweeps into the store: the Sobol/Saltelli design and the one-at-a-time design.
    """
    from dataclasses import replace

    from .sensitivity import sobol_indices, tornado
    from .store import Store

    sobol_spec = replace(spec, design="sobol", _points=None)
    oat_spec = replace(spec, design="oat", _points=None)
    runs = failures = 0
    for s in (sobol_spec, oat_spec):
        res = run_sweep(s, store_path, executor=executor, workers=workers, progress=progress)
        runs += res.runs_done + res.runs_skipped
        failures += len(res.failures)
    names = [f.path for f in spec.factors]
    policies = spec.base.policy_names
    indices, torn = {}, {}
    with Store(store_path, read_only=True) as store:
        for o in outputs:
            y = point_outputs(store, sobol_spec.sweep_id, o, policies)
            if y.size == 0 or not np.isfinite(y).all():
                raise ValueError(f"--output {o}: not available at every design point (failed runs or unknown metric)")
            indices[o] = sobol_indices(names, y, seed=spec.seed)
            torn[o] = tornado(names, point_outputs(store, oat_spec.sweep_id, o, policies))
    return SensitivityReport(names, outputs, policies, spec.samples, runs, indices, torn, failures,
                             currency=spec.base.market.currency)
