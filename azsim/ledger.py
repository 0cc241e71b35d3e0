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

    __slots__ = ("_t", "_key", "_cents", "_append_t", "_append_key", "_append_cents")

    def __init__(self) -> None:
        self._t = array("d")
        self._key = array("q")
        self._cents = array("q")
        self._append_t, self._append_key, self._append_cents = self._t.append, self._key.append, self._cents.append

    def __len__(self) -> int:
        return len(self._cents)

    def book(self, t: float, order: int, payer: int, payee: int, category: int, amount: float) -> int:
        """Record that ``payer`` pays ``payee`` ``amount`` dollars; returns the cents booked.

        ``order`` is -1 for entries that belong to the account, not to an order.
        """
        cents = round(amount * 100)
        if cents > 0:
            self._append_key(((order + 1) << 16) | (payer << 12) | (payee << 8) | category)
        elif cents < 0:
            cents = -cents
            self._append_key(((order + 1) << 16) | (payee << 12) | (payer << 8) | category)
        else:
            return 0
        self._append_t(t)
        self._append_cents(cents)
        return cents

    def extend(self, t, order, payer, payee, category, cents) -> None:
        """Append many entries at once from numpy columns (cents positive integers)."""
        key = Ledger.keys(order, payer, payee, category)
        self._key.frombytes(key.astype(np.int64).tobytes())
        self._t.frombytes(np.asarray(t, np.float64).tobytes())
        self._cents.frombytes(np.asarray(cents, np.int64).tobytes())

    @staticmethod
    def keys(order, payer, payee, category) -> np.ndarray:
        """The packed keys of entries (numpy columns or numbers; order -1: the account)."""
        return ((np.asarray(order, np.int64) + 1) << 16) | (np.asarray(payer, np.int64) << 12) \
            | (np.asarray(payee, np.int64) << 8) | np.asarray(category, np.int64)

    @staticmethod
    def pack(t, key, cents) -> Packed:
        """Columns of times, packed keys (:meth:`keys`) and cents, for :meth:`extend_packed`."""
        return Packed(t, key, cents)

    def extend_packed(self, packed: Packed, lo: int, hi: int) -> None:
        """Append entries ``lo:hi`` of columns packed by :meth:`pack` (the same as :meth:`extend` on them)."""
        t, key, cents = packed.buffers()
        a, b = lo * 8, hi * 8
        self._key.frombytes(key[a:b])
        self._t.frombytes(t[a:b])
        self._cents.frombytes(cents[a:b])

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


class Packed:
    """Ledger entries prepared once (numpy columns) and appended a slice at a time."""

    __slots__ = ("t", "key", "cents", "_buffers", "_cells")

    def __init__(self, t, key, cents):
        self.t = np.ascontiguousarray(t, np.float64)
        self.key = np.ascontiguousarray(key, np.int64)
        self.cents = np.ascontiguousarray(cents, np.int64)
        self._buffers = self._cells = None

    def buffers(self) -> tuple[memoryview, memoryview, memoryview]:
        """The columns as raw buffers (what :class:`Ledger` stores)."""
        if self._buffers is None:
            self._buffers = tuple(memoryview(a).cast("B") for a in (self.t, self.key, self.cents))
        return self._buffers

    def payer_cells(self) -> tuple[np.ndarray, np.ndarray]:
        """Each entry's payer cell and payee cell (party x category, as :class:`LedgerTotals` counts)."""
        n_c = len(CATEGORIES)
        cat = self.key & 0xFF
        return ((self.key >> 12) & 0xF) * n_c + cat, ((self.key >> 8) & 0xF) * n_c + cat

    def cells(self) -> tuple[list[int], list[int], list[int]]:
        """:meth:`payer_cells` and the cents, as lists."""
        if self._cells is None:
            payer, payee = self.payer_cells()
            self._cells = payer.tolist(), payee.tolist(), self.cents.tolist()
        return self._cells


class LedgerTotals:
    """A ledger that keeps only what each party paid and received per category, not the entries.

    :meth:`net_cents` and :meth:`cost` equal :class:`Ledger`'s for the same bookings (tests/
    test_vectorised.py); :meth:`columns` and :meth:`to_frame` are not available. Comparisons and
    sweeps read only the totals, so their runs keep these: memory no longer grows with the horizon.
    """

    __slots__ = ("_net", "_n")

    def __init__(self) -> None:
        self._net = [0] * (len(PARTIES) * len(CATEGORIES))  # cents paid out minus received (exact integers)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def book(self, t: float, order: int, payer: int, payee: int, category: int, amount: float) -> int:
        """:meth:`Ledger.book`, counted into the totals."""
        cents = round(amount * 100)
        if not cents:
            return 0
        net = self._net  # a negative amount is the same entry the other way round: the same net cents
        net[payer * _N_CAT + category] += cents
        net[payee * _N_CAT + category] -= cents
        self._n += 1
        return cents if cents > 0 else -cents

    def extend(self, t, order, payer, payee, category, cents) -> None:
        """:meth:`Ledger.extend`, counted into the totals."""
        n = len(np.atleast_1d(np.asarray(cents)))
        key = Ledger.keys(np.zeros(n, np.int64), payer, payee, category)
        self.extend_packed(Packed(np.zeros(n), key, np.broadcast_to(np.asarray(cents, np.int64), (n,))), 0, n)

    def extend_packed(self, packed: Packed, lo: int, hi: int, sign: int = 1) -> None:
        """:meth:`Ledger.extend_packed`, counted into the totals (``sign`` -1 takes them back out)."""
        if hi - lo > 64:  # many entries: sum them per cell with numpy (exact integers)
            payer, payee = packed.payer_cells()
            out = np.zeros(len(self._net), dtype=np.int64)
            np.add.at(out, payer[lo:hi], packed.cents[lo:hi])
            np.subtract.at(out, payee[lo:hi], packed.cents[lo:hi])
            net = self._net
            for i in np.flatnonzero(out).tolist():
                net[i] += sign * int(out[i])
        else:
            payer, payee, cents = packed.cells()
            net = self._net
            for i in range(lo, hi):
                c = sign * cents[i]
                net[payer[i]] += c
                net[payee[i]] -= c
        self._n += sign * (hi - lo)

    def net_cents(self) -> np.ndarray:
        """(party, category) matrix of cents paid out minus cents received (exact integers)."""
        return np.array(self._net, dtype=np.int64).reshape(len(PARTIES), len(CATEGORIES))

    def cost(self, party: str) -> dict[str, float]:
        """Dollars of net cost to ``party`` per category (non-zero categories only)."""
        row = self.net_cents()[PARTIES.index(party)]
        return {c: row[i] / 100 for i, c in enumerate(CATEGORIES) if row[i]}

    def columns(self):
        raise TypeError("this run kept ledger totals only (run_policies(..., entries=True) keeps the entries)")

    to_frame = columns


_N_CAT = len(CATEGORIES)
