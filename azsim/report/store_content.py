"""The content of a results-store report: every sweep's point summary, and Sobol indices and a tornado
when the store holds a sensitivity pair of sweeps (a Sobol and a one-at-a-time sweep over the same
factors). Every number is read from the store; labels and formats from :mod:`azsim.labels`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .. import labels as L
from ..outputs import slug
from . import figures as F
from .document import Figure, Section, Table, cite, fmt
from .limitations import store_limitations
from .provenance import METADATA_MAX_DEPTH, REPRODUCE_MAX_SEED, json_depth
from .scenario_content import parameters_table


def _lc(label: str) -> str:
    """A metric label inside a sentence: 'Seller cost' -> 'seller cost', 'Amazon cost' stays."""
    return label if label.split(' ')[0] in ('Amazon', 'PD/PI', 'A-to-z') else label[:1].lower() + label[1:]


def store_report(path: str, progress=None) -> tuple[list[Section], dict, dict]:
    from ..store import Store, load
    from ..sweep import point_outputs

    frames = load(path)  # StoreError for a missing or broken store
    sweeps, points, summary = frames["sweeps"], frames["points"], frames["point_summary"]
    tables: dict[str, Table] = {}
    figures: dict[str, Figure] = {}
    specs = {row.sweep_id: spec_of(row.spec) for row in sweeps.itertuples()}
    currency = "USD"
    for spec in specs.values():
        cur = (spec.get("scenario") or {}).get("market", {}).get("currency") if isinstance(
            (spec.get("scenario") or {}).get("market"), dict) else None
        if isinstance(cur, str):
            currency = cur
            break
    overview = []
    for row in sweeps.itertuples():
        spec = specs[row.sweep_id]
        factors = "; ".join(_factor_text(f) for f in spec.get("factors", []))
        overview.append({"sweep_id": row.sweep_id, "name": str(spec.get("name", "")),
                         "design": str(row.design or spec.get("design") or "?"),
                         "points": int((points["sweep_id"] == row.sweep_id).sum()),
                         "replications": str(spec.get("replications")), "seed": str(spec.get("seed")),
                         "factors": factors, "azsim_version": str(row.azsim_version)})
    ov = pd.DataFrame(overview, columns=["sweep_id", "name", "design", "points", "replications", "seed", "factors",
                                         "azsim_version"])
    tables["sweeps"] = Table("sweeps", "The sweeps in the store", ov,
                             header=["Sweep", "Name", "Design", "Points", "Replications", "Seed", "Factors",
                                     "azsim version"],
                             rows=[[str(v) for v in r] for r in ov.itertuples(index=False, name=None)],
                             numeric=[False, False, False, True, True, True, False, False],
                             widths=[13, 11, 8, 8, 12, 11, 27, 10])
    sections = [
        Section("The question", [f"What does the results store {Path(path).name} say about the paired change in "
                                 f"the seller's yearly cost across the designs it holds "
                                 f"({L.plural(len(sweeps), 'sweep')}, {cite('table', 'sweeps')})?"]),
        Section("Sweeps", [], [("table", "sweeps")]),
        Section("Method", [
            "Discrete-event simulation (SimPy); every design point runs every policy on the same replications' "
            "worlds (common random numbers across policies and design points).",
            "Per point: the mean over replications with a 95% Student-t CI, and the paired difference from the "
            "baseline policy with its Student-t 95% CI (the store's point summary).",
            "Sensitivity (when the store holds a Sobol and a one-at-a-time sweep over the same factors): Sobol "
            "first-order and total indices (SALib, Saltelli/Jansen estimators, 95% bootstrap CIs) and a tornado of "
            "one-at-a-time changes.",
        ]),
    ]
    first_scenario = None
    for k, row in enumerate(sweeps.itertuples(), start=1):
        if progress is not None:
            progress(k, len(sweeps) + 1)
        sid = row.sweep_id
        spec = specs[sid]
        first_scenario = first_scenario or spec.get("scenario")
        ps = summary[summary["sweep_id"] == sid]
        full = ps.drop(columns=["sweep_id"]).sort_values(["point_id", "policy", "metric"], kind="stable")
        full_name = slug(f"sweep_{sid}_point_summary")
        tables[full_name] = Table(full_name, f"Sweep {sid}: full point summary", full)
        cond, change, display = _condensed(ps, points[points["sweep_id"] == sid], spec, currency)
        name = slug(f"sweep_{sid}_seller_cost")
        tables[name] = Table(name, f"Sweep {sid} ({spec.get('design')}): seller cost per design point "
                             f"({currency} per year) and the paired change with its 95% CI", cond, **display)
        items: list[tuple[str, object]] = [("table", name)]
        text = [f"The seller's cost at each design point and its paired change ({cite('table', name)}); every "
                f"metric of every point is in tables/{full_name}.csv."]
        if change:
            figures[name] = Figure(name, f"Sweep {sid}: paired change in seller cost per design point, 95% CIs",
                                   F.sweep_figure(cond, *change, f"Sweep {sid} ({spec.get('design')})", currency))
            items.insert(0, ("figure", name))
            text[0] = text[0].replace(f"({cite('table', name)})", f"({cite('figure', name)}, {cite('table', name)})")
        sections.append(Section(f"Sweep {sid}: {spec.get('name', '')} ({spec.get('design')})", text, items))

    pair = _sensitivity_pair(sweeps, specs)
    indices: dict[str, float] | None = None
    factors: list[str] = []
    if pair:
        sobol_id, oat_id = pair
        spec = specs[sobol_id]
        names = [f["path"] for f in spec["factors"]]
        factors = names
        policies = list(summary.loc[summary["sweep_id"] == sobol_id, "policy"].drop_duplicates())
        base = str(summary.loc[summary["sweep_id"] == sobol_id, "baseline"].iloc[0])
        policies = [base] + [p for p in policies if p != base]
        from ..sensitivity import sobol_indices, tornado

        items, paras = [], [f"Sobol sweep {sobol_id} and one-at-a-time sweep {oat_id} over {', '.join(names)}; "
                                f"output: the paired change "
                                f"{' − '.join(L.policy_label(p) for p in reversed(policies[:2]))}."]
        outputs = [m for m in ("seller_cost.total", "amazon_cost.total") if m in set(summary["metric"])]
        with Store(path, read_only=True) as store:
            for o in outputs:
                y = point_outputs(store, sobol_id, o, policies)
                label = L.label(o)
                if y.size == 0 or not np.isfinite(y).all():
                    paras.append(f"{label}: not available at every design point; no indices.")
                    continue
                ind = sobol_indices(names, y, seed=int(spec.get("seed", 0)))
                torn = tornado(names, point_outputs(store, oat_id, o, policies))
                if o == "seller_cost.total":
                    indices = {str(f): float(v) for f, v in zip(ind["factor"], ind["ST"], strict=True)
                               if np.isfinite(v)}
                tag = o.replace(".", "_")
                tables[f"sobol_{tag}"] = Table(
                    f"sobol_{tag}", f"Sobol indices of the paired change in {_lc(label)} (95% bootstrap CIs)",
                    ind, 3, header=["Factor", "First-order index (S1)", "95% CI", "Total index (ST)", "95% CI"],
                    rows=[[r.factor, f"{r.S1:.3f}", f"{r.S1_ci_low:.3f} to {r.S1_ci_high:.3f}", f"{r.ST:.3f}",
                           f"{r.ST_ci_low:.3f} to {r.ST_ci_high:.3f}"] for r in ind.itertuples(index=False)])
                tables[f"tornado_{tag}"] = Table(
                    f"tornado_{tag}", f"Tornado: the paired change in {_lc(label)} with one factor at its low and "
                    f"high end, others at the centre ({currency} per year)", torn,
                    header=["Factor", "At the low end", "At the high end", "Centre", "Swing"],
                    rows=[[r.factor, L.money(r.low, currency, True), L.money(r.high, currency, True),
                           L.money(r.centre, currency, True), L.money(r.swing, currency)]
                          for r in torn.itertuples(index=False)])
                figures[f"sobol_{tag}"] = Figure(f"sobol_{tag}", f"Sobol indices of the paired change in "
                                                 f"{_lc(label)}", F.sobol_figure(ind, label))
                figures[f"tornado_{tag}"] = Figure(f"tornado_{tag}", f"Tornado of the paired change in "
                                                   f"{_lc(label)}", F.tornado_figure(torn, label, currency))
                if ind.attrs.get("constant_output"):
                    paras.append(f"{label}: the output did not vary over the design; the indices are 0 by "
                                 "convention.")
                items += [("para", f"{label}: how much of the change's variance each factor explains "
                                   f"({cite('figure', f'sobol_{tag}')}, {cite('table', f'sobol_{tag}')}), and the "
                                   f"change with one factor at a time at each end of its range "
                                   f"({cite('figure', f'tornado_{tag}')}, {cite('table', f'tornado_{tag}')})."),
                          ("figure", f"sobol_{tag}"), ("table", f"sobol_{tag}"), ("figure", f"tornado_{tag}"),
                          ("table", f"tornado_{tag}")]
        sections.append(Section("Sensitivity", paras, items))
    else:
        factors = list(dict.fromkeys(f["path"] for s in specs.values() for f in s.get("factors", [])))

    appendix = []
    if first_scenario:
        params = parameters_table(first_scenario, None)
        tables["scenario_parameters"] = Table(
            "scenario_parameters", "Base scenario of the first sweep", params,
            header=["Parameter", "Value", "Source", "Confidence"],
            rows=[[r.parameter, r.value, r.source, r.confidence] for r in params.itertuples(index=False)],
            numeric=[False, False, False, False], widths=[40, 20, 26, 14])
        sections.insert(2, Section("Scenario", [f"The base scenario of the first sweep is in "
                                                f"{cite('table', 'scenario_parameters')} (appendix); the store does "
                                                "not record the parameters' sources."]))
        appendix = [Section("Appendix: base scenario parameters", [], [("table", "scenario_parameters")])]
    sections.append(store_limitations(indices, factors))
    info = {"sweeps": list(sweeps["sweep_id"]), "sensitivity": list(pair) if pair else None,
            "scenario_hash": (specs[sweeps["sweep_id"].iloc[0]].get("scenario_hash") if len(sweeps) else None)}
    return sections, {"tables": tables, "figures": figures, "appendix": appendix}, info


def spec_of(text) -> dict:
    """A sweep's spec (JSON text in the store), with only what the report can use: the store may have
    been edited, so factors without a path, a scenario that is not a mapping or a seed that is not a
    whole number are dropped, and unreadable or very deep text gives {}."""
    if not isinstance(text, str) or json_depth(text) > METADATA_MAX_DEPTH:
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
    return f"{f.get('path')} {f.get('low')} to {f.get('high')}"


def _condensed(ps: pd.DataFrame, pts: pd.DataFrame, spec: dict, currency: str):
    """One row per design point: factor values, seller cost per policy, paired change with CI; and how
    it is shown (formatted cells)."""
    paths = [f["path"] for f in spec.get("factors", []) if f.get("path") in pts.columns]
    sel = ps[ps["metric"] == "seller_cost.total"]
    out = pts[["point_id", *paths]].copy().reset_index(drop=True)
    change = None
    if sel.empty:
        return out, None, {}
    base = str(sel["baseline"].iloc[0])
    pols = [base] + [p for p in dict.fromkeys(sel["policy"]) if p != base]
    header = ["Point", *paths]
    for p in pols:
        s = sel[sel["policy"] == p].set_index("point_id")
        out[f"{p} mean"] = out["point_id"].map(s["mean"])
        header.append(L.policy_label(p))
    for p in pols[1:]:
        s = sel[sel["policy"] == p].set_index("point_id")
        tag = f"{p}-{base}"
        for col, src in (("change", "delta_mean"), ("ci95 low", "delta_ci_low"), ("ci95 high", "delta_ci_high"),
                         ("change %", "delta_pct")):
            out[f"{tag} {col}"] = out["point_id"].map(s[src])
        header += [f"{L.policy_label(p)} − {L.policy_label(base)}", "95% CI", "Change"]
        change = change or (f"{tag} change", f"{tag} ci95 low", f"{tag} ci95 high")
    rows = []
    for r in out.to_dict("records"):
        cells = [str(r["point_id"])] + [r[p] if isinstance(r[p], str) else fmt(r[p], 3) for p in paths]
        cells += [L.money(r[f"{p} mean"], currency) for p in pols]
        for p in pols[1:]:
            tag = f"{p}-{base}"
            cells += [L.money(r[f"{tag} change"], currency, True),
                      L.ci_text(r[f"{tag} ci95 low"], r[f"{tag} ci95 high"], L.MONEY, currency),
                      L.pct_text(r[f"{tag} change %"])]
        rows.append(cells)
    display = {"header": header, "rows": rows, "numeric": [True] + [True] * len(paths) + [True] * (len(header) - 1
                                                                                                    - len(paths))}
    return out, change, display


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
