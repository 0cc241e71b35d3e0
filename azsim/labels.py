"""One table of labels, units and formats for everything a face shows.

Every metric, cost category, party, claim outcome, incident type, suspension reason and policy
version has one plain-English label here, and every metric one unit. The CLI, the JSON's
``labels`` block, the app and the reports all read this module, so a name reads the same
everywhere and no snake_case reaches a screen. Formatting follows the same rules everywhere:
money as ``$1,234`` (the marketplace's own currency where it is not USD), with a sign where it
is a change; shares as percentages; counts per year with thousands separators.

Nothing here computes a model number: this is presentation data only.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

__all__ = [
    "Label", "metric", "known", "label", "unit_of", "CATEGORY_LABELS", "PARTY_LABELS", "OUTCOME_LABELS", "KIND_LABELS",
    "REASON_LABELS", "CHANNEL_LABELS", "POLICY_LABELS", "policy_label", "policy_colour", "policy_colours",
    "currency_symbol", "money", "number", "value", "change_phrase", "ci_text", "pct_text", "plural", "humanize",
    "level_phrase", "field_label", "field_text", "field_value", "FIELD_LABELS",
    "all_labels", "PALETTE",
]

# ---- units ----------------------------------------------------------------------------------------
MONEY, COUNT, PERCENT, RATIO, DAYS, HOURS, SHARE = "money", "count", "percent", "ratio", "days", "hours", "share"
UNITS = (MONEY, COUNT, PERCENT, RATIO, DAYS, HOURS, SHARE)
"""``money``: currency per year; ``count``: events per year; ``percent``: stored as a fraction, shown
x100 with ``%``; ``share``: a fraction shown as a percentage of something else; ``ratio``: a plain
number (losses / premium); ``days``, ``hours``: durations."""


@dataclass(frozen=True)
class Label:
    """How one metric reads: ``text`` (a sentence-case name), ``unit`` (one of :data:`UNITS`) and a
    one-line ``description`` for tooltips and the JSON."""

    text: str
    unit: str
    description: str = ""

    def unit_text(self, currency: str = "USD") -> str:
        """The unit as words for a column header or axis: 'USD per year', 'per year', '%', 'days'."""
        return {MONEY: f"{currency} per year", COUNT: "per year", PERCENT: "%", SHARE: "%", RATIO: "ratio",
                DAYS: "days", HOURS: "hours"}[self.unit]


# ---- names of things --------------------------------------------------------------------------------
PARTY_LABELS = {
    "seller": "Seller", "amazon": "Amazon", "insurer": "Insurer", "buyer": "Buyers (uncompensated)",
    "fraudster": "Fraudsters", "carrier": "Carriers", "staff": "Support staff", "legal": "Lawyers",
    "harm": "Harm", "goods": "Goods", "forgone": "Forgone", "vendor": "Vendors",
}
"""Every ledger party; the first four are the parties the results report."""

CATEGORY_LABELS = {
    "refund": "Refunds",
    "referral_credit": "Referral fees credited back",
    "refund_admin_fee": "Refund administration fees",
    "return_shipping": "Return shipping labels",
    "recovered_goods": "Goods recovered from returns",
    "atoz_claim": "A-to-z claims granted",
    "appeal_reversal": "Grants reversed on appeal",
    "chargeback": "Chargebacks",
    "pdpi_compensation": "Injury and damage compensation",
    "pdpi_reimbursement": "Reimbursing Amazon for injury claims",
    "insurance_premium": "Insurance premium",
    "legal_costs": "Legal costs",
    "staff_time": "Staff time on claims and returns",
    "lost_profit": "Profit lost while suspended",
    "lost_referral_fees": "Referral fees lost while suspended",
    "harm": "Harm to buyers",
    "funds_held_cost": "Cost of funds held by Amazon",
    "lost_profit_feedback": "Sales lost to negative feedback",
    "lost_profit_cancelled": "Margin of cancelled orders",
    "support_wages": "Support staff wages",
    "packaging": "Packaging",
    "listing_work": "Listing upkeep",
    "tracking_work": "Tracking uploads",
    "buy_shipping_labels": "Buy Shipping labels",
}
"""Every ledger cost category (:data:`azsim.ledger.CATEGORIES`)."""

OUTCOME_LABELS = {
    "withdrawn": "Withdrawn by the buyer",
    "refunded_in_review": "Refunded by the seller during review",
    "denied": "Denied",
    "screened_out": "Screened out as fraud",
    "out_of_window": "Filed too late",
    "abandoned": "Abandoned by the claimant",
    "granted_seller_funded": "Granted, paid by the seller",
    "granted_amazon_funded": "Granted, paid by Amazon",
    "reversed_on_appeal": "Reversed on the seller's appeal",
    "dispute_won": "Disputed and won by the seller",
    "settled_by_seller": "Settled by the seller",
    "seller_paid": "Paid by the seller",
    "unpaid": "Never paid",
    "won_in_court": "Won by the claimant in court",
    "lost_in_court": "Lost by the claimant in court",
    "amazon_paid_insured_seller": "Paid by Amazon, recovered from the seller's insurer",
    "amazon_paid_seller_reimbursed": "Paid by Amazon, reimbursed by the seller",
    "amazon_paid_recovered": "Paid by Amazon, recovered from the seller",
    "amazon_paid_unrecovered": "Paid by Amazon, not recovered",
}
"""Every claim outcome a flow records (``counts.claims.by_outcome.*``)."""

KIND_LABELS = {
    "lost_in_transit": "Lost in transit",
    "late_delivery": "Late delivery",
    "damaged_in_transit": "Damaged in transit",
    "not_as_described": "Not as described",
    "wrong_item": "Wrong item sent",
    "remorse_return": "Change-of-mind return",
    "product_safety": "Product injury or damage",
    "routine_question": "Routine question",
    "out_of_stock": "Out of stock",
    "fraud_claim": "Fraudulent claim",
}
"""Every incident type (:data:`azsim.world.KINDS`)."""

CLAIM_KIND_LABELS = {"atoz": "A-to-z", "pdpi": "Injury and damage (PD/PI)", "chargeback": "Chargeback",
                     "all": "All"}
REASON_LABELS = {
    "item_not_received": "item not received", "not_as_described": "not as described",
    "return_issue": "return not refunded", "fraud": "fraudulent", "valid": "valid",
}
SUSPENSION_LABELS = {
    "odr": "Order defect rate", "late_shipment": "Late shipment rate", "cancel": "Cancellation rate",
    "valid_tracking": "Valid tracking rate", "insurance_missing": "Missing insurance",
}
CHANNEL_LABELS = {
    "account": "Whole account", "seller_fulfilled": "Seller-fulfilled offers",
    "seller_fulfilled_categories": "Some seller-fulfilled categories", "any": "Any sales",
}
PRACTICE_COST_LABELS = {k: CATEGORY_LABELS[k] for k in
                        ("support_wages", "packaging", "listing_work", "tracking_work", "buy_shipping_labels")}
CHOICE_LABELS = {
    "cancel": "Cancels the order", "ship_late": "Ships it late",
    "always": "Always insured", "when_required": "Insured when Amazon requires it", "never": "Never insured",
    "risk": "Priced from the seller's risk", "fixed": "A fixed quote",
    True: "Yes", False: "No",
}
"""The values of a scenario's choice fields (out-of-stock handling, insurance carry and pricing, yes/no), as shown."""
STAT_LABELS = {"mean": "mean", "median": "median", "p90": "90th percentile", "max": "maximum"}
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "market.orders_per_day": ("Orders per day", "orders"),
    "market.fba_share": ("Orders fulfilled by Amazon (FBA)", "percent"),
    "market.price.median": ("Median item price", "money"),
    "market.price.sigma": ("Spread of item prices (log-normal sigma)", "ratio"),
    "seller.tracking.upload_delay_days": ("Days from order to shipment confirmation (mean)", "days"),
    "seller.tracking.upload_rate": ("Shipments with valid tracking", "percent"),
    "incidents.out_of_stock": ("Orders out of stock (cancelled by the seller)", "percent"),
    "incidents.remorse_return": ("Orders returned by the buyer's choice", "percent"),
    "buyers.escalate_to_atoz": ("Buyers with a problem who file an A-to-z claim", "percent"),
    "buyers.chargeback": ("Buyers who file a chargeback", "percent"),
    "incidents.base_negative_feedback": ("Negative feedback on orders without a problem", "percent"),
}
"""Plain labels and units (``orders`` a day, ``percent`` of a fraction, ``money``, ``ratio``, ``days``) of the
scenario fields a calibration from the seller's reports sets (:func:`field_text`, :func:`field_value`)."""

# ---- metrics -----------------------------------------------------------------------------------------
_FIXED: dict[str, Label] = {
    "seller_cost.total": Label("Seller cost", MONEY, "everything the seller pays net of what it recovers"),
    "amazon_cost.total": Label("Amazon cost", MONEY, "what Amazon pays net of what it recovers and earns back"),
    "insurer_cost.total": Label("Insurer cost", MONEY, "claims the insurer pays net of the premium it earns"),
    "buyer_uncompensated.total": Label("Buyers' uncompensated loss", MONEY,
                                       "harm buyers suffer that nobody compensates"),
    "practice_costs.total": Label("Practice costs", MONEY, "what the seller's own practices cost to run"),
    "counts.orders": Label("Orders", COUNT, "orders placed"),
    "counts.cancelled_orders": Label("Cancelled orders", COUNT, "orders the seller cancels (out of stock)"),
    "counts.chargebacks": Label("Chargebacks", COUNT, "card chargebacks"),
    "counts.late_refund_claims": Label("Claims for late refunds", COUNT, "A-to-z claims for a return not refunded"),
    "counts.messages": Label("Buyer messages", COUNT, "messages buyers send the seller"),
    "counts.negative_feedback": Label("Negative feedback", COUNT, "one- and two-star seller feedback"),
    "counts.odr_defects": Label("Order defects", COUNT, "A-to-z claims, chargebacks and negative feedback"),
    "counts.orders_lost_to_suspension": Label("Orders lost to suspensions", COUNT, "orders never placed"),
    "counts.refunds_by_amazon_late": Label("Late refunds made by Amazon", COUNT,
                                           "refunds Amazon makes when the seller is late"),
    "counts.returns": Label("Returns", COUNT, "returns received"),
    "counts.suspensions": Label("Suspensions", COUNT, "times sales were stopped for account health"),
    "feedback.negative_share_mean": Label("Negative feedback share, mean", SHARE,
                                          "trailing 365-day share of negative feedback"),
    "feedback.orders_lost": Label("Orders lost to negative feedback", COUNT, "sales negative feedback costs"),
    "feedback.sales_loss_mean": Label("Sales lost to negative feedback, mean", SHARE,
                                      "share of sales negative feedback costs"),
    "funds_held.amount": Label("Funds held by Amazon", MONEY, "disbursements withheld during deactivations"),
    "funds_held.days": Label("Days with funds held", COUNT, "days Amazon withheld disbursements"),
    "funds_held.dollar_days": Label("Funds held x days", MONEY, "money held times days held"),
    "insurance.deductible": Label("Insurance deductible paid", MONEY, "deductibles the seller pays"),
    "insurance.expected_loss": Label("Insurer's expected loss", MONEY, "the insurer's priced expectation of losses"),
    "insurance.insured_days": Label("Days insured", COUNT, "days with liability cover in force"),
    "insurance.insurer_losses": Label("Insurer's losses", MONEY, "claims and defence the insurer pays"),
    "insurance.loss_ratio": Label("Insurer's loss ratio", RATIO, "insurer's losses / premium"),
    "insurance.missing_days": Label("Days without required insurance", COUNT,
                                    "days the policy required cover the seller did not have"),
    "insurance.premium": Label("Insurance premium", MONEY, "premium the seller pays"),
    "insurance.uncovered_losses": Label("Losses insurance did not cover", MONEY, "beyond limits or uninsured"),
    "odr.max": Label("Order defect rate, maximum", PERCENT, "highest ODR at any daily check"),
    "odr.mean": Label("Order defect rate, mean", PERCENT, "ODR averaged over the daily checks"),
    "replies.within_24h": Label("Buyer messages answered within 24 h", PERCENT, "share of messages"),
    "replies.within_48h": Label("Buyer messages answered within 48 h", PERCENT, "share of messages"),
    "suspended_days": Label("Days with the account suspended", COUNT, "days the whole account could not sell"),
}


def _pattern(key: str) -> Label | None:
    parts = key.split(".")
    head, last = parts[0], parts[-1]
    if len(parts) == 3 and parts[1] == "by_category" and head in _PARTY_COST:
        party = _PARTY_COST[head]
        return Label(f"{PARTY_LABELS[party]}: {CATEGORY_LABELS.get(last, humanize(last))}", MONEY,
                     f"{PARTY_LABELS[party]}'s net cost in this category")
    if head == "practice_costs" and len(parts) == 2:
        return Label(f"Practice cost: {PRACTICE_COST_LABELS.get(last, humanize(last))}", MONEY, "a practice's cost")
    if key.startswith("counts.claims.by_outcome."):
        return Label(f"Claims: {OUTCOME_LABELS.get(last, humanize(last))}", COUNT, "claims ending this way")
    if key.startswith("counts.claims.by_type."):
        kind, _, reason = last.partition("_")
        what = CLAIM_KIND_LABELS.get(kind, humanize(kind))
        return Label(f"{what} claims, {REASON_LABELS.get(reason, humanize(reason))}", COUNT,
                     "claims of this type and reason")
    if key.startswith("counts.claims.total."):
        return Label(f"{CLAIM_KIND_LABELS.get(last, humanize(last))} claims", COUNT, "claims filed")
    if key.startswith("counts.incidents."):
        return Label(f"Incidents: {KIND_LABELS.get(last, humanize(last))}", COUNT, "orders with this incident")
    if key.startswith("counts.orders_lost_by_channel."):
        return Label(f"Orders lost: {CHANNEL_LABELS.get(last, humanize(last)).lower()} stopped", COUNT,
                     "orders never placed because the channel was stopped")
    if key.startswith("counts.suspensions_by_reason."):
        return Label(f"Suspensions for {SUSPENSION_LABELS.get(last, humanize(last)).lower()}", COUNT,
                     "times sales were stopped for this metric")
    if key.startswith("suspended_days_by_channel."):
        if last == "any":
            return Label("Days with any sales stopped", COUNT, "days any channel could not sell")
        return Label(f"Days stopped: {CHANNEL_LABELS.get(last, humanize(last)).lower()}", COUNT,
                     "days this channel could not sell")
    if head == "compensation_days" and len(parts) == 3:
        what = "PD/PI" if parts[1] == "pdpi" else CLAIM_KIND_LABELS.get(parts[1], humanize(parts[1]))
        return Label(f"{what} incident to payment, {STAT_LABELS.get(last, humanize(last))}", DAYS,
                     "days from the buyer's incident to the payment that compensates it")
    if head == "resolution_days" and len(parts) == 2:
        what = "PD/PI" if last == "pdpi" else CLAIM_KIND_LABELS.get(last, humanize(last))
        return Label(f"{what} claim to decision, mean", DAYS, "days from a claim to its decision")
    if key.startswith("replies.hours."):
        return Label(f"Reply time, {STAT_LABELS.get(last, humanize(last))}", HOURS, "hours to answer a buyer message")
    return None


_PARTY_COST = {"seller_cost": "seller", "amazon_cost": "amazon", "insurer_cost": "insurer",
               "buyer_uncompensated": "buyer"}


def metric(key: str) -> Label:
    """The :class:`Label` of a result metric; an unknown key gets a readable fallback (never snake_case)."""
    found = _FIXED.get(key) or _pattern(key)
    if found is not None:
        return found
    return Label(humanize(key.replace(".", " ")), COUNT if key.startswith("counts.") else RATIO, "")


def known(key: str) -> bool:
    """Whether ``key`` has its own entry (a fixed label or a pattern), not the readable fallback."""
    return key in _FIXED or _pattern(key) is not None


def label(key: str) -> str:
    """The metric's label text."""
    return metric(key).text


def unit_of(key: str) -> str:
    return metric(key).unit


def all_labels(keys) -> dict[str, dict[str, str]]:
    """``{metric: {"label", "unit", "description"}}`` for the JSON results."""
    out = {}
    for k in sorted(keys):
        m = metric(k)
        out[k] = {"label": m.text, "unit": m.unit, "description": m.description}
    return out


def humanize(name) -> str:
    """snake_case or kebab-case to words, first letter up: 'new_500' -> 'New 500'."""
    text = re.sub(r"[_]+", " ", str(name)).strip()
    return text[:1].upper() + text[1:] if text else text


# ---- policies ----------------------------------------------------------------------------------------
POLICY_LABELS = {
    "us-2021-old": "US, before Sep 2021",
    "us-2021-new": "US, from Sep 2021",
    "us-2022-06": "US, from Jun 2022",
    "ca-2024": "Canada, 2024",
    "uk-pre-2024": "UK, before 2024",
    "uk-2024": "UK, 2024",
    "eu-2024": "EU, 2024",
    "old": "Old (to Aug 2021)",
    "new": "New (from Sep 2021)",
}

PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
"""Okabe-Ito colours: distinguishable with the common colour-vision deficiencies."""

_FIXED_COLOURS = {"old": PALETTE[0], "us-2021-old": PALETTE[0], "new": PALETTE[1], "us-2021-new": PALETTE[1],
                  "us-2022-06": PALETTE[2], "ca-2024": PALETTE[3], "uk-pre-2024": PALETTE[4], "uk-2024": PALETTE[5],
                  "eu-2024": PALETTE[3]}
_EXTRA = ["#332288", "#117733", "#44AA99", "#88CCEE", "#DDCC77", "#CC6677", "#AA4499", "#882255", "#999933"]


def policy_label(name: str) -> str:
    """A policy's name as shown: a known version's plain name, else the scenario's own name made readable."""
    return POLICY_LABELS.get(name, humanize(name))


def policy_colour(name: str) -> str:
    """One fixed colour per policy name, the same in every scenario, chart and report (a known version
    has its own; any other name gets one from a second colour-blind-safe set, by a hash of the name)."""
    if name in _FIXED_COLOURS:
        return _FIXED_COLOURS[name]
    h = int(hashlib.sha256(str(name).encode()).hexdigest(), 16)
    return _EXTRA[h % len(_EXTRA)]


def policy_colours(names) -> list[str]:
    """Colours of ``names`` in order; a later name that collides with an earlier one's colour takes the next
    free one, so one chart never shows two policies alike."""
    used: list[str] = []
    pool = PALETTE + _EXTRA
    for n in names:
        c = policy_colour(n)
        if c in used:
            c = next((x for x in pool if x not in used), c)
        used.append(c)
    return used


# ---- formats ----------------------------------------------------------------------------------------
_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "CAD": "CA$"}


def currency_symbol(currency: str = "USD") -> str:
    return _SYMBOLS.get(currency, f"{currency} ")


def _missing(x) -> bool:
    if x is None:
        return True
    try:
        return math.isnan(float(x)) or math.isinf(float(x))
    except (TypeError, ValueError):
        return True


def money(x, currency: str = "USD", signed: bool = False, decimals: int = 0) -> str:
    """'$1,234', '-$142', with ``signed`` '+$298'; 'n/a' for a missing value."""
    if _missing(x):
        return "n/a"
    x = float(x)
    if round(abs(x), decimals) == 0:
        x = 0.0
    sign = "-" if x < 0 else ("+" if signed and x > 0 else "")
    return f"{sign}{currency_symbol(currency)}{abs(x):,.{decimals}f}"


def number(x, decimals: int = 0, signed: bool = False) -> str:
    if _missing(x):
        return "n/a"
    x = float(x)
    if round(abs(x), decimals) == 0:
        x = 0.0
    return f"{x:{'+' if signed else ''},.{decimals}f}"


_DECIMALS = {COUNT: 1, PERCENT: 2, SHARE: 1, RATIO: 2, DAYS: 1, HOURS: 1}


def value(x, unit: str, currency: str = "USD", signed: bool = False) -> str:
    """A value of a metric with ``unit`` as shown everywhere: money '$1,234', percent '0.55%', ratio
    '0.83', counts '1,234.5', days '12.3 days'."""
    if _missing(x):
        return "n/a"
    if unit == MONEY:
        return money(x, currency, signed)
    if unit in (PERCENT, SHARE):
        return number(100 * float(x), _DECIMALS[unit], signed) + ("" if signed else "%") + (" pp" if signed else "")
    text = number(x, _DECIMALS.get(unit, 2), signed)
    return text + {DAYS: " days", HOURS: " h"}.get(unit, "")


def pct_text(pct) -> str:
    """A relative change: '+11.6%'; 'n/a' when undefined."""
    return "n/a" if _missing(pct) else f"{float(pct):+.1f}%"


def ci_text(lo, hi, unit: str = MONEY, currency: str = "USD") -> str:
    """'-$142 to +$298' (signed: a CI of a change)."""
    if _missing(lo) or _missing(hi):
        return "n/a"
    a, b = value(lo, unit, currency, True), value(hi, unit, currency, True)
    tail = {PERCENT: " pp", SHARE: " pp", DAYS: " days", HOURS: " h"}.get(unit, "")
    if tail and a.endswith(tail):  # the unit once, at the end: '+0.10 to +0.25 pp'
        a = a[: -len(tail)]
    return f"{a} to {b}"


def range_text(lo, hi, unit: str = MONEY, currency: str = "USD") -> str:
    """'$110,752 to $112,182' (unsigned: a CI of a level, not of a change); 'n/a' when missing."""
    if _missing(lo) or _missing(hi):
        return "n/a"
    return f"{value(lo, unit, currency)} to {value(hi, unit, currency)}"


def change_phrase(mean, lo, hi, unit: str = MONEY, currency: str = "USD", per_year: bool = True) -> str:
    """The answer in words: '+$78 a year (95% CI -$142 to +$298)'; without a CI, just the number."""
    if _missing(mean):
        return "not defined (no replication had a value)"
    head = value(mean, unit, currency, True) + (" a year" if per_year and unit in (MONEY, COUNT) else "")
    if _missing(lo) or _missing(hi):
        return head
    return f"{head} (95% CI {ci_text(lo, hi, unit, currency)})"


def level_phrase(mean, lo, hi, unit: str = MONEY, currency: str = "USD", per_year: bool = True) -> str:
    """A level (not a change) in words: '$111,467 a year (95% CI $110,752 to $112,182)'."""
    if _missing(mean):
        return "n/a"
    head = value(mean, unit, currency) + (" a year" if per_year and unit in (MONEY, COUNT) else "")
    if _missing(lo) or _missing(hi):
        return head
    return f"{head} (95% CI {value(lo, unit, currency)} to {value(hi, unit, currency)})"


def field_label(path: str) -> str:
    """A scenario field's dotted path in words: 'seller.messages.reply_rate' -> 'Messages: reply rate',
    'seller.listing_accuracy' -> 'Listing accuracy' (the leading 'seller.' dropped)."""
    parts = [humanize(p).lower() for p in str(path).removeprefix("seller.").split(".") if p]
    if not parts:
        return ""
    text = parts[-1] if len(parts) == 1 else f"{', '.join(parts[:-1])}: {parts[-1]}"
    return text[:1].upper() + text[1:]


def field_text(path: str) -> str:
    """A scenario field in plain words: its :data:`FIELD_LABELS` label, else :func:`field_label`."""
    return FIELD_LABELS[path][0] if path in FIELD_LABELS else field_label(path)


def field_value(path: str, x, currency: str = "USD") -> str:
    """A value of a scenario field as shown: '59.6' orders a day, '96.79%', '$29.93', '0.25 days'."""
    unit = FIELD_LABELS.get(path, ("", ""))[1]
    if _missing(x):
        return "n/a"
    if unit == "orders":
        return number(x, 1)
    if unit == "percent":
        return number(100 * float(x), 3 if abs(float(x)) < 0.01 else 2) + "%"
    if unit == "money":
        return money(x, currency, decimals=2)
    if unit == "days":
        return number(x, 2) + " days"
    return f"{float(x):.4g}"


def plural(n, word: str, words: str | None = None) -> str:
    """'1 replication', '20 replications' (``words`` for an irregular plural)."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"
