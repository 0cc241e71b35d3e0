"""The seller's liability insurance: when Amazon requires it, whether the seller holds it, what it
costs and who pays a PD/PI loss.

Rules (docs/model.md, "Insurance"):
1. The requirement starts once the seller's sales have been at or over
   ``policy.insurance_required_monthly_sales`` for ``policy.insurance_required_consecutive_months``
   months in a row (an established seller arrives with ``market.established_months`` of history).
2. ``seller.insurance.carry``: ``always`` holds cover from day 0, ``when_required`` from the day the
   requirement starts, ``never`` not at all.
3. The premium is booked at each month end for the insured days of that month.
4. A PD/PI loss on an insured seller: the seller pays up to the deductible, the insurer the rest.

The engine calls :meth:`Cover.month_end` every 30 days and :meth:`Cover.close` at the horizon;
flows call :meth:`Cover.pay`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .ledger import CAT, INSURER, SELLER

if TYPE_CHECKING:
    from .books import Books

__all__ = ["Cover", "MONTH_DAYS"]

MONTH_DAYS = 30
_PREMIUM = CAT["insurance_premium"]


class Cover:
    """Insurance state of one run."""

    def __init__(self, books: Books, sales: np.ndarray):
        self.books = books
        s = books.scenario
        self.rules = s.seller.insurance
        self.policy = books.policy
        self._sales = sales  # per-day sales, filled by the engine as days pass
        self.insured = self.rules.carry == "always"
        self.required = False
        self.required_from: int | None = None
        self.insured_days = 0
        m = s.market
        over = m.expected_monthly_sales() >= self.policy.insurance_required_monthly_sales
        self._month_streak = m.established_months if over else 0
        self._update(0)

    @property
    def missing(self) -> bool:
        """Amazon requires cover and the seller has none."""
        return self.required and not self.insured

    def day(self) -> None:
        """A trading day passes (counts insured days)."""
        if self.insured:
            self.insured_days += 1

    def month_end(self, d: int) -> None:
        """Month end: premium for the month, then the insurance requirement for the next."""
        self._premium(d)
        sales = float(self._sales[d - MONTH_DAYS : d].sum())
        over = sales >= self.policy.insurance_required_monthly_sales
        self._month_streak = self._month_streak + 1 if over else 0
        self._update(d)

    def close(self, d: int) -> None:
        """The horizon ends on day ``d``: book the last part-month's premium."""
        self._premium(d)

    def _update(self, d: int) -> None:
        """The requirement starts once the streak of months over the threshold is long enough."""
        if self._month_streak >= self.policy.insurance_required_consecutive_months and not self.required:
            self.required = True
            self.required_from = d
        if self.required and self.rules.carry == "when_required":
            self.insured = True

    def _premium(self, d: int) -> None:
        """Book the premium for the insured days since the last month end."""
        first = (d - 1) // MONTH_DAYS * MONTH_DAYS
        if not self.insured or d <= first:
            return
        ins = self.rules
        days = d - first
        amount = ins.premium_per_year * days / 365.0 + ins.premium_share_of_revenue * float(self._sales[first:d].sum())
        self.books.ledger.book(d, -1, SELLER, INSURER, _PREMIUM, amount)

    def pay(self, o, t: float, amount: float, payee: int, category: int) -> tuple[float, float]:
        """The seller's side pays ``amount``; if insured, the insurer pays what exceeds the deductible.

        Returns (seller's part, insurer's part).
        """
        ledger = self.books.ledger
        if self.insured:
            deductible = min(amount, self.rules.deductible)
            ledger.book(t, o.id, SELLER, payee, category, deductible)
            ledger.book(t, o.id, INSURER, payee, category, amount - deductible)
            return deductible, amount - deductible
        ledger.book(t, o.id, SELLER, payee, category, amount)
        return amount, 0.0

    def metrics(self, per_year: float) -> dict[str, float]:
        """Result metrics of the insurance module (flat keys)."""
        return {}
