"""One run: one policy on one pre-drawn world -> a ledger and event records.

The day loop is one SimPy process. Each day it (1) reviews account health on review days,
(2) settles the month (insurance requirement, premium) every 30 days, then (3) if the account
is active, takes the day's orders: uneventful orders only add to per-day counters, orders with
an incident go to :mod:`azsim.flows.orders`. Orders that arrive while the account is suspended
are lost; their profit is booked as the seller's ``lost_profit``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import simpy

from . import rng
from .flows import orders
from .flows.desk import Desk
from .flows.health import Health
from .flows.returns import RemorseBatch
from .ledger import AMAZON, BUYER, CAT, FORGONE, FRAUDSTER, HARM, INSURER, SELLER, STAFF, Ledger
from .policy import Policy
from .scenario import Scenario
from .world import D, World

MONTH_DAYS = 30
_H_SUSPEND, _H_REINSTATE, _H_UNINSURED = 0, 1, 2  # account-level decision streams

_REFUND = CAT["refund"]
_CREDIT = CAT["referral_credit"]
_ADMIN = CAT["refund_admin_fee"]
_STAFF = CAT["staff_time"]
_HARM = CAT["harm"]
_PREMIUM = CAT["insurance_premium"]
_LOST = CAT["lost_profit"]
_LOST_FEES = CAT["lost_referral_fees"]


def refund_admin_fee(referral_fee: float) -> float:
    """Amazon keeps min($5, 20% of the referral fee) when it credits a referral fee back."""
    return min(5.0, 0.2 * referral_fee)


@dataclass(frozen=True)
class ClaimRecord:
    order: int
    kind: str  # atoz | pdpi | chargeback
    reason: str
    filed: float
    decided: float
    outcome: str


@dataclass
class RunResult:
    """What one policy run on one world produced."""

    policy: str
    ledger: Ledger
    counts: Counter
    claims: list[ClaimRecord]
    health: list[tuple]  # (day, odr, late shipment rate, cancel rate, valid tracking rate, suspended)
    resolution: dict[str, list[float]]
    suspended_days: int
    insured_days: int
    extra: dict = field(default_factory=dict)


class Run:
    """The state of one policy run, and the small bookkeeping helpers the flows share."""

    def __init__(self, scenario: Scenario, policy_name: str, world: World, vectorised: bool = True):
        self.scenario = scenario
        self.vectorised = vectorised
        self.policy_name = policy_name
        self.policy: Policy = scenario.policies[policy_name]
        self.world = world
        self.env = simpy.Environment()
        self.ledger = Ledger()
        self.health = Health(scenario.account_health, scenario.horizon_days)
        self.desk = Desk(self.env, scenario.seller.support, scenario.market.start_weekday)
        self.counts: Counter = Counter()
        self.claims: list[ClaimRecord] = []
        self.resolution: dict[str, list[float]] = {"atoz": [], "pdpi": [], "chargeback": [], "fba": []}
        self.insured = scenario.seller.insurance.carry == "always"
        self.insurance_required = False
        self.insurance_required_from: int | None = None
        self.suspended_until = 0
        self.suspended_days = 0
        self.insured_days = 0
        self._wage_per_minute = scenario.seller.support.wage_per_hour / 60.0
        self._feedback_delay = scenario.account_health.feedback_delay_days
        n = scenario.horizon_days
        days = np.arange(n, dtype=np.uint64)
        self._u_suspend = rng.uniforms(world.account_key, days, _H_SUSPEND)
        self._u_reinstate = rng.uniforms(world.account_key, days, _H_REINSTATE)
        self._u_uninsured = rng.uniforms(world.account_key, days, _H_UNINSURED)
        self._sales = np.zeros(n + 1)
        # an established seller arrives with its sales history: months over the threshold so far
        m = scenario.market
        over = m.expected_monthly_sales() >= self.policy.insurance_required_monthly_sales
        self._month_streak = m.established_months if over else 0
        self._update_insurance(0)

    # ---- bookkeeping helpers used by the flows ------------------------------------------------
    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] += n

    def staff_time(self, t: float, o, minutes: float) -> None:
        """Book staff minutes x wage as a seller cost."""
        self.ledger.book(t, o.id, SELLER, STAFF, _STAFF, minutes * self._wage_per_minute)

    def harm(self, t: float, o, amount: float) -> None:
        """A buyer's loss from an incident; compensation is booked against it."""
        self.ledger.book(t, o.id, BUYER, HARM, _HARM, amount)

    def seller_refund(self, t: float, o, amount: float, incident_at: float, category: int = _REFUND,
                      compensation: bool = True, to: int = BUYER) -> None:
        """The seller refunds ``amount``; Amazon credits the referral fee back less the admin fee."""
        self.ledger.book(t, o.id, SELLER, to, category, amount)
        credit = o.fee * min(1.0, amount / o.paid) if o.paid > 0 else 0.0
        self.ledger.book(t, o.id, AMAZON, SELLER, _CREDIT, credit)
        self.ledger.book(t, o.id, SELLER, AMAZON, _ADMIN, refund_admin_fee(credit))
        if compensation:
            self.paid(t, incident_at, "atoz" if category == CAT["atoz_claim"] else "refund")

    def claimant(self, o) -> int:
        """Who receives money paid on this order: the buyer, or a fraudster (fraudulent return)."""
        if o.kind == "remorse_return" and o.u[D.RETURN_FRAUD] < self.scenario.incidents.return_fraud_share:
            return FRAUDSTER
        return BUYER

    def paid(self, t: float, incident_at: float, kind: str) -> None:
        """Note a buyer compensated at ``t`` for an incident at ``incident_at``."""
        if kind in self.resolution:
            self.resolution[kind].append(t - incident_at)

    def defect(self, t: float, o) -> None:
        """An Order Defect Rate hit on order ``o`` at time ``t`` (once per order)."""
        if self.health.add_defect(t, o.id, o.day):
            self.count("odr_defects")

    def feedback(self, t: float, o, probability: float) -> None:
        """The buyer leaves negative feedback with ``probability`` (an ODR defect)."""
        if o.u[D.NEG_FB] < probability:
            self.count("negative_feedback")
            self.defect(t + self._feedback_delay, o)

    def quiet_feedback(self, o) -> None:
        """Base negative feedback on an order that is uneventful under this policy."""
        if o.u[D.NEG_FB] < self.scenario.incidents.base_negative_feedback:
            self.counts["negative_feedback"] += 1
            self.counts["odr_defects"] += 1
            self.health.add_bulk_defects(o.day + 0.5 + self._feedback_delay, o.day, 1)

    def record_claim(self, o, kind: str, reason: str, filed: float, decided: float, outcome: str) -> None:
        self.claims.append(ClaimRecord(o.id, kind, reason, filed, decided, outcome))
        self.count(f"claims.by_type.{kind}_{reason}")
        self.count(f"claims.by_outcome.{outcome}")

    # ---- the day loop -------------------------------------------------------------------------
    def days(self):
        env, h, s = self.env, self.health, self.scenario
        review_every = s.account_health.review_every_days
        delay = self._feedback_delay
        start = orders.start
        for block in self.world.blocks():
            per_day = block.incidents
            n_days = len(block.orders)
            if self.vectorised:
                remorse = RemorseBatch(self, block.remorse, n_days)
            else:
                remorse_orders = [[] for _ in range(n_days)]
                for o in block.remorse.orders():
                    remorse_orders[o.day - block.first_day].append(o)
            for i in range(n_days):
                d = block.first_day + i
                if env.now < d:
                    yield env.timeout(d - env.now)
                if d and d % review_every == 0:
                    self._review(d)
                if d and d % MONTH_DAYS == 0:
                    self._month(d)
                if d < self.suspended_until:
                    self._lost_day(d, block, i)
                    continue
                n = int(block.orders[i])
                h.orders[d] = n
                h.mfn[d] = block.mfn[i]
                h.shipped[d] += block.shipped[i]
                h.late[d] += block.late_confirm[i]
                h.tracked[d] += block.tracked[i]
                self._sales[d] = block.sales[i]
                self.counts["orders"] += n
                if self.insured:
                    self.insured_days += 1
                quiet_nf = int(block.quiet_neg_feedback[i])
                if quiet_nf:
                    self.counts["negative_feedback"] += quiet_nf
                    self.counts["odr_defects"] += quiet_nf
                    h.add_bulk_defects(d + 0.5 + delay, d, quiet_nf)
                for o in per_day[i]:
                    start(self, o)
                if self.vectorised:
                    remorse.apply(self, i, d)
                    for o in remorse.scalar[i]:
                        start(self, o)
                else:
                    for o in remorse_orders[i]:
                        start(self, o)
        end = s.horizon_days
        if env.now < end:
            yield env.timeout(end - env.now)
        self._premium(end)

    def _lost_day(self, d: int, block, i: int) -> None:
        self.suspended_days += 1
        self.counts["orders_lost_to_suspension"] += int(block.orders[i])
        self.ledger.book(d, -1, SELLER, FORGONE, _LOST, float(block.margin[i]))
        self.ledger.book(d, -1, AMAZON, FORGONE, _LOST_FEES, float(block.fees[i]))

    def _suspend(self, d: int, reason: str) -> None:
        mean_days = self.scenario.account_health.reinstatement_days
        days = max(1, math.ceil(rng.exponential(float(self._u_reinstate[d]), mean_days)))
        self.suspended_until = d + days
        self.count("suspensions")
        self.count(f"suspensions.{reason}")

    def _review(self, d: int) -> None:
        m = self.health.metrics(d)
        suspended = d < self.suspended_until
        bad = self.health.breached(m)
        if bad and not suspended and self._u_suspend[d] < self.scenario.account_health.suspension_probability:
            self._suspend(d, bad[0])
            suspended = True
        self.health.series.append(
            (d, m["odr"], m["late_shipment_rate"], m["cancel_rate"], m["valid_tracking_rate"], suspended)
        )

    def _month(self, d: int) -> None:
        """Month end: premium for the month, then the insurance requirement for the next."""
        self._premium(d)
        sales = float(self._sales[d - MONTH_DAYS : d].sum())
        over = sales >= self.policy.insurance_required_monthly_sales
        self._month_streak = self._month_streak + 1 if over else 0
        self._update_insurance(d)
        if self.insurance_required and not self.insured and d >= self.suspended_until:
            if self._u_uninsured[d] < self.scenario.account_health.uninsured_suspension_probability:
                self._suspend(d, "insurance_missing")

    def _update_insurance(self, d: int) -> None:
        """The requirement starts once the streak of months over the threshold is long enough."""
        ins, p = self.scenario.seller.insurance, self.policy
        if self._month_streak >= p.insurance_required_consecutive_months and not self.insurance_required:
            self.insurance_required = True
            self.insurance_required_from = d
        if self.insurance_required and ins.carry == "when_required":
            self.insured = True

    def _premium(self, d: int) -> None:
        """Book the premium for the insured days since the last month end."""
        first = (d - 1) // MONTH_DAYS * MONTH_DAYS
        if not self.insured or d <= first:
            return
        ins = self.scenario.seller.insurance
        days = d - first
        amount = ins.premium_per_year * days / 365.0 + ins.premium_share_of_revenue * float(self._sales[first:d].sum())
        self.ledger.book(d, -1, SELLER, INSURER, _PREMIUM, amount)


def run_policy(scenario: Scenario, policy_name: str, seed: int, replication: int,
               world: World | None = None, vectorised: bool = True) -> RunResult:
    """Simulate ``policy_name`` of ``scenario`` on replication ``replication`` of ``seed``.

    ``vectorised=False`` runs buyer-remorse returns one order at a time through the scalar flow
    (the reference the vectorised one is tested against); results are the same.
    """
    world = world or World(scenario, seed, replication)
    run = Run(scenario, policy_name, world, vectorised)
    run.env.process(run.days())
    run.env.run()
    return RunResult(
        policy=policy_name,
        ledger=run.ledger,
        counts=run.counts,
        claims=run.claims,
        health=run.health.series,
        resolution=run.resolution,
        suspended_days=run.suspended_days,
        insured_days=run.insured_days,
        extra={"insurance_required_from_day": run.insurance_required_from},
    )


__all__ = ["Run", "RunResult", "ClaimRecord", "run_policy", "refund_admin_fee"]
