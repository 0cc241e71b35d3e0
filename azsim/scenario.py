"""The Scenario schema, loading from YAML, dotted-path overrides and validation.

Validation lives here and only here: every other module receives a typed, immutable
:class:`Scenario`. Problems are collected into one :class:`ScenarioError` whose ``problems``
each name the field path (``seller.support.staff``) and what is wrong.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, ValidationError, model_validator

from . import _yaml
from ._types import Days, Delay, DelayCv, DelayMean, Minutes, Model, Money, Rate, Text, _one_line
from .policy import Currency, Policy, preset_names, preset_values, resolve_preset

__all__ = [
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "scenario_from_dict",
    "apply_overrides",
    "attribute_overrides",
    "parse_override",
    "field_info",
    "estimate",
    "check_budget",
    "parse_yaml",
    "read_yaml",
]

MAX_FILE_BYTES = 1_000_000
"""The largest scenario or sweep file (and upload) read, in bytes."""

MAX_HORIZON_DAYS = 100_000
"""The longest horizon: about 274 years (long horizons estimate rare-event rates; the cost check bounds
the work)."""

MAX_ORDERS_PER_DAY = 1_000_000
"""The most orders a day (far above any one seller; the cost estimate refuses far less)."""

MAX_REPLICATIONS = 100_000
"""The most replications (``-r``, ``--max-replications``, a sweep file's ``replications``)."""

MAX_SEED = 2**63 - 1
"""The largest root seed."""

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,39}$"
"""What a policy name (and a sweep name) may be: it becomes a column, a key and a file name."""

_Z_MAX = 8.21
"""The largest standard normal quantile a hashed uniform can reach (ndtri(1 - 2**-53)): the largest
lognormal draw of a field is its median x e^(8.21 sigma)."""


Name = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_one_line)]
"""A scenario's name: printable text on one line, 1 to 100 characters (a report slugifies it
before using it in a file name)."""

PolicyName = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
"""A policy's name: a letter, then up to 39 letters, digits, ``_`` or ``-``."""


# ----------------------------------------------------------------------------------------------
# schema
# ----------------------------------------------------------------------------------------------
def _check_largest_draw(median: float, sigma: float, limit: float, what: str) -> None:
    """A lognormal field's largest possible draw, median x e^(8.21 sigma), must stay under ``limit``
    (money is booked in integer cents: this keeps every amount and sum far from overflowing)."""
    largest = median * math.exp(_Z_MAX * sigma)
    if largest > limit:
        raise ValueError(f"the largest {what} a draw can give, median x e^({_Z_MAX} x sigma) = {largest:.3g}, "
                         f"must be at most {limit:.0e}: lower median or sigma")


class PriceDistribution(Model):
    """Item prices: lognormal with this median and log-standard deviation."""

    median: Money = 30.0
    sigma: float = Field(0.6, ge=0.0, le=3.0)

    @model_validator(mode="after")
    def _largest_draw(self) -> PriceDistribution:
        _check_largest_draw(self.median, self.sigma, 1e12, "price")
        return self


class FeedbackEffect(Model):
    """Negative seller feedback lowers sales: buyers see the share of negative ratings among the
    feedback of the last ``window_days`` (Amazon shows the last 12 months), and each percentage
    point of it costs ``sales_loss_per_point`` of the day's sales (at most ``max_sales_loss``)."""

    window_days: int = Field(365, ge=1, le=3650, description="days of feedback buyers see (Amazon: 12 months)")
    feedback_rate: float = Field(
        0.05, ge=0.0001, le=1.0, description="share of orders on which the buyer leaves seller feedback of any kind"
    )
    sales_loss_per_point: float = Field(
        0.0025, ge=0.0, le=0.2, description="share of sales lost per percentage point of negative feedback share"
    )
    max_sales_loss: Rate = Field(0.5, description="the most sales negative feedback can cost on a day")


class Market(Model):
    currency: Currency = Field("USD", description="currency of every amount in the scenario and its results")
    orders_per_day: float = Field(60.0, gt=0.0, le=MAX_ORDERS_PER_DAY)
    q4_peak_multiplier: float = Field(1.0, ge=0.0, le=20.0, description="order rate factor in Oct-Dec")
    start_month: int = Field(1, ge=1, le=12, description="calendar month of day 0")
    start_weekday: int = Field(0, ge=0, le=6, description="weekday of day 0, 0 = Monday")
    price: PriceDistribution = PriceDistribution()
    shipping_charge: Money = Field(0.0, description="shipping the buyer pays, refunded on seller-fault refunds")
    cogs_share: Rate = Field(0.4, description="cost of goods as a share of price")
    fba_share: Rate = Field(0.0, description="share of orders fulfilled by Amazon")
    referral_fee_rate: Rate = 0.15
    referral_fee_min: Money = 0.30
    shipping_cost: Money = Field(5.0, description="seller's outbound label per seller-fulfilled order")
    fba_fee: Money = Field(4.5, description="FBA fulfilment fee per unit")
    return_shipping_cost: Money = 6.0
    delivery_days: Days = Field(5.0, description="order to latest estimated delivery date (EDD)")
    established_months: int = Field(
        12, ge=0, le=600, description="months sold at this rate before day 0 (count toward the insurance requirement)"
    )
    feedback_effect: FeedbackEffect = FeedbackEffect()

    def expected_monthly_sales(self) -> float:
        """Expected sales (item + shipping) in a 30-day month at the base order rate."""
        mean_price = self.price.median * math.exp(self.price.sigma**2 / 2)
        return self.orders_per_day * 30 * (mean_price + self.shipping_charge)


class PracticeRate(Model):
    """An incident rate that a seller practice moves: ``best`` at level 1, ``worst`` at level 0."""

    best: Rate
    worst: Rate

    def at(self, level: float) -> float:
        return self.best + (1.0 - level) * (self.worst - self.best)


class PdpiAmount(Model):
    """Harm from a product-safety incident: lognormal, heavy-tailed."""

    median: Money = 250.0
    sigma: float = Field(1.5, ge=0.0, le=5.0)

    @model_validator(mode="after")
    def _largest_draw(self) -> PdpiAmount:
        _check_largest_draw(self.median, self.sigma, 1e12, "harm")
        return self


class ResaleShare(Model):
    """Share of cost of goods recovered when a returned item is restocked, by return reason."""

    remorse: Rate = 0.85
    damaged: Rate = 0.0
    not_as_described: Rate = 0.5
    wrong_item: Rate = 0.9


class Incidents(Model):
    """Per-order chance of each incident type (mutually exclusive)."""

    lost_in_transit: Rate = 0.003
    late_delivery: Rate = 0.03
    late_delivery_mean_days: Days = 2.5
    damaged_in_transit: PracticeRate = PracticeRate(best=0.002, worst=0.02)
    not_as_described: PracticeRate = PracticeRate(best=0.003, worst=0.04)
    wrong_item: Rate = 0.002
    remorse_return: Rate = 0.09
    return_fraud_share: Rate = 0.106
    product_safety: Rate = 0.00005
    pdpi_amount: PdpiAmount = PdpiAmount()
    use_days_before_harm: Days = Field(30.0, description="mean days from delivery to a safety incident")
    routine_question: Rate = 0.03
    out_of_stock: Rate = 0.01
    resale_share: ResaleShare = ResaleShare()
    base_negative_feedback: Rate = Field(0.0015, description="negative feedback on orders with no incident")


class NegativeFeedback(Model):
    resolved: Rate = 0.03
    unresolved: Rate = 0.35
    slow_reply_factor: float = Field(2.0, ge=1.0, le=10.0, description="factor when a reply takes over 24 h")


class Buyers(Model):
    contact_seller_first: Rate = 0.7
    contact_delay_days: Days = 1.0
    escalate_to_atoz: Rate = 0.4
    claim_delay_days: Days = 2.0
    chargeback: Rate = 0.05
    withdraw_when_refunded: Rate = 0.9
    negative_feedback: NegativeFeedback = NegativeFeedback()
    return_request_days: Days = Field(7.0, description="mean days from delivery to a remorse return request")
    defect_notice_days: Days = Field(1.0, description="mean days from delivery to noticing a defect")
    return_transit_days: Days = 5.0
    pdpi_report_delay_days: Days = 14.0
    late_question_rate: Rate = Field(0.5, description="share of late deliveries that prompt a message")
    late_refund_claim: Rate = Field(
        0.1, description="share of buyers refunded after the deadline who file a 'returned but not refunded' claim"
    )


class Messages(Model):
    reply_rate: Rate = Field(0.95, description="share of buyer messages the seller answers at all")


class Support(Model):
    staff: int = Field(1, ge=1, le=1000, description="people on the desk at once, each paid every rostered hour")
    open_hour: float = Field(9.0, ge=0.0, le=24.0, description="the desk's rostered hours start")
    close_hour: float = Field(13.0, ge=0.0, le=24.0, description="the desk's rostered hours end")
    work_days_per_week: int = Field(5, ge=1, le=7, description="rostered days a week, from market.start_weekday")
    handling_minutes: Minutes = 8.0
    wage_per_hour: float = Field(
        20.0, ge=0.0, le=1000.0,
        description="paid for every rostered hour (support_wages) and for back-office task minutes (staff_time)",
    )

    @model_validator(mode="after")
    def _hours(self) -> Support:
        if self.close_hour <= self.open_hour:
            raise ValueError("close_hour must be after open_hour")
        return self


class Returns(Model):
    authorise_within_48h: Rate = 0.95
    late_authorisation_days: Days = 4.0
    refund_delay_days: Days = Field(1.5, description="mean days from receiving a return to refunding it")
    handling_minutes: Minutes = 5.0


class OutOfStock(Model):
    handling: Literal["cancel", "ship_late"] = "cancel"
    restock_days: Days = 6.0


class Tracking(Model):
    upload_rate: Rate = Field(0.97, description="share of shipments with valid tracking")
    upload_delay_days: Days = Field(0.25, description="mean days from order to shipment confirmation")
    buy_shipping_share: Rate = Field(0.5, description="share of labels bought through Buy Shipping")


class ClaimHandling(Model):
    response_rate: Rate = Field(0.9, description="share of claims/requests the seller answers")
    response_days: Days = Field(1.0, description="mean days to answer")
    refund_on_claim: Rate = Field(0.3, description="share of A-to-z claims the seller refunds at once")
    handling_minutes: Minutes = 20.0


class Disputes(Model):
    strategy: Literal["never", "when_fraud_suspected", "always"] = "when_fraud_suspected"
    evidence_quality: Rate = 0.6
    handling_minutes: Minutes = 60.0


class Insurance(Model):
    """The seller's commercial liability cover: when it buys it, its terms, and how it is priced.

    Rules in :mod:`azsim.insurance` and docs/model.md ("Insurance"). Money in the scenario's currency.
    """

    carry: Literal["always", "when_required", "never"] = "when_required"
    obtain_days: int = Field(
        14, ge=0, le=365, description="days a when_required seller takes to obtain cover once Amazon requires it"
    )
    certificate_on_file: bool = Field(
        False, description="certificate of insurance uploaded to Amazon: proves cover at once, no proof deadline"
    )
    proof_delay_days: float = Field(
        3.0, ge=0.0, le=36_500.0, description="mean days to send proof of cover to Amazon (exponential)"
    )
    per_occurrence_limit: float = Field(
        1_000_000.0, gt=0.0, le=1e9, description="most the insurer pays for one occurrence (after the deductible)"
    )
    aggregate_limit: float = Field(
        1_000_000.0, gt=0.0, le=1e10, description="most the insurer pays for all occurrences of one policy year"
    )
    deductible: float = Field(
        1000.0, ge=0.0, le=1e6,
        description="deductible the seller asks for; the policy version caps it (insurance_max_deductible, "
                    "deductible_allowed_above_proceeds)",
    )
    pricing: Literal["risk", "fixed"] = Field(
        "risk", description="risk: priced from the expected insured loss, re-priced at renewal; fixed: the quote below"
    )
    loading: float = Field(0.45, ge=0.0, le=10.0, description="insurer's loading on the expected insured loss")
    minimum_premium: float = Field(500.0, ge=0.0, le=1e7, description="premium per policy year before the loss cost")
    credibility_k: float = Field(
        10.0, gt=0.0, le=1000.0, description="Buhlmann k in policy years: credibility Z = years / (years + k)"
    )
    premium_per_year: float = Field(1200.0, ge=0.0, le=1e7, description="premium per year when pricing is fixed")
    premium_share_of_revenue: Rate = Field(0.0, description="plus this share of sales when pricing is fixed")

    @model_validator(mode="after")
    def _limits(self) -> Insurance:
        if self.aggregate_limit < self.per_occurrence_limit:
            raise ValueError("aggregate_limit must be at least per_occurrence_limit")
        return self


class LevelCost(Model):
    """A cost that grows linearly with a practice level: ``at_level_0`` at level 0, ``at_level_1`` at 1."""

    at_level_0: float = Field(ge=0.0, le=1e6)
    at_level_1: float = Field(ge=0.0, le=1e6)

    def at(self, level: float) -> float:
        return self.at_level_0 + level * (self.at_level_1 - self.at_level_0)


class PackagingCost(LevelCost):
    """Packaging per seller-fulfilled order shipped, by ``seller.packaging_quality`` (assumed)."""

    at_level_0: float = Field(0.0, ge=0.0, le=100.0, description="per order at quality 0 (beyond market.shipping_cost)")
    at_level_1: float = Field(0.8, ge=0.0, le=100.0, description="per order at quality 1")


class ListingCost(LevelCost):
    """Listing upkeep per 30-day month, by ``seller.listing_accuracy`` (assumed)."""

    at_level_0: float = Field(0.0, ge=0.0, le=1e6, description="per month at accuracy 0")
    at_level_1: float = Field(500.0, ge=0.0, le=1e6, description="per month at accuracy 1")


class TrackingCost(LevelCost):
    """Tracking upload work per seller-fulfilled order shipped, by ``seller.tracking.upload_rate`` (assumed)."""

    at_level_0: float = Field(0.0, ge=0.0, le=100.0, description="per order at upload rate 0")
    at_level_1: float = Field(0.05, ge=0.0, le=100.0, description="per order at upload rate 1")


class PracticeCosts(Model):
    """What the seller's practices cost (azsim/practices.py); support wages come from ``seller.support``."""

    packaging_per_order: PackagingCost = PackagingCost()
    listing_per_month: ListingCost = ListingCost()
    tracking_per_order: TrackingCost = TrackingCost()
    confirm_run_cost: float = Field(
        2.0, ge=0.0, le=1000.0,
        description="cost of one shipment-confirmation run; runs per shipping day = 1 / (2 x upload_delay_days)",
    )
    max_confirm_runs_per_day: float = Field(
        12.0, ge=1.0, le=1440.0, description="confirmation runs a day at most (a shorter delay needs no more runs)"
    )
    buy_shipping_extra_per_label: float = Field(
        0.2, ge=-100.0, le=100.0,
        description="extra cost of a Buy Shipping label over the seller's own rate (negative: cheaper)",
    )


class Seller(Model):
    messages: Messages = Messages()
    support: Support = Support()
    returns: Returns = Returns()
    listing_accuracy: Rate = 0.8
    packaging_quality: Rate = 0.8
    out_of_stock: OutOfStock = OutOfStock()
    tracking: Tracking = Tracking()
    claims: ClaimHandling = ClaimHandling()
    disputes: Disputes = Disputes()
    insurance: Insurance = Insurance()
    practice_costs: PracticeCosts = PracticeCosts()


class JudgementDays(Delay):
    """Report to judgement of a PD/PI lawsuit (assumed: mean 540 days, cv 0.4)."""

    mean: DelayMean = 540.0
    cv: DelayCv = 0.4


class SettlementDays(Delay):
    """Report to settlement by a responsive seller or its insurer (assumed: mean 60 days, cv 0.75)."""

    mean: DelayMean = 60.0
    cv: DelayCv = 0.75


class Litigation(Model):
    """What happens when a buyer pursues an unresponsive seller in court (old PD/PI flow)."""

    rate: Rate = Field(0.15, description="share of refused/ignored PD/PI buyers who sue")
    buyer_win_if_valid: Rate = 0.7
    buyer_win_if_fraud: Rate = 0.05
    seller_legal_cost: Money = 15_000.0
    buyer_legal_cost: Money = 5_000.0
    days_to_judgement: JudgementDays = Field(JudgementDays(), description="report to a court's judgement (days)")
    settlement_days: SettlementDays = Field(
        SettlementDays(), description="report to a responsive seller's (or insurer's) settlement (days)")
    seller_detects_fraud: Rate = Field(0.5, description="chance a seller recognises a fraudulent claim")


Consequence = Literal["account", "seller_fulfilled", "seller_fulfilled_categories"]
"""What an account-health action stops: every offer (``account``, FBA included), every
seller-fulfilled offer (``seller_fulfilled``; FBA keeps selling), or the seller-fulfilled offers
in the categories a valid-tracking restriction hits (``seller_fulfilled_categories``)."""

_Limit = Annotated[float, Field(ge=0.0, le=1.0, description="the metric's limit, a share")]
_Window = Annotated[int, Field(ge=1, le=365, description="days of orders the metric covers")]
_MinOrders = Annotated[int, Field(ge=0, le=10_000_000, description=(
    "fewer orders in the metric's denominator over its window: the metric is not enforced"))]
_MinEvents = Annotated[int, Field(ge=0, le=10_000_000, description=(
    "fewer events (defects, late shipments, cancellations, untracked packages) in the window: no action"))]
_Consecutive = Annotated[int, Field(ge=1, le=52, description=(
    "reviews in a row that must find the breach before Amazon acts (the first ones are warnings)"))]
_Probability = Annotated[float, Field(ge=0.0, le=1.0, description=(
    "chance that a review which finds a breach to act on starts the action"))]
_Reinstate = Annotated[float, Field(ge=0.0, le=3650.0, description="mean days to reinstatement (plan of action)")]


class MetricRule(Model):
    """What every account-health metric has: a limit over a window, the small-sample rules, and the
    action Amazon takes on a breach. Each metric below sets its own defaults."""

    limit: _Limit
    window_days: _Window
    min_orders: _MinOrders = 100
    min_events: _MinEvents = 3
    consecutive_reviews: _Consecutive = 2
    consequence: Consequence = "account"
    action_probability: _Probability = 0.3
    reinstatement_days: _Reinstate = 17.0


class OdrRule(MetricRule):
    """Order Defect Rate: defective orders / orders; a breach is a rate at or over ``limit``."""

    limit: _Limit = 0.01
    window_days: _Window = 60
    consequence: Consequence = "account"


class LateShipmentRule(MetricRule):
    """Late Shipment Rate: late / shipped seller-fulfilled orders; a breach is at or over ``limit``."""

    limit: _Limit = 0.04
    window_days: _Window = 30
    consequence: Consequence = "seller_fulfilled"


class CancelRule(MetricRule):
    """Pre-fulfilment cancel rate: cancelled / seller-fulfilled orders; a breach is at or over ``limit``."""

    limit: _Limit = 0.025
    window_days: _Window = 7
    consequence: Consequence = "seller_fulfilled"


class ValidTrackingRule(MetricRule):
    """Valid Tracking Rate: tracked / shipped seller-fulfilled packages; a breach is a rate BELOW ``limit``."""

    limit: _Limit = 0.95
    window_days: _Window = 30
    consequence: Consequence = "seller_fulfilled_categories"
    affected_share: Rate = Field(
        0.5, description="share of seller-fulfilled orders in the categories a valid-tracking restriction stops"
    )


class InsuranceMissingRule(Model):
    """Required liability cover not held: checked at each month end."""

    consequence: Consequence = "account"
    action_probability: float = Field(
        0.05, ge=0.0, le=1.0, description="monthly chance of the action while required insurance is missing"
    )
    reinstatement_days: _Reinstate = 17.0


class FundsHeld(Model):
    """Disbursements Amazon withholds while the whole account is deactivated."""

    balance_days: int = Field(
        14, ge=0, le=365, description="days of net proceeds in the balance withheld (Amazon's disbursement cycle)"
    )
    hold_after_days: float = Field(
        14.0, ge=0.0, le=365.0, description="days the balance stays held after reinstatement"
    )
    cost_of_capital: float = Field(0.10, ge=0.0, le=1.0, description="seller's annual cost of capital")


class AccountHealth(Model):
    odr: OdrRule = OdrRule()
    late_shipment: LateShipmentRule = LateShipmentRule()
    cancel: CancelRule = CancelRule()
    valid_tracking: ValidTrackingRule = ValidTrackingRule()
    insurance_missing: InsuranceMissingRule = InsuranceMissingRule()
    funds_held: FundsHeld = FundsHeld()
    review_every_days: int = Field(7, ge=1, le=365)
    feedback_delay_days: float = Field(7.0, ge=0.0, le=365.0, description="mean days until negative feedback is left")

    def metric_rules(self) -> dict[str, OdrRule | LateShipmentRule | CancelRule | ValidTrackingRule]:
        """The reviewed metrics by name, in the order a review checks them."""
        return {"odr": self.odr, "late_shipment": self.late_shipment, "cancel": self.cancel,
                "valid_tracking": self.valid_tracking}


class Scenario(Model):
    """Everything that defines one simulated seller and the policies it is compared under."""

    name: Name = "scenario"
    description: Text = Field("", max_length=10_000)
    horizon_days: int = Field(365, ge=1, le=MAX_HORIZON_DAYS)
    market: Market = Market()
    incidents: Incidents = Incidents()
    buyers: Buyers = Buyers()
    seller: Seller = Seller()
    litigation: Litigation = Litigation()
    account_health: AccountHealth = AccountHealth()
    policies: dict[PolicyName, Policy] = Field(default_factory=dict, max_length=20)

    @model_validator(mode="before")
    @classmethod
    def _expand_policies(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            data["policies"] = _expand_policy_presets(data.get("policies"))
        return data

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        if len(self.policies) < 1:
            raise ValueError("policies: at least one policy is needed")
        for name, p in self.policies.items():
            if p.currency != self.market.currency:
                raise ValueError(
                    f"policies.{name}.currency: {p.currency} (policy version {p.preset or 'custom'}) differs from "
                    f"market.currency {self.market.currency}; a comparison is in one currency: compare policies of "
                    f"the scenario's currency, or set market.currency (and the scenario's amounts) to {p.currency}"
                )
        total = sum(self.incident_slots().values())
        if total > 1.0:
            raise ValueError(
                "incidents: the per-order incident rates (practice-dependent ones at the larger of best and "
                f"worst) add up to {total:.4f} (> 1)"
            )
        return self

    # -- derived values the model uses -------------------------------------------------------
    @property
    def policy_names(self) -> list[str]:
        return list(self.policies)

    def incident_rates(self) -> dict[str, float]:
        """Per-order chance of each incident type, after seller practices moved them.

        Fraudulent claim attempts take the largest rate among the policies; each policy keeps
        its own share of these orders (see :mod:`azsim.world`).
        """
        inc, s = self.incidents, self.seller
        return {
            "lost_in_transit": inc.lost_in_transit,
            "late_delivery": inc.late_delivery,
            "damaged_in_transit": inc.damaged_in_transit.at(s.packaging_quality),
            "not_as_described": inc.not_as_described.at(s.listing_accuracy),
            "wrong_item": inc.wrong_item,
            "remorse_return": inc.remorse_return,
            "product_safety": inc.product_safety,
            "fraud_claim": max((p.fraud_attempt_rate for p in self.policies.values()), default=0.0),
            "routine_question": inc.routine_question,
            "out_of_stock": inc.out_of_stock,
        }

    def incident_slots(self) -> dict[str, float]:
        """Width of each incident type's fixed slot on the order's incident uniform.

        A practice-dependent rate gets the width of its worst case, so changing a practice
        level only changes which orders in that type's own slot have the incident: every other
        order keeps its fate (common random numbers across practice levels, not only policies).
        """
        inc = self.incidents
        slots = self.incident_rates()
        slots["damaged_in_transit"] = max(inc.damaged_in_transit.best, inc.damaged_in_transit.worst)
        slots["not_as_described"] = max(inc.not_as_described.best, inc.not_as_described.worst)
        return slots

    def to_dict(self) -> dict:
        """The resolved scenario as plain JSON-ready data (presets expanded)."""
        return self.model_dump(mode="json")

    @property
    def hash(self) -> str:
        """A short stable fingerprint of the resolved scenario."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """Return a new validated scenario with ``{"dotted.path": value}`` overrides applied.

        ``policies.NAME.preset=VERSION`` moves that policy to another version, keeping only the
        fields in which it differed from its former version (see :func:`apply_overrides`).
        """
        raw = self.to_dict()
        return scenario_from_dict(apply_overrides(raw, overrides))


def _expand_policy_presets(policies: Any) -> Any:
    """Turn ``{name: {preset: us-2021-new, field: value}}`` into full policy dicts.

    A missing ``policies`` section means ``old`` and ``new``; an entry named after a preset (or
    an alias such as ``old``) uses that preset unless it names another; ``preset`` is optional
    for full definitions. The resolved policy records its version in ``preset`` (aliases
    resolved: ``old`` becomes ``us-2021-old``).
    """
    if policies is None:
        policies = {"old": {}, "new": {}}
    if not isinstance(policies, dict):
        return policies  # let pydantic report the type error
    out = {}
    names = preset_names()
    for name, spec in policies.items():
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            out[name] = spec
            continue
        spec = dict(spec)
        base = spec.pop("preset", name if name in names else None)
        if base is None or base == "":
            out[name] = spec
            continue
        try:
            values = preset_values(base)
        except KeyError:  # not a version (or not a name at all): Policy's own check names the field,
            out[name] = {**spec, "preset": base}  # together with every other problem of the file
            continue
        out[name] = {**values, **spec}
    return out


def _rebase_policy(spec: Any, name: str, version: Any) -> dict:
    """``spec`` (a policy entry of a scenario) moved to preset ``version``: the fields that only
    restate its former version are dropped, the ones that differ from it are kept."""
    if not isinstance(spec, dict):
        return {"preset": version}
    spec = dict(spec)
    former = spec.pop("preset", name if name in preset_names() else None)
    try:
        before = Policy.model_validate(preset_values(former) if former else {})
        resolved = Policy.model_validate({**(preset_values(former) if former else {}), **spec})
    except (KeyError, ValueError, TypeError):
        return {**spec, "preset": version}  # leave it to validation to name the problem
    old, new = before.model_dump(mode="json"), resolved.model_dump(mode="json")
    kept = {k: v for k, v in spec.items() if k in new and new[k] != old.get(k)}
    return {**kept, "preset": version}


def policies_from_names(text: str) -> dict[str, dict]:
    """The ``policies`` section for ``--policies``: ``us-2021-old,us-2022-06`` (each named after its
    version) or ``old=us-2021-old,new=us-2022-06``; the first is the baseline. Raises ScenarioError."""
    out: dict[str, dict] = {}
    items = [x.strip() for x in str(text).split(",") if x.strip()]
    if not items:
        raise ScenarioError([f"--policies {text!r}: name at least one policy version, e.g. us-2021-old,us-2022-06"])
    for item in items:
        name, _, version = item.partition("=") if "=" in item else (item, "", item)
        name, version = name.strip(), version.strip()
        try:
            resolve_preset(version)
        except KeyError as err:
            raise ScenarioError([f"--policies: {err.args[0]}"]) from None
        if not name or name in out:
            raise ScenarioError([f"--policies {text!r}: each policy needs its own name ({name!r} twice or empty)"])
        out[name] = {"preset": version}
    return out


def field_info(path: str) -> dict:
    """What the schema says about a dotted field path: ``{"low", "high", "description", "type"}``.

    ``low``/``high`` are the validation bounds (None where open); the app bounds its widgets by
    them. ``policies.NAME.field`` paths describe :class:`Policy` fields.
    """
    parts = path.split(".")
    model: Any = Scenario
    i = 0
    while i < len(parts):
        if model is Scenario and parts[i] == "policies":
            model, i = Policy, i + 2
            continue
        field = model.model_fields[parts[i]]
        ann = field.annotation
        if i == len(parts) - 1:
            low = high = None
            for m in field.metadata:
                low = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else low
                low = getattr(m, "gt", None) if getattr(m, "gt", None) is not None else low
                high = getattr(m, "le", None) if getattr(m, "le", None) is not None else high
            return {"low": low, "high": high, "description": field.description or "", "type": ann}
        model = ann
        i += 1
    raise KeyError(path)


# ----------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------
class ScenarioError(ValueError):
    """Invalid scenario input; ``problems`` is a list of one-line messages naming field paths."""

    def __init__(self, problems: list[str], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + "; ".join(self.problems))


def _fields_at(loc: tuple, root: Any = None) -> list[str]:
    """Field names of the model that sits at ``loc`` in the tree of ``root`` (default
    :class:`Scenario`), for suggestions. A mapping of models (``policies``: name -> Policy) is
    stepped through by its key."""
    model: Any = root or Scenario
    i = 0
    while i < len(loc):
        fields = getattr(model, "model_fields", None)
        if fields is None:
            return []
        key = loc[i]
        if key not in fields:
            return list(fields)
        ann = fields[key].annotation
        i += 1
        if typing.get_origin(ann) is dict:
            if i >= len(loc):
                return []
            ann = typing.get_args(ann)[1]
            i += 1
        if not (isinstance(ann, type) and hasattr(ann, "model_fields")):
            return []
        model = ann
    return list(getattr(model, "model_fields", {}))


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for error messages."""
    try:
        text = repr(value)
    except ValueError:  # an integer too long to print
        text = "a very long number"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _format_errors(err: ValidationError, root: Any = None, prefix: str = "") -> list[str]:
    """One line per problem: the dotted field path, then what is wrong (and what was given)."""
    problems = []
    for e in err.errors():
        loc = tuple(x for x in e["loc"] if not (isinstance(x, str) and x.startswith("function-")))
        typ = e["type"]
        if loc and loc[-1] == "[key]":  # a mapping key, e.g. a policy name
            loc = loc[:-1]
            path = prefix + ".".join(str(x) for x in loc)
            if typ == "string_pattern_mismatch":
                problems.append(f"{path}: a name starts with a letter, then up to 39 letters, digits, '_' or '-' "
                                f"(got {shown(loc[-1])})")
            else:
                problems.append(f"{path}: {e['msg'].lower()} (the name)")
            continue
        path = prefix + ".".join(str(x) for x in loc) if loc else (prefix.rstrip(".") or "(top level)")
        if typ == "extra_forbidden":
            known = _fields_at(loc[:-1], root)
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            hint = f"; did you mean {prefix}{'.'.join(map(str, loc[:-1] + (close[0],)))}?" if close else ""
            problems.append(f"{path}: unknown field{hint}")
        elif typ in ("value_error", "assertion_error"):
            msg = str(e.get("ctx", {}).get("error", e["msg"]))
            problems.append(msg if not loc and not prefix else f"{path}: {msg}")
        elif typ == "string_pattern_mismatch" and e.get("ctx", {}).get("pattern") == NAME_PATTERN:
            problems.append(f"{path}: a name starts with a letter, then up to 39 letters, digits, '_' or '-' "
                            f"(got {shown(e.get('input'))})")
        else:
            got = e.get("input")
            given = "" if isinstance(got, dict | list) else f" (got {shown(got)})"
            problems.append(f"{path}: {e['msg'].lower()}{given}")
    return problems


# ----------------------------------------------------------------------------------------------
# loading and overrides
# ----------------------------------------------------------------------------------------------
def scenario_from_dict(data: Any, source: str | None = None) -> Scenario:
    """Validate plain data (as read from YAML) into a :class:`Scenario`, or raise ScenarioError."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError([f"(top level): expected a mapping of fields, got {type(data).__name__}"], source)
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_format_errors(err), source) from None
    except RecursionError:  # only from Python callers: files and --set values are bounded by the loader
        raise ScenarioError([f"(top level): nested more than {_yaml.MAX_DEPTH} levels deep"], source) from None
    except (ValueError, TypeError) as err:
        raise ScenarioError([f"(top level): {err}"], source) from None


def read_yaml(path: str | Path) -> Any:
    """Read a YAML file (at most MAX_FILE_BYTES), turning every way it can fail into a ScenarioError
    naming the file (and the line, for what is in it)."""
    p = Path(path)
    try:
        if not p.exists():
            raise ScenarioError([f"file not found: {p}"], str(p))
        if not p.is_file():  # a folder, a FIFO, a device: never opened (a FIFO would block)
            raise ScenarioError([f"not a file: {p}"], str(p))
        with p.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as err:  # permissions, a name too long, a symlink loop, a NUL in the name
        raise ScenarioError([f"cannot read file: {getattr(err, 'strerror', None) or err}"], str(p)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError([f"file too large (over {MAX_FILE_BYTES} bytes)"], str(p))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ScenarioError([f"not a text file (UTF-8 YAML expected): {err.reason} at byte {err.start}"],
                            str(p)) from None
    return parse_yaml(text, str(p))


def parse_yaml(text: str, source: str = "<text>") -> Any:
    """Parse YAML text with azsim's safe loader (:mod:`azsim._yaml`: YAML 1.2 scalars, duplicate
    keys refused, nesting, aliases and size bounded); every problem becomes a ScenarioError naming
    ``source`` and the line."""
    if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise ScenarioError([f"document too large (limit {MAX_FILE_BYTES} bytes)"], source)
    try:
        return _yaml.load(text)
    except _yaml.YamlProblem as err:
        raise ScenarioError([str(err)], source) from None


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None, policies: str | None = None,
                  overrides_from: str | None = None) -> Scenario:
    """Load and validate a scenario YAML file, applying ``{"dotted.path": value}`` overrides.

    ``policies`` (``"us-2021-old,us-2022-06"``, see :func:`policies_from_names`) replaces the
    file's policies by those versions, before the overrides. With ``overrides_from`` (the CLI
    passes ``"--set"``) a problem in a field an override set is reported against that override
    (``--set market.orders_per_day=abc: market.orders_per_day: ...``), every other against the
    file (:func:`attribute_overrides`); without it every problem names the file.
    """
    data = read_yaml(path)
    if data is None:
        data = {}
    if isinstance(data, dict) and policies is not None:
        data = {**data, "policies": policies_from_names(policies)}
    try:
        if isinstance(data, dict) and overrides:
            data = apply_overrides(data, overrides)
        return scenario_from_dict(data, str(path))
    except ScenarioError as err:
        if overrides_from is None or not overrides:
            raise
        raise attribute_overrides(err, overrides, overrides_from, str(path)) from None


def _override_text(path: str, value: Any) -> str:
    """``path=value`` as the user could have typed it, for an error message."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool) or value is None:
        text = {True: "true", False: "false", None: "null"}[value]
    elif isinstance(value, int | float):
        text = repr(value)
    else:
        text = json.dumps(value, default=str)
    text = f"{path}={text}"
    return text if len(text) <= 80 else text[:77] + "..."


def attribute_overrides(err: ScenarioError, overrides: dict[str, Any], flag: str = "--set",
                        source: str | None = None) -> ScenarioError:
    """``err`` with each problem named after what caused it: a problem whose field path is an
    override's path, lies under it or contains it gets ``"{flag} path=value: "``, every other one
    ``"{source}: "`` (the file). The returned error has no ``source`` of its own."""
    if err.source is not None:
        source = err.source
    lines = []
    for problem in err.problems:
        where = problem.split(": ", 1)[0] if ": " in problem else ""
        hit = next((k for k in overrides if where and (where == k or where.startswith(k + ".")
                                                         or k.startswith(where + "."))), None)
        if hit is not None:
            lines.append(f"{flag} {_override_text(hit, overrides[hit])}: {problem}")
        else:
            lines.append(f"{source}: {problem}" if source else problem)
    return ScenarioError(lines)


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``dotted.path=value`` (the value is read as YAML: numbers, booleans, lists)."""
    if "=" not in text:
        raise ScenarioError([f"--set {shown(text)}: expected dotted.path=value"])
    path, _, value = text.partition("=")
    if len(value) > MAX_FILE_BYTES:
        raise ScenarioError([f"--set {shown(path)}: value too large (limit {MAX_FILE_BYTES} bytes)"])
    path = path.strip()
    parts = path.split(".")
    if not path or any(not part for part in parts):
        raise ScenarioError([f"--set {shown(text)}: empty field name in path"])
    if len(parts) > _yaml.MAX_DEPTH or any(len(part) > 100 for part in parts):
        raise ScenarioError([f"--set {shown(path)}: a field path has at most {_yaml.MAX_DEPTH} parts of at most "
                             "100 characters"])
    try:
        parsed = _yaml.load(value, strict=False) if value.strip() else ""
    except _yaml.YamlProblem as err:
        raise ScenarioError([f"--set {path}: {err}"]) from None
    return path, parsed


def apply_overrides(data: dict, overrides: dict[str, Any]) -> dict:
    """Return a copy of ``data`` with each dotted path set; intermediate mappings are created.

    Policies named in ``policies`` keep their preset: ``policies.new.amazon_pays_threshold=500``
    changes only that field of the ``new`` preset. ``policies.new.preset=us-2022-06`` moves the
    policy to that version: fields that only restated the former version (as in a file that
    spells every field out) are dropped, fields that differed from it are kept.
    """
    try:
        out = json.loads(json.dumps(data, default=str))  # deep copy of plain data
    except RecursionError:  # only from Python callers: files and --set values are bounded by the loader
        raise ScenarioError([f"(top level): nested more than {_yaml.MAX_DEPTH} levels deep"]) from None
    except ValueError as err:  # a structure that contains itself
        raise ScenarioError([f"(top level): {err}"]) from None
    if overrides and any(k.split(".")[0] == "policies" for k in overrides) and "policies" not in out:
        out["policies"] = {"old": {}, "new": {}}
    _check_policy_names(out.get("policies"), overrides)
    for path, value in overrides.items():
        parts = path.split(".")
        node = out
        for i, part in enumerate(parts[:-1]):
            nxt = node.get(part)
            if nxt is None:
                nxt = {}
                node[part] = nxt
            elif not isinstance(nxt, dict):
                raise ScenarioError([f"{'.'.join(parts[: i + 1])}: is a value, not a section (in --set {path})"])
            node = nxt
        if len(parts) == 3 and parts[0] == "policies" and parts[2] == "preset":  # move to another version
            out["policies"][parts[1]] = _rebase_policy(node, parts[1], value)
            continue
        node[parts[-1]] = value
    return out


def _check_policy_names(policies: Any, overrides: dict[str, Any]) -> None:
    """``--set policies.NAME.field=...`` must name one of the scenario's policies, unless the same
    overrides create it with a preset (``policies.NAME.preset=VERSION`` or ``policies.NAME={preset: ...}``):
    a typo (``policies.nwe.x``) would otherwise add a policy silently."""
    if not isinstance(policies, dict):
        return
    problems = []
    for path in overrides:
        parts = path.split(".")
        if parts[0] != "policies" or len(parts) < 2 or parts[1] in policies:
            continue
        name = parts[1]
        defined = f"policies.{name}.preset" in overrides or (
            isinstance(overrides.get(f"policies.{name}"), dict) and "preset" in overrides[f"policies.{name}"])
        if not defined:
            known = ", ".join(map(str, policies)) or "none"
            problem = (f"{path}: unknown policy {name}; the scenario's policies are {known} (to add one, also set "
                       f"policies.{name}.preset=VERSION)")
            if problem not in problems:
                problems.append(problem)
    if problems:
        raise ScenarioError(problems)


# ----------------------------------------------------------------------------------------------
# cost estimate: what a batch of runs will need, before anything is allocated
# ----------------------------------------------------------------------------------------------
DEFAULT_MAX_MEMORY_MB = 4096
"""Default limit on a command's estimated memory (``--max-memory``), in MB."""

DEFAULT_MAX_ORDERS = 10_000_000_000
"""Default limit on a command's simulated orders, counted once per policy (``--max-orders``): at
about 800,000 orders a second that is some 3.5 hours of one core."""

# Calibrated on this machine (2 cores; benchmarks/test_estimate_bench.py runs each case in a fresh process
# and prints estimated against measured). A comparison's replication walks one world with all its policies
# and keeps ledger totals, not entries: what it holds while it runs grows with the orders of the group of
# blocks being generated (several 28-day blocks, up to azsim.world.GROUP_ORDERS orders, at least one block),
# a little with the orders of its horizon (claims, account state), and its kept results with its runs and
# their account-health reviews. Worlds kept for later comparisons on the same seeds (azsim.world.
# shared_world) add up to the cache's budget in each process that runs replications.
_PROCESS_MB = 150.0  # a Python process with azsim imported, after a small run (measured: 141 to 145)
_WORKER_MB = 15.0  # a pool worker forked from it: its own pages before its first run (measured: about 13)
_BYTES_PER_GROUP_ORDER = 560.0  # per order of the group of blocks being generated (measured: 555 to 605)
_BYTES_PER_RUN_ORDER = 15.0  # per order of the horizon and policy (measured: 2 at 10 years to 24 at 600 a day)
_ENTRY_BYTES_PER_ORDER = 950.0  # per order of the horizon and policy, for runs that keep every order's records and
# their ledger entries (azsim synth-reports; measured: 920)
_RESULT_BYTES_PER_RUN = 50_000.0  # per policy run kept (its metrics; measured: about 46,000)
_RESULT_BYTES_PER_REVIEW = 1_900.0  # per account-health review row kept (measured: 1,900 to 2,000)
_STREAMED_BYTES_PER_RUN = 200.0  # per run of a sweep (results go to the store; the coordinator keeps a key)
_STREAMED_BYTES_PER_POINT = 2_000.0  # per design point of a sweep
_ORDERS_PER_SECOND = 800_000.0  # orders x policies per second on one core (benchmarks/test_estimate_bench.py fits it)
_SECONDS_PER_DAY = 2e-5  # per simulated day and policy (the day loop, reviews, month ends; fitted likewise)
_BLOCK_DAYS = 28  # azsim.world.BLOCK_DAYS (not imported: world imports this module)
_GROUP_ORDERS = 16_384  # azsim.world.GROUP_ORDERS
_WORLD_CACHE_MB = 64.0  # azsim.world.WORLD_CACHE_MB: the kept worlds' budget of a process, by default
_BYTES_PER_KEPT_ORDER = 300.0  # azsim.world._BYTES_PER_KEPT_ORDER: what the cache counts per order of a world


def expected_orders(scenario: Scenario) -> tuple[float, float]:
    """(orders over the horizon, orders of the busiest 28-day block) at the scenario's rates."""
    m = scenario.market
    per_month = 365.25 / 12
    total = busiest = window = 0.0
    rates = []
    for day in range(scenario.horizon_days):
        month = ((m.start_month - 1) + int(day // per_month)) % 12 + 1
        rate = m.orders_per_day * (m.q4_peak_multiplier if month >= 10 else 1.0)
        rates.append(rate)
        total += rate
        window += rate
        if day >= _BLOCK_DAYS:
            window -= rates[day - _BLOCK_DAYS]
        busiest = max(busiest, window)
    return total, busiest


def estimate(scenario: Scenario, replications: int, points: int = 1, workers: int | None = None,
             streamed: bool = False, kept_worlds_mb: float | None = None, entries: bool = False) -> dict:
    """What ``replications`` paired replications of ``scenario`` at ``points`` design points will
    need, roughly (within a factor of about 2 of what benchmarks/test_estimate_bench.py measures):
    ``{"orders", "seconds", "memory_mb", "runs"}``.

    ``orders`` counts each order once per policy (the work); ``seconds`` is one core's time;
    ``memory_mb`` the peak of all processes: this one (``workers=None``, as ``compare`` runs), or
    ``workers`` worker processes, each running one replication at a time, plus this one.

    Memory counts, in each process that runs replications: what one replication holds while its
    policies walk their world together (the group of blocks being generated; the runs' state, which
    grows a little with the orders of the horizon; comparisons keep ledger totals, not entries), and
    the worlds kept for later comparisons on the same seeds (:func:`azsim.world.shared_world`): one
    per replication, up to ``kept_worlds_mb`` MB (default :data:`azsim.world.WORLD_CACHE_MB`, 64; the advisor keeps
    256 MB while it runs, :data:`azsim.advisor.WORLDS_MB`, in this process or in each pool worker, which
    takes the budget with its tasks), and none when a world
    takes more than a quarter of that. ``entries``: the runs keep every order's records and ledger
    entry (``azsim synth-reports``), far more than a comparison's totals. This process also keeps
    every run's results (``streamed``, sweeps: results go to a store instead). A pure function of
    its arguments: nothing is simulated.
    """
    policies = max(1, len(scenario.policies))
    reps, points = max(0, int(replications)), max(0, int(points))
    runs = reps * points
    orders, busiest = expected_orders(scenario)
    blocks = max(1, -(-scenario.horizon_days // _BLOCK_DAYS))
    group = min(orders, max(1, int(_GROUP_ORDERS // max(orders / blocks, 1.0))) * busiest)
    per_order = _BYTES_PER_RUN_ORDER + (_ENTRY_BYTES_PER_ORDER if entries else 0.0)
    in_flight_mb = (group * _BYTES_PER_GROUP_ORDER + orders * policies * per_order) / 1e6
    k = None if workers is None else max(1, int(workers))
    budget = (_WORLD_CACHE_MB if kept_worlds_mb is None else max(0.0, float(kept_worlds_mb))) * 2**20
    world_bytes = orders * _BYTES_PER_KEPT_ORDER
    if runs and world_bytes <= budget / 4:  # as shared_world keeps them; each process its own
        per_process = -(-runs // (k or 1))
        worlds_mb = min(budget, per_process * world_bytes) / 1e6
    else:
        worlds_mb = 0.0
    if streamed:
        results_mb = (runs * _STREAMED_BYTES_PER_RUN + points * _STREAMED_BYTES_PER_POINT) / 1e6
    else:
        reviews = scenario.horizon_days / scenario.account_health.review_every_days
        results_mb = runs * policies * (_RESULT_BYTES_PER_RUN + reviews * _RESULT_BYTES_PER_REVIEW) / 1e6
    runner_mb = in_flight_mb + worlds_mb if runs else 0.0
    if k is None:
        memory = _PROCESS_MB + runner_mb + results_mb
    else:
        memory = _PROCESS_MB + k * (_WORKER_MB + runner_mb) + results_mb
    work = orders * policies * runs
    seconds = work / _ORDERS_PER_SECOND + scenario.horizon_days * policies * runs * _SECONDS_PER_DAY
    return {"orders": work, "seconds": seconds, "memory_mb": memory, "runs": runs}


def _size(mb: float) -> str:
    return f"{mb / 1024:,.1f} GB" if mb >= 1024 else f"{mb:,.0f} MB"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:,.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:,.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:,.0f} h"
    return f"{seconds / 86_400:,.0f} days"


def check_budget(cost: dict, max_memory_mb: float = DEFAULT_MAX_MEMORY_MB,
                 max_orders: float = DEFAULT_MAX_ORDERS, what: str = "the run") -> None:
    """Raise ScenarioError if the estimate ``cost`` (:func:`estimate`) exceeds the memory or work
    limit; the message gives the estimate and the flag that raises the limit."""
    problems = []
    if cost["memory_mb"] > max_memory_mb:
        problems.append(f"{what} needs about {_size(cost['memory_mb'])} of memory (limit {_size(max_memory_mb)}; "
                        "--max-memory MB to raise it)")
    if cost["orders"] > max_orders:
        problems.append(f"{what} simulates about {cost['orders']:.2g} orders (orders x policies x runs; about "
                        f"{_duration(cost['seconds'])} of one core; limit {max_orders:.2g}; --max-orders N to "
                        "raise it)")
    if problems:
        raise ScenarioError(problems)
