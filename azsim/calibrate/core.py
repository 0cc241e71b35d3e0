"""calibrate(): reports in, a calibrated scenario out, with every estimate's CI, sample size and source."""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..labels import plural
from ..scenario import Scenario, ScenarioError, scenario_from_dict
from . import estimators as est
from .estimators import Interval
from .formats import MARKETPLACE_IDS, Marketplace, ReportProblem, marketplace
from .reports import Report, parse_report, select_performance

__all__ = ["Estimate", "Calibration", "calibrate", "parse_comment", "CALIBRATED_FIELDS", "RETURN_LAG_DAYS",
           "MAX_FILES"]

RETURN_LAG_DAYS = 45
"""Orders of the last 45 days before the end of the returns report are left out of the return
rate: most of their returns have not been requested yet."""
MIN_ORDERS_FOR_RATE = 100
MAX_FILES = 200

SELLER_FAULT_WORDS = ("DEFECT", "DAMAGE", "DESCRI", "BAD-DESC", "BAD_DESC", "SWITCHEROO", "WRONG_ITEM_SENT",
                      "WRONG-ITEM", "NOT_AS", "NOT-AS", "MISSING", "QUALITY", "EXPIRED", "BROKEN", "MISSED")
"""Return reason codes (upper case) that name a seller or carrier fault; every other reason is the
buyer's choice (remorse). ``ORDERED_WRONG_ITEM`` is the buyer's mistake: remorse."""


def is_remorse(reason: str) -> bool:
    r = str(reason).upper()
    if "ORDERED" in r or "UNWANTED" in r or "NO-LONGER" in r or "NO_LONGER" in r:
        return True
    return not any(w in r for w in SELLER_FAULT_WORDS)


@dataclass
class Estimate:
    """One quantity measured from the reports; ``path`` is the scenario field it sets (None: shown
    only)."""

    key: str
    label: str
    value: float
    low: float
    high: float
    n: int
    source: str  # report type(s)
    files: list[str]
    window: str
    method: str
    path: str | None = None
    old: float | None = None
    note: str = ""

    def comment(self) -> str:
        return (f"estimated from {self.source} ({', '.join(self.files)}) {self.window}, n = {self.n:,}, "
                f"95% CI [{_num(self.low)}, {_num(self.high)}]; {self.method}")

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("key", "label", "path", "old", "value", "low", "high", "n", "source",
                                            "files", "window", "method", "note")}
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


_COMMENT = re.compile(r"^estimated from (?P<source>.+) \((?P<files>[^()]*)\) (?P<window>.+?), n = (?P<n>[\d,]+), "
                      r"95% CI \[(?P<low>[^,\]]+), (?P<high>[^\]]+)\](?:; (?P<method>.*))?$")


def parse_comment(comment: str) -> dict | None:
    """The parts of an :meth:`Estimate.comment` (a calibrated scenario file's comment on an estimated field):
    ``{"source", "files" (list), "window", "n", "low", "high", "method"}``; None for any other comment."""
    m = _COMMENT.match(str(comment).strip())
    if not m:
        return None

    def num(text: str) -> float:
        try:
            return float(text)
        except ValueError:  # 'n/a'
            return math.nan

    return {"source": m["source"], "files": [f for f in m["files"].split(", ") if f], "window": m["window"],
            "n": int(m["n"].replace(",", "")), "low": num(m["low"]), "high": num(m["high"]),
            "method": m["method"] or ""}


def _num(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.6g}"


NOT_FROM_REPORTS = {
    "buyers.contact_seller_first": "share of buyers who message before claiming: no report has it",
    "incidents (lost, late, damaged, not as described, wrong item)": "the incidents behind claims: no report splits "
    "them; kept from the base (the claim, chargeback and feedback fits are conditional on them)",
    "incidents.product_safety, pdpi_amount": "PD/PI claims: no per-claim A-to-z or PD/PI export exists",
    "seller.claims.*, seller.disputes.*": "how the seller answers claims: no report; the finances events show "
    "which claims were debited",
    "seller.support.*": "the desk's roster: the V1 performance report gives reply times, shown but not fitted",
    "incidents.return_fraud_share": "fraudulent returns: no report",
    "market.shipping_cost, fba_fee, cogs_share": "costs: in the settlement reports, not read here",
}


@dataclass
class Calibration:
    """The result of :func:`calibrate`. ``problems`` non-empty means nothing usable (``scenario`` None)."""

    base: Scenario | None
    marketplace: str
    scenario: Scenario | None = None
    estimates: list[Estimate] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # scenario fields left at the base value

    @property
    def ok(self) -> bool:
        return not self.problems and self.scenario is not None

    def fields(self) -> list[Estimate]:
        return [e for e in self.estimates if e.path]

    def to_dict(self) -> dict:
        return {
            "marketplace": self.marketplace,
            "base": self.base.name if self.base else None,
            "scenario_hash": self.scenario.hash if self.scenario else None,
            "reports": [{"file": r.name, "type": r.kind, "title": r.title, "rows": r.rows, "dropped_rows": r.dropped,
                         "window": r.window_text(), "currency": r.currency, "encoding": r.encoding}
                        for r in self.reports],
            "fields": [e.to_dict() for e in self.fields()],
            "measured": [e.to_dict() for e in self.estimates if not e.path],
            "kept_from_base": self.kept,
            "not_from_reports": NOT_FROM_REPORTS,
            "warnings": self.warnings,
            "problems": self.problems,
        }

    def summary_text(self) -> str:
        lines = [f"Calibration from {plural(len(self.reports), 'report file')}, marketplace {self.marketplace}"
                 + (f", base scenario {self.base.name!r}" if self.base else "")]
        for r in self.reports:
            extra = f", {plural(r.dropped, 'row')} dropped" if r.dropped else ""
            lines.append(f"  {r.name}: {r.title}, {plural(r.rows, 'row')}, {r.window_text()}{extra}")
        if self.problems:
            lines.append("Problems:")
            lines += [f"  {p}" for p in self.problems]
            return "\n".join(lines)
        lines += ["", "Scenario fields estimated (old -> new, 95% CI, n, source):"]
        width = max((len(e.path) for e in self.fields()), default=10)
        for e in self.fields():
            lines.append(f"  {e.path:<{width}}  {_num(e.old):>10} -> {_num(e.value):<10} [{_num(e.low)}, "
                         f"{_num(e.high)}]  n = {e.n:,}  {e.source}, {e.window}")
        measured = [e for e in self.estimates if not e.path]
        if measured:
            lines += ["", "Measured, shown only (no scenario field takes them as they are):"]
            for e in measured:
                lines.append(f"  {e.label}: {_num(e.value)} [{_num(e.low)}, {_num(e.high)}]  n = {e.n:,}  {e.source}")
        if self.kept:
            lines += ["", "Kept from the base scenario (no report gave them): " + ", ".join(self.kept)]
        lines += ["", "Never in the reports: " + "; ".join(f"{k} ({v})" for k, v in NOT_FROM_REPORTS.items())]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  {w}" for w in self.warnings]
        return "\n".join(lines)

    def yaml_text(self) -> str:
        """The calibrated scenario as YAML: every field of the base, each estimated one with its comment."""
        if self.scenario is None:
            raise ValueError("no calibrated scenario")
        comments = {e.path: e.comment() for e in self.fields()}
        head = ["# azsim scenario calibrated from a seller's reports (azsim calibrate).",
                f"# Base scenario: {self.base.name}. Marketplace: {self.marketplace}.",
                "# Fields marked 'estimated from' were measured or fitted; every other field is the base's."]
        return "\n".join(head) + "\n" + _yaml(self.scenario.to_dict(), comments) + "\n"


def _scalar(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return json.dumps(v, ensure_ascii=False)


def _yaml(data: dict, comments: dict[str, str], prefix: str = "", indent: int = 0) -> str:
    lines = []
    pad = "  " * indent
    for k, v in data.items():
        path = f"{prefix}{k}"
        key = k if isinstance(k, str) and k.replace("_", "a").replace("-", "a").isalnum() else json.dumps(str(k))
        if isinstance(v, dict) and v:
            lines.append(f"{pad}{key}:")
            lines.append(_yaml(v, comments, path + ".", indent + 1))
        else:
            text = "{}" if isinstance(v, dict) else _scalar(v)
            note = comments.get(path)
            lines.append(f"{pad}{key}: {text}" + (f"  # {note}" if note else ""))
    return "\n".join(lines)


# ---- reading the inputs ------------------------------------------------------------------------------
def _gather(files) -> tuple[list[tuple[str, bytes]], list[str]]:
    """(name, bytes) of every input: paths (files, or folders: their files in name order) or
    (name, bytes) pairs (uploads)."""
    out, problems = [], []
    for item in files:
        if isinstance(item, tuple):
            out.append((str(item[0]), bytes(item[1])))
            continue
        p = Path(item)
        try:
            if p.is_dir():
                kids = sorted(x for x in p.iterdir() if not x.name.startswith(".") and x.is_file())
                if not kids:
                    problems.append(f"{p}: folder without report files")
                paths = kids
            elif p.exists():
                paths = [p]
            else:
                problems.append(f"{p}: file not found")
                continue
            for q in paths:
                if not q.is_file():
                    problems.append(f"{q}: not a file")
                    continue
                if q.stat().st_size > 2 * 1024**3:
                    problems.append(f"{q}: over 2 GB; split the report")
                    continue
                out.append((str(q), q.read_bytes()))
        except OSError as err:
            problems.append(f"{p}: cannot read: {err.strerror or err}")
    if len(out) > MAX_FILES:
        problems.append(f"{len(out)} files: at most {MAX_FILES} at once")
    return out, problems


def _files(reports: list[Report]) -> list[str]:
    return [os.path.basename(r.name) for r in reports]


def _window(reports: list[Report]) -> str:
    starts = [r.start for r in reports if r.start]
    ends = [r.end for r in reports if r.end]
    if not starts:
        return "(no dates)"
    return f"{min(starts).isoformat()} to {max(ends).isoformat()}"


# ---- the calibration -----------------------------------------------------------------------------------
def calibrate(files, marketplace_code: str = "US", base: Scenario | None = None, seed: int = 20210901,
              fit: bool = True) -> Calibration:
    """Read reports (paths, folders or ``(name, bytes)`` pairs), estimate what they measure and
    return a :class:`Calibration` whose ``scenario`` is ``base`` (default: azsim's defaults) with
    the estimated fields replaced. Bad input gives ``problems`` (one line each, naming the file),
    never an exception."""
    if base is None:
        base = scenario_from_dict({})
    cal = Calibration(base, str(marketplace_code))
    try:
        market = marketplace(marketplace_code)
    except ReportProblem as err:
        cal.problems += err.problems
        return cal
    cal.marketplace = market.code
    inputs, problems = _gather(files)
    cal.problems += problems
    if not inputs and not problems:
        cal.problems.append("no report files given")
    for name, raw in inputs:
        try:
            cal.reports.append(parse_report(name, raw, market))
        except ReportProblem as err:
            cal.problems += err.problems
        except (MemoryError, RecursionError) as err:
            cal.problems.append(f"{name}: too large or too deeply nested to read ({type(err).__name__})")
    for r in cal.reports:
        cal.warnings += r.warnings
    if cal.problems:
        return cal
    _cross_check(cal, market)
    if cal.problems:
        return cal
    try:
        _estimate(cal, market, seed, fit)
    except ReportProblem as err:
        cal.problems += err.problems
        return cal
    over = {e.path: _round(e.value) for e in cal.fields()}
    try:
        cal.scenario = base.with_overrides(over) if over else base
    except ScenarioError as err:
        cal.problems += [f"the calibrated scenario is not valid: {p}" for p in err.problems]
        return cal
    if cal.scenario.name == base.name:
        name = (base.name + " (calibrated)")[:100]
        # the base's description speaks of the base seller ("60 orders/day"): say what this one is
        what = (f"Calibrated from {len(cal.reports)} seller report{'s' if len(cal.reports) != 1 else ''} "
                f"(marketplace {market}) on the base scenario {base.name!r}; fields not estimated keep "
                "the base's values.")
        cal.scenario = cal.scenario.with_overrides({"name": name, "description": what})
    cal.kept = [p for p in _CALIBRATED_FIELDS if p not in over]
    return cal


_CALIBRATED_FIELDS = ("market.orders_per_day", "market.fba_share", "market.price.median", "market.price.sigma",
                      "seller.tracking.upload_delay_days", "seller.tracking.upload_rate", "incidents.out_of_stock",
                      "incidents.remorse_return", "buyers.escalate_to_atoz", "buyers.chargeback",
                      "incidents.base_negative_feedback")
CALIBRATED_FIELDS = _CALIBRATED_FIELDS
"""Every scenario field a calibration can set; those it did not set are its ``kept`` fields."""


def _round(x: float) -> float:
    return float(f"{x:.6g}")


def _cross_check(cal: Calibration, market: Marketplace) -> None:
    currencies = {r.currency: r.name for r in cal.reports if r.currency}
    if len(currencies) > 1:
        cal.problems.append("reports in different currencies: " + ", ".join(
            f"{os.path.basename(n)} ({c})" for c, n in sorted(currencies.items()))
            + "; calibrate from one seller's reports of one marketplace")
    for r in cal.reports:
        other = {i for i in r.marketplace_ids if i != market.id}
        if other:
            names = ", ".join(f"{i} ({MARKETPLACE_IDS.get(i, 'unknown')})" for i in sorted(other))
            cal.problems.append(f"{r.name}: marketplaceId {names}, not {market.code} ({market.id}); pass "
                                f"--marketplace {MARKETPLACE_IDS.get(sorted(other)[0], market.code)} or that "
                                "marketplace's reports")
    kinds = {}
    for r in cal.reports:
        kinds.setdefault(r.kind, []).append(r)
    for kind in ("performance", "performance_v1"):
        if len(kinds.get(kind, [])) > 1:
            cal.warnings.append(f"{len(kinds[kind])} {kind.replace('_', ' ')} reports: the one ending last is used")
    dated = [r for r in cal.reports if r.start and r.kind in ("orders", "returns_mfn", "returns_fba", "feedback",
                                                              "sales_traffic")]
    for a in dated:
        for b in dated:
            if a.name < b.name and (a.end < b.start or b.end < a.start):
                cal.warnings.append(f"{a.name} ({a.window_text()}) and {b.name} ({b.window_text()}) do not overlap")


def _of(cal: Calibration, kind: str) -> list[Report]:
    return [r for r in cal.reports if r.kind == kind]


def _add(cal: Calibration, key: str, label: str, iv: Interval, reports: list[Report], method: str,
         path: str | None = None, window: str | None = None, note: str = "") -> Estimate:
    old = None
    if path:
        node: Any = cal.base
        for part in path.split("."):
            node = getattr(node, part)
        old = float(node)
    e = Estimate(key, label, float(iv.value), float(iv.low), float(iv.high), int(iv.n),
                 " + ".join(dict.fromkeys(r.title for r in reports)), _files(reports), window or _window(reports),
                 method, path, old, note)
    cal.estimates.append(e)
    return e


def _few(cal: Calibration, what: str, n: int, reports: list[Report]) -> None:
    if n < MIN_ORDERS_FOR_RATE:
        cal.warnings.append(f"{what}: only {n} orders in {', '.join(_files(reports))}; the rate's CI is wide "
                            f"(fewer than {MIN_ORDERS_FOR_RATE})")


def _estimate(cal: Calibration, market: Marketplace, seed: int, fit: bool) -> None:
    base = cal.base
    same_currency = True
    cur = next((r.currency for r in cal.reports if r.currency), None)
    if cur and cur != base.market.currency:
        same_currency = False
        cal.warnings.append(f"the reports are in {cur}, the base scenario in {base.market.currency}: prices are not "
                            f"used (rates are); pass --base a scenario in {cur}"
                            + (" (scenarios/uk_2024.yaml)" if cur == "GBP" else ""))
    perf = None
    perf_reports = sorted(_of(cal, "performance"), key=lambda r: (r.end is not None, r.end or 0))
    if perf_reports:
        pr = perf_reports[-1]
        perf = select_performance(pr, market)
        cal.warnings += [w for w in pr.warnings if w not in cal.warnings]
    # out-of-stock cancellations (account health) first: they correct the order rate and FBA share
    oos = base.incidents.out_of_stock
    cancels = base.seller.out_of_stock.handling == "cancel"
    if perf and "cancel" in perf:
        a, n = perf["cancel"]
        if n > 0:
            iv = est.proportion(a, n)
            if cancels:
                _add(cal, "cancel_rate", "pre-fulfilment cancel rate", iv, [pr], "cancellationCount / orderCount (7 "
                     "days); the model's seller cancels are out-of-stock orders", "incidents.out_of_stock",
                     window=pr.window_text())
                oos = iv.value
            else:
                _add(cal, "cancel_rate", "pre-fulfilment cancel rate", iv, [pr], "cancellationCount / orderCount")
                cal.warnings.append("incidents.out_of_stock: not set from the cancel rate because the base ships "
                                    "out-of-stock orders late (seller.out_of_stock.handling: ship_late)")
            _few(cal, "pre-fulfilment cancel rate", n, [pr])
    c = oos if cancels else 0.0
    orders = [r for r in _of(cal, "orders") if len(r.data)]
    for r in _of(cal, "orders"):
        if not len(r.data):
            cal.warnings.append(f"{r.name}: no order lines")
    daily_orders = None  # non-cancelled orders per calendar day, for other reports' denominators
    if orders:
        d = pd.concat([r.data for r in orders], ignore_index=True)
        dup = d.duplicated()
        if dup.any():
            cal.warnings.append(f"{int(dup.sum())} order lines appear in more than one orders report; counted once")
            d = d[~dup]
        first = d["day"].min()
        days = int((d["day"].max() - first).days) + 1
        live = d[~d["cancelled"]]
        per_order = live.groupby("order", sort=False).agg(day=("day", "min"), fba=("fba", "max"))
        counts = np.bincount(((per_order["day"] - first).dt.days).to_numpy(), minlength=days)[:days]
        daily_orders = pd.Series(counts, index=pd.date_range(first, periods=days, freq="D"))
        rate, disp = est.poisson_rate(counts)
        window = f"{first.date().isoformat()} to {(first + timedelta(days=days - 1)).date().isoformat()}"
        _add(cal, "orders_per_day_observed", "orders a day (not cancelled)", rate, orders,
             f"distinct amazon-order-id not cancelled / {days} days; daily counts var/mean = {disp:.2f}",
             window=window)
        n_orders = len(per_order)
        if n_orders:
            f_nc = est.proportion(int(per_order["fba"].sum()), n_orders)
            _add(cal, "fba_share_observed", "share of orders fulfilled by Amazon (not cancelled)", f_nc, orders,
                 "orders with fulfillment-channel AFN/Amazon / orders", window=window)

            def fix_f(x: float) -> float:
                return x * (1 - c) / (1 - c * x) if c < 1 else x

            f = fix_f(f_nc.value)
            _add(cal, "fba_share", "share of orders fulfilled by Amazon", f_nc.scaled(fix_f), orders,
                 "AFN orders / orders, corrected for the model's out-of-stock cancellations (seller-fulfilled only)",
                 "market.fba_share", window=window)
            scale = 1.0 / (1.0 - c * (1.0 - f))
            _add(cal, "orders_per_day", "orders a day", rate.scaled(lambda x: x * scale), orders,
                 f"orders not cancelled a day / (1 - out-of-stock cancel share {c * (1 - f):.4f}); Poisson CI "
                 "widened by the daily overdispersion", "market.orders_per_day", window=window)
            if base.market.q4_peak_multiplier != 1.0:
                cal.warnings.append("market.orders_per_day: the base has a Q4 peak (q4_peak_multiplier "
                                    f"{base.market.q4_peak_multiplier}); the estimate is the window's average rate")
        priced = d[(d["price"] > 0) & (d["quantity"] > 0)]
        units = (priced["price"] / priced["quantity"]).to_numpy()
        no_price = int(((d["price"].isna()) | (d["price"] <= 0)).sum())
        if no_price:
            cal.warnings.append(f"{no_price} order lines without a price (pending or cancelled): not used for prices")
        if len(units) >= 2:
            fitp = est.lognormal(units)
            values = live.assign(v=live["price"].fillna(0)).groupby("order")["v"].sum()
            q = fitp.quantiles
            if same_currency:
                _add(cal, "price_median", "item price, median (lognormal)", fitp.median, orders,
                     "exp(mean ln(item-price / quantity)); p10/p50/p90 of unit prices "
                     f"{q['p10']:.2f}/{q['p50']:.2f}/{q['p90']:.2f}", "market.price.median", window=window)
                _add(cal, "price_sigma", "item price, log standard deviation", fitp.sigma, orders,
                     "sd(ln unit price), chi-square CI", "market.price.sigma", window=window)
            if len(values):
                _add(cal, "order_value_median", "order value, median", Interval(
                    float(values.median()), float(values.quantile(0.1)), float(values.quantile(0.9)), len(values)),
                    orders, "sum of item-price per order; 'CI' is the p10-p90 range")
    elif _of(cal, "sales_traffic"):
        st = pd.concat([r.data for r in _of(cal, "sales_traffic")], ignore_index=True).drop_duplicates("day")
        items = st["totalOrderItems"].fillna(st["unitsOrdered"]).fillna(0).to_numpy()
        if len(items):
            rate, disp = est.poisson_rate(items)
            f = base.market.fba_share
            scale = 1.0 / (1.0 - c * (1.0 - f))
            _add(cal, "orders_per_day", "orders a day", rate.scaled(lambda x: x * scale), _of(cal, "sales_traffic"),
                 "totalOrderItems a day (an order of one item each); no orders report given", "market.orders_per_day")
            daily_orders = pd.Series(items, index=pd.DatetimeIndex(st["day"]))
    if perf:
        odr = perf["odr"]
        n = sum(v["orders"] for v in odr.values())
        if n > 0 and "fba_share" not in {e.key for e in cal.estimates}:
            _add(cal, "fba_share", "share of orders fulfilled by Amazon", est.proportion(
                odr.get("afn", {}).get("orders", 0), n), [pr], "afn.orderCount / (mfn + afn) orderCount",
                "market.fba_share", window=pr.window_text())
        if n > 0:
            _few(cal, "order defect rate", n, [pr])
            for k, label in (("defects", "order defect rate (all channels)"),):
                _add(cal, "odr", label, est.proportion(sum((v.get(k) or 0) for v in odr.values()), n), [pr],
                     "sum of orderWithDefects / sum of orderCount (components are not added: an order can have "
                     "several)", window=pr.window_text())
            for ch, v in odr.items():
                if v["orders"]:
                    _add(cal, f"odr_{ch}", f"order defect rate, {ch.upper()}", est.proportion(v.get("defects") or 0,
                         v["orders"]), [pr], "orderWithDefects / orderCount", window=pr.window_text())
            if orders and daily_orders is not None:
                cal.estimates.append(Estimate("orders_per_day_health", "orders a day in the account health window",
                                              n / 60.0, n / 60.0, n / 60.0, n, pr.title, [os.path.basename(pr.name)],
                                              pr.window_text(), "(mfn + afn orderCount) / 60; a cross-check"))
        if "late" in perf and perf["late"][1] > 0:
            a, m = perf["late"]
            iv = est.proportion(a, m)
            _few(cal, "late shipment rate", m, [pr])

            def delay(r: float) -> float:
                r = min(max(r, 1e-9), 1 - 1e-9)
                return -1.0 / math.log(r)

            _add(cal, "late_shipment_rate", "late shipment rate", iv, [pr], "lateShipmentCount / orderCount",
                 window=pr.window_text())
            _add(cal, "upload_delay_days", "days from order to shipment confirmation (mean)", iv.scaled(delay), [pr],
                 "the model ships late when the exponential confirmation delay exceeds 1 day: mean = -1 / ln(late "
                 "shipment rate)", "seller.tracking.upload_delay_days", window=pr.window_text())
        if "tracking" in perf and perf["tracking"][1] > 0:
            a, m = perf["tracking"]
            _few(cal, "valid tracking rate", m, [pr])
            _add(cal, "valid_tracking_rate", "valid tracking rate", est.proportion(a, m), [pr],
                 "validTrackingCount / shipmentCount", "seller.tracking.upload_rate", window=pr.window_text())
    _returns(cal, market, c)
    observed = {"claims": None, "chargebacks": None, "negative_feedback": None}
    if perf and perf["odr"]:
        odr = perf["odr"]
        n = sum(v["orders"] for v in odr.values())
        if n > 0:
            for k, label in (("claims", "A-to-z claims that hit the ODR, per order"),
                             ("chargebacks", "chargebacks, per order"),
                             ("negative_feedback", "orders with negative feedback, per order")):
                if all(v.get(k) is not None for v in odr.values()):
                    iv = est.proportion(sum(v[k] for v in odr.values()), n)
                    observed[k] = iv
                    _add(cal, f"{k}_rate", label, iv, [pr], f"{k}.count / orderCount (mfn + afn)",
                         window=pr.window_text())
                    for ch, v in odr.items():
                        if v["orders"]:
                            _add(cal, f"{k}_rate_{ch}", f"{label}, {ch.upper()}", est.proportion(v[k], v["orders"]),
                                 [pr], f"{k}.count / orderCount", window=pr.window_text())
    fb = _of(cal, "feedback")
    if fb and observed["negative_feedback"] is None and daily_orders is not None:
        d = pd.concat([r.data for r in fb], ignore_index=True).drop_duplicates()
        lo, hi = d["day"].min(), d["day"].max()
        n = int(daily_orders[(daily_orders.index >= lo) & (daily_orders.index <= hi)].sum())
        k = int((d["rating"] <= 2).sum())
        if n > 0:
            iv = est.proportion(min(k, n), n)
            observed["negative_feedback"] = iv
            _add(cal, "negative_feedback_rate", "negative feedback (1-2 stars) per order", iv, fb,
                 "feedback rated 1-2 / orders in the feedback report's dates (dated by feedback, not by order)")
    if fb:
        d = pd.concat([r.data for r in fb], ignore_index=True)
        negative = int((d["rating"] <= 2).sum())
        for key, label, k in (("feedback_negative", "negative feedback rows (1-2 stars)", negative),
                              ("feedback_neutral", "neutral feedback rows (3 stars)", int((d["rating"] == 3).sum()))):
            _add(cal, key, label, Interval(k, k, k, len(d)), fb, "count of rows")
    _finances(cal, perf, pr if perf else None)
    _replies(cal)
    if fit and any(v is not None for v in observed.values()):
        from .fit import fit_rates

        direct = {e.path: e.value for e in cal.fields()}
        try:
            fitted_base = base.with_overrides({p: _round(v) for p, v in direct.items()})
        except ScenarioError as err:
            cal.problems += [f"the calibrated scenario is not valid: {p}" for p in err.problems]
            return
        for r in fit_rates(fitted_base, observed["claims"], observed["chargebacks"], observed["negative_feedback"],
                           seed=seed):
            if r.warning:
                cal.warnings.append(r.warning)
            if r.estimate.value == r.estimate.value:
                src = [pr] if perf else fb
                _add(cal, r.path, r.path, r.estimate, src, r.note, r.path,
                     window=pr.window_text() if perf else _window(fb))
                cal.estimates[-1].n = r.observed.n


def _returns(cal: Calibration, market: Marketplace, c: float) -> None:
    orders = _of(cal, "orders")
    mfn_r, fba_r = _of(cal, "returns_mfn"), _of(cal, "returns_fba")
    for rs in (mfn_r, fba_r):
        if rs:
            d = pd.concat([r.data for r in rs], ignore_index=True)
            units = float(d["quantity"].sum())
            if units > 0:
                remorse = d["reason"].map(is_remorse)
                _add(cal, f"remorse_share_{rs[0].kind}", f"share of returned units returned by choice "
                     f"({'seller-fulfilled' if rs is mfn_r else 'FBA'})", est.proportion(
                         float(d.loc[remorse, "quantity"].sum()), units), rs,
                     "quantity-weighted share of reasons that name no fault")
            if rs is mfn_r and len(d):
                _add(cal, "returned_units_mfn", "units returned (seller-fulfilled)", Interval(units, units, units,
                     len(d)), rs, "sum of Return quantity")
                known = d["in_policy_known"]
                if known.any() and d.loc[known, "quantity"].sum() > 0:
                    _add(cal, "in_policy_share", "share of returned units in policy", est.proportion(
                        float(d.loc[known & d["in_policy"], "quantity"].sum()), float(d.loc[known, "quantity"].sum())),
                        rs, "quantity with In policy = Y / quantity")
                _add(cal, "atoz_share_of_returns", "share of return requests with an A-to-z claim",
                     est.proportion(int(d["atoz"].sum()), len(d)), rs, "rows with A-to-Z Claim = Y / rows")
    if not orders or not (mfn_r or fba_r):
        if (mfn_r or fba_r) and not orders:
            cal.warnings.append("incidents.remorse_return: returns reports need the orders report (the denominator)")
        return
    o = pd.concat([r.data for r in orders], ignore_index=True).drop_duplicates()
    live = o[~o["cancelled"]]
    order_day = live.groupby("order")["day"].min()
    lo = o["day"].min()
    num = den = 0.0
    used: list[Report] = []
    ends = []
    for rs, is_fba in ((mfn_r, False), (fba_r, True)):
        if not rs:
            continue
        d = pd.concat([r.data for r in rs], ignore_index=True)
        if not len(d):
            continue
        end = min(o["day"].max(), d["day"].max()) - pd.Timedelta(days=RETURN_LAG_DAYS)
        if (end - lo).days < 7:
            cal.warnings.append(f"incidents.remorse_return: the orders and {rs[0].title} overlap too little (orders up "
                                f"to {RETURN_LAG_DAYS} days before the last return are left out)")
            continue
        when = d["order"].map(order_day)
        if not is_fba and "order_day" in d:
            when = when.fillna(d["order_day"])
        missing = when.isna()
        if missing.any():
            cal.warnings.append(f"{int(missing.sum())} returns in {', '.join(_files(rs))} of orders not in the orders "
                                "report: not counted")
        inside = (when >= lo) & (when <= end)
        rem = d["reason"].map(is_remorse)
        num += float(d.loc[inside & rem, "quantity"].sum())
        ch = live[(live["fba"] == is_fba) & (live["day"] >= lo) & (live["day"] <= end)]
        den += float(ch["quantity"].sum())
        used += rs
        ends.append(end)
    if den <= 0 or not used:
        return
    _few(cal, "return rate", int(den), used)
    iv = est.proportion(min(num, den), den)
    scale = 1.0 - c * (1.0 - cal.base.market.fba_share)
    window = f"orders {lo.date().isoformat()} to {max(ends).date().isoformat()}"
    _add(cal, "remorse_return", "returns by choice per unit ordered", iv.scaled(lambda x: x * scale),
         orders + used, f"returned units with a no-fault reason / units ordered (orders at least {RETURN_LAG_DAYS} "
         "days before the last return)", "incidents.remorse_return", window=window)


def _finances(cal: Calibration, perf: dict | None, pr: Report | None) -> None:
    fin = _of(cal, "finances")
    if not fin:
        return
    g: dict[str, float] = {}
    cb: dict[str, float] = {}
    for r in fin:
        g.update(r.data["GuaranteeClaimEventList"])
        cb.update(r.data["ChargebackEventList"])
    if g:
        debit = np.array([-v for v in g.values()])
        _add(cal, "atoz_debit_mean", "A-to-z debit per claim, mean", Interval(float(debit.mean()), float(
            np.percentile(debit, 10)), float(np.percentile(debit, 90)), len(debit)), fin,
            "mean of -sum of adjustments per order; 'CI' is the p10-p90 range")
        if perf and perf["odr"] and pr.start and not any(r.start and (r.start < pr.start or r.end > pr.end + timedelta(
                days=120)) for r in fin):
            claims = sum((v.get("claims") or 0) for v in perf["odr"].values())
            if claims:
                _add(cal, "atoz_debit_share", "share of ODR claims debited to the seller",
                     est.proportion(min(len(g), claims), claims), fin + [pr],
                     "orders in GuaranteeClaimEventList / claims.count (capped at 1; windows may differ)")
    if cb:
        cost = np.array([-v for v in cb.values()])
        _add(cal, "chargeback_cost_mean", "chargeback cost, mean", Interval(float(cost.mean()), float(
            np.percentile(cost, 10)), float(np.percentile(cost, 90)), len(cost)), fin,
            "mean of -sum of amounts per order; 'CI' is the p10-p90 range")


def _replies(cal: Calibration) -> None:
    v1 = sorted(_of(cal, "performance_v1"), key=lambda r: r.name)
    if not v1:
        return
    d = v1[-1].data
    under, over, none = (d.get(k) for k in ("responseUnder24Hours", "responseTimeGreaterThan24Hours",
                                             "noResponseForContactsOlderThan24Hours"))
    if under is not None and over is not None and none is not None and under + over + none > 0:
        _add(cal, "replies_within_24h", "buyer messages answered within 24 h", est.proportion(
            under, under + over + none), [v1[-1]], "under 24 h / (under + over 24 h + no response); not fitted: it "
            "depends on the support roster (seller.support)")
    if d.get("averageResponseTimeInHours") is not None:
        h = d["averageResponseTimeInHours"]
        _add(cal, "reply_hours_mean", "hours to answer a buyer message, mean", Interval(h, h, h, int(under or 0)),
             [v1[-1]], "averageResponseTimeInHours")
