"""The report's Limitations: the assumed parameters grouped by model area, the most influential first.

How influence is ranked (cheaply: no extra simulation):

* **Areas** are ordered by how much of the seller's paired yearly cost change is booked in the cost
  categories the area's parameters act on (the sum of the categories' absolute mean changes, over
  every compared policy); ties (areas whose categories do not change) by the categories' baseline
  cost. The area that carries the answer comes first.
* **Within an area**, with sensitivity results (a results store with a Sobol sweep), the factors
  varied come first by their total Sobol index; then the parameters whose value differs between
  the compared policies (they are the policy change); then the others in the scenario file's order.

Per area: a short paragraph, the top few assumed parameters with their values, and the rest
folded (a ``details`` block in HTML, a compact list elsewhere).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from .. import labels as L
from .document import Section

TOP = 3
"""Assumed parameters shown per area before the rest are folded."""


@dataclass(frozen=True)
class Area:
    key: str
    title: str
    about: str
    patterns: tuple[str, ...]  # regexes on the dotted path (policy fields without "policies.NAME.")
    categories: tuple[str, ...]  # seller cost categories the area's parameters act on


AREAS = (
    Area("insurance", "Insurance", "when cover is required, what it covers and how it is priced",
         (r"^seller\.insurance\.", r"^insurance_", r"^deductible_"), ("insurance_premium",)),
    Area("pdpi", "Injury and damage (PD/PI) claims and litigation",
         "how often harmed buyers claim, how claims are screened, paid, disputed and litigated",
         (r"^litigation\.", r"^incidents\.(product_safety|pdpi_amount|use_days_before_harm)", r"^buyers\.pdpi_",
          r"^pdpi_", r"^fraud_attempt_rate", r"^screening_", r"^amazon_pays", r"^amazon_recovery_rate",
          r"^dispute_success", r"^damages_cap", r"^amazon_payment_days", r"^seller_path_resolution_days",
          r"^seller_response_days", r"^seller\.disputes\."),
         ("pdpi_compensation", "pdpi_reimbursement", "legal_costs")),
    Area("atoz", "A-to-z claims and chargebacks", "when buyers escalate, how Amazon reviews claims and appeals",
         (r"^buyers\.(escalate_to_atoz|claim_delay_days|chargeback|withdraw_when_refunded|late_)",
          r"^(claim_|info_|review_|appeal_|auto_grant_unanswered|message_reply_hours|buy_shipping_protection)",
          r"^seller\.claims\."),
         ("atoz_claim", "appeal_reversal", "chargeback", "staff_time")),
    Area("returns", "Returns and refunds", "how often buyers return, what is resold, how fast refunds are made",
         (r"^incidents\.(remorse_return|return_fraud_share|resale_share)", r"^buyers\.(return_|defect_notice)",
          r"^seller\.returns\.", r"^(return_|auto_grant_unauthorised_return|auto_authorise_returns|refund_)",
          r"^market\.return_shipping_cost"),
         ("refund", "refund_admin_fee", "return_shipping", "recovered_goods", "referral_credit")),
    Area("account", "Account health", "the limits, reviews, warnings and actions on the seller's account",
         (r"^account_health\.",), ("lost_profit", "lost_referral_fees", "funds_held_cost")),
    Area("practices", "Seller practices and their costs",
         "support staffing, listing, packing and tracking, and what each costs",
         (r"^seller\.(practice_costs|support|messages|listing_accuracy|packaging_quality|tracking|out_of_stock)",),
         ("support_wages", "packaging", "listing_work", "tracking_work", "buy_shipping_labels")),
    Area("feedback", "Buyer contact, feedback and lost sales",
         "when buyers write, leave negative feedback, and the sales it costs",
         (r"^buyers\.(contact_|negative_feedback)", r"^market\.feedback_effect\.", r"^incidents\.base_negative"),
         ("lost_profit_feedback", "lost_profit_cancelled")),
    Area("incidents", "Incidents", "how often orders go wrong in transit or on arrival",
         (r"^incidents\.",), ("refund", "recovered_goods")),
    Area("market", "Market and sales", "orders, prices, fees and delivery", (r"^market\.", r"^horizon_days$"), ()),
    Area("policy", "Other policy rules", "other fields of the compared policy versions", (r".",), ()),
)


def area_of(path: str) -> Area:
    """The model area of a dotted parameter path (a policy field by its name after ``policies.NAME.``)."""
    is_policy = path.startswith("policies.")
    name = re.sub(r"^policies\.[^.]+\.", "", path) if is_policy else path
    for area in AREAS[:-1]:
        if any(re.search(p, name) for p in area.patterns):
            return area
    return AREAS[-1] if is_policy else AREAS[-2]


@dataclass
class Entry:
    path: str  # dotted path; a policy field as "policies.*.FIELD"
    value: str
    differs: bool
    order: int
    index: float | None = None  # total Sobol index, when known
    values: set = field(default_factory=set)


def _entries(params: pd.DataFrame, policies: list[str]) -> list[Entry]:
    """Assumed parameters; a policy field once, with each policy's value."""
    out: dict[str, Entry] = {}
    for i, row in enumerate(params.itertuples(index=False)):
        if row.confidence != "assumed":
            continue
        m = re.match(r"^policies\.([^.]+)\.(.+)$", row.parameter)
        if m:
            key = f"policies.*.{m.group(2)}"
            e = out.setdefault(key, Entry(key, "", False, i))
            sep = "; " if e.value else ""
            e.value += f"{sep}{L.policy_label(m.group(1))}: {row.value}"
            e.values.add(row.value)
            e.differs = len(e.values) > 1
        else:
            out[row.parameter] = Entry(row.parameter, str(row.value), False, i)
    return list(out.values())


def limitations_section(params: pd.DataFrame, policies: list[str], category_change: dict[str, float],
                        category_level: dict[str, float], currency: str, replications: int,
                        indices: dict[str, float] | None = None) -> Section:
    """The Limitations section of a scenario report. ``category_change``: seller cost category -> sum
    over compared policies of |mean paired change|; ``category_level``: category -> baseline mean."""
    entries = _entries(params, policies)
    total = len(params)
    by_area: dict[str, list[Entry]] = {}
    for e in entries:
        if indices:
            e.index = indices.get(e.path)
        by_area.setdefault(area_of(e.path.replace("*", "x", 1)).key, []).append(e)
    change_total = sum(abs(v) for v in category_change.values()) or 0.0

    def weight(area: Area) -> tuple[float, float]:
        return (sum(abs(category_change.get(c, 0.0)) for c in area.categories),
                sum(abs(category_level.get(c, 0.0)) for c in area.categories))

    areas = sorted((a for a in AREAS if a.key in by_area), key=lambda a: (-weight(a)[0], -weight(a)[1]))
    items: list[tuple[str, object]] = [("para", (
        f"{len(entries)} of the scenario's {total} parameters are assumed (no published source, or none given in "
        "the scenario file; a policy field counted once for all policies). They are grouped below by model area. "
        "Areas are ordered by how much of the seller's paired yearly cost change is booked in the cost categories "
        "the area acts on; within an area, " + ("the factors of the sensitivity analysis come first, by their total "
                                                "Sobol index, then " if indices else "")
        + "the parameters whose value differs between the compared policies, then the scenario file's order. "
        "This is a cheap ordering, not a sensitivity analysis: run azsim sensitivity on the parameters that "
        "matter to you."))]
    for area in areas:
        group = sorted(by_area[area.key], key=lambda e: (-(e.index if e.index is not None else -1.0),
                                                          not e.differs, e.order))
        w = weight(area)[0]
        share = f" ({w / change_total:.0%} of the total)" if change_total > 0 and area.categories else ""
        carried = (f" Its cost categories carry {L.money(w, currency)} a year of the seller's change{share}."
                   if area.categories else "")
        items.append(("heading", area.title))
        items.append(("para", f"How the model treats {area.about}: {L.plural(len(group), 'parameter')} assumed."
                             f"{carried}"))
        items.append(("list", [_entry_text(e) for e in group[:TOP]]))
        if len(group) > TOP:
            items.append(("details", (f"{len(group) - TOP} more assumed in this area",
                                      [_entry_text(e) for e in group[TOP:]])))
    items.append(("heading", "Beyond the parameters"))
    items.append(("list", [
        "Support staff are paid for their rostered hours, and practice costs (packaging, listing and tracking work, "
        "Buy Shipping labels) are assumed figures; replace them with the seller's own (seller.practice_costs).",
        "Amazon's internal rules (claim review, account health) follow the published policy text, not Amazon's "
        "undisclosed practice.",
        f"Confidence intervals reflect simulation noise over {L.plural(replications, 'replication')}, not "
        "uncertainty in the parameters: see a sensitivity analysis (azsim sensitivity) for that.",
    ]))
    return Section("Limitations", [], items)


def _entry_text(e: Entry) -> str:
    extra = f"; total Sobol index {e.index:.2f}" if e.index is not None else ""
    differs = "; differs between the policies" if e.differs else ""
    return f"{e.path} = {e.value}{differs}{extra}"


def store_limitations(indices: dict[str, float] | None, factors: list[str]) -> Section:
    """The Limitations section of a results-store report: the factors varied, most influential first."""
    items: list[tuple[str, object]] = [("list", [
        "The store records the parameters' values, not their sources: check the scenario files the sweeps were run "
        "from for which values are assumed.",
        "Confidence intervals reflect simulation noise over the stored replications, not parameter uncertainty "
        "beyond the factors varied.",
    ])]
    if factors:
        ranked = sorted(factors, key=lambda f: -(indices or {}).get(f, -1.0))
        items.append(("heading", "Factors varied, by model area" + (", most influential first" if indices else "")))
        if indices:
            items.append(("para", "Ordered by the total Sobol index of the paired seller-cost change."))
        by_area: dict[str, list[str]] = {}
        for f in ranked:
            by_area.setdefault(area_of(f).title, []).append(
                f + (f" (total Sobol index {indices[f]:.2f})" if indices and f in indices else ""))
        for title, names in by_area.items():
            items.append(("facts", [(title, "; ".join(names))]))
    return Section("Limitations", [], items)
