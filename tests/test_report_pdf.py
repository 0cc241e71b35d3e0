"""report.pdf: the HTML printed by headless Chromium. One page size, numbered pages, every table header
legible, figures and tables on the page that cites them (or the next), figures never split, no local
path; and a screenshot of the report's first page under test-output/ (for people to look at)."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import pytest
import report_fixtures

from azsim.report import find_browser

pypdf = pytest.importorskip("pypdf")
pytestmark = pytest.mark.skipif(find_browser() is None, reason="no Chromium to print the PDF (make browser)")

ROOT = Path(__file__).resolve().parent.parent
built, html, report_dir, scenario_file = (report_fixtures.built, report_fixtures.html, report_fixtures.report_dir,
                                          report_fixtures.scenario_file)  # the one shared report
A4 = (595, 842)  # points


def _norm(text: str) -> str:
    """PDF text as words: ligatures undone, line breaks and hyphen-free wraps as spaces."""
    text = text.replace("\ufb01", "fi").replace("\ufb02", "fl").replace("\ufb00", "ff").replace("\ufb03", "ffi")
    text = text.replace("\ufb04", "ffl").replace("\u2212", "-")
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def reader(report_dir):
    return pypdf.PdfReader(report_dir / "report.pdf")


@pytest.fixture(scope="module")
def raw_pages(reader) -> list[str]:
    return [p.extract_text() or "" for p in reader.pages]


@pytest.fixture(scope="module")
def pages(raw_pages) -> list[str]:
    return [_norm(t) for t in raw_pages]


def test_one_page_size_and_numbered_pages(reader, pages):
    sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages}
    assert sizes == {A4}
    n = len(pages)
    assert n >= 5
    for i, text in enumerate(pages, start=1):
        assert f"Page {i} of {n}" in text, (i, text[:80])


def test_every_table_header_of_the_html_is_legible_in_the_pdf(html, pages):
    """Each header cell's words appear, in order, in the PDF text: none cut, overlapped or broken mid-word."""
    text = " ".join(pages)
    headers = {_norm(htmllib.unescape(re.sub(r"<[^>]+>", " ", h.replace("<wbr>", ""))))
               for h in re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)} - {""}
    assert len(headers) > 15
    missing = [h for h in headers if h not in text]
    assert not missing, missing
    for cap in re.findall(r"<caption>(.*?)</caption>", html, re.S):
        assert _norm(htmllib.unescape(re.sub(r"<[^>]+>", " ", cap.replace("<wbr>", "")))) in text, cap[:80]


def _stacked(text: str) -> int:
    """The longest run of lines of one or two letters: a column too narrow for its words prints them
    letter by letter, one above the other ("C / o / nf / id / e / n / c / e")."""
    run = worst = 0
    for line in text.splitlines():
        run = run + 1 if re.fullmatch(r"[A-Za-z\ufb00-\ufb04]{1,2}", line.strip()) else 0
        worst = max(worst, run)
    return worst


def test_no_column_is_too_narrow_for_its_words(raw_pages):
    worst = max(_stacked(t) for t in raw_pages)
    assert worst < 3


def _first_page(pages: list[str], pattern: str) -> int:
    for i, text in enumerate(pages):
        if re.search(pattern, text):
            return i
    raise AssertionError(f"{pattern} not in the PDF")


def test_figures_and_tables_are_on_the_page_that_cites_them(html, pages):
    """In reading order: each figure's and table's caption is on the page of the first text that cites it,
    or the next (not all text first and every figure at the end)."""
    labels = re.findall(r"<b>((?:Figure|Table) \d+)\.</b>", html)  # not the appendix (Table A1)
    assert len(labels) >= 10
    for label in labels:
        cited = _first_page(pages, rf"{label}(?![\d.])")
        caption = _first_page(pages, rf"{label}\. ")
        assert 0 <= caption - cited <= 1, (label, cited + 1, caption + 1)
    order = [_first_page(pages, rf"{label}\. ") for label in labels]
    assert order == sorted(order)  # the same order as the HTML


def test_figures_are_drawn_whole(report_dir, reader):
    """A figure split across two pages would be drawn twice (once clipped on each page)."""
    figures = len(list((report_dir / "figures").glob("*.png")))
    drawn = 0
    for page in reader.pages:
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        drawn += sum(1 for ref in xobjects.values() if ref.get_object().get("/Subtype") == "/Image")
    assert drawn == figures


def test_no_local_path_in_the_pdf(pages, tmp_path_factory):
    text = " ".join(pages)
    for bad in (str(tmp_path_factory.getbasetemp()), str(Path.home()), str(ROOT)):
        assert _norm(bad) not in text
    assert "How to cite" in text and "Reproducibility" in text


def test_pdf_alone_leaves_no_html_behind(scenario_file, tmp_path, monkeypatch):
    """--format pdf prints a temporary copy of the HTML and removes it."""
    import matplotlib
    import pandas as pd

    matplotlib.use("Agg")
    from matplotlib.figure import Figure as MplFigure

    from azsim import report as report_mod
    from azsim.report import Figure, Section, Table

    def content(scenario, comments, replications, seed, advisor_replications):
        tables = {"t": Table("t", "a table", pd.DataFrame({"x": [1.0, 2.0]}))}
        figures = {"f": Figure("f", "a figure", MplFigure(figsize=(2, 2)))}
        info = {"scenario_hash": scenario.hash, "scenario_name": scenario.name, "seed": seed,
                "replications": replications, "advisor_replications": advisor_replications, "policies": []}
        return [Section("Results", ["text"], [("table", "t"), ("figure", "f")])], \
            {"tables": tables, "figures": figures}, info

    monkeypatch.setattr(report_mod, "_scenario_report", content)
    out = report_mod.build_report(str(scenario_file), tmp_path / "r", ["pdf"], replications=2, seed=1)
    assert sorted(p.name for p in out.iterdir()) == ["figures", "metadata.json", "report.pdf", "tables"]
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF-")


def test_screenshot_of_the_first_page(report_dir):
    """A browser's view of the top of report.html, saved for people to look at (test-output/)."""
    from azsim.report.pdf import screenshot

    target = ROOT / "test-output"
    target.mkdir(exist_ok=True)
    png = target / "report_first_page.png"
    png.unlink(missing_ok=True)
    screenshot(report_dir / "report.html", png, find_browser())
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000  # a page with text and a table, not a blank
