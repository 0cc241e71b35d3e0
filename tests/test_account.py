"""Account health, metric by metric (azsim/account.py; docs/model.md section 3.10).

Each test breaches one metric for certain (action probability 1, no warning review) on a small
seller with FBA and seller-fulfilled orders, and checks what stops, for how long and what it
costs against the world's own per-day aggregates.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from conftest import SEED, deep_merge, entries
from conftest import make_scenario as _make_scenario

from azsim.account import ACCOUNT, CATEGORIES, METRICS, REASONS, SELLER_FULFILLED
from azsim.ledger import CATEGORIES as LEDGER_CATEGORIES
from azsim.scenario import AccountHealth
from azsim.simulate import Run
from azsim.world import World

DEFAULTS = AccountHealth()
DEFAULT_ACTIONS = {r: {"action_probability": getattr(DEFAULTS, r).action_probability} for r in REASONS}
"""The shipped action probabilities (make_scenario switches them off)."""
CERTAIN = {"action_probability": 1.0, "consecutive_reviews": 1}
GOOD_TRACKING = {"upload_rate": 0.995, "upload_delay_days": 0.1}
CODE = {None: 0, CATEGORIES: 1, SELLER_FULFILLED: 2, ACCOUNT: 3}


def make_scenario(extra: dict | None = None, **top):
    """conftest's quiet scenario, without the negative-feedback sales effect (azsim/practices.py), which
    books its own lost referral fees on trading days and would blur the per-day checks of lost sales."""
    return _make_scenario(deep_merge({"market": {"feedback_effect": {"sales_loss_per_point": 0.0}}}, extra or {}),
                          **top)


def run_keep(scenario, policy="new", seed=SEED, rep=0) -> Run:
    r = Run(scenario, policy, World(scenario, seed, rep))
    r.begin()
    r.env.run()
    return r


def world_days(scenario, seed=SEED, rep=0) -> dict[str, np.ndarray]:
    """Per-day aggregates of the world: all orders, seller-fulfilled ones (sf_*), restricted categories (cat_*)."""
    cols: dict[str, list] = {}
    for b in World(scenario, seed, rep).blocks():
        for prefix, part in (("", b), ("sf_", b.seller_fulfilled), ("cat_", b.restricted_categories)):
            for f in ("orders", "sales", "margin", "fees"):
                cols.setdefault(prefix + f, []).append(np.asarray(getattr(part, f), dtype=float))
        cols.setdefault("mfn", []).append(np.asarray(b.mfn, dtype=float))
    return {k: np.concatenate(v) for k, v in cols.items()}


def lost_by_day(r: Run, category: str, payer: str) -> np.ndarray:
    """Per-day dollars of ``category`` booked by ``payer`` to forgone on the account (order -1)."""
    df = entries(r, category, payer=payer, payee="forgone")
    df = df[df["order"] == -1]
    out = np.zeros(r.scenario.horizon_days)
    assert (df["t"] == df["t"].round()).all()
    np.add.at(out, df["t"].astype(int).to_numpy(), df["amount"].to_numpy())
    return out, df.groupby("t").size()


def check_books(r: Run, w: dict[str, np.ndarray]) -> np.ndarray:
    """What holds in every run; returns the per-day code of the broadest scope stopped."""
    acc, h = r.account, r.health
    n = r.scenario.horizon_days
    code = acc.stopped_on[:n].astype(int)
    lost = {0: 0.0 * w["orders"], 1: w["cat_orders"], 2: w["sf_orders"], 3: w["orders"]}
    margin = {0: 0.0 * w["margin"], 1: w["cat_margin"], 2: w["sf_margin"], 3: w["margin"]}
    fees = {0: 0.0 * w["fees"], 1: w["cat_fees"], 2: w["sf_fees"], 3: w["fees"]}
    pick = {k: np.choose(code, [v[0], v[1], v[2], v[3]]) for k, v in
            (("orders", lost), ("margin", margin), ("fees", fees))}
    # each stopped day is booked once, for the channels actually stopped that day
    profit, per_day = lost_by_day(r, "lost_profit", "seller")
    assert (per_day <= 1).all()
    np.testing.assert_allclose(profit, pick["margin"], atol=0.006)
    ref_fees, per_day = lost_by_day(r, "lost_referral_fees", "amazon")
    assert (per_day <= 1).all()
    np.testing.assert_allclose(ref_fees, pick["fees"], atol=0.006)
    # orders on a stopped channel are not placed: not in the health denominators, not in counts
    np.testing.assert_allclose(h.orders[:n], w["orders"] - pick["orders"])
    assert r.counts["orders"] == w["orders"].sum() - pick["orders"].sum()
    assert r.counts["orders_lost_to_suspension"] == pick["orders"].sum()
    mfn_placed = np.choose(code, [w["mfn"], w["mfn"] - w["cat_orders"], 0 * w["mfn"], 0 * w["mfn"]])
    np.testing.assert_allclose(h.mfn[:n], mfn_placed)
    for scope, k in CODE.items():
        if scope is not None:
            assert acc.days_stopped[scope] == (code == k).sum()
            assert acc.orders_lost[scope] == pick["orders"][code == k].sum()
    # every action stops its scope (or something broader) for its drawn number of days
    for d, reason, scope, days in acc.log:
        assert scope == getattr(r.scenario.account_health, reason).consequence
        assert (code[d:d + days] >= CODE[scope]).all()
        assert days >= 1
    # suspensions by reason: the counter, the log and the per-year metric agree
    by_reason = Counter(reason for _, reason, _, _ in acc.log)
    per_year = 365.0 / n
    m = acc.metrics(per_year)
    for reason in REASONS:
        assert r.counts[f"suspensions.{reason}"] == by_reason[reason]
        assert m[f"counts.suspensions_by_reason.{reason}"] == pytest.approx(by_reason[reason] * per_year)
    assert r.counts["suspensions"] == len(acc.log)
    assert m["suspended_days_by_channel.account"] == pytest.approx((code == 3).sum() * per_year)
    assert m["suspended_days_by_channel.any"] == pytest.approx((code > 0).sum() * per_year)
    # funds are held only for deactivations of the whole account
    assert len(acc.holds) == sum(scope == ACCOUNT for _, _, scope, _ in acc.log)
    # money is conserved: every category nets to zero over all parties
    assert (r.ledger.net_cents().sum(axis=0) == 0).all()
    return code


def remorse_placed(scenario, code: np.ndarray, seed=SEED, rep=0) -> int:
    """Remorse returns on orders that were placed: none on a stopped channel."""
    n = 0
    for b in World(scenario, seed, rep).blocks():
        a = b.remorse
        c = code[b.first_day + a.day]
        ok = (c == 0) | ((c == 1) & ~a.category_hit) | ((c == 2) & a.fba)
        n += int(ok.sum())
    return n


# ================================================================================================
# 1. A seller without incidents and with good practices is never stopped, at any size
# ================================================================================================
@pytest.mark.parametrize(("per_day", "fba_share"), [(1, 0.0), (3, 0.0), (5, 0.0), (10, 0.0), (50, 0.0), (500, 0.0),
                                                    (50, 0.9)])
def test_seller_without_incidents_is_never_stopped(per_day, fba_share):
    s = make_scenario(horizon_days=365, market={"orders_per_day": float(per_day), "fba_share": fba_share},
                      seller={"tracking": GOOD_TRACKING, "insurance": {"carry": "when_required"}},
                      account_health=DEFAULT_ACTIONS)
    for rep in range(3):
        r = run_keep(s, rep=rep)
        w = world_days(s, rep=rep)
        code = check_books(r, w)
        assert r.counts["suspensions"] == 0 and not code.any()
        assert r.counts["orders"] == w["orders"].sum()  # every order placed
        assert r.ledger.cost("seller").get("lost_profit", 0.0) == 0.0
        if per_day * (1 - fba_share) >= 10:
            # not vacuous: the seller-fulfilled metrics were enforced at reviews, with some untracked packages
            vtr = [row[4] for row in r.health.series if not math.isnan(row[4])]
            assert len(vtr) > 40 and min(vtr) < 1.0
            assert (r.health.shipped.sum() - r.health.tracked.sum()) > 0


def test_shipping_metrics_alone_never_stop_the_whole_account():
    """Late shipments, cancellations and missing tracking stop seller-fulfilled selling at most."""
    s = make_scenario(
        {"incidents": {"out_of_stock": 0.1}},
        horizon_days=300, market={"orders_per_day": 40.0, "fba_share": 0.5},
        seller={"tracking": {"upload_rate": 0.5, "upload_delay_days": 2.0}},
        account_health={"late_shipment": CERTAIN, "cancel": CERTAIN, "valid_tracking": CERTAIN},
    )
    r = run_keep(s)
    code = check_books(r, world_days(s))
    # (valid tracking cannot act while the broader seller-fulfilled deactivation runs)
    assert {"late_shipment", "cancel"} <= {reason for _, reason, _, _ in r.account.log}
    assert (code == 2).sum() > 100
    assert not (code == 3).any() and r.account.suspended_days == 0
    assert r.ledger.cost("seller").get("funds_held_cost", 0.0) == 0.0


# ================================================================================================
# 2. ODR: the whole account stops, FBA included
# ================================================================================================
def _odr_breach(**account_health):
    return make_scenario(
        {"incidents": {"lost_in_transit": 0.06, "remorse_return": 0.1}},
        horizon_days=200, market={"orders_per_day": 50.0, "fba_share": 0.5},
        buyers={"contact_seller_first": 0.0, "escalate_to_atoz": 1.0, "chargeback": 0.0},
        seller={"tracking": {"upload_rate": 1.0, "upload_delay_days": 0.01, "buy_shipping_share": 0.0},
                "claims": {"response_rate": 0.0}},
        account_health={"odr": {**CERTAIN, "reinstatement_days": 10.0}, **account_health},
        policies={"new": {"info_request_rate": 0.0, "review_grant_rate": {"item_not_received": 1.0}}},
    )


def test_odr_breach_deactivates_the_whole_account_fba_included():
    s = _odr_breach()
    r = run_keep(s)
    w = world_days(s)
    code = check_books(r, w)
    assert r.account.log and {(reason, scope) for _, reason, scope, _ in r.account.log} == {("odr", ACCOUNT)}
    off = code == 3
    assert off.sum() >= 10
    fba_orders = w["orders"] - w["sf_orders"]
    assert fba_orders[off].sum() > 100  # FBA orders were lost too ...
    assert (r.health.orders[:200][off] == 0).all()  # ... nothing was placed on those days
    lost = r.ledger.cost("seller")["lost_profit"]
    assert lost == pytest.approx(w["margin"][off].sum(), abs=0.01 * off.sum())
    assert lost > w["sf_margin"][off].sum() + 100  # more than the seller-fulfilled margin alone
    assert r.counts["incidents.remorse_return"] == remorse_placed(s, code)
    # the reviews that acted saw an ODR at or over the limit
    acted = {d for d, *_ in r.account.log}
    assert all(row[1] >= 0.01 for row in r.health.series if row[0] in acted)


def test_odr_acts_only_after_the_warning_reviews():
    """consecutive_reviews = 3: two reviews in a row warn; the third may act."""
    r1 = run_keep(_odr_breach())
    r3 = run_keep(_odr_breach(odr={**CERTAIN, "consecutive_reviews": 3, "reinstatement_days": 10.0}))
    first_breach = min(row[0] for row in r1.health.series if row[1] >= 0.01)
    assert r1.account.log[0][0] == first_breach
    review = r1.scenario.account_health.review_every_days
    assert r3.account.log[0][0] == first_breach + 2 * review


# ================================================================================================
# 3. Late shipment and cancellation: seller-fulfilled offers stop, FBA keeps selling
# ================================================================================================
def test_late_shipment_breach_stops_only_seller_fulfilled_orders():
    s = make_scenario(
        {"incidents": {"remorse_return": 0.1}},
        horizon_days=200, market={"orders_per_day": 50.0, "fba_share": 0.5},
        seller={"tracking": {"upload_rate": 1.0, "upload_delay_days": 2.0}},  # 61% shipped late
        account_health={"late_shipment": CERTAIN},
    )
    r = run_keep(s)
    w = world_days(s)
    code = check_books(r, w)
    assert {(reason, scope) for _, reason, scope, _ in r.account.log} == {("late_shipment", SELLER_FULFILLED)}
    off = code == 2
    assert off.sum() >= 10 and not (code == 3).any()
    fba_orders = w["orders"] - w["sf_orders"]
    np.testing.assert_allclose(r.health.orders[:200][off], fba_orders[off])  # FBA orders keep flowing
    assert fba_orders[off].sum() > 100
    assert (r.health.mfn[:200][off] == 0).all()
    # lost profit and fees are the seller-fulfilled margin and fees of those days only
    assert r.ledger.cost("seller")["lost_profit"] == pytest.approx(w["sf_margin"][off].sum(), abs=0.006 * off.sum())
    assert r.ledger.cost("amazon")["lost_referral_fees"] == pytest.approx(w["sf_fees"][off].sum(),
                                                                          abs=0.006 * off.sum())
    assert r.ledger.cost("seller")["lost_profit"] < w["margin"][off].sum() - 100
    # remorse returns of FBA orders placed on those days still happen; MFN ones were never sold
    assert r.counts["incidents.remorse_return"] == remorse_placed(s, code)
    assert r.ledger.cost("seller").get("funds_held_cost", 0.0) == 0.0


def test_cancel_breach_stops_only_seller_fulfilled_orders():
    s = make_scenario(
        {"incidents": {"out_of_stock": 0.1}},
        horizon_days=200, market={"orders_per_day": 50.0, "fba_share": 0.5},
        seller={"tracking": GOOD_TRACKING, "out_of_stock": {"handling": "cancel"}},
        account_health={"cancel": CERTAIN},
    )
    r = run_keep(s)
    w = world_days(s)
    code = check_books(r, w)
    assert {(reason, scope) for _, reason, scope, _ in r.account.log} == {("cancel", SELLER_FULFILLED)}
    assert (code == 2).sum() >= 10 and not (code == 3).any()
    # out-of-stock orders of stopped days were never sold, so never cancelled
    oos = 0
    for b in World(s, SEED, 0).blocks():
        for day in b.incidents:
            oos += sum(1 for o in day if o.kind == "out_of_stock" and not o.fba and code[o.day] == 0)
    assert r.counts["cancelled_orders"] == oos == r.health.cancelled.sum()
    assert all(row[3] >= 0.025 for row in r.health.series if row[0] in {d for d, *_ in r.account.log})


# ================================================================================================
# 4. Valid tracking: seller-fulfilled orders in the affected categories stop
# ================================================================================================
def test_valid_tracking_breach_stops_only_the_affected_categories():
    share = 0.3
    s = make_scenario(
        {"incidents": {"remorse_return": 0.1}},
        horizon_days=200, market={"orders_per_day": 60.0, "fba_share": 0.5},
        seller={"tracking": {"upload_rate": 0.5, "upload_delay_days": 0.1}},
        account_health={"valid_tracking": {**CERTAIN, "affected_share": share}},
    )
    r = run_keep(s)
    w = world_days(s)
    code = check_books(r, w)
    assert {(reason, scope) for _, reason, scope, _ in r.account.log} == {("valid_tracking", CATEGORIES)}
    off = code == 1
    assert off.sum() >= 20 and not (code >= 2).any()
    placed = r.health.orders[:200][off]
    np.testing.assert_allclose(placed, (w["orders"] - w["cat_orders"])[off])
    np.testing.assert_allclose(r.health.mfn[:200][off], (w["mfn"] - w["cat_orders"])[off])
    assert (r.health.mfn[:200][off] > 0).any()  # unaffected seller-fulfilled orders keep flowing
    lost, mfn = w["cat_orders"][off].sum(), w["mfn"][off].sum()
    assert abs(lost / mfn - share) < 4 * math.sqrt(share * (1 - share) / mfn)
    assert r.ledger.cost("seller")["lost_profit"] == pytest.approx(w["cat_margin"][off].sum(), abs=0.006 * off.sum())
    assert r.counts["incidents.remorse_return"] == remorse_placed(s, code)


def test_world_category_and_channel_totals_match_the_orders():
    """Block.seller_fulfilled / restricted_categories are the sums over those orders (every order an incident)."""
    s = make_scenario({"incidents": {"remorse_return": 1.0}}, horizon_days=60,
                      market={"orders_per_day": 40.0, "fba_share": 0.4},
                      account_health={"valid_tracking": {"affected_share": 0.3}})
    m = s.market
    hits = mfns = 0
    for b in World(s, SEED, 0).blocks():
        a = b.remorse
        assert len(a) == b.orders.sum()
        nd = len(b.orders)
        margin = a.paid - a.fee - a.price * m.cogs_share - np.where(a.fba, m.fba_fee, m.shipping_cost)
        assert not (a.category_hit & a.fba).any()
        for part, mask in ((b.seller_fulfilled, ~a.fba), (b.restricted_categories, a.category_hit)):
            np.testing.assert_array_equal(part.orders, np.bincount(a.day[mask], minlength=nd))
            # (the order arrays hold fees rounded to the cent; the day totals are not rounded)
            np.testing.assert_allclose(part.sales, np.bincount(a.day[mask], a.paid[mask], nd), atol=0.01)
            np.testing.assert_allclose(part.fees, np.bincount(a.day[mask], a.fee[mask], nd), atol=0.3)
            np.testing.assert_allclose(part.margin, np.bincount(a.day[mask], margin[mask], nd), atol=0.3)
            np.testing.assert_array_equal(part.tracked, np.bincount(a.day[mask & a.tracked], minlength=nd))
        hits += a.category_hit.sum()
        mfns += (~a.fba).sum()
    assert abs(hits / mfns - 0.3) < 0.03
    # common random numbers: a larger share adds orders to the restricted categories, never moves them
    s2 = s.with_overrides({"account_health.valid_tracking.affected_share": 0.5})
    for b1, b2 in zip(World(s, SEED, 0).blocks(), World(s2, SEED, 0).blocks(), strict=True):
        assert (b1.remorse.category_hit <= b2.remorse.category_hit).all()


# ================================================================================================
# 5. Reinstatement time, metric by metric; overlapping actions
# ================================================================================================
BREACH = {  # scenario pieces that breach exactly one metric on every review
    "odr": {"incidents": {"base_negative_feedback": 0.05}},
    "late_shipment": {"seller": {"tracking": {"upload_rate": 1.0, "upload_delay_days": 2.0}}},
    "cancel": {"incidents": {"out_of_stock": 0.1}, "seller": {"tracking": GOOD_TRACKING}},
    "valid_tracking": {"seller": {"tracking": {"upload_rate": 0.5, "upload_delay_days": 0.1}}},
}
MEANS = {"odr": 30.0, "late_shipment": 3.0, "cancel": 10.0, "valid_tracking": 20.0}


@pytest.mark.parametrize("metric", METRICS)
def test_reinstatement_time_is_the_metrics_own(metric):
    mean = MEANS[metric]
    s = make_scenario(BREACH[metric], horizon_days=2000, market={"orders_per_day": 40.0, "fba_share": 0.3},
                      account_health={metric: {**CERTAIN, "reinstatement_days": mean}})
    r = run_keep(s)
    check_books(r, world_days(s))
    days = np.array([d for _, reason, _, d in r.account.log if reason == metric])
    assert len(days) >= 30 and {reason for _, reason, _, _ in r.account.log} == {metric}
    expected = 1.0 / (1.0 - math.exp(-1.0 / mean))  # mean of ceil(Exp(mean)), at least 1 day
    sd = math.sqrt(math.exp(-1.0 / mean)) * expected
    assert abs(days.mean() - expected) < 4 * sd / math.sqrt(len(days))


def test_overlapping_restrictions_book_each_day_once():
    """MFN deactivated for late shipments while an ODR account deactivation starts and ends."""
    s = make_scenario(
        {"incidents": {"base_negative_feedback": 0.05, "remorse_return": 0.1}},
        horizon_days=700, market={"orders_per_day": 40.0, "fba_share": 0.5},
        seller={"tracking": {"upload_rate": 1.0, "upload_delay_days": 2.0}},
        account_health={"odr": {**CERTAIN, "action_probability": 0.3, "reinstatement_days": 8.0},
                        "late_shipment": {**CERTAIN, "action_probability": 0.5, "reinstatement_days": 30.0}},
    )
    r = run_keep(s)
    code = check_books(r, world_days(s))
    log = r.account.log
    overlaps = [(da, ds) for da, ra, _, la in log if ra == "odr" for ds, rs, _, ls in log
                if rs == "late_shipment" and ds < da < ds + ls]
    assert overlaps  # not vacuous
    # after such an account deactivation ends, the seller-fulfilled deactivation still runs
    da, ds = overlaps[0]
    la = next(x for d, rr, _, x in log if d == da and rr == "odr")
    ls = next(x for d, rr, _, x in log if d == ds and rr == "late_shipment")
    assert (code[da:da + la] == 3).all()
    if da + la < ds + ls:
        assert code[da + la] == 2
    assert r.counts["incidents.remorse_return"] == remorse_placed(s, code)
    # no action starts on what is already stopped: no late-shipment action during an account one
    for d, reason, _, _ in log:
        if reason == "late_shipment":
            assert not any(d2 < d < d2 + l2 for d2, r2, _, l2 in log if r2 == "odr")


# ================================================================================================
# 6. Funds held while the whole account is deactivated
# ================================================================================================
def test_funds_held_cost_is_balance_times_rate_times_days():
    # every order: $30 item, $4.50 referral fee, $4.50 FBA fee -> $21 of net proceeds
    s = make_scenario(
        horizon_days=200,
        market={"orders_per_day": 20.0, "fba_share": 1.0, "price": {"median": 30.0, "sigma": 0.0},
                "shipping_charge": 0.0, "referral_fee_rate": 0.15, "fba_fee": 4.5},
        seller={"insurance": {"carry": "never"}},
        account_health={"insurance_missing": {"action_probability": 1.0, "reinstatement_days": 0.0},
                        "funds_held": {"balance_days": 14, "hold_after_days": 29.0, "cost_of_capital": 0.1}},
    )
    r = run_keep(s)
    w = world_days(s)
    code = check_books(r, w)
    log = r.account.log
    assert log and all(reason == "insurance_missing" and days == 1 for _, reason, _, days in log)
    booked = entries(r, "funds_held_cost", payer="seller", payee="forgone")
    assert len(booked) == len(log)
    for (d, _, _, _), (_, amount) in zip(log, booked[["t", "amount"]].itertuples(index=False), strict=True):
        placed = w["orders"][d - 14:d] * (code[d - 14:d] == 0)
        balance = 21.0 * placed.sum()
        assert amount == pytest.approx(balance * 0.1 * (1 + 29) / 365, abs=0.006)
    m = r.account.metrics(365 / 200)
    balances = [21.0 * (w["orders"][d - 14:d] * (code[d - 14:d] == 0)).sum() for d, *_ in log]
    assert m["funds_held.amount"] == pytest.approx(np.mean(balances))
    assert m["funds_held.days"] == 30.0
    assert m["funds_held.dollar_days"] == pytest.approx(sum(balances) * 30 * 365 / 200)
    assert r.ledger.cost("seller")["funds_held_cost"] == pytest.approx(sum(balances) * 0.1 * 30 / 365, abs=0.01)


def test_no_deactivation_no_funds_held():
    s = make_scenario(horizon_days=100, seller={"tracking": GOOD_TRACKING}, account_health=DEFAULT_ACTIONS)
    r = run_keep(s)
    m = r.account.metrics(365 / 100)
    assert math.isnan(m["funds_held.amount"]) and m["funds_held.dollar_days"] == 0.0
    assert "funds_held_cost" in LEDGER_CATEGORIES and r.ledger.cost("seller").get("funds_held_cost", 0.0) == 0.0
