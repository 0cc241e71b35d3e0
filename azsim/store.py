"""The results store: one DuckDB file holding sweeps, design points, runs, metrics and summaries.

A store is an ordinary DuckDB database that users can open and query with SQL. Its tables:

``meta``           key, value: ``schema_version`` (this module reads version 1) and ``created_by``.
``sweeps``         sweep_id, created (UTC), spec (JSON text), azsim_version, design.
``points``         sweep_id, point_id (0, 1, ... in design order), factors (JSON text ``{dotted.path: value}``).
``runs``           sweep_id, point_id, replication, status ('ok' or 'error'), error, seconds, finished (UTC).
``metrics``        sweep_id, point_id, replication, policy, metric, value: one row per metric of each ok run
                   (tidy; a NaN metric is stored as NULL).
``point_summary``  sweep_id, point_id, policy, metric, baseline, n, mean, ci_low, ci_high and, for every policy
                   but the baseline, the paired difference from it: delta_n, delta_mean, delta_ci_low,
                   delta_ci_high, delta_pct, and the two levels over those delta_n replications,
                   delta_baseline_mean and delta_policy_mean (so delta_baseline_mean + delta_mean =
                   delta_policy_mean). 95% Student t intervals; the one definition of
                   :func:`azsim.stats.paired_columns`, as ``compare`` and sweeps use it.

Only one process can hold a store open at a time (DuckDB's file lock): a second writer, or a reader
while a sweep is writing, gets a :class:`StoreError` naming the process that holds it. Each run is
written in its own transaction, so a batch killed anywhere leaves only whole runs behind.

Money and count metrics that a run did not book (a ledger category never touched) are absent from
``metrics``; :meth:`Store.summarise` and :meth:`Store.run_values` count them as 0, exactly as
:func:`azsim.compare` does, while other metrics (ODR, compensation days) stay missing
(:func:`azsim.stats.fill_missing`).
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import stat
import threading
import weakref
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from . import __version__
from .stats import PER_YEAR_PREFIXES as PER_YEAR_PREFIXES  # 0 when a run did not report them (one definition)
from .stats import column_stats, missing_is_zero, paired_columns

__all__ = ["SCHEMA_VERSION", "TABLES", "Store", "StoreError", "describe", "export", "load"]

SCHEMA_VERSION = "1"
TABLES = ("sweeps", "points", "runs", "metrics", "point_summary")
"""The tables :func:`load` and :func:`export` return, in this order (``meta`` is internal)."""


_SCHEMA = """
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE sweeps (
    sweep_id VARCHAR PRIMARY KEY, created TIMESTAMP NOT NULL, spec VARCHAR NOT NULL,
    azsim_version VARCHAR NOT NULL, design VARCHAR);
CREATE TABLE points (
    sweep_id VARCHAR NOT NULL, point_id INTEGER NOT NULL, factors VARCHAR NOT NULL,
    PRIMARY KEY (sweep_id, point_id));
CREATE TABLE runs (
    sweep_id VARCHAR NOT NULL, point_id INTEGER NOT NULL, replication INTEGER NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('ok', 'error')), error VARCHAR, seconds DOUBLE,
    finished TIMESTAMP NOT NULL, PRIMARY KEY (sweep_id, point_id, replication));
CREATE TABLE metrics (
    sweep_id VARCHAR NOT NULL, point_id INTEGER NOT NULL, replication INTEGER NOT NULL,
    policy VARCHAR NOT NULL, metric VARCHAR NOT NULL, value DOUBLE);
CREATE TABLE point_summary (
    sweep_id VARCHAR NOT NULL, point_id INTEGER NOT NULL, policy VARCHAR NOT NULL, metric VARCHAR NOT NULL,
    baseline VARCHAR NOT NULL, n INTEGER NOT NULL, mean DOUBLE, ci_low DOUBLE, ci_high DOUBLE,
    delta_n INTEGER, delta_mean DOUBLE, delta_ci_low DOUBLE, delta_ci_high DOUBLE, delta_pct DOUBLE,
    delta_baseline_mean DOUBLE, delta_policy_mean DOUBLE);
"""
_ADDED_COLUMNS = {("point_summary", "delta_baseline_mean"), ("point_summary", "delta_policy_mean")}
"""Columns a store written by an earlier azsim may lack (:meth:`Store.summarise` adds them)."""


@functools.cache
def _expected_columns() -> dict[tuple[str, str], str]:
    """(table, column) -> DuckDB type of every column of :data:`_SCHEMA` (read from DuckDB itself)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(_SCHEMA)
        rows = con.execute("SELECT table_name, column_name, data_type FROM duckdb_columns() "
                           "WHERE database_name = current_database() AND schema_name = 'main'").fetchall()
    finally:
        con.close()
    return {(t, c): ty for t, c, ty in rows}


_SUMMARY_COLUMNS = ("sweep_id", "point_id", "policy", "metric", "baseline", "n", "mean", "ci_low", "ci_high",
                    "delta_n", "delta_mean", "delta_ci_low", "delta_ci_high", "delta_pct", "delta_baseline_mean",
                    "delta_policy_mean")

# metrics has no primary key on purpose: an index over tens of millions of rows would live in RAM.
# write_run keeps it duplicate-free through the runs primary key instead.

_ORDER = {
    "sweeps": "created, sweep_id",
    "points": "sweep_id, point_id",
    "runs": "sweep_id, point_id, replication",
    "metrics": "sweep_id, point_id, replication, policy, metric",
    "point_summary": "sweep_id, point_id, policy, metric",
}

_WRITERS: weakref.WeakValueDictionary[str, Store] = weakref.WeakValueDictionary()
_WRITERS_LOCK = threading.Lock()


class StoreError(Exception):
    """A results store that cannot be opened or used; the message names the file and the problem."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _first_line(text: str) -> str:
    lines = str(text).strip().splitlines()
    return _printable(lines[0]) if lines else ""


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(text) -> str:
    """Text read from a store, safe to print: control characters (a terminal escape sequence in an
    edited store) shown as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _duck_message(exc: Exception) -> str:
    msg = _first_line(str(exc))
    return re.sub(r"^[A-Za-z ]+Error: ", "", msg)


_ADVICE = "restore it or start a new store"
_WRITE_ADVICE = "free some space or fix the permissions, then rerun the same command to resume"


def _reason(exc: BaseException) -> str:
    """What a DuckDB error says about the file, in a few words."""
    msg = _duck_message(exc)
    low = msg.lower()
    if "corrupt" in low or "checksum" in low:
        return "corrupt database file"
    if "could not read enough bytes" in low or "truncated" in low:
        return "the file is truncated"
    if isinstance(exc, (duckdb.InternalException, duckdb.FatalException)) or "internal error" in low:
        return "corrupt database file: " + (msg[:120] + "..." if len(msg) > 120 else msg)
    return msg[:160] + "..." if len(msg) > 160 else msg


def _read_problem(msg: str) -> bool:
    return bool(re.search(r"corrupt|checksum|could not read|truncated", msg, re.I))


def broken(name: str, reason: str) -> StoreError:
    """The one error for a store whose content cannot be read."""
    return StoreError(f"{name}: not a readable azsim results store ({reason}); {_ADVICE}")


def _translate(name: str, exc: BaseException, writing: bool = False) -> BaseException:
    if isinstance(exc, duckdb.InterruptException):
        return KeyboardInterrupt()
    if writing and isinstance(exc, duckdb.IOException) and not _read_problem(str(exc)):
        return StoreError(f"{name}: cannot write to the results store ({_reason(exc)}); {_WRITE_ADVICE}")
    if isinstance(exc, duckdb.OutOfMemoryException):
        return StoreError(f"{name}: DuckDB ran out of memory reading the store ({_reason(exc)})")
    return broken(name, _reason(exc))


@contextmanager
def _guarded(name: str, writing: bool = False):
    """Every DuckDB error inside becomes a one-line StoreError naming the store (Ctrl-C stays Ctrl-C)."""
    try:
        yield
    except duckdb.Error as exc:
        raise _translate(name, exc, writing) from None


def _guard(writing: bool = False):
    """:func:`_guarded` around a Store method."""

    def wrap(method):
        @functools.wraps(method)
        def inner(self, *args, **kwargs):
            with _guarded(self.name, writing):
                return method(self, *args, **kwargs)

        return inner

    return wrap


def _check_file(path: Path, name: str, read_only: bool) -> None:
    """A store must be a regular file (or, to write, not exist yet): a FIFO, device or folder is refused
    before DuckDB opens it (opening a FIFO would wait forever)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if read_only:
            raise StoreError(f"{name}: no such results store") from None
        return
    except OSError as err:  # a symlink loop, a name too long, a file used as a folder
        raise StoreError(f"{name}: cannot open: {err.strerror or err}") from None
    if stat.S_ISDIR(st.st_mode):
        raise StoreError(f"{name} is a directory, not an azsim results store")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                or stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise StoreError(f"{name} is {kind}, not an azsim results store; give a results store file")


def parse_factors(name: str, sweep_id, point_id, text) -> dict:
    """A point's factors (``points.factors``, JSON text) as a dict; StoreError if tampered with."""
    where = f"points.factors of sweep {_printable(sweep_id)[:40]} point {point_id}"
    try:
        value = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        raise broken(name, f"{where} is not valid JSON") from None
    if not isinstance(value, dict):
        raise broken(name, f"{where} is not a JSON object")
    return value


def _factors_json(point: dict) -> str:
    return json.dumps(point, sort_keys=True, allow_nan=False, default=str)


def _fill_zero(metric: str) -> bool:
    return missing_is_zero(metric)


class Store:
    """An open results store. Use as a context manager; one thread at a time per method call."""

    def __init__(self, path: str | os.PathLike, read_only: bool = False):
        self.path = Path(path)
        self.name = _printable(os.fspath(path))  # for messages: one line whatever the file is called
        self.read_only = bool(read_only)
        self._lock = threading.RLock()
        self._points: dict[str, int] = {}
        self._con: duckdb.DuckDBPyConnection | None = None
        self._key = None
        _check_file(self.path, self.name, self.read_only)
        try:
            key = str(self.path.resolve())
        except (OSError, RuntimeError) as err:  # a symlink loop
            raise StoreError(f"{self.name}: cannot open: {err}") from None
        if not self.read_only:
            with _WRITERS_LOCK:
                other = _WRITERS.get(key)
                if other is not None and other._con is not None:
                    raise StoreError(f"{self.name} is already open for writing in this process; close it first")
                self._con = self._connect()
                _WRITERS[key] = self
                self._key = key
        else:
            self._con = self._connect()
        try:
            with _guarded(self.name, writing=not self.read_only):
                self._check_schema()
        except BaseException:
            self._close_quietly()
            raise

    # ---- opening ------------------------------------------------------------------------------
    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            return duckdb.connect(str(self.path), read_only=self.read_only)
        except duckdb.ConnectionException as exc:
            if "different configuration" not in str(exc):
                raise StoreError(f"{self.name}: cannot open: {_duck_message(exc)}") from None
            if self.read_only:
                # this process already has the store open for writing: read through that instance
                try:
                    return duckdb.connect(str(self.path))
                except duckdb.Error as exc2:
                    raise StoreError(f"{self.name}: cannot open: {_duck_message(exc2)}") from None
            raise StoreError(f"{self.name} is already open read-only in this process; close it first") from None
        except duckdb.InterruptException:
            raise KeyboardInterrupt from None
        except duckdb.IOException as exc:
            msg = str(exc)
            if "Could not set lock" in msg:
                m = re.search(r"Conflicting lock is held in (.*?) \(PID (\d+)\)", msg)
                holder = f"pid {m.group(2)}, {m.group(1)}" if m else "lock held"
                raise StoreError(f"{self.name} is in use by another azsim process ({holder}); only one process "
                                 f"can use a store at a time: wait for it to finish or use another file") from None
            if "not a valid DuckDB database" in msg:
                raise StoreError(f"{self.name} is not an azsim results store (not a DuckDB database)") from None
            if re.search(r"permission denied|no such file|read-only file system|not a directory", msg, re.I):
                raise StoreError(f"{self.name}: cannot open: {_duck_message(exc)}") from None
            raise broken(self.name, _reason(exc)) from None
        except duckdb.Error as exc:
            raise broken(self.name, _reason(exc)) from None

    def _check_schema(self) -> None:
        con = self._con
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main'").fetchall()}
        if not tables:
            if self.read_only:
                raise StoreError(f"{self.name} is not an azsim results store (an empty DuckDB database)")
            con.begin()
            try:
                con.execute(_SCHEMA)
                con.executemany("INSERT INTO meta VALUES (?, ?)",
                                [("schema_version", SCHEMA_VERSION), ("created_by", f"azsim {__version__}")])
                con.commit()
            except BaseException:
                con.rollback()
                raise
            return
        if "meta" not in tables:
            raise StoreError(f"{self.name} is not an azsim results store (a DuckDB database without azsim's tables)")
        try:
            rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
            row = rows[0] if rows else None
        except duckdb.Error:
            row = None
        if row is None:
            raise StoreError(f"{self.name} is not an azsim results store (no schema version)")
        if row[0] != SCHEMA_VERSION:
            raise StoreError(f"{self.name} is not an azsim results store this azsim can read "
                             f"(schema version {_printable(row[0])[:40]}, expected {SCHEMA_VERSION})")
        missing = [t for t in TABLES if t not in tables]
        if missing:
            raise StoreError(f"{self.name} is not an azsim results store (missing tables: {', '.join(missing)})")
        have = {(t, c): ty for t, c, ty in con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'main'").fetchall()}
        for (table, column), want in _expected_columns().items():
            got = have.get((table, column))
            if got is None and (table, column) not in _ADDED_COLUMNS:
                raise broken(self.name, f"table {table} has no column {column}")
            if got is not None and got != want:
                raise broken(self.name, f"column {table}.{column} is {got}, expected {want}")

    def _close_quietly(self) -> None:
        try:
            self.close()
        except (StoreError, duckdb.Error):
            pass

    def _c(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise StoreError(f"{self.name}: the store is closed")
        return self._con

    def _writable(self) -> duckdb.DuckDBPyConnection:
        if self.read_only:
            raise StoreError(f"{self.name}: opened read-only")
        return self._c()

    # ---- writing ------------------------------------------------------------------------------
    @_guard(writing=True)
    def begin_sweep(self, sweep_id: str, spec: dict, points: list[dict]) -> bool:
        """Record a sweep and its design points; False if ``sweep_id`` is already stored (a resume).

        On a resume the stored points must equal ``points`` (same order and values), else StoreError.
        """
        with self._lock:
            con = self._writable()
            texts = [_factors_json(p) for p in points]
            con.begin()
            try:
                exists = con.execute("SELECT 1 FROM sweeps WHERE sweep_id = ?", [sweep_id]).fetchall()
                if exists:
                    stored = [r[0] for r in con.execute(
                        "SELECT factors FROM points WHERE sweep_id = ? ORDER BY point_id", [sweep_id]).fetchall()]
                    con.rollback()
                    self._check_same_points(sweep_id, stored, texts)
                    self._points[sweep_id] = len(stored)
                    return False
                design = spec.get("design") if isinstance(spec, dict) else None
                if isinstance(design, dict):
                    design = design.get("name") or design.get("kind") or design.get("type")
                con.execute("INSERT INTO sweeps VALUES (?, ?, ?, ?, ?)",
                            [sweep_id, _now(), json.dumps(spec, sort_keys=True, default=str), __version__,
                             None if design is None else str(design)])
                if texts:
                    con.execute("INSERT INTO points SELECT ?, unnest(?), unnest(?)",
                                [sweep_id, list(range(len(texts))), texts])
                con.commit()
            except BaseException:
                _rollback(con)
                raise
            self._points[sweep_id] = len(texts)
            return True

    def _check_same_points(self, sweep_id: str, stored: list[str], texts: list[str]) -> None:
        if len(stored) != len(texts):
            raise StoreError(f"{self.name}: sweep {sweep_id} is already stored with {len(stored)} points, "
                             f"not {len(texts)}: use another store or another sweep")
        for i, (a, b) in enumerate(zip(stored, texts, strict=True)):
            if a != b:
                raise StoreError(f"{self.name}: sweep {sweep_id} is already stored with different points "
                                 f"(point {i}: stored {a}, now {b}): use another store or another sweep")

    @_guard(writing=False)
    def finished(self, sweep_id: str) -> set[tuple[int, int]]:
        """(point_id, replication) of every stored run of the sweep, ok or error."""
        with self._lock:
            rows = self._c().execute("SELECT point_id, replication FROM runs WHERE sweep_id = ?",
                                     [sweep_id]).fetchall()
            return {(int(p), int(r)) for p, r in rows}

    @_guard(writing=False)
    def _n_points(self, sweep_id: str) -> int:
        if sweep_id not in self._points:
            if not self._c().execute("SELECT 1 FROM sweeps WHERE sweep_id = ?", [sweep_id]).fetchall():
                raise StoreError(f"{self.name}: no sweep {sweep_id} (call begin_sweep first)")
            [(n,)] = self._c().execute("SELECT count(*) FROM points WHERE sweep_id = ?", [sweep_id]).fetchall()
            self._points[sweep_id] = int(n)
        return self._points[sweep_id]

    def write_run(self, sweep_id: str, point_id: int, replication: int,
                  metrics: dict[str, dict[str, float]] | None, error: str | None, seconds: float) -> None:
        """Store one run (status 'error' when ``error`` is given, else 'ok' with ``metrics``) in one transaction.

        Writing a run that is already stored replaces it: the store never holds it twice.
        """
        self.write_runs(sweep_id, [(point_id, replication, metrics, error, seconds)])

    @_guard(writing=True)
    def write_runs(self, sweep_id: str, runs: list[tuple]) -> None:
        """Store several runs, each ``(point_id, replication, metrics, error, seconds)`` as :meth:`write_run`
        takes them, in one transaction: all of them or none (a sweep's coordinator writes the runs that
        finished meanwhile together; a transaction a run cost more than a short run's own work)."""
        rows, points, reps, policies, names, values = [], [], [], [], [], []
        with self._lock:
            con = self._writable()
            n = self._n_points(sweep_id)
            finished = _now()
            latest = {(int(run[0]), int(run[1])): run for run in runs}  # a run given twice: the later one stays
            for (point_id, replication), (_, _, metrics, error, seconds) in latest.items():
                if error is None and metrics is None:
                    raise ValueError("write_run needs metrics for an ok run or an error text")
                if not 0 <= point_id < n:
                    raise StoreError(f"{self.name}: sweep {sweep_id} has no point {point_id} (it has {n})")
                if replication < 0:
                    raise StoreError(f"{self.name}: replication must be >= 0, got {replication}")
                if error is None:
                    for policy, flat in metrics.items():
                        for metric, value in flat.items():
                            points.append(point_id)
                            reps.append(replication)
                            policies.append(str(policy))
                            names.append(str(metric))
                            values.append(math.nan if value is None else float(value))
                rows.append([sweep_id, point_id, replication, "ok" if error is None else "error",
                             None if error is None else str(error), None if seconds is None else float(seconds),
                             finished])
            if not rows:
                return
            con.begin()
            try:
                try:
                    for run in rows:
                        con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)", run)
                except duckdb.ConstraintException:  # some already stored: replace them (rare, so not checked first)
                    con.rollback()
                    con.begin()
                    for run in rows:
                        key = run[:3]
                        con.execute("DELETE FROM metrics WHERE sweep_id = ? AND point_id = ? AND replication = ?", key)
                        con.execute("DELETE FROM runs WHERE sweep_id = ? AND point_id = ? AND replication = ?", key)
                        con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)", run)
                if values:
                    con.execute("INSERT INTO metrics SELECT ?, pt, rp, p, m, CASE WHEN isnan(v) THEN NULL ELSE v END "
                                "FROM (SELECT unnest(?::INTEGER[]) AS pt, unnest(?::INTEGER[]) AS rp, unnest(?) AS p, "
                                "unnest(?) AS m, unnest(?::DOUBLE[]) AS v)",
                                [sweep_id, points, reps, policies, names, values])
                con.commit()
            except BaseException:
                _rollback(con)
                raise

    # ---- reading ------------------------------------------------------------------------------
    @_guard(writing=False)
    def run_values(self, sweep_id: str, metric: str, policy: str) -> pd.DataFrame:
        """point_id, replication, value of one metric under one policy, for every ok run of the sweep.

        Money and count metrics a run did not book are 0; other missing values are NaN. A policy, or a
        metric, that no ok run of the sweep reported (under any policy) raises StoreError.
        """
        with self._lock:
            df = self._c().execute(
                "SELECT r.point_id, r.replication, m.value, m.metric IS NOT NULL AS found "
                "FROM (SELECT point_id, replication FROM runs WHERE sweep_id = $s AND status = 'ok') r "
                "LEFT JOIN (SELECT point_id, replication, value, metric FROM metrics "
                "           WHERE sweep_id = $s AND metric = $metric AND policy = $policy) m "
                "ON m.point_id = r.point_id AND m.replication = r.replication "
                "ORDER BY r.point_id, r.replication",
                {"s": sweep_id, "metric": metric, "policy": policy}).df()
        if len(df) and not df["found"].any():
            self._check_known(sweep_id, metric, policy)
        df = df.drop(columns="found")
        df["value"] = df["value"].astype(float)
        if _fill_zero(metric):
            df["value"] = df["value"].fillna(0.0)
        return df.reset_index(drop=True)

    @_guard(writing=False)
    def _check_known(self, sweep_id: str, metric: str, policy: str) -> None:
        con = self._c()
        [known] = con.execute("SELECT bool_or(policy = $p), bool_or(metric = $m) FROM metrics WHERE sweep_id = $s",
                            {"s": sweep_id, "p": policy, "m": metric}).fetchall()
        if not known[0]:
            raise StoreError(f"{self.name}: sweep {sweep_id} has no policy {policy!r}")
        if not known[1]:
            raise StoreError(f"{self.name}: no run of sweep {sweep_id} reported the metric {metric!r} "
                             f"(misspelt, or never booked)")

    # ---- summaries ----------------------------------------------------------------------------
    @_guard(writing=True)
    def summarise(self, sweep_id: str, baseline: str) -> None:
        """(Re)write ``point_summary`` for the sweep: per point, policy and metric, n, mean and 95% CI,
        and each other policy's paired difference from ``baseline`` over the same replications."""
        with self._lock:
            con = self._writable()
            self._n_points(sweep_id)
            policies = [r[0] for r in con.execute(
                "SELECT DISTINCT policy FROM metrics WHERE sweep_id = ? ORDER BY policy", [sweep_id]).fetchall()]
            if policies and baseline not in policies:
                raise StoreError(f"{self.name}: sweep {sweep_id} has no policy {baseline!r} "
                                 f"(it has {', '.join(policies)})")
            names = [r[0] for r in con.execute(
                "SELECT DISTINCT metric FROM metrics WHERE sweep_id = ? ORDER BY metric", [sweep_id]).fetchall()]
            counts = con.execute("SELECT point_id, count(*) FROM runs WHERE sweep_id = ? AND status = 'ok' "
                                 "GROUP BY point_id ORDER BY point_id", [sweep_id]).fetchall()
            met_table = pd.DataFrame({"metric": pd.Series(names, dtype=object),
                                      "fill_zero": pd.Series([_fill_zero(m) for m in names], dtype=bool)})
            order = [baseline] + [p for p in policies if p != baseline]
            sql = _values_sql(len(order))
            params = {"s": sweep_id, **{f"p{i}": p for i, p in enumerate(order)}}
            con.register("_azsim_met", met_table)
            con.begin()
            try:
                con.execute("ALTER TABLE point_summary ADD COLUMN IF NOT EXISTS delta_baseline_mean DOUBLE")
                con.execute("ALTER TABLE point_summary ADD COLUMN IF NOT EXISTS delta_policy_mean DOUBLE")
                con.execute("DELETE FROM point_summary WHERE sweep_id = ?", [sweep_id])
                if policies:
                    for lo, hi in _chunks(counts, max(1, _CHUNK_CELLS // max(1, len(names) * len(order)))):
                        x = con.execute(sql, {**params, "lo": lo, "hi": hi}).df()
                        rows = _summary_rows(x, sweep_id, order)
                        con.register("_azsim_rows", rows)
                        try:
                            con.execute(f"INSERT INTO point_summary ({', '.join(_SUMMARY_COLUMNS)}) "
                                        f"SELECT {', '.join(_SUMMARY_COLUMNS)} FROM _azsim_rows")
                        finally:
                            con.unregister("_azsim_rows")
                con.commit()
            except BaseException:
                _rollback(con)
                raise
            finally:
                con.unregister("_azsim_met")

    # ---- closing ------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the store (checkpointing it); further calls raise StoreError. Safe to call twice."""
        with self._lock:
            con, self._con = self._con, None
            try:
                if con is not None:
                    with _guarded(self.name, writing=not self.read_only):
                        con.close()
            finally:
                if self._key is not None:
                    with _WRITERS_LOCK:
                        if _WRITERS.get(self._key) is self:
                            del _WRITERS[self._key]
                    self._key = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:  # the first error is the one to report
            self._close_quietly()

    def __repr__(self) -> str:
        state = "closed" if self._con is None else ("read-only" if self.read_only else "open")
        return f"Store({self.name!r}, {state})"


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.rollback()
    except duckdb.Error:
        pass


_CHUNK_CELLS = 2_000_000
"""About how many (run, policy, metric) values :meth:`Store.summarise` aggregates per query: memory stays bounded."""


def _chunks(counts: list[tuple[int, int]], max_runs: int) -> list[tuple[int, int]]:
    """Consecutive point ranges [lo, hi] of about ``max_runs`` runs each (a point is never split)."""
    out, lo, runs = [], None, 0
    for point, n in counts:
        if lo is None:
            lo = point
        runs += n
        if runs >= max_runs:
            out.append((lo, point))
            lo, runs = None, 0
    if lo is not None:
        out.append((lo, counts[-1][0]))
    return out


def _values_sql(k: int) -> str:
    """Values of points $lo..$hi for policies $p0 (the baseline) .. $p{k-1}, one row per (point,
    metric, ok replication): point_id, metric, replication, x0 .. x{k-1}, money and count metrics a
    run did not book filled with 0 (others NULL), ordered by point, metric and replication.

    The order is part of the result: :func:`_summary_rows` sums each column over the replications in
    this order, so a resumed, re-run or differently scheduled sweep (whose rows DuckDB holds, and
    would return, in another order) gets point_summary to the last bit (tests/test_faults.py)."""
    wide = ", ".join(f"max(value) FILTER (policy = $p{i}) AS v{i}" for i in range(k))
    filled = ", ".join(f"CASE WHEN k.fill_zero THEN coalesce(w.v{i}, 0.0) ELSE w.v{i} END AS x{i}" for i in range(k))
    return f"""
WITH ok AS (SELECT point_id, replication FROM runs
            WHERE sweep_id = $s AND status = 'ok' AND point_id BETWEEN $lo AND $hi),
w AS (SELECT point_id, replication, metric, {wide} FROM metrics
      WHERE sweep_id = $s AND point_id BETWEEN $lo AND $hi GROUP BY point_id, replication, metric)
SELECT ok.point_id, k.metric, ok.replication, {filled}
FROM ok CROSS JOIN _azsim_met k
LEFT JOIN w ON w.point_id = ok.point_id AND w.replication = ok.replication AND w.metric = k.metric
ORDER BY ok.point_id, k.metric, ok.replication
"""


def _summary_rows(x: pd.DataFrame, sweep_id: str, order: list[str]) -> pd.DataFrame:
    """point_summary rows from :func:`_values_sql`'s values: levels by :func:`azsim.stats.column_stats`,
    paired differences by :func:`azsim.stats.paired_columns` (the definitions ``compare`` uses)."""
    if x.empty:
        return pd.DataFrame({c: [] for c in _SUMMARY_COLUMNS})
    keys = ["point_id", "metric"]
    grouped = x.groupby(keys, sort=False)
    g = grouped.ngroup().to_numpy()
    r = grouped.cumcount().to_numpy()
    first = x.drop_duplicates(keys)  # one row per group, in group order (x is sorted by point and metric)
    shape = (int(r.max()) + 1, int(g.max()) + 1)
    arrays = []
    for i in range(len(order)):
        a = np.full(shape, np.nan)
        a[r, g] = x[f"x{i}"].to_numpy(dtype=float)
        arrays.append(a)
    frames = []
    nan = np.full(shape[1], np.nan)
    for i, policy in enumerate(order):
        n, mean, lo, hi = column_stats(arrays[i])
        if i == 0:
            d = {"n": nan, "mean": nan, "ci_low": nan, "ci_high": nan, "pct": nan, "base_mean": nan,
                 "other_mean": nan}
        else:
            d = paired_columns(arrays[0], arrays[i])
        frames.append(pd.DataFrame({
            "sweep_id": sweep_id, "point_id": first["point_id"].to_numpy(), "policy": policy,
            "metric": first["metric"].to_numpy(), "baseline": order[0], "n": n, "mean": mean, "ci_low": lo,
            "ci_high": hi, "delta_n": pd.array(d["n"] if i else [None] * shape[1], dtype="Int64"),
            "delta_mean": d["mean"], "delta_ci_low": d["ci_low"], "delta_ci_high": d["ci_high"],
            "delta_pct": d["pct"], "delta_baseline_mean": d["base_mean"], "delta_policy_mean": d["other_mean"]}))
    return pd.concat(frames, ignore_index=True)


# ---- whole-store functions (the CLI's `azsim results`) --------------------------------------------
def load(path: str | os.PathLike) -> dict[str, pd.DataFrame]:
    """Every table of the store as a pandas frame: sweeps, points, runs, metrics, point_summary.

    ``points`` has the factors as JSON text and, as well, one column per factor path (dotted name).
    Reads the whole ``metrics`` table into memory: query the file with DuckDB for very large stores.
    A store that cannot be read (corrupt, truncated, tampered with) raises :class:`StoreError`.
    """
    with Store(path, read_only=True) as store, _guarded(store.name):
        con = store._c()
        out = {t: con.execute(f"SELECT * FROM {t} ORDER BY {_ORDER[t]}").df() for t in TABLES}
        name = store.name
    points = out["points"]
    if len(points):
        factors = pd.DataFrame([parse_factors(name, s, p, f) for s, p, f in
                                zip(points["sweep_id"], points["point_id"], points["factors"], strict=True)],
                               index=points.index)
        factors = factors[[c for c in factors.columns if c not in points.columns]]
        out["points"] = pd.concat([points, factors], axis=1)
    return out


def _spec_of(text: str) -> dict:
    try:
        spec = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return {}
    return spec if isinstance(spec, dict) else {}


def _count(x) -> int | None:
    """A planned count from a sweep's spec, if it is a sane whole number."""
    return x if isinstance(x, int) and not isinstance(x, bool) and 0 < x < 2**31 else None


HEADLINE_METRIC = "seller_cost.total"
"""The change :func:`describe` and :func:`changes` show per point: the seller's yearly cost."""


def _currency_of(spec: dict) -> str:
    market = (spec.get("scenario") or {}).get("market") if isinstance(spec.get("scenario"), dict) else None
    cur = market.get("currency") if isinstance(market, dict) else None
    return cur if isinstance(cur, str) and cur.isalpha() and len(cur) == 3 else "USD"


def _num(x) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def _point_changes(con, name: str, sweep_id, metric: str, factors: dict) -> list[dict]:
    """Each point's paired change of ``metric`` (every policy against the baseline), as stored in
    ``point_summary`` (:meth:`Store.summarise`, :func:`azsim.stats.paired_columns`): nothing recomputed."""
    rows = con.execute("SELECT point_id, policy, baseline, delta_n, delta_mean, delta_ci_low, delta_ci_high, "
                       "delta_pct, delta_baseline_mean, delta_policy_mean FROM point_summary WHERE sweep_id = ? "
                       "AND metric = ? AND policy <> baseline ORDER BY point_id, policy", [sweep_id, metric]).fetchall()
    out = []
    for point, policy, baseline, n, mean, lo, hi, pct, base_mean, pol_mean in rows:
        out.append({"point_id": int(point), "factors": factors.get(point, {}), "policy": _printable(policy),
                    "baseline": _printable(baseline), "metric": metric, "n": None if n is None else int(n),
                    "mean": _num(mean), "ci_low": _num(lo), "ci_high": _num(hi), "pct": _num(pct),
                    "baseline_mean": _num(base_mean), "policy_mean": _num(pol_mean)})
    return out


def _factor_text(factors: dict) -> str:
    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return f"{v:.4g}"
        return _printable(v)

    return ", ".join(f"{_printable(k)}={value(v)}" for k, v in factors.items()) or "(the scenario itself)"


def changes(path: str | os.PathLike, metric: str = HEADLINE_METRIC) -> dict:
    """What the store holds as data (``azsim results STORE --json -``): per sweep its id, design,
    factors, counts of points and runs, currency, and each point's paired change of ``metric`` with
    its 95% CI, read from ``point_summary``."""
    with Store(path, read_only=True) as store, _guarded(store.name):
        con = store._c()
        sweeps = con.execute("SELECT sweep_id, created, spec, azsim_version, design FROM sweeps "
                             "ORDER BY created, sweep_id").fetchall()
        out = []
        for sweep_id, created, spec_text, version, design in sweeps:
            spec = _spec_of(spec_text)
            factors = {p: parse_factors(store.name, sweep_id, p, t) for p, t in con.execute(
                "SELECT point_id, factors FROM points WHERE sweep_id = ? ORDER BY point_id", [sweep_id]).fetchall()}
            [(ok, err)] = con.execute("SELECT count(*) FILTER (status = 'ok'), count(*) FILTER (status = 'error') "
                                      "FROM runs WHERE sweep_id = ?", [sweep_id]).fetchall()
            out.append({
                "sweep_id": _printable(sweep_id),
                "created": created.isoformat() if isinstance(created, datetime) else None,
                "azsim_version": _printable(version), "design": _printable(design or spec.get("design") or ""),
                "points": len(factors), "runs_ok": int(ok), "runs_error": int(err),
                "currency": _currency_of(spec),
                "changes": _point_changes(con, store.name, sweep_id, metric, factors),
            })
        return {"store": store.name, "metric": metric, "sweeps": out}


def describe(path: str | os.PathLike, max_failures: int = 20, max_points: int = 20) -> str:
    """What the store holds, as text: each sweep, its design, points, runs ok / error / missing, failures,
    and each point's change in the seller's yearly cost against the baseline with its 95% CI (the first
    ``max_points`` points; :func:`changes` has them all)."""
    from .labels import change_phrase, label, plural

    with Store(path, read_only=True) as store, _guarded(store.name):
        con = store._c()
        sweeps = con.execute("SELECT sweep_id, created, spec, azsim_version, design FROM sweeps "
                             "ORDER BY created, sweep_id").fetchall()
        lines = [f"{store.name}: azsim results store, {plural(len(sweeps), 'sweep')}"]
        for sweep_id, created, spec_text, version, design in sweeps:
            spec = {k: _printable(v) if isinstance(v, str) else v for k, v in _spec_of(spec_text).items()}
            points = con.execute("SELECT point_id, factors FROM points WHERE sweep_id = ? ORDER BY point_id",
                                 [sweep_id]).fetchall()
            n_points = len(points)
            factors: list[str] = []
            for point_id, text in points:
                for k in parse_factors(store.name, sweep_id, point_id, text):
                    if _printable(k) not in factors:
                        factors.append(_printable(k))
            [(ok, err)] = con.execute("SELECT count(*) FILTER (status = 'ok'), count(*) FILTER (status = 'error') "
                                  "FROM runs WHERE sweep_id = ?", [sweep_id]).fetchall()
            [(summarised,)] = con.execute("SELECT count(*) FROM point_summary WHERE sweep_id = ?",
                                        [sweep_id]).fetchall()
            lines.append("")
            when = f"{created:%Y-%m-%d %H:%M:%S} UTC" if isinstance(created, datetime) else "?"
            lines.append(f"sweep {_printable(sweep_id)}  created {when}  azsim {_printable(version)}")
            d = _printable(design or spec.get("design") or "?")
            if spec.get("samples"):
                d += f", {spec['samples']} samples"
            lines.append(f"  design        {d}; factors: {', '.join(factors) if factors else '(none)'}")
            lines.append(f"  points        {n_points}")
            reps = spec.get("replications")
            runs = f"{ok} ok, {err} error"
            if _count(reps):
                lines.append(f"  replications  {reps} per point")
                [(planned,)] = con.execute("SELECT count(*) FROM runs WHERE sweep_id = ? AND point_id < ? "
                                         "AND replication < ?", [sweep_id, n_points, reps]).fetchall()
                runs += f", {n_points * reps - planned} missing (of {n_points * reps})"
            elif reps is not None:
                cap = spec.get("max_replications")
                lines.append(f"  replications  {reps}" + (f" (at most {cap} per point)" if cap else ""))
            lines.append(f"  runs          {runs}")
            lines.append(f"  summary       {'written' if summarised else 'not written'}")
            point_factors = {p: parse_factors(store.name, sweep_id, p, t) for p, t in points}
            found = _point_changes(con, store.name, sweep_id, HEADLINE_METRIC, point_factors)
            if found:
                cur = _currency_of(spec)
                lines.append(f"  {label(HEADLINE_METRIC).lower()} change against {found[0]['baseline']}, "
                             "a year, per point (mean over replications, 95% CI):")
                for c in found[:max_points]:
                    reps_text = "" if c["n"] is None else (
                        f" [{plural(c['n'], 'replication')}" + ("; no CI]" if c["ci_low"] is None else "]"))
                    lines.append(f"    point {c['point_id']:<4} {_factor_text(c['factors'])}: {c['policy']} "
                                 f"{change_phrase(c['mean'], c['ci_low'], c['ci_high'], currency=cur)}{reps_text}")
                if len(found) > max_points:
                    lines.append(f"    ... and {len(found) - max_points:,} more (azsim results STORE --json - lists "
                                 "them all)")
            if err:
                failures = con.execute("SELECT point_id, replication, error FROM runs WHERE sweep_id = ? "
                                       "AND status = 'error' ORDER BY point_id, replication LIMIT ?",
                                       [sweep_id, max_failures]).fetchall()
                lines.append(f"  failures ({err}):")
                for p, r, text in failures:
                    lines.append(f"    point {p}, replication {r}: {_first_line(text or '')}")
                if err > len(failures):
                    lines.append(f"    ... and {err - len(failures)} more")
    return "\n".join(lines)


def export(path: str | os.PathLike, fmt: str, outdir: str | os.PathLike) -> list[Path]:
    """Write each table (sweeps, points, runs, metrics, point_summary) to ``outdir`` as parquet or csv.

    The files are written in a temporary folder next to ``outdir`` and moved into it at the end: a
    store that cannot be read, a full disk or Ctrl-C leaves nothing behind (and ``outdir`` as it was).
    """
    from .outputs import building, target_problems

    fmt = str(fmt).lower()
    if fmt not in ("parquet", "csv"):
        raise StoreError(f"export format must be parquet or csv, got {fmt!r}")
    outdir = Path(outdir)
    problems = target_problems("export folder", outdir, "dir")
    if problems:
        raise StoreError(problems[0])
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
    with Store(path, read_only=True) as store, _guarded(store.name):
        con = store._c()
        for t in TABLES:  # read every table once first: a corrupt store fails before a file is written
            con.execute(f"SELECT count(*) FROM {t}").fetchall()
        with building(outdir, replace=False, flag="export folder") as tmp:
            for table in TABLES:
                target = tmp / f"{table}.{fmt}"
                quoted = str(target).replace("'", "''")
                try:
                    con.execute(f"COPY (SELECT * FROM {table} ORDER BY {_ORDER[table]}) TO '{quoted}' ({options})")
                except duckdb.IOException as exc:
                    if _read_problem(str(exc)):
                        raise
                    raise StoreError(f"{outdir}: cannot write the export ({_reason(exc)}); nothing was written") \
                        from None
    return [outdir / f"{table}.{fmt}" for table in TABLES]
