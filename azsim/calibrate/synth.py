"""A simulated seller's reports: run a scenario with azsim's own world and simulation, record every
order, claim, chargeback, return and negative feedback, and write them as the reports Amazon
gives sellers (orders, seller-fulfilled and FBA returns, feedback, account health JSON, sales and
traffic JSON, financial events JSON, the V1 performance XML with reply times).

Deterministic for (scenario, seed). Orders with an incident are the simulation's own orders (the
same id, time, price, channel); uneventful orders exist in the simulation only as per-day counts,
so their time of day, price and channel are drawn here (seeded) from the scenario's distributions
and the day's seller-fulfilled count. :func:`simulate_events` is also what the calibration's fits
simulate (:mod:`azsim.calibrate.fit`), so a report and a fit count events the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from ..ledger import CAT
from ..scenario import Scenario
from ..simulate import Run
from ..world import KINDS, World

MARKETPLACE_OF = {"USD": "US", "GBP": "UK", "EUR": "DE", "CAD": "CA"}
"""The marketplace whose reports (feedback dates, marketplaceId) a simulated seller in this currency gets."""

__all__ = ["MARKETPLACE_OF", "SimEvents", "simulate_events", "performance_counts", "synth_reports", "ODR_LAG_DAYS",
           "ODR_DAYS"]

ODR_DAYS = 60
"""Days of orders the account health report's order defect rate covers."""
ODR_LAG_DAYS = 30
"""The ODR window ends this many days before the report (claims and feedback of its orders have arrived)."""
LSR_DAYS, CANCEL_DAYS, VTR_DAYS = 30, 7, 30

_RETURN_SHIPPING = CAT["return_shipping"]
_ODR_CLAIM = ("granted_seller_funded", "refunded_in_review")
REASON_CODES = {
    "remorse_return": ("CR-UNWANTED_ITEM", "UNWANTED_ITEM", "SELLABLE"),
    "damaged_in_transit": ("CR-DAMAGED_BY_CARRIER", "DAMAGED_BY_CARRIER", "CARRIER_DAMAGED"),
    "not_as_described": ("AMZ-PG-BAD-DESC", "NOT_AS_DESCRIBED", "DEFECTIVE"),
    "wrong_item": ("CR-SWITCHEROO", "SWITCHEROO", "SELLABLE"),
}


class _RecordingWorld(World):
    """The world, keeping what each block held (per-day counts and the incident orders)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.kept: list[dict] = []

    def blocks(self):
        first_id = 0
        for block in super().blocks():
            inc = [o for day in block.incidents for o in day]
            rem = block.remorse
            self.kept.append({
                "first_day": block.first_day, "first_id": first_id, "orders": block.orders.copy(),
                "mfn": block.mfn.copy(),
                "id": np.concatenate([np.array([o.id for o in inc], dtype=np.int64), rem.id.astype(np.int64)]),
                "t": np.concatenate([np.array([o.t for o in inc]), rem.t]),
                "price": np.concatenate([np.array([o.price for o in inc]), rem.price]),
                "paid": np.concatenate([np.array([o.paid for o in inc]), rem.paid]),
                "fba": np.concatenate([np.array([o.fba for o in inc], dtype=bool), rem.fba.astype(bool)]),
                "kind": np.concatenate([np.array([KINDS.index(o.kind) for o in inc], dtype=np.int64),
                                        rem.kind.astype(np.int64)]),
            })
            first_id += int(block.orders.sum())
            yield block


class _RecordingRun(Run):
    """A policy run that also records each negative feedback (order, time)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.neg_feedback: list[tuple[int, float]] = []  # (order id, time the feedback is left)
        self.bulk_feedback: list[tuple[int, float, int]] = []  # (order day, time, count) on uneventful orders
        bulk = self.health.add_bulk_defects

        def add_bulk(at, order_day, count, _bulk=bulk):
            self.bulk_feedback.append((int(order_day), float(at), int(count)))
            _bulk(at, order_day, count)

        self.health.add_bulk_defects = add_bulk

    def feedback(self, t, o, probability):
        if o.u[6] < probability:  # D.NEG_FB: the same draw Books.feedback makes
            self.neg_feedback.append((int(o.id), t + self._feedback_delay))
        super().feedback(t, o, probability)

    def quiet_feedback(self, o):
        if o.u[6] < self.scenario.incidents.base_negative_feedback:
            self.neg_feedback.append((int(o.id), o.day + 0.5 + self._feedback_delay))
        super().quiet_feedback(o)


@dataclass
class SimEvents:
    """Everything one simulated policy run did, order by order."""

    scenario: Scenario
    seed: int
    horizon: int
    orders: pd.DataFrame  # id, day, t, price, paid, fba, kind (-1: uneventful), cancelled
    claims: pd.DataFrame  # order, kind, reason, filed, decided, outcome
    returns: pd.DataFrame  # order, arrived
    feedback: pd.DataFrame  # order, t
    health: object  # the run's account-health counters (per-day orders, shipped, late, cancelled, tracked)
    reply_hours: np.ndarray
    messages: int


def simulate_events(scenario: Scenario, seed: int, policy: str | None = None, replication: int = 0) -> SimEvents:
    """Run ``policy`` (default: the scenario's first) on replication ``replication`` of ``seed`` and
    return its orders and events. Orders on a day the account (or its seller-fulfilled offers) was
    stopped are left out, as they were never placed."""
    policy = policy or scenario.policy_names[0]
    world = _RecordingWorld(scenario, seed, replication)
    run = _RecordingRun(scenario, policy, world)
    run.begin()
    run.env.run()
    rng = np.random.default_rng([int(seed) & (2**63 - 1), replication, 0x5EED])
    m = scenario.market
    parts = []
    for b in world.kept:
        counts = b["orders"].astype(np.int64)
        n = int(counts.sum())
        ids = b["first_id"] + np.arange(n, dtype=np.int64)
        local = np.repeat(np.arange(len(counts)), counts)
        inc_pos = b["id"] - b["first_id"]
        is_inc = np.zeros(n, dtype=bool)
        is_inc[inc_pos] = True
        t = local + rng.random(n) + b["first_day"]
        price = np.round(m.price.median * np.exp(m.price.sigma * rng.standard_normal(n)), 2)
        paid = price + m.shipping_charge
        kind = np.full(n, -1, dtype=np.int64)
        fba = np.zeros(n, dtype=bool)
        t[inc_pos], price[inc_pos], paid[inc_pos] = b["t"], b["price"], b["paid"]
        kind[inc_pos], fba[inc_pos] = b["kind"], b["fba"]
        # uneventful orders: the day's seller-fulfilled count among them, the rest FBA
        inc_mfn = np.bincount(local[inc_pos][~b["fba"]], minlength=len(counts))
        quiet_mfn = np.maximum(b["mfn"].astype(np.int64) - inc_mfn, 0)
        q = np.flatnonzero(~is_inc)
        order = q[np.lexsort((rng.random(len(q)), local[q]))]
        day_start = np.searchsorted(local[order], np.arange(len(counts)))
        rank = np.arange(len(order)) - day_start[local[order]]
        fba[order] = rank >= quiet_mfn[local[order]]
        parts.append(pd.DataFrame({"id": ids, "day": local + b["first_day"], "t": t, "price": price, "paid": paid,
                                   "fba": fba, "kind": kind}))
    orders = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["id", "day", "t", "price", "paid", "fba", "kind"])
    stopped = run.account.stopped_on[orders["day"].to_numpy()]
    placed = ~((stopped >= 3) | ((stopped == 2) & ~orders["fba"].to_numpy()))
    orders = orders[placed].reset_index(drop=True)
    oos = KINDS.index("out_of_stock")
    orders["cancelled"] = (orders["kind"] == oos) & ~orders["fba"] & (scenario.seller.out_of_stock.handling == "cancel")
    claims = pd.DataFrame([c.__dict__ for c in run.claims],
                          columns=["order", "kind", "reason", "filed", "decided", "outcome"])
    led = run.ledger.columns()
    ret = led["category"] == _RETURN_SHIPPING
    returns = pd.DataFrame({"order": led["order"][ret], "arrived": led["t"][ret]})
    fb = pd.DataFrame(run.neg_feedback, columns=["order", "t"])
    if run.bulk_feedback:  # negative feedback on uneventful orders: one of that day's uneventful orders each
        quiet = orders[orders["kind"] < 0]
        by_day = quiet.groupby("day")["id"].apply(np.asarray)
        rows = []
        for day, at, count in run.bulk_feedback:
            pool = by_day.get(day)
            if pool is None or not len(pool):
                continue
            for oid in rng.choice(pool, size=min(count, len(pool)), replace=False):
                rows.append((int(oid), at))
        fb = pd.concat([fb, pd.DataFrame(rows, columns=["order", "t"])], ignore_index=True)
    fb = fb.drop_duplicates("order")
    return SimEvents(scenario, int(seed), scenario.horizon_days, orders, claims, returns, fb, run.health,
                     np.asarray(run.reply_hours, dtype=float), int(run.counts["messages"]))


def performance_counts(ev: SimEvents, first_day: int, end_day: int, known_by: float | None = None) -> dict:
    """The account health report's order defect counts for orders placed on days [first_day, end_day),
    by channel, counting the events that happened by ``known_by`` (default: the horizon):
    ``{"mfn"|"afn": {"orders", "defects", "claims", "chargebacks", "negative_feedback"}}``."""
    known_by = ev.horizon if known_by is None else known_by
    o = ev.orders
    win = o[(o["day"] >= first_day) & (o["day"] < end_day)]
    fba = dict(zip(win["id"].to_numpy(), win["fba"].to_numpy(), strict=True))
    c = ev.claims
    odr_claims = set(c[(c["kind"] == "atoz") & c["outcome"].isin(_ODR_CLAIM) & (c["decided"] <= known_by)]["order"])
    cbs = set(c[(c["kind"] == "chargeback") & (c["outcome"] == "granted_seller_funded") & (c["filed"] <= known_by)]
              ["order"])
    nfs = set(ev.feedback[ev.feedback["t"] <= known_by]["order"])
    out = {}
    for ch, is_fba in (("mfn", False), ("afn", True)):
        ids = {i for i, f in fba.items() if bool(f) == is_fba}
        cl, cb, nf = odr_claims & ids, cbs & ids, nfs & ids
        out[ch] = {"orders": len(ids), "claims": len(cl), "chargebacks": len(cb), "negative_feedback": len(nf),
                   "defects": len(cl | cb | nf)}
    return out


# ---- writing the reports ----------------------------------------------------------------------------
def _oid(i) -> str:
    i = int(i)
    return f"113-{(i // 10_000_000) % 10_000_000:07d}-{i % 10_000_000:07d}"


def _stamp(start: datetime, t: float) -> str:
    return (start + timedelta(days=float(t))).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _day(start: datetime, t: float) -> datetime:
    return start + timedelta(days=int(np.floor(t)))


def _tsv(frame: pd.DataFrame) -> str:
    return frame.to_csv(sep="\t", index=False, lineterminator="\n")


def build_reports(ev: SimEvents, start: date | None = None) -> dict[str, str]:
    """The report files of a simulated seller: ``{file name: text}``."""
    s = ev.scenario
    m = s.market
    start = datetime.combine(start or date(2025, m.start_month, 1), datetime.min.time())
    cur = m.currency
    H = ev.horizon
    o = ev.orders
    files: dict[str, str] = {}
    oids = o["id"].map(_oid)
    files["orders.tsv"] = _tsv(pd.DataFrame({
        "amazon-order-id": oids, "merchant-order-id": "", "purchase-date": [_stamp(start, t) for t in o["t"]],
        "last-updated-date": [_stamp(start, t + 1) for t in o["t"]],
        "order-status": np.where(o["cancelled"], "Cancelled", "Shipped"),
        "fulfillment-channel": np.where(o["fba"], "Amazon", "Merchant"), "sales-channel": "Amazon.com",
        "ship-service-level": "Standard", "sku": "SKU-" + (o["id"] % 97).astype(str),
        "item-status": np.where(o["cancelled"], "Cancelled", "Shipped"), "quantity": 1, "currency": cur,
        "item-price": np.where(o["cancelled"], "", o["price"].map(lambda x: f"{x:.2f}")),
        "shipping-price": f"{m.shipping_charge:.2f}", "is-business-order": "false",
    }))
    info = o.set_index("id")
    atoz_orders = set(ev.claims[ev.claims["kind"] == "atoz"]["order"])
    r = ev.returns[(ev.returns["arrived"] <= H) & ev.returns["order"].isin(info.index)]
    rinfo = info.loc[r["order"].to_numpy()]
    kinds = [KINDS[k] if k >= 0 else "remorse_return" for k in rinfo["kind"]]
    codes = [REASON_CODES.get(k, REASON_CODES["remorse_return"]) for k in kinds]
    transit = s.buyers.return_transit_days
    mfn = ~rinfo["fba"].to_numpy()
    req = np.maximum(r["arrived"].to_numpy() - transit, rinfo["t"].to_numpy())
    files["returns_mfn.tsv"] = _tsv(pd.DataFrame({
        "Order ID": [_oid(i) for i in r["order"][mfn]],
        "Order date": [_day(start, t).strftime("%d-%b-%Y") for t in rinfo["t"][mfn]],
        "Return request date": [_day(start, t).strftime("%d-%b-%Y") for t in req[mfn]],
        "Return request status": "Approved",
        "A-to-Z Claim": ["Y" if i in atoz_orders else "N" for i in r["order"][mfn]],
        "Is prime": "N", "Merchant SKU": "SKU", "Return quantity": 1,
        "Return Reason": [c[0] for c, k in zip(codes, mfn, strict=True) if k], "In policy": "Y",
        "Return type": "C-Returns", "Resolution": "StandardRefund",
        "Order Amount": [f"{x:.2f}" for x in rinfo["paid"][mfn]], "Order quantity": 1,
        "Refunded Amount": [f"{x:.2f}" for x in rinfo["paid"][mfn]],
    }))
    fba = ~mfn
    if fba.any() or m.fba_share > 0:
        files["returns_fba.tsv"] = _tsv(pd.DataFrame({
            "return-date": [_stamp(start, t) for t in r["arrived"][fba]],
            "order-id": [_oid(i) for i in r["order"][fba]], "sku": "SKU", "asin": "B000000000",
            "fnsku": "X000000000", "product-name": "item", "quantity": 1, "fulfillment-center-id": "XYZ1",
            "detailed-disposition": [c[2] for c, k in zip(codes, fba, strict=True) if k],
            "reason": [c[1] for c, k in zip(codes, fba, strict=True) if k],
            "status": "Unit returned to inventory", "license-plate-number": "", "customer-comments": "",
        }))
    fb = ev.feedback[(ev.feedback["t"] <= H) & ev.feedback["order"].isin(info.index)].sort_values("t")
    rng = np.random.default_rng([ev.seed & (2**63 - 1), 0xFEED])
    style = {"USD": "{m}/{d}/{y}", "GBP": "{d}/{m}/{y}", "CAD": "{d}/{m}/{y}", "EUR": "{d}.{m}.{y}"}[cur]
    files["feedback.tsv"] = _tsv(pd.DataFrame({
        "Date": [style.format(m=x.month, d=x.day, y=x.strftime("%y")) for x in (_day(start, t) for t in fb["t"])],
        "Rating": rng.choice([1, 2], size=len(fb)), "Comments": "not happy", "Your Response": "",
        "Order ID": [_oid(i) for i in fb["order"]], "Rater Email": "buyer@example.invalid",
    }))
    lo = max(0, H - ODR_LAG_DAYS - ODR_DAYS)
    hi = max(lo + 1, H - ODR_LAG_DAYS)
    pc = performance_counts(ev, lo, hi)
    h = ev.health

    def window(arr, days):
        return float(np.asarray(arr)[max(0, H - days):H].sum())

    def odr_block(ch):
        c = pc[ch]
        rate = c["defects"] / c["orders"] if c["orders"] else 0.0
        return {"reportingDateRange": {"reportingDateFrom": (start + timedelta(days=lo)).strftime("%Y-%m-%dT00:00Z"),
                                       "reportingDateTo": (start + timedelta(days=hi - 1)).strftime("%Y-%m-%dT23:59Z")},
                "orderCount": c["orders"], "orderWithDefects": {"count": c["defects"], "status": "GOOD"},
                "claims": {"count": c["claims"], "status": "NONE"},
                "chargebacks": {"count": c["chargebacks"], "status": "NONE"},
                "negativeFeedback": {"count": c["negative_feedback"], "status": "NONE"},
                "fulfillmentType": ch, "status": "GOOD", "rate": round(rate, 6), "targetValue": 0.01,
                "targetCondition": "LESS_THAN"}

    late, shipped = window(h.late, LSR_DAYS), window(h.shipped, LSR_DAYS)
    canc, mfn_orders = window(h.cancelled, CANCEL_DAYS), window(h.mfn, CANCEL_DAYS)
    tracked, shipped_t = window(h.tracked, VTR_DAYS), window(h.shipped, VTR_DAYS)
    from .formats import MARKETPLACES

    mp = MARKETPLACES[MARKETPLACE_OF[cur]].id
    perf = {"accountStatuses": [{"marketplaceId": mp, "status": "NORMAL"}], "performanceMetrics": [{
        "marketplaceId": mp, "orderDefectRate": {"mfn": odr_block("mfn"), "afn": odr_block("afn")},
        "lateShipmentRate": {"orderCount": int(shipped), "lateShipmentCount": int(late),
                             "rate": round(late / shipped, 6) if shipped else 0.0},
        "preFulfillmentCancellationRate": {"orderCount": int(mfn_orders), "cancellationCount": int(canc),
                                           "rate": round(canc / mfn_orders, 6) if mfn_orders else 0.0},
        "validTrackingRate": {"shipmentCount": int(shipped_t), "validTrackingCount": int(tracked),
                              "rate": round(tracked / shipped_t, 6) if shipped_t else 0.0},
    }]}
    files["account_health.json"] = json.dumps(perf, indent=1) + "\n"
    days = np.arange(H)
    units = np.bincount(o["day"], minlength=H)[:H]
    refunded = np.bincount(np.floor(r["arrived"]).astype(int).clip(0, H - 1), minlength=H)[:H]
    cl = ev.claims[(ev.claims["kind"] == "atoz") & (ev.claims["outcome"] == "granted_seller_funded")
                   & (ev.claims["decided"] < H)]
    granted = np.bincount(np.floor(cl["decided"]).astype(int), minlength=H)[:H]
    neg = np.bincount(np.floor(fb["t"]).astype(int).clip(0, H - 1), minlength=H)[:H]
    given = rng.binomial(units, m.feedback_effect.feedback_rate)
    files["sales_traffic.json"] = json.dumps({
        "reportSpecification": {"reportType": "GET_SALES_AND_TRAFFIC_REPORT",
                                "reportOptions": {"dateGranularity": "DAY", "asinGranularity": "SKU"},
                                "dataStartTime": start.strftime("%Y-%m-%d"),
                                "dataEndTime": (start + timedelta(days=H - 1)).strftime("%Y-%m-%d"),
                                "marketplaceIds": [mp]},
        "salesAndTrafficByDate": [{
            "date": (start + timedelta(days=int(d))).strftime("%Y-%m-%d"),
            "salesByDate": {"orderedProductSales": {"amount": 0.0, "currencyCode": cur}, "unitsOrdered": int(units[d]),
                            "totalOrderItems": int(units[d]), "unitsRefunded": int(refunded[d]),
                            "claimsGranted": int(granted[d]), "ordersShipped": int(units[d])},
            "trafficByDate": {"feedbackReceived": int(max(given[d], neg[d])),
                              "negativeFeedbackReceived": int(neg[d])}} for d in days],
    }) + "\n"
    money = info["paid"]

    def events(rows):
        return [{"AmazonOrderId": _oid(i), "PostedDate": _stamp(start, t), "ShipmentItemAdjustmentList": [
            {"ItemChargeAdjustmentList": [{"ChargeType": "Principal", "ChargeAmount": {
                "CurrencyCode": cur, "CurrencyAmount": -round(float(money.get(i, 0.0)), 2)}}]}]}
            for i, t in rows]

    c = ev.claims[ev.claims["decided"] < H]
    g = c[(c["kind"] == "atoz") & (c["outcome"] == "granted_seller_funded")]
    cb = c[(c["kind"] == "chargeback") & (c["outcome"] == "granted_seller_funded")]
    files["finances.json"] = json.dumps({"payload": {"FinancialEvents": {
        "GuaranteeClaimEventList": events(zip(g["order"], g["decided"], strict=True)),
        "ChargebackEventList": events(zip(cb["order"], cb["decided"], strict=True))}}}) + "\n"
    hrs = ev.reply_hours
    under = int((hrs <= 24).sum())
    files["performance_v1.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<sellerPerformanceReports><sellerPerformanceReport>'
        "<buyerSellerContactResponseTimeMetrics><responseTimeMetrics>"
        f"<averageResponseTimeInHours>{float(hrs.mean()) if len(hrs) else 0.0:.2f}</averageResponseTimeInHours>"
        f"<responseUnder24Hours>{under}</responseUnder24Hours>"
        f"<responseTimeGreaterThan24Hours>{len(hrs) - under}</responseTimeGreaterThan24Hours>"
        f"<noResponseForContactsOlderThan24Hours>{max(ev.messages - len(hrs), 0)}"
        "</noResponseForContactsOlderThan24Hours>"
        "</responseTimeMetrics></buyerSellerContactResponseTimeMetrics></sellerPerformanceReport>"
        "</sellerPerformanceReports>\n")
    return files


def synth_reports(scenario: Scenario, out: str | Path | None = None, days: int | None = None, seed: int = 20210901,
                  ) -> dict[str, str]:
    """Simulate ``scenario`` for ``days`` (default: its horizon) and return its reports as
    ``{file name: text}``; with ``out``, also write them into that folder (built aside, renamed into
    place: never half-written)."""
    if days is not None:
        scenario = scenario.with_overrides({"horizon_days": int(days)})
    files = build_reports(simulate_events(scenario, seed))
    if out is not None:
        from ..outputs import building

        with building(out, flag="--out") as tmp:
            for name, text in files.items():
                (tmp / name).write_text(text, encoding="utf-8")
    return files
