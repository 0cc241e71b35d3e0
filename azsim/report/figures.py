"""The report's figures (matplotlib): one style, readable in greyscale (hatching, line styles), every
label, unit, money format, policy name and policy colour from :mod:`azsim.labels` (so a policy has
the same colour here as in the app). Each function takes numbers already computed and draws them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import labels as L

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
LINESTYLES = ["-", "--", ":", "-."]
INCREASE, DECREASE = L.PALETTE[5], L.PALETTE[2]  # vermillion up, green down (Okabe-Ito)


def _lc(label: str) -> str:
    """A metric label inside a sentence: 'Seller cost' -> 'seller cost'; 'Amazon cost' stays."""
    return label if label.split(" ")[0] in ("Amazon", "PD/PI", "A-to-z") else label[:1].lower() + label[1:]


def new_figure(width: float = 6.4, height: float = 3.6):
    from matplotlib.figure import Figure as MplFigure

    return MplFigure(figsize=(width, height), layout="constrained")


def _money_axis(axis, currency: str, signed: bool = False) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: L.money(v, currency, signed=signed)))


def _styles(policies: list[str]) -> dict[str, dict]:
    colours = L.policy_colours(policies)
    return {p: {"color": c, "hatch": HATCHES[i % len(HATCHES)], "linestyle": LINESTYLES[i % len(LINESTYLES)]}
            for i, (p, c) in enumerate(zip(policies, colours, strict=True))}


def waterfall(categories: pd.DataFrame, base: str, other: str, currency: str):
    """Seller cost from ``base``'s total to ``other``'s: one bar per category's paired change.
    ``categories``: category (a ledger key), change; attrs base_total, other_total."""
    fig = new_figure(7.2, 4.2)
    ax = fig.add_subplot()
    style = _styles([base, other])
    labels = ([f"{L.policy_label(base)}: total"] + [L.CATEGORY_LABELS.get(str(c), L.humanize(c))
                                                   for c in categories["category"]]
              + [f"{L.policy_label(other)}: total"])
    old_total = float(categories.attrs["base_total"])
    new_total = float(categories.attrs["other_total"])
    level = old_total
    xs = np.arange(len(labels))
    ax.bar(xs[0], old_total, color=style[base]["color"], edgecolor="black", linewidth=0.6)
    for i, ch in enumerate(categories["change"], start=1):
        ch = float(ch)
        up = ch >= 0
        ax.bar(xs[i], ch, bottom=level, color=INCREASE if up else DECREASE, edgecolor="black", linewidth=0.6,
               hatch="///" if up else "...")
        ax.annotate(L.money(ch, currency, signed=True), (xs[i], level + ch if up else level), xytext=(0, 2),
                    textcoords="offset points", ha="center", va="bottom", fontsize=7)
        level += ch
    ax.bar(xs[-1], new_total, color=style[other]["color"], edgecolor="black", linewidth=0.6, hatch="xxx")
    levels = np.cumsum([old_total, *categories["change"].astype(float)])
    lo, hi = float(min(levels.min(), new_total)), float(max(levels.max(), new_total))
    scale = max(abs(old_total), abs(new_total), 1.0)
    if lo > 0 and hi - lo < 0.25 * scale:  # changes small beside the totals: zoom in on them
        pad = max(hi - lo, 0.01 * scale)
        ax.set_ylim(max(0.0, lo - 1.5 * pad), hi + pad)
        ax.text(0.01, 0.99, "The y axis does not start at 0", transform=ax.transAxes, fontsize=7, va="top")
    ax.set_xticks(xs, labels, rotation=35, ha="right")
    ax.set_ylabel(f"Seller cost ({currency} per year)")
    _money_axis(ax.yaxis, currency)
    ax.set_title(f"Seller cost, {L.policy_label(base)} to {L.policy_label(other)}, by category")
    ax.axhline(0, color="black", linewidth=0.6)
    return fig


def grouped_bars(frame: pd.DataFrame, group: str, series: str, value: str, axis_label: str, title: str,
                 lo: str | None = None, hi: str | None = None, horizontal: bool = False,
                 currency: str | None = None, series_labels: dict | None = None, colours: dict | None = None):
    """Bars of ``value`` per ``group`` (category axis), one bar per ``series`` (policies: their fixed
    colours), with error bars from ``lo``/``hi``; money ticks when ``currency`` is given."""
    fig = new_figure(6.4, 3.6 if not horizontal else 0.6 + 0.45 * max(3, frame[group].nunique()))
    ax = fig.add_subplot()
    groups = list(dict.fromkeys(frame[group]))
    names = list(dict.fromkeys(frame[series]))
    style = _styles(names)
    width = 0.8 / max(len(names), 1)
    pos = np.arange(len(groups))
    for k, name in enumerate(names):
        sub = frame[frame[series] == name].set_index(group).reindex(groups)
        vals = sub[value].astype(float).to_numpy()
        err = None
        if lo and hi:
            low = sub[lo].astype(float).to_numpy()
            high = sub[hi].astype(float).to_numpy()
            err = np.abs(np.nan_to_num(np.vstack([vals - low, high - vals]), nan=0.0))
        x = pos + (k - (len(names) - 1) / 2) * width
        kw = dict(color=(colours or {}).get(name, style[name]["color"]), edgecolor="black", linewidth=0.6,
                  hatch=style[name]["hatch"], label=(series_labels or {}).get(name, L.policy_label(name)))
        if horizontal:
            ax.barh(x, vals, height=width, xerr=err, capsize=2, **kw)
        else:
            ax.bar(x, vals, width=width, yerr=err, capsize=2, **kw)
    if horizontal:
        ax.set_yticks(pos, groups)
        ax.invert_yaxis()
        ax.set_xlabel(axis_label)
        ax.axvline(0, color="black", linewidth=0.6)
        if currency:
            _money_axis(ax.xaxis, currency)
    else:
        ax.set_xticks(pos, groups, rotation=15, ha="right")
        ax.set_ylabel(axis_label)
        ax.axhline(0, color="black", linewidth=0.6)
        if currency:
            _money_axis(ax.yaxis, currency)
    ax.set_title(title)
    if horizontal:  # below the plot, where it cannot cover a bar
        fig.legend(loc="outside lower center", ncol=min(len(names), 4))
    else:
        ax.legend(loc="best")
    return fig


def odr_figure(odr: pd.DataFrame, limit_pct: float):
    """The ODR over time per policy (policy colours and line styles) with the scenario's own limit."""
    fig = new_figure()
    ax = fig.add_subplot()
    policies = list(dict.fromkeys(odr["policy"]))
    style = _styles(policies)
    for policy, sub in odr.groupby("policy", sort=False):
        ax.plot(sub["day"], sub["odr_pct"], color=style[policy]["color"], linestyle=style[policy]["linestyle"],
                linewidth=1.2, label=L.policy_label(policy))
    ax.axhline(limit_pct, color="black", linewidth=0.8, linestyle=":", label=f"Limit: {limit_pct:g}%")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0, top=max(limit_pct * 1.15, float(odr["odr_pct"].max()) * 1.1 if len(odr) else 0))
    ax.set_xlabel("Day")
    ax.set_ylabel("Order defect rate (%), mean over replications")
    ax.set_title("Order defect rate over time")
    ax.legend(loc="best")
    return fig


def sobol_figure(ind: pd.DataFrame, output_label: str):
    fig = new_figure(6.4, 1.2 + 0.5 * max(2, len(ind)))
    ax = fig.add_subplot()
    pos = np.arange(len(ind))
    for k, (col, label) in enumerate((("S1", "First-order index (S1)"), ("ST", "Total index (ST)"))):
        vals = ind[col].astype(float).to_numpy()
        err = np.nan_to_num(np.vstack([vals - ind[f"{col}_ci_low"].astype(float),
                                       ind[f"{col}_ci_high"].astype(float) - vals]), nan=0.0)
        ax.barh(pos + (k - 0.5) * 0.4, vals, height=0.4, xerr=np.abs(err), capsize=2, color=L.PALETTE[4 + k],
                edgecolor="black", linewidth=0.6, hatch=HATCHES[k], label=label)
    ax.set_yticks(pos, list(ind["factor"]))
    ax.invert_yaxis()
    ax.set_xlabel("Sobol index (95% bootstrap CI)")
    ax.set_title(f"What drives the change in {_lc(output_label)}")
    ax.legend(loc="best")
    return fig


def tornado_figure(torn: pd.DataFrame, output_label: str, currency: str | None = None):
    fig = new_figure(6.4, 1.2 + 0.5 * max(2, len(torn)))
    ax = fig.add_subplot()
    pos = np.arange(len(torn))
    centre = float(torn["centre"].iloc[0]) if len(torn) else 0.0
    for k, (col, label) in enumerate((("low", "Factor at the low end"), ("high", "Factor at the high end"))):
        vals = torn[col].astype(float).to_numpy()
        ax.barh(pos, vals - centre, left=centre, height=0.6, color=L.PALETTE[4 + k], edgecolor="black",
                linewidth=0.6, hatch=HATCHES[k + 1], label=label, alpha=0.85)
    ax.axvline(centre, color="black", linewidth=0.8)
    ax.set_yticks(pos, list(torn["factor"]))
    ax.invert_yaxis()
    ax.set_xlabel(f"Change in {_lc(output_label)}, others at the centre")
    if currency:
        _money_axis(ax.xaxis, currency, signed=True)
    ax.set_title("One factor at a time (tornado)")
    ax.legend(loc="best")
    return fig


def sweep_figure(cond: pd.DataFrame, change_col: str, lo: str, hi: str, title: str, currency: str = "USD"):
    fig = new_figure()
    ax = fig.add_subplot()
    y = cond[change_col].astype(float).to_numpy()
    err = np.nan_to_num(np.abs(np.vstack([y - cond[lo].astype(float), cond[hi].astype(float) - y])), nan=0.0)
    ax.errorbar(cond["point_id"], y, yerr=err, fmt="o", color=L.PALETTE[0], markersize=3, capsize=2, linewidth=0.8)
    ax.axhline(0, color="black", linewidth=0.6, linestyle="--")
    ax.set_xlabel("Design point")
    ax.set_ylabel(f"Change in seller cost ({currency} per year)")
    _money_axis(ax.yaxis, currency, signed=True)
    ax.set_title(title)
    return fig
