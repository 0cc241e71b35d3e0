"""One report built once per test session and shared by tests/test_report.py and
tests/test_report_pdf.py (a tiny scenario, 3 replications: about 6 s with the PDF)."""

from __future__ import annotations

from pathlib import Path

import pytest

from azsim.report import build_report, find_browser

SEED = 11
REPS = 3
ADVISOR_REPS = 2

SCENARIO_YAML = """\
# a tiny scenario for the report tests
name: tiny
description: "A small seller for a quick report"
horizon_days: 60  # assumed: a short horizon keeps the test quick
market:
  orders_per_day: 20  # Test survey 2024: twenty orders a day (docs/sources.md [27]); high
  price:
    median: 30.0  # "a # inside quotes is not a comment"; medium
seller:
  listing_accuracy: 0.9
"""


_ONCE: dict[str, object] = {}
"""What the fixtures built in this test session: each test module that uses them declares them, and
pytest keeps one cache per module, so the report itself is cached here to be built only once."""


@pytest.fixture(scope="session")
def scenario_file(tmp_path_factory) -> Path:
    key = f"scenario {tmp_path_factory.getbasetemp()}"
    if key not in _ONCE:
        path = tmp_path_factory.mktemp("scen") / "tiny.yaml"
        path.write_text(SCENARIO_YAML, encoding="utf-8")
        _ONCE[key] = path
    return _ONCE[key]


@pytest.fixture(scope="session")
def built(scenario_file, tmp_path_factory) -> dict:
    """The report folder (html, md and, when a browser is installed, pdf) and the progress calls seen."""
    key = f"report {tmp_path_factory.getbasetemp()}"
    if key not in _ONCE:
        out = tmp_path_factory.mktemp("rep") / "report"
        calls: list[tuple[int, int]] = []
        formats = ["html", "md"] + (["pdf"] if find_browser() else [])
        build_report(str(scenario_file), out, formats, replications=REPS, seed=SEED,
                     advisor_replications=ADVISOR_REPS, progress=lambda done, total: calls.append((done, total)))
        _ONCE[key] = {"dir": out, "progress": calls, "formats": formats}
    return _ONCE[key]


@pytest.fixture(scope="session")
def report_dir(built) -> Path:
    return built["dir"]


@pytest.fixture(scope="session")
def html(report_dir) -> str:
    return (report_dir / "report.html").read_text(encoding="utf-8")
