"""The World: one replication's orders and their pre-drawn fates (the common random numbers).

Orders arrive as a Poisson process, day by day, with an optional Q4 peak. Every order gets its
price, fulfilment channel, tracking status and incident type from hashed uniforms keyed by
(replication, order id, stream) (:mod:`azsim.rng`); an order with an incident also carries a
row of decision uniforms, one per :class:`D` stream, that the flows read instead of drawing.
Uneventful orders are never materialised as objects: each block of days keeps per-day counts
and sums only, so memory grows with incidents, not with orders.

The world is generated lazily in blocks of :data:`BLOCK_DAYS` days and is a pure function of
(scenario, seed, replication): every policy run regenerates the identical blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri

from . import rng
from .scenario import Scenario

BLOCK_DAYS = 28
"""Days generated at once. Part of the random-number layout: changing it changes results."""

KINDS = (
    "lost_in_transit",
    "late_delivery",
    "damaged_in_transit",
    "not_as_described",
    "wrong_item",
    "remorse_return",
    "product_safety",
    "routine_question",
    "out_of_stock",
    "fraud_claim",
)
"""Incident types, in the order of their slots on the order's incident uniform.

Each type owns a fixed slot (:meth:`Scenario.incident_slots`); an order has the type if its
uniform falls in the first ``rate`` of the slot. Fraud comes last, so that a policy with a
larger fraud rate widens only its own slot."""

KIND_INDEX = {k: i for i, k in enumerate(KINDS)}
DELIVERY_PROBLEMS = frozenset({"lost_in_transit", "late_delivery", "damaged_in_transit"})


class D:
    """Decision streams: column numbers of ``Order.u``. Each is read by one decision only."""

    CONTACT = 0  # buyer contacts the seller before anything else
    CONTACT_DELAY = 1
    REPLY = 2  # seller answers this message at all
    HANDLE = 3  # desk handling time
    ESCALATE = 4  # unresolved buyer files an A-to-z claim
    CLAIM_DELAY = 5
    NEG_FB = 6
    CHARGEBACK = 7
    WITHDRAW = 8
    REFUND_ON_CLAIM = 9
    INFO_REQUEST = 10
    RESPOND = 11  # seller answers Amazon / a PD/PI claimant / a chargeback
    RESPONSE_DELAY = 12
    REVIEW = 13
    APPEAL = 14
    AUTHORISE = 15  # return authorised within 48 h
    AUTH_DELAY = 16
    REFUND_DELAY = 17
    RETURN_DELAY = 18
    TRANSIT = 19
    BUY_SHIPPING = 20
    LATE_DAYS = 21
    PDPI_CLAIM = 22  # harmed buyer claims (compared with the policy's propensity)
    PDPI_DELAY = 23
    HARM_DELAY = 24
    SCREEN = 25
    PROOF_DELAY = 26
    DISPUTE = 27  # a dispute or appeal succeeds
    SUSPECT = 28  # seller suspects fraud
    LITIGATE = 29
    JUDGEMENT = 30
    # 31 is reserved (unused): the fraud attempt of each policy is read from Order.pos
    AMOUNT = 32
    AMAZON_PAYS = 33
    RECOVERY = 34
    RETURN_FRAUD = 35
    LATE_QUESTION = 36
    CHARGEBACK_WIN = 37
    APPEAL_DELAY = 38
    NOTICE_DELAY = 39  # delivery to noticing a defect
    # 40-47: returns and refunds (late refunds, "returned but not refunded" claims)
    LATE_REFUND_CLAIM = 40
    REFUND_BUSINESS = 41
    # 42-45: time to compensation (delay distributions of the PD/PI paths)
    PAY_DELAY = 42  # Amazon's payment on a claim at or under its threshold
    SETTLE_DELAY = 43  # seller / insurer settlement
    JUDGE_DELAY = 44  # court judgement
    SELLER_PATH_DELAY = 45  # claims over the threshold: report to payment
    # 46-47: insurance
    INSURANCE_46 = 46
    INSURANCE_47 = 47
    N = 48


# order-level streams (all orders), beyond the decision columns
_S_KIND, _S_PRICE, _S_FBA, _S_TRACK, _S_CONFIRM = 50, 51, 52, 53, 54
_S_CATEGORY = 55  # which product category an order is in (valid-tracking restrictions hit some categories)


class Order:
    """One order with an incident, and everything random about it."""

    __slots__ = ("id", "t", "day", "kind", "price", "paid", "fee", "fba", "tracked", "confirm", "amount", "pos", "u",
                 "category_hit")

    def __init__(self, id, t, day, kind, price, paid, fee, fba, tracked, confirm, amount, pos, u, category_hit=False):
        self.id = id
        self.t = t  # order time, days from the start
        self.day = day
        self.kind = kind  # name from KINDS
        self.price = price  # item price
        self.paid = paid  # price + shipping charge: what a full refund returns
        self.fee = fee  # referral fee
        self.fba = fba
        self.tracked = tracked  # valid tracking uploaded (seller-fulfilled)
        self.confirm = confirm  # days from order to shipment confirmation
        self.amount = amount  # PD/PI harm or fraudulent claim amount (0 otherwise)
        self.pos = pos  # where the incident uniform fell inside its type's slot, in [0, rate)
        self.u = u  # list of decision uniforms, indexed by D
        # seller-fulfilled and in the categories a valid-tracking restriction stops (stream _S_CATEGORY)
        self.category_hit = category_hit

    def __repr__(self) -> str:
        return f"Order(id={self.id}, t={self.t:.3f}, kind={self.kind})"


@dataclass
class DayTotals:
    """Per-day totals of one part of a block's orders (a channel, or the restricted categories)."""

    orders: np.ndarray
    sales: np.ndarray
    margin: np.ndarray
    fees: np.ndarray
    shipped: np.ndarray
    late_confirm: np.ndarray
    tracked: np.ndarray
    quiet_neg_feedback: np.ndarray


_TOTAL_FIELDS = ("orders", "sales", "margin", "fees", "shipped", "late_confirm", "tracked", "quiet_neg_feedback")


@dataclass
class Block:
    """A block of days: per-day aggregates of all orders, and the incident orders in time order."""

    first_day: int
    orders: np.ndarray  # orders per day
    sales: np.ndarray  # sum of item prices + shipping charges per day
    margin: np.ndarray  # sum of seller profit per day (what a lost day would have earned)
    fees: np.ndarray  # sum of referral fees per day (Amazon's loss on a lost day)
    mfn: np.ndarray  # seller-fulfilled orders per day (the cancel-rate denominator)
    shipped: np.ndarray  # seller-fulfilled orders shipped from stock (out-of-stock orders excluded)
    late_confirm: np.ndarray  # ... of which confirmed after one day (late shipments)
    tracked: np.ndarray  # ... of which with valid tracking
    quiet_neg_feedback: np.ndarray  # negative feedback on orders without an incident
    incidents: list[list[Order]]  # per day, in time order; buyer-remorse returns excluded
    remorse: OrderArrays  # buyer-remorse returns (the commonest incident), as arrays
    # computes the totals of a part of the orders on first use (they are needed only on restricted days)
    part_totals: Callable[[str], DayTotals] | None = field(default=None, repr=False, compare=False)
    _parts: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def seller_fulfilled(self) -> DayTotals:
        """The same totals over seller-fulfilled orders only (an MFN deactivation stops these)."""
        return self._part("seller_fulfilled")

    @property
    def restricted_categories(self) -> DayTotals:
        """The same totals over the seller-fulfilled orders in the categories a valid-tracking
        restriction stops (``Order.category_hit``)."""
        return self._part("restricted_categories")

    def _part(self, name: str) -> DayTotals:
        if name not in self._parts:
            self._parts[name] = self.part_totals(name)
        return self._parts[name]


@dataclass
class OrderArrays:
    """Incident orders of one block as columns (the vectorised flows read these)."""

    first_day: int
    id: np.ndarray
    t: np.ndarray
    day: np.ndarray  # local day within the block
    kind: np.ndarray
    price: np.ndarray
    paid: np.ndarray
    fee: np.ndarray
    fba: np.ndarray
    tracked: np.ndarray
    confirm: np.ndarray
    amount: np.ndarray
    pos: np.ndarray
    u: np.ndarray  # (orders, D.N) decision uniforms
    category_hit: np.ndarray  # seller-fulfilled, in the categories a valid-tracking restriction stops

    def __len__(self) -> int:
        return len(self.id)

    def select(self, mask: np.ndarray) -> OrderArrays:
        return OrderArrays(self.first_day, *(getattr(self, f)[mask] for f in _ARRAY_FIELDS))

    def orders(self) -> list[Order]:
        """The same orders as :class:`Order` objects, in time order."""
        first = self.first_day
        cols = zip(
            self.id.tolist(), self.t.tolist(), self.day.tolist(), self.kind.tolist(), self.price.tolist(),
            self.paid.tolist(), self.fee.tolist(), self.fba.tolist(), self.tracked.tolist(),
            self.confirm.tolist(), self.amount.tolist(), self.pos.tolist(), self.u.tolist(),
            self.category_hit.tolist(), strict=True,
        )
        return [Order(oid, ti, first + ld, KINDS[k], pr, pa, fe, fb, tr, co, am, po, uu, ch)
                for oid, ti, ld, k, pr, pa, fe, fb, tr, co, am, po, uu, ch in cols]


_ARRAY_FIELDS = (
    "id", "t", "day", "kind", "price", "paid", "fee", "fba", "tracked", "confirm", "amount", "pos", "u", "category_hit",
)


def referral_fee(paid: np.ndarray, rate: float, minimum: float) -> np.ndarray:
    """Amazon's referral fee on the total sales price (item + shipping), with its minimum."""
    return np.maximum(paid * rate, minimum)


class World:
    """The pre-drawn world of one replication; iterate :meth:`blocks` to walk through it."""

    def __init__(self, scenario: Scenario, seed: int, replication: int, variant: int = 0):
        self.scenario = scenario
        self.seed = int(seed)
        self.replication = int(replication)
        self.seq = rng.replication_seed(seed, replication, variant)
        self.key = rng.replication_key(self.seq)
        self.account_key = rng.replication_key(self.seq, account=True)
        m = scenario.market
        days = np.arange(scenario.horizon_days)
        month = ((m.start_month - 1) + (days // (365.25 / 12)).astype(int)) % 12 + 1
        self.order_rate = np.where(month >= 10, m.orders_per_day * m.q4_peak_multiplier, m.orders_per_day)
        rates = scenario.incident_rates()
        slots = scenario.incident_slots()
        widths = np.array([slots[k] for k in KINDS])
        self.slot_end = np.cumsum(widths)
        self.slot_start = self.slot_end - widths
        self.kind_rate = np.array([rates[k] for k in KINDS])

    def blocks(self):
        """Yield the :class:`Block` of each run of :data:`BLOCK_DAYS` days, in order."""
        next_id = 0
        for b, first in enumerate(range(0, self.scenario.horizon_days, BLOCK_DAYS)):
            block = self._block(b, first, next_id)
            next_id += int(block.orders.sum())
            yield block

    def _block(self, b: int, first: int, first_id: int) -> Block:
        s, m = self.scenario, self.scenario.market
        last = min(first + BLOCK_DAYS, s.horizon_days)
        nd = last - first
        gen = rng.chunk_generator(self.seq, b)
        counts = gen.poisson(self.order_rate[first:last])
        n = int(counts.sum())
        local_day = np.repeat(np.arange(nd), counts)
        t = np.sort(local_day + gen.random(n)) + first  # sorted within each day; days stay apart
        ids = np.arange(first_id, first_id + n, dtype=np.uint64)
        key = self.key
        price = m.price.median * np.exp(m.price.sigma * ndtri(rng.uniforms(key, ids, _S_PRICE)))
        price = np.round(price, 2)
        paid = price + m.shipping_charge
        fee = referral_fee(paid, m.referral_fee_rate, m.referral_fee_min)
        if 0.0 < m.fba_share < 1.0:
            fba = rng.uniforms(key, ids, _S_FBA) < m.fba_share
        else:  # all one channel: no draw needed (the same result as drawing)
            fba = np.full(n, m.fba_share >= 1.0)
        mfn = ~fba
        tracked = mfn & (rng.uniforms(key, ids, _S_TRACK) < s.seller.tracking.upload_rate)
        confirm = -s.seller.tracking.upload_delay_days * np.log1p(-rng.uniforms(key, ids, _S_CONFIRM))
        late = mfn & (confirm > 1.0)
        u_kind = rng.uniforms(key, ids, _S_KIND)
        slot = np.minimum(np.searchsorted(self.slot_end, u_kind, side="right"), len(KINDS) - 1)
        pos = u_kind - self.slot_start[slot]
        kind = np.where(pos < self.kind_rate[slot], slot, len(KINDS))
        quiet = kind >= len(KINDS)
        # the same stream as an incident order's feedback, so that an order in the fraud slot that a
        # policy does not attempt is treated exactly like a quiet order (flows/orders.py, start)
        negfb = quiet & (rng.uniforms(key, ids, D.NEG_FB) < s.incidents.base_negative_feedback)
        # out-of-stock orders are cancelled or shipped late by the flow, which counts them
        from_stock = mfn & (kind != KIND_INDEX["out_of_stock"])
        late = from_stock & (confirm > 1.0)
        unit_cost = np.where(fba, m.fba_fee, m.shipping_cost)
        margin = paid - fee - price * m.cogs_share - unit_cost
        hit_share = s.account_health.valid_tracking.affected_share

        def category_hit(idx: np.ndarray) -> np.ndarray:
            """Orders ``idx`` are seller-fulfilled and in the categories a valid-tracking restriction
            stops: a fixed per-order uniform, so every policy and restriction sees the same orders there."""
            hit = mfn[idx]
            if 0.0 < hit_share < 1.0:
                hit = hit.copy()
                hit[hit] = rng.uniforms(key, ids[idx][hit], _S_CATEGORY) < hit_share
            elif hit_share <= 0.0:  # none (all: every seller-fulfilled order); no draw needed, the same result
                hit = np.zeros(len(hit), dtype=bool)
            return hit

        def totals(part: np.ndarray | None) -> DayTotals:
            """Per-day totals of the orders in ``part`` (None: all orders)."""
            if part is not None and not part.any():
                zero = np.zeros(nd)
                return DayTotals(*(zero for _ in _TOTAL_FIELDS))
            day = local_day if part is None else local_day[part]

            def count(mask: np.ndarray) -> np.ndarray:
                return np.bincount(day[mask], minlength=nd)

            def total(x: np.ndarray) -> np.ndarray:
                return np.bincount(day, weights=x if part is None else x[part], minlength=nd)

            def sub(mask: np.ndarray) -> np.ndarray:
                return mask if part is None else mask[part]

            return DayTotals(
                orders=counts if part is None else np.bincount(day, minlength=nd),
                sales=total(paid), margin=total(margin), fees=total(fee),
                shipped=count(sub(from_stock)), late_confirm=count(sub(late)),
                tracked=count(sub(tracked & from_stock)), quiet_neg_feedback=count(sub(negfb)),
            )

        whole = totals(None)

        def part_totals(name: str) -> DayTotals:
            if name == "seller_fulfilled":
                return whole if not fba.any() else totals(mfn)
            return totals(category_hit(np.arange(n)))

        block = Block(
            first_day=first,
            orders=counts,
            sales=whole.sales,
            margin=whole.margin,
            fees=whole.fees,
            mfn=np.bincount(local_day[mfn], minlength=nd),
            shipped=whole.shipped,
            late_confirm=whole.late_confirm,
            tracked=whole.tracked,
            quiet_neg_feedback=whole.quiet_neg_feedback,
            incidents=[[] for _ in range(nd)],
            remorse=None,  # set below
            part_totals=part_totals,
        )
        sel = np.flatnonzero(~quiet)
        u = rng.uniform_matrix(key, ids[sel], D.N)
        pd = s.incidents.pdpi_amount
        amount = np.round(pd.median * np.exp(pd.sigma * ndtri(u[:, D.AMOUNT])), 2)
        is_harm = (kind[sel] == KIND_INDEX["product_safety"]) | (kind[sel] == KIND_INDEX["fraud_claim"])
        incident = OrderArrays(
            first, ids[sel], t[sel], local_day[sel], kind[sel], price[sel], np.round(paid[sel], 2),
            np.round(fee[sel], 2), fba[sel], tracked[sel], confirm[sel], np.where(is_harm, amount, 0.0), pos[sel], u,
            category_hit(sel),
        )
        remorse = incident.kind == KIND_INDEX["remorse_return"]
        block.remorse = incident.select(remorse)
        per = block.incidents
        for o in incident.select(~remorse).orders():
            per[o.day - first].append(o)
        return block
