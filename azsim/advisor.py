"""The practice advisor: what should a seller fix first, and should it insure?

For each of the five practices of the seed article (docs/sources.md, "The five seller
practices"), and for the practice the 2021 change is about (answer claims promptly, keep the
insurance certificate on file with Amazon), the scenario is run again with that practice moved
to a good level and compared with the scenario itself on the same seeds. Every random draw of
an order is a hashed uniform of (replication, order, stream), and the practice-dependent incident types own fixed-width
slots, so the two runs are paired order by order (docs/model.md, section 7, item 1). Per
replication and policy:

- net saving = the seller's total yearly cost at its own level - at the good level (the
  practice's own cost included: a second support person's wages, better packaging, ...);
- practice cost = the change in what the practices cost a year (the categories of
  :data:`azsim.practices.PRACTICE_COST_CATEGORIES`: support wages, packaging, listing work,
  tracking work, Buy Shipping labels);
- gross saving = net saving + practice cost: what the practice saves before its own cost;
- policy effect (every policy but the first, the baseline) = net saving under that policy - net
  saving under the baseline: how the policy change alters the value of the practice (a paired
  difference of differences).

Each is reported as its mean with a Student-t 95% CI over replications. Practices are ranked
by the mean net saving under the last policy (``new`` in the standard scenarios); a practice
the scenario already meets (nothing to change, saving exactly 0) ranks after every practice
that changes something.

"Insure or not?" runs the scenario with ``seller.insurance.carry`` ``always`` and ``never``:
the expected yearly seller cost either way, and the break-even premium, the yearly premium at
which both cost the same: the premium actually paid in the insured run plus (cost uninsured -
cost insured), replication by replication. The premium is only a ledger entry, so costs other
than the premium do not depend on it and the seller's cost is linear in it. With
``seller.insurance.pricing: risk`` (the default) the premium paid is the insurer's price of
this seller's own risk under each policy (:mod:`azsim.insurance`), so the comparison is
between that priced premium and the break-even premium; the expected insured loss behind the
first year's price is reported beside it.

Nothing here simulates directly: ``run(scenario, replications, seed) -> Comparison`` does
(default :func:`azsim.comparison.compare`), so a caller can pass a parallel runner.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .insurance import expected_insured_loss
from .labels import change_phrase, ci_text, field_label, level_phrase, money, plural
from .practices import PRACTICE_COST_CATEGORIES
from .scenario import Scenario
from .stats import mean_ci
from .world import keeping_worlds

__all__ = [
    "PRACTICES",
    "PRACTICE_LABELS",
    "Advice",
    "advise",
    "insurance_answer",
    "practice_moves",
]

METRIC = "seller_cost.total"
PRACTICE_COLUMNS = ["practice", "policy"] + [
    f"{name}_{stat}" for name in ("gross_saving", "practice_cost", "saving", "policy_effect")
    for stat in ("mean", "ci_low", "ci_high")
]
"""Columns of ``Advice.practices`` (before ``rank``): ``saving`` is the NET saving (the change in
the seller's total cost), ``practice_cost`` the change in what the practices cost
(:data:`azsim.practices.PRACTICE_COST_CATEGORIES`), ``gross_saving`` = saving + practice_cost
(what the practice saves before its own cost), ``policy_effect`` = saving under this policy -
saving under the baseline (first) policy, paired per replication (NaN on the baseline's rows)."""
PREMIUM_METRIC = "seller_cost.by_category.insurance_premium"

PRACTICES: dict[str, dict[str, object]] = {
    # Tip 1: answer buyer messages quickly (24 h target, 48 h hard limit).
    "reply_to_messages": {
        "seller.messages.reply_rate": 0.99,  # answer essentially every message; 1 in 100 slips
        # inbox covered at weekends: with 5 days, a Friday-evening message waits about 64 h, past the 48 h limit.
        # No second person: at a few messages a day the queue is not what delays replies (a seller whose queue is
        # can try seller.support.staff in a sweep); the extra days are paid as rostered wages.
        "seller.support.work_days_per_week": 7,
        "seller.support.handling_minutes": 8.0,  # no slower than the default seller's assumed 8 minutes a message
    },
    # Tip 2: watch returns and refund on time (authorise within 48 h, refund within 2 business days).
    "returns_on_time": {
        "seller.returns.authorise_within_48h": 0.99,  # (auto-)authorise practically every return in time
        "seller.returns.refund_delay_days": 0.5,  # Exp(0.5 d): 98% of refunds inside the 2-day deadline
    },
    # Tip 3: keep listings true to the ASIN and description.
    "accurate_listings": {
        "seller.listing_accuracy": 0.95,  # not-as-described rate 5% of the way from best to worst
    },
    # Tip 4: pack well, and cancel orders that are out of stock.
    "packaging_and_stock": {
        "seller.packaging_quality": 0.95,  # product damage ~0.3%, below StellaService's ~0.5% (docs/sources.md [36])
        "seller.out_of_stock.handling": "cancel",  # the tip itself
    },
    # Tip 5: confirm shipment and upload tracking at once; Buy Shipping protection.
    "tracking_at_once": {
        "seller.tracking.upload_rate": 0.995,  # valid tracking on 99.5% of shipments (target >= 95%)
        "seller.tracking.upload_delay_days": 0.1,  # Exp(0.1 d): ~0.005% confirmed after a day (LSR limit 4%)
        "seller.tracking.buy_shipping_share": 0.9,  # 90% of labels claim-protected; some carriers/services are not
    },
    # Not one of the five tips, but the practice the 2021 change is about: Amazon takes PD/PI claims and
    # spares an insured seller that proves cover within 7 days; a certificate already uploaded on Seller
    # Central's Business Insurance page proves it at once, and prompt answers keep claims over the threshold
    # with the seller and its insurer instead of Amazon paying and pursuing.
    "claims_and_certificate": {
        "seller.insurance.certificate_on_file": True,
        "seller.claims.response_rate": 0.99,  # answer practically every claim and Amazon request
        "seller.claims.response_days": 0.5,  # Exp(0.5 d): well inside 48 h and the 7-day PD/PI deadline
    },
}
"""Each seller practice (the five tips of docs/sources.md, and claims with a certificate on file) -> the good
level of each of its fields.

A practice never moves a field to a worse value than the scenario's own (see ``DIRECTION``):
a seller that already has three staff keeps three.
"""

PRACTICE_LABELS: dict[str, str] = {
    "reply_to_messages": "Answer buyer messages quickly",
    "returns_on_time": "Authorise returns and refund on time",
    "accurate_listings": "Keep listings accurate",
    "packaging_and_stock": "Pack well, cancel out-of-stock orders",
    "tracking_at_once": "Confirm shipment and upload tracking at once",
    "claims_and_certificate": "Answer claims promptly, insurance certificate on file",
}

DIRECTION: dict[str, str] = {
    "seller.messages.reply_rate": "higher",
    "seller.support.staff": "higher",
    "seller.support.work_days_per_week": "higher",
    "seller.support.handling_minutes": "lower",
    "seller.returns.authorise_within_48h": "higher",
    "seller.returns.refund_delay_days": "lower",
    "seller.listing_accuracy": "higher",
    "seller.packaging_quality": "higher",
    "seller.out_of_stock.handling": "set",
    "seller.tracking.upload_rate": "higher",
    "seller.tracking.upload_delay_days": "lower",
    "seller.tracking.buy_shipping_share": "higher",
    "seller.insurance.certificate_on_file": "set",
    "seller.claims.response_rate": "higher",
    "seller.claims.response_days": "lower",
}
"""Which way each practice field is better; ``set`` fields (categories) take the good value."""

Runner = Callable[[Scenario, int, int], object]

WORLDS_MB = 256.0
"""Worlds kept while the advisor runs (a year of the default seller is about 7 MB a replication)."""


def _default_run(scenario: Scenario, replications: int, seed: int):
    from .comparison import compare

    return compare(scenario, replications=replications, seed=seed)


def _get(scenario_dict: dict, path: str):
    node = scenario_dict
    for part in path.split("."):
        node = node[part]
    return node


def practice_moves(scenario: Scenario, practice: str) -> dict[str, tuple[object, object]]:
    """``{field: (scenario's value, good value)}`` for the fields the practice changes.

    Empty when the scenario is already at (or beyond) the good level on every field.
    """
    if practice not in PRACTICES:
        raise ValueError(f"unknown practice {practice!r}; choose from {', '.join(PRACTICES)}")
    raw = scenario.to_dict()
    moves = {}
    for path, good in PRACTICES[practice].items():
        current = _get(raw, path)
        direction = DIRECTION[path]
        if direction == "higher":
            target = max(current, good)
        elif direction == "lower":
            target = min(current, good)
        else:
            target = good
        if target != current:
            moves[path] = (current, target)
    return moves


def _stat(x: np.ndarray) -> tuple[float, float, float]:
    m, ci = mean_ci(x)
    if m is None:
        return math.nan, math.nan, math.nan
    lo, hi = ci if ci is not None else (math.nan, math.nan)
    return m, lo, hi


class _Runs:
    """Comparisons of scenarios on one seed, run once per distinct scenario (by hash)."""

    def __init__(self, run: Runner | None, replications: int, seed: int, progress=None, total: int = 0):
        self.run = run or _default_run
        self.replications = int(replications)
        self.seed = int(seed)
        self.cache: dict[str, object] = {}
        self.progress = progress
        self.total = total

    def __call__(self, scenario: Scenario):
        key = scenario.hash
        if key not in self.cache:
            # most practices leave the world alone (orders, prices, incidents): their comparisons walk the
            # worlds the first one generated, kept meanwhile (azsim.world.shared_world)
            with keeping_worlds(WORLDS_MB):
                self.cache[key] = self.run(scenario, self.replications, self.seed)
            if self.progress is not None:
                self.progress(len(self.cache), self.total)
        return self.cache[key]


def _check_args(scenario, replications) -> None:
    if not isinstance(scenario, Scenario):
        raise TypeError("advise() takes a Scenario; use azsim.load_scenario(path) or scenario_from_dict(data)")
    if int(replications) < 1:
        raise ValueError("replications must be at least 1")


def insurance_answer(scenario: Scenario, replications: int = 20, seed: int = 20210901, run: Runner | None = None,
                     _runs: _Runs | None = None) -> pd.DataFrame:
    """Insure or not: yearly seller cost with and without cover under each policy, and the break-even premium.

    Columns: policy; premium (the premium paid per year in the insured run: priced from risk and
    re-priced at renewal, or the fixed quote); cost_insured, cost_uninsured, insuring_saves
    (= uninsured - insured) and breakeven_premium (= premium + insuring_saves), each as
    ``_mean``, ``_ci_low``, ``_ci_high`` over paired replications; expected_insured_loss (the
    insurer's expected yearly loss on this seller under the policy, the first year's pricing
    basis, :func:`azsim.insurance.expected_insured_loss`; one number, no CI).
    """
    _check_args(scenario, replications)
    runs = _runs or _Runs(run, replications, seed)
    covered = scenario.with_overrides({"seller.insurance.carry": "always"})
    insured = runs(covered)
    uninsured = runs(scenario.with_overrides({"seller.insurance.carry": "never"}))
    rows = []
    for policy in scenario.policy_names:
        with_cover = insured.values(policy, METRIC)
        without = uninsured.values(policy, METRIC)
        premium = insured.values(policy, PREMIUM_METRIC)
        row: dict[str, object] = {"policy": policy}
        saves = without - with_cover
        for name, x in (("premium", premium), ("cost_insured", with_cover), ("cost_uninsured", without),
                        ("insuring_saves", saves), ("breakeven_premium", premium + saves)):
            m, lo, hi = _stat(x)
            row[f"{name}_mean"], row[f"{name}_ci_low"], row[f"{name}_ci_high"] = m, lo, hi
        row["expected_insured_loss"] = expected_insured_loss(covered, covered.policies[policy])
        rows.append(row)
    return pd.DataFrame(rows)


def advise(scenario: Scenario, replications: int = 20, seed: int = 20210901, run: Runner | None = None,
           progress=None) -> Advice:
    """What should this seller fix first, and should it insure? See the module docstring.

    ``run(scenario, replications, seed) -> Comparison`` runs the simulations (default
    :func:`azsim.comparison.compare`); each distinct scenario is run once. ``progress``, if
    given, is called with (scenarios run, at most this many) after each run.
    """
    with keeping_worlds(WORLDS_MB):  # the comparisons share the worlds the practices leave alone
        return _advise(scenario, replications, seed, run, progress)


def _advise(scenario: Scenario, replications: int, seed: int, run: Runner | None, progress) -> Advice:
    _check_args(scenario, replications)
    runs = _Runs(run, replications, seed, progress, total=1 + len(PRACTICES) + 2)
    base = runs(scenario)
    policies = scenario.policy_names
    rows, moves = [], {}
    for practice in PRACTICES:
        move = practice_moves(scenario, practice)
        moves[practice] = move
        improved = scenario.with_overrides({path: new for path, (_, new) in move.items()}) if move else scenario
        better = runs(improved)
        net = {policy: base.values(policy, METRIC) - better.values(policy, METRIC) for policy in policies}
        for policy in policies:
            cost = _practice_cost(better, policy) - _practice_cost(base, policy)
            row: dict[str, object] = {"practice": practice, "policy": policy}
            effect = net[policy] - net[policies[0]] if policy != policies[0] else None
            for name, x in (("gross_saving", net[policy] + cost), ("practice_cost", cost), ("saving", net[policy]),
                            ("policy_effect", effect)):
                m, lo, hi = _stat(x) if x is not None else (math.nan, math.nan, math.nan)
                row[f"{name}_mean"], row[f"{name}_ci_low"], row[f"{name}_ci_high"] = m, lo, hi
            rows.append(row)
    practices = pd.DataFrame(rows, columns=PRACTICE_COLUMNS)
    practices["rank"] = practices["practice"].map(_ranks(practices, policies[-1], moves)).astype(int)
    practices["_order"] = practices["policy"].map(policies.index)
    practices = practices.sort_values(["rank", "_order"], kind="stable").drop(columns="_order").reset_index(drop=True)
    insurance = insurance_answer(scenario, replications, seed, _runs=runs)
    sales = scenario.market.expected_monthly_sales()
    required = {p: sales >= pol.insurance_required_monthly_sales for p, pol in scenario.policies.items()}
    return Advice(
        scenario_name=scenario.name,
        scenario_hash=scenario.hash,
        replications=int(replications),
        seed=int(seed),
        policies=list(policies),
        practices=practices,
        insurance=insurance,
        moves=moves,
        premium_per_year=scenario.seller.insurance.premium_per_year,
        premium_share_of_revenue=scenario.seller.insurance.premium_share_of_revenue,
        premium_pricing=scenario.seller.insurance.pricing,
        premium_loading=scenario.seller.insurance.loading,
        minimum_premium=scenario.seller.insurance.minimum_premium,
        insurance_required=required,
        uninsured_suspension=scenario.account_health.insurance_missing.action_probability > 0,
        currency=scenario.market.currency,
    )


def _practice_cost(comparison, policy: str) -> np.ndarray:
    """Per replication, what the seller's practices cost a year (the practice-cost categories)."""
    return sum(comparison.values(policy, f"seller_cost.by_category.{c}") for c in PRACTICE_COST_CATEGORIES)


def _ranks(practices: pd.DataFrame, policy: str, moves: dict) -> dict[str, int]:
    """Rank 1 = fix first: the practices that change something, by mean saving under ``policy`` (largest
    first), then those already at their good level (nothing to fix), in ``PRACTICES`` order."""
    last = practices[practices["policy"] == policy].set_index("practice")["saving_mean"]
    order = list(PRACTICES)
    key = sorted(order, key=lambda p: (not moves[p], -_num(last[p]), order.index(p)))
    return {p: i + 1 for i, p in enumerate(key)}


def _num(x) -> float:
    x = float(x)
    return -math.inf if math.isnan(x) else x


# ----------------------------------------------------------------------------------------------
# the result
# ----------------------------------------------------------------------------------------------
def _clean(x):
    if x is None:
        return None
    if isinstance(x, (bool, str)):
        return x
    if isinstance(x, (int, np.integer)):
        return int(x)
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else round(x, 6)


def _ci(row, name: str) -> dict:
    lo, hi = _clean(row[f"{name}_ci_low"]), _clean(row[f"{name}_ci_high"])
    return {"mean": _clean(row[f"{name}_mean"]), "ci95": None if lo is None or hi is None else [lo, hi]}


def _value(v) -> str:
    """A practice field's level as shown: 0.95, 7, yes/no, a category's words."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v).replace("_", " ")


@dataclass
class Advice:
    """The advisor's answer. ``practices``: one row per practice and policy, ``rank`` 1 = fix first."""

    scenario_name: str
    scenario_hash: str
    replications: int
    seed: int
    policies: list[str]
    practices: pd.DataFrame  # PRACTICE_COLUMNS + rank: gross_saving, practice_cost, saving (net), policy_effect
    insurance: pd.DataFrame  # policy, {premium, cost_insured, cost_uninsured, insuring_saves, breakeven_premium}_*
    moves: dict[str, dict[str, tuple[object, object]]] = field(default_factory=dict)
    premium_per_year: float = 0.0  # the fixed quote (pricing "fixed")
    premium_share_of_revenue: float = 0.0
    premium_pricing: str = "fixed"  # "risk": minimum + (1 + loading) x expected insured loss, re-priced at renewal
    premium_loading: float = 0.0
    minimum_premium: float = 0.0
    insurance_required: dict[str, bool] = field(default_factory=dict)
    uninsured_suspension: bool = True
    currency: str = "USD"  # the marketplace's currency (market.currency): every amount is in it

    @property
    def ranking(self) -> list[str]:
        """Practices, fix-first first."""
        ranks = self.practices.drop_duplicates("practice").sort_values("rank")
        return list(ranks["practice"])

    def table(self) -> pd.DataFrame:
        """The ranked practices as a display table (text cells formatted by :mod:`azsim.labels`, money a
        year in the scenario's currency): one row per practice and policy, the ranking policy first:
        gross saving, practice cost, net saving, its 95% CI, and the policy effect against the
        baseline with its 95% CI."""
        base = self.policies[0]
        out = []
        for practice, p, r in self._rows():
            cells = self._cells(r, p == base)
            out.append({"rank": int(r["rank"]), "practice": PRACTICE_LABELS[practice], "policy": p,
                        **dict(zip(self._head(), cells, strict=True))})
        return pd.DataFrame(out)

    def _rows(self):
        """(practice, policy, row) in ranking order, the ranking policy first."""
        rows = self.practices.set_index(["practice", "policy"])
        for practice in self.ranking:
            for p in reversed(self.policies):
                yield practice, p, rows.loc[(practice, p)]

    def _head(self) -> tuple[str, ...]:
        return ("gross saving", "practice cost", "net saving", "95% CI",
                f"policy effect vs {self.policies[0]} (95% CI)")

    def _cells(self, r, baseline: bool) -> tuple[str, ...]:
        cur = self.currency
        effect = "(baseline)" if baseline else _change(r, "policy_effect", cur)
        return (money(_num_or_nan(r["gross_saving_mean"]), cur, signed=True),
                money(_num_or_nan(r["practice_cost_mean"]), cur, signed=True),
                money(_num_or_nan(r["saving_mean"]), cur, signed=True),
                _ci_cell(r["saving_ci_low"], r["saving_ci_high"], cur), effect)

    def to_dict(self) -> dict:
        """JSON-ready: no NaN (a missing CI is ``None``)."""
        from . import __version__

        practices = []
        for practice in self.ranking:
            sub = self.practices[self.practices["practice"] == practice]
            practices.append({
                "practice": practice,
                "label": PRACTICE_LABELS[practice],
                "rank": int(sub["rank"].iloc[0]),
                "good_level": {k: _clean(v) for k, v in PRACTICES[practice].items()},
                "changes": {k: {"from": _clean(a), "to": _clean(b)} for k, (a, b) in self.moves[practice].items()},
                "saving": {row["policy"]: _ci(row, "saving") for _, row in sub.iterrows()},
                "net_saving": {row["policy"]: _ci(row, "saving") for _, row in sub.iterrows()},
                "gross_saving": {row["policy"]: _ci(row, "gross_saving") for _, row in sub.iterrows()},
                "practice_cost": {row["policy"]: _ci(row, "practice_cost") for _, row in sub.iterrows()},
                "policy_effect": {row["policy"]: _ci(row, "policy_effect") for _, row in sub.iterrows()
                                  if row["policy"] != self.policies[0]},
            })
        insurance = {}
        for _, row in self.insurance.iterrows():
            insurance[row["policy"]] = {
                "premium": _ci(row, "premium"),
                "cost_insured": _ci(row, "cost_insured"),
                "cost_uninsured": _ci(row, "cost_uninsured"),
                "insuring_saves": _ci(row, "insuring_saves"),
                "breakeven_premium": _ci(row, "breakeven_premium"),
                "required_at_expected_sales": bool(self.insurance_required.get(row["policy"], False)),
            }
        return {
            "azsim_version": __version__,
            "scenario": {"name": self.scenario_name, "hash": self.scenario_hash},
            "seed": self.seed,
            "replications": self.replications,
            "common_random_numbers": True,
            "metric": METRIC,
            "units": "dollars per year",
            "currency": self.currency,
            "policies": list(self.policies),
            "ranked_by": self.policies[-1],
            "baseline": self.policies[0],
            "practice_cost_categories": list(PRACTICE_COST_CATEGORIES),
            "practices": practices,
            "insurance": insurance,
        }

    def format(self) -> str:
        """A plain-text report (every amount by :mod:`azsim.labels`: '+$3,206', '95% CI +$2,971 to
        +$3,440'): ranked practices with savings under each policy, what each practice changes, then
        insurance."""
        pols = list(reversed(self.policies))  # the ranking policy first
        base = self.policies[0]
        cur = self.currency
        lines = [
            f"azsim advise | scenario {self.scenario_name} ({self.scenario_hash}) | "
            f"{plural(self.replications, 'replication')} | seed {self.seed} | common random numbers | "
            f"money in {cur} a year",
            "What to fix first: what moving one practice to a good level saves the seller a year, paired with the",
            "scenario itself on the same seeds. Gross saving: before the practice's own cost; practice cost: the",
            "change in support wages, packaging, listing, tracking work and Buy Shipping labels; net saving = gross -",
            f"cost, its mean and 95% CI; policy effect: net saving under the policy - under {base}, paired, with its",
            f"95% CI. Ranked by the net saving under {pols[0]}, practices already at the good level last.",
            "",
        ]
        lines += self._practice_table()
        lines += ["", "What each practice changes (the scenario's level -> the good level):"]
        for practice in self.ranking:
            move = self.moves[practice]
            text = "; ".join(f"{field_label(k).lower()} {_value(a)} -> {_value(b)}" for k, (a, b) in move.items())
            lines.append(f"  {PRACTICE_LABELS[practice]}: {text or 'already at the good level, nothing to change'}")
        lines += ["", "Insure or not? (always insured vs never insured; " + self._premium_text() + ")"]
        for _, row in self.insurance.set_index("policy").loc[pols].reset_index().iterrows():
            lines.append("  " + self._insurance_sentence(row))
        return "\n".join(lines)

    def _practice_table(self) -> list[str]:
        """The ranked practices: a line per practice, then a line per policy with its columns."""
        base = self.policies[0]
        head = self._head()
        table = [(practice, p, int(r["rank"]), self._cells(r, p == base)) for practice, p, r in self._rows()]
        width = max([len(v) for v in PRACTICE_LABELS.values()] + [len("under " + p) + 2 for p in self.policies])
        cols = [max([len(h)] + [len(t[3][k]) for t in table]) + 2 for k, h in enumerate(head)]
        out = [f"rank  {'practice / policy':<{width}}" + "".join(f"{h:>{w}}" for h, w in zip(head, cols, strict=True))]
        first = self.policies[-1]
        for practice, p, rank, cells in table:
            if p == first:
                out.append(f"{rank:>4}  {PRACTICE_LABELS[practice]}")
            line = "".join(f"{c:>{w}}" for c, w in zip(cells, cols, strict=True))
            out.append(f"      {'  under ' + p:<{width}}" + line)
        return out

    def _premium_text(self) -> str:
        cur = self.currency
        if self.premium_pricing == "risk":
            return (f"premium priced from the seller's risk: {money(self.minimum_premium, cur)} + "
                    f"{1 + self.premium_loading:.2f} x the expected insured loss a year, re-priced at renewal")
        parts = [f"premium {money(self.premium_per_year, cur)} a year"]
        if self.premium_share_of_revenue:
            parts.append(f"+ {self.premium_share_of_revenue:.2%} of sales")
        return " ".join(parts)

    def _insurance_sentence(self, row) -> str:
        """One policy's answer: the two costs, the break-even premium against the premium paid, the verdict."""
        cur = self.currency

        def level(name: str) -> str:
            return level_phrase(row[f"{name}_mean"], row[f"{name}_ci_low"], row[f"{name}_ci_high"], currency=cur)

        policy, lo, hi = row["policy"], row["insuring_saves_ci_low"], row["insuring_saves_ci_high"]
        saves = change_phrase(row["insuring_saves_mean"], lo, hi, currency=cur)
        paid = money(row["premium_mean"], cur) + " a year"
        if self.premium_pricing == "risk" and "expected_insured_loss" in row:
            paid += f" (expected insured loss {money(row['expected_insured_loss'], cur)} a year)"
        if not math.isnan(lo) and lo > 0:
            verdict = f"insuring pays: it saves {saves}"
        elif not math.isnan(hi) and hi < 0:
            verdict = ("going without is cheaper: insuring costs "
                       f"{change_phrase(-row['insuring_saves_mean'], -hi, -lo, currency=cur)} more")
        else:
            verdict = f"there is no clear difference: insuring saves {saves}"
        if math.isnan(lo):
            verdict += f" (no CI with {plural(self.replications, 'replication')})"
        if self.insurance_required.get(policy):
            verdict += "; Amazon requires cover at these sales"
            if self.uninsured_suspension:
                verdict += ", and the uninsured cost includes the risk of suspension for going without"
        return "\n".join([
            f"Under {policy}: {verdict}.",
            f"    insured             {level('cost_insured')}",
            f"    uninsured           {level('cost_uninsured')}",
            f"    premium paid        {paid}",
            f"    break-even premium  {level('breakeven_premium')}",
        ])


def _num_or_nan(x) -> float:
    return math.nan if x is None else float(x)


def _ci_cell(lo, hi, currency: str) -> str:
    """'+$2,971 to +$3,440', or 'no CI' (one replication)."""
    if lo is None or hi is None or math.isnan(float(lo)) or math.isnan(float(hi)):
        return "no CI"
    return ci_text(lo, hi, currency=currency)


def _change(r, name: str, currency: str) -> str:
    """A paired change as '+$45 (-$68 to +$153)'; 'no CI' in place of the interval with one replication."""
    m = money(_num_or_nan(r[f"{name}_mean"]), currency, signed=True)
    return f"{m} ({_ci_cell(r[f'{name}_ci_low'], r[f'{name}_ci_high'], currency)})"
