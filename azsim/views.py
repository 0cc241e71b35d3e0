"""Tidy tables for the faces (app, reports): every number is read from a :class:`Comparison` (or an
:class:`~azsim.advisor.Advice`), every label and format from :mod:`azsim.labels`.

Each function returns a pandas DataFrame (or a small object) ready to chart or print; none simulates.
The headline numbers come from :func:`azsim.headline.headline` (one table, built once).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import stdtrit

from . import labels as L
from .comparison import COST_KEYS, Comparison, compare
from .headline import PARTY_ROWS, Headline
from .headline import headline as _headline
from .stats import LEVEL, mean_ci, paired

__all__ = ["PARTY_LABELS", "PALETTE", "headline", "policy_names", "policy_scale", "cost_by_category", "who_pays",
           "claims_funnel", "odr_over_time", "odr_limit_pct", "suspension_spans", "delta_distribution", "Card",
           "cards", "REFERENCE_REPLICATIONS", "ci_widening", "precision_note", "advisor_table", "advisor_savings",
           "scenario_differences", "markdown_summary"]

PARTY_LABELS = {p: L.PARTY_LABELS[p] for p in COST_KEYS}
"""The four parties the results report, as shown (from :mod:`azsim.labels`)."""

PALETTE = L.PALETTE
"""Okabe-Ito colours: distinguishable with the common colour-vision deficiencies (:data:`azsim.labels.PALETTE`)."""

REFERENCE_REPLICATIONS = int(inspect.signature(compare).parameters["replications"].default)
"""Replications of ``compare`` (and the CLI's ``azsim compare``) by default: 20."""


def headline(result: Comparison, policies: list[str] | None = None) -> Headline:
    """The four parties' yearly net costs (:data:`azsim.headline.PARTY_ROWS`): each policy's level and
    each policy's paired change from the first of ``policies`` (default: all; ``[baseline, other]`` for
    one pair, as the app's comparison picker does)."""
    return _headline(result, policies, rows=PARTY_ROWS)


# ---- policies as shown ------------------------------------------------------------------------------
def policy_names(policies) -> dict[str, str]:
    """``{policy name: label as shown}`` (:func:`azsim.labels.policy_label`), made unique: two names
    that read alike ('new_500', 'new-500') are told apart by their own name."""
    shown = {p: L.policy_label(p) for p in policies}
    counts = pd.Series(list(shown.values())).value_counts()
    return {p: (f"{t} ({p})" if counts[t] > 1 else t) for p, t in shown.items()}


def policy_scale(policies) -> tuple[list[str], list[str]]:
    """``(domain, range)`` of a chart's colour scale: the policies' labels (:func:`policy_names`) and their
    fixed colours (:func:`azsim.labels.policy_colours`): 'old' has the same colour in every scenario."""
    policies = list(policies)
    names = policy_names(policies)
    return [names[p] for p in policies], L.policy_colours(policies)


def _pick(result: Comparison, policies) -> list[str]:
    pols = list(policies) if policies is not None else list(result.policies)
    unknown = [p for p in pols if p not in result.policies]
    if unknown:
        raise KeyError(f"no policy {', '.join(map(repr, unknown))} in this comparison")
    return pols


def _with_policy_label(df: pd.DataFrame, pols: list[str]) -> pd.DataFrame:
    names = policy_names(pols)
    df = df[df["policy"].isin(pols)].copy()
    df.insert(df.columns.get_loc("policy") + 1, "policy_label", df["policy"].map(names))
    return df.reset_index(drop=True)


# ---- tables to chart --------------------------------------------------------------------------------
def cost_by_category(result: Comparison, party: str = "seller", policies: list[str] | None = None) -> pd.DataFrame:
    """policy, category, mean yearly cost of ``party`` in that category (non-zero ones); with ``policies``
    only those, and then also ``policy_label`` and ``category_label`` (as shown)."""
    prefix = f"{COST_KEYS[party]}.by_category."
    runs = result.runs[result.runs["metric"].str.startswith(prefix)]
    out = (runs.groupby(["policy", "metric"])["value"].sum() / result.replications).reset_index()
    out["category"] = out["metric"].str.removeprefix(prefix)
    out = out[out["value"].abs() >= 0.005]
    out = out[["policy", "category", "value"]].rename(columns={"value": "cost"}).reset_index(drop=True)
    if policies is None:
        return out
    out = _with_policy_label(out, _pick(result, policies))
    out["category_label"] = out["category"].map(lambda c: L.CATEGORY_LABELS.get(c, L.humanize(c)))
    return out


def who_pays(result: Comparison, policies: list[str] | None = None) -> pd.DataFrame:
    """policy, party, mean yearly net cost with its 95% CI; with ``policies`` only those (and
    ``policy_label``)."""
    rows = []
    for p in result.policies:
        for party, key in COST_KEYS.items():
            m, ci = mean_ci(result.values(p, f"{key}.total"))
            rows.append({"policy": p, "party": PARTY_LABELS[party], "cost": m,
                         "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None})
    out = pd.DataFrame(rows)
    return out if policies is None else _with_policy_label(out, _pick(result, policies))


_OUTCOME_GROUPS = {
    "withdrawn": "withdrawn or denied", "denied": "withdrawn or denied", "screened_out": "withdrawn or denied",
    "out_of_window": "withdrawn or denied", "abandoned": "withdrawn or denied", "lost_in_court": "withdrawn or denied",
    "unpaid": "withdrawn or denied", "dispute_won": "withdrawn or denied", "reversed_on_appeal": "withdrawn or denied",
    "granted_amazon_funded": "paid by Amazon", "amazon_paid_insured_seller": "paid by Amazon",
    "amazon_paid_unrecovered": "paid by Amazon",
}


def claims_funnel(result: Comparison, policies: list[str] | None = None) -> pd.DataFrame:
    """policy, stage, order (for sorting), count per year: incidents -> messages -> claims -> outcomes;
    with ``policies`` only those (and ``policy_label``, ``stage_label``)."""
    def total(p: str, prefix: str) -> float:
        r = result.runs
        sel = r[(r["policy"] == p) & r["metric"].str.startswith(prefix)]
        return float(sel["value"].sum() / result.replications)

    rows = []
    for p in result.policies:
        rows.append({"policy": p, "stage": "incidents", "order": 0, "count": total(p, "counts.incidents.")})
        rows.append({"policy": p, "stage": "buyer messages", "order": 1, "count": total(p, "counts.messages")})
        rows.append({"policy": p, "stage": "claims filed", "order": 2, "count": total(p, "counts.claims.total.")})
        r = result.runs
        out = r[(r["policy"] == p) & r["metric"].str.startswith("counts.claims.by_outcome.")]
        groups: dict[str, float] = {}
        for metric, v in out.groupby("metric")["value"].sum().items():
            outcome = metric.removeprefix("counts.claims.by_outcome.")
            g = _OUTCOME_GROUPS.get(outcome, "paid by seller or insurer")
            groups[g] = groups.get(g, 0.0) + v / result.replications
        for i, g in enumerate(("paid by seller or insurer", "paid by Amazon", "withdrawn or denied")):
            rows.append({"policy": p, "stage": g, "order": 3 + i, "count": groups.get(g, 0.0)})
    out = pd.DataFrame(rows)
    if policies is None:
        return out
    out = _with_policy_label(out, _pick(result, policies))
    out["stage_label"] = out["stage"].map(lambda s: ("Claims " + s) if s.startswith(("paid", "withdrawn"))
                                          else L.humanize(s))
    return out


def odr_over_time(result: Comparison, policies: list[str] | None = None) -> pd.DataFrame:
    """policy, day, ODR (mean over replications, in %), share of replications suspended that day; with
    ``policies`` only those (and ``policy_label``)."""
    h = result.health
    if h.empty:
        out = pd.DataFrame(columns=["policy", "day", "odr_pct", "suspended_share"])
    else:
        g = h.groupby(["policy", "day"]).agg(odr=("odr", "mean"), suspended_share=("suspended", "mean")).reset_index()
        g["odr_pct"] = 100 * g["odr"]
        out = g[["policy", "day", "odr_pct", "suspended_share"]]
    return out if policies is None else _with_policy_label(out, _pick(result, policies))


def odr_limit_pct(result: Comparison) -> float:
    """The scenario's own ODR limit, in % (``account_health.odr.limit`` x 100)."""
    return 100.0 * float(result.scenario.account_health.odr.limit)


def suspension_spans(result: Comparison, policies: list[str] | None = None) -> pd.DataFrame:
    """policy, policy_label, start, end (days), share: the stretches in which a share of the replications
    had the whole account suspended (share > 0); a review day's share holds until the next review.
    Consecutive reviews with the same share are one span."""
    pols = _pick(result, policies)
    cols = ["policy", "policy_label", "start", "end", "share"]
    h = result.health
    if h.empty:
        return pd.DataFrame(columns=cols)
    step = float(result.scenario.account_health.review_every_days)
    names = policy_names(pols)
    g = h.groupby(["policy", "day"])["suspended"].mean()
    rows = []
    for p in pols:
        if p not in g.index.get_level_values(0):
            continue
        s = g.loc[p].sort_index()
        days, shares = s.index.to_numpy(dtype=float), s.to_numpy(dtype=float)
        for i, (day, share) in enumerate(zip(days, shares, strict=True)):
            if share <= 0:
                continue
            end = days[i + 1] if i + 1 < len(days) else day + step
            if rows and rows[-1]["policy"] == p and rows[-1]["end"] == day and rows[-1]["share"] == share:
                rows[-1]["end"] = end
            else:
                rows.append({"policy": p, "policy_label": names[p], "start": day, "end": end, "share": share})
    return pd.DataFrame(rows, columns=cols)


def delta_distribution(result: Comparison, metric: str = "seller_cost.total",
                       policies: list[str] | None = None) -> pd.DataFrame:
    """replication, policy, paired change of ``metric`` from the first policy (one row per replication);
    with ``policies`` only those (and ``policy_label``)."""
    rows = []
    for p in result.policies[1:]:
        d = result.deltas(p, metric)
        rows.extend({"replication": i, "policy": p, "change": float(v)} for i, v in enumerate(d) if np.isfinite(v))
    out = pd.DataFrame(rows, columns=["replication", "policy", "change"])
    return out if policies is None else _with_policy_label(out, _pick(result, policies))


# ---- the headline cards -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Card:
    """One headline card, as text: the party's yearly net cost under each policy of the pair and the change."""

    key: str
    title: str  # 'Seller cost'
    description: str
    baseline: str  # policy labels
    policy: str
    baseline_level: str  # '$111,973'
    policy_level: str
    change: str  # '-$506'
    ci: str  # '95% CI -$725 to -$286'
    pct: str  # '-0.5%'
    phrase: str  # '-$506 a year (95% CI -$725 to -$286)'


def cards(h: Headline, policy: str | None = None) -> list[Card]:
    """The cards of a headline for ``policy`` against the baseline (default: the headline's second policy)."""
    if len(h.policies) < 2:
        return []
    policy = policy or h.policies[1]
    names = policy_names(h.policies)
    base = h.baseline
    out = []
    for r in h.rows:
        c = r.changes[policy]
        ci = L.ci_text(c.low, c.high, r.unit, h.currency)
        out.append(Card(r.key, r.text, L.metric(r.key).description, names[base], names[policy],
                        L.value(r.levels[base], r.unit, h.currency), L.value(r.levels[policy], r.unit, h.currency),
                        L.value(c.mean, r.unit, h.currency, signed=True), f"95% CI {ci}" if ci != "n/a" else "no CI",
                        L.pct_text(c.pct), c.phrase(r.unit, h.currency)))
    return out


def ci_widening(replications: int, reference: int = REFERENCE_REPLICATIONS, level: float = LEVEL) -> float:
    """How many times wider a Student-t confidence interval of a mean is over ``replications`` than over
    ``reference`` replications of the same spread: t(n-1) / sqrt(n) over t(m-1) / sqrt(m)."""
    def half(n: int) -> float:
        return float(stdtrit(max(n - 1, 1), 0.5 + level / 2)) / math.sqrt(n)

    return half(int(replications)) / half(int(reference))


def precision_note(h: Headline, policy: str | None = None, reference: int = REFERENCE_REPLICATIONS) -> str:
    """One line for next to the cards: how many paired replications, against the CLI's default, and how wide
    the seller's 95% CI is: '8 paired replications (the CLI uses 20): 95% CIs are about 1.8 times as wide
    here; the seller's change is known to within ±$219 a year.'"""
    n = h.replications
    head = f"{L.plural(n, 'paired replication')} (the command line, azsim compare, uses {reference})"
    if n == reference:
        head = f"{L.plural(n, 'paired replication')}, as the command line (azsim compare) uses"
        tail = ""
    elif n < reference:
        tail = f": 95% CIs are about {ci_widening(n, reference):.1f} times as wide here"
    else:
        tail = f": 95% CIs are about {1 / ci_widening(n, reference):.1f} times narrower here"
    seller = next((r for r in h.rows if r.key == "seller_cost.total"), None)
    if seller is not None and len(h.policies) > 1:
        c = seller.changes[policy or h.policies[1]]
        if c.low is not None and c.high is not None:
            tail += (f"{';' if tail else ':'} the seller's change is known to within "
                     f"±{L.money((c.high - c.low) / 2, h.currency)} a year")
    return head + tail + ". More replications (sidebar) narrow them."


# ---- the advisor ----------------------------------------------------------------------------------
def _practice_label(practice: str) -> str:
    from .advisor import PRACTICE_LABELS

    return PRACTICE_LABELS.get(practice, L.humanize(practice))


def advisor_savings(advice, policies: list[str] | None = None) -> pd.DataFrame:
    """rank, practice, practice_label, policy, policy_label, saving (net, per year) with ci_low, ci_high:
    the advisor's chart, fix-first first, ``policies`` (default: all) in the given order."""
    pols = list(policies) if policies is not None else list(advice.policies)
    names = policy_names(pols)
    p = advice.practices
    p = p[p["policy"].isin(pols)]
    out = pd.DataFrame({"rank": p["rank"].astype(int), "practice": p["practice"],
                        "practice_label": p["practice"].map(_practice_label), "policy": p["policy"],
                        "policy_label": p["policy"].map(names), "saving": p["saving_mean"],
                        "ci_low": p["saving_ci_low"], "ci_high": p["saving_ci_high"]})
    out["_o"] = out["policy"].map(pols.index)
    return out.sort_values(["rank", "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)


def advisor_table(advice, policies: list[str] | None = None, currency: str = "USD") -> pd.DataFrame:
    """The advisor as a display table (text cells): one row per practice, fix-first first; per policy (of
    ``policies``, default all, the last first) its gross saving, practice cost and net saving with its 95% CI
    ('$1,234 (95% CI $800 to $1,700)'), and, with two policies or more, the policy effect on the net saving."""
    pols = list(policies) if policies is not None else list(advice.policies)
    names = policy_names(pols)
    rows = advice.practices.set_index(["practice", "policy"])
    base = pols[0]

    def money(x, signed=False):
        return L.money(x, currency, signed)

    def with_ci(m, lo, hi):
        ci = L.ci_text(lo, hi, L.MONEY, currency)
        return money(m, True) + ("" if ci == "n/a" else f" (95% CI {ci})")

    out = []
    for practice in advice.ranking:
        row = {"Rank": int(rows.loc[(practice, pols[0]), "rank"]), "Practice": _practice_label(practice)}
        for p in reversed(pols):
            r = rows.loc[(practice, p)]
            row[f"{names[p]}: gross saving"] = money(r["gross_saving_mean"], True)
            row[f"{names[p]}: practice cost"] = money(r["practice_cost_mean"], True)
            row[f"{names[p]}: net saving"] = with_ci(r["saving_mean"], r["saving_ci_low"], r["saving_ci_high"])
        if len(pols) > 1:
            last = pols[-1]
            r = rows.loc[(practice, last)]
            if base == advice.policies[0]:
                row[f"Policy effect, {names[last]} vs {names[base]}"] = with_ci(
                    r["policy_effect_mean"], r["policy_effect_ci_low"], r["policy_effect_ci_high"])
        out.append(row)
    return pd.DataFrame(out)


# ---- two scenarios --------------------------------------------------------------------------------
def scenario_differences(left: Comparison, right: Comparison, left_policy: str, right_policy: str) -> pd.DataFrame:
    """Per party: the paired change (policy - baseline) in each scenario and the difference right - left
    with its 95% CI. The two comparisons ran on the same seeds, so replication i of one is paired with
    replication i of the other (a paired t-interval over the shared replications; independent pairs are as
    valid, only less precise). Columns: key, party, left, right, difference, ci_low, ci_high, n."""
    rows = []
    for party, key in COST_KEYS.items():
        metric = f"{key}.total"
        dl, dr = left.deltas(left_policy, metric), right.deltas(right_policy, metric)
        n = min(len(dl), len(dr))
        d = paired(dl[:n], dr[:n])
        rows.append({"key": metric, "party": PARTY_LABELS[party], "left": float(np.mean(dl)),
                     "right": float(np.mean(dr)), "difference": d.mean,
                     "ci_low": d.ci95[0] if d.ci95 else None, "ci_high": d.ci95[1] if d.ci95 else None, "n": d.n})
    return pd.DataFrame(rows)


# ---- the Markdown download ------------------------------------------------------------------------------
def markdown_summary(result: Comparison, scenario_file: str = "scenario.yaml", title: str = "azsim what-if") -> str:
    """A short Markdown report: the headline table of every policy (:meth:`Headline.markdown`) and a line to
    reproduce it with the command line."""
    from . import __version__
    from .outputs import md_escape

    s = result.scenario
    h = _headline(result)
    cmd = f"azsim compare {scenario_file} --replications {result.replications} --seed {result.seed}"
    names = policy_names(result.policies)
    pols = ", ".join(f"{md_escape(names[p])} (`{p}`)" for p in result.policies)
    return (f"# {md_escape(title)}: {md_escape(s.name)}\n\n"
            f"Policies: {pols}; the first is the baseline of every change. Per year; means over "
            f"{L.plural(result.replications, 'paired replication')}; change with its 95% CI.\n\n"
            f"{h.markdown()}\n\n"
            f"## Reproducibility\n\nazsim {__version__}, scenario hash {s.hash}, "
            f"{L.plural(result.replications, 'replication')}, seed {result.seed}, common random numbers. "
            f"To reproduce: `{cmd}` (with the scenario downloaded as {md_escape(scenario_file)}).\n")
