"""The bookkeeping interface the flows write through.

A flow (:mod:`azsim.flows`) never imports the engine (:mod:`azsim.simulate`); it receives a
:class:`Books` and records through it: money to the ledger, counts, claim records, the times at
which buyers were compensated, order defects and negative feedback. The engine's ``Run`` is a
``Books`` that also owns the day loop; the rule modules (:mod:`azsim.account`,
:mod:`azsim.insurance`) are objects the ``Books`` holds, so a flow asks ``books.cover`` who pays
a PD/PI claim and ``books.health`` where a defect goes, without knowing the loop.

Imports only the data layers (ledger, world's stream numbers, scenario and policy types).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .ledger import AMAZON, BUYER, CAT, FRAUDSTER, HARM, SELLER, STAFF, Ledger, LedgerTotals
from .world import D

if TYPE_CHECKING:  # types only: no import at run time
    from .policy import Policy
    from .scenario import Scenario

__all__ = ["Books", "ClaimRecord", "MONTH_DAYS", "refund_admin_fee"]

_REFUND = CAT["refund"]
_CREDIT = CAT["referral_credit"]
_ADMIN = CAT["refund_admin_fee"]
_STAFF = CAT["staff_time"]
_HARM = CAT["harm"]
_ATOZ = CAT["atoz_claim"]

MONTH_DAYS = 30
"""The model's month: the day loop closes a month every 30 days (premium, practice costs, the
insurance requirement)."""

COMPENSATION_KINDS = ("atoz", "pdpi", "chargeback", "fba")
"""How a buyer was compensated; each has its own list of incident-to-payment times. Plain refunds
outside a claim are not timed (no result reads them); :meth:`Books.paid` ignores other kinds."""


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


class Books:
    """What one policy run records, and the helpers flows use to record it.

    Attributes a flow may read: ``scenario``, ``policy``, ``env`` (the SimPy environment, for
    processes), ``desk`` (the support desk), ``health`` (account-health counters, see
    :mod:`azsim.account`), ``cover`` (the seller's liability insurance, see
    :mod:`azsim.insurance`), ``practices`` (practice costs and the negative-feedback sales
    effect, see :mod:`azsim.practices`: every negative feedback is reported to it), ``ledger``,
    ``counts``.
    """

    scenario: Scenario
    policy: Policy
    env: Any
    desk: Any
    health: Any
    cover: Any
    practices: Any

    fast: frozenset = frozenset()  # the engine's fast paths in use (azsim.simulate.FAST_PATHS)

    def __init__(self, scenario: Scenario, policy_name: str, entries: bool = True) -> None:
        self.scenario = scenario
        self.policy_name = policy_name
        self.policy = scenario.policies[policy_name]
        self.ledger = Ledger() if entries else LedgerTotals()  # totals: net cents per party and category only
        self.counts: Counter = Counter()
        self.claims: list[ClaimRecord] = []
        self.resolution: dict[str, list[float]] = {k: [] for k in COMPENSATION_KINDS}
        self.reply_hours: list[float] = []  # buyer message -> seller reply, hours (answered messages)
        self._wage_per_minute = scenario.seller.support.wage_per_hour / 60.0
        self._feedback_delay = scenario.account_health.feedback_delay_days

    @property
    def insured(self) -> bool:
        """The seller holds liability cover now."""
        return self.cover.insured

    # ---- counts and records ---------------------------------------------------------------------
    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] += n

    def record_claim(self, o, kind: str, reason: str, filed: float, decided: float, outcome: str) -> None:
        self.claims.append(ClaimRecord(o.id, kind, reason, filed, decided, outcome))
        self.count(f"claims.by_type.{kind}_{reason}")
        self.count(f"claims.by_outcome.{outcome}")

    def replied(self, asked: float, answered: float) -> None:
        """A buyer message asked at ``asked`` was answered at ``answered`` (days)."""
        self.reply_hours.append((answered - asked) * 24.0)

    # ---- money ------------------------------------------------------------------------------
    def staff_time(self, t: float, o, minutes: float) -> None:
        """Book staff minutes x wage as a seller cost: back-office work paid by the task (returns
        check-in, claims, chargebacks, appeals, disputes), outside the support roster, whose hours
        are paid as ``support_wages`` (:mod:`azsim.practices`)."""
        self.ledger.book(t, o.id, SELLER, STAFF, _STAFF, minutes * self._wage_per_minute)

    def harm(self, t: float, o, amount: float) -> None:
        """A buyer's loss from an incident; compensation is booked against it."""
        self.ledger.book(t, o.id, BUYER, HARM, _HARM, amount)

    def seller_refund(self, t: float, o, amount: float, incident_at: float, category: int = _REFUND,
                      compensation: bool = True, to: int = BUYER) -> None:
        """The seller refunds ``amount``; Amazon credits the referral fee back less the admin fee."""
        book, oid = self.ledger.book, o.id
        book(t, oid, SELLER, to, category, amount)
        credit = o.fee * min(1.0, amount / o.paid) if o.paid > 0 else 0.0
        book(t, oid, AMAZON, SELLER, _CREDIT, credit)
        book(t, oid, SELLER, AMAZON, _ADMIN, refund_admin_fee(credit))
        if compensation:
            self.paid(t, incident_at, "atoz" if category == _ATOZ else "refund")

    def claimant(self, o) -> int:
        """Who receives money paid on this order: the buyer, or a fraudster (fraudulent return)."""
        if o.kind == "remorse_return" and o.u[D.RETURN_FRAUD] < self.scenario.incidents.return_fraud_share:
            return FRAUDSTER
        return BUYER

    def paid(self, t: float, incident_at: float, kind: str) -> None:
        """Note a buyer compensated at ``t`` for an incident at ``incident_at``."""
        if kind in self.resolution:
            self.resolution[kind].append(t - incident_at)

    # ---- account health -----------------------------------------------------------------------
    def defect(self, t: float, o) -> None:
        """An Order Defect Rate hit on order ``o`` at time ``t`` (once per order)."""
        if self.health.add_defect(t, o.id, o.day):
            self.counts["odr_defects"] += 1

    def feedback(self, t: float, o, probability: float) -> None:
        """The buyer leaves negative feedback with ``probability`` (an ODR defect)."""
        if o.u[D.NEG_FB] < probability:
            self.counts["negative_feedback"] += 1
            self.practices.feedback_left(t + self._feedback_delay)
            self.defect(t + self._feedback_delay, o)

    def quiet_feedback(self, o) -> None:
        """Base negative feedback on an order that is uneventful under this policy."""
        if o.u[D.NEG_FB] < self.scenario.incidents.base_negative_feedback:
            self.counts["negative_feedback"] += 1
            self.counts["odr_defects"] += 1
            self.practices.feedback_left(o.day + 0.5 + self._feedback_delay)
            self.health.add_bulk_defects(o.day + 0.5 + self._feedback_delay, o.day, 1)
