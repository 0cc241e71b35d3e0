"""The ``azsim`` command: parses arguments, calls the library, prints. No model arithmetic here."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import threading
from pathlib import Path

from . import __version__
from .scenario import (
    ScenarioError,
    attribute_overrides,
    load_scenario,
    parse_override,
    policies_from_names,
    scenario_from_dict,
)

EXIT_INPUT = 2
EXIT_INTERRUPTED = 130

ADVISE_WORKERS = 4
"""``azsim advise``'s default worker processes: the cores, at most this many (its comparisons have 20
replications each, and each comparison waits for its slowest replication)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: usage + one line, exit 2
        self.print_usage(sys.stderr)
        print(f"azsim: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INPUT)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seed(text: str) -> int:
    from .scenario import MAX_SEED

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:40]!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError("must be at most 2**63 - 1")
    return value


def _at_most(maximum: int, why: str = ""):
    """A whole number from 1 to ``maximum`` (replications, samples: counts plainly beyond any machine are
    refused); ``why`` says what the cap stands for."""

    def parse(text: str) -> int:
        value = _positive_int(text)
        if value > maximum:
            reason = f" ({why})" if why else ""
            raise argparse.ArgumentTypeError(f"must be at most {maximum:,}{reason}, got {value:,}")
        return value

    return parse


def _replication_count(text: str) -> int:
    from .scenario import MAX_REPLICATIONS

    return _at_most(MAX_REPLICATIONS)(text)


def _sample_count(text: str) -> int:
    from .experiments import MAX_SAMPLES

    return _at_most(MAX_SAMPLES)(text)


def _positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text[:40]!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text[:40]!r}")
    return value


def _budget_args(p) -> None:
    """--max-memory and --max-orders: a run whose estimate exceeds them is refused before any work."""
    from .scenario import DEFAULT_MAX_MEMORY_MB, DEFAULT_MAX_ORDERS

    p.add_argument("--max-memory", type=_positive_number, default=DEFAULT_MAX_MEMORY_MB, metavar="MB",
                   help=f"refuse a run estimated to need more memory (default {DEFAULT_MAX_MEMORY_MB} MB)")
    p.add_argument("--max-orders", type=_positive_number, default=DEFAULT_MAX_ORDERS, metavar="N",
                   help=f"refuse a run estimated to simulate more orders x policies (default {DEFAULT_MAX_ORDERS:.0e})")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="azsim", description="A-to-z Guarantee cost simulator: old vs new policy, paired.")
    p.add_argument("--version", action="version", version=f"azsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("compare", help="run every policy of a scenario on the same replications: each party's "
                                       "yearly cost and the paired change with its 95%% CI")
    c.add_argument("scenario", help="scenario YAML file")
    c.add_argument("--replications", "-r", type=_replications, default=20,
                   help="replications (default 20), or auto: until --precision is reached")
    c.add_argument("--precision", type=_unit, default=0.05, help="auto: CI half-width / |mean change| (default 0.05)")
    c.add_argument("--max-replications", type=_replication_count, default=100, help="auto: cap (default 100)")
    c.add_argument("--seed", "-s", type=_seed, default=20210901, help="root seed (default 20210901)")
    c.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a scenario field by dotted path, e.g. seller.support.staff=2 or "
                        "policies.new.preset=us-2022-06 (repeatable)")
    _policies_arg(c)
    c.add_argument("--json", metavar="PATH", help="write the JSON result to PATH (- for stdout)")
    c.add_argument("--quiet", "-q", action="store_true", help="no progress bar (there is none when stderr is not "
                                                                  "a terminal)")
    _budget_args(c)

    v = sub.add_parser("validate", help="check a scenario file: OK, or every problem with its field path")
    v.add_argument("scenario", help="scenario YAML file")
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a scenario field by dotted path (repeatable)")
    _policies_arg(v)

    pv = sub.add_parser("policies", help="list the policy versions (presets) with their dates and sources")
    pv.add_argument("--json", metavar="PATH", help="write the versions as JSON (- for stdout)")

    sw = sub.add_parser("sweep", help="run a design of scenario variants (paired policies) into a results store")
    sw.add_argument("scenario", help="scenario YAML file, or a sweep YAML file (scenario, factors, design, ...)")
    _design_args(sw)
    _policies_arg(sw)
    sw.add_argument("--out", required=True, metavar="STORE.duckdb", help="DuckDB results store (created or resumed)")
    _executor_args(sw)

    se = sub.add_parser("sensitivity", help="Sobol indices (SALib) and tornado data of the policy change")
    se.add_argument("scenario", help="scenario YAML file")
    _design_args(se, sensitivity=True)
    _policies_arg(se)
    se.add_argument("--output", action="append", default=[], metavar="METRIC",
                    help="output to analyse (default seller_cost.total); repeatable, e.g. amazon_cost.total")
    se.add_argument("--out", metavar="STORE.duckdb", help="keep the runs in this store (default: a temporary one)")
    se.add_argument("--json", metavar="PATH", help="write the indices and tornado data as JSON (- for stdout)")
    _executor_args(se)

    ad = sub.add_parser("advise", help="which practice to fix first (what each saves a year, net of its cost, "
                                       "under each policy), and whether to insure")
    ad.add_argument("scenario", help="scenario YAML file")
    ad.add_argument("--replications", "-r", type=_replication_count, default=20,
                    help="replications of each of the up to 9 comparisons (default 20)")
    ad.add_argument("--seed", "-s", type=_seed, default=20210901, help="root seed (default 20210901)")
    ad.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                    help="override a scenario field by dotted path (repeatable)")
    _policies_arg(ad)
    ad.add_argument("--json", metavar="PATH", help="write the advice as JSON (- for stdout)")
    ad.add_argument("--workers", type=_at_most(1024, "worker processes on this machine"), default=None,
                    help=f"worker processes running the replications (default: the cores, at most {ADVISE_WORKERS}; "
                         "1: in this process); the advice is the same whatever the number")
    ad.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    _budget_args(ad)

    rs = sub.add_parser("results", help="what a results store holds: sweeps, runs, each point's seller-cost change "
                                        "with its 95%% CI; export it")
    rs.add_argument("store", metavar="STORE.duckdb")
    rs.add_argument("--json", metavar="PATH", help="write each sweep and each point's change as JSON (- for stdout)")
    rs.add_argument("--export", choices=["parquet", "csv"], help="export every table")
    rs.add_argument("--dir", default=None, metavar="DIR", help="export directory (default: STORE name + _export)")

    rp = sub.add_parser("report", help="a research report folder: HTML (and PDF, Markdown), figures, tables, metadata")
    rp.add_argument("source", nargs="?", metavar="SCENARIO-or-STORE",
                    help="scenario YAML file, or a results store (*.duckdb)")
    rp.add_argument("--out", default=None, metavar="DIR", help="output folder (default ./report)")
    rp.add_argument("--format", default=None, metavar="html,pdf,md",
                    help="comma-separated formats (default html; with --reproduce, the original's)")
    rp.add_argument("--replications", "-r", type=_replication_count, default=20, help="scenario input: replications "
                    "(default 20; the advisor uses half, at least 4)")
    rp.add_argument("--seed", "-s", type=_seed, default=20210901, help="root seed (default 20210901)")
    _budget_args(rp)
    rp.add_argument("--reproduce", metavar="DIR/metadata.json", default=None,
                    help="rebuild a report from its metadata.json (default --out: DIR_reproduced)")
    _policies_arg(rp)
    rp.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    b = sub.add_parser("bench", help="speed and memory benchmark (one JSON line)")
    b.add_argument("--orders", type=_at_most(100_000_000, "about 10 minutes and 6 GB on one core"),
                   default=1_000_000, help="orders to simulate (default 1,000,000; at most 100,000,000)")
    b.add_argument("--scenario", default=None, help="scenario file (default: scenarios/default.yaml)")
    b.add_argument("--seed", type=_seed, default=0)
    b.add_argument("--repeat", type=_at_most(20), default=3,
                   help="time the run this many times and keep the best (default 3)")
    _calibrate_parsers(sub)
    return p


def _policies_arg(p) -> None:
    p.add_argument("--policies", default=None, metavar="VERSION,VERSION|NAME=VERSION,...",
                   help="compare these policy versions (azsim policies lists them) instead of the file's policies; "
                        "the first is the baseline, e.g. us-2021-old,us-2022-06")


def _replications(text: str):
    if text == "auto":
        return "auto"
    return _replication_count(text)


def _unit(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def _design_args(p, sensitivity: bool = False) -> None:
    p.add_argument("--vary", action="append", default=[], metavar="PATH=LO:HI:STEPS|PATH=a,b,c",
                   help="a factor: a field's range (LO:HI:STEPS) or list of values; repeatable")
    if not sensitivity:
        p.add_argument("--design", choices=["grid", "lhs", "sobol"], default=None, help="design (default grid)")
    p.add_argument("--samples", type=_sample_count, default=None,
                   help="points of an lhs design, or the base sample N of a Sobol design (a power of 2; "
                        f"default {'64' if sensitivity else '16'})")
    p.add_argument("--replications", "-r", type=_replications, default=None, help="a number or 'auto' (default 5)")
    p.add_argument("--precision", type=_unit, default=None, help="auto: target CI half-width / |mean| (default 0.05)")
    p.add_argument("--max-replications", type=_replication_count, default=None, help="auto: cap (default 100)")
    p.add_argument("--seed", "-s", type=_seed, default=None, help="root seed (default 20210901)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a field of the base scenario by dotted path (repeatable)")
    _budget_args(p)


def _executor_args(p) -> None:
    p.add_argument("--executor", default="local", metavar="inline|local|dask|dask://HOST:PORT",
                   help="where runs execute (default local: a process pool on all cores)")
    p.add_argument("--workers", type=_at_most(1024, "worker processes on this machine"), default=None,
                   help="worker processes (default: all cores; at most 1,024)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def _load(path: str, overrides: list[str], policies: str | None = None):
    pairs = dict(parse_override(o) for o in overrides)
    return load_scenario(path, pairs, policies=policies, overrides_from="--set")


def _check_output(path: str) -> None:
    """--json PATH: checked before any work (empty, too long, a directory, a missing or read-only parent)."""
    from .outputs import check_target

    if path != "-":
        check_target("--json", path, "file")


def _currency(result) -> str:
    return result.scenario.market.currency


def format_summary(result) -> str:
    """The comparison as a plain-text table."""
    from .headline import headline  # here, not at the top: `python -m azsim.cli` stays quick to load (Ctrl-C)
    from .labels import plural

    pols = result.policies
    base = pols[0]
    cur = _currency(result)
    versions = ", ".join(f"{p} = {result.scenario.policies[p].preset or 'custom'}" for p in pols)
    lines = [
        f"azsim {__version__} | scenario {result.scenario.name} ({result.scenario.hash}) | "
        f"{plural(result.replications, 'replication')} | seed {result.seed} | common random numbers | money in {cur}",
        f"Policies: {versions} (azsim policies lists the versions and their sources).",
        "Per year; means over replications; change = paired difference with its 95% CI; every row adds up "
        f"({base} + change = policy).",
        "[n of N reps]: a quantity that needs an event (an ODR value, a PD/PI payment) is shown, levels and change, "
        "over the n replications with one under every policy.",
    ]
    rule = result.rule or {}
    if rule.get("mode") == "auto":
        cap = plural(rule["max_replications"], "replication")
        state = "reached" if rule["converged"] else f"NOT reached within {cap}"
        lines.append(f"Replications auto: precision {rule['precision']:.0%} of the seller-cost change {state}.")
    lines.append("")
    lines.append(headline(result).text(policy_names=True))
    return "\n".join(lines)


def _emit(text: str, data: dict, json_path: str | None) -> None:
    """Print the text report; with ``--json -`` print the JSON instead; with ``--json PATH`` also
    write it there atomically."""
    payload = json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n"
    if json_path == "-":
        sys.stdout.write(payload)
        return
    print(text)
    if json_path:
        from .comparison import write_atomic

        write_atomic(Path(json_path), payload)


def cmd_compare(args) -> int:
    from .comparison import compare

    scenario = _load(args.scenario, args.overrides, args.policies)
    _check_budget(scenario, args.max_replications if args.replications == "auto" else args.replications, args)
    if args.json is not None:
        _check_output(args.json)
    update, close = _progress_bar(args.quiet, "replications")
    try:
        result = compare(scenario, replications=args.replications, seed=args.seed, progress=update,
                         precision=args.precision, max_replications=args.max_replications)
    finally:
        close()
    _emit(format_summary(result), result.to_dict(), args.json)
    if args.json and args.json != "-":
        print(f"\nJSON result written to {args.json}")
    return 0


def cmd_validate(args) -> int:
    scenario = _load(args.scenario, args.overrides, args.policies)
    pols = ", ".join(f"{n} ({p.preset or 'custom'})" for n, p in scenario.policies.items())
    print(f"OK: {args.scenario} (scenario {scenario.name!r}, policies {pols}, currency {scenario.market.currency}, "
          f"hash {scenario.hash})")
    return 0


def format_policies(versions: list[dict]) -> str:
    """The policy versions as text: name, marketplace, currency, effective date, description, sources."""
    lines = ["Policy versions (presets); use one as policies.NAME.preset, --set policies.NAME.preset=VERSION or "
             "--policies VERSION,VERSION.", ""]
    for v in versions:
        alias = f" (alias: {', '.join(v['aliases'])})" if v["aliases"] else ""
        lines.append(f"{v['name']}{alias}")
        lines.append(f"  {v['marketplace']} | {v['currency']} | effective {v['effective'] or 'not dated'}")
        lines.append(f"  {v['description']}")
        for src in v["sources"]:
            lines.append(f"  - {src}")
        lines.append("")
    return "\n".join(lines).rstrip()


def cmd_policies(args) -> int:
    from .policy import policy_versions

    versions = policy_versions()
    if args.json is not None:
        _check_output(args.json)
    _emit(format_policies(versions), {"policy_versions": versions}, args.json)
    return 0


def _progress_bar(quiet: bool, what: str = "runs"):
    """A tqdm bar on stderr when stderr is a terminal and not ``--quiet`` (done, per second, ETA):
    ``(update(done, total), close)``; ``(None, no-op)`` otherwise, so pipes and logs stay clean.
    Never on stdout: ``azsim compare ... --json -`` pipes pure JSON."""
    stream = sys.stderr
    if quiet or not _is_terminal(stream):
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=0, unit=" " + what, file=stream, dynamic_ncols=True, leave=False)

    def update(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    return update, bar.close


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _in_sequence(update):
    """``update`` for several runs one after another (a sensitivity analysis: the Sobol design, then the
    one-at-a-time design), each reporting its own (done, total): one bar over all of them."""
    if update is None:
        return None
    state = {"offset": 0, "last": (0, 0)}

    def step(done: int, total: int) -> None:
        last_done, last_total = state["last"]
        if done < last_done and last_done >= last_total:  # the previous run finished; a new one counts from 0
            state["offset"] += last_total
        state["last"] = (done, total)
        update(state["offset"] + done, state["offset"] + total)

    return step


def _spec_from_args(args, design: str | None = None):
    from .experiments import SweepSpec, load_sweep, parse_vary, slug_name
    from .scenario import read_yaml

    raw = read_yaml(args.scenario)
    if isinstance(raw, dict) and "factors" in raw:  # a sweep file; command-line options override it
        spec = load_sweep(args.scenario)
        if args.policies is not None:
            spec.base = scenario_from_dict({**spec.base.to_dict(), "policies": policies_from_names(args.policies)},
                                           "--policies")
        if args.overrides:
            pairs = dict(parse_override(o) for o in args.overrides)
            try:
                spec.base = spec.base.with_overrides(pairs)
            except ScenarioError as err:
                raise attribute_overrides(err, pairs, "--set", args.scenario) from None
        if args.vary:
            spec.factors = [parse_vary(v) for v in args.vary]
        changes = {k: getattr(args, k) for k in ("samples", "replications", "precision", "max_replications", "seed")
                   if getattr(args, k, None) is not None}
        if design or getattr(args, "design", None):
            changes["design"] = design or args.design
        if changes or args.vary or args.overrides or args.policies is not None:
            spec = SweepSpec(**{**_spec_fields(spec), **changes})
        return spec
    base = _load(args.scenario, args.overrides, args.policies)
    if not args.vary:
        raise ScenarioError(["--vary: at least one factor is needed, e.g. --vary seller.messages.reply_rate=0.5:1:3"])
    return SweepSpec(
        base=base,
        factors=[parse_vary(v) for v in args.vary],
        design=design or getattr(args, "design", None) or "grid",
        samples=args.samples or 16,
        replications=args.replications or 5,
        precision=args.precision or 0.05,
        max_replications=args.max_replications or 100,
        seed=args.seed if args.seed is not None else 20210901,
        name=slug_name(Path(args.scenario).stem),
        source=args.scenario,
    )


def _spec_fields(spec) -> dict:
    return {k: getattr(spec, k) for k in ("base", "factors", "design", "samples", "replications", "precision",
                                          "max_replications", "seed", "name", "source")}


def _check_store_target(path: str) -> None:
    """--out STORE: checked before any work, like --json (a store is one file)."""
    from .outputs import check_target

    check_target("--out", path, "file")


def cmd_sweep(args) -> int:
    from .sweep import run_sweep

    _check_executor(args)
    spec = _spec_from_args(args)
    _check_sweep_budget(spec, args)
    spec.check()
    _check_store_target(args.out)
    update, close = _progress_bar(args.quiet)
    try:
        result = run_sweep(spec, args.out, executor=args.executor, workers=args.workers, progress=update)
    finally:
        close()
    print(result.format())
    print(f"results in {args.out} (azsim results {args.out})")
    return 0


def cmd_sensitivity(args) -> int:
    import tempfile

    from .sweep import run_sensitivity

    _check_executor(args)
    spec = _spec_from_args(args, design="sobol")
    if args.samples is None and spec.samples == 16:
        spec.samples = 64
    _check_sweep_budget(spec, args, sensitivity=True)
    spec.check()
    if args.out is not None:
        _check_store_target(args.out)
    if args.json is not None:
        _check_output(args.json)
    outputs = args.output or ["seller_cost.total"]
    update, close = _progress_bar(args.quiet)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = args.out or str(Path(tmp) / "sensitivity.duckdb")
            report = run_sensitivity(spec, store, outputs, executor=args.executor, workers=args.workers,
                                     progress=_in_sequence(update))
    finally:
        close()
    _emit(report.format(), report.to_dict(), args.json)
    return 0


def _advisor_comparisons() -> int:
    """Comparisons ``advise`` runs at most: the seller as it is, each practice improved, insured and
    uninsured (:func:`azsim.advisor.advise`)."""
    from .advisor import PRACTICES

    return 1 + len(PRACTICES) + 2


def _check_budget(scenario, replications: int, args, points: int = 1, workers: int | None = None,
                  advisor: bool = False) -> None:
    """Refuse at once (exit 2, with the estimate) a run beyond --max-memory or --max-orders (``workers``:
    worker processes running it, None: this process; ``advisor``: every process that runs the advisor's
    replications keeps up to its WORLDS_MB of worlds meanwhile: this one, or each worker, which takes the
    budget with its tasks)."""
    from .scenario import check_budget, estimate

    kept = None
    if advisor:
        from .advisor import WORLDS_MB as kept
    check_budget(estimate(scenario, replications, points, workers=workers, kept_worlds_mb=kept), args.max_memory,
                 args.max_orders)


def _check_sweep_budget(spec, args, sensitivity: bool = False) -> None:
    """The same for a sweep, from its design's size, before a point is validated or a store created.
    A sensitivity analysis runs the Sobol design and a one-at-a-time design."""
    from dataclasses import replace

    from .scenario import check_budget

    executor = getattr(args, "executor", "local")
    workers = None if executor == "inline" else (args.workers or os.cpu_count() or 1)
    cost = spec.estimate(workers)
    if sensitivity:
        oat = replace(spec, design="oat", _points=None).estimate(workers)
        cost = {k: cost[k] + oat[k] if k != "memory_mb" else max(cost[k], oat[k]) for k in cost}
    check_budget(cost, args.max_memory, args.max_orders)


def _counted_runs(update, comparisons: int, executor=None):
    """The advisor's runner (:func:`azsim.comparison.compare`, as by default, its replications on
    ``executor`` if given) reporting replications done over all its comparisons (at most
    ``comparisons``; one already run is not run again) to ``update`` (None: no progress)."""
    from .comparison import compare

    done = [0]

    def run(scenario, replications: int, seed: int):
        before, total = done[0], replications * comparisons
        progress = None if update is None else (lambda n, _planned: update(before + n, total))
        result = compare(scenario, replications=replications, seed=seed, progress=progress, executor=executor)
        done[0] += replications
        return result

    return run


def _advise_workers(args) -> int:
    return args.workers or max(1, min(os.cpu_count() or 1, ADVISE_WORKERS))


def cmd_advise(args) -> int:
    from .advisor import advise
    from .executors import LocalExecutor

    scenario = _load(args.scenario, args.overrides, args.policies)
    workers = _advise_workers(args)
    _check_budget(scenario, args.replications * _advisor_comparisons(), args, workers=workers if workers > 1 else None,
                  advisor=True)
    if args.json is not None:
        _check_output(args.json)
    update, close = _progress_bar(args.quiet, "replications")
    try:
        # the replications of each comparison run in parallel (results are the same in-process); Ctrl-C or an
        # error stops the workers at once (Executor.__exit__)
        with LocalExecutor(workers) if workers > 1 else contextlib.nullcontext() as executor:
            run = _counted_runs(update, _advisor_comparisons(), executor) if update or executor else None
            advice = advise(scenario, replications=args.replications, seed=args.seed, run=run)
    finally:
        close()
    _emit(advice.format(), advice.to_dict(), args.json)
    return 0


def cmd_results(args) -> int:
    from .outputs import check_target
    from .store import changes, describe, export

    outdir = None
    if args.export:
        outdir = args.dir if args.dir is not None else str(Path(args.store).with_suffix("")) + "_export"
        check_target("--dir", outdir, "dir")
    elif args.dir is not None:
        raise ScenarioError(["--dir: only with --export parquet|csv"])
    if args.json is not None:
        _check_output(args.json)
        if args.json == "-" and args.export:
            raise ScenarioError(["--json -: prints only the JSON; give --json a file name to export as well"])
        _emit(describe(args.store), changes(args.store), args.json)
    else:
        print(describe(args.store))
    if args.export:
        for path in export(args.store, args.export, outdir):
            print(f"wrote {path}")
    return 0


def cmd_report(args) -> int:
    from .report import STORE_SUFFIXES, build_report, reproduce

    if (args.source is None) == (args.reproduce is None):
        raise ScenarioError(["report: give a scenario or store, or --reproduce DIR/metadata.json (not both)"])
    if args.reproduce and args.policies is not None:
        raise ScenarioError(["--policies: a reproduced report keeps the policies of its metadata.json"])
    if not args.reproduce and Path(args.source).suffix.lower() not in STORE_SUFFIXES:
        scenario = load_scenario(args.source, policies=args.policies)  # the comparison and the advisor
        advisor = max(4, args.replications // 2)
        _check_budget(scenario, args.replications + advisor * _advisor_comparisons(), args, advisor=True)
    update, close = _progress_bar(args.quiet, "replications")
    try:
        if args.reproduce:
            out = reproduce(args.reproduce, args.out, args.format, progress=update)
        else:
            out = build_report(args.source, "report" if args.out is None else args.out, args.format or "html",
                               replications=args.replications, seed=args.seed, policies=args.policies,
                               progress=update)
    finally:
        close()
    print(f"report written to {out}/ (open {out}/report.html)")
    return 0


# ---- calibrate from a seller's reports; synthetic reports from a simulated seller -------------------------
def _calibrate_parsers(sub) -> None:
    from .calibrate import MARKET_CODES as MARKETPLACES  # light: no pandas at parser time

    ca = sub.add_parser("calibrate", help="estimate a scenario from your Amazon reports (orders, returns, feedback, "
                        "account health, ...)")
    ca.add_argument("reports", nargs="+", metavar="REPORT", help="report files or folders of them")
    ca.add_argument("--marketplace", default="US", metavar="|".join(MARKETPLACES),
                    help="where the reports come from: their date formats, currency and encodings (default US)")
    ca.add_argument("--base", default=None, metavar="SCENARIO",
                    help="scenario whose other fields the calibrated one keeps (default scenarios/default.yaml)")
    ca.add_argument("--out", required=True, metavar="FILE.yaml", help="the calibrated scenario file to write")
    ca.add_argument("--json", metavar="PATH", help="write the calibration summary as JSON (- for stdout)")
    ca.add_argument("--seed", "-s", type=_seed, default=20210901, help="seed of the fitting simulations")
    sr = sub.add_parser("synth-reports", help="write the reports a simulated seller would download (sample files)")
    sr.add_argument("scenario", help="scenario YAML file")
    sr.add_argument("--out", required=True, metavar="DIR", help="folder to write the report files into")
    sr.add_argument("--days", type=_at_most(3650, "ten years of reports"), default=None,
                    help="days of reports (default: the scenario's horizon; at most 3,650)")
    sr.add_argument("--seed", "-s", type=_seed, default=20210901)
    sr.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")


def _default_scenario_path() -> str:
    return str(Path(__file__).resolve().parent.parent / "scenarios" / "default.yaml")


def cmd_calibrate(args) -> int:
    from .calibrate import calibrate
    from .comparison import write_atomic
    from .outputs import check_target, write_error
    from .scenario import parse_yaml

    check_target("--out", args.out, "file")
    if args.json is not None:
        _check_output(args.json)
    base = load_scenario(args.base) if args.base else load_scenario(_default_scenario_path())
    cal = calibrate(args.reports, args.marketplace, base, seed=args.seed)
    if cal.problems:
        raise ScenarioError(cal.problems)
    text = cal.yaml_text()
    try:
        scenario_from_dict(parse_yaml(text, args.out), args.out)  # the file must load as written
        write_atomic(Path(args.out), text)
    except OSError as err:
        raise write_error("--out", args.out, err) from None
    _emit(cal.summary_text(), cal.to_dict(), args.json)
    if args.json != "-":
        print(f"\nCalibrated scenario written to {args.out} (azsim compare {args.out})")
    return 0


def cmd_synth_reports(args) -> int:
    from .calibrate import synth_reports
    from .labels import plural
    from .outputs import check_target
    from .scenario import check_budget, estimate

    check_target("--out", args.out, "dir")
    scenario = _load(args.scenario, args.overrides)
    days = args.days or scenario.horizon_days
    check_budget(estimate(scenario.with_overrides({"horizon_days": days}), 1, entries=True), what="the simulation")
    files = synth_reports(scenario, out=args.out, days=days, seed=args.seed)
    for name, text in files.items():
        print(f"{args.out}/{name}: {plural(text.count(chr(10)), 'line')}")
    return 0


def cmd_bench(args) -> int:
    from .bench import bench

    path = args.scenario or str(Path(__file__).resolve().parent.parent / "scenarios" / "default.yaml")
    scenario = load_scenario(path)
    print(json.dumps(bench(scenario, orders=args.orders, seed=args.seed, repeat=args.repeat)))
    return 0


_INTERRUPTED = threading.Event()


def _on_sigint(signum, frame):
    _INTERRUPTED.set()
    raise KeyboardInterrupt


_COMMAND_PID: list[int] = []  # the process whose main() installed _on_sigint


def _unraisable(hook_args) -> None:
    """Python prints, and then ignores, an exception raised where it cannot propagate (an at-fork
    callback such as logging's lock release, a __del__, a weakref callback). A Ctrl-C landing there
    is not lost and not printed: the command's process gets it again at the next safe point; any
    other process (a child forked meanwhile) drops it."""
    if isinstance(hook_args.exc_value, KeyboardInterrupt):
        if _COMMAND_PID and os.getpid() == _COMMAND_PID[0]:
            import _thread

            # from another thread, a moment later: raised now it would land in this hook again
            timer = threading.Timer(0.05, _thread.interrupt_main, args=(signal.SIGINT,))
            timer.daemon = True
            timer.start()
        return
    sys.__unraisablehook__(hook_args)


def _interrupted(err: BaseException) -> bool:
    """Whether ``err`` came from Ctrl-C: raised after SIGINT reached :func:`main` (DuckDB turns the
    interrupt into its own "Query interrupted" error), or while a KeyboardInterrupt was handled."""
    if _INTERRUPTED.is_set() or type(err).__name__ == "InterruptException":
        return True
    seen: set[int] = set()
    e: BaseException | None = err
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


def _check_executor(args) -> None:
    """--executor: a known executor and a tcp:// or tls:// scheduler address, before any work."""
    from .executors import parse_executor

    parse_executor(args.executor)


def main(argv: list[str] | None = None) -> int:
    """The ``azsim`` command. Ctrl-C anywhere in a command ends it with "interrupted" and exit code 130."""
    _INTERRUPTED.clear()
    own_sigint = (threading.current_thread() is threading.main_thread()
                  and signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    previous_hook = sys.unraisablehook
    if own_sigint:
        _COMMAND_PID[:] = [os.getpid()]
        sys.unraisablehook = _unraisable
        signal.signal(signal.SIGINT, _on_sigint)
    code = EXIT_INTERRUPTED
    try:
        code = _main(argv)
    except KeyboardInterrupt:  # between _main's handler and its return
        print("interrupted", file=sys.stderr)
    finally:
        if code == EXIT_INTERRUPTED:
            # Under `python -m azsim.cli`, CPython remembers a KeyboardInterrupt that went through an
            # exec() of a string (imports run some: dataclasses, SciPy) and ends the process with
            # SIGINT at exit although it was handled; one more exec() clears that, so the code stays 130
            exec("None")
        if own_sigint:
            # the azsim command itself (no argv given) exits next: a Ctrl-C now must not turn its
            # result into a traceback; a caller's main([...]) gets Python's handler back
            signal.signal(signal.SIGINT, signal.SIG_IGN if argv is None else signal.default_int_handler)
            sys.unraisablehook = previous_hook
    return code


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    handler = {"compare": cmd_compare, "validate": cmd_validate, "bench": cmd_bench, "sweep": cmd_sweep,
               "sensitivity": cmd_sensitivity, "advise": cmd_advise, "results": cmd_results,
               "report": cmd_report, "policies": cmd_policies, "calibrate": cmd_calibrate,
               "synth-reports": cmd_synth_reports}[args.command]
    try:
        return handler(args)
    except BrokenPipeError:  # the reader went away (`azsim policies | head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except ScenarioError as err:
        if _INTERRUPTED.is_set():  # a reader that Ctrl-C stopped halfway
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        where = f"{err.source}: " if err.source else ""
        for problem in err.problems:
            print(f"error: {where}{problem}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as err:  # store and executor problems are input problems: name them, exit 2
        from .executors import ExecutorError

        if _interrupted(err):
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        store_error = type(err).__name__ == "StoreError"
        if store_error or isinstance(err, ExecutorError):
            print(f"error: {err}", file=sys.stderr)
            return EXIT_INPUT
        raise
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
