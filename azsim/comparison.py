"""Replications x policies on common random numbers -> paired results and the JSON contract.

``compare(scenario, replications, seed)`` runs every policy of the scenario on the same world
in each replication (common random numbers), summarises each run into flat per-year metrics,
and reports means with 95% confidence intervals and paired differences against the first
policy, as :mod:`azsim.stats` defines them (one definition shared with the results store and
sweeps). See docs/results.md for the JSON layout.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__, world
from .labels import all_labels
from .ledger import CATEGORIES, PARTIES, REPORTED_PARTIES
from .scenario import Scenario
from .simulate import RunResult, run_policies
from .stats import PER_YEAR_PREFIXES, SequentialRule, column_stats, fill_missing, missing_is_zero, paired_columns
from .world import KINDS, World, shared_world

__all__ = ["compare", "Comparison", "summarise_run", "COST_KEYS"]

COST_KEYS = {
    "seller": "seller_cost",
    "amazon": "amazon_cost",
    "insurer": "insurer_cost",
    "buyer": "buyer_uncompensated",
}
"""Result key of each reported party's net cost."""

_PER_YEAR_PREFIXES = PER_YEAR_PREFIXES  # kept for importers; the definition lives in azsim.stats

COMPENSATION_GROUPS = {"atoz": ("atoz",), "pdpi": ("pdpi",), "chargeback": ("chargeback",),
                       "all": ("atoz", "pdpi", "chargeback")}
"""Kinds of compensation reported in ``compensation_days``: each from the buyer's incident to the payment."""


def compensation_metrics(resolution: dict[str, list[float]]) -> dict[str, float]:
    """``compensation_days.<kind>.{mean,median,p90}`` of one run: incident-to-payment days of the
    buyers paid in it (numpy's median and linear-interpolation 90th percentile; NaN when none was
    paid), and the older ``resolution_days.<kind>`` (= the mean) for atoz, pdpi and all."""
    out: dict[str, float] = {}
    for kind, parts in COMPENSATION_GROUPS.items():
        days = np.array([d for k in parts for d in resolution.get(k, ())], dtype=float)
        if days.size:
            mean, median, p90 = float(days.mean()), float(np.median(days)), float(np.percentile(days, 90))
        else:
            mean = median = p90 = math.nan
        out[f"compensation_days.{kind}.mean"] = mean
        out[f"compensation_days.{kind}.median"] = median
        out[f"compensation_days.{kind}.p90"] = p90
        if kind != "chargeback":
            out[f"resolution_days.{kind}"] = mean
    return out


def summarise_run(result: RunResult, scenario: Scenario) -> dict[str, float]:
    """Flat metrics of one run. Money and counts are per year (horizon scaled to 365 days)."""
    per_year = 365.0 / scenario.horizon_days
    out: dict[str, float] = {}
    net = result.ledger.net_cents()
    for party in REPORTED_PARTIES:
        key = COST_KEYS[party]
        row = net[PARTIES.index(party)]
        out[f"{key}.total"] = row.sum() / 100 * per_year
        for i, cat in enumerate(CATEGORIES):
            if row[i]:
                out[f"{key}.by_category.{cat}"] = row[i] / 100 * per_year
    c = result.counts
    out["counts.orders"] = c["orders"] * per_year
    for kind in KINDS:
        out[f"counts.incidents.{kind}"] = c[f"incidents.{kind}"] * per_year
    for name in ("messages", "chargebacks", "negative_feedback", "returns", "odr_defects", "suspensions",
                 "orders_lost_to_suspension"):
        out[f"counts.{name}"] = c[name] * per_year
    claim_totals = {"atoz": 0, "pdpi": 0, "chargeback": 0}
    for k, v in c.items():
        if k.startswith("claims.by_type.") or k.startswith("claims.by_outcome."):
            out[f"counts.{k}"] = v * per_year
        if k.startswith("claims.by_type."):
            kind = k.removeprefix("claims.by_type.").split("_", 1)[0]
            claim_totals[kind] = claim_totals.get(kind, 0) + v
    for kind, v in claim_totals.items():
        out[f"counts.claims.total.{kind}"] = v * per_year
    odr = np.array([row[1] for row in result.health], dtype=float)
    odr = odr[~np.isnan(odr)]
    out["odr.mean"] = float(odr.mean()) if odr.size else math.nan
    out["odr.max"] = float(odr.max()) if odr.size else math.nan
    out["suspended_days"] = result.suspended_days * per_year
    out.update(compensation_metrics(result.resolution))
    out.update(result.metrics)  # metrics of the rule modules (account health, insurance, practices, desk)
    return out


def _nest(flat: dict[str, object]) -> dict:
    out: dict = {}
    for key in sorted(flat):
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = flat[key]
    return out


def _clean(x):
    """JSON-ready number: rounded, NaN -> None."""
    if x is None:
        return None
    if isinstance(x, list):
        return [_clean(v) for v in x]
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return None
    return round(x, 6)


def _level(n, mean, lo, hi, i: int) -> dict:
    ci = None if np.isnan(lo[i]) or np.isnan(hi[i]) else [lo[i], hi[i]]
    return {"mean": _clean(mean[i]), "ci95": _clean(ci)}


@dataclass
class Comparison:
    """The result of :func:`compare`. ``runs`` is tidy: replication, policy, metric, value."""

    scenario: Scenario
    seed: int
    replications: int
    runs: pd.DataFrame
    health: pd.DataFrame  # replication, policy, day, odr, ..., suspended
    common_random_numbers: bool = True
    rule: dict | None = None  # how the number of replications was chosen (see compare)

    @property
    def policies(self) -> list[str]:
        return self.scenario.policy_names

    def values(self, policy: str, metric: str) -> np.ndarray:
        """Per-replication values of one metric under one policy: money and counts 0 where never
        booked, other metrics NaN where undefined (see :func:`azsim.stats.fill_missing`)."""
        wide = self._wide()
        col = (policy, metric)
        if col not in wide.columns:
            return fill_missing(metric, np.full(self.replications, np.nan))
        return wide[col].to_numpy(dtype=float)

    def deltas(self, policy: str, metric: str) -> np.ndarray:
        """Paired per-replication differences ``policy - first policy`` of one metric (NaN where
        either policy has no value: those replications are not part of the paired difference)."""
        return self.values(policy, metric) - self.values(self.policies[0], metric)

    def _wide(self) -> pd.DataFrame:
        if not hasattr(self, "_wide_cache"):
            wide = self.runs.pivot_table(index="replication", columns=["policy", "metric"], values="value",
                                         aggfunc="first", dropna=False)
            metrics = sorted(self.runs["metric"].unique())
            cols = pd.MultiIndex.from_product([self.policies, metrics], names=["policy", "metric"])
            wide = wide.reindex(columns=cols)
            money_or_count = [missing_is_zero(m) for m in cols.get_level_values(1)]
            fill = wide.loc[:, money_or_count].fillna(0.0)
            wide.loc[:, money_or_count] = fill
            self._wide_cache = wide
        return self._wide_cache

    def to_dict(self) -> dict:
        """The JSON result (see docs/results.md)."""
        wide = self._wide()
        metrics = sorted(set(wide.columns.get_level_values(1)))
        base = self.policies[0]
        arrays = {p: wide.loc[:, [(p, m) for m in metrics]].to_numpy(dtype=float) for p in self.policies}
        policies = {}
        for p in self.policies:
            n, mean, lo, hi = column_stats(arrays[p])
            policies[p] = _nest({m: _level(n, mean, lo, hi, i) for i, m in enumerate(metrics)})
        delta = {}
        for p in self.policies[1:]:
            d = paired_columns(arrays[base], arrays[p])
            delta[p] = _nest({m: _paired_entry(d, i) for i, m in enumerate(metrics)})
        return {
            "azsim_version": __version__,
            "currency": self.scenario.market.currency,
            "scenario": {**self.scenario.to_dict(), "hash": self.scenario.hash},
            "seed": self.seed,
            "replications": self.replications,
            "common_random_numbers": self.common_random_numbers,
            "replication_rule": self.rule or {"mode": "fixed"},
            "baseline": base,
            "policies": policies,
            "delta": delta,
            "labels": all_labels(metrics),
        }

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The JSON text; with ``path``, also written atomically (``-`` for stdout is the CLI's)."""
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False) + "\n"
        if path is not None:
            write_atomic(Path(path), text)
        return text

    def summary(self, policies: list[str] | None = None) -> pd.DataFrame:
        """Headline table as numbers: each policy's mean, and each policy's paired change from the first
        (:func:`azsim.headline.headline`, the one table every face renders; see its docstring for how
        rows that need an event are counted). With two policies the changes are exactly the JSON's
        ``delta``; with more, the JSON's ``delta`` pairs each policy with the baseline alone and may use
        more replications."""
        from .headline import headline

        return headline(self, policies).frame()


def _paired_entry(d: dict, i: int) -> dict:
    lo, hi = d["ci_low"][i], d["ci_high"][i]
    return {"mean": _clean(d["mean"][i]), "ci95": None if np.isnan(lo) or np.isnan(hi) else _clean([lo, hi]),
            "pct": _clean(d["pct"][i]), "n": int(d["n"][i]), "baseline_mean": _clean(d["base_mean"][i]),
            "policy_mean": _clean(d["other_mean"][i])}


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and rename: never half-written."""
    path = Path(path)
    from .outputs import file_mode

    # a short temporary name (a 255-byte target name stays writable); mode as open() would give, not mkstemp's 0600
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=".azsim-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), file_mode())
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def run_replication(scenario: Scenario, seed: int, replication: int, common_random_numbers: bool = True):
    """All policies of one replication; returns (flat metrics per policy, health rows)."""
    out, health = {}, []
    names = scenario.policy_names
    if common_random_numbers:  # one world for every policy, kept for the next comparison on the same seeds
        results = run_policies(scenario, names, seed, replication, world=shared_world(scenario, seed, replication),
                               entries=False)  # the summary reads the ledger's totals only
    else:
        results = [run_policies(scenario, [name], seed, replication, entries=False,
                                world=World(scenario, seed, replication, variant=k) if k else None)[0]
                   for k, name in enumerate(names)]
    for name, result in zip(names, results, strict=True):
        out[name] = summarise_run(result, scenario)
        health.extend((replication, name, *row) for row in result.health)
    return out, health


def _replication_task(args):
    scenario, seed, r, crn, world_cache_mb = args
    world.use_world_cache_mb(world_cache_mb)  # a worker keeps worlds as the process that sent the task does
    return run_replication(scenario, seed, r, crn)


def compare(scenario: Scenario, replications: int | str = 20, seed: int = 20210901,
            common_random_numbers: bool = True, progress=None, precision: float = 0.05,
            max_replications: int = 100, executor=None) -> Comparison:
    """Run every policy of ``scenario`` on ``replications`` paired replications of ``seed``.

    ``executor`` (an :class:`azsim.executors.Executor`, e.g. ``LocalExecutor(2)``) runs the
    replications of each batch in parallel; results are the same as in-process.
    ``replications="auto"`` adds replications until the 95% CI half-width of the paired change
    in seller cost (second policy minus first) is within ``precision`` of its mean, confirmed
    over a look-ahead, or ``max_replications`` is reached (:class:`azsim.stats.SequentialRule`);
    ``Comparison.rule`` says which. ``progress``, if given, is called with (done, planned).
    """
    if not isinstance(scenario, Scenario):
        raise TypeError("compare() takes a Scenario; use azsim.load_scenario(path) or scenario_from_dict(data)")
    auto = replications == "auto"
    if not auto and int(replications) < 1:
        raise ValueError("replications must be at least 1")
    rule = SequentialRule(precision, max_replications) if auto else None
    target = rule.start if auto else int(replications)
    rows, health, deltas = [], [], []
    pols = scenario.policy_names
    r = 0
    while True:
        batch = [(scenario, seed, i, common_random_numbers, world.WORLD_CACHE_MB) for i in range(r, target)]
        done = {}
        if executor is None:
            outcomes = ((task, _replication_task(task)) for task in batch)
        else:
            outcomes = executor.run(_replication_task, batch)
        for task, outcome in outcomes:
            done[task[2]] = outcome
            if progress is not None:
                progress(r + len(done), target)
        for i in range(r, target):  # in replication order, whatever order they finished in
            per_policy, h = done[i]
            for name, metrics in per_policy.items():
                rows.extend((i, name, m, v) for m, v in metrics.items())
            health.extend(h)
            if len(pols) > 1:
                deltas.append(per_policy[pols[1]]["seller_cost.total"] - per_policy[pols[0]]["seller_cost.total"])
        r = target
        if not auto:
            break
        nxt = rule.next_target(deltas) if len(pols) > 1 else None
        if nxt is None:
            break
        target = nxt
    runs = pd.DataFrame(rows, columns=["replication", "policy", "metric", "value"])
    hcols = ["replication", "policy", "day", "odr", "late_shipment_rate", "cancel_rate", "valid_tracking_rate",
             "suspended"]
    info = {"mode": "fixed"}
    if auto:
        info = {"mode": "auto", "precision": precision, "max_replications": max_replications,
                "metric": "seller_cost.total", "converged": bool(rule.converged)}
    return Comparison(scenario, int(seed), r, runs, pd.DataFrame(health, columns=hcols), common_random_numbers, info)
