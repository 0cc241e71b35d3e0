"""The Policy type: the marketplace's claim rules as data, and its two presets.

``old`` is Amazon.com before 1 September 2021, ``new`` is from that date. Both are values of
one :class:`Policy`; a scenario picks a preset per policy name and overrides any field, so a
third policy (say a $500 Amazon-pays threshold) needs YAML, not code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._types import Days, Hours, Model, Money, Rate


class ReviewGrantRates(Model):
    """Chance that Amazon grants a reviewed (not automatically granted) A-to-z claim."""

    item_not_received: Rate = 0.8
    not_as_described: Rate = 0.6
    return_issue: Rate = 0.85


class Policy(Model):
    """One version of the A-to-z Guarantee and the liability-insurance rules."""

    description: str = ""

    # --- standard A-to-z flow (both eras) -------------------------------------------------
    message_reply_hours: Hours = Field(48.0, description="seller's deadline to answer a buyer message")
    return_authorisation_hours: Hours = Field(48.0, description="deadline to authorise a return request")
    auto_grant_unanswered_message: bool = True
    auto_grant_unauthorised_return: bool = True
    claim_eligible_after_edd_days: Days = Field(3.0, description="claims open this long after the latest EDD")
    claim_window_days: Days = Field(90.0, description="claims close this long after the latest EDD")
    info_request_rate: Rate = Field(0.5, description="share of reviewed claims where Amazon asks the seller")
    info_response_hours: Hours = Field(48.0, description="seller's deadline to answer Amazon's request")
    review_days: Days = Field(3.0, description="filing to Amazon's decision on a reviewed claim")
    review_grant_rate: ReviewGrantRates = ReviewGrantRates()
    buy_shipping_protection: bool = Field(True, description="Buy Shipping labels with on-time scan are Amazon-funded")
    appeal_window_days: Days = 30.0
    appeal_success_rate: Rate = Field(0.3, description="appeal reversal chance at perfect evidence")
    refund_deadline_days: Days = Field(2.0, description="refund deadline after the return arrives")

    # --- property damage / personal injury (PD/PI) ----------------------------------------
    pdpi_handler: Literal["seller", "amazon"] = Field(
        "amazon", description="seller: buyer pursues the seller directly; amazon: Amazon takes the claim"
    )
    pdpi_claim_propensity: Rate = Field(0.6, description="share of harmed buyers who claim")
    fraud_attempt_rate: Rate = Field(0.00008, description="fraudulent PD/PI claim attempts per order")
    pdpi_report_window_days: Days = 90.0
    screening_recall: Rate = Field(0.7, description="share of fraudulent claims screening rejects")
    screening_false_positive: Rate = Field(0.03, description="share of valid claims screening rejects")
    amazon_pays_threshold: Money = Field(1000.0, description="claims up to this are paid by Amazon first")
    insurance_proof_days: Days = Field(7.0, description="insured seller's deadline to prove cover")
    seller_response_days: Days = Field(7.0, description="deadline for the seller's answer above the threshold")
    amazon_pays_if_seller_fails: Rate = Field(1.0, description="chance Amazon pays when the seller is silent/refuses")
    amazon_recovery_rate: Rate = Field(0.9, description="share of pursued amounts Amazon recovers from the seller")
    dispute_success_if_fraud: Rate = 0.8
    dispute_success_if_valid: Rate = 0.05
    damages_cap: Money = 1_000_000.0
    amazon_payment_days: Days = Field(21.0, description="screening to payment, claims at or under the threshold")
    seller_path_resolution_days: Days = Field(75.0, description="report to payment, claims over the threshold")

    # --- liability insurance requirement ----------------------------------------------------
    insurance_required_monthly_sales: Money = 10_000.0
    insurance_required_consecutive_months: int = Field(1, ge=1, le=24)


PRESETS: dict[str, dict] = {
    "old": {
        "description": "A-to-z Guarantee before 1 Sep 2021: PD/PI claims go from buyer to seller",
        "pdpi_handler": "seller",
        "pdpi_claim_propensity": 0.25,
        "fraud_attempt_rate": 0.00002,
        "screening_recall": 0.0,
        "screening_false_positive": 0.0,
        "insurance_required_consecutive_months": 3,
    },
    "new": {
        "description": "A-to-z Guarantee from 1 Sep 2021: Amazon takes PD/PI claims, pays <= $1,000 first",
        "pdpi_handler": "amazon",
        "pdpi_claim_propensity": 0.6,
        "fraud_attempt_rate": 0.00008,
        "screening_recall": 0.7,
        "screening_false_positive": 0.03,
        "amazon_pays_threshold": 1000.0,
        "insurance_proof_days": 7.0,
        "insurance_required_consecutive_months": 1,
    },
}
"""Field values of the presets; everything not named takes the :class:`Policy` default."""


def preset(name: str, **overrides) -> Policy:
    """Return the preset policy ``name`` (``old`` or ``new``) with ``overrides`` applied."""
    if name not in PRESETS:
        raise KeyError(f"unknown policy preset {name!r}; choose from {sorted(PRESETS)}")
    return Policy(**{**PRESETS[name], **overrides})
