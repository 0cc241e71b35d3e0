"""The ``azsim`` command: parses arguments, calls the library, prints. No model arithmetic here."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from . import __version__
from .scenario import ScenarioError, load_scenario, parse_override

EXIT_INPUT = 2


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
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="azsim", description="A-to-z Guarantee cost simulator: old vs new policy, paired.")
    p.add_argument("--version", action="version", version=f"azsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("compare", help="run every policy of a scenario on paired replications")
    c.add_argument("scenario", help="scenario YAML file")
    c.add_argument("--replications", "-r", type=_positive_int, default=20, help="replications (default 20)")
    c.add_argument("--seed", "-s", type=_seed, default=20210901, help="root seed (default 20210901)")
    c.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a scenario field by dotted path, e.g. seller.support.staff=2 (repeatable)")
    c.add_argument("--json", metavar="PATH", help="write the JSON result to PATH (- for stdout)")
    c.add_argument("--quiet", "-q", action="store_true", help="no progress line")

    v = sub.add_parser("validate", help="check a scenario file: OK, or every problem with its field path")
    v.add_argument("scenario")
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")

    b = sub.add_parser("bench", help="speed and memory benchmark (one JSON line)")
    b.add_argument("--orders", type=_positive_int, default=1_000_000, help="orders to simulate (default 1,000,000)")
    b.add_argument("--scenario", default=None, help="scenario file (default: scenarios/default.yaml)")
    b.add_argument("--seed", type=_seed, default=0)
    return p


def _load(path: str, overrides: list[str]):
    pairs = dict(parse_override(o) for o in overrides)
    return load_scenario(path, pairs)


def _check_output(path: str) -> None:
    if path == "-":
        return
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise ScenarioError([f"--json: directory does not exist: {parent}"])
    if not os.access(parent, os.W_OK):
        raise ScenarioError([f"--json: directory is not writable: {parent}"])
    if Path(path).is_dir():
        raise ScenarioError([f"--json: is a directory: {path}"])


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _fmt(x, money: bool, signed: bool = False) -> str:
    if _missing(x):
        return "n/a"
    sign = "+" if signed else ""
    return f"{x:{sign},.0f}" if money else f"{x:{sign},.2f}"


def format_summary(result) -> str:
    """The comparison as a plain-text table."""
    table = result.summary()
    pols = result.policies
    base = pols[0]
    lines = [
        f"azsim {__version__} | scenario {result.scenario.name} ({result.scenario.hash}) | "
        f"{result.replications} replications | seed {result.seed} | common random numbers",
        "Per year; means over replications; change = paired difference with its 95% CI.",
        "",
    ]
    head = f"{'':34}" + "".join(f"{p:>12}" for p in pols)
    for p in pols[1:]:
        head += f"{p + ' - ' + base:>14}{'95% CI':>24}{'change':>9}"
    lines.append(head)
    for label, row in table.iterrows():
        money = "$" in label
        line = f"{label:34}" + "".join(f"{_fmt(row[p], money):>12}" for p in pols)
        for p in pols[1:]:
            tag = f"{p}-{base}"
            lo, hi, pct = row[f"{tag} ci95 low"], row[f"{tag} ci95 high"], row[f"{tag} change %"]
            ci = "n/a" if _missing(lo) or _missing(hi) else f"[{_fmt(lo, money, True)}, {_fmt(hi, money, True)}]"
            pct_s = "n/a" if _missing(pct) else f"{pct:+.1f}%"
            line += f"{_fmt(row[tag], money, True):>14}{ci:>24}{pct_s:>9}"
        lines.append(line)
    return "\n".join(lines)


def _progress(quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(f"\rreplication {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def cmd_compare(args) -> int:
    from .comparison import compare, write_atomic

    scenario = _load(args.scenario, args.overrides)
    if args.json:
        _check_output(args.json)
    result = compare(scenario, replications=args.replications, seed=args.seed, progress=_progress(args.quiet))
    if args.json == "-":
        sys.stdout.write(result.to_json())
        return 0
    print(format_summary(result))
    if args.json:
        write_atomic(Path(args.json), result.to_json())
        print(f"\nJSON result written to {args.json}")
    return 0


def cmd_validate(args) -> int:
    scenario = _load(args.scenario, args.overrides)
    print(f"OK: {args.scenario} (scenario {scenario.name!r}, policies {', '.join(scenario.policy_names)}, "
          f"hash {scenario.hash})")
    return 0


def cmd_bench(args) -> int:
    from .bench import bench

    path = args.scenario or str(Path(__file__).resolve().parent.parent / "scenarios" / "default.yaml")
    scenario = load_scenario(path)
    print(json.dumps(bench(scenario, orders=args.orders, seed=args.seed)))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {"compare": cmd_compare, "validate": cmd_validate, "bench": cmd_bench}[args.command]
    try:
        return handler(args)
    except ScenarioError as err:
        where = f"{err.source}: " if err.source else ""
        for problem in err.problems:
            print(f"error: {where}{problem}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
