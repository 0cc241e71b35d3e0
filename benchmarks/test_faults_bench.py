"""Faults at length (run by `make bench`): Ctrl-C at many random moments of a pool and of a Dask
sweep (no traceback, exit 0 or 130, no worker left, the rerun ends with the undisturbed export), and a
run that kills its Dask worker every time (Dask gives up: the run comes back as failed, the others
finish). The short versions are in tests/test_faults.py."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import test_faults as tf  # noqa: E402  (its sweep, export and process helpers)

from azsim.executors import DaskExecutor  # noqa: E402

reference = tf.reference  # the undisturbed sweep (a fixture)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not tf.LINUX, reason="Linux process checks")]


@pytest.mark.parametrize("executor, tries", [("local", 40), ("dask", 12)])
def test_ctrl_c_fuzz(tmp_path, reference, executor, tries):
    expected, _, wall = reference
    store = tmp_path / "c.duckdb"
    rng = random.Random(7)
    counts = {"tries": 0, "interrupted": 0, "finished": 0, "tracebacks": 0, "other_codes": 0, "orphans": 0}
    for _ in range(tries):
        proc = subprocess.Popen(tf._sweep_cmd(store, executor), cwd=tf.ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        tf._wait_until_main_runs(proc.pid)
        time.sleep(rng.uniform(0, wall + (3 if executor == "dask" else 0)))
        workers = tf._descendants(proc.pid)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        counts["tries"] += 1
        counts["interrupted"] += proc.returncode == 130
        counts["finished"] += proc.returncode == 0
        counts["other_codes"] += proc.returncode not in (0, 130)
        counts["tracebacks"] += "Traceback" in err
        if "Traceback" in err or proc.returncode not in (0, 130):
            print(f"\nexit {proc.returncode}:\n{err}")
        left = tf._survivors(workers, within=10)
        counts["orphans"] += len(left)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    print(f"\nCtrl-C fuzz ({executor}): {counts}")
    assert counts["tracebacks"] == counts["other_codes"] == counts["orphans"] == 0, counts
    subprocess.run(tf._sweep_cmd(store, executor), cwd=tf.ROOT, check=True, capture_output=True)
    got = tf._export(store, tmp_path / "export")
    for table in expected:
        assert got[table] == expected[table], table


def test_a_run_that_always_kills_its_dask_worker_comes_back_failed():
    def kills_at_3(t):  # pickled by value to the workers
        if t == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return t * t

    with DaskExecutor(workers=2) as ex:
        out = dict(ex.run(kills_at_3, range(8), died=lambda task, reason: reason))
    assert out.pop(3) == "worker died running this run each time Dask tried it (KilledWorker)"
    assert out == {t: t * t for t in range(8) if t != 3}
