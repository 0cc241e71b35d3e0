"""azsim what-if explorer (Streamlit). Thin: widgets -> azsim API -> charts.

Run with `make app` (from the repository root, so that Streamlit reads `.streamlit/config.toml`:
127.0.0.1 only, no tracebacks in the browser, uploads up to 50 MB: a scenario file up to 1 MB, a
report up to 50 MB). Every number shown comes from
azsim (`compare`, `advise`, `azsim.views`, `azsim.headline`), every label and format from
`azsim.labels`; this page only arranges widgets and charts.

A scenario with three policies or more gets a comparison picker (each policy against the first,
the baseline): the cards, the charts, the advisor and the sidebar's policy editor all follow it.

Nothing a user sends raises a page exception: an upload is read and validated by azsim.scenario
(the code behind the CLI), and any failure of an upload, a widget setting or a simulation is shown
as an error box while the last scenario that ran stays on screen with its results.

A seller can calibrate the scenario from their own Seller Central reports (sidebar, "From my Seller
Central reports"): azsim.calibrate reads them, with the scenario chosen above as the base; the
calibrated scenario becomes the current one (the tab "My reports" shows what was estimated, with the
CIs, and offers the calibrated YAML); bad reports show the CLI's messages and keep the last good scenario.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st
import yaml

from azsim import ScenarioError, compare, scenario_from_dict
from azsim import labels as L
from azsim import views as V
from azsim.advisor import PRACTICES, WORLDS_MB, advise
from azsim.calibrate import MARKETPLACES, calibrate
from azsim.calibrate.core import MAX_FILES as MAX_REPORT_FILES
from azsim.calibrate.core import NOT_FROM_REPORTS
from azsim.executors import LocalExecutor
from azsim.policy import policy_versions
from azsim.scenario import (
    DEFAULT_MAX_MEMORY_MB,
    MAX_FILE_BYTES,
    apply_overrides,
    check_budget,
    estimate,
    field_info,
    parse_yaml,
    read_yaml,
)

ROOT = Path(__file__).resolve().parent
SCENARIOS = ROOT / "scenarios"
DEFAULT_REPLICATIONS = 8
DEFAULT_SEED = 20210901
UPLOAD_LIMIT_MB = max(1, math.ceil(MAX_FILE_BYTES / 2**20))  # server.maxUploadSize in .streamlit/config.toml
STILL_SHOWING = "Still showing the last good scenario."
REPORT_LIMIT_MB = 50  # per report file: server.maxUploadSize in .streamlit/config.toml (a year of a 500-orders-a-day
# seller's orders report is about 30 MB; a gzipped one about a tenth)
REPORT_TOTAL_FILES = 4  # all the reports of one calibration together: at most 4 times one report's limit
REPORT_TYPES = ["txt", "tsv", "csv", "json", "xml", "gz"]
# The page refuses at once what it could not answer in a few minutes on two cores or would run the machine
# out of memory: azsim.scenario's estimate and check_budget, as the CLI, with the CLI's memory limit and a
# work limit for a page (the CLI's, 1e10 orders, is hours of simulation).
MAX_MEMORY_MB = DEFAULT_MAX_MEMORY_MB
MAX_ORDERS = 40_000_000  # orders x policies x replications: about 25 s on 2 cores (a page answers in under a minute)
ADVISOR_COMPARISONS = 1 + len(PRACTICES) + 2  # the seller as it is, each practice improved, insured and not

log = logging.getLogger("azsim.app")

st.set_page_config(page_title="azsim: A-to-z Guarantee what-if", layout="wide")


# ---- cached calls into the library --------------------------------------------------------------
@st.cache_resource
def _pool() -> LocalExecutor:
    return LocalExecutor()


@st.cache_data(show_spinner=False, max_entries=32)
def run_compare(scenario_json: str, replications: int, seed: int):
    scenario = scenario_from_dict(json.loads(scenario_json))
    return compare(scenario, replications=replications, seed=seed, executor=_pool())


def within_budget(scenario_json: str, replications: int, what: str = "this comparison",
                  kept_worlds_mb: float | None = None) -> None:
    """Raise ScenarioError if simulating ``replications`` paired replications of the scenario would
    exceed the page's memory or work limit (nothing is simulated; ``kept_worlds_mb``: each worker's
    budget for kept worlds, the advisor's while it runs)."""
    scenario = scenario_from_dict(json.loads(scenario_json))
    try:
        cost = estimate(scenario, replications, workers=_pool().workers, kept_worlds_mb=kept_worlds_mb)
        check_budget(cost, MAX_MEMORY_MB, MAX_ORDERS, what)
    except ScenarioError as err:
        raise ScenarioError([re.sub(r"; --max-\w+ \w+ to raise it\)", ")", p) for p in err.problems]
                            + ["lower the orders per day or the replications (the command line, azsim compare, "
                               "can run larger comparisons)"]) from None


def simulate(fn, scenario_json: str, replications: int, seed: int, **kw):
    """Call a simulation (``run_compare`` or ``run_advice``) once it is within the page's budget."""
    advice = fn is run_advice
    within_budget(scenario_json, replications * (ADVISOR_COMPARISONS if advice else 1),
                  "the advisor" if advice else "this comparison", WORLDS_MB if advice else None)
    return fn(scenario_json, replications, seed, **kw)


def run_advice(scenario_json: str, replications: int, seed: int, progress=None):
    """azsim.advise on the scenario; each of its comparisons goes through the cached ``run_compare`` (a
    redraw never re-simulates), ``progress(done, total)`` after each one that ran."""
    scenario = scenario_from_dict(json.loads(scenario_json))
    return advise(scenario, replications=replications, seed=seed, progress=progress,
                  run=lambda s, replications, seed: run_compare(json.dumps(s.to_dict()), replications, seed))


@st.cache_data(show_spinner=False, max_entries=8)
def run_calibration(digest: str, marketplace: str, base_json: str, _files: list[tuple[str, bytes]]) -> dict:
    """azsim.calibrate on uploaded reports (``digest`` names them: the cache key with the marketplace and
    the base), as plain data: problems, or the scenario, its YAML with the comments, the summary."""
    base = scenario_from_dict(json.loads(base_json))
    cal = calibrate(_files, marketplace, base)
    if cal.problems:
        return {"problems": list(cal.problems)}
    return {"problems": [], "scenario": cal.scenario.to_dict(), "yaml": cal.yaml_text(), "summary": cal.to_dict(),
            "text": cal.summary_text(), "currency": base.market.currency}


# ---- messages ---------------------------------------------------------------------------------
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text, limit: int = 500) -> str:
    """``text`` shown as itself in Streamlit's markdown, on one line of at most ``limit`` characters:
    no links, images, HTML or colour directives from a file name, a field name or a value in an upload."""
    text = " ".join(str(text).split())
    return _MARKDOWN.sub(r"\\\1", text if len(text) <= limit else text[: limit - 1] + "…")


def problems_of(err: BaseException) -> list[str]:
    """One-line problems for an error box: a ScenarioError's own, else the exception named (its
    traceback goes to the server's log, never to the browser)."""
    if isinstance(err, ScenarioError):
        return err.problems or [str(err)]
    log.error("azsim app: %s", type(err).__name__, exc_info=err)
    detail = str(err).strip().splitlines()[0][:300] if str(err).strip() else ""
    return [f"unexpected error ({type(err).__name__}){': ' + detail if detail else ''}"]


def error_box(head: str, problems: list[str], tail: str = "") -> None:
    st.error(f"{head}\n\n" + "\n".join(f"- {plain(p)}" for p in problems) + (f"\n\n{tail}" if tail else ""))


# ---- scenario choice -------------------------------------------------------------------------
def _scenario_files() -> list[str]:
    return sorted(p.name for p in SCENARIOS.glob("*.yaml"))


def _load_file(name: str) -> dict:
    return read_yaml(SCENARIOS / name)


def _widget(container, path: str, label: str, value, kind: str = "number", unit: str = "", source: str = "",
            **kw):
    """A widget bounded by the schema's limits for ``path``; returns the chosen value.

    Its key carries the scenario's source, so that picking another scenario resets the widgets
    to that scenario's values instead of keeping the previous ones.
    """
    info = field_info(path)
    key = f"{path}@{source}"
    help_text = f"{info['description']} ({path})".strip() if info["description"] else path
    lo, hi = info["low"], info["high"]
    if kind == "percent":
        shown = float(value) * 100
        v = container.slider(f"{label} (%)", 0.0, 100.0, shown, step=0.5, help=help_text, key=key)
        return value if v == shown else v / 100  # untouched: exactly the scenario's value
    if kind == "choice":
        options = kw["options"]
        return container.selectbox(label, options, index=options.index(value), help=help_text, key=key,
                                   format_func=lambda v: L.CHOICE_LABELS.get(v, L.humanize(v)))
    is_int = info["type"] is int
    step = kw.get("step", 1 if is_int else 1.0)
    cast = int if is_int else float
    args = {"min_value": cast(lo) if lo is not None else None, "max_value": cast(hi) if hi is not None else None}
    return container.number_input(f"{label}{f' ({unit})' if unit else ''}", value=cast(value), step=cast(step),
                                  help=help_text, key=key, **args)


def policy_version_boxes(sb, base: dict, source: str) -> tuple[dict, str]:
    """A select box per compared policy: its version (preset), among those in the scenario's currency.

    Returns the scenario data with the chosen versions applied (``policies.NAME.preset``: fields
    the file only restated from the former version follow the new one) and a key naming the choice.
    """
    try:
        current = scenario_from_dict(base)
    except ScenarioError:
        return base, ""
    cur = current.market.currency
    versions = {v["name"]: v for v in policy_versions() if v["currency"] == cur}
    sb.header("Policy versions")
    picks = []
    for name, pol in current.policies.items():
        options = list(versions)
        now = pol.preset if pol.preset in versions else "(custom)"
        if now == "(custom)":
            options = ["(custom)", *options]
        pick = sb.selectbox(f"Policy '{plain(name)}': {plain(L.policy_label(name))}", options, index=options.index(now),
                            key=f"version:{name}@{source}",
                            help=f"the rules this policy follows; versions in {cur} (azsim policies lists them all)")
        if pick != now:
            base = apply_overrides(base, {f"policies.{name}.preset": pick})
        v = versions.get(pick)
        if v is not None:
            sb.caption(f"{v['marketplace']}, {v['currency']}, effective {v['effective'] or 'not dated'}: "
                       f"{v['description']}")
        picks.append(f"{name}={pick}")
    return base, ",".join(picks)


def upload_limit() -> tuple[int, int]:
    """(MB for the uploader, bytes the page accepts): Streamlit's ``server.maxUploadSize`` (MB) as the
    server applies it, and the smaller of it and azsim's own limit on a scenario file (MAX_FILE_BYTES)."""
    try:
        server_mb = int(st.get_option("server.maxUploadSize"))
    except Exception:  # an option Streamlit does not know: its default applies, ours is smaller
        server_mb = UPLOAD_LIMIT_MB
    mb = max(1, min(server_mb, UPLOAD_LIMIT_MB))
    return mb, min(MAX_FILE_BYTES, server_mb * 2**20)


def load_upload(name: str, raw: bytes) -> dict:
    """An uploaded scenario's data, read and validated as the CLI reads a scenario file: the size
    limit, UTF-8, then azsim.scenario's YAML parser (with its limits) and schema. Raises ScenarioError."""
    limit = upload_limit()[1]
    if len(raw) > limit:
        raise ScenarioError([f"file too large ({len(raw):,} bytes; limit {limit:,})"], name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(["not a text file (UTF-8 YAML expected)"], name) from None
    data = parse_yaml(text, name)
    if data is None:  # the CLI reads an empty file as all defaults; an empty upload is a mistake
        raise ScenarioError(["empty file (no scenario fields in it)"], name)
    scenario_from_dict(data, name)
    return data


def try_upload(name: str, raw: bytes, reps: int, seed: int) -> dict:
    """The upload's data once it has loaded, validated and simulated (at the page's replications and
    seed: the page then shows it from the cache); raises whatever failed."""
    data = load_upload(name, raw)
    with st.spinner(f"Simulating {plain(name)}…"):
        simulate(run_compare, json.dumps(scenario_from_dict(data, name).to_dict()), reps, seed)
    return data


def scenario_upload(sb, choice: str) -> tuple[dict, str, str, dict | None]:
    """The scenario data to start from, the key of its widgets, a label for the page, and the upload
    tried in this run (None if none is new).

    An upload is used only once it has loaded, validated and simulated; otherwise an error box names
    the problem and the last good scenario stays (the last good upload, else the chosen file), with
    its widget settings.
    """
    limit_mb, limit_bytes = upload_limit()
    limit = f"{L.plural(limit_bytes, 'byte')} ({limit_bytes / 1e6:g} MB)"
    upload = sb.file_uploader("…or upload a scenario (YAML)", type=["yaml", "yml"], max_upload_size=limit_mb,
                              help=f"A scenario file as the command line reads it, at most {limit}.")
    sb.caption(f"Files up to {limit}.")
    state = st.session_state
    good = state.get("good_upload")
    if upload is not None:
        raw = upload.getvalue()
        digest = hashlib.sha256(raw).hexdigest()[:16]
        bad = state.setdefault("bad_uploads", {})
        if good is not None and good["digest"] == digest:
            return good["data"], f"upload:{digest}", f"uploaded {upload.name}", None
        if digest not in bad:
            try:
                data = try_upload(upload.name, raw, state.get("reps", DEFAULT_REPLICATIONS),
                                  state.get("seed", DEFAULT_SEED))
            except Exception as err:
                bad[digest] = problems_of(err)
            else:
                trial = {"kind": "upload", "name": upload.name, "digest": digest, "data": data}
                return data, f"upload:{digest}", f"uploaded {upload.name}", trial
        error_box(f"Cannot use {plain(upload.name)}:", bad[digest], STILL_SHOWING)
        if good is not None:
            return good["data"], f"upload:{good['digest']}", f"uploaded {good['name']}", None
    return _load_file(choice), choice, choice, None


def report_limit() -> tuple[int, int, int]:
    """(MB for the reports' uploader, bytes the page accepts per report, bytes of all reports together):
    REPORT_LIMIT_MB, at most Streamlit's ``server.maxUploadSize`` as the server applies it."""
    try:
        server_mb = int(st.get_option("server.maxUploadSize"))
    except Exception:
        server_mb = REPORT_LIMIT_MB
    mb = max(1, min(server_mb, REPORT_LIMIT_MB))
    return mb, mb * 2**20, REPORT_TOTAL_FILES * mb * 2**20


def report_widgets(sb) -> tuple[list, str]:
    """The reports' uploader and the marketplace, in a form (nothing is read before the button): the files
    and the marketplace of the last press."""
    limit_mb, limit_bytes, total_bytes = report_limit()
    sb.subheader("…or calibrate from my Seller Central reports")
    with sb.form("reports", border=True):
        files = st.file_uploader(
            "My reports", type=REPORT_TYPES, accept_multiple_files=True, max_upload_size=limit_mb, key="report_files",
            help=f"Any mix of orders (all orders by order date), returns, FBA customer returns, seller feedback, "
                 f"account health (JSON), sales and traffic (JSON), financial events (JSON), the V1 performance "
                 f"report (XML), gzipped or not; the type is read from the content. At most "
                 f"{limit_bytes / 2**20:g} MB a file ({L.plural(limit_bytes, 'byte')}), "
                 f"{total_bytes / 2**20:g} MB and {MAX_REPORT_FILES} files in all.")
        market = st.selectbox("Marketplace", list(MARKETPLACES), key="report_marketplace",
                              help="where the reports come from: their date formats, currency and encodings")
        st.form_submit_button("Calibrate and compare", type="primary")
    sb.caption(f"Reports up to {limit_bytes / 2**20:g} MB each, {total_bytes / 2**20:g} MB in all. The scenario "
               "chosen above is the base: fields no report gives keep its values. Remove the reports and press "
               "the button to go back to it.")
    return list(files or []), market


def load_reports(files, market: str, base: dict) -> dict:
    """The calibration of uploaded reports on ``base``: sizes checked before any file is read, then
    azsim.calibrate (cached). Raises ScenarioError with its problems (the CLI's lines)."""
    _, limit, most = report_limit()
    problems = [f"{f.name}: file too large ({f.size:,} bytes; limit {limit:,})" for f in files if f.size > limit]
    total = sum(f.size for f in files)
    if total > most:
        problems.append(f"{L.plural(len(files), 'report')} of {total:,} bytes in all: at most {most:,} bytes at once")
    if len(files) > MAX_REPORT_FILES:
        problems.append(f"{len(files)} files: at most {MAX_REPORT_FILES} at once")
    if problems:
        raise ScenarioError(problems)
    raw = [(f.name, f.getvalue()) for f in files]
    base_json = json.dumps(base)  # keeps the policy order: the first is the baseline
    digest = _reports_digest(raw, market, base_json)
    with st.spinner(f"Reading {L.plural(len(raw), 'report')} and estimating…"):
        cal = run_calibration(digest, market, base_json, raw)
    if cal["problems"]:
        raise ScenarioError(cal["problems"])
    return cal


def _reports_digest(raw: list[tuple[str, bytes]], market: str, base_json: str) -> str:
    h = hashlib.sha256(f"{market}\n{base_json}".encode())
    for name, data in raw:
        h.update(f"\n{name}\n{len(data)}\n".encode())
        h.update(hashlib.sha256(data).digest())
    return h.hexdigest()[:16]


def reports_source(sb, base: tuple[dict, str, str, dict | None]):
    """The calibrated scenario when reports were given and calibrate (a tried one is simulated first), else
    ``base`` (the scenario chosen above or uploaded). Returns (data, widget key, label, trials of this run,
    the calibration on screen or None). Bad reports: an error box with their problems, and the last good
    calibration (else the base) stays."""
    data, source, label, trial = base
    trials = [trial] if trial is not None else []
    files, market = report_widgets(sb)
    state = st.session_state
    if not files:
        state.pop("good_reports", None)  # back to the base: it is the last good scenario now
        return data, source, label, trials, None
    sizes = hashlib.sha256(json.dumps([[f.name, f.size, f.file_id] for f in files] + [market, data],
                                      sort_keys=True, default=str).encode()).hexdigest()[:16]
    good = state.get("good_reports")
    if good is not None and good["key"] == sizes:
        return good["data"], f"reports:{good['digest']}", good["label"], trials, good["calibration"]
    bad = state.setdefault("bad_reports", {})
    if sizes not in bad:
        try:
            cal = load_reports(files, market, data)
            scenario = scenario_from_dict(cal["scenario"], "the calibrated scenario")
            with st.spinner(f"Simulating {plain(scenario.name)}…"):
                simulate(run_compare, json.dumps(scenario.to_dict()), state.get("reps", DEFAULT_REPLICATIONS),
                         state.get("seed", DEFAULT_SEED))
        except Exception as err:
            bad[sizes] = problems_of(err)
        else:
            digest = hashlib.sha256(cal["yaml"].encode()).hexdigest()[:16]
            n = len(cal["summary"]["reports"])
            new = {"kind": "reports", "key": sizes, "digest": digest, "data": cal["scenario"], "calibration": cal,
                   "label": f"calibrated from {L.plural(n, 'report')}, marketplace {market}: see My reports"}
            return new["data"], f"reports:{digest}", new["label"], [*trials, new], cal
    error_box(f"Cannot calibrate from {L.plural(len(files), 'report')}:", [app_terms(p) for p in bad[sizes]],
              STILL_SHOWING)
    if good is not None:
        return good["data"], f"reports:{good['digest']}", good["label"], trials, good["calibration"]
    return data, source, label, trials, None


def app_terms(text: str) -> str:
    """A calibration message in the page's words: the CLI's --base is the scenario chosen above, --marketplace
    the Marketplace box, a scenario field its label."""
    text = (str(text).replace("pass --base", "choose as the Scenario above").replace("--base", "the Scenario above")
            .replace("pass --marketplace", "choose the Marketplace").replace("--marketplace", "the Marketplace"))
    for path in L.FIELD_LABELS:  # a scenario field in words, not its dotted name
        text = text.replace(path, L.field_text(path))
    return text


def scenario_source(sb, choice: str):
    """The scenario on screen: the chosen file, else an uploaded scenario, else the calibration from uploaded
    reports on them (see :func:`reports_source`)."""
    return reports_source(sb, scenario_upload(sb, choice))


def sidebar(picker) -> tuple[dict | None, int, int, str, str | None, dict | None]:
    """The sidebar's widgets (and the comparison picker, in the container ``picker``); returns the edited
    scenario (None if the settings are not valid), the replications, the seed, a label naming the
    scenario's source, the picked policy (compared with the baseline; None with one policy) and the
    calibration the scenario comes from (None if not from reports)."""
    sb = st.sidebar
    sb.header("Scenario")
    files = _scenario_files()
    choice = sb.selectbox("Scenario", files, index=files.index("default.yaml") if "default.yaml" in files else 0)
    edited, label, trials, picked, calibration = None, choice, [], None, None
    try:
        base, source, label, trials, calibration = scenario_source(sb, choice)
    except Exception as err:  # a shipped file that no longer loads
        error_box(f"Cannot use {plain(choice)}:", problems_of(err), STILL_SHOWING)
    else:
        try:
            edited, picked = settings(sb, base, source, picker)
        except Exception as err:
            if trials:  # the upload simulated but cannot be drawn: refuse it, draw the last good one
                last = trials[-1]
                if last["kind"] == "reports":
                    st.session_state["bad_reports"][last["key"]] = problems_of(err)
                else:
                    st.session_state["bad_uploads"][last["digest"]] = problems_of(err)
                st.rerun()
            error_box("These settings are not valid:", problems_of(err), STILL_SHOWING)
    if edited is not None:
        for trial in trials:
            st.session_state["good_reports" if trial["kind"] == "reports" else "good_upload"] = trial
    sb.header("Simulation")
    reps = int(sb.number_input("Replications", min_value=2, max_value=200, value=DEFAULT_REPLICATIONS, step=1,
                               key="reps",
                               help="paired replications; more = narrower confidence intervals, slower"))
    seed = int(sb.number_input("Seed", min_value=0, value=DEFAULT_SEED, step=1, key="seed"))
    return edited, reps, seed, label, picked, calibration


def comparison_picker(container, policies: list[str], source: str) -> str | None:
    """The policy compared with the baseline (the first): a choice when the scenario has three policies or
    more, else the second policy; None with one policy."""
    if len(policies) < 2:
        return None
    names = V.policy_names(policies)
    others = policies[1:]
    if len(others) == 1:
        container.markdown(f"Comparing **{plain(names[others[0]])}** with **{plain(names[policies[0]])}** "
                           "(the baseline).")
        return others[0]
    return container.radio(
        "Compare with the baseline", others, horizontal=True, key=f"compare@{source}",
        format_func=lambda p: f"{names[p]} − {names[policies[0]]}",
        help=f"each policy against the first, {names[policies[0]]}; the cards, the charts, the advisor and the "
             "sidebar's policy editor follow this choice")


def settings(sb, base: dict, source: str, picker) -> tuple[dict, str | None]:
    """The policy-version boxes, the comparison picker and the scenario's widgets; returns the edited
    scenario's data and the picked policy, or raises ScenarioError (or whatever a widget raised)."""
    base, versions_key = policy_version_boxes(sb, base, source)
    s = scenario_from_dict(base)
    d = s.to_dict()

    def w(path, label, value, kind="number", **kw):
        return _widget(sb, path, label, value, kind, source=source, **kw)

    cur = d["market"]["currency"]
    sb.header("Seller practices")
    sel = d["seller"]
    o = {}
    o["seller.messages.reply_rate"] = w("seller.messages.reply_rate", "Messages answered",
                                              sel["messages"]["reply_rate"], "percent")
    o["seller.support.staff"] = w("seller.support.staff", "Support staff", sel["support"]["staff"],
                                        unit="people")
    o["seller.support.handling_minutes"] = w("seller.support.handling_minutes", "Minutes per message",
                                                   sel["support"]["handling_minutes"], unit="min")
    o["seller.returns.authorise_within_48h"] = w("seller.returns.authorise_within_48h",
                                                       "Returns authorised within 48 h",
                                                       sel["returns"]["authorise_within_48h"], "percent")
    o["seller.returns.refund_delay_days"] = w("seller.returns.refund_delay_days", "Refund delay",
                                                    sel["returns"]["refund_delay_days"], unit="days", step=0.5)
    o["seller.listing_accuracy"] = w("seller.listing_accuracy", "Listing accuracy",
                                           sel["listing_accuracy"], "percent")
    o["seller.packaging_quality"] = w("seller.packaging_quality", "Packaging quality",
                                            sel["packaging_quality"], "percent")
    o["seller.out_of_stock.handling"] = w("seller.out_of_stock.handling", "Out of stock: the seller",
                                                sel["out_of_stock"]["handling"], "choice",
                                                options=["cancel", "ship_late"])
    o["seller.tracking.upload_rate"] = w("seller.tracking.upload_rate", "Tracking uploaded",
                                               sel["tracking"]["upload_rate"], "percent")
    o["seller.tracking.buy_shipping_share"] = w("seller.tracking.buy_shipping_share",
                                                      "Labels bought with Buy Shipping",
                                                      sel["tracking"]["buy_shipping_share"], "percent")
    sb.header("Insurance")
    o["seller.insurance.carry"] = w("seller.insurance.carry", "Liability insurance",
                                          sel["insurance"]["carry"], "choice",
                                          options=["always", "when_required", "never"])
    o["seller.insurance.pricing"] = w("seller.insurance.pricing", "Premium pricing", sel["insurance"]["pricing"],
                                      "choice", options=["risk", "fixed"])
    o["seller.insurance.loading"] = w("seller.insurance.loading", "Insurer's loading on expected losses",
                                      sel["insurance"]["loading"], unit="share", step=0.05)
    o["seller.insurance.premium_per_year"] = w("seller.insurance.premium_per_year", "Premium (fixed pricing)",
                                                     sel["insurance"]["premium_per_year"], unit=f"{cur}/yr", step=100.0)
    o["seller.insurance.certificate_on_file"] = w("seller.insurance.certificate_on_file",
                                                  "Certificate of insurance on file with Amazon",
                                                  sel["insurance"]["certificate_on_file"], "choice",
                                                  options=[False, True])
    o["seller.insurance.proof_delay_days"] = w("seller.insurance.proof_delay_days",
                                               "Days to send proof of cover to Amazon",
                                               sel["insurance"]["proof_delay_days"], unit="days, mean")
    o["seller.insurance.deductible"] = w("seller.insurance.deductible", "Deductible",
                                               sel["insurance"]["deductible"], unit=d["market"]["currency"], step=100.0)
    sb.header("Market")
    o["market.orders_per_day"] = w("market.orders_per_day", "Orders per day",
                                         d["market"]["orders_per_day"], unit="orders", step=5.0)
    o["market.price.median"] = w("market.price.median", "Median price", d["market"]["price"]["median"],
                                       unit=d["market"]["currency"], step=5.0)
    pols = list(d["policies"])
    picked = comparison_picker(picker, pols, source)
    psource = f"{source}|{versions_key}"  # a new policy version resets these widgets to its values
    # the editor shows the picked policy; edits made to another policy while it was picked stay applied
    kept = st.session_state.setdefault(f"policy_edits@{psource}", {})
    o.update({k: v for k, v in kept.items() if not k.startswith(f"policies.{picked}.")})
    if picked is not None:
        newest = picked
        p = {k: kept.get(f"policies.{newest}.{k}", v) for k, v in d["policies"][newest].items()}
        sb.header(f"Policy '{plain(newest)}': {plain(L.policy_label(newest))}")
        o[f"policies.{newest}.amazon_pays_threshold"] = _widget(
            sb, f"policies.{newest}.amazon_pays_threshold", "Amazon pays claims up to", p["amazon_pays_threshold"],
            unit=d["market"]["currency"], step=100.0, source=psource)
        o[f"policies.{newest}.insurance_proof_days"] = _widget(
            sb, f"policies.{newest}.insurance_proof_days", "Days to prove insurance", p["insurance_proof_days"],
            unit="days", source=psource)
        o[f"policies.{newest}.seller_response_days"] = _widget(
            sb, f"policies.{newest}.seller_response_days", "Seller's days to answer a large claim",
            p["seller_response_days"], unit="days", source=psource)
        o[f"policies.{newest}.message_reply_hours"] = _widget(
            sb, f"policies.{newest}.message_reply_hours", "Hours to answer a buyer message",
            p["message_reply_hours"], unit="h", step=12.0, source=psource)
        for k in list(o):
            if k.startswith(f"policies.{newest}."):
                field = k.removeprefix(f"policies.{newest}.")
                if o[k] != d["policies"][newest][field]:
                    kept[k] = o[k]
                else:
                    kept.pop(k, None)
    return s.with_overrides(o).to_dict(), picked


# ---- the page ---------------------------------------------------------------------------------
AXIS = {"labelLimit": 0, "titleLimit": 0}  # no label is cut short


def md_table(df: pd.DataFrame, left=()) -> str:
    """A table of text cells as Markdown (wraps, never cuts a cell short); every cell shown as plain text. The
    first column and those named in ``left`` are aligned left, the others right."""
    head = [plain(c) for c in df.columns]
    align = [":---" if i == 0 or c in left else "---:" for i, c in enumerate(df.columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(plain(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def colour(policies: list[str], title: str | None = "Policy") -> alt.Color:
    """One fixed colour per policy name (azsim.labels.policy_colours), the same in every scenario."""
    domain, colours = V.policy_scale(policies)
    return alt.Color("policy_label:N", title=title, scale=alt.Scale(domain=domain, range=colours),
                     legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=0, titleLimit=0)
                     if title else None)


def _delta_colour(card) -> str:
    """Green for a cost that falls, red for one that rises, grey for none."""
    return "inverse" if re.search(r"[1-9]", card.change) else "off"


def show_headline(result, pair: list[str]) -> None:
    """The four parties' cards: the yearly cost under each policy of the pair and the change with its CI."""
    if len(pair) < 2:
        st.info("This scenario has one policy: nothing to compare.")
        return
    h = V.headline(result, pair)
    st.caption(V.precision_note(h, pair[1]))
    for col, c in zip(st.columns(4), V.cards(h, pair[1]), strict=True):
        with col.container(border=True):
            st.markdown(f"**{c.title}** a year", help=c.description)
            st.metric(c.policy, c.policy_level, delta=f"{c.change} ({c.pct})", delta_color=_delta_colour(c),
                      help=f"{c.title} a year under {c.policy}, and the paired change from {c.baseline}: {c.phrase}")
            st.caption(f"{c.baseline}: {c.baseline_level}  \nChange from {c.baseline}: {c.change}, {c.ci}")


def charts(result, pair: list[str]) -> None:
    cur = result.scenario.market.currency
    per_year = f"{cur} per year"
    c1, c2 = st.columns(2)
    with c1:
        st.subheader("Seller cost by category")
        df = V.cost_by_category(result, "seller", pair)
        order = (df[df["policy"] == pair[-1]].sort_values("cost", ascending=False)["category_label"].tolist()
                 + sorted(set(df["category_label"]) - set(df[df["policy"] == pair[-1]]["category_label"])))
        st.altair_chart(alt.Chart(df).mark_bar().encode(
            x=alt.X("cost:Q", title=f"Seller cost ({per_year})", axis=alt.Axis(format=",.0f", **AXIS)),
            y=alt.Y("category_label:N", title=None, sort=order, axis=alt.Axis(**AXIS)),
            color=colour(pair), yOffset=alt.YOffset("policy_label:N", sort=V.policy_scale(pair)[0]),
            tooltip=[alt.Tooltip("policy_label:N", title="Policy"), alt.Tooltip("category_label:N", title="Category"),
                     alt.Tooltip("cost:Q", title=per_year, format=",.0f")]
        ).properties(height=max(200, 28 * len(order))), width="stretch")
        st.caption("Negative: money the seller gets back (goods recovered from returns, fees credited back).")
    with c2:
        st.subheader("Who pays")
        df = V.who_pays(result, pair)
        base = alt.Chart(df).encode(
            y=alt.Y("party:N", title=None, sort=list(V.PARTY_LABELS.values()), axis=alt.Axis(**AXIS)),
            yOffset=alt.YOffset("policy_label:N", sort=V.policy_scale(pair)[0]), color=colour(pair))
        bars = base.mark_bar().encode(
            x=alt.X("cost:Q", title=f"Yearly net cost ({per_year}), with 95% CI", axis=alt.Axis(format=",.0f", **AXIS)),
            tooltip=[alt.Tooltip("policy_label:N", title="Policy"), alt.Tooltip("party:N", title="Party"),
                     alt.Tooltip("cost:Q", title=per_year, format=",.0f"),
                     alt.Tooltip("ci_low:Q", title="95% CI from", format=",.0f"),
                     alt.Tooltip("ci_high:Q", title="95% CI to", format=",.0f")])
        errors = base.mark_rule(color="black").encode(x="ci_low:Q", x2="ci_high:Q")
        st.altair_chart(alt.layer(bars, errors).properties(height=260), width="stretch")
        st.caption("Insurer: claims it pays less the premium it earns (below zero: its profit). Buyers: harm "
                   "nobody compensated.")
    c3, c4 = st.columns(2)
    with c3:
        st.subheader("Claims funnel")
        df = V.claims_funnel(result, pair)
        stages = df.sort_values("order", kind="stable")["stage_label"].drop_duplicates().tolist()
        base = alt.Chart(df).encode(
            y=alt.Y("stage_label:N", sort=stages, title=None, axis=alt.Axis(**AXIS)),
            yOffset=alt.YOffset("policy_label:N", sort=V.policy_scale(pair)[0]), color=colour(pair),
            x=alt.X("count:Q", title="Per year (mean over replications)", scale=alt.Scale(type="linear"),
                    axis=alt.Axis(format=",.0f", **AXIS)),
            tooltip=[alt.Tooltip("policy_label:N", title="Policy"), alt.Tooltip("stage_label:N", title="Stage"),
                     alt.Tooltip("count:Q", title="Per year", format=",.1f")])
        text = base.mark_text(align="left", dx=3, fontSize=11, color="#333333").encode(
            text=alt.Text("count:Q", format=",.1f"))
        st.altair_chart(alt.layer(base.mark_bar(), text).properties(height=340), width="stretch")
        st.caption("Incidents (orders with something wrong), the buyer messages and claims they lead to, and how "
                   "the claims end.")
    with c4:
        odr_chart(result, pair)
    st.subheader("Paired change in seller cost, replication by replication")
    df = V.delta_distribution(result, policies=pair[1:])
    if not df.empty:
        h = V.headline(result, pair)
        c = h.row("seller_cost.total").changes[pair[1]]
        names = V.policy_names(pair)
        what = f"{names[pair[1]]} − {names[pair[0]]}"
        stats = pd.DataFrame([{"mean": c.mean, "ci_low": c.low, "ci_high": c.high, "zero": 0.0}])
        x = alt.X("change:Q", title=f"Change in seller cost, {what} ({per_year})", axis=alt.Axis(format=",.0f", **AXIS))
        band = alt.Chart(stats).mark_rect(opacity=0.25, color="#999999").encode(x="ci_low:Q", x2="ci_high:Q")
        mean = alt.Chart(stats).mark_rule(color="black", strokeWidth=2).encode(
            x="mean:Q", tooltip=[alt.Tooltip("mean:Q", title="Mean change", format=",.0f"),
                                 alt.Tooltip("ci_low:Q", title="95% CI from", format=",.0f"),
                                 alt.Tooltip("ci_high:Q", title="95% CI to", format=",.0f")])
        zero = alt.Chart(stats).mark_rule(color="#666666", strokeDash=[2, 2]).encode(x="zero:Q")
        dots = alt.Chart(df).mark_circle(size=90, opacity=0.8).encode(
            x=x, y=alt.Y("policy_label:N", title=None, axis=alt.Axis(**AXIS)), color=colour(pair[1:], None),
            tooltip=[alt.Tooltip("replication:Q", title="Replication"),
                     alt.Tooltip("change:Q", title=per_year, format=",.0f")])
        st.altair_chart(alt.layer(band, zero, mean, dots).properties(height=90), width="stretch")
        st.caption(f"Each dot: one replication's paired change ({what}, same orders and luck under both). Black "
                   f"line: the mean, {c.phrase(L.MONEY, cur)}; grey band: its 95% CI; dotted: no change.")


def odr_chart(result, pair: list[str]) -> None:
    """The ODR over time on one y axis (%), with the scenario's own limit on that axis and the stretches with
    the whole account suspended shaded."""
    st.subheader("Order defect rate over time")
    df = V.odr_over_time(result, pair).dropna(subset=["odr_pct"])
    limit = V.odr_limit_pct(result)
    spans = V.suspension_spans(result, pair)
    horizon = float(result.scenario.horizon_days)
    top = max([limit, *df["odr_pct"].tolist()]) * 1.15
    x = alt.X("day:Q", title="Day of the simulation", scale=alt.Scale(domain=[0, horizon], nice=False),
              axis=alt.Axis(**AXIS))
    y = alt.Y("odr_pct:Q", title="Order defect rate (%)", scale=alt.Scale(domain=[0, top], nice=False),
              axis=alt.Axis(**AXIS))
    line = alt.Chart(df).mark_line().encode(
        x=x, y=y, color=colour(pair), strokeDash=alt.StrokeDash("policy_label:N", legend=None),
        tooltip=[alt.Tooltip("policy_label:N", title="Policy"), alt.Tooltip("day:Q", title="Day"),
                 alt.Tooltip("odr_pct:Q", title="ODR (%)", format=".2f")])
    rule = alt.Chart(pd.DataFrame({"odr_pct": [limit], "what": [f"Limit {limit:g}%"]})).mark_rule(
        color="#D55E00", strokeDash=[6, 3], strokeWidth=2).encode(
        y="odr_pct:Q", tooltip=[alt.Tooltip("what:N", title="ODR limit")])
    layers = [line, rule]
    if not spans.empty:
        layers.insert(0, alt.Chart(spans).mark_rect(color="#999999").encode(
            x="start:Q", x2="end:Q", opacity=alt.Opacity("share:Q", scale=alt.Scale(domain=[0, 1], range=[0.1, 0.6]),
                                                          legend=None),
            tooltip=[alt.Tooltip("policy_label:N", title="Policy"), alt.Tooltip("start:Q", title="From day"),
                     alt.Tooltip("end:Q", title="To day"),
                     alt.Tooltip("share:Q", title="Replications suspended", format=".0%")]))
    st.altair_chart(alt.layer(*layers).properties(height=340), width="stretch")
    shaded = ("Grey: days with the whole account suspended, darker where more replications were."
              if not spans.empty else "No replication had the account suspended.")
    st.caption(f"Mean over replications, at each weekly review. Dashed red line: this scenario's ODR limit, "
               f"{limit:g}%; at or over it Amazon may deactivate the account. {shaded}")


def advisor_section(scenario_json: str, reps: int, seed: int, pair: list[str], currency: str) -> None:
    st.subheader("What should this seller fix first?")
    if not st.toggle(f"Run the practice advisor (up to {ADVISOR_COMPARISONS} comparisons)", key="advisor_on"):
        st.caption("Each practice is moved to a good level and compared with this scenario on the same seeds.")
        return
    bar = st.progress(0.0, text="Comparing each practice at a good level…")

    def progress(done: int, total: int) -> None:
        bar.progress(min(1.0, done / max(total, 1)), text=f"Compared {done} of up to {total} scenarios…")

    try:
        advice = simulate(run_advice, scenario_json, reps, seed, progress=progress)
    except Exception as err:
        bar.empty()
        error_box("The advisor could not run:", problems_of(err))
        return
    bar.empty()
    pols = [p for p in pair if p in advice.policies] or advice.policies
    st.markdown(md_table(V.advisor_table(advice, pols, currency)))
    st.caption(f"{currency} per year, mean over {L.plural(advice.replications, 'paired replication')} with its 95% "
               "CI. Gross saving: before the practice's own cost; practice cost: the change in support wages, "
               "packaging, listing and tracking work and Buy Shipping labels; net saving = gross saving − practice "
               "cost. Policy effect: the net saving under the policy minus under the baseline, paired by "
               "replication. Ranked by the net saving under the last policy of the scenario.")
    df = V.advisor_savings(advice, pols)
    order = df.drop_duplicates("practice")["practice_label"].tolist()
    base = alt.Chart(df).encode(
        y=alt.Y("practice_label:N", sort=order, title=None, axis=alt.Axis(**AXIS)),
        yOffset=alt.YOffset("policy_label:N", sort=V.policy_scale(pols)[0]), color=colour(pols))
    bars = base.mark_bar().encode(
        x=alt.X("saving:Q", title=f"Net saving ({currency} per year), with 95% CI",
                axis=alt.Axis(format=",.0f", **AXIS)),
        tooltip=[alt.Tooltip("practice_label:N", title="Practice"), alt.Tooltip("policy_label:N", title="Policy"),
                 alt.Tooltip("saving:Q", title="Net saving", format=",.0f"),
                 alt.Tooltip("ci_low:Q", title="95% CI from", format=",.0f"),
                 alt.Tooltip("ci_high:Q", title="95% CI to", format=",.0f")])
    errors = base.mark_rule(color="black").encode(x="ci_low:Q", x2="ci_high:Q")
    st.altair_chart(alt.layer(bars, errors).properties(height=60 * len(order)), width="stretch")


def downloads(scenario: dict, result) -> None:
    st.subheader("Downloads")
    c1, c2, c3, c4 = st.columns(4)
    c1.download_button("Scenario (YAML)", yaml.safe_dump(scenario, sort_keys=False), "scenario.yaml",
                       "application/x-yaml")
    c2.download_button("Results (CSV)", result.runs.to_csv(index=False), "results.csv", "text/csv")
    c3.download_button("Results (JSON)", result.to_json(), "results.json", "application/json")
    c4.download_button("Report (Markdown)", V.markdown_summary(result, "scenario.yaml"), "report.md", "text/markdown")


SELLER_SUMMARY = """\
**What changed on 1 September 2021.** Before, a buyer hurt or whose property was damaged by a product
(a PD/PI claim) had to pursue the seller, and often a lawsuit decided. Since then Amazon takes these
claims itself: it screens them for fraud, pays claims up to $1,000 first and asks the seller to
reimburse unless the seller proves liability insurance within 7 days, and pays and pursues the seller
when a larger claim is ignored or refused. Sellers with more than $10,000 of sales a month must
carry that insurance.

**What this simulator does.** It runs one seller's year of orders, buyer messages, returns, A-to-z
claims, chargebacks and PD/PI claims through the old and the new rules, on the *same* orders and the
same luck (paired replications), and books every payment: the seller's, Amazon's, the insurer's and
what buyers lose. Your settings in the sidebar (how fast you answer, how you pack, whether you are
insured...) change the seller it simulates.

**How to read the cards.** Each card shows a party's cost a year under the rules you compare (the big
number), what it was under the baseline, and the change with its 95% confidence interval: the range
the true change lies in, given the randomness of a year. A change whose interval spans zero is not
distinguishable from no change at these replications; more replications (sidebar) narrow it.
"""


def about() -> None:
    st.subheader("About this simulator, for sellers")
    st.markdown(SELLER_SUMMARY)
    with st.expander("The full model: the old and new flows, every step's parameter and assumption (docs/model.md)"):
        doc = (ROOT / "docs" / "model.md")
        st.markdown(doc.read_text(encoding="utf-8") if doc.exists() else "docs/model.md is missing.")
    with st.expander("Policy versions and their sources"):
        for v in policy_versions():
            st.markdown(f"**{plain(L.policy_label(v['name']))}** ({v['name']}; {v['marketplace']}, {v['currency']}, "
                        f"effective {v['effective'] or 'not dated'}): {v['description']}\n\n"
                        + "\n".join(f"- {src}" for src in v["sources"]))


def calibration_table(cal: dict) -> pd.DataFrame:
    """One row per scenario field the reports set: its label, the base's value, the calibrated one, the 95% CI,
    n, and the report and dates it comes from (formats from azsim.labels)."""
    cur = cal["currency"]
    rows = []
    for f in cal["summary"]["fields"]:
        path = f["path"]
        rows.append({"Field": L.field_text(path), "Before (base)": L.field_value(path, f["old"], cur),
                     "Calibrated": L.field_value(path, f["value"], cur),
                     "95% CI": f"{L.field_value(path, f['low'], cur)} to {L.field_value(path, f['high'], cur)}",
                     "n": f"{f['n']:,}", "From (report, dates)": f"{f['source']}, {f['window']}"})
    return pd.DataFrame(rows, columns=["Field", "Before (base)", "Calibrated", "95% CI", "n", "From (report, dates)"])


def _g(x) -> str:
    return "n/a" if x is None else f"{x:.4g}"


def my_reports(cal: dict | None) -> None:
    """The tab "My reports": what the calibration on screen estimated, its warnings, what it kept from the base
    and what no report gives, and the calibrated scenario's YAML; how to calibrate when none is on screen."""
    st.subheader("Calibrated from your own reports")
    if cal is None:
        st.markdown("Instead of guessing your rates, upload your Seller Central reports in the sidebar (**…or "
                    "calibrate from my Seller Central reports**): all orders, returns, FBA customer returns, seller "
                    "feedback, account health, sales and traffic, financial events. azsim estimates your order rate, "
                    "prices, FBA share, tracking, cancellations, returns, A-to-z claims and feedback from them, each "
                    "with its 95% confidence interval, and compares the policies for *your* shop.")
        st.caption("No reports at hand? `azsim synth-reports scenarios/default.yaml --out my-reports` writes the "
                   "reports of a simulated seller to try it with.")
        return
    summary = cal["summary"]
    st.markdown(f"Base scenario **{plain(summary['base'])}**, marketplace **{plain(summary['marketplace'])}**, "
                f"{L.plural(len(summary['reports']), 'report')} read:")
    st.markdown(md_table(pd.DataFrame(
        [{"File": r["file"], "Report": r["title"], "Rows": f"{r['rows']:,}", "Dates": r["window"],
          "Rows dropped": f"{r['dropped_rows']:,}"} for r in summary["reports"]]), left=("Report", "Dates")))
    st.markdown("**Scenario fields estimated from your reports**")
    st.markdown(md_table(calibration_table(cal), left=("From (report, dates)",)))
    st.caption("Before: the base scenario's value; calibrated: the value now simulated (every card and chart on "
               "\"This seller\" uses it), with its 95% confidence interval and the number of orders, shipments or "
               "units it rests on. The results' own intervals do not include this uncertainty: to see how much a "
               "field matters, set it to the ends of its interval in the sidebar.")
    if summary["warnings"]:
        st.warning("**Warnings**\n\n" + "\n".join(f"- {plain(app_terms(w))}" for w in summary["warnings"]))
    calibrated = scenario_from_dict(cal["scenario"])
    if summary["kept_from_base"]:
        kept = []
        for path in summary["kept_from_base"]:
            node = calibrated  # a kept field: the base's value
            for part in path.split("."):
                node = getattr(node, part)
            kept.append(f"{L.field_text(path)}: {L.field_value(path, node, cal['currency'])}")
        st.markdown("**Kept from the base scenario** (your reports did not measure them):\n\n"
                    + "\n".join(f"- {plain(k)}" for k in kept))
    st.markdown("**What no report gives** (always the base scenario's):\n\n"
                + "\n".join(f"- {plain(v[:1].upper() + v[1:])}" for v in NOT_FROM_REPORTS.values()))
    measured = summary["measured"]
    if measured:
        with st.expander(f"Also measured, shown only ({len(measured)}: ODR, late shipments, return reasons, "
                         "reply times…)"):
            rows = [{"Measured": m["label"][:1].upper() + m["label"][1:], "Value": _g(m["value"]),
                     "95% CI": f"{_g(m['low'])} to {_g(m['high'])}", "n": f"{m['n']:,}", "From": m["source"]}
                    for m in measured]
            st.markdown(md_table(pd.DataFrame(rows), left=("From",)))
    st.download_button("Calibrated scenario (YAML)", cal["yaml"], "calibrated.yaml", "application/x-yaml",
                       key="calibrated_yaml")
    st.caption("Each estimated field carries its source and CI as a comment: `azsim compare calibrated.yaml` runs "
               "it, and `azsim report calibrated.yaml` adds a Calibration section to the report.")


def _pair_of(result, picked: str | None) -> list[str]:
    """The baseline and the policy compared with it (the picked one when the scenario has it)."""
    pols = result.policies
    if len(pols) < 2:
        return list(pols)
    return [pols[0], picked if picked in pols[1:] else pols[1]]


def compare_two(reps: int, seed: int, picked: str | None) -> None:
    st.subheader("Compare two scenarios side by side")
    if not st.toggle("Simulate two scenarios", key="compare_two_on"):
        st.caption("Pick two scenario files (e.g. a diligent and a negligent seller) and see their headlines "
                   "side by side, and how far apart they are.")
        return
    files = _scenario_files()
    a, b = st.columns(2)
    left = a.selectbox("Left scenario", files, index=files.index("diligent.yaml") if "diligent.yaml" in files else 0)
    right = b.selectbox("Right scenario", files,
                        index=files.index("negligent.yaml") if "negligent.yaml" in files else 0)
    results = {}
    for col, name in ((a, left), (b, right)):
        try:
            s = scenario_from_dict(_load_file(name), name)
            with st.spinner(f"Simulating {name}…"):
                res = simulate(run_compare, json.dumps(s.to_dict()), reps, seed)
        except Exception as err:
            with col:
                error_box(f"Cannot simulate {plain(name)}:", problems_of(err))
            continue
        results[name] = res
        pair = _pair_of(res, picked)
        with col:
            st.markdown(f"**{plain(res.scenario.name)}**"
                        f"{': ' + plain(res.scenario.description) if res.scenario.description else ''}")
            if len(pair) < 2:
                st.info("This scenario has one policy: nothing to compare.")
                continue
            h = V.headline(res, pair)
            cells = V.cards(h, pair[1])
            for row in (cells[:2], cells[2:]):
                for c_col, c in zip(st.columns(2), row, strict=True):
                    with c_col.container(border=True):
                        st.metric(c.title, c.policy_level, delta=c.change, delta_color=_delta_colour(c),
                                  help=f"{c.title} a year under {c.policy}")
                        st.caption(f"A year under {c.policy}. {c.baseline}: {c.baseline_level}  \n"
                                   f"Change: {c.change}, {c.ci}")
    if len(results) == 2 and left != right:
        lres, rres = results[left], results[right]
        lpair, rpair = _pair_of(lres, picked), _pair_of(rres, picked)
        if len(lpair) == 2 and len(rpair) == 2:
            cur = rres.scenario.market.currency
            diff = V.scenario_differences(lres, rres, lpair[1], rpair[1])
            st.markdown(f"**How far apart: the change under {plain(right)} minus the change under {plain(left)}**")
            bars = alt.Chart(diff).encode(y=alt.Y("party:N", title=None, sort=list(V.PARTY_LABELS.values()),
                                                   axis=alt.Axis(**AXIS)))
            st.altair_chart(alt.layer(
                bars.mark_bar(color="#56B4E9").encode(
                    x=alt.X("difference:Q", title=f"Right − left: difference in the yearly change ({cur} per year), "
                            "with 95% CI", axis=alt.Axis(format=",.0f", **AXIS)),
                    tooltip=[alt.Tooltip("party:N", title="Party"),
                             alt.Tooltip("difference:Q", title="Right − left", format=",.0f"),
                             alt.Tooltip("ci_low:Q", title="95% CI from", format=",.0f"),
                             alt.Tooltip("ci_high:Q", title="95% CI to", format=",.0f")]),
                bars.mark_rule(color="black").encode(x="ci_low:Q", x2="ci_high:Q"),
            ).properties(height=200), width="stretch")
            table = pd.DataFrame({
                "Party": diff["party"],  # right - left
                f"Change, {left}": [L.money(v, cur, True) for v in diff["left"]],
                f"Change, {right}": [L.money(v, cur, True) for v in diff["right"]],
                "Right − left": [L.change_phrase(m, lo, hi, L.MONEY, cur) for m, lo, hi
                                 in zip(diff["difference"], diff["ci_low"], diff["ci_high"], strict=True)],
            })
            st.markdown(md_table(table))
            st.caption("Both scenarios run on the same seeds, so replication i of one is paired with replication i "
                       "of the other; the CI is of the paired difference.")


def main() -> None:
    st.title("What does the new A-to-z policy cost this seller?")
    st.caption("azsim: Amazon's A-to-z Guarantee before and after 1 Sep 2021, simulated on paired replications. "
               "Change the seller in the sidebar; every figure is per year with a 95% confidence interval.")
    head = st.container()  # the line naming the scenario on screen
    picker = st.container()  # the comparison picker, filled while the sidebar reads the scenario
    scenario, reps, seed, label, picked, calibration = sidebar(picker)
    result = None
    if scenario is not None:
        key = json.dumps(scenario)  # keeps the policy order: the first policy is the baseline
        try:
            with st.spinner(f"Simulating {reps} paired replications…"):
                result = simulate(run_compare, key, reps, seed)
        except Exception as err:
            error_box("These settings could not be simulated:", problems_of(err), STILL_SHOWING)
        else:
            st.session_state["last_run"] = (key, reps, seed, label, picked, calibration)
    if result is None:  # the last scenario that ran, from the cache
        last = st.session_state.get("last_run")
        if last is None:
            return
        key, reps, seed, label, picked, calibration = last
        try:
            result = simulate(run_compare, key, reps, seed)
        except Exception as err:
            error_box("Cannot show the last good scenario either:", problems_of(err))
            return
        scenario = json.loads(key)
    s = result.scenario
    about_it = ": " + plain(s.description) if s.description else ""
    head.markdown(f"Scenario **{plain(s.name)}** ({plain(label)}){about_it}")
    pair = _pair_of(result, picked)
    tab1, tab_reports, tab2, tab3 = st.tabs(["This seller", "My reports", "Two scenarios", "About"])
    with tab1:
        try:
            show_headline(result, pair)
            if len(pair) > 1:
                charts(result, pair)
                advisor_section(key, reps, seed, pair, s.market.currency)
            downloads(scenario, result)
        except Exception as err:
            error_box("Cannot draw these results:", problems_of(err))
    with tab_reports:
        try:
            my_reports(calibration)
        except Exception as err:
            error_box("Cannot show the calibration:", problems_of(err))
    with tab2:
        compare_two(reps, seed, picked)
    with tab3:
        about()


main()
