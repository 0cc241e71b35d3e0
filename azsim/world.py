"""The World: one replication's orders and their pre-drawn fates (the common random numbers).

Orders arrive as a Poisson process, day by day, with an optional Q4 peak. Every order gets its
price, fulfilment channel, tracking status and incident type from hashed uniforms keyed by
(replication, order id, stream) (:mod:`azsim.rng`); an order with an incident also carries a
row of decision uniforms, one per :class:`D` stream, that the flows read instead of drawing.
Uneventful orders are never materialised as objects: each block of days keeps per-day counts
and sums only, so memory grows with incidents, not with orders.

The world is generated lazily in blocks of :data:`BLOCK_DAYS` days (several at a time, see
:data:`GROUP_ORDERS`) and is a pure function of (:class:`WorldInputs`, seed, replication): the
policies of a replication walk one world together (:func:`azsim.simulate.run_policies`), and
comparisons on the same seeds may reuse a kept one (:func:`shared_world`).
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri

from . import rng
from .scenario import Scenario

BLOCK_DAYS = 28
"""Days generated at once. Part of the random-number layout: changing it changes results."""

GROUP_ORDERS = 16_384
"""Blocks are generated several at a time, up to about this many expected orders (at least one
block), so that numpy's fixed cost per call is shared; the blocks are the same whatever the group
(not part of the random-number layout), and memory stays that of a few thousand orders."""

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
        self.u = u  # decision uniforms, indexed by D (a sequence of floats: a list, or a memoryview of a row)
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
_LIST_FIELDS = (*_TOTAL_FIELDS, "mfn")


@dataclass(frozen=True)
class DayLists:
    """A block's per-day totals as Python lists (values equal to the arrays': ints and floats)."""

    orders: list[int]
    sales: list[float]
    margin: list[float]
    fees: list[float]
    shipped: list[int]
    late_confirm: list[int]
    tracked: list[int]
    quiet_neg_feedback: list[int]
    mfn: list[int]


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
    _lists: DayLists | None = field(default=None, repr=False, compare=False)
    group: Group | None = field(default=None, repr=False, compare=False)  # the blocks generated with it

    @property
    def lists(self) -> DayLists:
        """The per-day totals as Python lists (the day loop reads one day at a time; built on first use)."""
        if self._lists is None:
            self._lists = DayLists(*(getattr(self, f).tolist() for f in _LIST_FIELDS))
        return self._lists

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
        """The same orders as :class:`Order` objects, in time order.

        Each order's decision uniforms are a row of :attr:`u` seen through a memoryview (indexing it
        gives the same Python floats as a list of the row would): no float object is made for the
        48 uniforms of an order, most of which no flow reads."""
        first = self.first_day
        n = len(self.id)
        flat = memoryview(np.ascontiguousarray(self.u, dtype=np.float64).reshape(-1))
        width = D.N
        rows = [flat[i:i + width] for i in range(0, n * width, width)]
        cols = zip(
            self.id.tolist(), self.t.tolist(), (self.day + first).tolist(), self.kind.tolist(), self.price.tolist(),
            self.paid.tolist(), self.fee.tolist(), self.fba.tolist(), self.tracked.tolist(),
            self.confirm.tolist(), self.amount.tolist(), self.pos.tolist(), rows,
            self.category_hit.tolist(), strict=True,
        )
        return [Order(oid, ti, day, KINDS[k], pr, pa, fe, fb, tr, co, am, po, uu, ch)
                for oid, ti, day, k, pr, pa, fe, fb, tr, co, am, po, uu, ch in cols]


_ARRAY_FIELDS = (
    "id", "t", "day", "kind", "price", "paid", "fee", "fba", "tracked", "confirm", "amount", "pos", "u", "category_hit",
)


def referral_fee(paid: np.ndarray, rate: float, minimum: float) -> np.ndarray:
    """Amazon's referral fee on the total sales price (item + shipping), with its minimum."""
    return np.maximum(paid * rate, minimum)


@dataclass(frozen=True)
class WorldInputs:
    """Every scenario value the world reads (and nothing else): two scenarios with equal inputs have
    the same world for a seed and replication, whatever else differs (policies' rules, the seller's
    support, returns or insurance practice, ...)."""

    horizon_days: int
    orders_per_day: float
    q4_peak_multiplier: float
    start_month: int
    price_median: float
    price_sigma: float
    shipping_charge: float
    referral_fee_rate: float
    referral_fee_min: float
    fba_share: float
    fba_fee: float
    shipping_cost: float
    cogs_share: float
    upload_rate: float
    upload_delay_days: float
    base_negative_feedback: float
    pdpi_median: float
    pdpi_sigma: float
    affected_share: float
    rates: tuple[float, ...]  # incident rate of each of KINDS
    slots: tuple[float, ...]  # width of each incident type's slot

    @classmethod
    def of(cls, scenario: Scenario) -> WorldInputs:
        m, tr, inc = scenario.market, scenario.seller.tracking, scenario.incidents
        rates, slots = scenario.incident_rates(), scenario.incident_slots()
        return cls(
            scenario.horizon_days, m.orders_per_day, m.q4_peak_multiplier, m.start_month, m.price.median,
            m.price.sigma, m.shipping_charge, m.referral_fee_rate, m.referral_fee_min, m.fba_share, m.fba_fee,
            m.shipping_cost, m.cogs_share, tr.upload_rate, tr.upload_delay_days, inc.base_negative_feedback,
            inc.pdpi_amount.median, inc.pdpi_amount.sigma, scenario.account_health.valid_tracking.affected_share,
            tuple(float(rates[k]) for k in KINDS), tuple(float(slots[k]) for k in KINDS),
        )


WORLD_CACHE_MB = 64.0
"""Memory for worlds kept by :func:`shared_world` across comparisons (least recently used go first); a
caller that runs many comparisons on the same seeds raises it for a while with :func:`keeping_worlds`."""
_BYTES_PER_KEPT_ORDER = 300.0  # a kept world's blocks, per order of its horizon (measured: about 275)
_cache: OrderedDict = OrderedDict()  # (inputs, seed, replication) -> World
_cache_bytes = [0.0]  # the sum of the kept worlds' sizes, kept as they come and go (not summed per insertion)
_cache_lock = threading.Lock()


def shared_world(scenario: Scenario, seed: int, replication: int) -> World:
    """The world of ``scenario``'s replication ``replication`` of ``seed``, reused across calls.

    Comparisons run one after another on the same seeds (the advisor's practices and insurance
    answer, a sensitivity analysis's design points) mostly differ in fields the world does not read;
    they then walk the same kept blocks instead of generating them again. A world is kept when it
    takes at most a quarter of :data:`WORLD_CACHE_MB`; larger ones are generated as they are walked,
    as :class:`World` does. Results are the same either way.
    """
    key = (WorldInputs.of(scenario), int(seed), int(replication))
    with _cache_lock:
        world = _cache.get(key)
        if world is not None:
            _cache.move_to_end(key)
            return world
    world = World(scenario, seed, replication)
    size = world.expected_orders * _BYTES_PER_KEPT_ORDER
    budget = WORLD_CACHE_MB * 2**20
    if size > budget / 4:
        return world
    world.keep_blocks()
    world._cache_bytes = size
    with _cache_lock:
        replaced = _cache.get(key)  # another thread generated the same world meanwhile
        if replaced is not None:
            _cache_bytes[0] -= replaced._cache_bytes
        _cache[key] = world
        _cache_bytes[0] += size
    _trim(budget)
    return world


def clear_world_cache() -> None:
    """Forget every kept world (frees its memory)."""
    with _cache_lock:
        _cache.clear()
        _cache_bytes[0] = 0.0


def _trim(budget_bytes: float) -> None:
    with _cache_lock:
        while _cache and _cache_bytes[0] > budget_bytes:
            _, old = _cache.popitem(last=False)
            _cache_bytes[0] -= old._cache_bytes
        if not _cache:
            _cache_bytes[0] = 0.0  # no rounding left over from many additions and subtractions


def use_world_cache_mb(mb: float) -> None:
    """Set this process's budget for kept worlds to ``mb`` MB (dropping the least recently used beyond it): a
    pool worker takes the budget of the process that sent it a replication (:func:`keeping_worlds` there),
    so that the advisor's comparisons share worlds in the workers too."""
    global WORLD_CACHE_MB
    mb = float(mb)
    if mb != WORLD_CACHE_MB:
        WORLD_CACHE_MB = mb
        _trim(mb * 2**20)


@contextlib.contextmanager
def keeping_worlds(mb: float):
    """Keep up to ``mb`` MB of worlds while the block runs (e.g. the advisor: every comparison on the same
    seeds); afterwards the cache shrinks back to :data:`WORLD_CACHE_MB`."""
    before = WORLD_CACHE_MB
    use_world_cache_mb(max(before, float(mb)))
    try:
        yield
    finally:
        use_world_cache_mb(before)


class World:
    """The pre-drawn world of one replication; iterate :meth:`blocks` to walk through it."""

    def __init__(self, scenario: Scenario, seed: int, replication: int, variant: int = 0,
                 group_orders: int = GROUP_ORDERS):
        self.scenario = scenario
        self.inputs = WorldInputs.of(scenario)  # everything the world reads from the scenario
        self.seed = int(seed)
        self.replication = int(replication)
        self.variant = int(variant)
        self.seq = rng.replication_seed(seed, replication, variant)
        self.key = rng.replication_key(self.seq)
        self.account_key = rng.replication_key(self.seq, account=True)
        w = self.inputs
        days = np.arange(w.horizon_days)
        month = ((w.start_month - 1) + (days // (365.25 / 12)).astype(int)) % 12 + 1
        self.order_rate = np.where(month >= 10, w.orders_per_day * w.q4_peak_multiplier, w.orders_per_day)
        widths = np.array(w.slots)
        self.slot_end = np.cumsum(widths)
        self.slot_start = self.slot_end - widths
        self.kind_rate = np.array(w.rates)
        per_block = float(self.order_rate.mean()) * BLOCK_DAYS
        self.group_blocks = max(1, int(group_orders // max(per_block, 1.0)))
        self.expected_orders = float(self.order_rate.sum())
        self._kept: list[Block] | None = None  # every block, once generated, when kept (see keep_blocks)
        self._keep = False
        self._filling = False

    def keep_blocks(self) -> World:
        """Keep the blocks once generated, so that later walks reuse them (:func:`shared_world`)."""
        self._keep = True
        return self

    def blocks(self):
        """Yield the :class:`Block` of each run of :data:`BLOCK_DAYS` days, in order.

        Blocks are generated :attr:`group_blocks` at a time (:data:`GROUP_ORDERS`); the blocks are
        the same whatever the group size (tests/test_world.py)."""
        if self._kept is not None:
            yield from self._kept
            return
        keep = self._keep and not self._filling  # one walk fills the kept list; others generate their own
        kept: list[Block] = []
        if keep:
            self._filling = True
        try:
            next_id = 0
            n_blocks = -(-self.inputs.horizon_days // BLOCK_DAYS)
            for b0 in range(0, n_blocks, self.group_blocks):
                group = self._group(b0, min(self.group_blocks, n_blocks - b0), next_id)
                next_id += group.n_orders
                if keep:
                    kept.extend(group.blocks)
                yield from group.blocks
                group.blocks = None  # the caller holds the blocks it still needs
            if keep:
                self._kept = kept
        finally:
            if keep:
                self._filling = False

    def _group(self, b0: int, nb: int, first_id: int) -> Group:
        """Blocks ``b0`` .. ``b0 + nb - 1``, generated together (every per-order draw is a pure function
        of the order's id; arrival counts and times come from each block's own generator)."""
        s = m = self.inputs  # never the scenario itself: the world is a function of its inputs (world_key)
        horizon = s.horizon_days
        g_first = b0 * BLOCK_DAYS
        g_last = min((b0 + nb) * BLOCK_DAYS, horizon)
        gd = g_last - g_first
        counts_parts, t_parts = [], []
        for b in range(b0, b0 + nb):
            first = b * BLOCK_DAYS
            nd = min(first + BLOCK_DAYS, horizon) - first
            gen = rng.chunk_generator(self.seq, b)
            c = gen.poisson(self.order_rate[first:first + nd])
            local_day = np.repeat(np.arange(nd), c)
            counts_parts.append(c)
            t_parts.append(np.sort(local_day + gen.random(int(c.sum()))) + first)  # sorted within each day
        counts = np.concatenate(counts_parts)  # per day of the group
        n = int(counts.sum())
        gday = np.repeat(np.arange(gd), counts)  # each order's day within the group
        t = np.concatenate(t_parts)
        ids = np.arange(first_id, first_id + n, dtype=np.uint64)
        key = self.key
        price = m.price_median * np.exp(m.price_sigma * ndtri(rng.uniforms(key, ids, _S_PRICE)))
        price = np.round(price, 2)
        paid = price + m.shipping_charge
        fee = referral_fee(paid, m.referral_fee_rate, m.referral_fee_min)
        if 0.0 < m.fba_share < 1.0:
            fba = rng.uniforms(key, ids, _S_FBA) < m.fba_share
        else:  # all one channel: no draw needed (the same result as drawing)
            fba = np.full(n, m.fba_share >= 1.0)
        mfn = ~fba
        tracked = mfn & (rng.uniforms(key, ids, _S_TRACK) < s.upload_rate)
        confirm = -s.upload_delay_days * np.log1p(-rng.uniforms(key, ids, _S_CONFIRM))
        u_kind = rng.uniforms(key, ids, _S_KIND)
        slot = np.minimum(np.searchsorted(self.slot_end, u_kind, side="right"), len(KINDS) - 1)
        pos = u_kind - self.slot_start[slot]
        kind = np.where(pos < self.kind_rate[slot], slot, len(KINDS))
        quiet = kind >= len(KINDS)
        # the same stream as an incident order's feedback, so that an order in the fraud slot that a
        # policy does not attempt is treated exactly like a quiet order (flows/orders.py, start)
        negfb = quiet & (rng.uniforms(key, ids, D.NEG_FB) < s.base_negative_feedback)
        # out-of-stock orders are cancelled or shipped late by the flow, which counts them
        from_stock = mfn & (kind != KIND_INDEX["out_of_stock"])
        late = from_stock & (confirm > 1.0)
        unit_cost = np.where(fba, m.fba_fee, m.shipping_cost)
        margin = paid - fee - price * m.cogs_share - unit_cost
        hit_share = s.affected_share

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

        def totals(lo: int, hi: int, off: int, nd: int, part: np.ndarray | None) -> DayTotals:
            """Per-day totals of the orders ``lo:hi`` (a block: its days ``off`` .. ``off + nd - 1`` of the
            group) in ``part`` (a mask over them; None: all of them)."""
            if part is not None and not part.any():
                zero = np.zeros(nd)
                return DayTotals(*(zero for _ in _TOTAL_FIELDS))
            day = gday[lo:hi] - off
            if part is not None:
                day = day[part]

            def sub(x: np.ndarray) -> np.ndarray:
                x = x[lo:hi]
                return x if part is None else x[part]

            def count(mask: np.ndarray) -> np.ndarray:
                return np.bincount(day[sub(mask)], minlength=nd)

            def total(x: np.ndarray) -> np.ndarray:
                return np.bincount(day, weights=sub(x), minlength=nd)

            return DayTotals(
                orders=counts[off:off + nd] if part is None else np.bincount(day, minlength=nd),
                sales=total(paid), margin=total(margin), fees=total(fee),
                shipped=count(from_stock), late_confirm=count(late),
                tracked=count(tracked & from_stock), quiet_neg_feedback=count(negfb),
            )

        def part_totals(lo: int, hi: int, off: int, nd: int, whole: DayTotals):
            def part(name: str) -> DayTotals:
                if name == "seller_fulfilled":
                    return whole if not fba[lo:hi].any() else totals(lo, hi, off, nd, mfn[lo:hi])
                return totals(lo, hi, off, nd, category_hit(np.arange(lo, hi)))
            return part

        # the group's incident orders: day numbers within the group, so o.day = g_first + day is absolute
        def incident_orders(sel: np.ndarray) -> OrderArrays:
            """The incident orders ``sel`` (indices into the group's orders, in time order) as columns."""
            u = rng.uniform_matrix(key, ids[sel], D.N)
            amount = np.round(s.pdpi_median * np.exp(s.pdpi_sigma * ndtri(u[:, D.AMOUNT])), 2)
            is_harm = (kind[sel] == KIND_INDEX["product_safety"]) | (kind[sel] == KIND_INDEX["fraud_claim"])
            return OrderArrays(
                g_first, ids[sel], t[sel], gday[sel], kind[sel], price[sel], np.round(paid[sel], 2),
                np.round(fee[sel], 2), fba[sel], tracked[sel], confirm[sel], np.where(is_harm, amount, 0.0), pos[sel],
                u, category_hit(sel),
            )

        # buyer-remorse returns (computed in bulk by the runs) and the other incident orders (one at a time)
        is_remorse = kind == KIND_INDEX["remorse_return"]
        remorse = incident_orders(np.flatnonzero(is_remorse))
        group = Group(g_first, gd, n, remorse, [])
        order_lo = np.concatenate(([0], np.cumsum([int(c.sum()) for c in counts_parts]))).tolist()
        remorse_lo = np.searchsorted(remorse.day, np.arange(0, gd + BLOCK_DAYS, BLOCK_DAYS)).tolist()
        mfn_days = np.bincount(gday[mfn], minlength=gd)
        for k in range(nb):
            off = k * BLOCK_DAYS
            nd = min(off + BLOCK_DAYS, gd) - off
            lo, hi = order_lo[k], order_lo[k + 1]
            whole = totals(lo, hi, off, nd, None)
            r0, r1 = remorse_lo[k], remorse_lo[k + 1]
            block_remorse = OrderArrays(g_first + off, *(
                (remorse.day[r0:r1] - off) if f == "day" else getattr(remorse, f)[r0:r1] for f in _ARRAY_FIELDS))
            group.blocks.append(Block(
                first_day=g_first + off,
                orders=whole.orders,
                sales=whole.sales,
                margin=whole.margin,
                fees=whole.fees,
                mfn=mfn_days[off:off + nd],
                shipped=whole.shipped,
                late_confirm=whole.late_confirm,
                tracked=whole.tracked,
                quiet_neg_feedback=whole.quiet_neg_feedback,
                incidents=[[] for _ in range(nd)],
                remorse=block_remorse,
                part_totals=part_totals(lo, hi, off, nd, whole),
                group=group,
            ))
        others = incident_orders(np.flatnonzero(~quiet & ~is_remorse))
        day_lists = [day for block in group.blocks for day in block.incidents]  # by day of the group
        for o, day in zip(others.orders(), others.day.tolist(), strict=True):
            day_lists[day].append(o)
        return group


@dataclass
class Group:
    """Blocks generated together (:meth:`World.blocks`): the vectorised remorse returns of a run are
    computed once per group (:class:`azsim.flows.returns.RemorseBatch`)."""

    first_day: int
    n_days: int
    n_orders: int
    remorse: OrderArrays  # the group's buyer-remorse returns; ``day`` counts from ``first_day``
    blocks: list[Block] | None
