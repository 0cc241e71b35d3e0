"""One run: one policy on one pre-drawn world -> a ledger and event records.

The day loop is one SimPy process. Each day it (1) reviews account health on review days,
(2) settles the month (insurance requirement, premium) every 30 days, then (3) if the account
is active, takes the day's orders: uneventful orders only add to per-day counters, orders with
an incident go to :mod:`azsim.flows.orders`. Orders on a channel that account health has stopped
(the whole account, the seller-fulfilled offers, or those in restricted categories; see
:mod:`azsim.account`) are lost; their profit is booked as the seller's ``lost_profit``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import simpy

from .account import ACCOUNT, Account
from .books import MONTH_DAYS, Books, ClaimRecord, refund_admin_fee
from .flows import orders
from .flows.desk import Desk, reply_metrics
from .flows.returns import RemorseBatch
from .insurance import Cover
from .ledger import Ledger
from .practices import Practices
from .scenario import Scenario
from .world import World


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
    metrics: dict[str, float] = field(default_factory=dict)  # per-year module metrics (flat keys)


class Run(Books):
    """One policy run: the :class:`~azsim.books.Books` the flows write to, and the day loop."""

    def __init__(self, scenario: Scenario, policy_name: str, world: World, vectorised: bool = True):
        super().__init__(scenario, policy_name)
        self.vectorised = vectorised
        self.world = world
        self.env = simpy.Environment()
        n = scenario.horizon_days
        self.account = Account(self, world.account_key, n)
        self.health = self.account.health
        self.desk = Desk(self.env, scenario.seller.support, scenario.market.start_weekday)
        self._sales = np.zeros(n + 1)
        self.cover = Cover(self, self._sales)
        self.practices = Practices(self, n)

    # ---- the day loop -------------------------------------------------------------------------
    def days(self):
        env, h, s = self.env, self.health, self.scenario
        review_every = s.account_health.review_every_days
        delay = self._feedback_delay
        start = orders.start
        account = self.account
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
                    account.review(d)
                if d and d % MONTH_DAYS == 0:
                    self.cover.month_end(d)
                    account.month_end(d, self.cover.missing)
                    self.practices.month_end(d)
                stop = account.stopped(d)  # the broadest channel scope stopped today, if any
                if stop is not None:
                    account.lost_day(d, block, i, stop)
                    if stop == ACCOUNT:
                        continue
                n, self._sales[d], quiet_nf = account.open_day(d, block, i, stop)
                self.counts["orders"] += n
                self.practices.trading_day(d, block, i, stop)
                if quiet_nf:
                    self.counts["negative_feedback"] += quiet_nf
                    self.counts["odr_defects"] += quiet_nf
                    self.practices.feedback_left(d + 0.5 + delay, quiet_nf)
                    h.add_bulk_defects(d + 0.5 + delay, d, quiet_nf)
                if stop is not None:  # part of the channels stopped: only orders on the others are placed
                    sells = account.sells
                    for o in per_day[i]:
                        if sells(o, stop):
                            start(self, o)
                    if self.vectorised:
                        a = block.remorse
                        for o in a.select((a.day == i) & account.sells_mask(a, stop)).orders():
                            start(self, o)
                    else:
                        for o in remorse_orders[i]:
                            if sells(o, stop):
                                start(self, o)
                    continue
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
        self.cover.close(end)
        self.practices.close(end)


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
    per_year = 365.0 / scenario.horizon_days
    return RunResult(
        policy=policy_name,
        ledger=run.ledger,
        counts=run.counts,
        claims=run.claims,
        health=run.health.series,
        resolution=run.resolution,
        suspended_days=run.account.suspended_days,
        insured_days=run.cover.insured_days,
        extra={"insurance_required_from_day": run.cover.required_from},
        metrics={
            **run.account.metrics(per_year),
            **run.cover.metrics(per_year),
            **run.practices.metrics(per_year),
            **reply_metrics(run.reply_hours, run.counts["messages"]),
        },
    )


__all__ = ["Run", "RunResult", "ClaimRecord", "run_policy", "refund_admin_fee"]
