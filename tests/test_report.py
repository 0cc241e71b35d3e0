"""azsim report: the report folder, its numbers, reproduction, sweep stores and input errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

import azsim
from azsim.cli import main
from azsim.comparison import COST_KEYS, compare
from azsim.report import build_report, fmt, parse_comments
from azsim.views import PARTY_LABELS

SEED = 11
REPS = 3

SCENARIO_YAML = """\
# a tiny scenario for the report tests
name: tiny
description: "A small seller for a quick report"
horizon_days: 60  # assumed: a short horizon keeps the test quick
market:
  orders_per_day: 20  # Test survey 2024: twenty orders a day; high
  price:
    median: 30.0  # "a # inside quotes is not a comment"; medium
seller:
  listing_accuracy: 0.9
"""


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scen") / "tiny.yaml"
    path.write_text(SCENARIO_YAML, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def report_dir(scenario_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rep") / "report"
    build_report(str(scenario_file), out, ["html", "md", "pdf"], replications=REPS, seed=SEED, advisor_replications=2)
    return out


@pytest.fixture(scope="module")
def html(report_dir) -> str:
    return (report_dir / "report.html").read_text(encoding="utf-8")


def _table_html(html: str, name: str) -> str:
    m = re.search(rf'<table id="tab-{name}">.*?</table>', html, re.S)
    assert m, f"table {name} not in the HTML"
    return m.group(0)


def test_report_folder_has_every_format_figure_and_table(report_dir):
    for name in ("report.html", "report.md", "report.pdf", "metadata.json"):
        assert (report_dir / name).stat().st_size > 0, name
    assert (report_dir / "report.pdf").read_bytes().startswith(b"%PDF")
    pngs = sorted((report_dir / "figures").glob("*.png"))
    assert {p.stem for p in pngs} >= {"waterfall_new", "who_pays", "claims_funnel", "odr_over_time",
                                      "advisor_ranking"}
    for p in pngs:
        assert p.with_suffix(".svg").stat().st_size > 0
        assert p.read_bytes().startswith(b"\x89PNG")
    csvs = sorted((report_dir / "tables").glob("*.csv"))
    assert {p.stem for p in csvs} >= {"headline", "seller_cost_by_category", "who_pays", "claims_funnel",
                                      "advisor_ranking", "scenario_parameters"}
    for p in csvs:
        assert "\\begin{" in p.with_suffix(".tex").read_text(encoding="utf-8")
    md = (report_dir / "report.md").read_text(encoding="utf-8")
    for p in pngs:
        assert f"(figures/{p.name})" in md


def test_every_figure_is_embedded_in_the_html(report_dir, html):
    pngs = list((report_dir / "figures").glob("*.png"))
    assert html.count('<img src="data:image/png;base64,') == len(pngs)
    for p in pngs:
        assert f'id="fig-{p.stem}"' in html
    assert "src=\"http" not in html and "href=\"http" not in html  # readable offline
    for section in ("Question", "Scenario", "Method", "Results", "Who pays", "Claims funnel",
                    "Order defect rate over time", "Practice advisor", "Limitations"):
        assert f"<h2>{section}</h2>" in html


def test_headline_numbers_equal_the_json_result(scenario_file, report_dir, html):
    d = compare(azsim.load_scenario(scenario_file), replications=REPS, seed=SEED).to_dict()
    table = _table_html(html, "headline")
    csv = pd.read_csv(report_dir / "tables" / "headline.csv").set_index("party")
    checked = 0
    for party, key in COST_KEYS.items():
        label = PARTY_LABELS[party]
        for p in ("old", "new"):
            st = d["policies"][p][key]["total"]
            assert f">{fmt(st['mean'])}<" in table
            assert csv.loc[label, f"{p} mean"] == pytest.approx(st["mean"], abs=1e-9)
            assert [csv.loc[label, f"{p} ci95 low"], csv.loc[label, f"{p} ci95 high"]] == pytest.approx(st["ci95"])
            checked += 1
        delta = d["delta"]["new"][key]["total"]
        assert f">{fmt(delta['mean'])}<" in table
        assert f">{fmt(delta['ci95'][0])}<" in table and f">{fmt(delta['ci95'][1])}<" in table
        assert csv.loc[label, "new-old change"] == pytest.approx(delta["mean"], abs=1e-9)
        checked += 1
    assert checked == 12
    # the one-line answer in the question is the seller's paired change
    assert fmt(d["delta"]["new"]["seller_cost"]["total"]["mean"]) in html.split("<h2>Scenario</h2>")[0]


def test_waterfall_table_adds_up(report_dir):
    cats = pd.read_csv(report_dir / "tables" / "seller_cost_by_category.csv")
    head = pd.read_csv(report_dir / "tables" / "headline.csv").set_index("party")
    assert cats["old"].sum() == pytest.approx(head.loc["Seller", "old mean"], abs=0.05)
    assert cats["new"].sum() == pytest.approx(head.loc["Seller", "new mean"], abs=0.05)
    assert cats["new-old change"].sum() == pytest.approx(head.loc["Seller", "new-old change"], abs=0.05)


def test_scenario_table_sources_and_limitations(report_dir, html):
    params = pd.read_csv(report_dir / "tables" / "scenario_parameters.csv").set_index("parameter")
    assert params.loc["horizon_days", "confidence"] == "assumed"
    assert params.loc["market.orders_per_day", "confidence"] == "high"
    assert params.loc["market.orders_per_day", "source"].startswith("Test survey 2024")
    assert params.loc["market.price.median", "confidence"] == "medium"
    assert params.loc["seller.listing_accuracy", "confidence"] == "assumed"  # no comment: assumed
    limits = html.split("<h2>Limitations</h2>")[1].split("</section>")[0]
    assert "horizon_days" in limits and "seller.listing_accuracy" in limits
    assert "market.orders_per_day" not in limits


def test_parse_comments_maps_dotted_paths():
    got = parse_comments(SCENARIO_YAML)
    assert got["horizon_days"].startswith("assumed")
    assert got["market.orders_per_day"].endswith("; high")
    assert got["market.price.median"] == '"a # inside quotes is not a comment"; medium'
    assert "seller.listing_accuracy" not in got and "name" not in got


def test_metadata_rebuilds_the_scenario(scenario_file, report_dir):
    meta = json.loads((report_dir / "metadata.json").read_text())
    scen = azsim.load_scenario(scenario_file)
    assert meta["azsim_version"] == azsim.__version__
    assert meta["scenario_hash"] == scen.hash
    assert azsim.scenario_from_dict(meta["scenario"]).hash == scen.hash
    assert (meta["seed"], meta["replications"], meta["advisor_replications"]) == (SEED, REPS, 2)
    assert meta["created"].endswith("Z") and meta["python"]
    assert set(meta["packages"]) >= {"numpy", "pandas", "simpy", "matplotlib", "scipy"}
    assert meta["input"]["path"] == str(scenario_file)


def test_reproduce_gives_identical_tables(report_dir, capsys):
    out = report_dir.parent / "report_reproduced"  # the default: DIR + _reproduced
    assert main(["report", "--reproduce", str(report_dir / "metadata.json"), "--format", "html"]) == 0
    originals = sorted(p.name for p in (report_dir / "tables").glob("*.csv"))
    assert originals == sorted(p.name for p in (out / "tables").glob("*.csv"))
    for name in originals:
        assert (out / "tables" / name).read_bytes() == (report_dir / "tables" / name).read_bytes(), name
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["reproduced_from"].endswith("metadata.json")


@pytest.fixture(scope="module")
def sensitivity_store(scenario_file, tmp_path_factory) -> Path:
    from azsim.experiments import SweepSpec, parse_vary
    from azsim.sweep import run_sensitivity

    base = azsim.load_scenario(scenario_file, {"horizon_days": 30, "market.orders_per_day": 10})
    spec = SweepSpec(base, [parse_vary("seller.listing_accuracy=0.5:1:2"),
                            parse_vary("seller.packaging_quality=0.5:1:2")],
                     design="sobol", samples=4, replications=2, seed=3)
    store = tmp_path_factory.mktemp("store") / "sens.duckdb"
    run_sensitivity(spec, store, ["seller_cost.total"], executor="inline")
    return store


def test_store_report_has_sensitivity_section(sensitivity_store, tmp_path, capsys):
    out = tmp_path / "sens_report"
    assert main(["report", str(sensitivity_store), "--out", str(out), "--format", "html,md"]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Sensitivity</h2>" in html
    sens = html.split("<h2>Sensitivity</h2>")[1].split("</section>")[0]
    assert 'id="fig-sobol_seller_cost_total"' in sens and 'id="fig-tornado_seller_cost_total"' in sens
    assert 'id="tab-sobol_seller_cost_total"' in sens and 'id="tab-tornado_seller_cost_total"' in sens
    for name in ("sobol_seller_cost_total", "tornado_seller_cost_total", "sweeps"):
        assert (out / "tables" / f"{name}.csv").exists() and (out / "tables" / f"{name}.tex").exists()
    sweeps = pd.read_csv(out / "tables" / "sweeps.csv")
    assert sorted(sweeps["design"]) == ["oat", "sobol"]
    for sid in sweeps["sweep_id"]:
        assert (out / "tables" / f"sweep_{sid}_point_summary.csv").exists()
    pngs = list((out / "figures").glob("*.png"))
    assert html.count('<img src="data:image/png;base64,') == len(pngs) >= 2
    assert "Sensitivity" in (out / "report.md").read_text(encoding="utf-8")
    again = tmp_path / "again"
    assert main(["report", "--reproduce", str(out / "metadata.json"), "--out", str(again)]) == 0
    for p in (out / "tables").glob("*.csv"):
        assert (again / "tables" / p.name).read_bytes() == p.read_bytes(), p.name


@pytest.mark.parametrize("kind", ["missing_store", "corrupt_store", "missing_scenario", "broken_scenario"])
def test_bad_input_exits_2_and_writes_nothing(kind, tmp_path, capsys):
    if kind == "missing_store":
        src = tmp_path / "nothing.duckdb"
    elif kind == "corrupt_store":
        src = tmp_path / "corrupt.duckdb"
        src.write_bytes(b"this is not a duckdb database\x00" * 200)
    elif kind == "missing_scenario":
        src = tmp_path / "nothing.yaml"
    else:
        src = tmp_path / "broken.yaml"
        src.write_text("market: [unclosed\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["report", str(src), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and src.name in err
    assert not out.exists()


def test_bad_arguments_exit_2(tmp_path, scenario_file, capsys):
    out = tmp_path / "out"
    assert main(["report", str(scenario_file), "--out", str(out), "--format", "docx"]) == 2
    assert "--format" in capsys.readouterr().err
    assert main(["report", "--out", str(out)]) == 2
    assert main(["report", "--reproduce", str(tmp_path / "missing" / "metadata.json"), "--out", str(out)]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not out.exists()
