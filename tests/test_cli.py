"""The azsim command: output, exit codes, bad input, nothing half-written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from azsim.cli import main

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--set", "horizon_days=60", "--set", "market.orders_per_day=20"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "azsim.cli", *args], capture_output=True, text=True, cwd=ROOT)


def test_compare_prints_the_table(capsys):
    rc = main(["compare", str(ROOT / "scenarios/default.yaml"), "-r", "3", "-q", *SMALL])
    out = capsys.readouterr().out
    assert rc == 0
    for label in ("Seller cost (USD/yr)", "Amazon cost (USD/yr)", "Insurer cost (USD/yr)", "Buyers' uncompensated loss",
                  "A-to-z claims", "Order defect rate, mean", "95% CI", "new − old"):
        assert label in out


def test_compare_json_to_file_and_stdout(tmp_path, capsys):
    path = tmp_path / "r.json"
    assert main(["compare", str(ROOT / "scenarios/default.yaml"), "-r", "2", "-q", "--json", str(path), *SMALL]) == 0
    data = json.loads(path.read_text())
    assert data["replications"] == 2 and set(data["policies"]) == {"old", "new"}
    capsys.readouterr()
    assert main(["compare", str(ROOT / "scenarios/default.yaml"), "-r", "2", "-q", "--json", "-", *SMALL]) == 0
    assert json.loads(capsys.readouterr().out) == data  # same scenario and seed: same result


def test_set_overrides_are_applied_and_validated(tmp_path, capsys):
    path = tmp_path / "r.json"
    main(["compare", str(ROOT / "scenarios/default.yaml"), "-r", "2", "-q", "--json", str(path), *SMALL,
          "--set", "policies.new.amazon_pays_threshold=500", "--set", "seller.support.staff=3"])
    scen = json.loads(path.read_text())["scenario"]
    assert scen["policies"]["new"]["amazon_pays_threshold"] == 500
    assert scen["policies"]["old"]["pdpi_handler"] == "seller"  # the old preset is untouched
    assert scen["seller"]["support"]["staff"] == 3


@pytest.mark.parametrize(
    "setting, needle",
    [
        ("seller.support.staf=2", "seller.support.staf: unknown field; did you mean seller.support.staff?"),
        ("seller.listing_accuracy=1.5", "seller.listing_accuracy: input should be less than or equal to 1"),
        ("market.price.median=-3", "market.price.median: input should be greater than or equal to 0"),
        ("seller.support.staff=many", "seller.support.staff: input should be a valid integer"),
        ("horizon_days", "expected dotted.path=value"),
        ("policies.new.amazon_pays_treshold=1", "did you mean policies.new.amazon_pays_threshold?"),
    ],
)
def test_bad_overrides_exit_2_naming_the_field(tmp_path, setting, needle):
    out = tmp_path / "r.json"
    p = run_cli("compare", "scenarios/default.yaml", "--set", setting, "--json", str(out))
    assert p.returncode == 2
    assert needle in p.stderr
    assert "Traceback" not in p.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "content, needle",
    [
        ("market: {orders_per_day: [1, 2}\n", "broken YAML at line 1"),
        ("- just\n- a list\n", "expected a mapping"),
        ("seller:\n  packaging_quality: 2\n  listing_accuracy: -1\n", "seller.packaging_quality"),
        ("incidents:\n  remorse_return: 0.7\n  late_delivery: 0.5\n", "add up to"),
        ("policies:\n  new: {preset: newest}\n", "unknown preset 'newest'"),
        ("buyers: {chargback: 0.1}\n", "did you mean buyers.chargeback?"),
    ],
)
def test_bad_files_exit_2_with_one_line_per_problem(tmp_path, content, needle):
    f = tmp_path / "bad.yaml"
    f.write_text(content)
    out = tmp_path / "r.json"
    p = run_cli("compare", str(f), "--json", str(out))
    assert p.returncode == 2, p.stderr
    assert needle in p.stderr
    assert "Traceback" not in p.stderr
    assert all(line.startswith("error: ") for line in p.stderr.strip().splitlines())
    assert not out.exists()


def test_every_problem_is_listed(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("seller:\n  packaging_quality: 2\n  listing_accuracy: -1\nmarket: {fba_share: x}\n")
    p = run_cli("validate", str(f))
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 3


def test_missing_file_and_bad_output_directory(tmp_path):
    p = run_cli("compare", str(tmp_path / "nope.yaml"))
    assert p.returncode == 2 and "file not found" in p.stderr
    p = run_cli("compare", "scenarios/default.yaml", "--json", str(tmp_path / "no" / "dir" / "r.json"))
    assert p.returncode == 2 and "directory does not exist" in p.stderr


def test_bad_arguments_exit_2():
    assert run_cli("compare", "scenarios/default.yaml", "--replications", "0").returncode == 2
    assert run_cli("compare", "scenarios/default.yaml", "--seed", "x").returncode == 2
    assert run_cli("frobnicate").returncode == 2


def test_validate_ok_and_all_shipped_scenarios_validate():
    for f in sorted((ROOT / "scenarios").glob("*.yaml")):
        p = run_cli("validate", str(f))
        assert p.returncode == 0, (f, p.stderr)
        assert p.stdout.startswith("OK")


def test_advise_sensitivity_and_results_commands(tmp_path, capsys):
    small = ["--set", "horizon_days=60", "--set", "market.orders_per_day=20"]
    assert main(["advise", str(ROOT / "scenarios/default.yaml"), "-r", "2", *small]) == 0
    out = capsys.readouterr().out
    assert "What to fix first" in out and "Insure or not?" in out and "Keep listings accurate" in out
    store = tmp_path / "sens.duckdb"
    rc = main(["sensitivity", str(ROOT / "scenarios/electrical.yaml"), "--vary", "seller.listing_accuracy=0.5:1",
               "--vary", "policies.new.pdpi_claim_propensity=0.2:1", "--samples", "4", "-r", "1", "--executor",
               "inline", "-q", "--out", str(store), "--json", str(tmp_path / "s.json"), *small])
    assert rc == 0
    data = json.loads((tmp_path / "s.json").read_text())
    assert [r["factor"] for r in data["sobol"]["seller_cost.total"]] == ["seller.listing_accuracy",
                                                                        "policies.new.pdpi_claim_propensity"]
    assert len(data["tornado"]["seller_cost.total"]) == 2
    capsys.readouterr()
    assert main(["results", str(store), "--export", "csv", "--dir", str(tmp_path / "csv")]) == 0
    out = capsys.readouterr().out
    assert "2 sweeps" in out and (tmp_path / "csv" / "metrics.csv").exists()


def test_results_of_a_missing_or_corrupt_store_exit_2(tmp_path):
    p = run_cli("results", str(tmp_path / "none.duckdb"))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database")
    p = run_cli("results", str(junk))
    assert p.returncode == 2 and "not an azsim results store" in p.stderr


def test_output_piped_into_a_reader_that_stops_early_gives_no_traceback():
    import subprocess
    import sys

    proc = subprocess.run(f"{sys.executable} -m azsim.cli policies | head -1", shell=True, capture_output=True,
                          text=True)
    assert proc.stdout.startswith("Policy versions")
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


# ---- faces that read at a glance (issue 10) --------------------------------------------------------
import io  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import stat  # noqa: E402

from azsim import labels  # noqa: E402

DEFAULT = str(ROOT / "scenarios/default.yaml")


class FakeTerminal(io.StringIO):
    """A stderr that says it is a terminal, as an interactive shell's is."""

    def isatty(self) -> bool:
        return True


def run_main(argv, monkeypatch, stderr=None):
    """main(argv) with stdout and stderr captured in StringIOs; ``stderr`` may be a FakeTerminal."""
    out, err = io.StringIO(), stderr if stderr is not None else io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    rc = main([str(a) for a in argv])
    monkeypatch.undo()
    return rc, out.getvalue(), err.getvalue()


BAR = re.compile(r"100%\|.*\| (\d+)/(\d+) \[")  # tqdm's bar at its end: 100%|#####| 3/3 [00:01<00:00, ...]

PROGRESS_COMMANDS = {
    "compare": ["compare", DEFAULT, "-r", "3", *SMALL],
    "advise": ["advise", DEFAULT, "-r", "2", *SMALL],
    "sweep": ["sweep", DEFAULT, "--vary", "seller.listing_accuracy=0.5,1", "-r", "1", "--executor", "inline",
              "--out", "{tmp}/s.duckdb", *SMALL],
    "sensitivity": ["sensitivity", DEFAULT, "--vary", "seller.listing_accuracy=0.5:1", "--vary",
                    "policies.new.pdpi_claim_propensity=0.2:1", "--samples", "2", "-r", "1", "--executor", "inline",
                    *SMALL],
}


@pytest.mark.parametrize("command", sorted(PROGRESS_COMMANDS))
def test_a_progress_bar_on_a_terminal_only(command, tmp_path, monkeypatch):
    """On a terminal every long command shows a tqdm bar on stderr that reaches its total; in a pipe or
    with -q none; stdout is the same either way (the bar never goes to stdout)."""
    argv = [a.replace("{tmp}", str(tmp_path)) for a in PROGRESS_COMMANDS[command]]
    rc, out_tty, err = run_main(argv, monkeypatch, FakeTerminal())
    assert rc == 0, err
    bars = BAR.findall(err)
    assert bars and bars[-1][0] == bars[-1][1], err[-500:]
    if command == "sensitivity":  # one bar over both designs: Sobol 2 x (2 + 2) runs, then 1 + 2 x 2 at a time
        assert bars[-1] == ("13", "13")
    assert not BAR.search(out_tty) and "\r" not in out_tty
    for extra, stream in (([], io.StringIO()), (["-q"], FakeTerminal())):
        rc, out, err = run_main(argv + extra, monkeypatch, stream)
        assert rc == 0
        assert err == "", err  # nothing at all on stderr: no bar, no stray line
        assert out == out_tty or command == "sweep"  # a rerun sweep resumes: "0 runs done now"


def test_json_to_stdout_stays_pure_with_a_bar(monkeypatch):
    rc, out, err = run_main(["compare", DEFAULT, "-r", "2", "--json", "-", *SMALL], monkeypatch, FakeTerminal())
    assert rc == 0 and BAR.search(err)
    assert json.loads(out)["replications"] == 2


def test_json_to_stdout_pipes_into_json_tool():
    """`azsim compare ... --json - | python -m json.tool` works (no progress text in the pipe)."""
    cmd = (f"{sys.executable} -m azsim.cli compare scenarios/default.yaml -r 1 --set horizon_days=30 --json - "
           f"| {sys.executable} -m json.tool")
    proc = subprocess.run(cmd, shell=True, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["replications"] == 1


def test_singular_and_plural(tmp_path, monkeypatch):
    rc, out, _ = run_main(["compare", DEFAULT, "-r", "1", "-q", *SMALL], monkeypatch)
    assert rc == 0 and "| 1 replication |" in out and "1 replications" not in out
    rc, out, _ = run_main(["compare", DEFAULT, "-r", "2", "-q", *SMALL], monkeypatch)
    assert "| 2 replications |" in out
    rc, out, _ = run_main(["advise", DEFAULT, "-r", "1", "-q", *SMALL], monkeypatch)
    assert rc == 0 and "| 1 replication |" in out and "1 replications" not in out
    store = tmp_path / "one.duckdb"
    rc, out, _ = run_main(["sweep", DEFAULT, "--vary", "seller.listing_accuracy=0.9", "-r", "1", "--executor",
                           "inline", "-q", "--out", store, *SMALL], monkeypatch)
    assert rc == 0 and "1 point, 1 run done now" in out, out
    rc, out, _ = run_main(["results", store], monkeypatch)
    assert "azsim results store, 1 sweep\n" in out and "[1 replication; no CI]" in out
    rc, out, err = run_main(["sensitivity", DEFAULT, "--vary", "seller.listing_accuracy=0.5:1", "--samples", "1",
                            "-r", "1", "--executor", "inline", "-q", *SMALL], monkeypatch)
    assert rc == 2 and "samples: a Sobol design needs a power of 2, at least 2, got 1" in err  # not a traceback
    rc, out, _ = run_main(["sensitivity", DEFAULT, "--vary", "seller.listing_accuracy=0.5:1", "--samples", "2",
                           "-r", "1", "--executor", "inline", "-q", *SMALL], monkeypatch)
    assert rc == 0 and ", 1 factor," in out and "runs" in out


def test_a_set_error_names_set_and_a_file_error_names_the_file(tmp_path, monkeypatch):
    bad = tmp_path / "bad.yaml"
    bad.write_text("market:\n  orders_per_day: abc\n")
    rc, _, err = run_main(["validate", DEFAULT, "--set", "market.orders_per_day=abc"], monkeypatch)
    assert rc == 2
    assert err.splitlines() == ["error: --set market.orders_per_day=abc: market.orders_per_day: input should be a "
                                "valid number, unable to parse string as a number (got 'abc')"]
    rc, _, err = run_main(["validate", bad], monkeypatch)
    assert rc == 2 and err.splitlines() == [f"error: {bad}: market.orders_per_day: input should be a valid number, "
                                            "unable to parse string as a number (got 'abc')"]
    # both at once: each line names its own cause; an override that fixes the file's field is no error
    rc, _, err = run_main(["compare", bad, "--set", "seller.listing_accuracy=1.5", "--set", "seller.suport=1"],
                          monkeypatch)
    assert rc == 2
    lines = err.splitlines()
    assert f"error: {bad}: market.orders_per_day: input should be a valid number" in lines[0]
    assert "error: --set seller.listing_accuracy=1.5: seller.listing_accuracy: input should be less than" in err
    assert "error: --set seller.suport=1: seller.suport: unknown field; did you mean seller.support?" in err
    assert len(lines) == 3
    rc, _, err = run_main(["validate", bad, "--set", "market.orders_per_day=30"], monkeypatch)
    assert rc == 0, err
    # a sweep file's scenario with --set on top
    rc, _, err = run_main(["sweep", ROOT / "scenarios/sweeps/insurance_and_replies.yaml", "--out",
                           tmp_path / "s.duckdb", "--set", "seller.listing_accuracy=2"], monkeypatch)
    assert rc == 2 and err.startswith("error: --set seller.listing_accuracy=2: seller.listing_accuracy: ")
    assert not (tmp_path / "s.duckdb").exists()


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_output_files_get_the_users_umask(mask, mode, tmp_path, monkeypatch):
    """--json files (written atomically through a temporary file), a sweep's store and its exports are
    created with the mode open() would give: 0666 & ~umask."""
    old = os.umask(mask)
    try:
        assert run_main(["compare", DEFAULT, "-r", "1", "-q", "--json", tmp_path / "c.json", *SMALL],
                        monkeypatch)[0] == 0
        assert run_main(["sweep", DEFAULT, "--vary", "seller.listing_accuracy=0.9", "-r", "1", "--executor", "inline",
                         "-q", "--out", tmp_path / "s.duckdb", *SMALL], monkeypatch)[0] == 0
        assert run_main(["results", tmp_path / "s.duckdb", "--json", tmp_path / "r.json", "--export", "csv", "--dir",
                         tmp_path / "csv"], monkeypatch)[0] == 0
    finally:
        os.umask(old)
    files = [tmp_path / "c.json", tmp_path / "s.duckdb", tmp_path / "r.json", *sorted((tmp_path / "csv").iterdir())]
    assert len(files) == 8
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == mode, f
    assert stat.S_IMODE((tmp_path / "csv").stat().st_mode) == 0o777 & ~mask


def test_results_prints_each_points_change_as_the_store_has_it(tmp_path, monkeypatch):
    from azsim.results import load

    store = tmp_path / "s.duckdb"
    assert run_main(["sweep", DEFAULT, "--vary", "seller.listing_accuracy=0.5,1", "--vary",
                     "policies.new.amazon_pays_threshold=100,1000", "-r", "3", "--executor", "inline", "-q", "--out",
                     store, *SMALL], monkeypatch)[0] == 0
    rc, out, _ = run_main(["results", store], monkeypatch)
    assert rc == 0
    summary = load(store)["point_summary"]
    rows = summary[(summary.metric == "seller_cost.total") & (summary.policy == "new")].sort_values("point_id")
    assert len(rows) == 4
    lines = [line for line in out.splitlines() if line.strip().startswith("point ")]
    assert len(lines) == 4
    for line, r in zip(lines, rows.itertuples(), strict=True):
        phrase = labels.change_phrase(r.delta_mean, r.delta_ci_low, r.delta_ci_high)
        assert line.strip().startswith(f"point {r.point_id}") and line.endswith(f"new {phrase} [3 replications]")
        assert "(95% CI " in phrase
    assert "policies.new.amazon_pays_threshold=100, seller.listing_accuracy=0.5: new " in lines[0]
    rc, out, _ = run_main(["results", store, "--json", "-"], monkeypatch)
    data = json.loads(out)
    [sweep] = data["sweeps"]
    assert [c["mean"] for c in sweep["changes"]] == pytest.approx(list(rows.delta_mean), rel=1e-12)
    assert [c["ci_low"] for c in sweep["changes"]] == pytest.approx(list(rows.delta_ci_low), rel=1e-12)
    assert sweep["changes"][3]["factors"] == {"seller.listing_accuracy": 1, "policies.new.amazon_pays_threshold": 1000}


SNAKE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")


def test_advice_text_reads_in_labels_and_matches_its_json(tmp_path, monkeypatch):
    path = tmp_path / "a.json"
    rc, out, _ = run_main(["advise", DEFAULT, "-r", "3", "-q", "--json", path, *SMALL], monkeypatch)
    assert rc == 0
    assert not SNAKE.findall(out), SNAKE.findall(out)
    data = json.loads(path.read_text())
    assert data["currency"] == "USD" and "practices" in data and "insurance" in data
    lines = out.splitlines()
    for practice in data["practices"]:
        at = lines.index(f"{practice['rank']:>4}  {practice['label']}")
        under_new = lines[at + 1]
        assert under_new.strip().startswith("under new")
        net = practice["net_saving"]["new"]
        cells = [labels.money(practice["gross_saving"]["new"]["mean"], signed=True),
                 labels.money(practice["practice_cost"]["new"]["mean"], signed=True),
                 labels.money(net["mean"], signed=True), labels.ci_text(*net["ci95"])]
        assert re.search(r"\s+".join(re.escape(c) for c in cells), under_new), (cells, under_new)
    ins = data["insurance"]["new"]["cost_insured"]
    assert labels.level_phrase(ins["mean"], *ins["ci95"]) in out


# ---- speed (issue 12): advise runs its replications on worker processes --------------------------------
def test_advise_runs_its_replications_on_workers_and_says_the_same_as_in_process(tmp_path, monkeypatch, capsys):
    """``--workers 2`` runs every replication in a worker process, ``--workers 1`` in this one; the JSON
    advice is byte-identical either way (results never depend on where a replication ran)."""
    import azsim.comparison as comparison

    pids = tmp_path / "pids"
    real = comparison.run_replication

    def recording(*args, **kw):  # inherited by the workers, which fork after it is in place
        with open(pids, "a") as f:
            f.write(f"{os.getpid()}\n")
        return real(*args, **kw)

    monkeypatch.setattr(comparison, "run_replication", recording)
    texts = {}
    for workers in ("1", "2"):
        pids.write_text("")
        path = tmp_path / f"w{workers}.json"
        assert main(["advise", DEFAULT, "-r", "3", "-q", "--workers", workers, "--json", str(path), *SMALL]) == 0
        ran = pids.read_text().split()
        assert len(ran) == 3 * 9  # 3 replications of the 9 comparisons (the default seller moves every practice)
        if workers == "1":
            assert set(ran) == {str(os.getpid())}
        else:
            assert str(os.getpid()) not in ran, ran
        texts[workers] = path.read_bytes()
    assert texts["1"] == texts["2"]
    capsys.readouterr()


def test_bench_keeps_the_best_of_its_timed_runs(capsys):
    """`azsim bench --repeat N` times N runs and reports the best: wall_s is the least of wall_s_each, and the
    ratio is that run's orders per second over the bare SimPy loop's events per second."""
    assert main(["bench", "--orders", "3000", "--repeat", "2"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["repeat"] == 2 and len(r["wall_s_each"]) == 2
    assert r["wall_s"] == min(r["wall_s_each"]) > 0
    assert r["orders_per_s"] == pytest.approx(r["orders"] * r["policies"] / r["wall_s"], rel=0.05)
    assert r["ratio"] == pytest.approx(r["orders_per_s"] / r["bare_simpy_events_per_s"], rel=1e-3)
    assert 0.1 <= r["incident_share"] <= 0.4
