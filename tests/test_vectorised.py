"""The vectorised buyer-remorse returns equal the scalar reference flow, entry by entry."""

from __future__ import annotations

import numpy as np
import pytest

from azsim import scenario_from_dict
from azsim.simulate import run_policy


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"market": {"fba_share": 0.5}, "seller": {"returns": {"authorise_within_48h": 0.3, "refund_delay_days": 4}},
         "policies": {"old": {"auto_authorise_returns": False}, "new": {"auto_authorise_returns": False}}},
        {"policies": {"new": {"auto_grant_unauthorised_return": False, "auto_authorise_returns": False,
                              "refund_deadline_business_days": 0.5}}},
        # late refunds: many buyers claim "returned but not refunded" (the scalar path), and their
        # negative feedback costs sales (the conversion effect reads every feedback of both paths)
        {"buyers": {"late_refund_claim": 0.6}, "seller": {"returns": {"refund_delay_days": 3.0}},
         "market": {"start_weekday": 3, "feedback_effect": {"sales_loss_per_point": 0.02}},
         "incidents": {"base_negative_feedback": 0.02}},
        {"buyers": {"late_refund_claim": 1.0},
         "seller": {"returns": {"refund_delay_days": 2.0, "authorise_within_48h": 0.5}},
         "policies": {"old": {"auto_authorise_returns": False},
                      "new": {"auto_authorise_returns": False, "auto_grant_unauthorised_return": False,
                              "refund_deadline_business_days": 1.5}}},
        {"incidents": {"return_fraud_share": 0.5, "remorse_return": 0.3}, "account_health": {"odr": {"limit": 0.001}}},
        # seller-fulfilled and category restrictions: only some of a day's remorse returns are placed
        {"market": {"fba_share": 0.5}, "account_health": {
            "late_shipment": {"limit": 0.0, "min_events": 0, "consecutive_reviews": 1, "action_probability": 0.2},
            "valid_tracking": {"limit": 1.0, "consecutive_reviews": 1, "action_probability": 0.5}}},
        {"market": {"price": {"median": 0.5, "sigma": 3.0}}},  # free items: no referral fee to credit
        {"policies": {"new": {"auto_grant_unauthorised_return": False, "auto_authorise_returns": False}},
         "seller": {"returns": {"authorise_within_48h": 0}}},
    ],
)
def test_vectorised_remorse_returns_match_the_scalar_flow(overrides):
    s = scenario_from_dict({"horizon_days": 150, "market": {"orders_per_day": 40}, **overrides})
    for policy in s.policy_names:
        fast = run_policy(s, policy, 3, 0)
        slow = run_policy(s, policy, 3, 0, vectorised=False)
        assert (fast.ledger.net_cents() == slow.ledger.net_cents()).all()
        assert fast.counts == slow.counts
        assert fast.health == slow.health
        key = ["order", "category", "payer", "payee", "amount"]
        a = fast.ledger.to_frame().sort_values(key + ["t"]).reset_index(drop=True)
        b = slow.ledger.to_frame().sort_values(key + ["t"]).reset_index(drop=True)
        assert (a[key] == b[key]).all().all()
        assert np.allclose(a["t"], b["t"], rtol=0, atol=1e-9)
        if "late_refund_claim" in overrides.get("buyers", {}):
            assert fast.counts["late_refund_claims"] > 10  # the late-refund claim path was exercised
            assert fast.ledger.cost("seller").get("lost_profit_feedback", 0) > 0


# ---- the fast paths of issue 12: each against its scalar reference ------------------------------------
from azsim.practices import Practices  # noqa: E402
from azsim.simulate import FAST_PATHS, Run, run_policies  # noqa: E402
from azsim.world import World  # noqa: E402


def _run(s, policy, paths=True, world=None, seed=3):
    """The finished Run object (its reply times, claims and compensation lists in recorded order)."""
    r = Run(s, policy, world or World(s, seed, 0), paths)
    r.begin()
    r.env.run()
    return r


def _same_run(a, b) -> None:
    """Two runs recorded exactly the same things in exactly the same order (not only the same totals)."""
    ca, cb = a.ledger.columns(), b.ledger.columns()
    for k in ca:
        assert np.array_equal(ca[k], cb[k]), k
    assert a.counts == b.counts
    assert a.claims == b.claims
    assert a.resolution == b.resolution
    assert a.reply_hours == b.reply_hours
    assert a.health.series == b.health.series
    assert a.result().metrics == b.result().metrics or all(
        x == y or (x != x and y != y) for x, y in zip(a.result().metrics.values(), b.result().metrics.values(),
                                                      strict=True))


DESK_CASES = [
    {},
    # a busy desk: queues form, replies wait over weekends, some messages are never answered
    {"incidents": {"routine_question": 0.08}, "seller": {"messages": {"reply_rate": 0.8},
                                                         "support": {"handling_minutes": 45.0}}},
    {"incidents": {"routine_question": 0.1, "late_delivery": 0.05},
     "seller": {"support": {"staff": 3, "handling_minutes": 90.0, "open_hour": 8, "close_hour": 20,
                            "work_days_per_week": 6}}},
    {"seller": {"support": {"staff": 2, "work_days_per_week": 7, "open_hour": 0, "close_hour": 24}},
     "market": {"start_weekday": 5}},
    {"seller": {"support": {"handling_minutes": 0.0}}, "market": {"orders_per_day": 200}},
    # late parcels whose buyers all ask, replies either side of the deadline, parcels either side of the claim
    # date: a question about a parcel that arrives before a claim is possible, from a buyer who leaves no feedback
    # even after a slow reply, leads to nothing, and the queue desk books no event for its reply
    {"incidents": {"late_delivery": 0.15, "late_delivery_mean_days": 3.0},
     "buyers": {"late_question_rate": 1.0, "negative_feedback": {"resolved": 0.2, "slow_reply_factor": 2.5}},
     "seller": {"support": {"handling_minutes": 10.0, "work_days_per_week": 5}},
     "policies": {"new": {"message_reply_hours": 24.0}}},
]


@pytest.mark.parametrize("overrides", DESK_CASES)
def test_queue_desk_equals_one_simpy_process_per_message(overrides):
    """The desk served day by day (QueueDesk) books exactly what the SimPy resource does, in the same order."""
    s = scenario_from_dict({"horizon_days": 200, "market": {"orders_per_day": 60}, **overrides})
    for policy in s.policy_names:
        fast = _run(s, policy, {"desk"})
        slow = _run(s, policy, set())
        assert fast.counts["messages"] > 50
        _same_run(fast, slow)


@pytest.mark.parametrize("overrides", [
    {},
    # PD/PI claims (SimPy processes started by the day loop), insurance months, and account actions that stop
    # every channel for a while: the clock's waits and the processes' events interleave
    {"incidents": {"product_safety": 0.01}, "policies": {"new": {"fraud_attempt_rate": 0.01}},
     "account_health": {"odr": {"limit": 0.001, "consecutive_reviews": 1, "action_probability": 0.5}}},
])
def test_day_clock_equals_the_day_loop_as_a_simpy_process(overrides):
    """The day loop driven by one self-rescheduling event (_DayClock) books exactly what the SimPy process
    waiting on timeouts does, in the same order (every event keeps its place in the schedule)."""
    s = scenario_from_dict({"horizon_days": 250, "market": {"orders_per_day": 60}, **overrides})
    for policy in s.policy_names:
        fast, slow = _run(s, policy, {"clock"}), _run(s, policy, set())
        assert fast.env.now == slow.env.now > s.horizon_days
        _same_run(fast, slow)
        if overrides:
            assert fast.counts["suspensions"] > 0 and fast.claims


def test_every_fast_path_together_equals_every_reference_together():
    s = scenario_from_dict({"horizon_days": 300, "market": {"orders_per_day": 80, "fba_share": 0.3},
                            "incidents": {"routine_question": 0.05},
                            "buyers": {"late_refund_claim": 0.5}, "seller": {"returns": {"refund_delay_days": 3.0}}})
    assert set(FAST_PATHS) == {"remorse", "desk", "clock"}
    for policy in s.policy_names:
        fast, slow = run_policy(s, policy, 5, 0), run_policy(s, policy, 5, 0, vectorised=False)
        assert (fast.ledger.net_cents() == slow.ledger.net_cents()).all()
        assert fast.counts == slow.counts and fast.claims == slow.claims
    with pytest.raises(ValueError, match="unknown fast path"):
        run_policy(s, "old", 5, 0, vectorised={"dsek"})


@pytest.mark.parametrize("overrides", [
    {},
    # account actions stop channels on some days: the runs read the shared blocks' part totals
    {"market": {"fba_share": 0.5}, "account_health": {
        "late_shipment": {"limit": 0.0, "min_events": 0, "consecutive_reviews": 1, "action_probability": 0.3},
        "odr": {"limit": 0.001, "consecutive_reviews": 1, "action_probability": 0.5}}},
])
def test_policies_run_in_step_on_one_world_equal_separate_runs(overrides):
    s = scenario_from_dict({"horizon_days": 400, "market": {"orders_per_day": 50}, **overrides})
    together = run_policies(s, s.policy_names, 7, 1)
    for policy, result in zip(s.policy_names, together, strict=True):
        alone = run_policy(s, policy, 7, 1)  # its own world, generated afresh
        ca, cb = result.ledger.columns(), alone.ledger.columns()
        assert all(np.array_equal(ca[k], cb[k]) for k in ca)
        assert result.counts == alone.counts and result.claims == alone.claims
        assert result.health == alone.health and result.resolution == alone.resolution
    if overrides:
        assert sum(r.counts["suspensions"] for r in together) > 0


def _block_state(block) -> tuple:
    arrays = [block.orders, block.sales, block.margin, block.fees, block.mfn, block.shipped, block.late_confirm,
              block.tracked, block.quiet_neg_feedback]
    for part in (block.seller_fulfilled, block.restricted_categories):
        arrays += [getattr(part, f) for f in ("orders", "sales", "margin", "fees", "shipped", "late_confirm",
                                              "tracked", "quiet_neg_feedback")]
    r = block.remorse
    arrays += [r.id, r.t, r.day, r.kind, r.price, r.paid, r.fee, r.fba, r.tracked, r.confirm, r.amount, r.pos, r.u,
               r.category_hit]
    orders = [(o.id, o.t, o.day, o.kind, o.price, o.paid, o.fee, o.fba, o.tracked, o.confirm, o.amount, o.pos,
               list(o.u), o.category_hit) for day in block.incidents for o in day]
    return block.first_day, r.first_day, [a.tolist() for a in arrays], orders


@pytest.mark.parametrize("overrides", [
    {"horizon_days": 200},
    {"horizon_days": 365, "market": {"fba_share": 0.4, "q4_peak_multiplier": 2.0, "start_month": 9},
     "account_health": {"valid_tracking": {"affected_share": 0.3}}},
])
def test_blocks_generated_several_at_a_time_equal_blocks_generated_one_by_one(overrides):
    """World.blocks generates groups of blocks at once (GROUP_ORDERS); the blocks, and a run on them, are the
    same as one block at a time."""
    s = scenario_from_dict({"market": {"orders_per_day": 40}, **overrides})
    one, many = World(s, 2, 0, group_orders=1), World(s, 2, 0)
    assert one.group_blocks == 1 and many.group_blocks > 3
    a, b = list(one.blocks()), list(many.blocks())
    assert len(a) == len(b) == -(-s.horizon_days // 28)
    for x, y in zip(a, b, strict=True):
        assert _block_state(x) == _block_state(y)
    for policy in s.policy_names:
        _same_run(_run(s, policy, world=World(s, 2, 0, group_orders=1)), _run(s, policy, world=World(s, 2, 0)))


def test_running_window_sums_of_negative_feedback_equal_the_slices():
    """Practices.negative_share keeps running sums; they must equal the sums of the array slices the rule
    names, also when feedback is dated in the window already summed (a late item that arrived before the
    reply) and when the days asked jump or go back."""
    s = scenario_from_dict({"horizon_days": 400, "market": {"feedback_effect": {"window_days": 30}},
                            "account_health": {"feedback_delay_days": 2}})
    run = Run(s, "new", World(s, 1, 0))
    p = run.practices
    gen = np.random.default_rng(4)
    run.health.orders[:] = gen.integers(0, 80, len(run.health.orders))
    days = list(range(1, 200, 3)) + list(range(200, 300)) + [50, 51, 390, 10, 399]  # steps, single days, jumps
    for d in days:
        for _ in range(3):
            p.feedback_left(max(0.0, d + gen.uniform(-20, 10)))  # also inside the window already summed
        fe, lag = s.market.feedback_effect, p._lag
        lo = max(0, d - fe.window_days)
        negative = float(sum(p._negative[lo:d]))
        orders = float(run.health.orders[max(0, lo - lag):max(0, d - lag)].sum())
        expected = 0.0 if negative <= 0 else negative / max(negative, fe.feedback_rate * orders)
        assert p.negative_share(d) == expected, d
    assert isinstance(p, Practices)


def test_the_world_reads_nothing_from_the_scenario_but_its_inputs():
    """World.blocks reads only WorldInputs, so that equal inputs mean an equal world (shared_world's key)."""
    s = scenario_from_dict({"horizon_days": 120, "market": {"fba_share": 0.3},
                            "account_health": {"valid_tracking": {"affected_share": 0.5}}})
    blind = World(s, 4, 0)
    blind.scenario = None  # any read of the scenario while generating fails
    for x, y in zip(blind.blocks(), World(s, 4, 0).blocks(), strict=True):
        assert _block_state(x) == _block_state(y)


def test_comparisons_on_the_same_seeds_share_worlds_that_the_scenario_change_does_not_touch():
    from azsim.comparison import run_replication
    from azsim.world import clear_world_cache, shared_world

    clear_world_cache()
    s = scenario_from_dict({"horizon_days": 150, "market": {"orders_per_day": 30}})
    w = shared_world(s, 9, 1)
    same = s.with_overrides({"seller.support.staff": 2, "seller.insurance.carry": "never",
                             "policies.new.pdpi_claim_propensity": 0.9})
    other = s.with_overrides({"seller.tracking.upload_rate": 0.5})
    assert shared_world(same, 9, 1) is w
    assert shared_world(other, 9, 1) is not w and shared_world(s, 9, 2) is not w
    # a kept world gives the runs exactly what a fresh one does, on its first walk and on later ones
    fresh = run_replication(same, 9, 1)
    clear_world_cache()
    for _ in range(2):
        assert run_replication(same, 9, 1) == fresh
    big = scenario_from_dict({"horizon_days": 3650, "market": {"orders_per_day": 200}})
    assert shared_world(big, 9, 1) is not shared_world(big, 9, 1)  # too large to keep: generated as walked


@pytest.mark.parametrize("overrides", [
    {},
    {"market": {"fba_share": 0.4}, "buyers": {"late_refund_claim": 0.5}, "incidents": {"product_safety": 0.01},
     "account_health": {"odr": {"limit": 0.001, "consecutive_reviews": 1, "action_probability": 0.5}}},
])
def test_ledger_totals_equal_the_full_ledger(overrides):
    """Comparisons keep only the ledger's totals (LedgerTotals): every party's net cents per category, and
    every other record, equal those of the run that keeps each entry."""
    from azsim.ledger import LedgerTotals

    s = scenario_from_dict({"horizon_days": 300, "market": {"orders_per_day": 50}, **overrides})
    full = run_policies(s, s.policy_names, 8, 0)
    totals = run_policies(s, s.policy_names, 8, 0, entries=False)
    for a, b in zip(full, totals, strict=True):
        assert isinstance(b.ledger, LedgerTotals) and len(b.ledger) == len(a.ledger) > 1000
        assert np.array_equal(a.ledger.net_cents(), b.ledger.net_cents())
        assert a.ledger.cost("seller") == b.ledger.cost("seller")
        assert a.counts == b.counts and a.claims == b.claims and a.health == b.health
    with pytest.raises(TypeError, match="totals only"):
        totals[0].ledger.to_frame()


def test_ledger_totals_book_what_the_ledger_books_also_negative_and_zero_amounts():
    """LedgerTotals.book against Ledger.book on random bookings: amounts of both signs, sub-cent ones that round
    to nothing, half cents; the same net cents per party and category, the same count and return values."""
    from azsim.ledger import CATEGORIES, PARTIES, Ledger, LedgerTotals

    gen = np.random.default_rng(12)
    full, totals = Ledger(), LedgerTotals()
    for i in range(3000):
        payer, payee = (int(x) for x in gen.choice(len(PARTIES), 2, replace=False))
        category = int(gen.integers(len(CATEGORIES)))
        amount = float(gen.choice([gen.normal(0, 200), gen.uniform(-0.004, 0.004), 0.125, -0.005, 0.0]))
        assert full.book(float(i), i, payer, payee, category, amount) == \
            totals.book(float(i), i, payer, payee, category, amount) >= 0
    assert np.array_equal(full.net_cents(), totals.net_cents())
    assert len(full) == len(totals) < 3000  # entries that round to no cent are not kept
    assert (full.net_cents() < 0).any() and full.net_cents().sum() == 0


def test_the_world_cache_stays_within_its_budget_dropping_the_least_recently_used(monkeypatch):
    """Kept worlds never take more than the budget; the running total equals the kept worlds' sizes (it is no
    longer summed over every kept world at each insertion, which made thousands of short replications slow)."""
    from azsim import world as W

    W.clear_world_cache()
    s = scenario_from_dict({"horizon_days": 7, "market": {"orders_per_day": 60}})
    size = W.World(s, 1, 0).expected_orders * W._BYTES_PER_KEPT_ORDER
    monkeypatch.setattr(W, "WORLD_CACHE_MB", 40.5 * size / 2**20)  # room for 40 of these worlds
    for r in range(300):
        W.shared_world(s, 1, r)
        assert W._cache_bytes[0] == pytest.approx(sum(w._cache_bytes for w in W._cache.values()))
        assert W._cache_bytes[0] <= W.WORLD_CACHE_MB * 2**20
    assert [k[2] for k in W._cache] == list(range(260, 300))  # the 40 most recently used
    W.shared_world(s, 1, 260)  # a hit moves it to the end: the next insertion drops 261
    W.shared_world(s, 1, 300)
    kept = [k[2] for k in W._cache]
    assert kept[:2] == [262, 263] and kept[-2:] == [260, 300] and len(kept) == 40
    with W.keeping_worlds(2 * W.WORLD_CACHE_MB):  # the advisor's larger budget, then back
        for r in range(400, 470):
            W.shared_world(s, 1, r)
        assert len(W._cache) == 81  # room for 81 now
    assert len(W._cache) == 40 and W._cache_bytes[0] <= W.WORLD_CACHE_MB * 2**20
    W.clear_world_cache()
    assert W._cache_bytes[0] == 0.0 and not W._cache


def test_pool_workers_keep_worlds_with_the_budget_of_the_process_that_sends_the_replications(monkeypatch):
    """The advisor raises the budget for kept worlds in its own process (keeping_worlds); the replications it
    sends to pool workers carry that budget, and a worker takes it (and gives it back with the next task)."""
    from azsim import comparison as C
    from azsim import world as W

    class SpyExecutor:  # runs the tasks here, as a pool would there, and keeps them
        tasks: list = []

        def run(self, fn, tasks, died=None):
            for task in tasks:
                self.tasks.append(task)
                yield task, fn(task)

    s = scenario_from_dict({"horizon_days": 30, "market": {"orders_per_day": 20}})
    spy = SpyExecutor()
    before = W.WORLD_CACHE_MB
    monkeypatch.setattr(W, "WORLD_CACHE_MB", before)  # restored whatever happens below
    with W.keeping_worlds(4 * before):
        assert C.compare(s, 2, 5, executor=spy).replications == 2
        assert W.WORLD_CACHE_MB == 4 * before
    assert [t[4] for t in spy.tasks] == [4 * before] * 2 and W.WORLD_CACHE_MB == before
    C.compare(s, 1, 5, executor=spy)
    assert spy.tasks[-1][4] == before
    # in a worker: the task's budget becomes the process's, and a smaller one trims the kept worlds
    W.clear_world_cache()
    C._replication_task((s, 5, 0, True, 4 * before))
    assert W.WORLD_CACHE_MB == 4 * before and len(W._cache) == 1
    C._replication_task((s, 5, 1, True, 1e-6))
    assert W.WORLD_CACHE_MB == 1e-6 and not W._cache  # too small to keep anything
    W.use_world_cache_mb(before)
    W.clear_world_cache()
