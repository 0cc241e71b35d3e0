"""Tidy tables for the faces (app, reports): every number is read from a :class:`Comparison`.

Each function returns a pandas DataFrame ready to chart or print; none simulates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .comparison import COST_KEYS, Comparison
from .stats import mean_ci, paired

__all__ = ["PARTY_LABELS", "headline", "cost_by_category", "who_pays", "claims_funnel", "odr_over_time",
           "delta_distribution", "PALETTE"]

PARTY_LABELS = {"seller": "Seller", "amazon": "Amazon", "insurer": "Insurer", "buyer": "Buyers (uncompensated)"}

PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
"""Okabe-Ito colours: distinguishable with the common colour-vision deficiencies."""


def headline(result: Comparison) -> pd.DataFrame:
    """Per party: each policy's mean yearly cost, and each policy's paired change from the first."""
    pols = result.policies
    rows = []
    for party, key in COST_KEYS.items():
        metric = f"{key}.total"
        row = {"party": PARTY_LABELS[party]}
        base = result.values(pols[0], metric)
        for p in pols:
            row[p] = float(result.values(p, metric).mean())
        for p in pols[1:]:
            d = paired(base, result.values(p, metric))  # the one definition (azsim.stats)
            row[f"{p} change"] = d.mean
            row[f"{p} ci low"], row[f"{p} ci high"] = (d.ci95 if d.ci95 else (None, None))
            row[f"{p} change %"] = d.pct
        rows.append(row)
    return pd.DataFrame(rows)


def cost_by_category(result: Comparison, party: str = "seller") -> pd.DataFrame:
    """policy, category, mean yearly cost of ``party`` in that category (non-zero ones)."""
    prefix = f"{COST_KEYS[party]}.by_category."
    runs = result.runs[result.runs["metric"].str.startswith(prefix)]
    out = (runs.groupby(["policy", "metric"])["value"].sum() / result.replications).reset_index()
    out["category"] = out["metric"].str.removeprefix(prefix)
    out = out[out["value"].abs() >= 0.005]
    return out[["policy", "category", "value"]].rename(columns={"value": "cost"}).reset_index(drop=True)


def who_pays(result: Comparison) -> pd.DataFrame:
    """policy, party, mean yearly net cost with its 95% CI."""
    rows = []
    for p in result.policies:
        for party, key in COST_KEYS.items():
            m, ci = mean_ci(result.values(p, f"{key}.total"))
            rows.append({"policy": p, "party": PARTY_LABELS[party], "cost": m,
                         "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None})
    return pd.DataFrame(rows)


_OUTCOME_GROUPS = {
    "withdrawn": "withdrawn or denied", "denied": "withdrawn or denied", "screened_out": "withdrawn or denied",
    "out_of_window": "withdrawn or denied", "abandoned": "withdrawn or denied", "lost_in_court": "withdrawn or denied",
    "unpaid": "withdrawn or denied", "dispute_won": "withdrawn or denied", "reversed_on_appeal": "withdrawn or denied",
    "granted_amazon_funded": "paid by Amazon", "amazon_paid_insured_seller": "paid by Amazon",
    "amazon_paid_unrecovered": "paid by Amazon",
}


def claims_funnel(result: Comparison) -> pd.DataFrame:
    """policy, stage, order (for sorting), count per year: incidents -> messages -> claims -> outcomes."""
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
    return pd.DataFrame(rows)


def odr_over_time(result: Comparison) -> pd.DataFrame:
    """policy, day, ODR (mean over replications, in %), share of replications suspended that day."""
    h = result.health
    if h.empty:
        return pd.DataFrame(columns=["policy", "day", "odr_pct", "suspended_share"])
    g = h.groupby(["policy", "day"]).agg(odr=("odr", "mean"), suspended_share=("suspended", "mean")).reset_index()
    g["odr_pct"] = 100 * g["odr"]
    return g[["policy", "day", "odr_pct", "suspended_share"]]


def delta_distribution(result: Comparison, metric: str = "seller_cost.total") -> pd.DataFrame:
    """replication, policy, paired change of ``metric`` from the first policy (one row per replication)."""
    rows = []
    for p in result.policies[1:]:
        d = result.deltas(p, metric)
        rows.extend({"replication": i, "policy": p, "change": float(v)} for i, v in enumerate(d) if np.isfinite(v))
    return pd.DataFrame(rows, columns=["replication", "policy", "change"])
