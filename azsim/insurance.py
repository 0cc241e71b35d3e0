"""The seller's liability insurance: when Amazon requires it, whether the seller holds it, what it
costs and who pays a PD/PI loss.

Rules (docs/model.md, "Insurance", step by step with sources):

1. Requirement. The requirement starts at the month end at which the seller's sales have been at
   or over ``policy.insurance_required_monthly_sales`` for
   ``policy.insurance_required_consecutive_months`` months in a row (3 before 1 Sep 2021, any
   single month after). An established seller arrives with ``market.established_months`` months
   of history at its expected sales, so its requirement may have started before day 0.
2. Grace. Amazon gives ``policy.insurance_grace_days`` (30) to obtain cover: the cover counts as
   missing (the account module's uninsured-suspension risk) only from then on.
3. Holding cover. ``seller.insurance.carry``: ``always`` from day 0; ``when_required``
   ``seller.insurance.obtain_days`` after the requirement starts (a seller insured before day 0
   renews on day 0); ``never`` not at all. Cover is occurrence-based: a loss is insured when the
   incident happened while the cover was in force, and the policy year of the incident pays it.
4. Terms per policy year (from the day cover starts, renewed every 365 days): the deductible the
   policy version allows (:func:`allowed_deductible`, on the trailing 12 months' gross
   proceeds), ``seller.insurance.per_occurrence_limit`` and ``aggregate_limit``.
5. Who pays a loss x: the seller keeps min(x, deductible); the insurer pays
   min(x - deductible, per-occurrence limit, what is left of the year's aggregate); anything
   above falls back on the seller. Defence costs in court are paid by the insurer outside the
   limits and the deductible, while the year's aggregate is not exhausted (ISO CGL
   "Supplementary Payments").
6. Proof of cover (new flow, claims at or under Amazon's threshold): a certificate on file
   proves cover at once; otherwise the seller's proof takes Exp(``proof_delay_days``) and
   counts only within ``policy.insurance_proof_days``.
7. Premium. ``pricing: fixed``: ``premium_per_year`` (+ ``premium_share_of_revenue`` x sales).
   ``pricing: risk``: per policy year, ``minimum_premium`` + (1 + ``loading``) x
   [Z x observed insured losses per year + (1 - Z) x :func:`expected_insured_loss`], with the
   Buhlmann credibility Z = n / (n + ``credibility_k``) of the n simulated policy years before
   the renewal (0 at inception). Booked seller -> insurer at each month end for the insured
   days of the month.

The engine calls :meth:`Cover.month_end` every 30 days and :meth:`Cover.close` at the horizon;
flows call :meth:`Cover.pay`, :meth:`Cover.defend`, :meth:`Cover.reverse` and
:meth:`Cover.proof`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scipy.special import ndtr

from .books import MONTH_DAYS
from .ledger import AMAZON, CAT, INSURER, LEGAL, SELLER
from .rng import exponential
from .world import D

if TYPE_CHECKING:
    from .books import Books
    from .policy import Policy
    from .scenario import Insurance, Scenario

__all__ = [
    "Cover",
    "MONTH_DAYS",
    "YEAR_DAYS",
    "PolicyYear",
    "allowed_deductible",
    "expected_insured_loss",
    "expected_proceeds_12m",
    "layer_expectation",
    "orders_per_year",
    "premium_rate",
    "risk_premium",
]

YEAR_DAYS = 365
_PREMIUM = CAT["insurance_premium"]
_LEGAL = CAT["legal_costs"]
_REIMB = CAT["pdpi_reimbursement"]


# ----------------------------------------------------------------------------------------------
# pure functions: the deductible rule, the expected insured loss, the premium
# ----------------------------------------------------------------------------------------------
def expected_proceeds_12m(scenario: Scenario) -> float:
    """Gross proceeds of the 12 months before day 0 that the run assumes: the expected daily sales
    (``Market.expected_monthly_sales() / 30``) over the established history, at most 365 days."""
    m = scenario.market
    days = min(m.established_months * MONTH_DAYS, YEAR_DAYS)
    return m.expected_monthly_sales() / MONTH_DAYS * days


def allowed_deductible(scenario: Scenario, policy: Policy, proceeds_12m: float | None = None) -> float:
    """The deductible the seller's cover carries under ``policy``.

    The seller asks for ``seller.insurance.deductible``; Amazon accepts at most
    ``policy.insurance_max_deductible`` ($10,000), and under a version with
    ``policy.deductible_allowed_above_proceeds`` (US from 27 Jun 2022: USD 1M) no deductible at
    all unless the gross proceeds of the last 12 months (``proceeds_12m``; default
    :func:`expected_proceeds_12m`) exceed it.
    """
    wanted = min(scenario.seller.insurance.deductible, policy.insurance_max_deductible)
    floor = policy.deductible_allowed_above_proceeds
    if floor is not None:
        proceeds = expected_proceeds_12m(scenario) if proceeds_12m is None else proceeds_12m
        if not proceeds > floor:
            return 0.0
    return wanted


def orders_per_year(scenario: Scenario) -> float:
    """Expected orders in a year: the base rate, with the Q4 factor on 3 months of 12."""
    m = scenario.market
    return m.orders_per_day * YEAR_DAYS * (9.0 + 3.0 * m.q4_peak_multiplier) / 12.0


def layer_expectation(median: float, sigma: float, deductible: float, limit: float,
                      low: float = 0.0, high: float = math.inf) -> float:
    """E[min(max(X - deductible, 0), limit); low < X <= high] for X lognormal(ln median, sigma).

    Closed form from the lognormal's partial moments: with P(a, b) = P(a < X <= b) and
    M(a, b) = E[X; a < X <= b] = exp(mu + sigma^2/2) [Phi((ln b - mu - sigma^2)/sigma) -
    Phi((ln a - mu - sigma^2)/sigma)], the layer pays X - d between d and d + L and L above:
    M(a1, b1) - d P(a1, b1) + L P(a2, high), a1 = max(low, d), b1 = min(high, d + L),
    a2 = max(low, d + L).
    """
    if limit <= 0.0 or high <= low:
        return 0.0
    top = deductible + limit
    if median <= 0.0 or sigma <= 0.0:  # a fixed amount
        x = max(median, 0.0)
        return min(max(x - deductible, 0.0), limit) if low < x <= high else 0.0
    mu = math.log(median)

    def z(x: float, shift: float) -> float:
        if x <= 0.0:
            return -math.inf
        if math.isinf(x):
            return math.inf
        return (math.log(x) - mu - shift) / sigma

    def prob(a: float, b: float) -> float:
        return float(ndtr(z(b, 0.0)) - ndtr(z(a, 0.0))) if b > a else 0.0

    def moment(a: float, b: float) -> float:
        if b <= a:
            return 0.0
        return math.exp(mu + sigma * sigma / 2.0) * float(ndtr(z(b, sigma * sigma)) - ndtr(z(a, sigma * sigma)))

    a1, b1, a2 = max(low, deductible), min(high, top), max(low, top)
    tail = limit * prob(a2, high) if a2 < high else 0.0
    return max(moment(a1, b1) - deductible * prob(a1, b1) + tail, 0.0)


def _within(delay, limit: float) -> float:
    """P(a delay drawn as the flows draw it is <= ``limit``): a number is an exponential mean; an
    object with ``mean``/``cv`` (:class:`azsim._types.Delay`) is lognormal."""
    if hasattr(delay, "cv"):
        mean, cv = float(delay.mean), float(delay.cv)
        if mean <= 0.0 or cv <= 0.0:
            return 1.0 if mean <= limit else 0.0
        if limit <= 0.0:
            return 0.0
        s = math.sqrt(math.log1p(cv * cv))
        return float(ndtr((math.log(limit / mean) + s * s / 2.0) / s))
    mean = float(delay)
    return 1.0 if mean <= 0.0 else -math.expm1(-limit / mean)


def expected_insured_loss(scenario: Scenario, policy: Policy, deductible: float | None = None) -> float:
    """Expected insured loss per policy year: what the insurer of this seller pays under ``policy``.

    It mirrors the branches of :mod:`azsim.flows.pdpi` with the scenario's own claim frequency
    and severity, for cover in force all year with ``deductible`` (default
    :func:`allowed_deductible` at the expected proceeds). Per claim, the insured layer is
    I = E[min(max(min(X, cap) - d, 0), L)] (X the lognormal harm, cap ``policy.damages_cap``,
    L the per-occurrence limit), split at Amazon's threshold T into I_small (X <= T) and I_large.

    Old flow (the buyer goes to the seller): a harmed buyer claims with the claim propensity, a
    fraud attempt always; the seller settles (answers, and does not recognise fraud) and the
    insurer pays I; otherwise the claimant sues with ``litigation.rate``, the insurer pays the
    defence cost, and I if the claimant wins.

    New flow: claims inside the reporting window that pass screening. At or under T Amazon pays
    and the insurer pays I_small only when proof is missing (no certificate and proof later
    than the deadline), net of successful disputes. Above T the insurer pays I_large when the
    seller answers in time and does not dispute, or when Amazon pays and recovers (no
    successful dispute).

    The aggregate limit caps the result (E[min(S, A)] <= min(E[S], A); the aggregate hardly binds
    at these frequencies). Orders lost to suspensions are not taken off the exposure.
    """
    ins = scenario.seller.insurance
    d = allowed_deductible(scenario, policy) if deductible is None else float(deductible)
    cap = policy.damages_cap
    limit = min(ins.per_occurrence_limit, max(cap - d, 0.0))  # X capped at the damages cap
    harm = scenario.incidents.pdpi_amount
    whole = layer_expectation(harm.median, harm.sigma, d, limit)
    threshold = policy.amazon_pays_threshold
    small = whole if cap <= threshold else layer_expectation(harm.median, harm.sigma, d, limit, high=threshold)
    large = max(whole - small, 0.0)

    n = orders_per_year(scenario)
    valid = n * scenario.incidents.product_safety * policy.pdpi_claim_propensity
    fraud = n * policy.fraud_attempt_rate
    claims = scenario.seller.claims

    if policy.pdpi_handler == "seller":
        lit = scenario.litigation

        def old(rate: float, settles: float, win: float) -> float:
            return rate * (settles * whole + (1.0 - settles) * lit.rate * (lit.seller_legal_cost + win * whole))

        total = old(valid, claims.response_rate, lit.buyer_win_if_valid) + \
            old(fraud, claims.response_rate * (1.0 - lit.seller_detects_fraud), lit.buyer_win_if_fraud)
        return min(total, ins.aggregate_limit)

    in_window = _within(scenario.buyers.pdpi_report_delay_days, policy.pdpi_report_window_days)
    proof = 1.0 if ins.certificate_on_file else _within(ins.proof_delay_days, policy.insurance_proof_days)
    answers = claims.response_rate * _within(claims.response_days, policy.seller_response_days)
    pays, recovers = policy.amazon_pays_if_seller_fails, policy.amazon_recovery_rate
    disputes = scenario.seller.disputes

    def new(rate: float, passes: float, is_fraud: bool) -> float:
        if disputes.strategy == "always":
            w = 1.0
        elif disputes.strategy == "when_fraud_suspected":
            w = disputes.evidence_quality if is_fraud else 0.0
        else:
            w = 0.0
        won = (policy.dispute_success_if_fraud if is_fraud else policy.dispute_success_if_valid) \
            * disputes.evidence_quality
        small_paid = (1.0 - proof) * (1.0 - w * won)
        large_paid = answers * (1.0 - w) + (1.0 - answers) * (1.0 - w) * pays * recovers \
            + w * pays * (1.0 - won) * recovers
        return rate * in_window * passes * (small_paid * small + large_paid * large)

    total = new(valid, 1.0 - policy.screening_false_positive, False) + new(fraud, 1.0 - policy.screening_recall, True)
    return min(total, ins.aggregate_limit)


def premium_rate(rules: Insurance, expected: float, observed_per_year: float = 0.0,
                 years: float = 0.0) -> tuple[float, float]:
    """(premium per year, credibility Z) of a risk-priced policy year.

    premium = minimum + (1 + loading) x [Z x observed + (1 - Z) x expected], Z = years / (years + k)
    (Buhlmann credibility, ``years`` of own experience, ``k = rules.credibility_k``).
    """
    z = years / (years + rules.credibility_k) if years > 0 else 0.0
    return rules.minimum_premium + (1.0 + rules.loading) * (z * observed_per_year + (1.0 - z) * expected), z


def risk_premium(scenario: Scenario, policy: Policy, deductible: float | None = None) -> float:
    """The first-year premium per year of a risk-priced cover under ``policy`` (no experience yet)."""
    return premium_rate(scenario.seller.insurance, expected_insured_loss(scenario, policy, deductible))[0]


# ----------------------------------------------------------------------------------------------
# the cover of one run
# ----------------------------------------------------------------------------------------------
@dataclass
class PolicyYear:
    """The terms and the record of one policy year of the seller's cover."""

    start: int  # first day
    deductible: float
    expected: float  # expected insured loss per year at these terms
    observed: float  # insured losses per year of the earlier policy years, as known at the start
    credibility: float  # Z given to ``observed``
    premium: float  # premium per year (fixed: premium_per_year)
    aggregate_used: float = 0.0  # insured damages paid for occurrences of this year
    losses: float = 0.0  # insurer's losses on occurrences of this year: damages + defence - reversals

    @property
    def end(self) -> int:
        return self.start + YEAR_DAYS


class Cover:
    """Insurance state of one run: requirement, cover, policy years, and who pays a loss."""

    def __init__(self, books: Books, sales):
        self.books = books
        s = books.scenario
        self.scenario = s
        self.rules = s.seller.insurance
        self.policy = p = books.policy
        self._sales = sales  # per-day sales, filled by the engine as days pass
        self._horizon = s.horizon_days
        m = s.market
        monthly = m.expected_monthly_sales()
        self._history_daily = monthly / MONTH_DAYS
        self._history_days = m.established_months * MONTH_DAYS
        over = monthly >= p.insurance_required_monthly_sales
        self._month_streak = m.established_months if over else 0
        need = p.insurance_required_consecutive_months
        # the day the requirement started: negative when it started in the history before day 0
        self.required_since: int | None = None
        self.insured_from: int | None = 0 if self.rules.carry == "always" else None
        if self._month_streak >= need:
            self._require(-(self._month_streak - need) * MONTH_DAYS)
        self.years: list[PolicyYear] = []
        self._losses: list[tuple[float, float, float]] = []  # (occurred, known at, insurer's amount)
        self._expected_cache: dict[float, float] = {}
        self.premium_booked = 0.0
        self.insurer_losses = 0.0
        self.uncovered = 0.0  # damages above the limits that fell back on the seller
        self._covered_days = 0.0  # insured days inside the horizon with premium booked
        self._expected_days = 0.0
        self._deductible_days = 0.0
        self._advance(0.0)

    # ---- requirement and status -------------------------------------------------------------
    def _require(self, day: int) -> None:
        self.required_since = day
        if self.rules.carry == "when_required":
            self.insured_from = max(0, day + self.rules.obtain_days)

    @property
    def required(self) -> bool:
        return self.required_since is not None

    @property
    def required_from(self) -> int | None:
        """First day of the run on which Amazon requires cover (0 if it did before day 0)."""
        return None if self.required_since is None else max(0, self.required_since)

    def _now(self) -> float:
        return float(self.books.env.now)

    def covers(self, t: float) -> bool:
        """Cover is in force at time ``t`` (it never lapses once bought)."""
        return self.insured_from is not None and t >= self.insured_from

    @property
    def insured(self) -> bool:
        """The seller holds cover now."""
        return self.covers(self._now())

    @property
    def missing(self) -> bool:
        """Amazon requires cover, the grace period is over and the seller has none."""
        now = self._now()
        return (self.required_since is not None and not self.covers(now)
                and now >= self.required_since + self.policy.insurance_grace_days)

    @property
    def insured_days(self) -> int:
        """Calendar days of the run with cover in force."""
        if self.insured_from is None or self.insured_from >= self._horizon:
            return 0
        return self._horizon - self.insured_from

    # ---- the engine's calls -------------------------------------------------------------------
    def month_end(self, d: int) -> None:
        """Month end: premium for the month, then the insurance requirement for the next."""
        self._book_premium(d)
        sales = float(self._sales[d - MONTH_DAYS : d].sum())
        over = sales >= self.policy.insurance_required_monthly_sales
        self._month_streak = self._month_streak + 1 if over else 0
        if self.required_since is None and self._month_streak >= self.policy.insurance_required_consecutive_months:
            self._require(d)

    def close(self, d: int) -> None:
        """The horizon ends on day ``d``: book the last part-month's premium."""
        self._book_premium(d)

    # ---- policy years --------------------------------------------------------------------------
    def _advance(self, t: float) -> None:
        """Start every policy year that begins at or before ``t``."""
        if self.insured_from is None:
            return
        while True:
            start = self.insured_from + YEAR_DAYS * len(self.years)
            if start > t:
                return
            self.years.append(self._new_year(start))

    def _proceeds_12m(self, start: int) -> float:
        """Gross proceeds of the 365 days before ``start``: simulated days, then assumed history."""
        simulated = float(self._sales[max(0, start - YEAR_DAYS) : start].sum())
        history = min(max(YEAR_DAYS - start, 0), self._history_days) * self._history_daily
        return simulated + history

    def _expected(self, deductible: float) -> float:
        if deductible not in self._expected_cache:
            self._expected_cache[deductible] = expected_insured_loss(self.scenario, self.policy, deductible)
        return self._expected_cache[deductible]

    def _new_year(self, start: int) -> PolicyYear:
        if start >= self._horizon and self.years:
            # a year that starts after the run (late-reported occurrences only): the last terms continue
            last = self.years[-1]
            return PolicyYear(start, last.deductible, last.expected, last.observed, last.credibility, last.premium)
        deductible = allowed_deductible(self.scenario, self.policy, self._proceeds_12m(start))
        expected = self._expected(deductible)
        n = len(self.years)  # simulated policy years before this one (all of them 365 days)
        observed = sum(a for occ, known, a in self._losses if known <= start and occ < start) / n if n else 0.0
        if self.rules.pricing == "fixed":
            return PolicyYear(start, deductible, expected, observed, 0.0, self.rules.premium_per_year)
        premium, z = premium_rate(self.rules, expected, observed, n)
        return PolicyYear(start, deductible, expected, observed, z, premium)

    def year_of(self, t: float) -> PolicyYear | None:
        """The policy year covering an occurrence at ``t`` (None if uninsured then)."""
        if not self.covers(t):
            return None
        self._advance(max(t, self._now()))
        return self.years[int((t - self.insured_from) // YEAR_DAYS)]

    def _book_premium(self, d: int) -> None:
        """Book the premium for the insured days since the last month end."""
        first = (d - 1) // MONTH_DAYS * MONTH_DAYS
        if self.insured_from is None or d <= max(first, self.insured_from):
            return
        self._advance(d)
        amount = 0.0
        for y in self.years[max(0, (first - self.insured_from) // YEAR_DAYS):]:  # the years that reach this month
            lo, hi = max(first, y.start), min(d, y.end)
            if hi <= lo:
                continue
            days = hi - lo
            amount += y.premium * days / YEAR_DAYS
            self._covered_days += days
            self._expected_days += y.expected * days
            self._deductible_days += y.deductible * days
        if self.rules.pricing == "fixed" and self.rules.premium_share_of_revenue:
            insured_sales = float(self._sales[max(first, self.insured_from) : d].sum())
            amount += self.rules.premium_share_of_revenue * insured_sales
        cents = self.books.ledger.book(d, -1, SELLER, INSURER, _PREMIUM, amount)
        self.premium_booked += cents / 100

    # ---- the flows' calls -----------------------------------------------------------------------
    def _loss(self, occurred: float, cents: int) -> None:
        amount = cents / 100
        self.insurer_losses += amount
        self._losses.append((occurred, self._now(), amount))

    def pay(self, o, t: float, amount: float, payee: int, category: int, occurred: float) -> tuple[float, float]:
        """The seller's side pays ``amount`` at ``t`` for an incident at ``occurred``.

        Insured then: the seller keeps the deductible, the insurer pays the rest up to the
        per-occurrence limit and what is left of the policy year's aggregate; the seller pays
        what exceeds them. Returns (seller's part, insurer's part).
        """
        ledger = self.books.ledger
        year = self.year_of(occurred)
        if year is None:
            ledger.book(t, o.id, SELLER, payee, category, amount)
            return amount, 0.0
        retained = min(amount, year.deductible)
        room = max(self.rules.aggregate_limit - year.aggregate_used, 0.0)
        insurer = round(min(amount - retained, self.rules.per_occurrence_limit, room), 2)
        seller = amount - insurer
        self.uncovered += max(amount - retained - insurer, 0.0)
        year.aggregate_used += insurer
        ledger.book(t, o.id, SELLER, payee, category, seller)
        cents = ledger.book(t, o.id, INSURER, payee, category, insurer)
        year.losses += cents / 100
        self._loss(occurred, cents)
        return seller, insurer

    def defend(self, o, t: float, cost: float, occurred: float) -> int:
        """The seller's defence cost in court: the insurer's (outside the limits and the deductible)
        while the policy year's aggregate is not exhausted, else the seller's. Returns the payer."""
        year = self.year_of(occurred)
        if year is not None and year.aggregate_used < self.rules.aggregate_limit:
            cents = self.books.ledger.book(t, o.id, INSURER, LEGAL, _LEGAL, cost)
            year.losses += cents / 100
            self._loss(occurred, cents)
            return INSURER
        self.books.ledger.book(t, o.id, SELLER, LEGAL, _LEGAL, cost)
        return SELLER

    def reverse(self, o, t: float, seller_part: float, insurer_part: float, occurred: float) -> None:
        """Amazon repays a reimbursement after a successful dispute: each payer gets its part back."""
        ledger = self.books.ledger
        ledger.book(t, o.id, AMAZON, SELLER, _REIMB, seller_part)
        cents = ledger.book(t, o.id, AMAZON, INSURER, _REIMB, insurer_part)
        if cents:
            year = self.year_of(occurred)
            year.aggregate_used -= cents / 100
            year.losses -= cents / 100
            self._loss(occurred, -cents)

    def proof(self, o, report_at: float, occurred: float) -> float | None:
        """When the seller proves cover for a claim reported at ``report_at`` (None: not in time,
        or not insured for the occurrence). A certificate on file proves it at once."""
        if not self.covers(occurred):
            return None
        if self.rules.certificate_on_file:
            return report_at
        delay = exponential(o.u[D.PROOF_DELAY], self.rules.proof_delay_days)
        return report_at + delay if delay <= self.policy.insurance_proof_days else None

    # ---- results --------------------------------------------------------------------------------
    def metrics(self, per_year: float) -> dict[str, float]:
        """Result metrics of the insurance module (flat keys; money and days per year)."""
        covered = self._covered_days
        missing = 0.0
        if self.required_since is not None:
            lo = max(0.0, self.required_since + self.policy.insurance_grace_days)
            hi = self._horizon if self.insured_from is None else min(self.insured_from, self._horizon)
            missing = max(0.0, hi - lo)
        prem = self.premium_booked
        return {
            "insurance.premium": prem * per_year,
            "insurance.insurer_losses": self.insurer_losses * per_year,
            "insurance.loss_ratio": self.insurer_losses / prem if prem > 0 else math.nan,
            "insurance.expected_loss": self._expected_days / covered if covered else math.nan,
            "insurance.deductible": self._deductible_days / covered if covered else math.nan,
            "insurance.insured_days": covered * per_year,
            "insurance.missing_days": missing * per_year,
            "insurance.uncovered_losses": self.uncovered * per_year,
        }
