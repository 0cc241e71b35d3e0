"""Research reports: ``azsim report SCENARIO-or-STORE`` writes a folder a researcher can cite.

``build_report(source, out)`` reads a scenario YAML (runs :func:`azsim.compare` and the practice
advisor) or a DuckDB results store (every sweep's point summary; Sobol indices and a tornado when
it holds a sensitivity pair of sweeps) and writes:

``report.html``    self-contained (figures embedded as base64 PNG), readable offline;
``report.md``      with ``formats`` containing ``md`` (figures beside it in ``figures/``);
``report.pdf``     with ``formats`` containing ``pdf`` (matplotlib's PdfPages, no system tools);
``figures/``       PNG and SVG of every figure, one style, readable in greyscale (hatching, line styles);
``tables/``        CSV and LaTeX of every table;
``metadata.json``  versions, seed, replications, timestamps and (scenario input) the resolved scenario,
                   so that :func:`reproduce` rebuilds byte-identical ``tables/*.csv``.

Every number is read from the Comparison, the Advice or the store; none is typed here.
All input is read and every number computed before anything is written: a missing or broken
input raises :class:`ScenarioError` / :class:`StoreError` and leaves no output folder. The
output folder is checked before any work, built in a temporary folder next to it and renamed
into place at the end (an existing report folder is replaced only then): a failure or Ctrl-C
leaves nothing. User text (scenario and policy names, descriptions, comments, sweep ids) is
escaped in every format, and becomes part of a file name only through :func:`_slug`.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import platform
import re
import stat
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .outputs import building, md_escape, show_path, slug, target_problems, tex_escape
from .scenario import MAX_REPLICATIONS, MAX_SEED, Scenario, ScenarioError, load_scenario, read_yaml, scenario_from_dict

__all__ = ["build_report", "reproduce", "parse_comments", "FORMATS", "STYLE", "fmt"]

FORMATS = ("html", "pdf", "md")
PACKAGES = ("numpy", "pandas", "simpy", "matplotlib", "scipy", "duckdb", "SALib", "jinja2")
STORE_SUFFIXES = (".duckdb", ".db")
PDF_ROWS_PER_PAGE = 35
PDF_MAX_PAGES = 4
HTML_MAX_ROWS = 300

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#cccccc",
    "grid.linewidth": 0.5,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "hatch.linewidth": 0.6,
    "svg.hashsalt": "azsim",
    "svg.fonttype": "none",
    "text.parse_math": False,  # a $ in a name or description is text, never mathtext (which could fail to parse)
}
"""One publication style for every figure."""

HATCHES = ["", "///", "...", "xxx", "\\\\\\", "ooo"]

_slug = slug
"""The one way a name from user data (policy, sweep id) becomes part of a file name: [a-z0-9_-], bounded."""
LINESTYLES = ["-", "--", ":", "-."]


def fmt(x, decimals: int = 2) -> str:
    """A number as the report prints it (thousands separated); missing -> n/a."""
    if x is None or isinstance(x, str):
        return "n/a" if x is None else x
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    if not isinstance(x, (float, np.floating)):
        return "n/a" if pd.isna(x) else str(x)
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return "n/a"
    text = f"{x:,.{decimals}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text.replace(",", "")) == 0 else text


# ---- the report's content ------------------------------------------------------------------------
@dataclass
class Table:
    name: str
    caption: str
    df: pd.DataFrame
    decimals: int = 2

    def __post_init__(self) -> None:
        self.name = _slug(self.name)  # the file names tables/NAME.csv, .tex

    def cells(self, max_rows: int | None = None) -> list[list[str]]:
        df = self.df if max_rows is None else self.df.head(max_rows)
        return [[fmt(v, self.decimals) if not isinstance(v, str) else v for v in row]
                for row in df.itertuples(index=False, name=None)]


@dataclass
class Figure:
    name: str
    caption: str
    fig: object  # matplotlib Figure
    png: bytes = b""

    def __post_init__(self) -> None:
        self.name = _slug(self.name)  # the file names figures/NAME.png, .svg


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    items: list[tuple[str, str]] = field(default_factory=list)  # ("figure"|"table", name)


@dataclass
class Report:
    title: str
    subtitle: str
    sections: list[Section]
    tables: dict[str, Table]
    figures: dict[str, Figure]
    metadata: dict


# ---- scenario comments ---------------------------------------------------------------------------
_KEY = re.compile(r"^(\s*)([A-Za-z_][\w\-]*)\s*:(.*)$")


def parse_comments(text: str) -> dict[str, str]:
    """Map each dotted path of a YAML file to its end-of-line comment (a simple line scan).

    Block mappings only (what scenario files use); list items and block scalars are skipped.
    """
    out: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#") or line.lstrip().startswith("-"):
            continue
        m = _KEY.match(line)
        if not m:
            continue
        indent, key, rest = len(m.group(1)), m.group(2), m.group(3)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = ".".join([k for _, k in stack] + [key])
        comment = _comment(rest)
        if comment:
            out[path] = comment
        stack.append((indent, key))
    return out


def _comment(rest: str) -> str:
    """The comment of a YAML value (outside quotes), or ''."""
    quote = None
    for i, ch in enumerate(rest):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or rest[i - 1] in " \t"):
            return rest[i + 1:].strip()
    return ""


_CONFIDENCE = re.compile(r";\s*(very high|high|medium-high|medium|low-medium|low|very low)\b", re.IGNORECASE)


def _confidence(comment: str) -> str:
    if not comment or "assumed" in comment.lower():
        return "assumed"
    m = _CONFIDENCE.search(comment)
    return m.group(1).lower() if m else "as sourced"


def _flatten(d: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in d.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_flatten(v, path + "."))
        else:
            out[path] = v
    return out


def _value_text(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v, default=str)
    return str(v)


def parameters_table(scenario_dict: dict, comments: dict[str, str] | None) -> pd.DataFrame:
    """parameter, value, source (the file's comment), confidence ("assumed" when it says so or is missing)."""
    rows = []
    for path, value in _flatten(scenario_dict).items():
        if path in ("name", "description") or path.endswith((".description", ".sources")):
            continue  # descriptions and policy sources are in the policy versions table
        if comments is None:
            comment = "not recorded (results store)"
            conf = "unknown"
        else:
            comment = comments.get(path, "")
            conf = _confidence(comment)
            comment = comment or "no source given (default value)"
        rows.append({"parameter": path, "value": _value_text(value), "source": comment, "confidence": conf})
    return pd.DataFrame(rows, columns=["parameter", "value", "source", "confidence"])


def policy_versions_table(scenario: Scenario) -> pd.DataFrame:
    """policy, version, marketplace, currency, effective, description, sources: one row per compared policy."""
    rows = [{"policy": name, "version": p.preset or "custom", "marketplace": p.marketplace, "currency": p.currency,
             "effective": p.effective or "not dated", "description": p.description, "sources": "; ".join(p.sources)}
            for name, p in scenario.policies.items()]
    return pd.DataFrame(rows, columns=["policy", "version", "marketplace", "currency", "effective", "description",
                                       "sources"])


# ---- figures -------------------------------------------------------------------------------------
def _new_figure(width: float = 6.4, height: float = 3.6):
    from matplotlib.figure import Figure as MplFigure

    return MplFigure(figsize=(width, height), layout="constrained")


def _colour(i: int) -> str:
    from .views import PALETTE

    return PALETTE[i % len(PALETTE)]


def _waterfall(categories: pd.DataFrame, base: str, other: str):
    fig = _new_figure(7.2, 4.0)
    ax = fig.add_subplot()
    labels = [base + " total"] + [str(c) for c in categories["category"]] + [other + " total"]
    old_total = float(categories.attrs["base_total"])
    new_total = float(categories.attrs["other_total"])
    level = old_total
    xs = np.arange(len(labels))
    ax.bar(xs[0], old_total, color=_colour(0), edgecolor="black", linewidth=0.6)
    for i, ch in enumerate(categories["change"], start=1):
        ch = float(ch)
        up = ch >= 0
        ax.bar(xs[i], ch, bottom=level, color=_colour(5) if up else _colour(2), edgecolor="black", linewidth=0.6,
               hatch="///" if up else "...")
        ax.annotate(f"{ch:+,.0f}", (xs[i], level + ch if up else level), xytext=(0, 2), textcoords="offset points",
                    ha="center", va="bottom", fontsize=7)
        level += ch
    ax.bar(xs[-1], new_total, color=_colour(1), edgecolor="black", linewidth=0.6, hatch="xxx")
    levels = np.cumsum([old_total, *categories["change"].astype(float)])
    lo, hi = float(min(levels.min(), new_total)), float(max(levels.max(), new_total))
    scale = max(abs(old_total), abs(new_total), 1.0)
    if lo > 0 and hi - lo < 0.25 * scale:  # changes small beside the totals: zoom in on them
        pad = max(hi - lo, 0.01 * scale)
        ax.set_ylim(max(0.0, lo - 1.5 * pad), hi + pad)
        ax.text(0.01, 0.99, "y axis does not start at 0", transform=ax.transAxes, fontsize=7, va="top")
    ax.set_xticks(xs, labels, rotation=40, ha="right")
    ax.set_ylabel("seller cost ($/yr)")
    ax.set_title(f"Seller cost from {base} to {other}: paired change by category")
    ax.axhline(0, color="black", linewidth=0.6)
    return fig


def _grouped_bars(frame: pd.DataFrame, group: str, series: str, value: str, ylabel: str, title: str,
                  lo: str | None = None, hi: str | None = None, horizontal: bool = False):
    fig = _new_figure()
    ax = fig.add_subplot()
    groups = list(dict.fromkeys(frame[group]))
    names = list(dict.fromkeys(frame[series]))
    width = 0.8 / max(len(names), 1)
    pos = np.arange(len(groups))
    for k, name in enumerate(names):
        sub = frame[frame[series] == name].set_index(group).reindex(groups)
        vals = sub[value].astype(float).to_numpy()
        err = None
        if lo and hi:
            low = sub[lo].astype(float).to_numpy()
            high = sub[hi].astype(float).to_numpy()
            err = np.nan_to_num(np.vstack([vals - low, high - vals]), nan=0.0)
        x = pos + (k - (len(names) - 1) / 2) * width
        kw = dict(color=_colour(k), edgecolor="black", linewidth=0.6, hatch=HATCHES[k % len(HATCHES)], label=name)
        if horizontal:
            ax.barh(x, vals, height=width, xerr=err, capsize=2, **kw)
        else:
            ax.bar(x, vals, width=width, yerr=err, capsize=2, **kw)
    if horizontal:
        ax.set_yticks(pos, groups)
        ax.invert_yaxis()
        ax.set_xlabel(ylabel)
    else:
        ax.set_xticks(pos, groups, rotation=20, ha="right")
        ax.set_ylabel(ylabel)
        ax.axhline(0, color="black", linewidth=0.6)
    ax.set_title(title)
    ax.legend()
    return fig


def _odr_figure(odr: pd.DataFrame, limit_pct: float):
    fig = _new_figure()
    ax = fig.add_subplot()
    for k, (policy, sub) in enumerate(odr.groupby("policy", sort=False)):
        ax.plot(sub["day"], sub["odr_pct"], color=_colour(k), linestyle=LINESTYLES[k % len(LINESTYLES)],
                linewidth=1.2, label=str(policy))
    ax.axhline(limit_pct, color="black", linewidth=0.8, linestyle=":", label=f"{limit_pct:g}% ODR limit")
    ax.set_xlabel("day")
    ax.set_ylabel("order defect rate (%), mean over replications")
    ax.set_title("Order defect rate over time")
    ax.legend()
    return fig


def _sobol_figure(ind: pd.DataFrame, output: str):
    fig = _new_figure()
    ax = fig.add_subplot()
    pos = np.arange(len(ind))
    for k, (col, label) in enumerate((("S1", "first order S1"), ("ST", "total ST"))):
        vals = ind[col].astype(float).to_numpy()
        err = np.nan_to_num(np.vstack([vals - ind[f"{col}_ci_low"].astype(float), ind[f"{col}_ci_high"].astype(float)
                                       - vals]), nan=0.0)
        ax.barh(pos + (k - 0.5) * 0.4, vals, height=0.4, xerr=np.abs(err), capsize=2, color=_colour(k),
                edgecolor="black", linewidth=0.6, hatch=HATCHES[k], label=label)
    ax.set_yticks(pos, list(ind["factor"]))
    ax.invert_yaxis()
    ax.set_xlabel("Sobol index (95% bootstrap CI)")
    ax.set_title(f"Sobol indices of the paired change in {output}")
    ax.legend()
    return fig


def _tornado_figure(torn: pd.DataFrame, output: str):
    fig = _new_figure()
    ax = fig.add_subplot()
    pos = np.arange(len(torn))
    centre = float(torn["centre"].iloc[0]) if len(torn) else 0.0
    for k, (col, label) in enumerate((("low", "factor at low end"), ("high", "factor at high end"))):
        vals = torn[col].astype(float).to_numpy()
        ax.barh(pos, vals - centre, left=centre, height=0.6, color=_colour(k), edgecolor="black", linewidth=0.6,
                hatch=HATCHES[k + 1], label=label, alpha=0.85)
    ax.axvline(centre, color="black", linewidth=0.8)
    ax.set_yticks(pos, list(torn["factor"]))
    ax.invert_yaxis()
    ax.set_xlabel(f"paired change in {output} (others at the centre)")
    ax.set_title("Tornado: one factor at a time")
    ax.legend()
    return fig


def _sweep_figure(cond: pd.DataFrame, change_col: str, lo: str, hi: str, title: str):
    fig = _new_figure()
    ax = fig.add_subplot()
    y = cond[change_col].astype(float).to_numpy()
    err = np.nan_to_num(np.abs(np.vstack([y - cond[lo].astype(float), cond[hi].astype(float) - y])), nan=0.0)
    ax.errorbar(cond["point_id"], y, yerr=err, fmt="o", color=_colour(0), markersize=3, capsize=2, linewidth=0.8)
    ax.axhline(0, color="black", linewidth=0.6, linestyle="--")
    ax.set_xlabel("design point")
    ax.set_ylabel("paired change in seller cost ($/yr)")
    ax.set_title(title)
    return fig


# ---- building from a scenario --------------------------------------------------------------------
def _scenario_report(scenario: Scenario, comments: dict[str, str], replications: int, seed: int,
                     advisor_replications: int) -> tuple[list[Section], dict, dict]:
    from .advisor import PRACTICE_LABELS, advise
    from .comparison import COST_KEYS, compare
    from .ledger import CATEGORIES
    from .stats import mean_ci
    from .views import PARTY_LABELS, claims_funnel, odr_over_time, who_pays

    result = compare(scenario, replications=replications, seed=seed)
    advice = advise(scenario, replications=advisor_replications, seed=seed)
    d = result.to_dict()
    pols = result.policies
    base = pols[0]
    tables: dict[str, Table] = {}
    figures: dict[str, Figure] = {}

    def add_table(name, caption, df, decimals=2):
        tables[name] = Table(name, caption, df.reset_index(drop=True), decimals)

    def add_figure(name, caption, fig):
        figures[name] = Figure(name, caption, fig)

    cur = scenario.market.currency  # every amount in the report is in the scenario's currency
    params = parameters_table(scenario.to_dict(), comments)
    add_table("scenario_parameters", "Scenario parameters, with the source and confidence given in the scenario file",
              params)
    add_table("policy_versions", "Policies compared: each policy's version (preset), where and from when it applies, "
              "its rules in brief and the public sources of those rules (azsim policies; docs/sources.md)",
              policy_versions_table(scenario))

    # headline by party: means with CIs, paired changes with CIs (read from the JSON result)
    rows = []
    for party, key in COST_KEYS.items():
        row = {"party": PARTY_LABELS[party]}
        for p in pols:
            st = d["policies"][p][key]["total"]
            ci = st["ci95"] or [None, None]
            row[f"{p} mean"], row[f"{p} ci95 low"], row[f"{p} ci95 high"] = st["mean"], ci[0], ci[1]
        for p in pols[1:]:
            st = d["delta"][p][key]["total"]
            ci = st["ci95"] or [None, None]
            tag = f"{p}-{base}"
            row[f"{tag} change"], row[f"{tag} ci95 low"], row[f"{tag} ci95 high"] = st["mean"], ci[0], ci[1]
            row[f"{tag} change %"] = st["pct"]
        rows.append(row)
    add_table("headline", f"Yearly net cost by party ({cur}/yr): means with 95% CIs, and the paired change from "
              f"{base} with its 95% CI", pd.DataFrame(rows))
    add_table("metrics", "Key results per year: each policy's mean and the paired change with its 95% CI",
              result.summary().reset_index())

    # seller cost by category per policy, with the paired change
    cat_rows = []
    for cat in CATEGORIES:
        metric = f"seller_cost.by_category.{cat}"
        means = {p: float(result.values(p, metric).mean()) for p in pols}
        if all(abs(v) < 0.005 for v in means.values()):
            continue
        row = {"category": cat, **{p: means[p] for p in pols}}
        for p in pols[1:]:
            m, ci = mean_ci(result.deltas(p, metric))
            row[f"{p}-{base} change"] = m
            row[f"{p}-{base} ci95 low"], row[f"{p}-{base} ci95 high"] = ci if ci else (None, None)
        cat_rows.append(row)
    cats = pd.DataFrame(cat_rows)
    add_table("seller_cost_by_category", f"Seller cost by category per policy ({cur}/yr), with the paired change and "
              "its 95% CI", cats)
    wf_names = []
    for p in pols[1:]:
        wf = pd.DataFrame({"category": cats["category"], "change": cats[f"{p}-{base} change"]}) if len(cats) else \
            pd.DataFrame(columns=["category", "change"])
        wf = wf[wf["change"].abs() >= 0.005]
        wf.attrs["base_total"] = float(result.values(base, "seller_cost.total").mean())
        wf.attrs["other_total"] = float(result.values(p, "seller_cost.total").mean())
        name = _slug(f"waterfall_{p}")
        add_figure(name, f"Seller cost ({cur}/yr) from {base} to {p}: the {base} total, the mean paired change of each "
                   f"category, and the {p} total", _waterfall(wf.reset_index(drop=True), base, p))
        wf_names.append(name)

    wp = who_pays(result)
    add_table("who_pays", f"Who pays: each party's yearly net cost per policy ({cur}/yr) with its 95% CI", wp)
    add_figure("who_pays", "Who pays: yearly net cost by party and policy, 95% CIs", _grouped_bars(
        wp, "party", "policy", "cost", f"net cost ({cur}/yr)", "Who pays", "ci_low", "ci_high"))

    funnel = claims_funnel(result).sort_values("order", kind="stable")
    wide = funnel.pivot_table(index=["order", "stage"], columns="policy", values="count", sort=False).reset_index()
    wide = wide.sort_values("order").drop(columns="order")[["stage", *pols]]
    wide.columns.name = None
    add_table("claims_funnel", "Claims funnel: incidents, messages, claims and outcomes per year", wide)
    add_figure("claims_funnel", "Claims funnel per year, by policy", _grouped_bars(
        funnel.sort_values("order", kind="stable"), "stage", "policy", "count", "per year", "Claims funnel",
        horizontal=True))

    odr = odr_over_time(result)
    limit_pct = 100 * result.scenario.account_health.odr.limit  # the scenario's limit, not a typed-in 1%
    add_figure("odr_over_time", "Order defect rate over the simulated days (mean over replications), with "
               f"the account-health limit of {limit_pct:g}%", _odr_figure(odr, limit_pct))

    pr = advice.practices
    adv_rows = []
    for practice in advice.ranking:
        sub = pr[pr["practice"] == practice].set_index("policy")
        row = {"rank": int(sub["rank"].iloc[0]), "practice": PRACTICE_LABELS[practice]}
        for p in reversed(advice.policies):
            row[f"saving under {p}"] = float(sub.loc[p, "saving_mean"])
            row[f"{p} ci95 low"] = float(sub.loc[p, "saving_ci_low"])
            row[f"{p} ci95 high"] = float(sub.loc[p, "saving_ci_high"])
        adv_rows.append(row)
    adv = pd.DataFrame(adv_rows)
    add_table("advisor_ranking", f"Practice advisor: the seller's yearly net saving ({cur}/yr, 95% CI; after the "
              f"practice's own cost) from moving one practice to a good level; ranked by the saving under "
              f"{advice.policies[-1]}", adv)
    rank_pol = advice.policies[-1]
    plot = adv.rename(columns={f"saving under {rank_pol}": "saving", f"{rank_pol} ci95 low": "lo",
                               f"{rank_pol} ci95 high": "hi"}).assign(policy=rank_pol)
    add_figure("advisor_ranking", f"Practice advisor: yearly saving under {rank_pol} with 95% CIs", _grouped_bars(
        plot, "practice", "policy", "saving", f"seller saving ({cur}/yr)", "What to fix first", "lo", "hi",
        horizontal=True))
    ins = advice.insurance.copy()
    add_table("advisor_insurance", "Insure or not: seller cost insured vs uninsured and the break-even premium "
              f"({cur}/yr, 95% CIs)", ins)

    # ---- the text
    seller = d["delta"][pols[-1]]["seller_cost"]["total"] if len(pols) > 1 else None
    question = (f"How does Amazon's {', '.join(pols[1:]) or base} A-to-z Guarantee policy change the yearly costs of "
                f"a seller, Amazon, insurers and buyers, compared with the {base} policy? Scenario "
                f"'{scenario.name}': {scenario.description or '(no description)'}")
    if seller is not None:
        ci = seller["ci95"]
        question += (f" Answer in one line: the seller's yearly cost changes by {fmt(seller['mean'])} {cur}/yr under "
                     f"{pols[-1]} (95% CI {fmt(ci[0]) if ci else 'n/a'} to {fmt(ci[1]) if ci else 'n/a'}).")
    method = [
        f"Discrete-event simulation (SimPy) of the seller's orders, incidents, buyer messages, returns, claims, "
        f"chargebacks and account health over {scenario.horizon_days} days, scaled to per year.",
        f"Common random numbers: each of the {result.replications} replications (root seed {result.seed}) runs "
        f"every policy ({', '.join(pols)}) on the same simulated world, so the policies meet the same orders, "
        "incidents and buyers.",
        "Results are means over replications with 95% confidence intervals from Student's t distribution; a change "
        f"between policies is the mean of the per-replication paired differences (policy minus {base}) with its "
        "Student-t 95% CI.",
        f"The practice advisor re-runs the scenario with one practice moved to a good level, paired on the same "
        f"seeds, with {advice.replications} replications.",
    ]
    assumed = params[params["confidence"] == "assumed"]["parameter"].tolist()
    limitations = [
        f"{len(assumed)} of {len(params)} parameters are assumed (no published source, or no source given in the "
        "scenario file): " + (", ".join(assumed) if assumed else "none") + ".",
        "Support staff are paid for their rostered hours and practice costs (packaging, listing and tracking "
        "work, Buy Shipping labels) are assumed figures; Amazon's internal rules (claim review, account health) "
        "follow the published policy text, not Amazon's undisclosed practice.",
        f"Confidence intervals reflect simulation noise over {result.replications} replications, not "
        "uncertainty in the parameters; see a sensitivity analysis (azsim sensitivity) for that.",
    ]
    sections = [
        Section("Question", [question]),
        Section("Scenario", [f"Scenario '{scenario.name}' (hash {scenario.hash}); each parameter with the source "
                             "and confidence given in the scenario file; the policy versions compared, with their "
                             "sources."],
                [("table", "policy_versions"), ("table", "scenario_parameters")]),
        Section("Method", method),
        Section("Results", [f"Per year, in {cur}; means over replications; changes are paired differences with 95% "
                            "CIs. Every row of the key results adds up (baseline + change = policy): a quantity that "
                            "needs an event (ODR, days to compensation) is shown over the replications where every "
                            "policy has one, and the row says how many when that is not all."],
                [("table", "headline"), ("table", "metrics")]),
        Section("Seller cost by category", [], [*(("figure", n) for n in wf_names),
                                                ("table", "seller_cost_by_category")]),
        Section("Who pays", [], [("figure", "who_pays"), ("table", "who_pays")]),
        Section("Claims funnel", [], [("figure", "claims_funnel"), ("table", "claims_funnel")]),
        Section("Order defect rate over time", [], [("figure", "odr_over_time")]),
        Section("Practice advisor", [], [("figure", "advisor_ranking"), ("table", "advisor_ranking"),
                                         ("table", "advisor_insurance")]),
        Section("Limitations", limitations),
    ]
    info = {"scenario_hash": scenario.hash, "scenario_name": scenario.name, "seed": result.seed,
            "replications": result.replications, "advisor_replications": advice.replications,
            "policies": pols}
    return sections, {"tables": tables, "figures": figures}, info


# ---- building from a store -----------------------------------------------------------------------
def _store_report(path: str) -> tuple[list[Section], dict, dict]:
    from .store import Store, load
    from .sweep import point_outputs

    frames = load(path)  # StoreError for a missing or broken store
    sweeps, points, summary = frames["sweeps"], frames["points"], frames["point_summary"]
    tables: dict[str, Table] = {}
    figures: dict[str, Figure] = {}
    specs = {row.sweep_id: _spec(row.spec) for row in sweeps.itertuples()}
    overview = []
    for row in sweeps.itertuples():
        spec = specs[row.sweep_id]
        factors = "; ".join(_factor_text(f) for f in spec.get("factors", []))
        overview.append({"sweep_id": row.sweep_id, "name": str(spec.get("name", "")),
                         "design": str(row.design or spec.get("design") or "?"),
                         "points": int((points["sweep_id"] == row.sweep_id).sum()),
                         "replications": str(spec.get("replications")), "seed": str(spec.get("seed")),
                         "factors": factors, "azsim_version": str(row.azsim_version)})
    tables["sweeps"] = Table("sweeps", "The sweeps in the store", pd.DataFrame(
        overview, columns=["sweep_id", "name", "design", "points", "replications", "seed", "factors",
                           "azsim_version"]))
    sections = [
        Section("Question", [f"What does the results store {Path(path).name} say about the paired change in the "
                             f"seller's yearly cost across the designs it holds ({len(sweeps)} sweeps)?"]),
        Section("Sweeps", [], [("table", "sweeps")]),
        Section("Method", [
            "Discrete-event simulation (SimPy); every design point runs every policy on the same replications' "
            "worlds (common random numbers across policies and design points).",
            "Per point: the mean over replications with a 95% Student-t CI, and the paired difference from the "
            "baseline policy with its Student-t 95% CI (the store's point_summary).",
            "Sensitivity (when the store holds a Sobol and a one-at-a-time sweep over the same factors): Sobol "
            "first-order and total indices (SALib, Saltelli/Jansen estimators, 95% bootstrap CIs) and a tornado of "
            "one-at-a-time changes.",
        ]),
    ]
    first_scenario = None
    for row in sweeps.itertuples():
        sid = row.sweep_id
        spec = specs[sid]
        first_scenario = first_scenario or spec.get("scenario")
        ps = summary[summary["sweep_id"] == sid]
        full = ps.drop(columns=["sweep_id"]).sort_values(["point_id", "policy", "metric"], kind="stable")
        full_name = _slug(f"sweep_{sid}_point_summary")
        tables[full_name] = Table(full_name, f"Sweep {sid}: full point summary", full)
        cond, change = _condensed(ps, points[points["sweep_id"] == sid], spec)
        name = _slug(f"sweep_{sid}_seller_cost")
        tables[name] = Table(name, f"Sweep {sid} ({spec.get('design')}): seller cost per design point ($/yr) and "
                             "the paired change with its 95% CI", cond)
        items = [("table", name)]
        if change:
            figures[name] = Figure(name, f"Sweep {sid}: paired change in seller cost per design point, 95% CIs",
                                   _sweep_figure(cond, *change, f"Sweep {sid} ({spec.get('design')})"))
            items.insert(0, ("figure", name))
        sections.append(Section(f"Sweep {sid}: {spec.get('name', '')} ({spec.get('design')})",
                                [f"Full point summary (every metric): tables/{full_name}.csv."], items))

    pair = _sensitivity_pair(sweeps, specs)
    if pair:
        sobol_id, oat_id = pair
        spec = specs[sobol_id]
        names = [f["path"] for f in spec["factors"]]
        policies = list(summary.loc[summary["sweep_id"] == sobol_id, "policy"].drop_duplicates())
        base = str(summary.loc[summary["sweep_id"] == sobol_id, "baseline"].iloc[0])
        policies = [base] + [p for p in policies if p != base]
        from .sensitivity import sobol_indices, tornado

        items, paras = [], [f"Sobol sweep {sobol_id} and one-at-a-time sweep {oat_id} over {', '.join(names)}; "
                                f"output: the paired change {' - '.join(reversed(policies[:2]))}."]
        outputs = [m for m in ("seller_cost.total", "amazon_cost.total") if m in set(summary["metric"])]
        with Store(path, read_only=True) as store:
            for o in outputs:
                y = point_outputs(store, sobol_id, o, policies)
                if y.size == 0 or not np.isfinite(y).all():
                    paras.append(f"{o}: not available at every design point; no indices.")
                    continue
                ind = sobol_indices(names, y, seed=int(spec.get("seed", 0)))
                torn = tornado(names, point_outputs(store, oat_id, o, policies))
                tag = o.replace(".", "_")
                tables[f"sobol_{tag}"] = Table(f"sobol_{tag}", f"Sobol indices of the paired change in {o} "
                                               "(95% bootstrap CIs)", ind, 3)
                tables[f"tornado_{tag}"] = Table(f"tornado_{tag}", f"Tornado: the paired change in {o} with one "
                                                 "factor at its low and high end, others at the centre", torn)
                figures[f"sobol_{tag}"] = Figure(f"sobol_{tag}", f"Sobol indices of the paired change in {o}",
                                                 _sobol_figure(ind, o))
                figures[f"tornado_{tag}"] = Figure(f"tornado_{tag}", f"Tornado of the paired change in {o}",
                                                   _tornado_figure(torn, o))
                if ind.attrs.get("constant_output"):
                    paras.append(f"{o}: the output did not vary over the design; the indices are 0 by convention.")
                items += [("figure", f"sobol_{tag}"), ("table", f"sobol_{tag}"), ("figure", f"tornado_{tag}"),
                          ("table", f"tornado_{tag}")]
        sections.append(Section("Sensitivity", paras, items))

    if first_scenario:
        params = parameters_table(first_scenario, None)
        tables["scenario_parameters"] = Table("scenario_parameters", "Base scenario of the first sweep", params)
        sections.insert(2, Section("Scenario", ["The base scenario of the first sweep; the store does not record "
                                                "the parameters' sources."], [("table", "scenario_parameters")]))
    sections.append(Section("Limitations", [
        "The store records values, not the sources of the scenario's parameters: check the scenario files the "
        "sweeps were run from for which values are assumed.",
        "Confidence intervals reflect simulation noise over the stored replications, not parameter uncertainty "
        "beyond the factors varied.",
    ]))
    info = {"sweeps": list(sweeps["sweep_id"]), "sensitivity": list(pair) if pair else None,
            "scenario_hash": (specs[sweeps["sweep_id"].iloc[0]].get("scenario_hash") if len(sweeps) else None)}
    return sections, {"tables": tables, "figures": figures}, info


def _spec(text) -> dict:
    """A sweep's spec (JSON text in the store), with only what the report can use: the store may have
    been edited, so factors without a path, a scenario that is not a mapping or a seed that is not a
    whole number are dropped, and unreadable or very deep text gives {}."""
    if not isinstance(text, str) or _json_depth(text) > METADATA_MAX_DEPTH:
        return {}
    try:
        spec = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(spec, dict):
        return {}
    factors = spec.get("factors")
    spec["factors"] = [f for f in factors if isinstance(f, dict) and isinstance(f.get("path"), str)] \
        if isinstance(factors, list) else []
    if not isinstance(spec.get("scenario"), dict):
        spec.pop("scenario", None)
    seed = spec.get("seed")
    if not (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= REPRODUCE_MAX_SEED):
        spec.pop("seed", None)
    return spec


def _factor_text(f: dict) -> str:
    if "values" in f:
        return f"{f.get('path')} in {f.get('values')}"
    return f"{f.get('path')} {f.get('low')}..{f.get('high')}"


def _condensed(ps: pd.DataFrame, pts: pd.DataFrame, spec: dict):
    """One row per design point: factor values, seller cost per policy, paired change with CI."""
    paths = [f["path"] for f in spec.get("factors", []) if f.get("path") in pts.columns]
    sel = ps[ps["metric"] == "seller_cost.total"]
    out = pts[["point_id", *paths]].copy().reset_index(drop=True)
    change = None
    if sel.empty:
        return out, None
    base = str(sel["baseline"].iloc[0])
    pols = [base] + [p for p in dict.fromkeys(sel["policy"]) if p != base]
    for p in pols:
        s = sel[sel["policy"] == p].set_index("point_id")
        out[f"{p} mean"] = out["point_id"].map(s["mean"])
    for p in pols[1:]:
        s = sel[sel["policy"] == p].set_index("point_id")
        tag = f"{p}-{base}"
        for col, src in (("change", "delta_mean"), ("ci95 low", "delta_ci_low"), ("ci95 high", "delta_ci_high"),
                         ("change %", "delta_pct")):
            out[f"{tag} {col}"] = out["point_id"].map(s[src])
        change = change or (f"{tag} change", f"{tag} ci95 low", f"{tag} ci95 high")
    return out, change


def _sensitivity_pair(sweeps: pd.DataFrame, specs: dict) -> tuple[str, str] | None:
    """The last (sobol, oat) pair of sweeps over the same factors and base scenario."""
    found = None
    for s in sweeps.itertuples():
        if str(s.design) != "sobol":
            continue
        for o in sweeps.itertuples():
            if str(o.design) != "oat":
                continue
            a, b = specs[s.sweep_id], specs[o.sweep_id]
            if a.get("factors") == b.get("factors") and a.get("scenario_hash") == b.get("scenario_hash"):
                found = (s.sweep_id, o.sweep_id)
    return found


# ---- writing -------------------------------------------------------------------------------------
def _versions() -> dict:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = None
    return out


def _is_store(path: str) -> bool:
    return Path(path).suffix.lower() in STORE_SUFFIXES


def build_report(source: str, out: str | Path = "report", formats=("html",), replications: int = 20,
                 seed: int = 20210901, advisor_replications: int | None = None, policies: str | None = None) -> Path:
    """Build the report of a scenario YAML or a results store into folder ``out``; returns it.

    ``policies`` (``"us-2021-old,us-2022-06"``) compares these policy versions instead of the
    scenario file's policies (scenario input only).
    """
    source = str(source)
    formats = _check_formats(formats)
    check_out(out, [source])
    if _is_store(source):
        if policies is not None:
            raise ScenarioError(["--policies: applies to a scenario file; a results store keeps the policies it ran"],
                                source)
        return _build(source, out, formats, kind="store")
    text = _read_text(source)
    scenario = load_scenario(source, policies=policies)
    comments = parse_comments(text)
    return _build(source, out, formats, kind="scenario", scenario=scenario, comments=comments,
                  replications=replications, seed=seed, advisor_replications=advisor_replications)


def _read_text(path: str) -> str:
    read_yaml(path)  # every way a file can be missing or broken -> ScenarioError
    return Path(path).read_text(encoding="utf-8")


REPRODUCE_MAX_REPLICATIONS = MAX_REPLICATIONS
"""The most replications (and advisor replications) a metadata.json may ask for: the CLI's bound on -r."""
REPRODUCE_MAX_SEED = MAX_SEED
METADATA_MAX_BYTES = 4_000_000
"""A report's metadata.json is tens of kilobytes; anything far larger is not one."""
METADATA_MAX_DEPTH = 32
"""Deepest nesting of a metadata.json (its scenario is about 5 levels deep)."""


def _metadata_model():
    """The pydantic schema of metadata.json, as far as :func:`reproduce` uses it (other keys are ignored)."""
    from typing import Any, Literal

    from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

    class _Input(BaseModel):
        model_config = ConfigDict(extra="ignore")
        path: StrictStr = Field(min_length=1, max_length=4096)
        resolved: StrictStr | None = Field(None, min_length=1, max_length=4096)

    class Metadata(BaseModel):
        model_config = ConfigDict(extra="ignore")
        kind: Literal["scenario", "store"]
        input: _Input
        formats: list[Literal["html", "pdf", "md"]] | None = Field(None, min_length=1, max_length=len(FORMATS))
        scenario: dict[StrictStr, Any] | None = None
        scenario_hash: StrictStr | None = Field(None, max_length=64)
        parameter_sources: dict[StrictStr, StrictStr] | None = None
        replications: StrictInt | None = Field(None, ge=1, le=REPRODUCE_MAX_REPLICATIONS)
        advisor_replications: StrictInt | None = Field(None, ge=1, le=REPRODUCE_MAX_REPLICATIONS)
        seed: StrictInt | None = Field(None, ge=0, le=REPRODUCE_MAX_SEED)

    return Metadata


def _json_depth(text: str) -> int:
    """Deepest nesting of ``[`` and ``{`` in a JSON text (outside strings), without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _got(value) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def read_metadata(metadata_path: str | Path):
    """A report's metadata.json, checked against its schema: every problem is one line naming the
    field (``replications: input should be ...``) in a :class:`ScenarioError` whose source is the file."""
    from pydantic import ValidationError

    mp = Path(metadata_path)
    src = str(mp)
    try:
        st = os.stat(mp)
    except FileNotFoundError:
        raise ScenarioError([f"--reproduce: no such file: {mp}"]) from None
    except OSError as err:
        raise ScenarioError([f"cannot read: {err.strerror or err}"], src) from None
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError(["not a report's metadata.json (not a regular file)"], src)
    if st.st_size > METADATA_MAX_BYTES:
        raise ScenarioError([f"not a report's metadata.json ({st.st_size:,} bytes; at most {METADATA_MAX_BYTES:,})"],
                            src)
    try:
        text = mp.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError([f"not a report's metadata.json ({err})"], src) from None
    if _json_depth(text) > METADATA_MAX_DEPTH:
        raise ScenarioError([f"not a report's metadata.json (nested deeper than {METADATA_MAX_DEPTH} levels)"], src)
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise ScenarioError([f"not JSON: {str(err)[:120]}"], src) from None
    if not isinstance(raw, dict):
        raise ScenarioError([f"not a report's metadata.json (a JSON object is expected, got {type(raw).__name__})"],
                            src)
    try:
        meta = _metadata_model().model_validate(raw)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            where = ".".join(str(x) for x in e["loc"]) or "(top level)"
            msg = re.sub(r" or instance of \w+", "", e["msg"][:1].lower() + e["msg"][1:])
            got = "" if e["type"] == "missing" else f" (got {_got(e.get('input'))})"
            problems.append(f"{where}: {msg}{got}")
        raise ScenarioError(problems, src) from None
    if meta.kind == "scenario":
        missing = [k for k in ("scenario", "replications", "advisor_replications", "seed") if getattr(meta, k) is None]
        if missing:
            raise ScenarioError([f"{k}: field required (a scenario report records it)" for k in missing], src)
    return meta


def reproduce(metadata_path: str | Path, out: str | Path | None = None, formats=None) -> Path:
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
    source = meta.input.path
    if meta.kind == "store":
        return _build(meta.input.resolved or source, out, formats, kind="store")
    try:
        scenario = scenario_from_dict(meta.scenario, str(mp))
    except ScenarioError as err:  # the fields are those of metadata.json's scenario
        raise ScenarioError([f"scenario.{p}" for p in err.problems], str(mp)) from None
    if meta.scenario_hash and scenario.hash != meta.scenario_hash:
        raise ScenarioError([f"scenario_hash: the scenario does not match its hash {meta.scenario_hash}"], str(mp))
    return _build(source, out, formats, kind="scenario", scenario=scenario,
                  comments=meta.parameter_sources or {}, replications=meta.replications,
                  seed=meta.seed, advisor_replications=meta.advisor_replications, reproduced_from=str(mp))


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
           reproduced_from: str | None = None) -> Path:
    import matplotlib

    formats = _check_formats(formats)
    check_out(out, [source, reproduced_from])
    with matplotlib.rc_context(STYLE):
        if kind == "store":
            from .store import StoreError, broken

            try:
                sections, content, info = _store_report(source)
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
            sections, content, info = _scenario_report(scenario, comments, replications, seed, adv_reps)
            title = f"azsim report: scenario {scenario.name}"
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        meta = {
            "azsim_version": __version__, "kind": kind, "created": created,
            "input": {"path": source, "resolved": str(Path(source).resolve())},
            "formats": list(formats), "python": platform.python_version(), "packages": _versions(), **info,
        }
        if kind == "scenario":
            meta["scenario"] = scenario.to_dict()
            meta["parameter_sources"] = dict(sorted((comments or {}).items()))
        if reproduced_from:
            meta["reproduced_from"] = reproduced_from
        subtitle = (f"azsim {__version__} | created {created} | " +
                    (f"scenario hash {info['scenario_hash']} | seed {info['seed']} | {info['replications']} "
                     f"replications" if kind == "scenario" else f"{len(info['sweeps'])} sweeps"))
        report = Report(title, subtitle, sections, content["tables"], content["figures"], meta)
        return _write(report, Path(out), formats)


def _check_formats(formats) -> list[str]:
    if isinstance(formats, str):
        formats = [f.strip() for f in formats.split(",") if f.strip()]
    formats = list(dict.fromkeys(formats))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ScenarioError([f"--format: choose from {', '.join(FORMATS)} (comma-separated), got "
                             f"{', '.join(bad) or 'nothing'}"])
    return formats


def _write(report: Report, out: Path, formats: list[str]) -> Path:
    """Write the report into a temporary folder next to ``out`` and rename it to ``out`` at the end
    (an existing report folder is replaced only then); any failure, Ctrl-C included, leaves nothing."""
    with building(out, replace=True, flag="--out") as tmp:
        _write_files(report, tmp, formats)
    return out


def _write_files(report: Report, out: Path, formats: list[str]) -> None:
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
    if "html" in formats:
        (out / "report.html").write_text(_html(report), encoding="utf-8")
    if "md" in formats:
        (out / "report.md").write_text(_markdown(report), encoding="utf-8")
    if "pdf" in formats:
        _pdf(report, out / "report.pdf")


def _latex(t: Table) -> str:
    df = t.df.copy()
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].map(lambda v: v if isinstance(v, str) else fmt(v, t.decimals))
    return df.to_latex(index=False, caption=tex_escape(t.caption), label=f"tab:{t.name}",
                       float_format=lambda x: fmt(x, t.decimals), na_rep="n/a", escape=True, longtable=len(df) > 40)


_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ r.title }}</title>
<style>
body { font-family: "DejaVu Sans", Arial, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem;
       color: #111; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; border-bottom: 1px solid #999; margin-top: 2rem; }
.sub { color: #555; font-size: 0.9rem; }
table { border-collapse: collapse; font-size: 0.8rem; margin: 0.5rem 0 1.5rem; display: block; overflow-x: auto; }
th, td { border: 1px solid #bbb; padding: 0.2rem 0.45rem; } th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
caption { caption-side: top; text-align: left; font-weight: bold; padding: 0.3rem 0; }
figure { margin: 1rem 0; } figure img { max-width: 100%; } figcaption { font-size: 0.85rem; color: #333; }
.note { font-size: 0.8rem; color: #555; }
</style></head><body>
<h1>{{ r.title }}</h1>
<p class="sub">{{ r.subtitle }}</p>
{% for s in r.sections %}<section><h2>{{ s.title }}</h2>
{% for p in s.paragraphs %}<p>{{ p }}</p>
{% endfor %}{% for kind, name in s.items %}{% if kind == "figure" %}{% set f = r.figures[name] %}
<figure id="fig-{{ f.name }}"><img src="data:image/png;base64,{{ b64(f.png) }}" alt="{{ f.caption }}">
<figcaption>{{ f.caption }} (figures/{{ f.name }}.png, .svg)</figcaption></figure>
{% else %}{% set t = r.tables[name] %}<table id="tab-{{ t.name }}"><caption>{{ t.caption }}</caption>
<thead><tr>{% for c in t.df.columns %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for row in t.cells(max_rows) %}<tr>{% for v, num in zip(row, numeric(t)) -%}
<td{% if num %} class="num"{% endif %}>{{ v }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>{% if t.df|length > max_rows -%}
<p class="note">First {{ max_rows }} of {{ t.df|length }} rows.</p>{% endif %}
<p class="note">tables/{{ t.name }}.csv, tables/{{ t.name }}.tex</p>
{% endif %}{% endfor %}</section>
{% endfor %}
<section><h2>Reproducibility</h2><pre>{{ meta_text }}</pre></section>
</body></html>
"""


def _numeric(t: Table) -> list[bool]:
    return [pd.api.types.is_numeric_dtype(t.df[c]) for c in t.df.columns]


def _html(report: Report) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    meta = {k: v for k, v in report.metadata.items() if k not in ("scenario", "parameter_sources")}
    return env.from_string(_HTML).render(
        r=report, max_rows=HTML_MAX_ROWS, zip=zip, numeric=_numeric,
        b64=lambda data: base64.b64encode(data).decode("ascii"),
        meta_text=json.dumps(meta, indent=2, default=str) + "\nRebuild: azsim report --reproduce metadata.json")


def _md_cell(v: str) -> str:
    return md_escape(v)


def _markdown(report: Report) -> str:
    """report.md: every text is escaped (:func:`azsim.outputs.md_escape`: no HTML, link or image syntax
    from a name, description or comment); only the structure (headings, tables, figure links to the
    slugged file names) is Markdown."""
    e = md_escape
    lines = [f"# {e(report.title)}", "", e(report.subtitle), ""]
    for s in report.sections:
        lines += [f"## {e(s.title)}", ""]
        for p in s.paragraphs:
            lines += [e(p), ""]
        for kind, name in s.items:
            if kind == "figure":
                f = report.figures[name]
                lines += [f"![{e(f.caption)}](figures/{f.name}.png)", "", f"*{e(f.caption)}*", ""]
            else:
                t = report.tables[name]
                lines += [f"**{e(t.caption)}**", "", "| " + " | ".join(_md_cell(c) for c in t.df.columns) + " |",
                          "|" + "|".join("---:" if n else "---" for n in _numeric(t)) + "|"]
                lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in t.cells(HTML_MAX_ROWS)]
                if len(t.df) > HTML_MAX_ROWS:
                    lines.append(f"\nFirst {HTML_MAX_ROWS} of {len(t.df)} rows.")
                lines += ["", f"(tables/{t.name}.csv, tables/{t.name}.tex)", ""]
    return "\n".join(lines) + "\n"


def _pdf(report: Report, path: Path) -> None:
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path, metadata={"Title": report.title, "Creator": f"azsim {__version__}"}) as pdf:
        # text pages: title, subtitle, every section's paragraphs
        blocks = [(report.title, 14, "bold"), (report.subtitle, 8, "normal")]
        for s in report.sections:
            if s.paragraphs:
                blocks.append((s.title, 11, "bold"))
                blocks += [(p, 9, "normal") for p in s.paragraphs]
        _text_pages(pdf, blocks)
        for f in report.figures.values():
            pdf.savefig(f.fig)
        for t in report.tables.values():
            _table_pages(pdf, t)


def _text_pages(pdf, blocks) -> None:
    fig, y = None, 0.0
    for text, size, weight in blocks:
        wrapped = textwrap.wrap(text, 95 if size <= 9 else 70) or [""]
        for i in range(0, len(wrapped), 60):
            chunk = wrapped[i:i + 60]
            need = (len(chunk) + 1) * size * 1.5 / 842
            if fig is None or y - need < 0.05:
                if fig is not None:
                    pdf.savefig(fig)
                fig, y = _new_page(), 0.95
            fig.text(0.08, y, "\n".join(chunk), fontsize=size, weight=weight, va="top", family="DejaVu Sans")
            y -= need
    if fig is not None:
        pdf.savefig(fig)


def _new_page():
    from matplotlib.figure import Figure as MplFigure

    return MplFigure(figsize=(8.27, 11.69))


def _short(v: str, n: int = 48) -> str:
    return v if len(v) <= n else v[: n - 1] + "…"


def _table_pages(pdf, t: Table) -> None:
    rows = t.cells(PDF_ROWS_PER_PAGE * PDF_MAX_PAGES)
    cols = [_short(str(c), 24) for c in t.df.columns]
    pages = max(1, math.ceil(len(rows) / PDF_ROWS_PER_PAGE))
    for k in range(pages):
        chunk = [[_short(v) for v in row] for row in rows[k * PDF_ROWS_PER_PAGE:(k + 1) * PDF_ROWS_PER_PAGE]]
        fig = _new_page()
        ax = fig.add_axes([0.04, 0.04, 0.92, 0.86])
        ax.axis("off")
        title = t.caption + (f" (page {k + 1} of {pages})" if pages > 1 else "")
        if len(t.df) > len(rows) and k == pages - 1:
            title += f"; first {len(rows)} of {len(t.df)} rows, all in tables/{t.name}.csv"
        fig.text(0.04, 0.95, textwrap.fill(title, 110), fontsize=9, weight="bold", va="top")
        if chunk:
            lengths = np.array([max([len(c)] + [len(r[i]) for r in chunk]) for i, c in enumerate(cols)], float)
            widths = list(lengths / lengths.sum())
            tab = ax.table(cellText=chunk, colLabels=cols, colWidths=widths, loc="upper center", cellLoc="right",
                           colLoc="center")
            tab.auto_set_font_size(False)
            tab.set_fontsize(5 if len(cols) > 6 else 6)
            numeric = _numeric(t)
            for (r, c), cell in tab.get_celld().items():
                if r > 0 and not numeric[c]:
                    cell._loc = "left"
                    cell.get_text().set_horizontalalignment("left")
        else:
            ax.text(0.5, 0.9, "(no rows)", ha="center")
        pdf.savefig(fig)
