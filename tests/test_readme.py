"""README stays true: every command and Python snippet in README.md runs, and every output it shows is
what the code prints today (the way SimPy runs its documentation examples).

How README's fenced blocks are read:

- ```python: run as a script (a fresh interpreter) in a temporary folder that holds the repository's
  ``scenarios/`` (a link), so relative paths work and outputs land in the temporary folder.
- ```bash / ```sh: every line (``\\`` continues it, ``#`` starts a comment) is a command. An
  ``azsim ...`` command runs with exactly README's arguments, plus the shortenings of :data:`SHORTEN`
  (each with its reason), must exit 0 and must write the files its ``--out``/``--json``/``--dir``
  name. Anything else must match :data:`SKIP` (each with its reason) or the test fails.
- ```console: ``$ command`` lines (with ``\\`` continuations) followed by the output they print;
  the command runs as above and its output is compared (see below). Output that starts with
  ``error:`` is an error example: the command must exit 2 and print exactly those lines.
- ```text: shown, not run. A usage synopsis (lines starting ``azsim``) has every ``--option``
  checked against that command's ``--help``. A block right after ``<!-- output of: COMMAND -->``
  is that command's output: the command runs (with its shortenings) and the block must be its
  output, line for line; a shortened command, or a block marked ``(trimmed)``, is compared by
  shape (numbers, signs and ids masked) and every line shown must still be printed.
- ```yaml whose first line is ``# NAME.yaml``: written to the temporary folder as NAME.yaml, for
  the commands after it.

Every fence has one of these languages, so a command cannot slip in unrun.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
LANGS = {"python", "bash", "sh", "console", "text", "yaml"}

SHORTEN: dict[str, tuple[list[str], str]] = {
    "azsim sensitivity scenarios/electrical.yaml": (
        ["--samples", "4", "-r", "1"], "README's 261 runs take about 20 s; a Sobol base sample of 4 and one "
                                        "replication (27 runs) print the same table"),
    "azsim advise scenarios/default.yaml": (
        ["-r", "2"], "20 replications of 9 comparisons take about 30 s; 2 print the same rows"),
    "azsim sweep scenarios/sweeps/insurance_and_replies.yaml --out sweep.duckdb": (
        ["-r", "2"], "the file's 10 replications of 6 points take about 10 s; 2 write the same tables"),
}
"""Commands (by the start of README's text) run with these arguments appended, and why."""

SHAPE_ONLY: dict[str, str] = {
    "azsim results sweep.duckdb": "reads the store that the shortened sweep above wrote",
    "azsim calibrate my-reports --out my.yaml": "README abridges it (lines marked ...); the dates in the "
                                                "reports follow today's date",
    "azsim synth-reports scenarios/default.yaml --out my-reports": "the dates in the reports follow today's date",
}
"""Commands run as README shows them whose output is compared by shape only, and why."""

SKIP: dict[str, str] = {
    r"^make (run|test)$": "builds .venv; `make test` is this suite; the `azsim compare` that `make run` runs is "
                          "checked against its output block",
    r"^make app$": "a long-running server: tests/test_app.py and tests/test_app_browser.py run the app",
    r"^dask (scheduler|worker) ": "a Dask server started by hand, running until stopped",
    r"^azsim calibrate junk\.tsv missing\.tsv orders\.tsv ": "an error example on files README does not show; "
                                                       "tests/test_calibrate*.py feed calibrate bad files",
    r"--executor dask://": "needs the hand-started scheduler above; tests/test_sweep.py and tests/test_faults.py "
                           "run sweeps on Dask clusters",
}
"""Commands README shows that the test does not run (regular expression -> reason)."""

_FENCE = re.compile(r"^```([A-Za-z]*)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
_MARK = re.compile(r"<!-- output of: (.+?)( \(trimmed\))? -->\s*$")


def fences() -> list[dict]:
    """README's fenced blocks in order: language, text, line number, the output marker before it."""
    text = README.read_text(encoding="utf-8")
    out = []
    for m in _FENCE.finditer(text):
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        mark = _MARK.search(before)
        out.append({"lang": m.group(1), "body": m.group(2), "line": text.count("\n", 0, m.start()) + 1,
                    "of": mark.group(1) if mark else None, "trimmed": bool(mark and mark.group(2))})
    return out


def commands(body: str) -> list[str]:
    """Lines of a shell block joined at ``\\``, without comments and blank lines."""
    out, cur = [], ""
    for line in body.splitlines():
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        cur += line
        words = shlex.split(cur, comments=True)
        if words:
            out.append(shlex.join(words))
        cur = ""
    return out


def exact(command: str) -> bool:
    """Whether README's output of ``command`` must be printed exactly (not shortened, not reading
    what a shortened command wrote)."""
    return not shortening(command) and command not in SHAPE_ONLY


def shortening(command: str) -> list[str]:
    return next((extra for start, (extra, _) in SHORTEN.items() if command.startswith(start)), [])


def skip_reason(command: str) -> str | None:
    return next((why for pattern, why in SKIP.items() if re.search(pattern, command)), None)


def _mask(line: str) -> str:
    """A line's shape: hex ids, times and numbers (with sign and currency) masked, spaces collapsed."""
    line = re.sub(r"\b[0-9a-f]{12,16}\b", "<id>", line)
    line = re.sub(r"[+\-]?(?:CA\$|\$|£|€)?\d[\d,:\-]*(?:\.\d+)?%?", "#", line)
    return re.sub(r"\s+", "", line)  # column widths follow the numbers


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("readme")
    (d / "scenarios").symlink_to(ROOT / "scenarios", target_is_directory=True)
    return d


def run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    """``azsim ARGS`` as ``python -m azsim.cli ARGS`` (the same entry point), plus its shortening."""
    words = shlex.split(command)
    assert words[0] == "azsim", command
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "azsim.cli", *words[1:], *shortening(command)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)


def _outputs(command: str) -> list[str]:
    words = shlex.split(command)
    return [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("--out", "--json", "--dir") and words[i + 1] != "-"]


def check_output(shown: str, printed: str, exact: bool, where: str) -> list[str]:
    shown_lines = [x.rstrip() for x in shown.rstrip("\n").splitlines()]
    printed_lines = [x.rstrip() for x in printed.rstrip("\n").splitlines()]
    if exact:
        return [] if shown_lines == printed_lines else [f"{where}: README's output differs from today's:\n"
                                                        + "\n".join(printed_lines)]
    masked = {_mask(x) for x in printed_lines}
    missing = [x for x in shown_lines if x.strip() and not x.strip().startswith("...")
               and not x.rstrip().endswith("...") and _mask(x) not in masked]  # "..." marks what README trims
    return [f"{where}: no longer printed: {x!r}" for x in missing]


def _help(command: str) -> str:
    """``azsim COMMAND --help`` (from the parser itself, without a process per command)."""
    from azsim.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    return sub.choices[command].format_help() if command in sub.choices else ""


def test_every_fence_has_a_known_language():
    bad = [(f["line"], f["lang"]) for f in fences() if f["lang"] not in LANGS]
    assert not bad, f"README fences without a language this test knows ({sorted(LANGS)}): {bad}"


def test_shortenings_and_skips_refer_to_readme():
    """Each listed command is still in README (the tables cannot rot)."""
    shell = [f["of"] for f in fences() if f["of"]]
    for f in fences():
        if f["lang"] in ("bash", "sh"):
            shell += commands(f["body"])
        elif f["lang"] == "console":
            shell += [c for c, _ in console_items(f["body"])]
    for start in [*SHORTEN, *SHAPE_ONLY]:
        assert any(c.startswith(start) for c in shell), start
    for pattern in SKIP:
        assert any(re.search(pattern, c) for c in shell), pattern


def test_synopses_name_real_options():
    problems = []
    for f in fences():
        if f["lang"] != "text" or f["of"]:
            continue
        current = None
        for line in f["body"].splitlines():
            if line.startswith("azsim "):
                current = line.split()[1]
            elif not line.startswith(" "):
                current = None
            if current is None:
                continue
            helptext = _help(current) if current != "--help" else ""
            for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", line.split("#")[0]):
                if option not in helptext:
                    problems.append(f"README line {f['line']}: azsim {current} has no {option}")
    assert not problems, "\n".join(problems)


def test_readme_runs(workdir):
    """Every snippet, in README's order (later ones use the files earlier ones write)."""
    problems: list[str] = []
    for f in fences():
        where = f"README.md:{f['line']}"
        if f["lang"] == "yaml":
            first = f["body"].splitlines()[0] if f["body"] else ""
            m = re.fullmatch(r"# (\S+\.ya?ml)", first.strip())
            if m:
                (workdir / m.group(1)).write_text(f["body"], encoding="utf-8")
        elif f["lang"] == "python":
            p = subprocess.run([sys.executable, "-"], input=f["body"], cwd=workdir, capture_output=True, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
            if p.returncode != 0:
                problems.append(f"{where}: the Python block failed:\n{p.stderr[-2000:]}")
        elif f["lang"] in ("bash", "sh"):
            for command in commands(f["body"]):
                problems += _run_listed(command, workdir, where)
        elif f["lang"] == "console":
            problems += _run_console(f["body"], workdir, where)
        elif f["lang"] == "text" and f["of"]:
            command = f["of"]
            p = run(command, workdir)
            if p.returncode != 0:
                problems.append(f"{where}: `{command}` exited {p.returncode}: {p.stderr[-1000:]}")
                continue
            problems += check_output(f["body"], p.stdout, exact(command) and not f["trimmed"], where)
    assert not problems, "\n\n".join(problems)


def _run_listed(command: str, workdir: Path, where: str) -> list[str]:
    reason = skip_reason(command)
    if reason is not None:
        return []
    if not command.startswith("azsim "):
        return [f"{where}: `{command}` is neither run nor listed in SKIP with a reason"]
    p = run(command, workdir)
    if p.returncode != 0:
        return [f"{where}: `{command}` exited {p.returncode}: {p.stderr[-1000:]}"]
    return [f"{where}: `{command}` did not write {out}" for out in _outputs(command) if not (workdir / out).exists()]


def console_items(body: str) -> list[tuple[str, str]]:
    """A console block's ``$ command`` lines (``\\`` continued) and the output shown after each."""
    items = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            i += 1
            continue
        cmd = lines[i][2:]
        while cmd.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            cmd = cmd.rstrip()[:-1] + " " + lines[i].strip()
        out = []
        i += 1
        while i < len(lines) and not lines[i].startswith("$ "):
            out.append(lines[i])
            i += 1
        items.append((" ".join(cmd.split()), "\n".join(out)))
    return items


def _run_console(body: str, workdir: Path, where: str) -> list[str]:
    problems = []
    for command, shown in console_items(body):
        if skip_reason(command) is not None:
            continue
        p = run(command, workdir)
        if shown.lstrip().startswith("error:"):
            if p.returncode != 2:
                problems.append(f"{where}: `{command}` should exit 2, exited {p.returncode}")
            problems += check_output(shown, p.stderr, exact(command), where)
            continue
        if p.returncode != 0:
            problems.append(f"{where}: `{command}` exited {p.returncode}: {p.stderr[-1000:]}")
            continue
        problems += check_output(shown, p.stdout, exact(command), where)
    return problems
