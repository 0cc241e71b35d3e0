"""The content of a scenario report: runs :func:`azsim.compare` and the practice advisor, and assembles
the sections, tables and figures. Every number is read from the Comparison, its headline
(:func:`azsim.headline.headline`) or the Advice; every label and format from :mod:`azsim.labels`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from .. import labels as L
from ..scenario import Scenario
from . import figures as F
from .document import Figure, Section, Table, cite
from .limitations import limitations_section
from .provenance import confidence

_SOURCE_REF = re.compile(r"docs/sources\.md\s*((?:\\?\[\d+\\?\](?:\s*,\s*)?)+)")


def flatten(d: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in d.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, path + "."))
        else:
            out[path] = v
    return out


def value_text(v) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return "none" if v != v else f"{v:g}"
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v, default=str)
    return str(v)


def parameters_table(scenario_dict: dict, comments: dict[str, str] | None) -> pd.DataFrame:
    """parameter, value, source (the file's comment), confidence ("assumed" when it says so or is missing)."""
    rows = []
    for path, value in flatten(scenario_dict).items():
        if path in ("name", "description") or path.endswith((".description", ".sources")):
            continue  # descriptions and policy sources are in the policy versions table
        if comments is None:
            comment, conf = "not recorded (results store)", "unknown"
        else:
            comment = comments.get(path, "")
            conf = confidence(comment)
            comment = comment or "no source given (default value)"
        rows.append({"parameter": path, "value": value_text(value), "source": comment, "confidence": conf})
    return pd.DataFrame(rows, columns=["parameter", "value", "source", "confidence"])


def policy_versions_table(scenario: Scenario) -> pd.DataFrame:
    """policy, version, marketplace, currency, effective, description, sources: one row per compared policy."""
    rows = [{"policy": name, "version": p.preset or "custom", "marketplace": p.marketplace, "currency": p.currency,
             "effective": p.effective or "not dated", "description": p.description, "sources": "; ".join(p.sources)}
            for name, p in scenario.policies.items()]
    return pd.DataFrame(rows, columns=["policy", "version", "marketplace", "currency", "effective", "description",
                                       "sources"])


def _transposed(df: pd.DataFrame, key: str, fields: list[tuple[str, str]]) -> tuple[list[str], list[list[str]]]:
    """One row per field, one column per ``key`` value (a policy): a table a few columns wide."""
    header = [""] + [L.policy_label(str(k)) for k in df[key]]
    rows = [[label] + [str(v) for v in df[col]] for col, label in fields]
    return header, rows


def sources_cited(texts) -> list[int]:
    """The numbers of docs/sources.md that ``texts`` cite ("docs/sources.md [27], [28]")."""
    found: set[int] = set()
    for text in texts:
        for m in _SOURCE_REF.finditer(str(text)):
            found |= {int(n) for n in re.findall(r"\d+", m.group(1))}
    return sorted(found)


def _source_titles() -> dict[int, str]:
    """Titles of docs/sources.md entries, when azsim runs from a checkout that has the file."""
    path = Path(__file__).resolve().parent.parent.parent / "docs" / "sources.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    return {int(n): re.sub(r"\s+", " ", t).strip() for n, t in
            re.findall(r"^(\d+)\. \*\*(.+?)\*\*", text, re.MULTILINE | re.DOTALL)}


def sources_section(numbers: list[int]) -> Section:
    titles = _source_titles()
    items: list[tuple[str, object]] = [("para", (
        "The scenario's parameters and the policy versions cite public sources, numbered as in docs/sources.md of "
        "the azsim repository (each with its address, date and what it says); the model and its assumptions are "
        "described in docs/model.md. The sources this report cites:"))]
    if numbers:
        items.append(("list", [f"[{n}] {titles.get(n, 'docs/sources.md, entry ' + str(n))}" for n in numbers]))
    else:
        items.append(("para", "None: no parameter of this scenario cites a numbered source."))
    return Section("Sources", [], items)


def _money_cells(mean, lo, hi, cur: str, signed: bool = False) -> list[str]:
    if signed:
        return [L.money(mean, cur, signed=True), L.ci_text(lo, hi, L.MONEY, cur)]
    return [L.money(mean, cur), L.range_text(lo, hi, L.MONEY, cur)]


def scenario_report(scenario: Scenario, comments: dict[str, str], replications: int, seed: int,
                    advisor_replications: int, progress=None) -> tuple[list[Section], dict, dict]:
    from ..advisor import PRACTICE_LABELS, PRACTICES, advise
    from ..comparison import compare
    from ..headline import headline
    from ..ledger import CATEGORIES
    from ..stats import mean_ci
    from ..views import claims_funnel, odr_over_time, who_pays

    scenarios_advised = 1 + len(PRACTICES) + 2  # as it is, each practice improved, insured and uninsured
    total = replications + scenarios_advised * advisor_replications

    def step(done: int) -> None:
        if progress is not None:
            progress(min(done, total), total)

    result = compare(scenario, replications=replications, seed=seed,
                     progress=None if progress is None else (lambda d, t: step(d)))
    advice = advise(scenario, replications=advisor_replications, seed=seed,
                    progress=None if progress is None else (lambda d, t: step(replications + d * advisor_replications)))
    pols = list(result.policies)
    base = pols[0]
    others = pols[1:]
    cur = scenario.market.currency
    hl = headline(result)
    tables: dict[str, Table] = {}
    figures: dict[str, Figure] = {}

    def add_table(name, caption, df, decimals=2, **display):
        tables[name] = Table(name, caption, df.reset_index(drop=True), decimals, **display)

    def add_figure(name, caption, fig):
        figures[name] = Figure(name, caption, fig)

    # ---- the headline (built once, by azsim.headline) ----
    cells = hl.cells(indent="\u2003\u2003")  # em spaces: HTML keeps them, so "of which" rows stay indented
    head = ["Per year"] + cells[0][1:]
    add_table("headline", f"Headline results per year ({cur}): each policy's mean over "
              f"{L.plural(hl.replications, 'replication')} and the paired change from "
              f"{L.policy_label(base)} with its 95% CI", hl.frame().reset_index(),
              header=head, rows=cells[1:])

    # ---- who pays ----
    wp = who_pays(result)
    wp_rows = []
    for party in dict.fromkeys(wp["party"]):
        row = [party]
        for p in pols:
            r = wp[(wp["party"] == party) & (wp["policy"] == p)].iloc[0]
            row += _money_cells(r["cost"], r["ci_low"], r["ci_high"], cur)
        wp_rows.append(row)
    add_table("who_pays", f"Who pays: each party's yearly net cost per policy ({cur}) with its 95% CI", wp,
              header=["Party"] + [h for p in pols for h in (L.policy_label(p), "95% CI")], rows=wp_rows)
    add_figure("who_pays", "Who pays: yearly net cost by party and policy, with 95% CIs", F.grouped_bars(
        wp, "party", "policy", "cost", f"Net cost ({cur} per year)", "Who pays", "ci_low", "ci_high",
        currency=cur))

    # ---- seller cost by category ----
    cat_rows, cat_display, change_by_cat, level_by_cat = [], [], {}, {}
    for cat in CATEGORIES:
        metric = f"seller_cost.by_category.{cat}"
        means = {p: float(result.values(p, metric).mean()) for p in pols}
        if all(abs(v) < 0.005 for v in means.values()):
            continue
        row = {"category": cat, **{p: means[p] for p in pols}}
        shown = [L.CATEGORY_LABELS.get(cat, L.humanize(cat))] + [L.money(means[p], cur) for p in pols]
        level_by_cat[cat] = means[base]
        for p in others:
            m, ci = mean_ci(result.deltas(p, metric))
            row[f"{p}-{base} change"] = m
            row[f"{p}-{base} ci95 low"], row[f"{p}-{base} ci95 high"] = ci if ci else (None, None)
            shown += [L.money(m, cur, signed=True), L.ci_text(*(ci or (None, None)), L.MONEY, cur)]
            change_by_cat[cat] = change_by_cat.get(cat, 0.0) + abs(m)
        cat_rows.append(row)
        cat_display.append(shown)
    cats = pd.DataFrame(cat_rows)
    cat_head = ["Category"] + [L.policy_label(p) for p in pols]
    for p in others:
        cat_head += [f"{L.policy_label(p)} − {L.policy_label(base)}", "95% CI"]
    add_table("seller_cost_by_category", f"Seller cost by category per policy ({cur} per year), with the paired "
              "change and its 95% CI", cats, header=cat_head, rows=cat_display)
    wf_names = []
    for p in others:
        wf = pd.DataFrame({"category": cats["category"], "change": cats[f"{p}-{base} change"]}) if len(cats) else \
            pd.DataFrame(columns=["category", "change"])
        wf = wf[wf["change"].abs() >= 0.005]
        wf.attrs["base_total"] = float(result.values(base, "seller_cost.total").mean())
        wf.attrs["other_total"] = float(result.values(p, "seller_cost.total").mean())
        name = f"waterfall_{p}"
        add_figure(name, f"Seller cost ({cur} per year) from {L.policy_label(base)} to {L.policy_label(p)}: the "
                   "first total, the mean paired change of each category, and the second total",
                   F.waterfall(wf.reset_index(drop=True), base, p, cur))
        wf_names.append(figures[name].name)

    # ---- claims funnel ----
    funnel = claims_funnel(result).sort_values("order", kind="stable")
    funnel["stage"] = funnel["stage"].map(L.humanize)
    wide = funnel.pivot_table(index=["order", "stage"], columns="policy", values="count", sort=False).reset_index()
    wide = wide.sort_values("order").drop(columns="order")[["stage", *pols]]
    wide.columns.name = None
    add_table("claims_funnel", "Claims funnel: incidents, messages, claims and outcomes per year", wide,
              header=["Stage"] + [L.policy_label(p) for p in pols],
              rows=[[r[0]] + [L.number(v, 1) for v in r[1:]] for r in wide.itertuples(index=False, name=None)])
    add_figure("claims_funnel", "Claims funnel per year, by policy", F.grouped_bars(
        funnel, "stage", "policy", "count", "Per year", "Claims funnel", horizontal=True))

    # ---- ODR ----
    odr = odr_over_time(result)
    limit_pct = 100 * result.scenario.account_health.odr.limit  # the scenario's limit, not a typed-in 1%
    add_figure("odr_over_time", "Order defect rate over the simulated days (mean over replications), with the "
               f"scenario's account-health limit of {limit_pct:g}%", F.odr_figure(odr, limit_pct))

    # ---- the practice advisor ----
    pr = advice.practices
    adv_rows, adv_display, plot_rows = [], [], []
    for practice in advice.ranking:
        sub = pr[pr["practice"] == practice].set_index("policy")
        label = PRACTICE_LABELS[practice]
        row = {"rank": int(sub["rank"].iloc[0]), "practice": label}
        shown = [str(row["rank"]), label]
        for p in advice.policies:
            m, lo, hi = (float(sub.loc[p, c]) for c in ("saving_mean", "saving_ci_low", "saving_ci_high"))
            row[f"saving under {p}"], row[f"{p} ci95 low"], row[f"{p} ci95 high"] = m, lo, hi
            shown += _money_cells(m, lo, hi, cur, signed=True)
            plot_rows.append({"practice": label, "policy": p, "saving": m, "lo": lo, "hi": hi})
        adv_rows.append(row)
        adv_display.append(shown)
    adv = pd.DataFrame(adv_rows)
    rank_pol = advice.policies[-1]
    add_table("advisor_ranking", f"Practice advisor: the seller's yearly net saving ({cur}, 95% CI; after the "
              f"practice's own cost) from moving one practice to a good level; ranked by the saving under "
              f"{L.policy_label(rank_pol)}", adv,
              header=["Rank", "Practice"] + [h for p in advice.policies for h in
                                             (f"Saving under {L.policy_label(p)}", "95% CI")],
              rows=adv_display, numeric=[True, False] + [True] * 2 * len(advice.policies), key_columns=2)
    add_figure("advisor_ranking", "Practice advisor: yearly net saving per practice and policy, with 95% CIs",
               F.grouped_bars(pd.DataFrame(plot_rows), "practice", "policy", "saving",
                              f"Net saving ({cur} per year)", "What to fix first", "lo", "hi", horizontal=True,
                              currency=cur))
    ins = advice.insurance.copy()
    ins_rows = []
    for col, text in (("premium", "Premium paid"), ("cost_insured", "Seller cost, insured"),
                      ("cost_uninsured", "Seller cost, uninsured"), ("insuring_saves", "Insuring saves"),
                      ("breakeven_premium", "Break-even premium")):
        signed = col == "insuring_saves"
        row = [text]
        for _, r in ins.iterrows():
            row += _money_cells(r[f"{col}_mean"], r[f"{col}_ci_low"], r[f"{col}_ci_high"], cur, signed)
        ins_rows.append(row)
    ins_rows.append(["Insurer's expected loss (pricing basis)"]
                    + [x for _, r in ins.iterrows() for x in (L.money(r["expected_insured_loss"], cur), "")])
    add_table("advisor_insurance", f"Insure or not: the seller's yearly cost insured and uninsured, and the premium "
              f"at which insuring breaks even ({cur} per year, 95% CIs)", ins,
              header=[""] + [h for p in ins["policy"] for h in (L.policy_label(p), "95% CI")], rows=ins_rows)

    # ---- scenario and policies ----
    params = parameters_table(scenario.to_dict(), comments)
    pv = policy_versions_table(scenario)
    pv_head, pv_rows = _transposed(pv, "policy", [
        ("policy", "Name in the scenario"), ("version", "Version"), ("marketplace", "Marketplace"),
        ("currency", "Currency"), ("effective", "Effective"), ("description", "Rules in brief"),
        ("sources", "Sources")])
    add_table("policy_versions", "Policies compared: each policy's version, where and from when it applies, its "
              "rules in brief and the public sources of those rules", pv, header=pv_head, rows=pv_rows,
              numeric=[False] * len(pv_head), widths=[16] + [84 / len(pols)] * len(pols))
    add_table("scenario_parameters", "Every scenario parameter, with the source and confidence given in the "
              "scenario file", params, header=["Parameter", "Value", "Source", "Confidence"],
              rows=[[r.parameter, r.value, r.source, r.confidence] for r in params.itertuples(index=False)],
              numeric=[False, False, False, False], widths=[33, 12, 44, 11])

    # ---- the text ----
    seller = hl.row("seller_cost.total")
    answers = []
    for p in others:
        c = seller.changes[p]
        verdict = ("a clear increase" if c.low is not None and c.low > 0 else
                   "a clear saving" if c.high is not None and c.high < 0 else
                   "no clear change: the 95% CI includes zero" if c.low is not None else
                   "one replication: no CI")
        answers.append(f"For this seller, {L.policy_label(p)} changes the yearly cost against "
                       f"{L.policy_label(base)} by {c.phrase(L.MONEY, cur)}: {verdict}.")
    others_text = []
    for key, who in (("amazon_cost.total", "Amazon's cost changes"), ("insurer_cost.total", "the insurer's"),
                     ("buyer_uncompensated.total", "buyers' uncompensated loss")):
        if others:
            others_text.append(f"{who} by {hl.row(key).changes[others[-1]].phrase(L.MONEY, cur)}")
    question = (f"What does Amazon's A-to-z Guarantee policy {' and '.join(L.policy_label(p) for p in others)} "
                f"cost a seller like this, compared with {L.policy_label(base)}, and who else pays? The scenario "
                f"'{scenario.name}': {scenario.description or '(no description)'}")
    answer_items: list[tuple[str, object]] = [("para", question)]
    answer_items += [("answer", a) for a in answers]
    if others:
        answer_items.append(("para", f"Under {L.policy_label(others[-1])}, " + "; ".join(others_text) + ". "
                             f"Every figure is a mean over {L.plural(result.replications, 'replication')} of the "
                             f"simulated year, with its 95% confidence interval; {cite('table', 'headline')} has "
                             "every headline number."))
    sections = [
        Section("The answer", [], answer_items),
        Section("Results", [f"Per year, in {cur}; each policy's level and the paired change from "
                            f"{L.policy_label(base)} with its 95% CI ({cite('table', 'headline')}). Every row adds up "
                            "(baseline + change = policy); a quantity that needs an event (ODR, days to "
                            "compensation) is shown over the replications where every policy has one, and the row "
                            "says how many when that is not all."],
                [("table", "headline"),
                 ("para", f"Who pays: each party's yearly net cost under each policy ({cite('figure', 'who_pays')}, "
                          f"{cite('table', 'who_pays')}); a negative cost is a gain (the insurer's premiums above its "
                          "losses)."),
                 ("figure", "who_pays"), ("table", "who_pays")]),
        Section("Seller cost by category",
                [f"Where the seller's change comes from: {', '.join(cite('figure', n) for n in wf_names)} walks from "
                 f"one policy's total to the other's, category by category; {cite('table', 'seller_cost_by_category')}"
                 " gives each category's level and change with its 95% CI."],
                [*(("figure", n) for n in wf_names), ("table", "seller_cost_by_category")]),
        Section("Claims funnel", [f"From incidents to buyer messages, claims and how claims end, per year "
                                  f"({cite('figure', 'claims_funnel')}, {cite('table', 'claims_funnel')})."],
                [("figure", "claims_funnel"), ("table", "claims_funnel")]),
        Section("Order defect rate over time", [f"The order defect rate at each daily check, averaged over "
                                                f"replications, against the scenario's limit of {limit_pct:g}% "
                                                f"({cite('figure', 'odr_over_time')})."],
                [("figure", "odr_over_time")]),
        Section("Practice advisor", [f"What moving one practice to a good level is worth to this seller a year, "
                                     f"after what the practice itself costs, under each policy "
                                     f"({cite('figure', 'advisor_ranking')}, {cite('table', 'advisor_ranking')}), "
                                     f"with {L.plural(advice.replications, 'replication')} on the same seeds."],
                [("figure", "advisor_ranking"), ("table", "advisor_ranking"),
                 ("para", f"Insure or not ({cite('table', 'advisor_insurance')}): the premium is priced from the "
                          "seller's own risk under each policy; insuring pays when the premium paid is below the "
                          "break-even premium."),
                 ("table", "advisor_insurance")]),
        Section("Scenario and policies", [
            f"Scenario '{scenario.name}' (hash {scenario.hash}), {scenario.horizon_days} simulated days, money in "
            f"{cur}. {cite('table', 'policy_versions')} lists the policy versions compared with their public "
            f"sources; every parameter, with the source and confidence the scenario file gives it, is in "
            f"{cite('table', 'scenario_parameters')} (appendix)."],
            [("table", "policy_versions")]),
        Section("Method", [
            f"Discrete-event simulation (SimPy) of the seller's orders, incidents, buyer messages, returns, claims, "
            f"chargebacks and account health over {scenario.horizon_days} days, scaled to per year.",
            f"Common random numbers: each of the {L.plural(result.replications, 'replication')} (root seed "
            f"{result.seed}) runs every policy ({', '.join(L.policy_label(p) for p in pols)}) on the same simulated "
            "world, so the policies meet the same orders, incidents and buyers.",
            "Results are means over replications with 95% confidence intervals from Student's t distribution; a "
            f"change between policies is the mean of the per-replication paired differences (policy minus "
            f"{L.policy_label(base)}) with its Student-t 95% CI.",
            f"The practice advisor re-runs the scenario with one practice moved to a good level, paired on the same "
            f"seeds, with {L.plural(advice.replications, 'replication')}.",
        ]),
        limitations_section(params, pols, change_by_cat, level_by_cat, cur, result.replications),
        sources_section(sources_cited(list(params["source"]) + list(pv["sources"]))),
    ]
    from .calibration_content import calibration_section  # it reads flatten() from this module

    calibrated = calibration_section(scenario.to_dict(), comments, cur)
    if calibrated is not None:  # a scenario written by azsim calibrate: after "Scenario and policies"
        tables[calibrated[1].name] = calibrated[1]
        at = next(i for i, sec in enumerate(sections) if sec.title == "Scenario and policies") + 1
        sections.insert(at, calibrated[0])
    appendix = [Section("Appendix: scenario parameters", [], [("table", "scenario_parameters")])]
    info = {"scenario_hash": scenario.hash, "scenario_name": scenario.name, "seed": result.seed,
            "replications": result.replications, "advisor_replications": advice.replications,
            "policies": pols}
    return sections, {"tables": tables, "figures": figures, "appendix": appendix}, info
