"""Hardening of what azsim reads back and writes: results stores, output targets, reports, --reproduce.

Every bad store, target or metadata.json must give exit 2 and one line naming it, never a
traceback or a hang, and leave nothing on disk; report.md must carry no live HTML or links from
user text; names become file names only through the slug.
"""

from __future__ import annotations

import copy
import errno
import json
import os
import random
import re
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azsim import report as report_mod
from azsim.cli import main
from azsim.outputs import md_escape, slug
from azsim.report import Figure, Section, Table

SCENARIO = """\
name: tiny
horizon_days: 30
market:
  orders_per_day: 5
"""

EVIL = """\
name: "<script>alert(1)</script>"
description: "<img src=x onerror=alert(2)> [click](javascript:alert(3)) ![i](http://evil.example/x.png) $\\\\frac$ | a"
horizon_days: 30  # <script>alert(4)</script> [x](javascript:y)
market:
  orders_per_day: 5  # <img src=x onerror=alert(5)>; high
"""

ROOT = Path(__file__).resolve().parent.parent


def run(argv, capsys):
    """main() in this process: (exit code, stdout, stderr)."""
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_error(err: str, *names: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for name in names:
        assert name in lines[0], (name, lines[0])


def leftovers(folder: Path) -> list[str]:
    """Temporary build folders (.azsim-*) anywhere under ``folder``."""
    return [str(p) for p in folder.rglob(".azsim-*")]


# ---- stores ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """A small real store: one grid sweep, 2 points x 2 replications (inline executor)."""
    d = tmp_path_factory.mktemp("store")
    (d / "tiny.yaml").write_text(SCENARIO, encoding="utf-8")
    path = d / "sweep.duckdb"
    assert main(["sweep", str(d / "tiny.yaml"), "--vary", "seller.listing_accuracy=0.8:0.9:2", "-r", "2",
                 "--out", str(path), "--executor", "inline", "--quiet"]) == 0
    return path


def corrupt_variants(data: bytes, n: int, seed: int = 9) -> list[tuple[str, bytes]]:
    """Truncations at fixed and random offsets and byte flips in a few places (seeded)."""
    rng = random.Random(seed)
    out = [(f"truncated at {k}", data[:k]) for k in (0, 100, 4096, 12288, len(data) // 3, len(data) // 2)]
    while len(out) < n:
        b = bytearray(data)
        if rng.random() < 0.35:
            k = rng.randrange(1, len(b))
            out.append((f"truncated at {k}", bytes(b[:k])))
            continue
        spots = [rng.randrange(len(b)) for _ in range(rng.choice([1, 3, 40, 300]))]
        for j in spots:
            b[j] ^= 1 << rng.randrange(8)
        out.append((f"{len(spots)} bits flipped", bytes(b)))
    return out


def test_corrupt_stores_give_one_line_and_leave_nothing(store, tmp_path, capsys):
    variants = corrupt_variants(store.read_bytes(), 22)
    refused = 0
    for i, (what, data) in enumerate(variants):
        bad = tmp_path / f"bad{i}.duckdb"
        bad.write_bytes(data)
        exp, rep = tmp_path / f"exp{i}", tmp_path / f"rep{i}"
        for argv, made in ((["results", bad], None), (["results", bad, "--export", "csv", "--dir", exp], exp),
                           (["report", bad, "--out", rep, "--format", "md"], rep)):
            rc, _, err = run(argv, capsys)
            assert rc in (0, 2), (what, argv, err)
            if rc == 2:
                assert_one_error(err, bad.name)
                assert made is None or not made.exists(), (what, argv)
                refused += 1
        assert not leftovers(tmp_path), what
        for p in tmp_path.glob(f"bad{i}.duckdb*"):
            p.unlink()
    assert refused >= 30  # most variants are unreadable: the loop really exercises the error paths


def test_corrupt_store_message_says_what_to_do(store, tmp_path, capsys):
    bad = tmp_path / "sweep.duckdb"
    data = bytearray(store.read_bytes())
    for j in range(12288 + 100, len(data), 4096):  # every block after the headers
        data[j] ^= 0xFF
    bad.write_bytes(bytes(data))
    rc, _, err = run(["results", bad, "--export", "parquet", "--dir", tmp_path / "x"], capsys)
    assert rc == 2
    assert err.strip() == (f"error: {bad}: not a readable azsim results store (corrupt database file); "
                           "restore it or start a new store")
    assert not (tmp_path / "x").exists()


def tamper(store: Path, tmp_path: Path, sql: str) -> Path:
    path = tmp_path / "tampered.duckdb"
    path.write_bytes(store.read_bytes())
    con = duckdb.connect(str(path))
    con.execute(sql)
    con.close()
    return path


@pytest.mark.parametrize("sql, says", [
    ("UPDATE points SET factors = '{\"seller.listing_accuracy\": 0.8' WHERE point_id = 0", "is not valid JSON"),
    ("UPDATE points SET factors = '[1, 2]' WHERE point_id = 1", "is not a JSON object"),
    ("UPDATE points SET factors = repeat('[', 100000) || repeat(']', 100000) WHERE point_id = 0",
     "is not valid JSON"),
    ("ALTER TABLE sweeps ALTER created TYPE VARCHAR", "column sweeps.created is VARCHAR"),
])
def test_tampered_store(store, tmp_path, capsys, sql, says):
    bad = tamper(store, tmp_path, sql)
    for argv, made in ((["results", bad], None),
                       (["results", bad, "--export", "csv", "--dir", tmp_path / "exp"], tmp_path / "exp"),
                       (["report", bad, "--out", tmp_path / "rep", "--format", "md"], tmp_path / "rep")):
        rc, _, err = run(argv, capsys)
        assert rc == 2, argv
        assert_one_error(err, bad.name, "not a readable azsim results store", says)
        assert made is None or not made.exists()
    assert not leftovers(tmp_path)


def test_symlink_loop_folder_and_device_are_not_stores(tmp_path, capsys):
    loop_a, loop_b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    folder = tmp_path / "folder.duckdb"
    folder.mkdir()
    for path, says in ((loop_a, "symbolic links"), (folder, "is a directory"), (Path(os.devnull), "is a device")):
        commands = [["results", path], ["report", path, "--out", tmp_path / "rep"]]
        for argv in commands[:1] if says == "is a device" else commands:  # /dev/null is no .duckdb: not a store
            rc, _, err = run(argv, capsys)
            assert rc == 2
            assert_one_error(err, str(path), says)
    assert not (tmp_path / "rep").exists()


_FIFO_SCRIPT = textwrap.dedent("""
    import sys
    from azsim.cli import main
    fifo, meta, out = sys.argv[1:4]
    codes = [main(["results", fifo]), main(["results", fifo, "--export", "csv", "--dir", out]),
             main(["report", fifo, "--out", out]), main(["report", "--reproduce", meta, "--out", out])]
    print(codes)
""")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_fifos_are_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.duckdb"
    os.mkfifo(fifo)
    meta = tmp_path / "metadata.json"
    os.mkfifo(meta)
    p = subprocess.run([sys.executable, "-c", _FIFO_SCRIPT, str(fifo), str(meta), str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert p.stdout.strip() == "[2, 2, 2, 2]", p.stderr
    assert "Traceback" not in p.stderr
    assert p.stderr.count("is a FIFO") == 3 and "not a regular file" in p.stderr
    assert not (tmp_path / "out").exists()


def test_bad_executor_leaves_no_store(tmp_path, capsys, monkeypatch):
    scen = tmp_path / "tiny.yaml"
    scen.write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "sweep.duckdb"
    argv = ["sweep", scen, "--vary", "seller.listing_accuracy=0.8:0.9:2", "-r", "2", "--out", out, "--quiet"]
    rc, _, err = run([*argv, "--executor", "bogus"], capsys)
    assert rc == 2 and "--executor" in err
    assert not list(tmp_path.glob("sweep.duckdb*"))

    # an unreachable scheduler, without waiting for the real connection timeout
    from azsim import sweep
    from azsim.executors import ExecutorError

    def unreachable(*args, **kwargs):
        raise ExecutorError("cannot reach the Dask scheduler at tcp://127.0.0.1:1: timed out")

    monkeypatch.setattr(sweep, "make_executor", unreachable)
    rc, _, err = run([*argv, "--executor", "dask://127.0.0.1:1"], capsys)
    assert rc == 2 and "cannot reach the Dask scheduler" in err
    assert not list(tmp_path.glob("sweep.duckdb*"))


def test_export_moves_complete_files_into_an_existing_folder(store, tmp_path, capsys):
    out = tmp_path / "exp"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    rc, _, _ = run(["results", store, "--export", "csv", "--dir", out], capsys)
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == ["metrics.csv", "mine.txt", "point_summary.csv", "points.csv",
                                                     "runs.csv", "sweeps.csv"]
    assert not leftovers(tmp_path)


def test_export_that_fails_midway_leaves_nothing(store, tmp_path, capsys, monkeypatch):
    """The fourth COPY fails (as on a full disk): none of the first three files may remain."""
    import azsim.store as store_mod

    real = duckdb.DuckDBPyConnection.execute
    calls = {"copy": 0}

    class Con:
        def __init__(self, con):
            self._con = con

        def execute(self, sql, *args):
            if sql.startswith("COPY"):
                calls["copy"] += 1
                if calls["copy"] == 4:
                    raise duckdb.IOException('IO Error: Could not write file "x": No space left on device')
            return real(self._con, sql, *args)

        def __getattr__(self, name):
            return getattr(self._con, name)

    orig = store_mod.Store._c
    monkeypatch.setattr(store_mod.Store, "_c", lambda self: Con(orig(self)))
    out = tmp_path / "exp"
    rc, _, err = run(["results", store, "--export", "csv", "--dir", out], capsys)
    assert rc == 2 and calls["copy"] == 4
    assert_one_error(err, "cannot write the export", "No space left on device")
    assert not out.exists() and not leftovers(tmp_path)


# ---- output targets ---------------------------------------------------------------------------------
@pytest.fixture
def no_work(monkeypatch):
    """Any simulation, sweep, report content or store read fails the test: targets are checked first."""
    import azsim.advisor
    import azsim.comparison
    import azsim.store
    import azsim.sweep

    def forbidden(*args, **kwargs):
        raise AssertionError("work started before the output target was checked")

    for mod, name in ((azsim.comparison, "compare"), (azsim.advisor, "advise"), (azsim.sweep, "run_sweep"),
                      (azsim.sweep, "run_sensitivity"), (report_mod, "_scenario_report"), (report_mod, "_store_report"),
                      (azsim.store, "describe"), (azsim.store, "export")):
        monkeypatch.setattr(mod, name, forbidden)


def _target_cases(tmp_path: Path):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    a_dir = tmp_path / "a_dir"
    a_dir.mkdir()
    long = "n" * 300
    missing = tmp_path / "missing" / "x"
    return [  # (kind the flag wants, bad path, what the message says)
        ("file", a_dir, "is a directory"),
        ("file", missing, "directory does not exist"),
        ("file", tmp_path / long, "longer than 255 bytes"),
        ("file", "", "empty path"),
        ("file", a_file / "x.json", "Not a directory"),
        ("dir", a_file, "is a file, not a directory"),
        ("dir", missing, "directory does not exist"),
        ("dir", tmp_path / long, "longer than 255 bytes"),
        ("dir", "", "empty path"),
    ]


def _commands(tmp_path: Path, scen: Path, store: Path):
    vary = ["--vary", "seller.listing_accuracy=0.8:0.9", "--samples", "2", "-r", "2", "--executor", "inline"]
    return [  # (flag, kind, argv before the target)
        ("--json", "file", ["compare", scen, "-r", "2", "--json"]),
        ("--json", "file", ["advise", scen, "-r", "2", "--json"]),
        ("--json", "file", ["policies", "--json"]),
        ("--json", "file", ["sensitivity", scen, *vary, "--json"]),
        ("--out", "file", ["sensitivity", scen, *vary, "--out"]),
        ("--out", "file", ["sweep", scen, *vary, "--out"]),
        ("--dir", "dir", ["results", store, "--export", "csv", "--dir"]),
        ("--out", "dir", ["report", scen, "--format", "md", "--out"]),
    ]


def test_bad_output_targets_are_refused_before_any_work(tmp_path, store, capsys, no_work):
    scen = tmp_path / "tiny.yaml"
    scen.write_text(SCENARIO, encoding="utf-8")
    cases = _target_cases(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    checked = 0
    for flag, kind, argv in _commands(tmp_path, scen, store):
        for want, target, says in cases:
            if want != kind:
                continue
            rc, _, err = run([*argv, target], capsys)
            assert rc == 2, (argv, target, err)
            assert_one_error(err, f"{flag}: ", says)
            checked += 1
    assert checked == 6 * 5 + 2 * 4
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing created, nothing removed


def test_report_does_not_replace_a_folder_that_is_not_a_report(tmp_path, capsys, no_work):
    scen = tmp_path / "tiny.yaml"
    scen.write_text(SCENARIO, encoding="utf-8")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    for out in (mine, tmp_path):  # tmp_path also holds the scenario itself
        rc, _, err = run(["report", scen, "--out", out], capsys)
        assert rc == 2
        assert_one_error(err, "--out: ", "is not an azsim report folder")
    assert (mine / "thesis.tex").read_text() == "precious"
    rc, _, err = run(["report", scen, "--out", "."], capsys)
    assert rc == 2 and "give the report folder a name" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders: permissions not enforced")
def test_read_only_folder_is_refused(tmp_path, capsys, no_work):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        for argv in (["policies", "--json", ro / "v.json"], ["report", "x.yaml", "--out", ro / "rep"]):
            rc, _, err = run(argv, capsys)
            assert rc == 2
            assert_one_error(err, "directory is not writable")
    finally:
        ro.chmod(0o755)


def test_json_file_mode_follows_the_umask(tmp_path, capsys):
    old = os.umask(0o027)
    try:
        rc, _, _ = run(["policies", "--json", tmp_path / "v.json"], capsys)
    finally:
        os.umask(old)
    assert rc == 0
    assert stat.S_IMODE((tmp_path / "v.json").stat().st_mode) == 0o640
    assert not leftovers(tmp_path) and not list(tmp_path.glob(".*tmp"))


# ---- reports that fail midway ---------------------------------------------------------------------
class _FailingFigure:
    """A matplotlib figure stand-in: its PNG is drawn, but its SVG file breaks off halfway, as on a full disk."""

    def savefig(self, target, **kwargs):
        data = b"<svg" + b" " * 500
        if not isinstance(target, (str, os.PathLike)):  # the PNG, drawn into memory
            target.write(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
            return
        with open(target, "wb") as f:
            f.write(data[:100])
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def quick_content(monkeypatch):
    """Replace the simulation behind a scenario report by one table and one figure (the write path is real)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure as MplFigure

    state = {"figure": None}

    def content(scenario, comments, replications, seed, advisor_replications):
        import pandas as pd

        fig = state["figure"] or MplFigure(figsize=(2, 2))
        tables = {"t": Table("t", "a table", pd.DataFrame({"x": [1.0, 2.0]}))}
        figures = {"f": Figure("f", "a figure", fig)}
        sections = [Section("Results", ["text"], [("table", "t"), ("figure", "f")])]
        info = {"scenario_hash": scenario.hash, "scenario_name": scenario.name, "seed": seed,
                "replications": replications, "advisor_replications": advisor_replications, "policies": []}
        return sections, {"tables": tables, "figures": figures}, info

    monkeypatch.setattr(report_mod, "_scenario_report", content)
    return state


def test_report_that_fails_midway_leaves_nothing(tmp_path, capsys, monkeypatch, quick_content):
    scen = tmp_path / "tiny.yaml"
    scen.write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "report"
    quick_content["figure"] = _FailingFigure()  # figures/ has a PNG and half an SVG, tables/ is empty, when it fails
    rc, _, err = run(["report", scen, "--out", out, "--format", "md"], capsys)
    assert rc == 2
    assert_one_error(err, "--out: cannot write", "No space left on device")
    assert not out.exists() and not leftovers(tmp_path)

    quick_content["figure"] = None

    def ctrl_c(report):
        raise KeyboardInterrupt

    monkeypatch.setattr(report_mod, "_markdown", ctrl_c)
    rc, _, err = run(["report", scen, "--out", out, "--format", "html,md"], capsys)  # html written, then Ctrl-C
    assert rc == 130 and err.strip() == "interrupted"
    assert not out.exists() and not leftovers(tmp_path)


def test_failed_rebuild_keeps_the_old_report(tmp_path, capsys, monkeypatch, quick_content):
    scen = tmp_path / "tiny.yaml"
    scen.write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "report"
    assert run(["report", scen, "--out", out, "--format", "md"], capsys)[0] == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert Path("figures/f.png") in before and Path("report.md") in before
    quick_content["figure"] = _FailingFigure()
    assert run(["report", scen, "--out", out, "--format", "md"], capsys)[0] == 2
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    quick_content["figure"] = None  # a successful rebuild replaces the folder as a whole
    assert run(["report", scen, "--out", out, "--format", "html"], capsys)[0] == 0
    assert (out / "report.html").exists() and not (out / "report.md").exists()
    assert not leftovers(tmp_path)


# ---- the real report: escaping, and --reproduce -------------------------------------------------------
@pytest.fixture(scope="module")
def evil_report(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("evil")
    scen = d / "evil.yaml"
    scen.write_text(EVIL, encoding="utf-8")
    out = d / "report"
    report_mod.build_report(str(scen), out, ["md", "html"], replications=2, seed=3, advisor_replications=2)
    return out


_FIGURE_LINK = re.compile(r"^!\[[^\n]*\]\(figures/[a-z0-9_-]+\.png\)$")


def test_report_md_has_no_live_html_or_links_from_user_text(evil_report):
    md = (evil_report / "report.md").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md  # the name is there, as text
    assert "&lt;img src=x onerror=alert(2)&gt;" in md and "&lt;script&gt;alert(4)" in md  # description, comment
    assert "<" not in md  # no tag of any kind: no <script, no <img onerror=...>, no <javascript:...> autolink
    for line in md.splitlines():
        if re.search(r"(?<!\\)\]\(", line):  # link or image syntax: only the report's own figure links
            assert _FIGURE_LINK.match(line), line
    assert "\\[click\\](javascript:alert(3))" in md
    html = (evil_report / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_report_latex_captions_are_escaped(tmp_path):
    t = Table("t", r"Sweep \input{/etc/passwd} $x$ & 100%", pd.DataFrame({"a": [1.0]}))
    tex = report_mod._latex(t)
    assert r"\input" not in tex and r"\textbackslash{}input\{/etc/passwd\}" in tex


def test_md_escape_is_inert():
    text = md_escape("<script>x</script> [a](javascript:b) ![i](u) `c` a|b \\<b>\nline")
    assert "<" not in text and ">" not in text and "\n" not in text
    assert not re.search(r"(?<!\\)[\[\]`|]", text.replace("\\\\", ""))


_NAMES = st.text(min_size=0, max_size=300) | st.sampled_from(
    [".", "..", "../..", "/", "a/b", "..\\x", "", " ", "new", "NEW", "café", "\x00", "-", "_", "a" * 400])


@settings(max_examples=300, deadline=None)
@given(_NAMES)
def test_slug_is_a_safe_file_name(name):
    s = slug(name)
    assert re.fullmatch(r"[a-z0-9_-]{1,64}", s), s
    assert s not in (".", "..") and "/" not in s and "\\" not in s
    assert slug(s) == s  # idempotent: a safe name is kept as it is


def test_slug_keeps_safe_names_and_separates_unsafe_ones():
    for safe in ("waterfall_new", "sweep_0123abcd_seller_cost", "new-500"):
        assert slug(safe) == safe
    names = ["New", "new ", "NEW", "../new", "new/..", "n\u00e9w", "<b>new", "a" * 65, "a" * 66]
    slugs = [slug(n) for n in names]
    assert len(set(slugs)) == len(names) and "new" not in slugs


def test_store_report_file_names_come_from_the_slug(store, tmp_path, capsys):
    bad = tamper(store, tmp_path, "; ".join(
        f"UPDATE {t} SET sweep_id = '../../evil<script>'" for t in ("sweeps", "points", "runs", "metrics",
                                                                     "point_summary")))
    out = tmp_path / "rep"
    rc, _, err = run(["report", bad, "--out", out, "--format", "md"], capsys)
    assert rc == 0, err
    files = [p.relative_to(out) for p in out.rglob("*") if p.is_file()]
    assert all(p.parts[0] in ("figures", "tables") or len(p.parts) == 1 for p in files)
    assert all(re.fullmatch(r"[a-z0-9_-]+\.(png|svg|csv|tex)", p.name) for p in files if len(p.parts) == 2)
    assert any("evil" in p.name for p in files)  # the sweep's tables are there, under a safe name
    assert not (tmp_path.parent / "evil<script>_seller_cost.png").exists()
    assert "<" not in (out / "report.md").read_text(encoding="utf-8")


def _metadata_cases(base: dict) -> list[tuple[str, str]]:
    """(field the error must name, metadata.json text): ~45 mutations of a real metadata.json."""
    def without(*path):
        m = copy.deepcopy(base)
        d = m
        for k in path[:-1]:
            d = d[k]
        del d[path[-1]]
        return json.dumps(m)

    def setting(value, *path):
        m = copy.deepcopy(base)
        d = m
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = value
        return json.dumps(m)

    nan, inf = float("nan"), float("inf")
    cases = [(k, without(k)) for k in ("kind", "input", "scenario", "replications", "seed", "advisor_replications")]
    cases.append(("input.path", without("input", "path")))
    for field, value in [("kind", 5), ("kind", "other"), ("input", "x"), ("input.path", 5), ("input.path", ""),
                         ("scenario", []), ("scenario", "x"), ("replications", "2"), ("replications", 2.5),
                         ("replications", True), ("seed", "1"), ("seed", None), ("formats", "md"),
                         ("formats", ["docx"]), ("formats", []), ("parameter_sources", [1]),
                         ("parameter_sources", {"a": 1}), ("seed", -1), ("replications", -3), ("replications", 0),
                         ("advisor_replications", -1), ("replications", 1e9), ("replications", 10**9),
                         ("advisor_replications", 10**12), ("seed", 2**200), ("seed", nan), ("replications", nan),
                         ("replications", inf), ("seed", -inf), ("scenario_hash", 7)]:
        cases.append((field, setting(value, *field.split("."))))
    deep = "[" * 1000 + "]" * 1000
    text = json.dumps(base)
    cases += [
        ("nested deeper", text.replace('"scenario": {', '"scenario": {"x": ' + deep + ", ", 1)),
        ("nested deeper", deep),
        ("nested deeper", "[" * 100_000),
        ("not JSON", ""), ("not JSON", "garbage"), ("not JSON", text[: len(text) // 2]),
        ("a JSON object is expected", "[1, 2]"), ("a JSON object is expected", "null"),
        ("scenario.horizon_days", setting(-5, "scenario", "horizon_days")),
        ("scenario_hash", setting("0000", "scenario_hash")),
    ]
    return cases


def test_reproduce_validates_metadata_json(evil_report, tmp_path, capsys):
    base = json.loads((evil_report / "metadata.json").read_text(encoding="utf-8"))
    cases = _metadata_cases(base)
    assert len(cases) >= 45
    for i, (field, text) in enumerate(cases):
        folder = tmp_path / f"m{i}"
        folder.mkdir()
        meta = folder / "metadata.json"
        meta.write_text(text, encoding="utf-8")
        out = tmp_path / f"out{i}"
        rc, _, err = run(["report", "--reproduce", meta, "--out", out], capsys)
        assert rc == 2, (field, text[:200], err)
        assert_one_error(err, f"error: {meta}: ")
        assert field in err, (field, err)
        assert not out.exists() and not (tmp_path / f"m{i}_reproduced").exists()
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    rc, _, err = run(["report", "--reproduce", binary], capsys)
    assert rc == 2 and "not a report's metadata.json" in err
    assert not leftovers(tmp_path)


def test_dollar_signs_in_user_text_are_not_mathtext():
    """A description or name with $...$ goes into figure and PDF text: it must not be parsed as mathtext."""
    import io

    import matplotlib
    from matplotlib.figure import Figure as MplFigure

    with matplotlib.rc_context(report_mod.STYLE):
        fig = MplFigure()
        fig.text(0.1, 0.5, r"seller $\frac$ cost and $\undefinedcommand{x}$")  # an even number of $: math
        fig.savefig(io.BytesIO(), format="png")


def test_store_text_cannot_drive_the_terminal(store, tmp_path, capsys):
    """Sweep ids, designs and errors are printed by `azsim results`: no escape sequence gets through."""
    bad = tamper(store, tmp_path, "; ".join(
        [f"UPDATE {t} SET sweep_id = 'sw\x1b]0;pwned\x07\x1b[2J'" for t in ("sweeps", "points", "runs", "metrics",
                                                                          "point_summary")]
        + ["UPDATE sweeps SET design = 'grid\x1b[31m'", "UPDATE runs SET status = 'error', error = '\x1b[2Jboom' "
           "WHERE point_id = 0 AND replication = 0"]))
    rc, out, err = run(["results", bad], capsys)
    assert rc == 0, err
    assert "\x1b" not in out and "\x07" not in out
    assert "sw\\x1b]0;pwned\\x07\\x1b[2J" in out and "\\x1b[2Jboom" in out
