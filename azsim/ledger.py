"""The ledger: every money movement of a run as one entry, and the views of it.

An entry is (time, order id, payer, payee, category, amount in cents). Amounts are integer
cents, so money is conserved exactly: every cent one party pays another receives. A party's
*cost* in a category is what it paid out minus what it received in that category.

Besides the four parties the results report (seller, Amazon, insurer, buyers) there are
counterparties that close the books: ``fraudster`` (receives paid fraudulent claims),
``carrier`` (return labels), ``staff`` (support wages), ``legal`` (lawyers' fees), ``harm``
(the loss an incident inflicts on a buyer, booked buyer -> harm), ``goods`` (value of returned
stock, booked goods -> seller), ``forgone`` (profit and fees lost to suspensions, cancellations
and negative feedback, and the cost of capital of withheld funds) and ``vendor`` (suppliers of
packaging, listing work and shipping software).
"""

from __future__ import annotations

from array import array

import numpy as np
import pandas as pd

PARTIES = ("seller", "amazon", "insurer", "buyer", "fraudster", "carrier", "staff", "legal", "harm", "goods", "forgone",
           "vendor")
SELLER, AMAZON, INSURER, BUYER, FRAUDSTER, CARRIER, STAFF, LEGAL, HARM, GOODS, FORGONE, VENDOR = range(len(PARTIES))

CATEGORIES = (
    "refund",  # refunds of returned or undelivered orders
    "referral_credit",  # referral fee credited back to the seller on a refund
    "refund_admin_fee",  # min($5, 20% of the referral fee), kept by Amazon on a refund
    "return_shipping",  # return labels
    "recovered_goods",  # cost of goods recovered by restocking a return
    "atoz_claim",  # A-to-z Guarantee grants
    "appeal_reversal",  # grants reversed on appeal
    "chargeback",  # card chargebacks
    "pdpi_compensation",  # PD/PI payments to claimants
    "pdpi_reimbursement",  # seller reimbursing Amazon for a PD/PI payment
    "insurance_premium",
    "legal_costs",
    "staff_time",  # back-office task minutes x wage (returns, claims, disputes); the desk is in support_wages
    "lost_profit",  # seller profit forgone while suspended
    "lost_referral_fees",  # Amazon's fees forgone while the seller is suspended
    "harm",  # a buyer's loss from an incident (compensation is booked against it)
    "funds_held_cost",  # cost of capital of disbursements Amazon withholds during a deactivation
    "lost_profit_feedback",  # margin of sales lost to negative feedback (conversion effect)
    "lost_profit_cancelled",  # margin of out-of-stock orders the seller cancels
    "support_wages",  # support staff paid for their rostered hours
    "packaging",  # packaging materials and work, per order
    "listing_work",  # keeping listings true to the ASIN, per month
    "tracking_work",  # confirming shipments and uploading tracking, per month
    "buy_shipping_labels",  # extra cost of Buy Shipping labels over the seller's own carrier rates
)
CAT = {c: i for i, c in enumerate(CATEGORIES)}

REPORTED_PARTIES = ("seller", "amazon", "insurer", "buyer")


def _np(a: array, dtype) -> np.ndarray:
    return np.frombuffer(a, dtype=dtype) if len(a) else np.zeros(0, dtype=dtype)


class Ledger:
    """Column-oriented, append-only money entries of one run.

    Three columns keep it small (about 24 bytes an entry): the time, a packed key
    ``(order + 1) << 16 | payer << 12 | payee << 8 | category``, and the cents.
    """

    __slots__ = ("_t", "_key", "_cents")

    def __init__(self) -> None:
        self._t = array("d")
        self._key = array("q")
        self._cents = array("q")

    def __len__(self) -> int:
        return len(self._cents)

    def book(self, t: float, order: int, payer: int, payee: int, category: int, amount: float) -> int:
        """Record that ``payer`` pays ``payee`` ``amount`` dollars; returns the cents booked.

        ``order`` is -1 for entries that belong to the account, not to an order.
        """
        cents = round(amount * 100)
        if cents > 0:
            self._key.append(((order + 1) << 16) | (payer << 12) | (payee << 8) | category)
        elif cents < 0:
            cents = -cents
            self._key.append(((order + 1) << 16) | (payee << 12) | (payer << 8) | category)
        else:
            return 0
        self._t.append(t)
        self._cents.append(cents)
        return cents

    def extend(self, t, order, payer, payee, category, cents) -> None:
        """Append many entries at once from numpy columns (cents positive integers)."""
        key = ((np.asarray(order, np.int64) + 1) << 16) | (np.asarray(payer, np.int64) << 12) \
            | (np.asarray(payee, np.int64) << 8) | np.asarray(category, np.int64)
        self._key.frombytes(key.astype(np.int64).tobytes())
        self._t.frombytes(np.asarray(t, np.float64).tobytes())
        self._cents.frombytes(np.asarray(cents, np.int64).tobytes())

    def columns(self) -> dict[str, np.ndarray]:
        """The entries as numpy columns: t, order, payer, payee, category, cents."""
        key = _np(self._key, np.int64)
        return {
            "t": _np(self._t, np.float64),
            "order": (key >> 16) - 1,
            "payer": (key >> 12) & 0xF,
            "payee": (key >> 8) & 0xF,
            "category": key & 0xFF,
            "cents": _np(self._cents, np.int64),
        }

    # ---- views ---------------------------------------------------------------------------------
    def net_cents(self) -> np.ndarray:
        """(party, category) matrix of cents paid out minus cents received (exact integers)."""
        n_p, n_c = len(PARTIES), len(CATEGORIES)
        c = self.columns()
        out = np.zeros(n_p * n_c, dtype=np.int64)
        np.add.at(out, c["payer"] * n_c + c["category"], c["cents"])
        np.subtract.at(out, c["payee"] * n_c + c["category"], c["cents"])
        return out.reshape(n_p, n_c)

    def cost(self, party: str) -> dict[str, float]:
        """Dollars of net cost to ``party`` per category (non-zero categories only)."""
        row = self.net_cents()[PARTIES.index(party)]
        return {c: row[i] / 100 for i, c in enumerate(CATEGORIES) if row[i]}

    def to_frame(self) -> pd.DataFrame:
        """All entries as a tidy DataFrame (time in days, amount in dollars; order -1: account)."""
        c = self.columns()
        return pd.DataFrame(
            {
                "t": c["t"],
                "order": c["order"],
                "payer": pd.Categorical.from_codes(c["payer"], PARTIES),
                "payee": pd.Categorical.from_codes(c["payee"], PARTIES),
                "category": pd.Categorical.from_codes(c["category"], CATEGORIES),
                "amount": c["cents"] / 100,
            }
        )
