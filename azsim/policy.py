"""The Policy type: the marketplace's claim rules as data, and its versions (presets).

Each preset is one dated version of Amazon's rules for one marketplace, with its currency and
its public sources: ``us-2021-old`` (Amazon.com before 1 September 2021), ``us-2021-new`` (from
that date), ``us-2022-06`` (the June 2022 deductible rule), ``ca-2024``, ``uk-pre-2024``,
``uk-2024`` and ``eu-2024`` (the May 2024 extension). ``old`` and ``new`` are aliases of the two
2021 versions. All are values of one :class:`Policy`; a scenario picks a preset per policy name
and overrides any field, so a hypothetical policy (say a $500 Amazon-pays threshold) needs
YAML, not code. ``azsim policies`` lists the versions; docs/sources.md lists the sources.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from ._types import Days, Delay, DelayCv, DelayMean, Hours, Model, Money, Rate, Text

Currency = Literal["USD", "CAD", "GBP", "EUR"]
"""Currencies of the marketplaces azsim has policy versions for."""


class ReviewGrantRates(Model):
    """Chance that Amazon grants a reviewed (not automatically granted) A-to-z claim."""

    item_not_received: Rate = 0.8
    not_as_described: Rate = 0.6
    return_issue: Rate = 0.85


class AmazonPaymentDays(Delay):
    """Report to Amazon's payment of a claim at or under the threshold (assumed: mean 21 days, cv 0.5)."""

    mean: DelayMean = 21.0
    cv: DelayCv = 0.5


class SellerPathDays(Delay):
    """Report to payment of a claim above the threshold (assumed: mean 75 days, cv 0.3)."""

    mean: DelayMean = 75.0
    cv: DelayCv = 0.3


class Policy(Model):
    """One version of the A-to-z Guarantee and the liability-insurance rules."""

    description: Text = Field("", max_length=500)
    preset: str = Field("", max_length=40, description="the policy version (preset) this policy starts from")
    marketplace: Text = Field("amazon.com", max_length=80, description="the store(s) the version applies to")
    currency: Currency = Field("USD", description="currency of every amount of the policy; must be market.currency")
    effective: str | None = Field(
        None, pattern=r"^\d{4}-\d{2}(-\d{2})?$", description="date the version took effect (YYYY-MM or YYYY-MM-DD)"
    )
    sources: list[Annotated[Text, Field(max_length=1000)]] = Field(
        default_factory=list, max_length=20,
        description="public sources of the version's rules: 'who, title, date <address>'")

    @field_validator("preset")
    @classmethod
    def _known_version(cls, value: str) -> str:
        if value:
            try:
                resolve_preset(value)
            except KeyError as err:
                raise ValueError(err.args[0]) from None
        return value

    # --- standard A-to-z flow (both eras) -------------------------------------------------
    message_reply_hours: Hours = Field(48.0, description="seller's deadline to answer a buyer message")
    return_authorisation_hours: Hours = Field(48.0, description="deadline to authorise a return request")
    auto_grant_unanswered_message: bool = True
    auto_grant_unauthorised_return: bool = True
    auto_authorise_returns: bool = Field(
        True, description="Amazon authorises in-policy return requests at once (US Prepaid Return Label program)"
    )
    claim_eligible_after_edd_days: Days = Field(3.0, description="claims open this long after the latest EDD")
    claim_window_days: Days = Field(90.0, description="claims close this long after the latest EDD")
    info_request_rate: Rate = Field(0.5, description="share of reviewed claims where Amazon asks the seller")
    info_response_hours: Hours = Field(48.0, description="seller's deadline to answer Amazon's request")
    review_days: Days = Field(3.0, description="filing to Amazon's decision on a reviewed claim")
    review_grant_rate: ReviewGrantRates = ReviewGrantRates()
    buy_shipping_protection: bool = Field(True, description="Buy Shipping labels with on-time scan are Amazon-funded")
    appeal_window_days: Days = 30.0
    appeal_success_rate: Rate = Field(0.3, description="appeal reversal chance at perfect evidence")
    refund_deadline_business_days: float = Field(
        2.0, ge=0.0, le=60.0,
        description="business days (Mon-Fri) after the day a return arrives by which the seller must refund",
    )

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
    amazon_payment_days: AmazonPaymentDays = Field(
        AmazonPaymentDays(), description="report to Amazon's payment, claims at or under the threshold (days)")
    seller_path_resolution_days: SellerPathDays = Field(
        SellerPathDays(), description="report to payment, claims over the threshold (days)")

    # --- liability insurance requirement ----------------------------------------------------
    insurance_required_monthly_sales: Money = 10_000.0
    insurance_required_consecutive_months: int = Field(1, ge=1, le=24)
    insurance_grace_days: float = Field(
        30.0, ge=0.0, le=365.0, description="days to obtain cover once the requirement starts (no sanction before)"
    )
    insurance_max_deductible: float = Field(
        10_000.0, ge=0.0, le=1e9, description="largest deductible Amazon accepts on the seller's policy"
    )
    deductible_allowed_above_proceeds: float | None = Field(
        None, ge=0.0, le=1e12,
        description="a deductible is allowed only if gross proceeds of the last 12 months exceed this "
                    "(None: no such condition)",
    )


_AMAZON_2021 = ("Amazon announcement to sellers on A-to-z Guarantee claims for property damage and personal injury, "
                "'Expanding A-to-z Guarantee to protect customers and sellers (US)', Seller Forums, 10 Aug 2021 "
                "<https://sellercentral.amazon.com/forums/t/expanding-a-to-z-guarantee-to-protect-customers-and-sellers-us/891493>")
_ABOUT_2021 = ("Amazon, 'New A-to-z Guarantee better protects Amazon customers and sellers', 10 Aug 2021 "
               "<https://www.aboutamazon.com/news/how-amazon-works/new-a-to-z-guarantee-better-protects-amazon-customers-"
               "and-sellers>")
_SC_PROCESS = ("Amazon Seller Central, 'A-to-z Claims Process for Property Damage and Personal Injury' (policy page) "
               "<https://sellercentral.amazon.com/help/hub/reference/external/GTY6NYZDFD5CENYH>")
_TERMS_90 = ("Amazon, 'A-to-z Claims Process Terms and Conditions' (claims normally resolved in 90 days) "
             "<https://www.amazon.com/gp/help/customer/display.html?nodeId=GTUXEP9L4KCBFSLU>")
_BSA_2021 = ("Thompson and Holt, 'Why is Amazon cracking down on liability insurance?' (quotes the Business "
             "Solutions Agreement, threshold in each of 3 consecutive months), Feb 2021 "
             "<https://www.thompsonandholt.com/post/why-is-amazon-cracking-down-on-liability-insurance>")
_INS_2021 = ("CruxFinder, 'Product Liability Insurance - Is it mandatory for Amazon Sellers' (from 1 Sep 2021, $10,000 "
             "in any month instead of 3 consecutive months), Aug 2021 "
             "<https://www.cruxfinder.com/amazon-product-liability-insurance-requirements/>")
_US_2022 = ("Amazon Seller Forums, 'Updates to the Commercial Liability Insurance Program Policy' (effective "
            "27 Jun 2022), posted 20 Jun 2022 "
            "<https://sellercentral.amazon.com/forums/t/updates-to-the-commercial-liability-insurance-program-policy/1071469>")
_ECB_2022 = ("EcommerceBytes, 'Amazon Further Tightens Liability-Insurance Rules for Small Sellers', 22 Jun 2022 "
             "<https://www.ecommercebytes.com/2022/06/22/amazon-further-tightens-liability-insurance-rules-for-small-"
             "sellers/>")
_ECB_2024 = ("EcommerceBytes, Amazon expands the A-to-z Guarantee's liability coverage to Canada, the UK and the EU "
             "('in May 2024, we expanded coverage') <https://www.ecommercebytes.com/qozg>")
_CA_2024 = ("Amazon Seller Central Canada announcement 'A-to-z Guarantee to support commercial liability claims', "
            "May 2024, as quoted on sellersasksellers.com "
            "<https://sellersasksellers.com/t/canada-a-to-z-guarantee-to-support-commercial-liability-claims-external/4129>")
_EU_2024 = ("Amazon Seller Central Europe announcement 'A-to-z Guarantee program ... property damage or personal "
            "injury' (EU and UK stores; Sedgwick), May 2024 "
            "<https://sellercentral-europe.amazon.com/seller-forums/discussions/t/cbc31d46-c9dd-4c45-b6b1-8267577835b4>")
_EU_THRESHOLDS = ("Taxology, 'Mandatory Amazon liability insurance - what you need to know' (monthly thresholds "
                  "GBP 4,000 UK, EUR 5,000 DE/FR/IT/ES/NL; a secondary source, not the Agreement), 12 Aug 2024 "
                  "<https://taxology.co/blog/mandatory-amazon-liability-insurance/>")
"""Sources of the versions: 'who, title, date <address>' (docs/sources.md says what each supports)."""

_OLD_FLOW = {
    "pdpi_handler": "seller",
    "pdpi_claim_propensity": 0.25,
    "fraud_attempt_rate": 0.00002,
    "screening_recall": 0.0,
    "screening_false_positive": 0.0,
    "insurance_required_consecutive_months": 3,
}
_NEW_FLOW = {
    "pdpi_handler": "amazon",
    "pdpi_claim_propensity": 0.6,
    "fraud_attempt_rate": 0.00008,
    "screening_recall": 0.7,
    "screening_false_positive": 0.03,
    "amazon_pays_threshold": 1000.0,
    "insurance_proof_days": 7.0,
    "insurance_required_consecutive_months": 1,
}

PRESETS: dict[str, dict] = {
    "us-2021-old": {
        "description": "Amazon.com before 1 Sep 2021: PD/PI claims go from buyer to seller; insurance required after "
                       "3 consecutive months over $10,000 (rules as they stood from Jul 2020 to 31 Aug 2021)",
        "marketplace": "amazon.com",
        "currency": "USD",
        "effective": "2020-07",
        "sources": [_AMAZON_2021, _BSA_2021, _INS_2021],
        **_OLD_FLOW,
    },
    "us-2021-new": {
        "description": "Amazon.com from 1 Sep 2021: Amazon takes PD/PI claims, pays <= $1,000 first; insurance "
                       "required after any month over $10,000",
        "marketplace": "amazon.com",
        "currency": "USD",
        "effective": "2021-09-01",
        "sources": [_AMAZON_2021, _ABOUT_2021, _SC_PROCESS, _TERMS_90, _INS_2021],
        **_NEW_FLOW,
    },
    "us-2022-06": {
        "description": "Amazon.com from 27 Jun 2022: the 2021 flow, and a deductible is allowed only when gross "
                       "proceeds in the Amazon.com store exceeded USD 1 million in the last 12 months",
        "marketplace": "amazon.com",
        "currency": "USD",
        "effective": "2022-06-27",
        "sources": [_US_2022, _ECB_2022, _AMAZON_2021, _SC_PROCESS, _TERMS_90],
        **_NEW_FLOW,
        "deductible_allowed_above_proceeds": 1_000_000.0,  # Amazon forum thread 1071469, effective 27 Jun 2022
    },
    "ca-2024": {
        "description": "Amazon.ca from May 2024: Amazon pays claims under CAD 1,000 and asks no reimbursement from "
                       "an insured seller; insurance required after any month over CAD 10,000; an uninsured seller "
                       "past the threshold pays the claim's compensation value",
        "marketplace": "amazon.ca",
        "auto_authorise_returns": False,  # automatic authorisation of in-policy returns is US-only
        "currency": "CAD",
        "effective": "2024-05",
        "sources": [_CA_2024, _ECB_2024],
        **_NEW_FLOW,
        "insurance_required_monthly_sales": 10_000.0,
    },
    "uk-pre-2024": {
        "description": "Amazon.co.uk before May 2024: PD/PI claims go from buyer to seller; insurance required after "
                       "3 consecutive months over the Agreement's threshold (GBP 4,000 assumed; not confirmed)",
        "marketplace": "amazon.co.uk",
        "auto_authorise_returns": False,  # automatic authorisation of in-policy returns is US-only
        "currency": "GBP",
        "effective": None,
        "sources": [_BSA_2021, _EU_THRESHOLDS, _EU_2024],
        **_OLD_FLOW,
        "insurance_required_monthly_sales": 4_000.0,
    },
    "uk-2024": {
        "description": "Amazon.co.uk from May 2024: Amazon pays claims under GBP 1,000 and asks no reimbursement "
                       "from an insured seller; above, Amazon or Sedgwick works with the insurer; insurance required "
                       "after any month over the Agreement's threshold (GBP 4,000 assumed; not confirmed)",
        "marketplace": "amazon.co.uk",
        "auto_authorise_returns": False,  # automatic authorisation of in-policy returns is US-only
        "currency": "GBP",
        "effective": "2024-05",
        "sources": [_EU_2024, _ECB_2024, _EU_THRESHOLDS],
        **_NEW_FLOW,
        "insurance_required_monthly_sales": 4_000.0,
    },
    "eu-2024": {
        "description": "Amazon EU stores (de, fr, it, es, nl) from May 2024: Amazon pays claims under EUR 1,000 and "
                       "asks no reimbursement from an insured seller; above, Amazon or Sedgwick works with the "
                       "insurer; insurance required after any month over the Agreement's threshold (EUR 5,000 "
                       "assumed; not confirmed)",
        "marketplace": "amazon.de, .fr, .it, .es, .nl",
        "auto_authorise_returns": False,  # automatic authorisation of in-policy returns is US-only
        "currency": "EUR",
        "effective": "2024-05",
        "sources": [_EU_2024, _ECB_2024, _EU_THRESHOLDS],
        **_NEW_FLOW,
        "insurance_required_monthly_sales": 5_000.0,
    },
}
"""Field values of each policy version; everything not named takes the :class:`Policy` default."""

ALIASES: dict[str, str] = {"old": "us-2021-old", "new": "us-2021-new"}
"""Older preset names, kept so that existing scenario files work: the same values as their target."""


def resolve_preset(name: str) -> str:
    """The version name ``name`` stands for (an alias resolved), or KeyError naming the choices."""
    if not isinstance(name, str):
        raise KeyError(f"a preset is the name of a policy version, got {name!r}; "
                       f"choose from {', '.join(preset_names())}")
    name = ALIASES.get(name, name)
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r} (policy version); choose from {', '.join(preset_names())}")
    return name


def preset_names() -> list[str]:
    """Every name a scenario may give as ``preset``: the versions, then the aliases."""
    return [*PRESETS, *ALIASES]


def preset_values(name: str) -> dict:
    """The field values of version ``name`` (an alias is resolved), with ``preset`` set to the version."""
    version = resolve_preset(name)
    return {**PRESETS[version], "preset": version}


def preset(name: str, **overrides) -> Policy:
    """Return the policy version ``name`` (e.g. ``us-2022-06``, or ``old``/``new``) with ``overrides`` applied."""
    return Policy(**{**preset_values(name), **overrides})


def policy_versions() -> list[dict]:
    """Every policy version as plain data (for ``azsim policies``, the app and reports): name,
    aliases, marketplace, currency, effective date, description, sources, and the fields in
    which it differs from the :class:`Policy` defaults."""
    defaults = Policy().model_dump(mode="json")
    out = []
    for name in PRESETS:
        p = preset(name)
        values = p.model_dump(mode="json")
        rules = {k: v for k, v in values.items()
                 if v != defaults.get(k) and k not in ("description", "preset", "marketplace", "currency",
                                                      "effective", "sources")}
        out.append({"name": name, "aliases": [a for a, t in ALIASES.items() if t == name],
                    "marketplace": p.marketplace, "currency": p.currency, "effective": p.effective,
                    "description": p.description, "sources": list(p.sources), "differs_from_defaults": rules})
    return out
