"""The "Calibration" section of a scenario report: present when the scenario file was written by
``azsim calibrate`` (or the app's "From my Seller Central reports"), found from the comments that
calibration leaves on each estimated field (``estimated from <report> (<files>) <dates>, n = ...,
95% CI [...]; <method>``, read back by :func:`azsim.calibrate.parse_comment`). The comments travel
with the scenario into metadata.json, so ``azsim report --reproduce`` keeps the section."""

from __future__ import annotations

import math

import pandas as pd

from .. import labels as L
from ..calibrate import CALIBRATED_FIELDS, parse_comment
from ..calibrate.core import NOT_FROM_REPORTS
from .document import Section, Table, cite
from .scenario_content import flatten

TABLE = "calibration"


def calibration_estimates(comments: dict[str, str] | None) -> dict[str, dict]:
    """{scenario field: the parts of its calibration comment} for every field a calibration estimated."""
    out = {}
    for path, comment in (comments or {}).items():
        parts = parse_comment(comment)
        if parts is not None:
            out[path] = parts
    return out


def calibration_section(scenario_dict: dict, comments: dict[str, str] | None,
                        currency: str = "USD") -> tuple[Section, Table] | None:
    """The section and its table, or None when no field of the scenario carries a calibration comment."""
    found = calibration_estimates(comments)
    values = flatten(scenario_dict)
    found = {p: d for p, d in found.items() if p in values}
    if not found:
        return None
    order = {p: i for i, p in enumerate(CALIBRATED_FIELDS)}
    paths = sorted(found, key=lambda p: (order.get(p, len(order)), p))
    rows, shown = [], []
    for path in paths:
        d = found[path]
        value = values[path]
        rows.append({"field": path, "label": L.field_text(path), "value": value, "ci95_low": d["low"],
                     "ci95_high": d["high"], "n": d["n"], "source": d["source"], "files": ", ".join(d["files"]),
                     "window": d["window"], "method": d["method"]})
        ci = ("n/a" if not (math.isfinite(d["low"]) and math.isfinite(d["high"])) else
              f"{L.field_value(path, d['low'], currency)} to {L.field_value(path, d['high'], currency)}")
        where = f"{d['source']} ({', '.join(d['files'])}), {d['window']}" if d["files"] else \
            f"{d['source']}, {d['window']}"
        shown.append([L.field_text(path), L.field_value(path, value, currency), ci, f"{d['n']:,}", where,
                      d["method"]])
    df = pd.DataFrame(rows, columns=["field", "label", "value", "ci95_low", "ci95_high", "n", "source", "files",
                                     "window", "method"])
    table = Table(TABLE, "Scenario fields estimated from the seller's own reports: the value simulated, its 95% "
                  "CI, the sample size (orders, shipments or units) and the report, files and dates it comes from",
                  df, header=["Field", "Value", "95% CI", "n", "From", "How"], rows=shown,
                  numeric=[False, True, True, True, False, False], widths=[18, 9, 14, 7, 27, 25])
    kept = [p for p in CALIBRATED_FIELDS if p not in found]
    items: list[tuple[str, object]] = [("table", TABLE)]
    if kept:
        items.append(("para", "Kept from the base scenario (the reports given did not measure them): "
                      + "; ".join(f"{L.field_text(p)} ({p}) = {L.field_value(p, values.get(p), currency)}"
                                  for p in kept) + "."))
    items.append(("para", "Never in a seller's reports, so always the base scenario's: "
                  + "; ".join(f"{k} ({v})" for k, v in NOT_FROM_REPORTS.items()) + "."))
    section = Section("Calibration", [
        f"This scenario was calibrated from the seller's own reports (azsim calibrate): "
        f"{L.plural(len(paths), 'field')} were measured or fitted ({cite('table', TABLE)}); every other parameter "
        "is the base scenario's. The simulation uses each estimate's value; the uncertainty of the estimates (their "
        "95% CIs) is not part of the results' confidence intervals, which measure the randomness of a simulated "
        "year. To see how much an estimate matters, run the scenario at the ends of its CI (azsim compare --set). "
        "docs/calibration.md gives each field's report, columns and estimator."], items)
    return section, table
