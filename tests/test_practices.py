"""Seller practices: what they cost (azsim.practices), what negative feedback and cancellations
cost in lost sales, and the return rules a seller's refund speed meets (business-day deadline,
late-refund claims, automatic return authorisation). Each test checks a number against a hand
computation or a rule, so that it fails when the rule is broken."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import SEED, claims_of, deep_merge, entries, frame, make_scenario, run, world_orders

from azsim.flows.returns import refund_deadline
from azsim.practices import PRACTICE_COST_CATEGORIES, confirm_runs_per_day
from azsim.rng import exponential
from azsim.world import D, World


def _blocks(s):
    return list(World(s, SEED, 0).blocks())


def _total(res, category, payer="seller", payee=None) -> float:
    return float(entries(res, category, payer, payee)["amount"].sum())


def _seller_total(res) -> float:
    return float(sum(res.ledger.cost("seller").values()))


def _weekday(s, day: int) -> int:
    return (s.market.start_weekday + day) % 7


# ================================================================================================
# 1. Support staff are paid for their rostered hours, not per message
# ================================================================================================
def test_rostered_wages_are_staff_x_hours_x_work_days_x_wage_exactly():
    support = {"staff": 3, "open_hour": 8.0, "close_hour": 14.5, "work_days_per_week": 6, "wage_per_hour": 17.5}
    s = make_scenario(seller={"support": support}, market={"start_weekday": 2}, horizon_days=100)
    res = run(s)
    work_days = sum(1 for d in range(100) if (2 + d) % 7 < 6)
    assert work_days == 86  # 100 days from a Wednesday, Sundays off
    wages = entries(res, "support_wages", "seller", "staff")
    assert wages["amount"].sum() == pytest.approx(3 * 6.5 * work_days * 17.5, abs=1e-9)  # $29,347.50
    assert sorted(wages["t"]) == [30, 60, 90, 100]  # month ends, then the last part-month at the horizon
    assert res.metrics["practice_costs.support_wages"] == pytest.approx(3 * 6.5 * work_days * 17.5 * 365 / 100)


def test_answering_messages_books_no_minutes_and_does_not_change_the_wage_bill():
    quiet = make_scenario()
    busy = make_scenario({"incidents": {"routine_question": 0.2}})
    q, b = run(quiet), run(busy)
    assert b.counts["messages"] > 500
    assert entries(b, "staff_time").empty  # the desk's minutes are inside the rostered hours
    assert _total(b, "support_wages") == _total(q, "support_wages") > 0


def test_back_office_minutes_stay_paid_per_task():
    """Checking in a return is outside the support roster: its minutes x wage are still booked."""
    s = make_scenario({"incidents": {"remorse_return": 0.05}},
                      seller={"returns": {"handling_minutes": 6.0}, "support": {"wage_per_hour": 30.0}})
    res = run(s)
    n = res.counts["returns"]
    assert n > 100
    assert _total(res, "staff_time", "seller", "staff") == pytest.approx(n * 6.0 * 30.0 / 60, abs=0.01 * n)


# ================================================================================================
# 2. Packaging, listing, tracking work and Buy Shipping labels
# ================================================================================================
def test_practice_costs_equal_the_hand_computation():
    costs = {
        "packaging_per_order": {"at_level_0": 0.1, "at_level_1": 0.9},
        "listing_per_month": {"at_level_0": 60.0, "at_level_1": 360.0},
        "tracking_per_order": {"at_level_0": 0.02, "at_level_1": 0.12},
        "confirm_run_cost": 1.5,
        "max_confirm_runs_per_day": 12.0,
        "buy_shipping_extra_per_label": 0.3,
    }
    seller = {"packaging_quality": 0.6, "listing_accuracy": 0.7, "practice_costs": costs,
              "tracking": {"upload_rate": 0.9, "upload_delay_days": 0.2, "buy_shipping_share": 0.4}}
    s = make_scenario(seller=seller, market={"fba_share": 0.3}, horizon_days=100)
    res = run(s)
    blocks = _blocks(s)
    mfn = sum(int(b.mfn.sum()) for b in blocks)  # no incidents: every seller-fulfilled order ships
    fba = sum(int(b.orders.sum()) for b in blocks) - mfn
    assert mfn > 3000 and fba > 1000  # FBA orders cost no packaging, tracking or labels
    ship_days = sum(int(np.count_nonzero(b.mfn)) for b in blocks)
    assert ship_days == 100
    assert confirm_runs_per_day(0.2, 12.0) == pytest.approx(2.5)  # runs every 0.4 d leave orders 0.2 d on average
    expected = {
        "packaging": mfn * (0.1 + 0.6 * 0.8),
        "listing_work": 100 / 30 * (60.0 + 0.7 * 300.0),
        "tracking_work": mfn * (0.02 + 0.9 * 0.1) + ship_days * 2.5 * 1.5,
        "buy_shipping_labels": mfn * 0.3 * 0.4,
    }
    payee = {"packaging": "vendor", "listing_work": "vendor", "tracking_work": "vendor",
             "buy_shipping_labels": "carrier"}
    for cat, value in expected.items():
        # booked at 4 dates, each rounded to the cent
        assert _total(res, cat, "seller", payee[cat]) == pytest.approx(value, abs=0.02), cat
    m = res.metrics
    assert m["practice_costs.total"] == pytest.approx(sum(m[f"practice_costs.{c}"] for c in PRACTICE_COST_CATEGORIES))
    assert m["practice_costs.total"] == pytest.approx(
        sum(_total(res, c) for c in PRACTICE_COST_CATEGORIES) * 365 / 100, abs=1e-6)


def test_confirmation_runs_are_capped():
    assert confirm_runs_per_day(0.0, 12.0) == 12.0
    assert confirm_runs_per_day(0.01, 12.0) == 12.0
    assert confirm_runs_per_day(1.0, 12.0) == 0.5


def test_packaging_follows_the_orders_shipped_listing_work_the_calendar():
    """Packaging follows the orders shipped: the same seller with half the orders pays half."""
    full = run(make_scenario(market={"orders_per_day": 40.0}))
    half = run(make_scenario(market={"orders_per_day": 20.0}))
    ratio = _total(half, "packaging") / _total(full, "packaging")
    assert ratio == pytest.approx(0.5, abs=0.03)
    assert _total(half, "listing_work") == _total(full, "listing_work")  # per month, not per order


# ================================================================================================
# 3. Negative feedback lowers sales
# ================================================================================================
FEEDBACK = {"window_days": 10, "feedback_rate": 0.1, "sales_loss_per_point": 0.01, "max_sales_loss": 0.5}


def _feedback_scenario(rate: float):
    return make_scenario({"incidents": {"base_negative_feedback": rate}}, market={"feedback_effect": FEEDBACK},
                         account_health={"feedback_delay_days": 0.0})


def test_no_negative_feedback_no_lost_sales():
    res = run(_feedback_scenario(0.0))
    assert res.counts["negative_feedback"] == 0
    assert entries(res, "lost_profit_feedback").empty
    assert res.metrics["feedback.sales_loss_mean"] == 0.0


def test_more_negative_feedback_more_lost_sales():
    low, high = run(_feedback_scenario(0.002)), run(_feedback_scenario(0.01))
    assert 0 < high.counts["negative_feedback"] and low.counts["negative_feedback"] < high.counts["negative_feedback"]
    lost_low, lost_high = _total(low, "lost_profit_feedback"), _total(high, "lost_profit_feedback")
    assert 0 < lost_low < lost_high
    assert 0 < _total(low, "lost_referral_fees", "amazon") < _total(high, "lost_referral_fees", "amazon")
    assert low.metrics["feedback.orders_lost"] < high.metrics["feedback.orders_lost"]


def test_lost_sales_follow_the_trailing_negative_share_day_by_day():
    s = _feedback_scenario(0.01)
    res = run(s)
    blocks = _blocks(s)
    orders = np.concatenate([b.orders for b in blocks]).astype(float)
    margin = np.concatenate([b.margin for b in blocks])
    fees = np.concatenate([b.fees for b in blocks])
    negative = np.concatenate([b.quiet_neg_feedback for b in blocks]).astype(float)  # left at d + 0.5
    booked = entries(res, "lost_profit_feedback", "seller", "forgone").set_index("t")["amount"]
    booked_fees = entries(res, "lost_referral_fees", "amazon", "forgone").set_index("t")["amount"]
    checked = 0
    for d in range(s.horizon_days):
        lo = max(0, d - 10)
        neg = negative[lo:d].sum()
        share = neg / max(neg, 0.1 * orders[lo:d].sum()) if neg else 0.0
        loss = min(0.5, 0.01 * 100 * share)
        expect = round(loss * margin[d], 2)
        assert booked.get(float(d), 0.0) == pytest.approx(expect, abs=0.005), d
        assert booked_fees.get(float(d), 0.0) == pytest.approx(round(loss * fees[d], 2), abs=0.005), d
        checked += expect > 0
    assert checked > 80


# ================================================================================================
# 4. Out of stock: cancelling loses the sale, shipping late keeps it
# ================================================================================================
def _oos(handling: str, price: float, escalate: float, restock: float):
    return make_scenario(
        {"incidents": {"out_of_stock": 0.05}},
        market={"price": {"median": price, "sigma": 0.0}, "feedback_effect": {"sales_loss_per_point": 0.0}},
        buyers={"late_question_rate": 0.0, "escalate_to_atoz": escalate, "chargeback": 0.0},
        seller={"out_of_stock": {"handling": handling, "restock_days": restock}},
    )


def _order_costs(res, ids) -> float:
    """The seller's net cost booked on the given orders."""
    df = frame(res)
    mine = df[df["order"].isin(ids)]
    paid = mine.loc[mine["payer"] == "seller", "amount"].sum()
    return float(paid - mine.loc[mine["payee"] == "seller", "amount"].sum())


def _per_order_practice(s) -> float:
    pc, seller = s.seller.practice_costs, s.seller
    return (pc.packaging_per_order.at(seller.packaging_quality) + pc.tracking_per_order.at(seller.tracking.upload_rate)
            + pc.buy_shipping_extra_per_label * seller.tracking.buy_shipping_share)


def test_cancel_books_each_orders_margin_and_amazons_fee():
    s = _oos("cancel", 30.0, 0.0, 2.0)
    res = run(s)
    orders = world_orders(s)
    lost = entries(res, "lost_profit_cancelled", "seller", "forgone").groupby("order")["amount"].sum()
    fees = entries(res, "lost_referral_fees", "amazon", "forgone").groupby("order")["amount"].sum()
    assert len(lost) == res.counts["cancelled_orders"] > 100
    m = s.market
    for oid, amount in lost.items():
        o = orders[oid]
        assert amount == pytest.approx(round(o.paid - o.fee - o.price * m.cogs_share - m.shipping_cost, 2), abs=1e-9)
        assert amount == pytest.approx(30.0 - 4.5 - 12.0 - 5.0)  # $30 item: fee $4.50, goods $12, label $5
        assert fees[oid] == pytest.approx(o.fee)


@pytest.mark.parametrize(("price", "escalate", "restock", "cheaper"), [
    (60.0, 0.0, 2.0, "ship_late"),  # a good margin, and late parcels cost little: shipping late wins
    (12.0, 1.0, 30.0, "cancel"),  # a thin margin, and very late parcels turn into granted claims: cancel wins
])
def test_cancel_or_ship_late_comes_out_as_the_numbers_say(price, escalate, restock, cheaper):
    cancel = _oos("cancel", price, escalate, restock)
    late = _oos("ship_late", price, escalate, restock)
    rc, rl = run(cancel), run(late)
    oos = [oid for oid, o in world_orders(cancel).items() if o.kind == "out_of_stock"]
    assert len(oos) == rc.counts["cancelled_orders"] == rl.counts["incidents.out_of_stock"] > 100
    m = cancel.market
    margins = sum(o.paid - o.fee - o.price * m.cogs_share - m.shipping_cost
                  for oid, o in world_orders(cancel).items() if o.kind == "out_of_stock")
    late_costs = _order_costs(rl, oos)  # claims, refunds, ... of the late parcels
    # cancel - ship late = the lost margins - what the late parcels cost - the practice costs of shipping them
    expected = margins - late_costs - len(oos) * _per_order_practice(cancel)
    assert _seller_total(rc) - _seller_total(rl) == pytest.approx(expected, abs=0.5)
    assert (expected > 0) == (cheaper == "ship_late")


# ================================================================================================
# 5. Returns: refund within 2 business days; late refunds; automatic authorisation
# ================================================================================================
@pytest.mark.parametrize(("arrives", "weekday0", "business_days", "due"), [
    (4.3, 0, 2, 9.0),  # Friday -> Monday (1), Tuesday (2): due at the end of Tuesday
    (0.1, 0, 2, 3.0),  # Monday -> end of Wednesday
    (5.5, 0, 2, 9.0),  # Saturday -> end of Tuesday
    (3.9, 0, 2, 8.0),  # Thursday -> Friday, Monday: end of Monday
    (0.2, 4, 2, 5.0),  # day 0 a Friday: due at the end of day 4, a Tuesday
    (4.3, 0, 0.5, 7.5),  # Friday, half a business day: Monday noon
    (4.3, 0, 0, 5.0),  # no business day: the end of the arrival day
    (4.3, 0, 7, 16.0),  # Friday + 7 business days: the Tuesday after next
])
def test_refund_deadline_counts_business_days(arrives, weekday0, business_days, due):
    assert refund_deadline(arrives, business_days, weekday0) == due
    assert refund_deadline(np.array([arrives]), business_days, weekday0)[0] == due  # the vectorised twin


def _returns(late_claim: float, refund_delay: float, **extra):
    data = {"incidents": {"remorse_return": 0.05, "return_fraud_share": 0.0},
            "buyers": {"late_refund_claim": late_claim, "escalate_to_atoz": 0.0, "chargeback": 0.0},
            "seller": {"returns": {"refund_delay_days": refund_delay}}}
    return make_scenario(deep_merge(data, extra))


def _arrival(s, o) -> float:
    """Requested (auto-authorised at once) + transit, from the order's own uniforms."""
    b = s.buyers
    requested = o.t + s.market.delivery_days + exponential(o.u[D.RETURN_DELAY], b.return_request_days)
    return requested + exponential(o.u[D.TRANSIT], b.return_transit_days)


def _due_by_stepping(s, arrives: float, business_days: int) -> float:
    day, counted = math.floor(arrives), 0
    while counted < business_days:
        day += 1
        counted += _weekday(s, day) < 5
    return day + 1.0


def test_late_refunds_are_made_by_amazon_at_the_end_of_the_second_business_day():
    s = _returns(0.0, 1000.0, market={"start_weekday": 3})
    res = run(s)
    orders = world_orders(s)
    refunds = entries(res, "refund", "seller", "buyer")
    assert len(refunds) == res.counts["returns"] == res.counts["refunds_by_amazon_late"] > 100
    fridays = 0
    for _, e in refunds.iterrows():
        arrives = _arrival(s, orders[e["order"]])
        assert e["t"] == pytest.approx(_due_by_stepping(s, arrives, 2), abs=1e-9)
        if _weekday(s, math.floor(arrives)) == 4:  # a Friday arrival is due at the end of Tuesday
            fridays += 1
            assert _weekday(s, int(e["t"]) - 1) == 1 and e["t"] - math.floor(arrives) == 5
    assert fridays > 10
    assert claims_of(res) == []


def test_late_refund_buyers_file_return_issue_claims_that_are_odr_defects():
    s = _returns(0.5, 1000.0)
    res = run(s)
    claims = claims_of(res)
    n = res.counts["returns"]
    assert n > 200 and 0.4 * n < len(claims) < 0.6 * n
    assert len(claims) == res.counts["late_refund_claims"]
    grants = entries(res, "atoz_claim", "seller", "buyer").set_index("order")
    refunds = entries(res, "refund", "seller", "buyer")
    assert len(grants) + len(refunds) == n  # each buyer is refunded once: as a claim grant or a refund
    orders = world_orders(s)
    for c in claims:
        assert (c.reason, c.outcome) == ("return_issue", "granted_seller_funded")
        due = _due_by_stepping(s, _arrival(s, orders[c.order]), 2)
        assert c.filed == c.decided == pytest.approx(due, abs=1e-9)  # Amazon refunds at the deadline
        assert grants.loc[c.order, "t"] == pytest.approx(due, abs=1e-9)
        assert grants.loc[c.order, "amount"] == pytest.approx(orders[c.order].price)
    assert res.counts["odr_defects"] >= len(claims)
    assert len({c.order for c in claims} & set(refunds["order"])) == 0


def test_refunds_in_time_draw_no_claims():
    res = run(_returns(1.0, 0.01))
    assert res.counts["returns"] > 200
    assert res.counts["refunds_by_amazon_late"] == 0 and claims_of(res) == []


def test_faster_refunds_now_save_money():
    """A late refund can end in a claim and negative feedback, which costs sales: refunding fast pays."""
    extra = {"market": {"feedback_effect": {"sales_loss_per_point": 0.01}},
             "buyers": {"negative_feedback": {"resolved": 0.2}}}  # a claimant's chance: 0.2 x slow-reply factor 2
    slow, fast = run(_returns(0.5, 3.0, **extra)), run(_returns(0.5, 0.3, **extra))
    assert slow.counts["late_refund_claims"] > 5 * max(fast.counts["late_refund_claims"], 1)
    assert slow.counts["odr_defects"] > fast.counts["odr_defects"]
    saving = _seller_total(slow) - _seller_total(fast)
    assert saving > 100
    # the money refunded is the same either way: the saving is the sales negative feedback cost
    lost = _total(slow, "lost_profit_feedback") - _total(fast, "lost_profit_feedback")
    assert saving == pytest.approx(lost, abs=0.01)


def test_auto_authorised_returns_never_meet_the_48h_rule():
    def returns(auto: bool):
        return make_scenario(
            {"incidents": {"remorse_return": 0.05}},
            buyers={"escalate_to_atoz": 1.0, "late_refund_claim": 0.0},
            seller={"returns": {"authorise_within_48h": 0.0}},
            policies={"new": {"auto_authorise_returns": auto, "auto_grant_unauthorised_return": True}},
        )

    manual, auto = run(returns(False)), run(returns(True))
    assert manual.counts["returns_unauthorised_48h"] > 100
    assert {c.outcome for c in claims_of(manual)} == {"granted_seller_funded"}  # automatic grants
    assert auto.counts["returns"] == manual.counts["returns"]
    assert auto.counts["returns_unauthorised_48h"] == 0 and claims_of(auto) == []


def test_us_versions_authorise_returns_automatically_others_do_not():
    from azsim.policy import preset

    assert preset("us-2021-old").auto_authorise_returns and preset("us-2021-new").auto_authorise_returns
    for version in ("uk-2024", "eu-2024", "ca-2024"):
        assert not preset(version).auto_authorise_returns


def test_refund_deadline_scalar_path_is_bit_identical_to_the_array_path():
    import numpy as np

    from azsim.flows.returns import refund_deadline

    arrives = np.random.default_rng(1).random(5000) * 400
    for business_days in (0, 0.5, 1, 2, 2.5, 7.25):
        for weekday in range(7):
            vec = refund_deadline(arrives, business_days, weekday)
            one = np.array([refund_deadline(float(x), business_days, weekday) for x in arrives])
            assert np.array_equal(vec, one), (business_days, weekday)
