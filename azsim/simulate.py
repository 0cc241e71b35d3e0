"""One run: one policy on one pre-drawn world -> a ledger and event records.

The day loop runs in SimPy time (driven by :class:`_DayClock`, or as a SimPy process). Each day
it (1) reviews account health on review days, (2) settles the month (insurance requirement,
premium) every 30 days, then (3) if the account is active, takes the day's orders: uneventful
orders only add to per-day counters, orders with an incident go to :mod:`azsim.flows.orders`.
Orders on a channel that account health has stopped (the whole account, the seller-fulfilled
offers, or those in restricted categories; see :mod:`azsim.account`) are lost; their profit is
booked as the seller's ``lost_profit``."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import simpy

from .account import ACCOUNT, Account
from .books import MONTH_DAYS, Books, ClaimRecord, refund_admin_fee
from .flows import orders
from .flows.desk import Desk, QueueDesk, reply_metrics
from .flows.returns import RemorseBatch
from .insurance import Cover
from .ledger import Ledger, LedgerTotals
from .practices import Practices
from .scenario import Scenario
from .world import BLOCK_DAYS, World


@dataclass
class RunResult:
    """What one policy run on one world produced."""

    policy: str
    ledger: Ledger | LedgerTotals
    counts: Counter
    claims: list[ClaimRecord]
    health: list[tuple]  # (day, odr, late shipment rate, cancel rate, valid tracking rate, suspended)
    resolution: dict[str, list[float]]
    suspended_days: int
    insured_days: int
    extra: dict = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)  # per-year module metrics (flat keys)


FAST_PATHS = ("remorse", "desk", "clock")
"""The fast paths of a run, each with a scalar reference that gives the same results
(tests/test_vectorised.py): ``remorse`` computes buyer-remorse returns per group of blocks with numpy
(:class:`~azsim.flows.returns.RemorseBatch`; reference: one order at a time through the flows),
``desk`` serves buyer messages as a queue computed day by day (:class:`~azsim.flows.desk.QueueDesk`;
reference: one SimPy process and resource request per message), ``clock`` drives the day loop with one
self-rescheduling event (:class:`_DayClock`; reference: the loop as a SimPy process waiting on timeouts)."""


def fast_paths(vectorised: bool | Iterable[str]) -> frozenset[str]:
    """The fast paths a run uses: all (True), none (False: every scalar reference) or those named."""
    if vectorised is True:
        return frozenset(FAST_PATHS)
    if vectorised is False:
        return frozenset()
    names = frozenset(vectorised)
    unknown = names - set(FAST_PATHS)
    if unknown:
        raise ValueError(f"unknown fast path(s) {sorted(unknown)}; known: {', '.join(FAST_PATHS)}")
    return names


class Run(Books):
    """One policy run: the :class:`~azsim.books.Books` the flows write to, and the day loop."""

    def __init__(self, scenario: Scenario, policy_name: str, world: World, vectorised: bool | Iterable[str] = True,
                 blocks: Iterable | None = None, entries: bool = True):
        super().__init__(scenario, policy_name, entries)
        self._blocks = blocks  # the world's blocks, if shared with other runs (run_policies)
        self.fast = fast_paths(vectorised)
        self.vectorised = "remorse" in self.fast
        self.world = world
        self.env = simpy.Environment()
        n = scenario.horizon_days
        self.account = Account(self, world.account_key, n)
        self.health = self.account.health
        desk = QueueDesk if "desk" in self.fast else Desk
        self.desk = desk(self.env, scenario.seller.support, scenario.market.start_weekday)
        self._review_every = scenario.account_health.review_every_days
        self._sales = np.zeros(n + 1)
        self._sales_view = memoryview(self._sales)  # written a day at a time by the day loop
        self.cover = Cover(self, self._sales)
        self.practices = Practices(self, n)

    # ---- the day loop -------------------------------------------------------------------------
    def begin(self) -> None:
        """Start the day loop in the run's environment: driven by the day clock (fast path ``clock``) or
        as the SimPy process :meth:`days` (the reference); the same events happen in the same order."""
        if "clock" in self.fast:
            _DayClock(self.env, self._days())
        else:
            self.env.process(self.days())

    def days(self):
        """The day loop as a SimPy process: a timeout for each wait of :meth:`_days`."""
        timeout = self.env.timeout
        for delay in self._days():
            yield timeout(delay)

    def _days(self):
        """The day loop: yields how long to wait (days) before it goes on."""
        env = self.env
        flush = self.desk.flush
        group = batch = None
        for block in (self.world.blocks() if self._blocks is None else self._blocks):
            n_days = len(block.orders)
            if self.vectorised:  # the remorse returns of the blocks generated together, computed at once
                if block.group is not group:
                    group = block.group
                    batch = RemorseBatch(self, group.remorse, group.n_days)
                remorse = batch.day_view(block.first_day - group.first_day)
            else:
                remorse = [[] for _ in range(n_days)]
                for o in block.remorse.orders():
                    remorse[o.day - block.first_day].append(o)
            for i in range(n_days):
                d = block.first_day + i
                if env.now < d:
                    yield d - env.now
                self._day(d, block, i, remorse)
                flush(d + 1)  # the desk serves the messages that arrive today (all are known now)
        end = self.scenario.horizon_days
        if env.now < end:
            yield end - env.now
        self.cover.close(end)
        self.practices.close(end)
        flush(math.inf)
        self.desk.finish(self)

    def result(self) -> RunResult:
        """What the run produced (call once its environment has run to the end)."""
        per_year = 365.0 / self.scenario.horizon_days
        return RunResult(
            policy=self.policy_name,
            ledger=self.ledger,
            counts=self.counts,
            claims=self.claims,
            health=self.health.series,
            resolution=self.resolution,
            suspended_days=self.account.suspended_days,
            insured_days=self.cover.insured_days,
            extra={"insurance_required_from_day": self.cover.required_from},
            metrics={
                **self.account.metrics(per_year),
                **self.cover.metrics(per_year),
                **self.practices.metrics(per_year),
                **reply_metrics(self.reply_hours, self.counts["messages"]),
            },
        )

    def _day(self, d: int, block, i: int, remorse) -> None:
        """Day ``d`` (day ``i`` of ``block``): reviews, month end, then the day's orders.

        ``remorse`` is the block's :class:`RemorseBatch` (vectorised) or its remorse returns by
        local day (the scalar reference)."""
        h, account = self.health, self.account
        start = orders.start
        if d and d % self._review_every == 0:
            account.review(d)
        if d and d % MONTH_DAYS == 0:
            self.cover.month_end(d)
            account.month_end(d, self.cover.missing)
            self.practices.month_end(d)
        stop = account.stopped(d) if d < account.all_sell_from else None  # the broadest scope stopped today, if any
        if stop is not None:
            if self.vectorised:
                remorse.skip(self, i)  # the day's remorse returns are not booked in bulk
            account.lost_day(d, block, i, stop)
            if stop == ACCOUNT:
                return
        n, self._sales_view[d], quiet_nf = account.open_day(d, block, i, stop)
        self.counts["orders"] += n
        self.practices.trading_day(d, block, i, stop)
        if quiet_nf:
            delay = self._feedback_delay
            self.counts["negative_feedback"] += quiet_nf
            self.counts["odr_defects"] += quiet_nf
            self.practices.feedback_left(d + 0.5 + delay, quiet_nf)
            h.add_bulk_defects(d + 0.5 + delay, d, quiet_nf)
        per_day = block.incidents[i]
        if stop is not None:  # part of the channels stopped: only orders on the others are placed
            sells = account.sells
            for o in per_day:
                if sells(o, stop):
                    start(self, o)
            if self.vectorised:
                a = block.remorse
                for o in a.select((a.day == i) & account.sells_mask(a, stop)).orders():
                    start(self, o)
            else:
                for o in remorse[i]:
                    if sells(o, stop):
                        start(self, o)
            return
        for o in per_day:
            start(self, o)
        if self.vectorised:
            remorse.apply(self, i, d)
            for o in remorse.scalar[i]:
                start(self, o)
        else:
            for o in remorse[i]:
                start(self, o)


def run_policy(scenario: Scenario, policy_name: str, seed: int, replication: int,
               world: World | None = None, vectorised: bool | Iterable[str] = True) -> RunResult:
    """Simulate ``policy_name`` of ``scenario`` on replication ``replication`` of ``seed``.

    ``vectorised=False`` runs every scalar reference instead of the fast paths (buyer-remorse
    returns one order at a time, one SimPy process per buyer message; see :data:`FAST_PATHS`),
    which the fast ones are tested against; a collection of names selects some fast paths.
    Results are the same.
    """
    world = world or World(scenario, seed, replication)
    run = Run(scenario, policy_name, world, vectorised)
    run.begin()
    run.env.run()
    return run.result()


def run_policies(scenario: Scenario, policy_names: Iterable[str], seed: int, replication: int,
                 world: World | None = None, vectorised: bool | Iterable[str] = True,
                 entries: bool = True) -> list[RunResult]:
    """:func:`run_policy` for several policies on one world, generated once.

    The runs advance together, a block of days at a time (each its own SimPy environment, run up
    to the block's end in turn), so each block of the world is generated once and dropped once
    every run has taken it: memory stays that of one block, whatever the horizon. Each run's
    events happen in exactly the order they would alone: the results equal :func:`run_policy`'s.
    ``entries=False`` keeps only the ledger's totals (:class:`~azsim.ledger.LedgerTotals`), all a
    comparison reads.
    """
    names = list(policy_names)
    world = world or World(scenario, seed, replication)
    shared = SharedBlocks(world, len(names))
    runs = [Run(scenario, name, world, vectorised, blocks=shared.reader(), entries=entries) for name in names]
    for run in runs:
        run.begin()
    for end in range(BLOCK_DAYS, scenario.horizon_days, BLOCK_DAYS):
        for run in runs:
            run.env.run(until=end)
    results = []
    for k, run in enumerate(runs):
        run.env.run()
        results.append(run.result())
        runs[k] = None  # a finished run's working state can go (its result keeps what is reported)
    return results


class _DayClock(simpy.Event):
    """Drives the day loop without a SimPy process: an event that is its own callback, scheduled when the
    loop starts (urgent, as a process starts) and again for each wait the loop yields (as a timeout is), so
    every event keeps its place in the schedule; it steps the loop's generator when it fires."""

    def __init__(self, env: simpy.Environment, loop):
        self.env = env
        self._loop = loop
        self._value = None
        self._ok = True
        self.callbacks = [_tick]
        env.schedule(self, simpy.events.URGENT, 0)


def _tick(clock: _DayClock) -> None:
    delay = next(clock._loop, None)
    if delay is not None:
        clock.callbacks = [_tick]
        clock.env.schedule(clock, simpy.events.NORMAL, delay)


class SharedBlocks:
    """The blocks of one world for ``readers`` runs: each block is generated once, kept until every
    reader has taken it, then dropped (readers that keep in step hold one or two blocks)."""

    def __init__(self, world: World, readers: int):
        self._source = world.blocks()
        self._readers = readers
        self._kept: dict[int, list] = {}  # block number -> [block, readers still to take it]
        self._made = 0

    def reader(self):
        """An iterator over the blocks, in order, for one reader."""
        b = 0
        while True:
            entry = self._kept.get(b)
            if entry is None:
                if b != self._made:
                    raise RuntimeError("a reader asked for a block another reader has not reached")
                block = next(self._source, None)
                if block is None:
                    return
                self._made += 1
                entry = self._kept[b] = [block, self._readers]
            entry[1] -= 1
            if entry[1] == 0:
                del self._kept[b]
            yield entry[0]
            b += 1


__all__ = ["FAST_PATHS", "fast_paths", "Run", "RunResult", "ClaimRecord", "SharedBlocks", "run_policy", "run_policies",
           "refund_admin_fee"]
