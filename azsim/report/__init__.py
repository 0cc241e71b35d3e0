"""Research reports: ``azsim report SCENARIO-or-STORE`` writes a folder a researcher can cite.

``build_report(source, out)`` reads a scenario YAML (runs :func:`azsim.compare` and the practice
advisor) or a DuckDB results store (every sweep's point summary; Sobol indices and a tornado when
it holds a sensitivity pair of sweeps) and writes:

``report.html``    self-contained (figures embedded as PNG), readable offline;
``report.pdf``     with ``formats`` containing ``pdf``: report.html printed by headless Chromium, the
                   same document (A4, numbered pages, tables that fit, figures where they are cited);
``report.md``      with ``formats`` containing ``md``: the same sections (figures beside it in ``figures/``);
``figures/``       PNG and SVG of every figure, one style, readable in greyscale;
``tables/``        CSV and LaTeX of every table;
``metadata.json``  versions, commit, seed, replications, timestamps and (scenario input) the resolved
                   scenario, paths relative to the report folder, so that :func:`reproduce` rebuilds
                   byte-identical ``tables/*.csv``.

The package is split by concern: :mod:`.document` (the format-free document: sections, tables,
figures, numbering), :mod:`.scenario_content` and :mod:`.store_content` (content assembly),
:mod:`.limitations`, :mod:`.figures` (matplotlib), one renderer per format (:mod:`.html`,
:mod:`.markdown`, :mod:`.pdf`, :mod:`.latex`) and :mod:`.provenance` (metadata.json, versions,
commit, YAML comments, "How to cite", "Reproducibility"). This module builds and writes.

Every number is read from the Comparison, its headline, the Advice or the store; none is typed
here. All input is read and every number computed before anything is written: a missing or broken
input raises :class:`ScenarioError` / :class:`StoreError` and leaves no output folder; so does a
PDF asked for without a browser to print it. The output folder is checked before any work, built in
a temporary folder next to it and renamed into place at the end (an existing report folder is
replaced only then): a failure or Ctrl-C leaves nothing. User text (scenario and policy names,
descriptions, comments, sweep ids) is escaped in every format, and becomes part of a file name only
through :func:`azsim.outputs.slug`.
"""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from ..labels import plural
from ..outputs import building, show_path, slug, target_problems
from ..scenario import Scenario, ScenarioError, load_scenario, read_yaml, scenario_from_dict
from . import html as _html_renderer
from . import latex as _latex_renderer
from . import markdown as _md_renderer
from .document import MAX_ROWS, Figure, Report, Section, Table, fmt
from .figures import HATCHES, LINESTYLES, STYLE
from .pdf import browser_version, find_browser, print_pdf, require_browser
from .provenance import (
    FORMATS,
    METADATA_MAX_BYTES,
    METADATA_MAX_DEPTH,
    PACKAGES,
    REPRODUCE_MAX_REPLICATIONS,
    REPRODUCE_MAX_SEED,
    base_metadata,
    citation_sections,
    git_commit,
    input_of,
    parse_comments,
    read_metadata,
    relative_to,
)
from .scenario_content import parameters_table, policy_versions_table
from .scenario_content import scenario_report as _scenario_report
from .store_content import store_report as _store_report

__all__ = ["build_report", "reproduce", "parse_comments", "read_metadata", "check_out", "FORMATS", "STYLE", "fmt",
           "STORE_SUFFIXES", "Table", "Figure", "Section", "Report", "find_browser", "git_commit",
           "parameters_table", "policy_versions_table", "HATCHES", "LINESTYLES", "PACKAGES",
           "REPRODUCE_MAX_REPLICATIONS", "REPRODUCE_MAX_SEED", "METADATA_MAX_BYTES", "METADATA_MAX_DEPTH"]

STORE_SUFFIXES = (".duckdb", ".db")
HTML_MAX_ROWS = MAX_ROWS
_slug = slug

# The steps below are looked up in this module when a report is built (tests replace them):
# _scenario_report, _store_report (content), _html, _markdown, _latex (renderers).


def _html(report: Report) -> str:
    return _html_renderer.render(report)


def _markdown(report: Report) -> str:
    return _md_renderer.render(report)


def _latex(t: Table) -> str:
    return _latex_renderer.render(t)


def _is_store(path: str) -> bool:
    return Path(path).suffix.lower() in STORE_SUFFIXES


def build_report(source: str, out: str | Path = "report", formats=("html",), replications: int = 20,
                 seed: int = 20210901, advisor_replications: int | None = None, policies: str | None = None,
                 progress=None) -> Path:
    """Build the report of a scenario YAML or a results store into folder ``out``; returns it.

    ``policies`` (``"us-2021-old,us-2022-06"``) compares these policy versions instead of the
    scenario file's policies (scenario input only). ``progress(done, total)``, if given, is called as
    the simulations advance (replications, the advisor's included).
    """
    source = str(source)
    formats = _check_formats(formats)
    check_out(out, [source])
    if "pdf" in formats:
        require_browser()
    if _is_store(source):
        if policies is not None:
            raise ScenarioError(["--policies: applies to a scenario file; a results store keeps the policies it ran"],
                                source)
        return _build(source, out, formats, kind="store", progress=progress)
    text = _read_text(source)
    scenario = load_scenario(source, policies=policies)
    comments = parse_comments(text)
    return _build(source, out, formats, kind="scenario", scenario=scenario, comments=comments,
                  replications=replications, seed=seed, advisor_replications=advisor_replications,
                  policies_arg=policies, progress=progress)


def _read_text(path: str) -> str:
    read_yaml(path)  # every way a file can be missing or broken -> ScenarioError
    return Path(path).read_text(encoding="utf-8")


def reproduce(metadata_path: str | Path, out: str | Path | None = None, formats=None, progress=None) -> Path:
    """Rebuild a report from its ``metadata.json`` (same scenario, seed and replications).

    The file is validated first (:func:`read_metadata`): a missing key, a wrong type, a negative,
    non-finite or huge number, deep nesting or a file that is not JSON raises :class:`ScenarioError`
    naming the field, and nothing is written.
    """
    mp = Path(metadata_path)
    meta = read_metadata(mp)
    if out is not None:
        check_out(out)  # before it becomes a Path ("" would be ".")
    out = Path(out) if out is not None else Path(str(mp.resolve().parent) + "_reproduced")
    formats = _check_formats(formats or meta.formats or ["html"])
    if "pdf" in formats:
        require_browser()
    source = input_of(meta, mp)
    if meta.kind == "store":
        return _build(source, out, formats, kind="store", reproduced_from=str(mp), progress=progress)
    try:
        scenario = scenario_from_dict(meta.scenario, str(mp))
    except ScenarioError as err:  # the fields are those of metadata.json's scenario
        raise ScenarioError([f"scenario.{p}" for p in err.problems], str(mp)) from None
    if meta.scenario_hash and scenario.hash != meta.scenario_hash:
        raise ScenarioError([f"scenario_hash: the scenario does not match its hash {meta.scenario_hash}"], str(mp))
    return _build(source, out, formats, kind="scenario", scenario=scenario,
                  comments=meta.parameter_sources or {}, replications=meta.replications,
                  seed=meta.seed, advisor_replications=meta.advisor_replications, reproduced_from=str(mp),
                  policies_arg=meta.policies_arg, progress=progress)


def _is_report_folder(path: Path) -> bool:
    """An azsim report folder: its metadata.json names an azsim version and a kind."""
    try:
        meta = json.loads((path / "metadata.json").read_text(encoding="utf-8")[:METADATA_MAX_BYTES])
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(meta, dict) and "azsim_version" in meta and meta.get("kind") in ("scenario", "store")


def check_out(out, inputs=()) -> None:
    """Refuse, before any work, an output folder the report cannot be written to
    (:func:`azsim.outputs.target_problems`), an existing folder that is not a report folder (a report
    replaces its folder), or one that holds an input."""
    out_text = os.fspath(out)
    problems = target_problems("--out", out_text, "dir")
    if problems:
        raise ScenarioError(problems)
    out = Path(out_text)
    shown = show_path(out_text)
    if out.name in ("", ".", ".."):
        raise ScenarioError([f"--out: {shown}: give the report folder a name (a report replaces its folder)"])
    if out.is_dir() and any(out.iterdir()) and not _is_report_folder(out):
        raise ScenarioError([f"--out: {shown} exists and is not an azsim report folder (a report replaces its "
                             "folder): choose a new folder"])
    try:
        resolved = out.resolve()
        held = [item for item in inputs if item and resolved in Path(item).resolve().parents]
    except (OSError, RuntimeError):  # a symlink loop: reading the input will say so
        held = []
    if held:
        raise ScenarioError([f"--out: {shown} holds the input {show_path(held[0])}; write the report to another "
                             "folder"])


def _build(source: str, out, formats, kind: str, scenario: Scenario | None = None, comments=None,
           replications: int = 20, seed: int = 20210901, advisor_replications: int | None = None,
           reproduced_from: str | None = None, policies_arg: str | None = None, progress=None) -> Path:
    import matplotlib

    formats = _check_formats(formats)
    check_out(out, [source, reproduced_from])
    browser = require_browser() if "pdf" in formats else None
    extra = {"progress": progress} if progress is not None else {}
    out = Path(out)
    with matplotlib.rc_context(STYLE):
        if kind == "store":
            from ..store import StoreError, broken

            try:
                sections, content, info = _store_report(source, **extra)
            except (ScenarioError, StoreError):
                raise
            except Exception as err:
                # a store edited outside azsim can hold anything its column types allow (duplicate
                # policies, an unparseable spec...): whatever pandas, numpy or SALib then raise, say so
                raise broken(str(source), f"unexpected content: {type(err).__name__}: "
                             f"{str(err).splitlines()[0][:100] if str(err) else ''}") from None
            title = f"azsim report: results store {Path(source).name}"
        else:
            adv_reps = advisor_replications or max(4, replications // 2)
            sections, content, info = _scenario_report(scenario, comments, replications, seed, adv_reps, **extra)
            title = f"azsim report: scenario {scenario.name}"
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        meta = {**base_metadata(kind, source, out, formats, created), **info}
        if browser:
            meta["browser"] = browser_version(browser) or Path(browser).name
        if kind == "scenario":
            meta["scenario"] = scenario.to_dict()
            meta["parameter_sources"] = dict(sorted((comments or {}).items()))
            if policies_arg:
                meta["policies_arg"] = policies_arg
        if reproduced_from:
            meta["reproduced_from"] = relative_to(reproduced_from, out)
        subtitle = (f"azsim {meta['azsim_version']} | created {created} | " +
                    (f"scenario hash {info['scenario_hash']} | seed {info['seed']} | "
                     f"{plural(info['replications'], 'replication')}" if kind == "scenario"
                     else plural(len(info["sweeps"]), "sweep")))
        sections = list(sections) + citation_sections(meta, out.name) + list(content.get("appendix", []))
        report = Report(title, subtitle, sections, content["tables"], content["figures"], meta).resolve()
        return _write(report, out, formats, browser)


def _check_formats(formats) -> list[str]:
    if isinstance(formats, str):
        formats = [f.strip() for f in formats.split(",") if f.strip()]
    formats = list(dict.fromkeys(formats))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ScenarioError([f"--format: choose from {', '.join(FORMATS)} (comma-separated), got "
                             f"{', '.join(bad) or 'nothing'}"])
    return formats


def _write(report: Report, out: Path, formats: list[str], browser: str | None = None) -> Path:
    """Write the report into a temporary folder next to ``out`` and rename it to ``out`` at the end
    (an existing report folder is replaced only then); any failure, Ctrl-C included, leaves nothing."""
    with building(out, replace=True, flag="--out") as tmp:
        _write_files(report, tmp, formats, browser)
    return out


def _write_files(report: Report, out: Path, formats: list[str], browser: str | None = None) -> None:
    figdir, tabdir = out / "figures", out / "tables"
    figdir.mkdir()
    tabdir.mkdir()
    for f in report.figures.values():
        buf = io.BytesIO()
        f.fig.savefig(buf, format="png", metadata={"Software": None})
        f.png = buf.getvalue()
        (figdir / f"{f.name}.png").write_bytes(f.png)
        f.fig.savefig(figdir / f"{f.name}.svg", format="svg", metadata={"Date": None})
    for t in report.tables.values():
        t.df.to_csv(tabdir / f"{t.name}.csv", index=False, lineterminator="\n")
        (tabdir / f"{t.name}.tex").write_text(_latex(t), encoding="utf-8")
    (out / "metadata.json").write_text(json.dumps(report.metadata, indent=2, default=str) + "\n", encoding="utf-8")
    html_path = out / ("report.html" if "html" in formats else ".print.html")
    if "html" in formats or "pdf" in formats:
        html_path.write_text(_html(report), encoding="utf-8")
    if "md" in formats:
        (out / "report.md").write_text(_markdown(report), encoding="utf-8")
    if "pdf" in formats:
        try:
            print_pdf(html_path, out / "report.pdf", browser or require_browser())
        except OSError as err:
            raise ScenarioError([f"--format pdf: {err}; nothing was written"]) from None
        finally:
            if "html" not in formats:
                html_path.unlink(missing_ok=True)
