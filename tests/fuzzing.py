"""A seeded fuzzer of azsim's inputs: mutated scenario files, ``--set`` values and sweep files.

Used by tests/test_input_hardening.py (a few hundred cases, within ``make test``) and by
benchmarks/test_fuzz_bench.py (thousands, under ``make bench``). Every case is run through
``azsim.cli.main`` in this process with a time limit; the outcome is one of ``ok`` (exit 0),
``refused`` (exit 2), ``traceback`` (any exception out of ``main``, or traceback text on
stderr), ``hang`` (over the time limit) or ``exit N`` (any other exit code).
"""

from __future__ import annotations

import contextlib
import io
import random
import re
import signal
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = (ROOT / "scenarios" / "default.yaml").read_text(encoding="utf-8")
SWEEP = (ROOT / "scenarios" / "sweeps" / "insurance_and_replies.yaml").read_text(encoding="utf-8")

_VALUE_LINE = re.compile(r"^(\s*)([A-Za-z_][\w-]*):[ \t]+([^#\s][^#]*?)[ \t]*(#.*)?$")
_KEY_LINE = re.compile(r"^(\s*)([A-Za-z_][\w-]*):")

NUMBERS = [".inf", "-.inf", ".nan", "+.inf", "1e18", "1e308", "1e400", "-1e400", "-1", "0", "1e-320", "2.5", "-0.0",
           "99999999999999999999", "9" * 400, "1_000_000", "0x1F", "0o17", "017", "1e9", "36500", "36501", "1e7"]
YAML11 = ["yes", "no", "on", "off", "y", "n", "Y", "N", "Yes", "NO", "On", "1:30", "190:20:30", "2021-09-01",
          "2001-12-14t21:59:43.10-05:00", "~", "null", "=", "<<", ".Inf", ".NaN"]
TYPES = ["[1, 2]", "{a: 1}", "'text'", "\"\"", "[]", "{}", "true", "false", "[[[]]]", "!!binary aGVsbG8=",
         "!!set {a, b}", "!!python/object:os.system ls", "!foo bar", "!!timestamp 2021-01-01", "!!int x",
         "!!float .inf", "!!bool maybe", "&a 5", "*undefined", "|\n  block", ">-\n  folded", "'unterminated",
         "\"\\x00\"", "\"\\ud800\""]
UNICODE = ["é", "日本", "💥", "\u200b", "\u202e", "\ufeff", "\u2028", "\x01", "\x7f", "\x85", "\ud7ff", "\t", "\\",
           "\U0001f600" * 50, "Ω" * 1000]
NAMES = ["yes", "no", "a.b", "c/d", "../x", "", " ", "a" * 41, "1abc", "new", "old", "x-y_z", "日本", "<script>",
         "null", "true", "on", "[x]", "{y: 1}", "nwe"]
PRESETS = ["[new]", "{a: 1}", "us-2099", "''", "1", "true", "new", "us-2022-06", "ca-2024", "[]", "null", "x" * 100]


def deep(n: int, kind: str = "flow") -> str:
    """A value nested ``n`` levels deep."""
    if kind == "flow":
        return "[" * n + "1" + "]" * n
    if kind == "map":
        return "{a: " * n + "1" + "}" * n
    return "- " * n + "1"  # block sequences on one line


def laughs(levels: int = 9, width: int = 9) -> str:
    """A "billion laughs" document body: each level an alias list of the one before."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _value_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if _VALUE_LINE.match(line)]


def _set_value(line: str, value: str) -> str:
    m = _VALUE_LINE.match(line)
    return f"{m.group(1)}{m.group(2)}: {value}" if m else line


def mutate_document(text: str, rnd: random.Random) -> tuple[str, str]:
    """One mutation of a YAML document: (kind, mutated text)."""
    lines = text.splitlines()
    values = _value_lines(lines) or [0]
    kind = rnd.choice(["deep", "deep_set_style", "alias", "laughs", "recursive", "number", "yaml11", "type",
                       "duplicate", "unicode", "truncate", "drop_lines", "indent", "policy_name", "preset", "many",
                       "binary", "huge_string", "merge"])
    if kind == "deep":
        i = rnd.choice(values)
        lines[i] = _set_value(lines[i], deep(rnd.choice([30, 49, 50, 51, 60, 200, 490, 1000, 5000]),
                                              rnd.choice(["flow", "map"])))
    elif kind == "deep_set_style":
        depth = rnd.choice([45, 60, 490])
        lines.append("".join(f"{'  ' * k}k{k}:\n" for k in range(depth)) + "  " * depth + "v: 1")
    elif kind == "alias":
        i, j = rnd.choice(values), rnd.choice(values)
        lines[i] = _set_value(lines[i], "&anchor " + (_VALUE_LINE.match(lines[i]).group(3) if
                                                      _VALUE_LINE.match(lines[i]) else "1"))
        if j > i:
            lines[j] = _set_value(lines[j], "*anchor")
    elif kind == "laughs":
        lines.append(laughs(rnd.choice([3, 5, 9]), rnd.choice([5, 9, 10])))
    elif kind == "recursive":
        lines.append(rnd.choice(["loop: &l [*l]", "loop: &m {a: *m}", "x: &n {<<: *n}"]))
    elif kind == "number":
        for _ in range(rnd.randint(1, 3)):
            i = rnd.choice(values)
            lines[i] = _set_value(lines[i], rnd.choice(NUMBERS))
    elif kind == "yaml11":
        for _ in range(rnd.randint(1, 3)):
            i = rnd.choice(values)
            lines[i] = _set_value(lines[i], rnd.choice(YAML11))
    elif kind == "type":
        i = rnd.choice(values)
        lines[i] = _set_value(lines[i], rnd.choice(TYPES))
    elif kind == "duplicate":
        i = rnd.choice(values)
        lines.insert(i + 1, lines[i])
    elif kind == "unicode":
        i = rnd.randrange(len(lines))
        pos = rnd.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:pos] + rnd.choice(UNICODE) + lines[i][pos:]
    elif kind == "truncate":
        cut = rnd.randrange(len(text) + 1)
        return kind, text[:cut]
    elif kind == "drop_lines":
        for _ in range(rnd.randint(1, 10)):
            if lines:
                del lines[rnd.randrange(len(lines))]
    elif kind == "indent":
        i = rnd.randrange(len(lines))
        lines[i] = " " * rnd.choice([1, 2, 3, 8]) + lines[i]
    elif kind == "policy_name":
        name = rnd.choice(NAMES)
        lines = [re.sub(r"^  new:", f"  {name}:", line) if line.startswith("  new:") else line for line in lines]
        if name in ("[x]", "{y: 1}", ""):
            lines.append(f"# policy name {name!r}")
    elif kind == "preset":
        preset = rnd.choice(PRESETS)
        lines = [re.sub(r"preset: .*", f"preset: {preset}", line) for line in lines]
        if rnd.random() < 0.5:  # and another problem elsewhere: both must be reported
            i = rnd.choice(values)
            lines[i] = _set_value(lines[i], "-5")
    elif kind == "many":
        for _ in range(rnd.randint(5, 30)):
            i = rnd.choice(values)
            lines[i] = _set_value(lines[i], rnd.choice(NUMBERS + YAML11 + TYPES))
    elif kind == "binary":
        return kind, text[: rnd.randrange(len(text))] + "\x00\x01\x02" + text[rnd.randrange(len(text)):]
    elif kind == "huge_string":
        i = rnd.choice(values)
        lines[i] = _set_value(lines[i], "'" + "x" * rnd.choice([1000, 100_000]) + "'")
    elif kind == "merge":
        lines.append("base: &b {orders_per_day: 5}\nmarket2: {<<: *b, <<: *b}")
    return kind, "\n".join(lines) + "\n"


def leaf_paths(text: str = DEFAULT) -> list[str]:
    """Dotted paths of the value lines of a YAML document (by indentation)."""
    stack: list[tuple[int, str]] = []
    out = []
    for line in text.splitlines():
        m = _KEY_LINE.match(line)
        if not m:
            continue
        indent, key = len(m.group(1)), m.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = ".".join([k for _, k in stack] + [key])
        if _VALUE_LINE.match(line):
            out.append(path)
        else:
            stack.append((indent, key))
    return out


def set_values(rnd: random.Random) -> str:
    return rnd.choice([
        deep(rnd.choice([49, 50, 51, 490, 5000]), rnd.choice(["flow", "map"])),
        "[" * 490,
        rnd.choice(NUMBERS), rnd.choice(YAML11), rnd.choice(TYPES), rnd.choice(UNICODE), rnd.choice(PRESETS),
        "{a: 1, a: 2}", "&a [*a]", laughs(9, 9).replace("\n", ", ").join("{}"), "x" * 10_000,
        "a: b: c", "- x", "'\\", "\ud800", "[1, 2", "\x00",
    ])


def set_case(rnd: random.Random, paths: list[str]) -> tuple[str, list[str]]:
    """(kind, --set arguments) of one case."""
    kind = rnd.choice(["value", "value", "value", "policy", "preset", "path", "many"])
    if kind == "value":
        return kind, [f"{rnd.choice(paths)}={set_values(rnd)}"]
    if kind == "policy":
        name = rnd.choice(NAMES)
        field = rnd.choice(["amazon_pays_threshold", "preset", "x", "message_reply_hours"])
        return kind, [f"policies.{name}.{field}={set_values(rnd)}"]
    if kind == "preset":
        return kind, [f"policies.{rnd.choice(['new', 'old', 'nwe'])}.preset={rnd.choice(PRESETS)}",
                      f"{rnd.choice(paths)}={set_values(rnd)}"]
    if kind == "path":
        return kind, [rnd.choice([".".join(["a"] * rnd.choice([10, 60, 2000])) + "=1", "=1", "a..b=1", "noequals",
                                  "x" * 5000 + "=1", "policies=[1]", "policies={}", "market=5", "\ud800=1"])]
    return kind, [f"{rnd.choice(paths)}={set_values(rnd)}" for _ in range(rnd.randint(2, 6))]


class Timeout(BaseException):
    pass


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise :class:`Timeout` in this (main) thread after ``seconds``."""

    def alarm(signum, frame):
        raise Timeout

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(argv: list[str], seconds: float = 10.0) -> tuple[str, int | None, str, float]:
    """Run ``azsim.cli.main(argv)`` here: (outcome, exit code, stderr, seconds)."""
    from azsim.cli import main

    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    code: int | None = None
    try:
        with time_limit(seconds), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except Timeout:
        return "hang", None, err.getvalue(), time.perf_counter() - t0
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException as exc:  # noqa: BLE001 - any escape is the finding
        return "traceback", None, f"{type(exc).__name__}: {exc}"[:500], time.perf_counter() - t0
    text = err.getvalue()
    took = time.perf_counter() - t0
    if "Traceback (most recent call last)" in text:
        return "traceback", code, text[-500:], took
    return {0: "ok", 2: "refused"}.get(code, f"exit {code}"), code, text, took


def cases(n_files: int, n_sets: int, n_sweeps: int, seed: int = 9) -> list[tuple[str, str, object]]:
    """(family, kind, input) of every case: mutated scenario documents, --set argument lists,
    mutated sweep files."""
    rnd = random.Random(seed)
    paths = leaf_paths() + ["seller.suport.staff", "market", "policies.new", "horizon_days.x"]
    out: list[tuple[str, str, object]] = []
    for _ in range(n_files):
        kind, text = mutate_document(DEFAULT, rnd)
        out.append(("file", kind, text))
    for _ in range(n_sets):
        kind, args = set_case(rnd, paths)
        out.append(("set", kind, args))
    for _ in range(n_sweeps):
        kind, text = mutate_document(SWEEP, rnd)
        out.append(("sweep", kind, text))
    return out


def run_case(family: str, data, tmp: Path, seconds: float, compare_every: int = 0, index: int = 0,
             budget: list[str] | None = None) -> list[tuple[str, str, float]]:
    """Run one case; returns [(what, outcome, seconds)] (validate, and compare for some that validate).

    ``budget`` are extra compare arguments (``--max-memory``/``--max-orders`` where they exist).
    """
    results = []
    if family == "file":
        path = tmp / f"case{index}.yaml"
        path.write_text(data, encoding="utf-8", errors="surrogatepass")
        outcome, code, err, took = run_cli(["validate", str(path)], seconds)
        results.append(("validate", outcome, took, err))
        if index % 4 == 1:  # with an override: the override step copies the document (aliases expanded)
            outcome, code, err, took = run_cli(["validate", str(path), "--set", "seller.support.staff=2"], seconds)
            results.append(("validate file --set", outcome, took, err))
        if compare_every and index % compare_every == 0 and outcome == "ok":
            outcome, code, err, took = run_cli(["compare", str(path), "-r", "1", "--set", "horizon_days=28",
                                                *(budget or [])], seconds)
            results.append(("compare", outcome, took, err))
    elif family == "set":
        argv = ["validate", str(ROOT / "scenarios" / "default.yaml")]
        for a in data:
            argv += ["--set", a]
        outcome, code, err, took = run_cli(argv, seconds)
        results.append(("validate --set", outcome, took, err))
        if compare_every and index % compare_every == 0 and outcome == "ok":
            argv[0] = "compare"
            outcome, code, err, took = run_cli(argv + ["-r", "1", "--set", "horizon_days=28", *(budget or [])],
                                               seconds)
            results.append(("compare --set", outcome, took, err))
    else:
        (tmp / "scenarios").mkdir(exist_ok=True)
        (tmp / "scenarios" / "default.yaml").write_text(DEFAULT.replace("horizon_days: 365", "horizon_days: 28"),
                                                        encoding="utf-8")
        sweeps = tmp / "scenarios" / "sweeps"
        sweeps.mkdir(exist_ok=True)
        path = sweeps / f"case{index}.yaml"
        path.write_text(data, encoding="utf-8", errors="surrogatepass")
        # the sweep is read, validated and its budget checked; --max-orders 1 stops a valid one there
        argv = ["sweep", str(path), "--out", str(tmp / f"case{index}.duckdb"), "--executor", "inline", "-q",
                *(budget if budget is not None else ["--max-orders", "1"])]
        outcome, code, err, took = run_cli(argv, seconds)
        results.append(("sweep", outcome, took, err))
    return results
