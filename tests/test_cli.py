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
