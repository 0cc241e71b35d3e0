"""azsim what-if explorer (Streamlit). Thin: widgets -> azsim API -> charts.

Run with `make app` (from the repository root, so that Streamlit reads `.streamlit/config.toml`:
127.0.0.1 only, no tracebacks in the browser, uploads up to 1 MB). Every number shown comes from
azsim (`compare`, `advise`, `azsim.views`); this page only arranges widgets and charts.

Nothing a user sends raises a page exception: an upload is read and validated by azsim.scenario
(the code behind the CLI), and any failure of an upload, a widget setting or a simulation is shown
as an error box while the last scenario that ran stays on screen with its results.
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

from azsim import ScenarioError, __version__, compare, scenario_from_dict
from azsim.advisor import PRACTICE_LABELS, PRACTICES, advise
from azsim.executors import LocalExecutor
from azsim.outputs import md_escape
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
from azsim.views import (
    PALETTE,
    claims_funnel,
    cost_by_category,
    delta_distribution,
    headline,
    odr_over_time,
    who_pays,
)

ROOT = Path(__file__).resolve().parent
SCENARIOS = ROOT / "scenarios"
DEFAULT_REPLICATIONS = 8
DEFAULT_SEED = 20210901
UPLOAD_LIMIT_MB = max(1, math.ceil(MAX_FILE_BYTES / 2**20))  # what the uploader states (and server.maxUploadSize)
STILL_SHOWING = "Still showing the last good scenario."
# The page refuses at once what it could not answer in a few minutes on two cores or would run the machine
# out of memory: azsim.scenario's estimate and check_budget, as the CLI, with the CLI's memory limit and a
# work limit for a page (the CLI's, 1e10 orders, is hours of simulation).
MAX_MEMORY_MB = DEFAULT_MAX_MEMORY_MB
MAX_ORDERS = 100_000_000  # orders x policies x replications: about 5 min on 2 cores
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


def within_budget(scenario_json: str, replications: int, what: str = "this comparison") -> None:
    """Raise ScenarioError if simulating ``replications`` paired replications of the scenario would
    exceed the page's memory or work limit (nothing is simulated)."""
    scenario = scenario_from_dict(json.loads(scenario_json))
    try:
        check_budget(estimate(scenario, replications, workers=_pool().workers), MAX_MEMORY_MB, MAX_ORDERS, what)
    except ScenarioError as err:
        raise ScenarioError([re.sub(r"; --max-\w+ \w+ to raise it\)", ")", p) for p in err.problems]
                            + ["lower the orders per day or the replications (the command line, azsim compare, "
                               "can run larger comparisons)"]) from None


def simulate(fn, scenario_json: str, replications: int, seed: int):
    """Call a cached simulation (``run_compare`` or ``run_advice``) once it is within the page's budget."""
    advice = fn is run_advice
    within_budget(scenario_json, replications * (ADVISOR_COMPARISONS if advice else 1),
                  "the advisor" if advice else "this comparison")
    return fn(scenario_json, replications, seed)


@st.cache_data(show_spinner=False, max_entries=8)
def run_advice(scenario_json: str, replications: int, seed: int):
    scenario = scenario_from_dict(json.loads(scenario_json))
    return advise(scenario, replications=replications, seed=seed,
                  run=lambda s, replications, seed: compare(s, replications=replications, seed=seed,
                                                            executor=_pool()))


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
        return container.selectbox(label, options, index=options.index(value), help=help_text, key=key)
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
        pick = sb.selectbox(f"Policy '{plain(name)}'", options, index=options.index(now),
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


def load_upload(name: str, raw: bytes) -> dict:
    """An uploaded scenario's data, read and validated as the CLI reads a scenario file: the size
    limit, UTF-8, then azsim.scenario's YAML parser (with its limits) and schema. Raises ScenarioError."""
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError([f"file too large ({len(raw)} bytes; limit {MAX_FILE_BYTES})"], name)
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


def scenario_source(sb, choice: str) -> tuple[dict, str, str, dict | None]:
    """The scenario data to start from, the key of its widgets, a label for the page, and the upload
    tried in this run (None if none is new).

    An upload is used only once it has loaded, validated and simulated; otherwise an error box names
    the problem and the last good scenario stays (the last good upload, else the chosen file), with
    its widget settings.
    """
    upload = sb.file_uploader(f"…or upload a scenario (YAML, up to {UPLOAD_LIMIT_MB} MB)", type=["yaml", "yml"],
                              max_upload_size=UPLOAD_LIMIT_MB)
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
                trial = {"name": upload.name, "digest": digest, "data": data}
                return data, f"upload:{digest}", f"uploaded {upload.name}", trial
        error_box(f"Cannot use {plain(upload.name)}:", bad[digest], STILL_SHOWING)
        if good is not None:
            return good["data"], f"upload:{good['digest']}", f"uploaded {good['name']}", None
    return _load_file(choice), choice, choice, None


def sidebar() -> tuple[dict | None, int, int, str]:
    """The sidebar's widgets; returns the edited scenario (None if the settings are not valid), the
    replications, the seed and a label naming the scenario's source."""
    sb = st.sidebar
    sb.header("Scenario")
    files = _scenario_files()
    choice = sb.selectbox("Scenario", files, index=files.index("default.yaml") if "default.yaml" in files else 0)
    edited, label, trial = None, choice, None
    try:
        base, source, label, trial = scenario_source(sb, choice)
    except Exception as err:  # a shipped file that no longer loads
        error_box(f"Cannot use {plain(choice)}:", problems_of(err), STILL_SHOWING)
    else:
        try:
            edited = settings(sb, base, source)
        except Exception as err:
            if trial is not None:  # the upload simulated but cannot be drawn: refuse it, draw the last good one
                st.session_state["bad_uploads"][trial["digest"]] = problems_of(err)
                st.rerun()
            error_box("These settings are not valid:", problems_of(err), STILL_SHOWING)
    if trial is not None and edited is not None:
        st.session_state["good_upload"] = trial
    sb.header("Simulation")
    reps = int(sb.number_input("Replications", min_value=2, max_value=200, value=DEFAULT_REPLICATIONS, step=1,
                               key="reps",
                               help="paired replications; more = narrower confidence intervals, slower"))
    seed = int(sb.number_input("Seed", min_value=0, value=DEFAULT_SEED, step=1, key="seed"))
    return edited, reps, seed, label


def settings(sb, base: dict, source: str) -> dict:
    """The policy-version boxes and the scenario's widgets; returns the edited scenario's data or
    raises ScenarioError (or whatever a widget raised)."""
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
    if len(pols) > 1:
        newest = pols[-1]
        p = d["policies"][newest]
        psource = f"{source}|{versions_key}"  # a new policy version resets these widgets to its values
        sb.header(f"Policy '{plain(newest)}'")
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
    return s.with_overrides(o).to_dict()


# ---- the page ---------------------------------------------------------------------------------
def money(x, currency: str = "USD") -> str:
    if x is None or pd.isna(x):
        return "n/a"
    sign, unit = ("-" if x < 0 else ""), ("$" if currency == "USD" else f"{currency} ")
    return f"{sign}{unit}{abs(x):,.0f}"


def show_headline(result) -> pd.DataFrame:
    pols = result.policies
    table = headline(result)
    if len(pols) < 2:
        st.info("This scenario has one policy: nothing to compare.")
        return table
    new, old = pols[1], pols[0]
    cur = result.scenario.market.currency

    def money_(x) -> str:
        return money(x, cur)

    cols = st.columns(4)
    for col, (_, row) in zip(cols, table.iterrows(), strict=True):
        label = "Seller cost per year, new − old" if row["party"] == "Seller" else f"{row['party']}, new − old"
        ci = f"95% CI {money_(row[f'{new} ci low'])} to {money_(row[f'{new} ci high'])}"
        pct = row[f"{new} change %"]
        col.metric(label, money_(row[f"{new} change"]),
                   delta=None if pct is None or pd.isna(pct) else f"{pct:+.1f}%", delta_color="inverse",
                   help=f"{old}: {money_(row[old])}/yr, {new}: {money_(row[new])}/yr; {ci} (paired replications)")
        col.caption(f"{old} {money_(row[old])} → {new} {money_(row[new])}; {ci}")
    return table


def charts(result) -> None:
    colours = alt.Scale(range=PALETTE)
    c1, c2 = st.columns(2)
    with c1:
        st.subheader(f"Seller cost by category ({result.scenario.market.currency}/yr)")
        df = cost_by_category(result, "seller")
        st.altair_chart(alt.Chart(df).mark_bar().encode(
            x=alt.X("cost:Q", title=f"{result.scenario.market.currency} per year"), y=alt.Y("category:N", title=None),
            color=alt.Color("policy:N", scale=colours), yOffset="policy:N",
            tooltip=["policy", "category", alt.Tooltip("cost:Q", format=",.0f")]), width="stretch")
    with c2:
        st.subheader(f"Who pays ({result.scenario.market.currency}/yr)")
        df = who_pays(result)
        st.altair_chart(alt.Chart(df).mark_bar().encode(
            x=alt.X("party:N", title=None), y=alt.Y("cost:Q", title=f"{result.scenario.market.currency} per year"),
            color=alt.Color("policy:N", scale=colours), xOffset="policy:N",
            tooltip=["policy", "party", alt.Tooltip("cost:Q", format=",.0f")]), width="stretch")
    c3, c4 = st.columns(2)
    with c3:
        st.subheader("Claims funnel (per year)")
        df = claims_funnel(result)
        st.altair_chart(alt.Chart(df).mark_bar().encode(
            x=alt.X("count:Q", title="per year", scale=alt.Scale(type="symlog")),
            y=alt.Y("stage:N", sort=alt.SortField("order"), title=None),
            color=alt.Color("policy:N", scale=colours), yOffset="policy:N",
            tooltip=["policy", "stage", alt.Tooltip("count:Q", format=",.1f")]), width="stretch")
    with c4:
        st.subheader("Order Defect Rate over time")
        df = odr_over_time(result)
        line = alt.Chart(df).mark_line().encode(
            x=alt.X("day:Q", title="day"), y=alt.Y("odr_pct:Q", title="ODR (%)"),
            color=alt.Color("policy:N", scale=colours), strokeDash="policy:N")
        limit = alt.Chart(pd.DataFrame({"y": [100 * result.scenario.account_health.odr.limit]})).mark_rule(
            color="#D55E00", strokeDash=[6, 3]).encode(y="y:Q")
        susp = alt.Chart(df[df["suspended_share"] > 0]).mark_bar(opacity=0.25, color="#999999").encode(
            x="day:Q", y=alt.Y("suspended_share:Q", title=None, axis=None))
        st.altair_chart(alt.layer(susp, line, limit).resolve_scale(y="independent"), width="stretch")
        st.caption(f"Dashed red line: the {100 * result.scenario.account_health.odr.limit:g}% ODR limit. "
                   "Grey bars: share of replications with the whole account suspended that day.")
    st.subheader("Paired change in seller cost, replication by replication")
    df = delta_distribution(result)
    if not df.empty:
        st.altair_chart(alt.Chart(df).mark_tick(thickness=3, size=30).encode(
            x=alt.X("change:Q", title=f"{result.scenario.market.currency} per year (new − old)"),
            y=alt.Y("policy:N", title=None),
            color=alt.Color("policy:N", scale=colours), tooltip=["replication", "change"]),
            width="stretch")


def advisor_section(scenario_json: str, reps: int, seed: int) -> None:
    st.subheader("What should this seller fix first?")
    if not st.toggle("Run the practice advisor (about 11 comparisons)", key="advisor_on"):
        st.caption("Each practice is moved to a good level and compared with this scenario on the same seeds.")
        return
    try:
        with st.spinner("Comparing each practice at a good level…"):
            advice = simulate(run_advice, scenario_json, reps, seed)
    except Exception as err:
        error_box("The advisor could not run:", problems_of(err))
        return
    df = advice.practices.copy()
    df["practice"] = df["practice"].map(lambda k: PRACTICE_LABELS.get(k, k))
    st.dataframe(advice.table(), hide_index=True, width="stretch")
    st.caption("$ per year. Gross saving: before the practice's own cost; practice cost: the change in support "
               "wages, packaging, listing and tracking work and Buy Shipping labels; net saving = gross - cost; "
               f"policy effect: net saving under the policy minus under {advice.policies[0]}, paired by replication.")
    st.altair_chart(alt.Chart(df).mark_bar().encode(
        x=alt.X("saving_mean:Q", title="yearly net saving ($)"), y=alt.Y("practice:N", sort="-x", title=None),
        color=alt.Color("policy:N", scale=alt.Scale(range=PALETTE)), yOffset="policy:N",
        tooltip=["practice", "policy", alt.Tooltip("saving_mean:Q", format=",.0f"),
                 alt.Tooltip("saving_ci_low:Q", format=",.0f"), alt.Tooltip("saving_ci_high:Q", format=",.0f")]),
        width="stretch")
    st.text(advice.format())


def downloads(scenario: dict, result, table: pd.DataFrame) -> None:
    st.subheader("Downloads")
    c1, c2, c3, c4 = st.columns(4)
    c1.download_button("Scenario (YAML)", yaml.safe_dump(scenario, sort_keys=False), "scenario.yaml",
                       "application/x-yaml")
    c2.download_button("Results (CSV)", result.runs.to_csv(index=False), "results.csv", "text/csv")
    c3.download_button("Results (JSON)", result.to_json(), "results.json", "application/json")
    report = (f"# azsim what-if: {md_escape(result.scenario.name)}\n\nazsim {__version__}, scenario hash "
              f"{result.scenario.hash}, {result.replications} replications, seed {result.seed}.\n\n"
              "## Yearly cost by party, paired change with 95% CI\n\n```\n" + table.to_string(index=False)
              + "\n```\n\n## Summary\n\n```\n" + result.summary().to_string() + "\n```\n")
    c4.download_button("Report (Markdown)", report, "report.md", "text/markdown")


def about() -> None:
    with st.expander("About the model: the old and new flows, and what each knob means"):
        doc = (ROOT / "docs" / "model.md")
        st.markdown(doc.read_text(encoding="utf-8") if doc.exists() else "docs/model.md is missing.")
    with st.expander("Policy versions and their sources"):
        for v in policy_versions():
            st.markdown(f"**{v['name']}** ({v['marketplace']}, {v['currency']}, effective "
                        f"{v['effective'] or 'not dated'}): {v['description']}\n\n"
                        + "\n".join(f"- {src}" for src in v["sources"]))


def compare_two(reps: int, seed: int) -> None:
    st.subheader("Compare two scenarios side by side")
    if not st.toggle("Simulate two scenarios", key="compare_two_on"):
        st.caption("Pick two scenario files (e.g. a diligent and a negligent seller) and see their headlines "
                   "side by side.")
        return
    files = _scenario_files()
    a, b = st.columns(2)
    left = a.selectbox("Left scenario", files, index=files.index("diligent.yaml") if "diligent.yaml" in files else 0)
    right = b.selectbox("Right scenario", files,
                        index=files.index("negligent.yaml") if "negligent.yaml" in files else 0)
    for col, name in ((a, left), (b, right)):
        try:
            s = scenario_from_dict(_load_file(name), name)
            with st.spinner(f"Simulating {name}…"):
                res = simulate(run_compare, json.dumps(s.to_dict()), reps, seed)
        except Exception as err:
            with col:
                error_box(f"Cannot simulate {plain(name)}:", problems_of(err))
            continue
        col.dataframe(headline(res), hide_index=True, width="stretch")


def main() -> None:
    st.title("What does the new A-to-z policy cost this seller?")
    st.caption("azsim: Amazon's A-to-z Guarantee before and after 1 Sep 2021, simulated on paired replications. "
               "Change the seller in the sidebar; every figure is per year with a 95% confidence interval.")
    scenario, reps, seed, label = sidebar()
    result = None
    if scenario is not None:
        key = json.dumps(scenario)  # keeps the policy order: the first policy is the baseline
        try:
            with st.spinner(f"Simulating {reps} paired replications…"):
                result = simulate(run_compare, key, reps, seed)
        except Exception as err:
            error_box("These settings could not be simulated:", problems_of(err), STILL_SHOWING)
        else:
            st.session_state["last_run"] = (key, reps, seed, label)
    if result is None:  # the last scenario that ran, from the cache
        last = st.session_state.get("last_run")
        if last is None:
            return
        key, reps, seed, label = last
        try:
            result = simulate(run_compare, key, reps, seed)
        except Exception as err:
            error_box("Cannot show the last good scenario either:", problems_of(err))
            return
        scenario = json.loads(key)
    s = result.scenario
    st.markdown(f"Scenario **{plain(s.name)}** ({plain(label)}){': ' + plain(s.description) if s.description else ''}")
    tab1, tab2, tab3 = st.tabs(["This seller", "Two scenarios", "About"])
    with tab1:
        try:
            table = show_headline(result)
            charts(result)
            advisor_section(key, reps, seed)
            downloads(scenario, result, table)
        except Exception as err:
            error_box("Cannot draw these results:", problems_of(err))
    with tab2:
        compare_two(reps, seed)
    with tab3:
        about()


main()
