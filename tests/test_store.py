"""The DuckDB results store: create and resume, idempotent runs, errors, summaries, load, export, locking."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap

import duckdb
import numpy as np
import pandas as pd
import pytest

from azsim.stats import mean_ci, pct_change
from azsim.store import Store, StoreError, describe, export, load

SPEC = {"design": "grid", "replications": 4, "factors": [{"path": "seller.support.staff"}]}
POINTS = [
    {"seller.support.staff": 1, "seller.fulfilment": "merchant", "seller.insured": True},
    {"seller.support.staff": 2.5, "seller.fulfilment": "fba", "seller.insured": False},
]


def run_metrics(point: int, replication: int) -> dict[str, dict[str, float]]:
    """Deterministic metrics of one fake run: a money total, a sometimes-missing category, an ODR with NaN."""
    rng = np.random.default_rng([point, replication])
    old = {"seller_cost.total": 1000.0 + 100 * point + rng.normal(0, 50),
           "odr.mean": math.nan if replication == 0 else float(rng.uniform(0, 0.01))}
    new = {"seller_cost.total": old["seller_cost.total"] + 30 + rng.normal(0, 10),
           "odr.mean": float(rng.uniform(0, 0.01))}
    if replication % 2:  # booked in some runs only: absent means 0
        new["seller_cost.by_category.pdpi"] = float(rng.uniform(10, 20))
    return {"old": old, "new": new}


@pytest.fixture
def path(tmp_path):
    return tmp_path / "STORE.duckdb"


@pytest.fixture
def filled(path):
    """A store with one sweep: 2 points x 3 ok replications, and one error run at point 1."""
    with Store(path) as store:
        assert store.begin_sweep("sw1", SPEC, POINTS) is True
        for p in range(2):
            for r in range(3):
                store.write_run("sw1", p, r, run_metrics(p, r), None, 0.25)
        store.write_run("sw1", 1, 3, None, "ValueError: boom at day 12\nTraceback (most recent call last): ...", 0.1)
        store.summarise("sw1", "old")
    return path


def test_create_and_resume(path):
    with Store(path) as store:
        assert store.begin_sweep("sw1", SPEC, POINTS) is True
        assert store.finished("sw1") == set()
        store.write_run("sw1", 0, 0, run_metrics(0, 0), None, 1.0)
        store.write_run("sw1", 1, 2, None, "RuntimeError: x", 1.0)
    with Store(path) as store:
        assert store.begin_sweep("sw1", SPEC, POINTS) is False  # resume
        assert store.finished("sw1") == {(0, 0), (1, 2)}
        assert store.begin_sweep("sw2", SPEC, POINTS[:1]) is True  # a second sweep in the same store
        assert store.finished("sw2") == set()
        with pytest.raises(StoreError, match="different points"):
            store.begin_sweep("sw1", SPEC, [POINTS[1], POINTS[0]])
        with pytest.raises(StoreError, match="2 points, not 1"):
            store.begin_sweep("sw1", SPEC, POINTS[:1])
        with pytest.raises(StoreError, match="no point 5"):
            store.write_run("sw1", 5, 0, run_metrics(0, 0), None, 1.0)
        with pytest.raises(StoreError, match="no sweep nope"):
            store.write_run("nope", 0, 0, run_metrics(0, 0), None, 1.0)
    frames = load(path)
    assert list(frames["sweeps"]["sweep_id"]) == ["sw1", "sw2"]
    assert frames["sweeps"]["design"].tolist() == ["grid", "grid"]


def test_factor_types_round_trip(filled):
    points = load(filled)["points"]
    assert points["point_id"].tolist() == [0, 1]
    assert points["seller.support.staff"].tolist() == [1, 2.5]
    assert points["seller.fulfilment"].tolist() == ["merchant", "fba"]
    assert points["seller.insured"].tolist() == [True, False]
    import json

    assert json.loads(points["factors"][0]) == POINTS[0]


def test_write_run_is_idempotent(path):
    with Store(path) as store:
        store.begin_sweep("sw1", SPEC, POINTS)
        store.write_run("sw1", 0, 0, run_metrics(0, 0), None, 1.0)
        store.write_run("sw1", 0, 0, run_metrics(0, 0), None, 2.0)
        store.write_run("sw1", 0, 1, None, "boom", 1.0)
        store.write_run("sw1", 0, 1, run_metrics(0, 1), None, 3.0)  # a retried run replaces the error
        assert store.finished("sw1") == {(0, 0), (0, 1)}
    f = load(path)
    assert len(f["runs"]) == 2
    assert f["runs"]["status"].tolist() == ["ok", "ok"]
    assert f["runs"]["seconds"].tolist() == [2.0, 3.0]
    per_run = f["metrics"].groupby("replication").size()
    assert per_run[0] == sum(len(v) for v in run_metrics(0, 0).values())
    assert per_run[1] == sum(len(v) for v in run_metrics(0, 1).values())
    assert not f["metrics"].duplicated(["point_id", "replication", "policy", "metric"]).any()


def test_error_runs_stored_and_described(filled):
    runs = load(filled)["runs"]
    err = runs[runs.status == "error"]
    assert len(err) == 1
    assert err.iloc[0][["point_id", "replication"]].tolist() == [1, 3]
    assert err.iloc[0]["error"].startswith("ValueError: boom at day 12\nTraceback")
    ok = runs[runs.status == "ok"]
    assert ok["error"].isna().all() and len(ok) == 6
    metrics = load(filled)["metrics"]
    assert not ((metrics.point_id == 1) & (metrics.replication == 3)).any()

    text = describe(filled)
    assert "sweep sw1" in text
    assert "design        grid" in text
    assert "points        2" in text
    assert "6 ok, 1 error, 1 missing (of 8)" in text
    assert "point 1, replication 3: ValueError: boom at day 12" in text
    assert "Traceback" not in text  # first line only


def test_nan_stored_as_null(filled):
    con = duckdb.connect(str(filled), read_only=True)
    try:
        nulls = con.execute("SELECT point_id, replication, policy FROM metrics WHERE metric = 'odr.mean' "
                            "AND value IS NULL ORDER BY point_id").fetchall()
        (nans,) = con.execute("SELECT count(*) FROM metrics WHERE isnan(value)").fetchall()[0]
    finally:
        con.close()
    assert nulls == [(0, 0, "old"), (1, 0, "old")]
    assert nans == 0


def test_run_values(filled):
    with Store(filled) as store:
        v = store.run_values("sw1", "seller_cost.total", "new")
        assert list(v.columns) == ["point_id", "replication", "value"]
        assert len(v) == 6  # ok runs only
        expected = [run_metrics(p, r)["new"]["seller_cost.total"] for p in range(2) for r in range(3)]
        assert v["value"].tolist() == pytest.approx(expected, rel=1e-12)
        # a money metric a run did not book is 0; an undefined ODR stays NaN
        cat = store.run_values("sw1", "seller_cost.by_category.pdpi", "old")
        assert (cat["value"] == 0).all() and len(cat) == 6
        odr = store.run_values("sw1", "odr.mean", "old")
        assert odr["value"].isna().tolist() == [True, False, False, True, False, False]
        with pytest.raises(StoreError, match="seller_cost.totl"):
            store.run_values("sw1", "seller_cost.totl", "old")
        with pytest.raises(StoreError, match="no policy 'newest'"):
            store.run_values("sw1", "seller_cost.total", "newest")


def _wide(point: int, policy: str, metric: str, fill: float | None) -> np.ndarray:
    vals = [run_metrics(point, r)[policy].get(metric, fill) for r in range(3)]
    return np.array([math.nan if v is None else v for v in vals], dtype=float)


@pytest.mark.parametrize("metric,fill", [("seller_cost.total", 0.0), ("seller_cost.by_category.pdpi", 0.0),
                                         ("odr.mean", None)])
def test_summarise_matches_mean_ci(filled, metric, fill):
    summary = load(filled)["point_summary"]
    assert set(summary["policy"]) == {"old", "new"} and (summary["baseline"] == "old").all()
    for point in range(2):
        rows = summary[(summary.point_id == point) & (summary.metric == metric)].set_index("policy")
        base = _wide(point, "old", metric, fill)
        for policy in ("old", "new"):
            x = _wide(point, policy, metric, fill)
            m, ci = mean_ci(x)
            row = rows.loc[policy]
            assert row["n"] == np.count_nonzero(~np.isnan(x))
            assert row["mean"] == pytest.approx(m, rel=1e-12, abs=1e-12)
            assert [row["ci_low"], row["ci_high"]] == pytest.approx(ci, rel=1e-12, abs=1e-12)
            if policy == "old":
                assert pd.isna(row["delta_mean"]) and pd.isna(row["delta_n"])
                continue
            d = x - base  # paired over the same replications; NaN where either is missing
            dm, dci = mean_ci(d)
            assert row["delta_n"] == np.count_nonzero(~np.isnan(d))
            assert row["delta_mean"] == pytest.approx(dm, rel=1e-12, abs=1e-12)
            if dci is None:
                assert pd.isna(row["delta_ci_low"]) and pd.isna(row["delta_ci_high"])
            else:
                assert [row["delta_ci_low"], row["delta_ci_high"]] == pytest.approx(dci, rel=1e-12, abs=1e-12)
            pct = pct_change(dm, mean_ci(np.where(np.isnan(d), np.nan, base))[0])  # vs the base over the same reps
            assert row["delta_baseline_mean"] + row["delta_mean"] == pytest.approx(row["delta_policy_mean"], abs=1e-9)
            assert (pd.isna(row["delta_pct"]) if pct is None else row["delta_pct"] == pytest.approx(pct, rel=1e-12))


def test_summarise_rewrites_and_checks_baseline(filled):
    with Store(filled) as store:
        store.write_run("sw1", 1, 3, run_metrics(1, 3), None, 0.2)  # the failed run retried
        store.summarise("sw1", "old")
        with pytest.raises(StoreError, match="no policy 'older'"):
            store.summarise("sw1", "older")
    summary = load(filled)["point_summary"]
    assert not summary.duplicated(["point_id", "policy", "metric"]).any()
    row = summary[(summary.point_id == 1) & (summary.policy == "new") & (summary.metric == "seller_cost.total")]
    assert row["n"].item() == 4
    x = [run_metrics(1, r)["new"]["seller_cost.total"] for r in range(4)]
    assert row["mean"].item() == pytest.approx(np.mean(x), rel=1e-12)


def test_load_frames(filled):
    f = load(filled)
    assert set(f) == {"sweeps", "points", "runs", "metrics", "point_summary"}
    assert list(f["metrics"].columns) == ["sweep_id", "point_id", "replication", "policy", "metric", "value"]
    assert list(f["runs"].columns) == ["sweep_id", "point_id", "replication", "status", "error", "seconds",
                                       "finished"]
    assert len(f["metrics"]) == sum(len(v) for p in range(2) for r in range(3) for v in run_metrics(p, r).values())
    sweep = f["sweeps"].iloc[0]
    import json

    assert json.loads(sweep["spec"]) == SPEC
    assert sweep["azsim_version"]
    # 2 points x 2 policies x 3 metrics
    assert len(f["point_summary"]) == 12


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_round_trip(filled, tmp_path, fmt):
    out = tmp_path / f"out_{fmt}"  # the parent must exist: export creates only the folder itself
    paths = export(filled, fmt, out)
    assert [p.name for p in paths] == [f"{t}.{fmt}" for t in ("sweeps", "points", "runs", "metrics",
                                                               "point_summary")]
    frames = load(filled)
    for p in paths:
        table = p.name.split(".")[0]
        if fmt == "csv":
            back = pd.read_csv(p)
        else:  # pandas needs pyarrow for parquet; read it with DuckDB into pandas when pyarrow is absent
            try:
                back = pd.read_parquet(p)
            except ImportError:
                back = duckdb.sql(f"SELECT * FROM read_parquet('{p}')").df()
        want = frames[table]
        if table == "points":
            want = want[["sweep_id", "point_id", "factors"]]
        assert list(back.columns) == list(want.columns)
        assert len(back) == len(want)
        for col in want.columns:
            if pd.api.types.is_numeric_dtype(want[col]) and not pd.api.types.is_bool_dtype(want[col]):
                np.testing.assert_allclose(back[col].astype(float).to_numpy(), want[col].astype(float).to_numpy(),
                                           rtol=1e-12)
            elif col not in ("created", "finished"):
                assert back[col].astype(str).tolist() == want[col].astype(str).tolist(), (table, col)
    with pytest.raises(StoreError, match="parquet or csv"):
        export(filled, "xlsx", out)


def test_missing_and_foreign_files(tmp_path):
    missing = tmp_path / "nope.duckdb"
    with pytest.raises(StoreError, match="nope.duckdb: no such results store"):
        Store(missing, read_only=True)
    with pytest.raises(StoreError, match="nope.duckdb"):
        load(missing)
    assert not missing.exists()

    text = tmp_path / "notes.duckdb"
    text.write_text("these are my notes, not a database\n" * 50)
    for ro in (False, True):
        with pytest.raises(StoreError, match="notes.duckdb is not an azsim results store"):
            Store(text, read_only=ro)
    assert text.read_text().startswith("these are my notes")

    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="other.duckdb is not an azsim results store"):
        Store(other)
    with pytest.raises(StoreError, match="other.duckdb is not an azsim results store"):
        describe(other)

    newer = tmp_path / "newer.duckdb"
    Store(newer).close()
    con = duckdb.connect(str(newer))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match=r"newer.duckdb is not an azsim results store.*schema version 99"):
        Store(newer)


def test_second_writer_in_this_process(path):
    with Store(path):
        with pytest.raises(StoreError, match="already open for writing in this process"):
            Store(path)
        # reading while this process writes goes through the same database
        assert "0 sweeps" in describe(path)
    Store(path).close()  # free again once closed


_HOLDER = textwrap.dedent("""
    import sys, time
    from azsim.store import Store
    store = Store(sys.argv[1])
    print("open", flush=True)
    time.sleep(60)
""")


def test_second_writer_in_another_process_gets_store_error(filled):
    child = subprocess.Popen([sys.executable, "-c", _HOLDER, str(filled)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "open"
        with pytest.raises(StoreError, match=rf"STORE.duckdb is in use by another azsim process \(pid {child.pid}"):
            Store(filled)
        with pytest.raises(StoreError, match="in use by another azsim process"):
            load(filled)
    finally:
        child.kill()
        child.wait()
    assert len(load(filled)["runs"]) == 7  # untouched, and usable once the other process is gone


_WRITER = textwrap.dedent("""
    import sys
    from azsim.store import Store
    metrics = {p: {f"seller_cost.by_category.c{i}": float(i) for i in range(120)} for p in ("old", "new")}
    store = Store(sys.argv[1])
    store.begin_sweep("sw", {}, [{"x": 1}])
    r = 0
    while True:
        store.write_run("sw", 0, r, metrics, None, 0.0)
        print(r, flush=True)
        r += 1
""")


def test_kill_9_leaves_whole_runs(path):
    child = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(20):
            last = int(child.stdout.readline())
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    with Store(path) as store:
        done = store.finished("sw")
        assert store.begin_sweep("sw", {}, [{"x": 1}]) is False
    assert {r for _, r in done} == set(range(len(done))) and len(done) > last
    counts = load(path)["metrics"].groupby("replication").size()
    assert len(counts) == len(done) and (counts == 240).all()


def test_closed_and_read_only(filled):
    store = Store(filled, read_only=True)
    with pytest.raises(StoreError, match="read-only"):
        store.write_run("sw1", 0, 0, run_metrics(0, 0), None, 1.0)
    assert store.finished("sw1") == {(p, r) for p in range(2) for r in range(3)} | {(1, 3)}
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.finished("sw1")
    assert os.path.exists(filled)


def test_zero_filled_metrics_match_compare():
    from azsim.comparison import _PER_YEAR_PREFIXES
    from azsim.store import PER_YEAR_PREFIXES

    assert PER_YEAR_PREFIXES == _PER_YEAR_PREFIXES
