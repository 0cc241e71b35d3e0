"""The headline table, built once: each policy's level and each policy's paired change from the
baseline, with its 95% CI, for the rows a seller reads first.

:func:`headline` reads a :class:`~azsim.comparison.Comparison` and returns a :class:`Headline`;
every face renders that same object: the CLI's text table (:meth:`Headline.text`), the app's cards
and Markdown download, the reports' tables (:meth:`Headline.cells`) and ``Comparison.summary``
(:meth:`Headline.frame`). Labels, units and formats come from :mod:`azsim.labels`.

Every row adds up: baseline + change = policy, within rounding. Money and counts are means over all
replications. A metric that can be undefined in a replication (ODR, compensation days) is shown over
the replications where EVERY policy of the table has a value, levels and changes alike
(:func:`azsim.stats.paired_columns`); the row says over how many when that is fewer than all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from . import labels as L
from .stats import column_stats, paired_columns

__all__ = ["HEADLINE_ROWS", "PARTY_ROWS", "Change", "Row", "Headline", "headline"]


@dataclass(frozen=True)
class Spec:
    key: str
    text: str | None = None  # overrides the label of azsim.labels (e.g. "of which ...")
    needs: str | None = None  # for a metric that can be undefined: what a replication needs to have it
    indent: int = 0


HEADLINE_ROWS = (
    Spec("seller_cost.total"),
    Spec("seller_cost.by_category.insurance_premium", "of which insurance premium", indent=1),
    Spec("practice_costs.total", "of which practice costs", indent=1),
    Spec("amazon_cost.total"),
    Spec("insurer_cost.total"),
    Spec("buyer_uncompensated.total"),
    Spec("counts.orders"),
    Spec("counts.claims.total.atoz"),
    Spec("counts.claims.total.pdpi", "PD/PI claims"),
    Spec("counts.chargebacks"),
    Spec("counts.negative_feedback"),
    Spec("odr.mean", needs="an ODR value"),
    Spec("odr.max", needs="an ODR value"),
    Spec("suspended_days"),
    Spec("suspended_days_by_channel.any"),
    Spec("replies.within_24h", needs="a buyer message"),
    Spec("insurance.loss_ratio", needs="a premium"),
    Spec("compensation_days.pdpi.mean", needs="a PD/PI payment"),
    Spec("compensation_days.pdpi.p90", needs="a PD/PI payment"),
)
"""Rows of the headline table, in order."""

PARTY_ROWS = tuple(s for s in HEADLINE_ROWS if s.key in (
    "seller_cost.total", "amazon_cost.total", "insurer_cost.total", "buyer_uncompensated.total"))
"""The four parties' net costs: the app's cards."""


def _num(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


@dataclass(frozen=True)
class Change:
    """A paired change from the baseline: mean, 95% CI (``low``, ``high``; None with fewer than two
    replications), relative change in % of the baseline (None where the baseline is 0) and ``n``."""

    mean: float | None
    low: float | None
    high: float | None
    pct: float | None
    n: int

    def phrase(self, unit: str, currency: str) -> str:
        return L.change_phrase(self.mean, self.low, self.high, unit, currency)


@dataclass(frozen=True)
class Row:
    key: str
    text: str
    unit: str
    indent: int
    levels: dict[str, float | None]  # policy -> mean, in the metric's own unit (fractions for percent)
    changes: dict[str, Change]  # policy (not the baseline) -> change from the baseline
    n: int  # replications the row is over
    needs: str | None = None

    def label(self, replications: int) -> str:
        """The row's label, with '[n of N reps]' when it is over fewer than all replications."""
        if self.needs and self.n < replications:
            return f"{self.text} [{self.n} of {replications} reps]"
        return self.text


@dataclass
class Headline:
    """The headline table of a comparison (see the module docstring)."""

    policies: list[str]  # the baseline first
    currency: str
    replications: int
    rows: list[Row] = field(default_factory=list)

    @property
    def baseline(self) -> str:
        return self.policies[0]

    def row(self, key: str) -> Row:
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(f"no headline row {key!r}")

    def unit_suffix(self, unit: str) -> str:
        return {L.MONEY: f"({self.currency}/yr)", L.COUNT: "(/yr)", L.PERCENT: "(%)", L.SHARE: "(%)",
                L.DAYS: "(days)", L.HOURS: "(hours)"}.get(unit, "")

    def frame(self) -> pd.DataFrame:
        """As numbers (``Comparison.summary``): index = label with its unit; columns: each policy's level,
        then per other policy ``P-BASE``, ``P-BASE ci95 low/high``, ``P-BASE change %``; ``replications``.
        Percent metrics are scaled to %."""
        base = self.baseline
        out = []
        for r in self.rows:
            scale = 100.0 if r.unit in (L.PERCENT, L.SHARE) else 1.0

            def sc(x, s=scale):
                return None if x is None else x * s
            suffix = self.unit_suffix(r.unit)
            d: dict = {"metric": ("  " * r.indent) + r.label(self.replications).replace(
                r.text, f"{r.text} {suffix}".rstrip(), 1)}
            for p in self.policies:
                d[p] = sc(r.levels[p])
            for p in self.policies[1:]:
                c, tag = r.changes[p], f"{p}-{base}"
                d[tag], d[f"{tag} ci95 low"], d[f"{tag} ci95 high"] = sc(c.mean), sc(c.low), sc(c.high)
                d[f"{tag} change %"] = c.pct
            d["replications"] = r.n
            out.append(d)
        table = pd.DataFrame(out).set_index("metric")
        return table[[*self.policies, *[c for c in table.columns if c not in self.policies]]]

    def header(self, policy_names: bool = False) -> list[str]:
        """Column headings of :meth:`cells`; with ``policy_names`` the scenario's own names, else labels."""
        name = (lambda p: p) if policy_names else L.policy_label
        base = self.baseline
        head = ["", *[name(p) for p in self.policies]]
        for p in self.policies[1:]:
            head += [f"{name(p)} − {name(base)}", "95% CI", "change"]
        return head

    def cells(self, policy_names: bool = False, indent: str = "  ") -> list[list[str]]:
        """The table as formatted strings, header first: label (with its unit), levels, then per other
        policy the signed change, its 95% CI and the relative change."""
        rows = [self.header(policy_names)]
        for r in self.rows:
            suffix = self.unit_suffix(r.unit) if r.unit in (L.MONEY, L.COUNT) else ""  # others carry their unit
            text = r.label(self.replications)
            line = [indent * r.indent + (text.replace(r.text, f"{r.text} {suffix}".rstrip(), 1))]
            line += [L.value(r.levels[p], r.unit, self.currency) for p in self.policies]
            for p in self.policies[1:]:
                c = r.changes[p]
                line += [L.value(c.mean, r.unit, self.currency, signed=True),
                         L.ci_text(c.low, c.high, r.unit, self.currency), L.pct_text(c.pct)]
            rows.append(line)
        return rows

    def text(self, policy_names: bool = True) -> str:
        """A plain-text table (the CLI's): first column left-aligned, the rest right-aligned."""
        cells = self.cells(policy_names)
        widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
        lines = []
        for row in cells:
            parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
            lines.append("  ".join(parts).rstrip())
        return "\n".join(lines)

    def markdown(self, policy_names: bool = False) -> str:
        """A Markdown (GFM) table: numbers right-aligned."""
        from .outputs import md_escape

        cells = self.cells(policy_names, indent="\u2003")
        head, body = cells[0], cells[1:]
        lines = ["| " + " | ".join(md_escape(c) for c in head) + " |",
                 "|" + "|".join([":---", *["---:"] * (len(head) - 1)]) + "|"]
        lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in body]
        return "\n".join(lines)


def headline(result, policies: list[str] | None = None, rows=HEADLINE_ROWS) -> Headline:
    """The headline table of ``result`` for ``policies`` (default: all, the first is the baseline; pass
    ``[baseline, other]`` for one pair, as the app's comparison picker does)."""
    pols = list(policies) if policies is not None else list(result.policies)
    unknown = [p for p in pols if p not in result.policies]
    if unknown or not pols:
        raise KeyError(f"no policy {', '.join(map(repr, unknown)) or '(none given)'} in this comparison; "
                       f"it has {', '.join(result.policies)}")
    base = pols[0]
    out = Headline(policies=pols, currency=result.scenario.market.currency, replications=result.replications)
    for spec in rows:
        m = L.metric(spec.key)
        vals = {p: result.values(p, spec.key) for p in pols}
        levels: dict[str, float | None] = {}
        changes: dict[str, Change] = {}
        if len(pols) == 1:
            n, mean, _, _ = column_stats(vals[base])
            levels[base], used = _num(mean[0]), int(n[0])
        for p in pols[1:]:
            d = paired_columns(vals[base], vals[p], also=[vals[q] for q in pols[1:] if q != p])
            used = int(d["n"][0])
            levels[base], levels[p] = _num(d["base_mean"][0]), _num(d["other_mean"][0])
            changes[p] = Change(_num(d["mean"][0]), _num(d["ci_low"][0]), _num(d["ci_high"][0]),
                                _num(d["pct"][0]), used)
        out.rows.append(Row(spec.key, spec.text or m.text, m.unit, spec.indent, levels, changes, used, spec.needs))
    return out
