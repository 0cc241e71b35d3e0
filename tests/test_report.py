"""azsim report: the report folder, its numbers and words, limitations, citation, reproduction, sweep
stores, progress and input errors. The PDF is tested in tests/test_report_pdf.py; both share one
report built once (tests/report_fixtures.py)."""

from __future__ import annotations

import html as htmllib
import json
import os
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import report_fixtures
from report_fixtures import ADVISOR_REPS, REPS, SCENARIO_YAML, SEED

import azsim
from azsim import labels as L
from azsim.cli import main
from azsim.comparison import compare
from azsim.headline import headline
from azsim.report import parse_comments
from azsim.report.document import MAX_COLUMNS, Report, Section, Table
from azsim.report.html import render as render_html
from azsim.report.limitations import AREAS, area_of

ROOT = Path(__file__).resolve().parent.parent
built, html, report_dir, scenario_file = (report_fixtures.built, report_fixtures.html, report_fixtures.report_dir,
                                          report_fixtures.scenario_file)  # the one shared report

SECTIONS = ["The answer", "Results", "Seller cost by category", "Claims funnel", "Order defect rate over time",
            "Practice advisor", "Scenario and policies", "Method", "Limitations", "Sources", "How to cite",
            "Reproducibility", "Appendix: scenario parameters"]


def _section(html: str, title: str) -> str:
    m = re.search(rf"<h2>{re.escape(htmllib.escape(title, quote=False))}</h2>(.*?)</section>", html, re.S)
    assert m, f"section {title} not in the HTML"
    return m.group(1)


def _text(fragment: str) -> str:
    fragment = fragment.replace("<wbr>", "")  # a line-break opportunity, not a space
    return htmllib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))).strip()


def _table_html(html: str, name: str) -> str:
    m = re.search(rf'<table id="tab-{name}"[^>]*>.*?</table>', html, re.S)
    assert m, f"table {name} not in the HTML"
    return m.group(0)


def _rows(table_html: str) -> list[list[str]]:
    return [[_text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
            for tr in re.findall(r"<tr>(.*?)</tr>", table_html, re.S)]


@pytest.fixture(scope="module")
def result(scenario_file):
    return compare(azsim.load_scenario(scenario_file), replications=REPS, seed=SEED)


# ---- the folder --------------------------------------------------------------------------------------
def test_report_folder_has_every_format_figure_and_table(report_dir, built):
    for name in ("report.html", "report.md", "metadata.json"):
        assert (report_dir / name).stat().st_size > 0, name
    pngs = sorted((report_dir / "figures").glob("*.png"))
    assert {p.stem for p in pngs} == {"waterfall_new", "who_pays", "claims_funnel", "odr_over_time",
                                      "advisor_ranking"}
    for p in pngs:
        assert p.with_suffix(".svg").stat().st_size > 0
        assert p.read_bytes().startswith(b"\x89PNG")
    csvs = sorted((report_dir / "tables").glob("*.csv"))
    assert {p.stem for p in csvs} >= {"headline", "seller_cost_by_category", "who_pays", "claims_funnel",
                                      "advisor_ranking", "advisor_insurance", "scenario_parameters", "policy_versions"}
    for p in csvs:
        assert "\\begin{" in p.with_suffix(".tex").read_text(encoding="utf-8")
    md = (report_dir / "report.md").read_text(encoding="utf-8")
    for p in pngs:
        assert f"(figures/{p.name})" in md
    assert not list(report_dir.glob(".*"))  # no print copy or temporary file left


def test_every_figure_is_embedded_and_every_section_is_there_in_order(report_dir, html):
    pngs = list((report_dir / "figures").glob("*.png"))
    assert html.count('<img src="data:image/png;base64,') == len(pngs)
    for p in pngs:
        assert f'id="fig-{p.stem}"' in html
    assert "src=\"http" not in html and "href=\"http" not in html  # readable offline
    assert re.findall(r"<h2>(.*?)</h2>", html) == [htmllib.escape(s, quote=False) for s in SECTIONS]


def test_markdown_has_the_same_sections_as_the_html(report_dir, html):
    md = (report_dir / "report.md").read_text(encoding="utf-8")
    md_heads = re.findall(r"^## (.+)$", md, re.M)
    html_heads = [htmllib.unescape(h) for h in re.findall(r"<h2>(.*?)</h2>", html)]
    assert md_heads == html_heads == SECTIONS
    assert re.findall(r"^### (.+)$", md, re.M) == [htmllib.unescape(h) for h in re.findall(r"<h3>(.*?)</h3>", html)]
    for name in ("headline", "who_pays", "advisor_insurance", "scenario_parameters"):
        assert re.search(rf"\(tables/{name}\.csv", md), name


# ---- numbers and words ---------------------------------------------------------------------------------
def test_headline_table_is_the_headline_object_rendered(result, report_dir, html):
    """The report renders azsim.headline's cells (no headline computed here), and its CSV its numbers."""
    hl = headline(result)
    cells = hl.cells()
    shown = _rows(_table_html(html, "headline"))
    assert shown[0][1:] == cells[0][1:]
    assert shown[1:] == [[c.strip() for c in row] for row in cells[1:]]
    csv = pd.read_csv(report_dir / "tables" / "headline.csv")
    frame = hl.frame().reset_index()
    assert list(csv.columns) == list(frame.columns)
    seller = csv.iloc[0]
    d = result.to_dict()
    assert seller["old"] == pytest.approx(d["policies"]["old"]["seller_cost"]["total"]["mean"])
    assert seller["new-old"] == pytest.approx(d["delta"]["new"]["seller_cost"]["total"]["mean"])


def test_the_answer_is_in_words_at_the_top(result, html):
    delta = result.to_dict()["delta"]["new"]["seller_cost"]["total"]
    phrase = L.change_phrase(delta["mean"], *delta["ci95"], L.MONEY, "USD")
    answer = _section(html, "The answer")
    box = _text(re.search(r'<p class="answer">(.*?)</p>', answer, re.S).group(1))
    assert phrase in box and L.policy_label("new") in box and L.policy_label("old") in box
    assert re.search(r"by [+-]?\$[\d,]+ a year \(95% CI [+-]?\$[\d,]+ to [+-]?\$[\d,]+\)", box)
    assert html.index('class="answer"') < html.index("<h2>Results</h2>")


def test_no_snake_case_in_headings_legends_or_cells(html):
    """Headers, captions and display cells read as words (parameter paths, which are what --set takes, are
    the one exception, in the parameter table and the limitations)."""
    for th in re.findall(r"<th[^>]*>(.*?)</th>", html, re.S):
        assert not re.search(r"[a-z]_[a-z]", th), th
    for name in ("headline", "who_pays", "seller_cost_by_category", "claims_funnel", "advisor_ranking",
                 "advisor_insurance"):
        for row in _rows(_table_html(html, name)):
            assert not any(re.search(r"[a-z]_[a-z]", c) for c in row), (name, row)
    for cap in re.findall(r"<(?:caption|figcaption)>(.*?)</(?:caption|figcaption)>", html, re.S):
        assert not re.search(r"[a-z]_[a-z]", re.sub(r"figures/\S+|tables/\S+", "", cap)), cap


def test_figures_use_the_policy_colours_and_labels(report_dir):
    svg = (report_dir / "figures" / "who_pays.svg").read_text(encoding="utf-8")
    for p in ("old", "new"):
        assert L.policy_colour(p).lower() in svg.lower()
        assert L.policy_label(p) in svg
    for name in ("who_pays", "waterfall_new", "advisor_ranking", "odr_over_time", "claims_funnel"):
        text = " ".join(re.findall(r">([^<>]+)</text>", (report_dir / "figures" / f"{name}.svg").read_text()))
        assert not re.search(r"[a-z]_[a-z]", text), (name, text[:200])


def test_waterfall_table_adds_up(report_dir):
    cats = pd.read_csv(report_dir / "tables" / "seller_cost_by_category.csv")
    head = pd.read_csv(report_dir / "tables" / "headline.csv").iloc[0]
    assert cats["old"].sum() == pytest.approx(head["old"], abs=0.05)
    assert cats["new"].sum() == pytest.approx(head["new"], abs=0.05)
    assert cats["new-old change"].sum() == pytest.approx(head["new-old"], abs=0.05)


def test_wide_tables_fit_the_page(html):
    """No table part is wider than MAX_COLUMNS; the insurance answer (17 numbers per policy in its CSV) is a
    transposed table of five columns; a 16-column table is split into column groups, key column repeated."""
    for table in re.findall(r"<table.*?</table>", html, re.S):
        for row in _rows(table):
            assert len(row) <= MAX_COLUMNS, row
    ins = _rows(_table_html(html, "advisor_insurance"))
    assert len(ins[0]) == 5 and [r[0] for r in ins[1:]][:2] == ["Premium paid", "Seller cost, insured"]
    wide = pd.DataFrame({f"c{i}": [float(i)] for i in range(16)})
    t = Table("wide", "a wide table", wide)
    r = Report("t", "s", [Section("S", ["see [[table:wide]]"], [("table", "wide")])], {"wide": t}, {}, {}).resolve()
    page = render_html(r)
    parts = re.findall(r"<table id=\"tab-wide[-\d]*\"[^>]*>.*?</table>", page, re.S)
    assert len(parts) == 3
    heads = [_rows(p)[0] for p in parts]
    assert all(h[0] == "C0" and len(h) <= MAX_COLUMNS for h in heads)
    assert sorted({c for h in heads for c in h}) == sorted(f"C{i}" for i in range(16))


# ---- scenario, limitations, sources ------------------------------------------------------------------
def test_scenario_table_keeps_sources_and_confidence(report_dir):
    params = pd.read_csv(report_dir / "tables" / "scenario_parameters.csv").set_index("parameter")
    assert params.loc["horizon_days", "confidence"] == "assumed"
    assert params.loc["market.orders_per_day", "confidence"] == "high"
    assert params.loc["market.orders_per_day", "source"].startswith("Test survey 2024")
    assert params.loc["market.price.median", "confidence"] == "medium"
    assert params.loc["seller.listing_accuracy", "confidence"] == "assumed"  # no comment: assumed


def test_limitations_are_grouped_by_area_and_ordered_by_the_change(report_dir, html):
    lim = _section(html, "Limitations")
    titles = [htmllib.unescape(t) for t in re.findall(r"<h3>(.*?)</h3>", lim)][:-1]  # the last: beyond parameters
    area_titles = [a.title for a in AREAS]
    assert titles and all(t in area_titles for t in titles) and len(titles) == len(set(titles))
    # areas by the seller's change booked in their cost categories (from the report's own category table)
    cats = pd.read_csv(report_dir / "tables" / "seller_cost_by_category.csv").set_index("category")
    change = cats["new-old change"].abs()
    weights = [sum(change.get(c, 0.0) for c in next(a for a in AREAS if a.title == t).categories) for t in titles]
    assert weights == sorted(weights, reverse=True) and weights[0] > 0
    assert titles[0] == "Insurance"  # the premium carries most of this seller's change
    # within an area: parameters that differ between the policies first; the rest folded away
    pdpi = lim.split("<h3>Injury and damage (PD/PI) claims and litigation</h3>")[1].split("<h3>")[0]
    shown = [_text(x) for x in re.findall(r"<ul>(.*?)</ul>", pdpi, re.S)[0].split("</li>")[:-1]]
    assert len(shown) == 3 and all("differs between the policies" in s for s in shown)
    folded = re.search(r"<details><summary>(\d+) more assumed in this area</summary>(.*?)</details>", pdpi, re.S)
    assert folded and int(folded.group(1)) == folded.group(2).count("<li>") > 10
    text = _text(lim)
    assert "horizon_days = 60" in text and "seller.listing_accuracy = 0.9" in text
    assert "market.orders_per_day" not in text  # sourced, not assumed
    assert "ordered by how much of the seller's paired yearly cost change" in text  # the rule is stated
    assert len(re.findall(r"[a-z_]+\.[a-z_.]+ =", text)) < 200  # not one list of every parameter name


def test_area_of_maps_paths():
    assert area_of("seller.insurance.loading").key == "insurance"
    assert area_of("policies.new.pdpi_claim_propensity").key == "pdpi"
    assert area_of("account_health.odr.limit").key == "account"
    assert area_of("policies.old.insurance_grace_days").key == "insurance"
    assert area_of("market.orders_per_day").key == "market"
    assert area_of("policies.new.marketplace").key == "policy"


def test_sources_cite_only_files_in_the_repository(report_dir, html):
    """Every repository file a report names exists; the numbered sources cited are listed by title."""
    for name in ("report.html", "report.md"):
        text = (report_dir / name).read_text(encoding="utf-8")
        for ref in set(re.findall(r"\b((?:docs|scenarios|azsim|tests|benchmarks)/[\w./-]*\w\.\w+)", text)):
            assert (ROOT / ref).exists(), ref
    sources = _text(_section(html, "Sources"))
    assert "[27] Amazon Seller Central, \"Selling on Amazon fee schedule\"" in sources


def test_parse_comments_maps_dotted_paths():
    got = parse_comments(SCENARIO_YAML)
    assert got["horizon_days"].startswith("assumed")
    assert got["market.orders_per_day"].endswith("; high")
    assert got["market.price.median"] == '"a # inside quotes is not a comment"; medium'
    assert "seller.listing_accuracy" not in got and "name" not in got


# ---- how to cite, reproducibility, no local paths --------------------------------------------------------
def _head_commit() -> str | None:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def test_how_to_cite_names_version_commit_hash_and_date(scenario_file, report_dir, html):
    cite = _text(_section(html, "How to cite"))
    meta = json.loads((report_dir / "metadata.json").read_text())
    scen = azsim.load_scenario(scenario_file)
    assert f"azsim version {azsim.__version__}" in cite and scen.hash in cite
    assert meta["created"][:10] in cite and f"Seed {SEED}" in cite and f"Replications {REPS}" in cite
    commit = _head_commit()
    if commit and (ROOT / ".git").exists():
        assert meta["git"]["commit"] == commit and commit in cite
    else:
        assert "not from a git checkout" in cite
    citation = re.search(r'<pre class="code">(.*?)</pre>', _section(html, "How to cite"), re.S).group(1)
    assert citation.startswith(f"azsim {azsim.__version__}") and scen.hash in citation


def test_git_commit_never_fails(monkeypatch, tmp_path):
    from azsim.report import provenance

    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    assert provenance.git_commit() == {"commit": None, "dirty": None}
    assert provenance.commit_text({"commit": None}) == "not from a git checkout"


def test_reproducibility_is_readable_text(html):
    rep = _section(html, "Reproducibility")
    command = _text(re.search(r'<pre class="code">(.*?)</pre>', rep, re.S).group(1))
    assert command.startswith("azsim report ") and f"--replications {REPS} --seed {SEED}" in command
    text = _text(rep)
    assert "azsim report --reproduce report/metadata.json" in text
    assert "numpy " in text and "pandas " in text and "Python 3." in text
    assert "{" not in text  # not a JSON dump


def test_no_local_absolute_path_in_any_report_file(report_dir, tmp_path_factory):
    base = str(tmp_path_factory.getbasetemp())
    forbidden = [base, str(Path.home()), str(ROOT), os.getcwd()]
    for p in report_dir.rglob("*"):
        if p.is_file() and p.suffix in (".html", ".md", ".json", ".csv", ".tex", ".svg"):
            text = p.read_text(encoding="utf-8")
            for bad in forbidden:
                assert bad not in text, (p.name, bad)


def test_metadata_rebuilds_the_scenario(scenario_file, report_dir):
    meta = json.loads((report_dir / "metadata.json").read_text())
    scen = azsim.load_scenario(scenario_file)
    assert meta["azsim_version"] == azsim.__version__
    assert meta["scenario_hash"] == scen.hash
    assert azsim.scenario_from_dict(meta["scenario"]).hash == scen.hash
    assert (meta["seed"], meta["replications"], meta["advisor_replications"]) == (SEED, REPS, ADVISOR_REPS)
    assert meta["created"].endswith("Z") and meta["python"]
    assert set(meta["packages"]) >= {"numpy", "pandas", "simpy", "matplotlib", "scipy"}
    assert not Path(meta["input"]["path"]).is_absolute()  # relative to the report folder
    assert (report_dir / meta["input"]["path"]).resolve() == scenario_file.resolve()


def test_reproduce_gives_identical_tables(report_dir, capsys):
    out = report_dir.parent / "report_reproduced"  # the default: DIR + _reproduced
    assert main(["report", "--reproduce", str(report_dir / "metadata.json"), "--format", "html"]) == 0
    originals = sorted(p.name for p in (report_dir / "tables").glob("*.csv"))
    assert originals == sorted(p.name for p in (out / "tables").glob("*.csv"))
    for name in originals:
        assert (out / "tables" / name).read_bytes() == (report_dir / "tables" / name).read_bytes(), name
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["reproduced_from"] == "../report/metadata.json"
    assert "rebuilt from ../report/metadata.json" in (out / "report.html").read_text(encoding="utf-8")


# ---- progress --------------------------------------------------------------------------------------------
def test_build_report_reports_progress(built):
    calls = built["progress"]
    total = REPS + 9 * ADVISOR_REPS
    assert calls and {t for _, t in calls} == {total}
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == total and done[0] >= 1


@pytest.fixture
def quick_content(monkeypatch):
    """A scenario report's content without simulating: one table, one figure; progress called twice."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure as MplFigure

    from azsim import report as report_mod
    from azsim.report import Figure

    def content(scenario, comments, replications, seed, advisor_replications, progress=None):
        for k in (1, 2):
            if progress is not None:
                progress(k, 2)
        tables = {"t": Table("t", "a table", pd.DataFrame({"x": [1.0, 2.0]}))}
        figures = {"f": Figure("f", "a figure", MplFigure(figsize=(2, 2)))}
        sections = [Section("Results", ["text"], [("table", "t"), ("figure", "f")])]
        info = {"scenario_hash": scenario.hash, "scenario_name": scenario.name, "seed": seed,
                "replications": replications, "advisor_replications": advisor_replications, "policies": []}
        return sections, {"tables": tables, "figures": figures}, info

    monkeypatch.setattr(report_mod, "_scenario_report", content)


def test_cli_progress_bar_only_on_a_terminal(quick_content, scenario_file, tmp_path, capsys, monkeypatch):
    import azsim.cli as cli

    assert main(["report", str(scenario_file), "--out", str(tmp_path / "a"), "--format", "md"]) == 0
    assert capsys.readouterr().err == ""  # a pipe: no bar
    monkeypatch.setattr(cli, "_is_terminal", lambda stream: True)
    assert main(["report", str(scenario_file), "--out", str(tmp_path / "b"), "--format", "md"]) == 0
    err = capsys.readouterr().err
    assert "2/2" in err and "replications" in err
    assert main(["report", str(scenario_file), "--out", str(tmp_path / "c"), "--format", "md", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_pdf_without_a_browser_exits_2_before_any_work(scenario_file, tmp_path, capsys, monkeypatch):
    from azsim import report as report_mod

    def forbidden(*args, **kwargs):
        raise AssertionError("work started before the browser was checked")

    monkeypatch.setattr(report_mod, "_scenario_report", forbidden)
    monkeypatch.setenv("AZSIM_CHROMIUM", str(tmp_path / "no-such-browser"))
    out = tmp_path / "out"
    assert main(["report", str(scenario_file), "--out", str(out), "--format", "html,pdf"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "apt install chromium" in err[0] and "--format html" in err[0]
    assert not out.exists() and not list(tmp_path.glob(".azsim-*"))


# ---- stores ----------------------------------------------------------------------------------------------
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
    from azsim.report import find_browser

    out = tmp_path / "sens_report"
    pdf = find_browser() is not None
    formats = "html,md" + (",pdf" if pdf else "")
    assert main(["report", str(sensitivity_store), "--out", str(out), "--format", formats]) == 0
    if pdf:  # the store's report prints as well as the scenario's (tests/test_report_pdf.py)
        import pypdf
        from test_report_pdf import A4, _stacked

        reader = pypdf.PdfReader(out / "report.pdf")
        assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages} == {A4}
        assert max(_stacked(p.extract_text() or "") for p in reader.pages) < 3
    html = (out / "report.html").read_text(encoding="utf-8")
    sens = _section(html, "Sensitivity")
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
    md = (out / "report.md").read_text(encoding="utf-8")
    assert re.findall(r"^## (.+)$", md, re.M) == [htmllib.unescape(h) for h in re.findall(r"<h2>(.*?)</h2>", html)]
    for title in ("Sensitivity", "Limitations", "How to cite", "Reproducibility"):
        assert f"## {title}" in md
    # limitations: the factors varied, most influential (total Sobol index) first
    sobol = pd.read_csv(out / "tables" / "sobol_seller_cost_total.csv").sort_values("ST", ascending=False)
    lim = _text(_section(html, "Limitations"))
    positions = [lim.index(f) for f in sobol["factor"]]
    assert positions == sorted(positions)
    meta = json.loads((out / "metadata.json").read_text())
    assert not Path(meta["input"]["path"]).is_absolute()
    assert (out / meta["input"]["path"]).resolve() == sensitivity_store.resolve()
    again = tmp_path / "again"
    assert main(["report", "--reproduce", str(out / "metadata.json"), "--out", str(again)]) == 0
    for p in (out / "tables").glob("*.csv"):
        assert (again / "tables" / p.name).read_bytes() == p.read_bytes(), p.name


# ---- input errors ----------------------------------------------------------------------------------------
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


def test_build_report_is_importable_as_before():
    from azsim.report import STORE_SUFFIXES, build_report, reproduce  # noqa: F401

    assert callable(build_report) and ".duckdb" in STORE_SUFFIXES


# ---- the calibration section ---------------------------------------------------------------------------------
def test_a_calibrated_scenario_gets_a_calibration_section_with_the_calibrations_numbers(scenario_file, tmp_path,
                                                                                         capsys):
    """`azsim calibrate REPORTS --base tiny.yaml --out cal.yaml` then `azsim report cal.yaml`: the report has a
    "Calibration" section right after "Scenario and policies" whose table holds each estimated field with the value,
    95% CI, n and source of the library's Calibration, and names the fields kept from the base."""
    from azsim.calibrate import calibrate

    reports = ROOT / "tests" / "fixtures" / "reports"
    files = [str(reports / n) for n in ("orders_by_date.tsv", "seller_performance_v2.json", "returns_mfn.tsv")]
    cal_yaml, out = tmp_path / "cal.yaml", tmp_path / "rep"
    assert main(["calibrate", *files, "--base", str(scenario_file), "--out", str(cal_yaml)]) == 0
    assert main(["report", str(cal_yaml), "--out", str(out), "--format", "html,md", "-r", "2",
                 "--seed", "5"]) == 0
    capsys.readouterr()
    cal = calibrate(files, "US", azsim.load_scenario(scenario_file))
    assert cal.ok and len(cal.fields()) >= 5 and cal.kept

    html = (out / "report.html").read_text(encoding="utf-8")
    heads = [htmllib.unescape(h) for h in re.findall(r"<h2>(.*?)</h2>", html)]
    assert heads[heads.index("Scenario and policies") + 1] == "Calibration"
    assert "## Calibration" in (out / "report.md").read_text(encoding="utf-8")
    table = pd.read_csv(out / "tables" / "calibration.csv").set_index("field")
    assert sorted(table.index) == sorted(e.path for e in cal.fields())
    for e in cal.fields():
        row = table.loc[e.path]
        assert row["value"] == pytest.approx(e.value, rel=1e-5), e.path
        assert (row["ci95_low"], row["ci95_high"]) == (pytest.approx(e.low, rel=1e-5), pytest.approx(e.high, rel=1e-5))
        assert row["n"] == e.n and row["source"] == e.source and row["window"] == e.window, e.path
    section = _text(_section(html, "Calibration"))
    shown = _rows(_table_html(html, "calibration"))
    assert shown[0] == ["Field", "Value", "95% CI", "n", "From", "How"]
    orders = next(e for e in cal.fields() if e.path == "market.orders_per_day")
    assert ["Orders per day", L.field_value(orders.path, orders.value), L.field_value(orders.path, orders.low)
            + " to " + L.field_value(orders.path, orders.high), f"{orders.n:,}"] in [r[:4] for r in shown]
    for path in cal.kept:  # the fields no report gave are named
        assert f"{L.field_text(path)} ({path})" in section
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["parameter_sources"]["market.orders_per_day"].startswith("estimated from ")  # --reproduce keeps it


def test_a_plain_scenario_has_no_calibration_section(report_dir, html):
    assert "<h2>Calibration</h2>" not in html and not (report_dir / "tables" / "calibration.csv").exists()
