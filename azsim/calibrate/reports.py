"""Recognising a report from its content (header or JSON/XML shape, never its file name) and
parsing each type into a :class:`Report`.

Types (Amazon's reportType; docs/calibration.md lists the columns read):

- ``orders``: GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL (TSV, one row per order line)
- ``returns_mfn``: GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE (TSV, seller-fulfilled returns)
- ``returns_fba``: GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA (TSV)
- ``feedback``: GET_SELLER_FEEDBACK_DATA (TSV; localized headers, read by position)
- ``performance``: GET_V2_SELLER_PERFORMANCE_REPORT (JSON, account health)
- ``performance_v1``: GET_V1_SELLER_PERFORMANCE_REPORT (XML; reply times)
- ``sales_traffic``: GET_SALES_AND_TRAFFIC_REPORT (JSON, by date)
- ``finances``: Finances API listFinancialEvents (JSON: guarantee claim and chargeback events)
- ``listings``: GET_FLAT_FILE_OPEN_LISTINGS_DATA (TSV; prices only)

Parsers tolerate unknown columns (ignored) and missing optional ones (a warning naming the
column); a row they cannot use is counted and reported, never dropped silently; a date that does
not parse is a problem naming the file, line and column.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from .formats import (
    MARKETPLACE_IDS,
    MAX_JSON_BYTES,
    Marketplace,
    ReportProblem,
    decode,
    parse_dates,
    parse_datetime_text,
    read_bytes,
    read_tsv,
    to_number,
)

__all__ = ["Report", "TITLES", "parse_report", "detect"]

TITLES = {
    "orders": "orders report (all orders by order date)",
    "returns_mfn": "seller-fulfilled returns report",
    "returns_fba": "FBA customer returns report",
    "feedback": "seller feedback report",
    "performance": "account health report (V2 seller performance, JSON)",
    "performance_v1": "seller performance report (V1, XML)",
    "sales_traffic": "sales and traffic report (JSON)",
    "finances": "financial events (Finances API, JSON)",
    "listings": "open listings report",
}

_COLUMNS = {
    "orders": {"amazon-order-id", "purchase-date", "order-status", "fulfillment-channel", "quantity", "currency",
               "item-price"},
}
"""Columns read from the large reports (the others are never loaded: a year of order lines stays small)."""

ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")


@dataclass
class Report:
    """One parsed report file."""

    name: str
    kind: str
    rows: int = 0
    start: date | None = None
    end: date | None = None
    currency: str | None = None
    marketplace_ids: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    dropped: int = 0
    encoding: str = "utf-8"
    data: Any = None  # a DataFrame for tables, a dict for JSON/XML reports

    @property
    def title(self) -> str:
        return TITLES[self.kind]

    def window_text(self) -> str:
        if self.start is None:
            return "dates not given"
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def _lines(rows: pd.Index | np.ndarray, n: int = 3) -> str:
    """``lines 3, 8, 12 and 4 more`` for data rows (the header is line 1)."""
    rows = [int(r) + 2 for r in list(rows)[: n + 1]]
    total = len(rows)
    shown = ", ".join(map(str, rows[:n]))
    return f"line {shown}" if total == 1 else f"lines {shown}" + (" and more" if total > n else "")


def _missing(report: Report, frame: pd.DataFrame, columns: tuple[str, ...], what: str = "") -> None:
    for col in columns:
        if col not in frame.columns:
            report.warnings.append(f"{report.name}: column {col} missing{what}")


def _dates(report: Report, frame: pd.DataFrame, col: str, formats=(), required: bool = True) -> pd.Series:
    values = frame[col] if col in frame.columns else pd.Series([""] * len(frame), index=frame.index)
    parsed = parse_dates(values, formats)
    bad = parsed.isna() & (values.astype(str).str.strip() != "")
    if bad.any():
        raise ReportProblem([f"{report.name}: {_lines(np.flatnonzero(bad.to_numpy()))}: column {col}: date does not "
                             f"parse ({str(values[bad].iloc[0])[:40]!r})"])
    empty = parsed.isna()
    if required and empty.any():
        report.warnings.append(f"{report.name}: {int(empty.sum())} rows without {col} ({_lines(np.flatnonzero(empty))})"
                               "; counted as dropped")
    return parsed


def _span(report: Report, dates: pd.Series) -> None:
    d = dates.dropna()
    if len(d):
        report.start, report.end = d.min().date(), d.max().date()


# ---- detection -----------------------------------------------------------------------------------
def detect(name: str, text: str) -> str:
    """The report type of ``text`` from its content; ReportProblem if it is none of them."""
    head = text.lstrip("\ufeff \t\r\n")[:1]
    if head in "{[":
        return "json"
    if head == "<":
        return "xml"
    first = text.split("\n", 1)[0]
    cols = {re.sub(r"[\s_\-]+", "-", c.strip().strip('"').lower()) for c in first.split("\t")}
    if {"amazon-order-id", "purchase-date"} <= cols:
        return "orders"
    if "order-id" in cols and ({"return-request-date", "return-quantity"} & cols):
        return "returns_mfn"
    if {"return-date", "order-id"} <= cols and ({"detailed-disposition", "quantity", "reason"} & cols):
        return "returns_fba"
    if {"sku", "price"} <= cols and ("asin" in cols or "asin1" in cols) and "amazon-order-id" not in cols:
        return "listings"
    if _looks_like_feedback(text):
        return "feedback"
    shown = first[:60].encode("unicode_escape").decode("ascii")
    raise ReportProblem([f"{name}: line 1: not a report azsim reads (header {shown!r}); expected an orders, returns, "
                         "FBA returns, feedback or listings report (tab-separated) or an account health, sales and "
                         "traffic or financial events report (JSON)"])


def _looks_like_feedback(text: str) -> bool:
    """Feedback headers are localized: recognise it by its rows (a rating 1-5 in the second column and
    an order id in the fifth), or an empty report with six columns of which the fifth names an order."""
    lines = [ln for ln in text.splitlines()[:6] if ln.strip()]
    if not lines:
        return False
    header = lines[0].split("\t")
    if len(header) < 5:
        return False
    body = [ln.split("\t") for ln in lines[1:]]
    if body:
        return all(len(r) >= 5 and r[1].strip() in {"1", "2", "3", "4", "5"} and ORDER_ID.match(r[4].strip())
                   for r in body)
    return "order" in header[4].lower() or "bestell" in header[4].lower()


# ---- the parsers ---------------------------------------------------------------------------------
def parse_report(name: str, raw: bytes, market: Marketplace) -> Report:
    """Parse one report file (bytes as read or uploaded); ReportProblem naming ``name`` if unusable."""
    if not raw:
        raise ReportProblem([f"{name}: empty file"])
    raw = read_bytes(name, raw)
    if not raw.strip():
        raise ReportProblem([f"{name}: empty file"])
    text, encoding = decode(name, raw, market)
    kind = detect(name, text)
    if kind == "json":
        if len(raw) > MAX_JSON_BYTES:
            raise ReportProblem([f"{name}: JSON report over {MAX_JSON_BYTES // 2**20} MB"])
        report = _json_report(name, text)
    elif kind == "xml":
        if len(raw) > MAX_JSON_BYTES:
            raise ReportProblem([f"{name}: XML report over {MAX_JSON_BYTES // 2**20} MB"])
        report = _performance_v1(name, text)
    else:
        if kind == "feedback":
            frame = _feedback_frame(name, text)
        else:
            head = text[:65536]
            del text  # pandas reads the bytes: no second copy of a large report in memory
            frame, _ = read_tsv(name, head, _COLUMNS.get(kind), raw=raw,
                                encoding="utf-8-sig" if encoding == "utf-8" else encoding)
        report = Report(name, kind, encoding=encoding)
        {"orders": _orders, "returns_mfn": _returns_mfn, "returns_fba": _returns_fba, "feedback": _feedback,
         "listings": _listings}[kind](report, frame, market)
    report.encoding = encoding
    if encoding not in ("utf-8",):
        report.warnings.append(f"{name}: not UTF-8; read as {encoding}")
    return report


def _orders(r: Report, f: pd.DataFrame, market: Marketplace) -> None:
    _missing(r, f, ("order-status", "fulfillment-channel", "quantity", "currency", "item-price"))
    r.rows = len(f)
    dates = _dates(r, f, "purchase-date")
    ids = f["amazon-order-id"].astype(str).str.strip()
    keep = (ids != "") & dates.notna()
    if (ids == "").any():
        r.warnings.append(f"{r.name}: {int((ids == '').sum())} rows without amazon-order-id "
                          f"({_lines(np.flatnonzero(ids == ''))}); counted as dropped")
    r.dropped = int((~keep).sum())
    col = lambda c, d="": f[c].astype(str).str.strip() if c in f.columns else pd.Series(d, index=f.index)  # noqa: E731
    status = col("order-status")
    channel = col("fulfillment-channel").str.lower()
    qty = to_number(col("quantity", "1")) if "quantity" in f.columns else pd.Series(1.0, index=f.index)
    bad_qty = qty.isna() | (qty < 0)
    if (bad_qty & keep).any():
        r.warnings.append(f"{r.name}: {int((bad_qty & keep).sum())} rows with no valid quantity "
                          f"({_lines(np.flatnonzero(bad_qty & keep))}); counted as 1 unit")
    qty = qty.where(~bad_qty, 1.0)
    price = to_number(col("item-price"))
    currency = col("currency").str.upper()
    cur = sorted(set(currency[keep & (currency != "")]))
    if len(cur) > 1:
        raise ReportProblem([f"{r.name}: column currency: more than one currency ({', '.join(cur)}); one seller's "
                             "reports of one marketplace are in one currency"])
    r.currency = cur[0] if cur else None
    fba = channel.isin(["afn", "amazon"])
    known = fba | channel.isin(["mfn", "merchant", "seller"])
    if "fulfillment-channel" in f.columns and (keep & ~known).any():
        vals = sorted(set(channel[keep & ~known]))[:3]
        r.warnings.append(f"{r.name}: {int((keep & ~known).sum())} rows with an unknown fulfillment-channel "
                          f"({', '.join(map(repr, vals))}); counted as seller-fulfilled")
    r.data = pd.DataFrame({
        "order": ids[keep].to_numpy(), "day": dates[keep].to_numpy(), "cancelled":
        status[keep].str.contains("cancel", case=False).to_numpy(), "fba": fba[keep].to_numpy(),
        "quantity": qty[keep].to_numpy(), "price": price[keep].to_numpy(),
    })
    _span(r, dates[keep])


_YES = {"y", "yes", "true", "1", "ja", "oui", "si", "sí"}


def _returns_mfn(r: Report, f: pd.DataFrame, market: Marketplace) -> None:
    _missing(r, f, ("order-date", "return-request-date", "return-quantity", "return-reason", "in-policy",
                    "a-to-z-claim"))
    r.rows = len(f)
    order_date = _dates(r, f, "order-date", required=False)
    request = _dates(r, f, "return-request-date", required="return-request-date" in f.columns)
    col = lambda c: f[c].astype(str).str.strip() if c in f.columns else pd.Series("", index=f.index)  # noqa: E731
    qty = to_number(col("return-quantity")) if "return-quantity" in f.columns else pd.Series(1.0, index=f.index)
    bad = qty.isna() | (qty < 0)
    if bad.any():
        r.warnings.append(f"{r.name}: {int(bad.sum())} rows with no valid Return quantity "
                          f"({_lines(np.flatnonzero(bad))})"
                          "; counted as 1 unit")
    qty = qty.where(~bad, 1.0)
    ids = col("order-id")
    keep = ids != ""
    r.dropped = int((~keep).sum())
    if r.dropped:
        r.warnings.append(f"{r.name}: {r.dropped} rows without Order ID ({_lines(np.flatnonzero(~keep))}); dropped")
    cur = col("currency").str.upper() if "currency" in f.columns else None
    if cur is not None:
        cs = sorted(set(cur[cur != ""]))
        if len(cs) > 1:
            raise ReportProblem([f"{r.name}: column currency: more than one currency ({', '.join(cs)})"])
        r.currency = cs[0] if cs else None
    r.data = pd.DataFrame({
        "order": ids[keep].to_numpy(), "order_day": order_date[keep].to_numpy(), "day": request[keep].to_numpy(),
        "quantity": qty[keep].to_numpy(), "reason": col("return-reason")[keep].to_numpy(),
        "in_policy": col("in-policy")[keep].str.lower().isin(_YES).to_numpy(),
        "in_policy_known": (col("in-policy")[keep] != "").to_numpy(),
        "atoz": col("a-to-z-claim")[keep].str.lower().isin(_YES).to_numpy(),
    })
    _span(r, request[keep] if request.notna().any() else order_date[keep])


def _returns_fba(r: Report, f: pd.DataFrame, market: Marketplace) -> None:
    _missing(r, f, ("quantity", "reason", "detailed-disposition", "status"))
    r.rows = len(f)
    day = _dates(r, f, "return-date")
    col = lambda c: f[c].astype(str).str.strip() if c in f.columns else pd.Series("", index=f.index)  # noqa: E731
    qty = to_number(col("quantity")) if "quantity" in f.columns else pd.Series(1.0, index=f.index)
    bad = qty.isna() | (qty < 0)
    if bad.any():
        r.warnings.append(f"{r.name}: {int(bad.sum())} rows with no valid quantity ({_lines(np.flatnonzero(bad))}); "
                          "counted as 1 unit")
    qty = qty.where(~bad, 1.0)
    ids = col("order-id")
    keep = (ids != "") & day.notna()
    r.dropped = int((~keep).sum())
    if (ids == "").any():
        r.warnings.append(f"{r.name}: {int((ids == '').sum())} rows without order-id; dropped")
    r.data = pd.DataFrame({
        "order": ids[keep].to_numpy(), "day": day[keep].to_numpy(), "quantity": qty[keep].to_numpy(),
        "reason": col("reason")[keep].to_numpy(), "disposition": col("detailed-disposition")[keep].to_numpy(),
    })
    _span(r, day[keep])


def _feedback_frame(name: str, text: str) -> pd.DataFrame:
    """The feedback report by position: Date, Rating, Comments, Your Response, Order ID, Rater Email."""
    rows = []
    for i, line in enumerate(text.splitlines()[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) < 5:
            raise ReportProblem([f"{name}: line {i}: {len(cells)} fields; the feedback report has 6 (Date, Rating, "
                                 "Comments, Your Response, Order ID, Rater Email)"])
        rows.append((cells[0], cells[1], cells[4]))
    return pd.DataFrame(rows, columns=["date", "rating", "order-id"], dtype=str)


def _feedback(r: Report, f: pd.DataFrame, market: Marketplace) -> None:
    r.rows = len(f)
    day = _dates(r, f, "date", market.feedback_dates) if len(f) else pd.Series([], dtype="datetime64[ns]")
    rating = to_number(f["rating"]) if len(f) else pd.Series([], dtype=float)
    bad = rating.isna() | ~rating.isin([1, 2, 3, 4, 5])
    if bad.any():
        raise ReportProblem([f"{r.name}: {_lines(np.flatnonzero(bad))}: column Rating: not a rating 1-5 "
                             f"({str(f['rating'][bad].iloc[0])[:20]!r})"])
    keep = day.notna()
    r.dropped = int((~keep).sum())
    r.data = pd.DataFrame({"day": day[keep].to_numpy(), "rating": rating[keep].to_numpy(),
                           "order": f["order-id"][keep].str.strip().to_numpy()})
    _span(r, day[keep])


def _listings(r: Report, f: pd.DataFrame, market: Marketplace) -> None:
    r.rows = len(f)
    price = to_number(f["price"])
    keep = price.notna() & (price > 0)
    r.dropped = int((~keep).sum())
    if r.dropped:
        r.warnings.append(f"{r.name}: {r.dropped} listings without a price ({_lines(np.flatnonzero(~keep))}); "
                          "not used")
    r.data = pd.DataFrame({"price": price[keep].to_numpy()})


# ---- JSON and XML --------------------------------------------------------------------------------
def _json_report(name: str, text: str) -> Report:
    try:
        doc = json.loads(text, parse_constant=lambda c: None)
    except (ValueError, RecursionError) as err:
        where = f"line {err.lineno}: " if hasattr(err, "lineno") else ""
        raise ReportProblem([f"{name}: {where}not valid JSON ({getattr(err, 'msg', err)}); truncated?"]) from None
    if isinstance(doc, dict) and isinstance(doc.get("payload"), dict):
        doc = {**doc, **doc["payload"]}
    if not isinstance(doc, dict):
        raise ReportProblem([f"{name}: JSON that is not a report azsim reads (a list or value at the top level)"])
    if "performanceMetrics" in doc:
        return _performance(name, doc)
    if "salesAndTrafficByDate" in doc:
        return _sales_traffic(name, doc)
    if "FinancialEvents" in doc or "GuaranteeClaimEventList" in doc or "ChargebackEventList" in doc:
        return _finances(name, doc)
    keys = ", ".join(list(doc)[:4]) or "none"
    raise ReportProblem([f"{name}: JSON that is not a report azsim reads (top-level keys: {keys}); expected an "
                         "account health (performanceMetrics), sales and traffic (salesAndTrafficByDate) or financial "
                         "events (FinancialEvents) report"])


def _count(name: str, obj: Any, path: str, problems: list[str]) -> int | None:
    """A non-negative integer count at ``path`` (dotted) in ``obj``; None when absent; a problem if not a count."""
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    if isinstance(cur, bool) or not isinstance(cur, int | float) or cur != cur or cur < 0 or cur > 1e12:
        problems.append(f"{name}: field {path}: not a count ({str(cur)[:30]!r})")
        return None
    return int(cur)


def _performance(name: str, doc: dict) -> Report:
    r = Report(name, "performance")
    metrics = doc.get("performanceMetrics")
    if not isinstance(metrics, list) or not metrics or not all(isinstance(m, dict) for m in metrics):
        raise ReportProblem([f"{name}: field performanceMetrics: expected a list of marketplaces' metrics"])
    r.marketplace_ids = {str(m.get("marketplaceId")) for m in metrics if m.get("marketplaceId")}
    r.data = {"metrics": metrics, "statuses": [s.get("status") for s in doc.get("accountStatuses", [])
                                                if isinstance(s, dict)]}
    r.rows = len(metrics)
    return r


def select_performance(r: Report, market: Marketplace) -> dict:
    """The performance metrics of ``market`` from an account health report, as counts:
    ``{"odr": {"mfn": {...}, "afn": {...}}, "late": (late, n), "cancel": (c, n), "tracking": (v, n)}``
    with warnings for fields a regional variant leaves out."""
    metrics = r.data["metrics"]
    entry = next((m for m in metrics if m.get("marketplaceId") == market.id), None)
    if entry is None:
        entry = metrics[0]
    problems: list[str] = []
    out: dict[str, Any] = {"odr": {}}
    odr = entry.get("orderDefectRate")
    if not isinstance(odr, dict):
        r.warnings.append(f"{r.name}: field orderDefectRate missing; no claim, chargeback or feedback rates from it")
    else:
        for ch in ("mfn", "afn"):
            block = odr.get(ch)
            if not isinstance(block, dict):
                continue
            vals = {k: _count(r.name, block, p, problems) for k, p in (
                ("orders", "orderCount"), ("defects", "orderWithDefects.count"), ("claims", "claims.count"),
                ("chargebacks", "chargebacks.count"), ("negative_feedback", "negativeFeedback.count"))}
            if vals["orders"] is None:
                r.warnings.append(f"{r.name}: field orderDefectRate.{ch}.orderCount missing; {ch} not used")
                continue
            for k, v in vals.items():
                if v is None and k != "orders":
                    r.warnings.append(f"{r.name}: field orderDefectRate.{ch}: {k} count missing")
            rng = block.get("reportingDateRange") or {}
            vals["from"] = parse_datetime_text(rng.get("reportingDateFrom", "")) if isinstance(rng, dict) else None
            vals["to"] = parse_datetime_text(rng.get("reportingDateTo", "")) if isinstance(rng, dict) else None
            if isinstance(rng, dict) and rng.get("reportingDateFrom") and vals["from"] is None:
                problems.append(f"{r.name}: field orderDefectRate.{ch}.reportingDateRange.reportingDateFrom: date does "
                                f"not parse ({str(rng.get('reportingDateFrom'))[:30]!r})")
            out["odr"][ch] = vals
    for key, field_name, num, den in (("late", "lateShipmentRate", "lateShipmentCount", "orderCount"),
                                      ("cancel", "preFulfillmentCancellationRate", "cancellationCount", "orderCount"),
                                      ("tracking", "validTrackingRate", "validTrackingCount", "shipmentCount")):
        block = entry.get(field_name)
        if not isinstance(block, dict):
            r.warnings.append(f"{r.name}: field {field_name} missing (not in this regional variant?); its rate is not "
                              "estimated")
            continue
        a, n = _count(r.name, block, num, problems), _count(r.name, block, den, problems)
        rate = block.get("rate")
        if a is None or n is None:
            r.warnings.append(f"{r.name}: field {field_name}: {num} or {den} missing; not used")
            continue
        if a > n:
            if isinstance(rate, int | float) and 0 <= rate <= 1:
                a = int(round(rate * n))
                r.warnings.append(f"{r.name}: field {field_name}: {num} > {den}; the rate {rate} is used")
            else:
                a = n
        out[key] = (a, n)
    if problems:
        raise ReportProblem(problems)
    dates = [v[k] for v in out["odr"].values() for k in ("from", "to") if v.get(k)]
    if dates:
        r.start, r.end = min(dates).date(), max(dates).date()
    return out


def _sales_traffic(name: str, doc: dict) -> Report:
    r = Report(name, "sales_traffic")
    spec = doc.get("reportSpecification") if isinstance(doc.get("reportSpecification"), dict) else {}
    ids = spec.get("marketplaceIds") or []
    r.marketplace_ids = {str(x) for x in ids} if isinstance(ids, list) else set()
    days = doc["salesAndTrafficByDate"]
    if not isinstance(days, list):
        raise ReportProblem([f"{name}: field salesAndTrafficByDate: expected a list"])
    problems: list[str] = []
    rows, currencies = [], set()
    for i, d in enumerate(days):
        if not isinstance(d, dict):
            problems.append(f"{name}: salesAndTrafficByDate[{i}]: not an object")
            continue
        when = parse_datetime_text(d.get("date", ""))
        if when is None:
            problems.append(f"{name}: salesAndTrafficByDate[{i}].date: date does not parse "
                            f"({str(d.get('date'))[:30]!r})")
            continue
        s = d.get("salesByDate") if isinstance(d.get("salesByDate"), dict) else {}
        t = d.get("trafficByDate") if isinstance(d.get("trafficByDate"), dict) else {}
        sales = s.get("orderedProductSales")
        if isinstance(sales, dict) and sales.get("currencyCode"):
            currencies.add(str(sales["currencyCode"]).upper())
        row = {"day": pd.Timestamp(when)}
        for k in ("unitsOrdered", "totalOrderItems", "unitsRefunded", "claimsGranted", "ordersShipped"):
            row[k] = _count(f"{name}: salesAndTrafficByDate[{i}]", s, k, problems)
        for k in ("feedbackReceived", "negativeFeedbackReceived"):
            row[k] = _count(f"{name}: salesAndTrafficByDate[{i}]", t, k, problems)
        rows.append(row)
    if problems:
        raise ReportProblem(problems[:20])
    if len(currencies) > 1:
        raise ReportProblem([f"{name}: orderedProductSales.currencyCode: more than one currency "
                             f"({', '.join(sorted(currencies))})"])
    r.currency = currencies.pop() if currencies else None
    r.data = pd.DataFrame(rows)
    r.rows = len(rows)
    if rows:
        _span(r, r.data["day"])
    return r


def _event_money(obj: Any) -> tuple[float, set[str]]:
    """Sum of every CurrencyAmount inside ``obj`` (a financial event), and the currencies seen."""
    total, cur = 0.0, set()
    stack = [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            if "CurrencyAmount" in x:
                v = x.get("CurrencyAmount")
                if isinstance(v, int | float) and not isinstance(v, bool) and v == v and abs(v) < 1e12:
                    total += float(v)
                if x.get("CurrencyCode"):
                    cur.add(str(x["CurrencyCode"]).upper())
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    return total, cur


def _finances(name: str, doc: dict) -> Report:
    r = Report(name, "finances")
    ev = doc.get("FinancialEvents", doc)
    if not isinstance(ev, dict):
        raise ReportProblem([f"{name}: field FinancialEvents: expected an object"])
    out, currencies, dates = {}, set(), []
    for key in ("GuaranteeClaimEventList", "ChargebackEventList"):
        events = ev.get(key) or []
        if not isinstance(events, list):
            raise ReportProblem([f"{name}: field {key}: expected a list"])
        per_order: dict[str, float] = {}
        for i, e in enumerate(events):
            if not isinstance(e, dict) or not e.get("AmazonOrderId"):
                r.dropped += 1
                r.warnings.append(f"{name}: {key}[{i}]: no AmazonOrderId; dropped")
                continue
            money, cur = _event_money(e.get("ShipmentItemAdjustmentList", e))
            currencies |= cur
            per_order[str(e["AmazonOrderId"])] = per_order.get(str(e["AmazonOrderId"]), 0.0) + money
            if e.get("PostedDate"):
                when = parse_datetime_text(e["PostedDate"])
                if when is None:
                    raise ReportProblem([f"{name}: {key}[{i}].PostedDate: date does not parse "
                                         f"({str(e['PostedDate'])[:30]!r})"])
                dates.append(when)
        out[key] = per_order
        r.rows += len(events)
    if len(currencies) > 1:
        raise ReportProblem([f"{name}: CurrencyCode: more than one currency ({', '.join(sorted(currencies))})"])
    r.currency = currencies.pop() if currencies else None
    if dates:
        r.start, r.end = min(dates).date(), max(dates).date()
    r.data = out
    return r


_DOCTYPE = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def _performance_v1(name: str, text: str) -> Report:
    """The V1 seller performance XML: only the buyer-seller contact response-time metrics are read.
    Document type declarations are refused before parsing (no entity expansion, no external entities)."""
    if _DOCTYPE.search(text[:4096]) or _DOCTYPE.search(text):
        raise ReportProblem([f"{name}: XML with a DOCTYPE or ENTITY declaration; refused (a report has none)"])
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        line = err.position[0] if getattr(err, "position", None) else "?"
        raise ReportProblem([f"{name}: line {line}: not well-formed XML ({err}); truncated?"]) from None
    r = Report(name, "performance_v1")

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    block = next((el for el in root.iter() if local(el.tag) == "buyerSellerContactResponseTimeMetrics"), None)
    if block is None:
        raise ReportProblem([f"{name}: XML without buyerSellerContactResponseTimeMetrics; not a seller performance "
                             "report azsim reads"])
    values: dict[str, float] = {}
    for el in block.iter():
        key = local(el.tag)
        if key in ("averageResponseTimeInHours", "responseUnder24Hours", "responseTimeGreaterThan24Hours",
                   "noResponseForContactsOlderThan24Hours") and key not in values:
            try:
                v = float((el.text or "").strip())
            except ValueError:
                raise ReportProblem([f"{name}: element {key}: not a number ({(el.text or '')[:30]!r})"]) from None
            if not (v == v and 0 <= v < 1e9):
                raise ReportProblem([f"{name}: element {key}: out of range ({v})"])
            values[key] = v
    for key in ("responseUnder24Hours", "responseTimeGreaterThan24Hours", "noResponseForContactsOlderThan24Hours"):
        if key not in values:
            r.warnings.append(f"{name}: element {key} missing")
    r.data = values
    r.rows = 1
    return r


def marketplace_codes(ids: set[str]) -> set[str]:
    return {MARKETPLACE_IDS.get(i, i) for i in ids}
