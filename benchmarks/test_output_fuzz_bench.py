"""Heavier fuzzing of stores, output targets and metadata.json than tests/test_output_hardening.py
(run by `make bench`): every case ends with exit 0 or 2, never a traceback, a hang, several lines
for one problem, or a file or folder left behind by a refused command."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import random
import shutil
import signal
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import test_output_hardening as h  # noqa: E402  (its fixtures' helpers: variants, tampering, metadata cases)

from azsim import report as report_mod  # noqa: E402
from azsim.cli import main  # noqa: E402

pytestmark = pytest.mark.slow
SECONDS = 30


class _Hang(BaseException):
    pass


def _alarm(signum, frame):
    raise _Hang


def outcome(argv) -> tuple[str, str]:
    """('ok' | 'refused' | 'traceback' | 'hang' | 'several lines', stderr) of one command in this process."""
    err, out = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            rc = main([str(a) for a in argv])
    except _Hang:
        return "hang", ""
    except SystemExit as e:  # argparse's own errors: usage + one line
        rc = e.code
    except BaseException as e:  # noqa: BLE001 - anything out of main is a traceback
        return "traceback", f"{type(e).__name__}: {e}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    text = err.getvalue()
    if "Traceback" in text:
        return "traceback", text
    if rc == 0:
        return "ok", text
    if rc != 2:
        return f"exit {rc}", text
    if "usage:" not in text and len(text.strip().splitlines()) != 1 or "\x1b" in text + out.getvalue():
        return "several lines", text
    return "refused", text


def _tally(results: list[tuple[str, str]], name: str) -> None:
    counts: dict[str, int] = {}
    for kind, _ in results:
        counts[kind] = counts.get(kind, 0) + 1
    print(json.dumps({name: counts}))
    bad = [(k, t[:300]) for k, t in results if k not in ("ok", "refused")]
    assert not bad, bad[:5]


def _made(paths) -> list[str]:
    return [str(p) for p in paths if os.path.lexists(p)]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("store")
    (d / "tiny.yaml").write_text(h.SCENARIO, encoding="utf-8")
    path = d / "sweep.duckdb"
    assert main(["sweep", str(d / "tiny.yaml"), "--vary", "seller.listing_accuracy=0.8:0.9:2", "-r", "2",
                 "--out", str(path), "--executor", "inline", "--quiet"]) == 0
    return path


def _read_bad_store(bad: Path, exp: Path, rep: Path, export: str, formats: str, results: list) -> list[str]:
    """`azsim results`, `results --export` and `report` on one bad store: their outcomes go to ``results``;
    returns what a refused command left on disk (its output, temporary files); then removes the store and
    every output."""
    left = []
    for argv, made in ((["results", bad], None), (["results", bad, "--export", export, "--dir", exp], exp),
                       (["report", bad, "--out", rep, "--format", formats], rep)):
        results.append(outcome(argv))
        if results[-1][0] == "refused" and made is not None:
            left += _made([made])
    left += [str(p) for p in bad.parent.rglob(".azsim-*")]
    for p in [*bad.parent.glob(bad.name + "*"), exp, rep]:
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    return left


def test_corrupt_stores(store, tmp_path):
    results, left = [], []
    for i, (_, data) in enumerate(h.corrupt_variants(store.read_bytes(), 300, seed=2024)):
        bad = tmp_path / f"c{i}.duckdb"
        bad.write_bytes(data)
        left += _read_bad_store(bad, tmp_path / f"e{i}", tmp_path / f"r{i}", "parquet", "md", results)
    _tally(results, "corrupt_stores")
    assert not left, left[:5]


_NASTY = ["", "../../x", "<script>alert(1)</script>", "a" * 5000, "{", "[1,2]", "null", "5", "\x1b[2J\x1b]0;t\x07",
          '{"a":' * 3000 + "1" + "}" * 3000, '{"factors": [1, {"path": 3}], "seed": "s", "scenario": [], "design": {}}',
          '{"factors": "x", "replications": 1e300, "samples": [], "max_replications": {}}', "NaN", "é/..\\"]
_COLUMNS = [("sweeps", "sweep_id"), ("sweeps", "spec"), ("sweeps", "design"), ("sweeps", "azsim_version"),
            ("points", "factors"), ("points", "sweep_id"), ("runs", "error"), ("metrics", "policy"),
            ("metrics", "metric"), ("point_summary", "policy"), ("point_summary", "metric"),
            ("point_summary", "baseline"), ("point_summary", "sweep_id"), ("meta", "value")]


def test_tampered_stores(store, tmp_path):
    rng = random.Random(7)
    results, left = [], []
    for i in range(200):
        bad = tmp_path / f"t{i}.duckdb"
        shutil.copy(store, bad)
        con = duckdb.connect(str(bad))
        for _ in range(rng.randint(1, 3)):
            table, column = rng.choice(_COLUMNS)
            with contextlib.suppress(duckdb.Error):
                con.execute(f"UPDATE {table} SET {column} = ? WHERE rowid IN (SELECT rowid FROM {table} "
                            "USING SAMPLE 50%)", [rng.choice(_NASTY)])
        if rng.random() < 0.2:
            con.execute("UPDATE metrics SET value = ?", [rng.choice([float("nan"), float("inf"), -1e308, None])])
        con.close()
        left += _read_bad_store(bad, tmp_path / f"e{i}", tmp_path / f"r{i}", "csv", "md,html", results)
    _tally(results, "tampered_stores")
    assert not left, left[:5]


def _quick_content(scenario, comments, replications, seed, advisor_replications):
    """A scenario report's content without simulating (what is fuzzed is the target or the metadata)."""
    from matplotlib.figure import Figure as MplFigure

    tables = {"t": report_mod.Table("t", "t", pd.DataFrame({"x": [1.0]}))}
    figures = {"f": report_mod.Figure("f", "f", MplFigure(figsize=(1, 1)))}
    return ([report_mod.Section("S", ["p"], [("table", "t"), ("figure", "f")])],
            {"tables": tables, "figures": figures}, {"scenario_hash": "h", "seed": 1, "replications": 1})


def test_output_targets(store, tmp_path, monkeypatch):
    monkeypatch.setattr(report_mod, "_scenario_report", _quick_content)
    base = tmp_path / "t"
    base.mkdir()
    monkeypatch.chdir(base)  # relative targets land here too
    scen = tmp_path / "tiny.yaml"
    scen.write_text(h.SCENARIO, encoding="utf-8")
    (base / "file").write_text("x")
    (base / "dir").mkdir()
    (base / "dir" / "inner").write_text("y")
    (base / "loop").symlink_to(base / "loop")
    os.mkfifo(base / "fifo")
    parts = ["file", "dir", "missing", "loop", "fifo", "a" * 256, "b" * 255, "é" * 130, ".", "..", "", " ", "-",
             "x.json", "new", "report", "\n", "*", "\x1b[2J", "~"]
    rng = random.Random(11)
    results, changed = [], []
    for _ in range(400):
        target = "/".join(rng.choice(parts) for _ in range(rng.randint(1, 3))) if rng.random() < 0.9 else ""
        full = str(base / target) if target and rng.random() < 0.7 else target
        argv = rng.choice([["policies", "--json", full], ["results", store, "--export", "csv", "--dir", full],
                           ["report", scen, "--format", "md", "--out", full]])
        before = sorted(map(str, base.rglob("*")))
        results.append(outcome(argv))
        after = sorted(map(str, base.rglob("*")))
        if results[-1][0] == "refused" and after != before:
            changed.append((argv, sorted(set(after) ^ set(before))))
        for p in set(after) - set(before):  # what a successful write made
            p = Path(p)
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() and not p.is_symlink() else p.unlink(missing_ok=True)
    _tally(results, "output_targets")
    assert not changed, changed[:3]
    assert not list(tmp_path.rglob(".azsim-*"))


def _random_metadata(base: dict, rng: random.Random) -> str:
    """A metadata.json with one random leaf or key deleted, retyped or replaced by a hostile value."""
    m = copy.deepcopy(base)
    node, key = m, rng.choice(list(m))
    for _ in range(rng.randint(0, 3)):  # go down a few levels
        child = node[key]
        keys = list(child) if isinstance(child, dict) else list(range(len(child))) if isinstance(child, list) else []
        if not keys:
            break
        node, key = child, rng.choice(keys)
    if rng.random() < 0.25 and isinstance(node, dict):
        del node[key]
    else:
        node[key] = rng.choice([None, -1, 0, 2.5, 1e9, 10**30, "x", "", [], {}, True, float("nan"), float("inf"),
                                "<script>", "../../etc", [[[[1]]]] * 3, "a" * 10_000])
    return json.dumps(m)


def test_metadata_json(tmp_path, monkeypatch):
    scen = tmp_path / "tiny.yaml"
    scen.write_text(h.SCENARIO, encoding="utf-8")
    out = tmp_path / "rep"
    report_mod.build_report(str(scen), out, ["md"], replications=2, seed=1, advisor_replications=2)
    base = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    shutil.rmtree(out)
    monkeypatch.setattr(report_mod, "_scenario_report", _quick_content)  # a valid metadata.json builds at once
    rng = random.Random(5)
    texts = [t for _, t in h._metadata_cases(base)] + [_random_metadata(base, rng) for _ in range(300)]
    results, left = [], []
    ran = 0
    for i, text in enumerate(texts):
        meta = tmp_path / f"m{i}" / "metadata.json"
        meta.parent.mkdir()
        meta.write_text(text, encoding="utf-8")
        target = tmp_path / f"o{i}"
        kind, err = outcome(["report", "--reproduce", meta, "--out", target, "--format", "md"])
        results.append((kind, err))
        if kind == "refused":
            left += _made([target])
        else:
            ran += 1
        shutil.rmtree(target, ignore_errors=True)
    _tally(results, "metadata_json")
    print(json.dumps({"metadata_json_reproduced": ran}))
    assert not left and not list(tmp_path.rglob(".azsim-*"))
