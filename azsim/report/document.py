"""The report as a document: sections of ordered blocks (paragraphs, figures, tables, lists, code),
independent of any output format. Every renderer (HTML, Markdown, the PDF printed from the HTML)
walks the same :class:`Report`, so the formats cannot diverge.

Figures and tables are numbered in reading order by :meth:`Report.resolve`; a paragraph cites one
as ``[[figure:NAME]]`` or ``[[table:NAME]]`` and reads "Figure 2" / "Table 3" in every format. A
figure or table that no paragraph of its section cites gets a one-line lead-in that does, so each
one is placed right after the text that refers to it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import labels as L
from ..outputs import slug

MAX_COLUMNS = 8
"""A table wider than this is shown in column groups (the first ``key_columns`` repeated in each), so
it fits the page in every format; the CSV keeps every column."""

MAX_ROWS = 300
"""Rows shown in the HTML, Markdown and PDF; the CSV has them all."""


def fmt(x, decimals: int = 2) -> str:
    """A number as a table cell (thousands separated); missing -> n/a."""
    if x is None or isinstance(x, str):
        return "n/a" if x is None else x
    if isinstance(x, (bool, np.bool_)):
        return "yes" if bool(x) else "no"
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    if not isinstance(x, (float, np.floating)):
        return "n/a" if pd.isna(x) else str(x)
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return "n/a"
    text = f"{x:,.{decimals}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text.replace(",", "")) == 0 else text


@dataclass
class Table:
    """A table: ``df`` holds the numbers (tables/NAME.csv and .tex); what the reader sees is ``header``
    and ``rows`` (formatted text, from :mod:`azsim.labels`) when given, else ``df`` with readable column
    names and :func:`fmt` cells."""

    name: str
    caption: str
    df: pd.DataFrame
    decimals: int = 2
    header: list[str] | None = None
    rows: list[list[str]] | None = None
    numeric: list[bool] | None = None
    key_columns: int = 1
    number: int | str = 0
    widths: list[float] | None = None  # relative column widths (a fixed layout for long text), else automatic

    def __post_init__(self) -> None:
        self.name = slug(self.name)  # the file names tables/NAME.csv, .tex

    def cells(self, max_rows: int | None = None) -> list[list[str]]:
        """The body as text."""
        if self.rows is not None:
            return self.rows if max_rows is None else self.rows[:max_rows]
        df = self.df if max_rows is None else self.df.head(max_rows)
        return [[fmt(v, self.decimals) if not isinstance(v, str) else v for v in row]
                for row in df.itertuples(index=False, name=None)]

    def head(self) -> list[str]:
        if self.header is not None:
            return list(self.header)
        return [column_label(c) for c in self.df.columns]

    def numeric_columns(self) -> list[bool]:
        if self.numeric is not None:
            return list(self.numeric)
        if self.rows is not None:
            return [i > 0 for i in range(len(self.head()))]
        return [pd.api.types.is_numeric_dtype(self.df[c]) for c in self.df.columns]

    @property
    def length(self) -> int:
        return len(self.rows) if self.rows is not None else len(self.df)

    def groups(self, max_columns: int = MAX_COLUMNS) -> list[list[int]]:
        """Column indices of each part the table is shown in: all of them when it fits, else the key
        columns followed by as many others as fit, part after part."""
        n = len(self.head())
        if n <= max_columns:
            return [list(range(n))]
        keys = list(range(min(self.key_columns, n)))
        rest = list(range(len(keys), n))
        step = max(1, max_columns - len(keys))
        return [keys + rest[i:i + step] for i in range(0, len(rest), step)]

    @property
    def label(self) -> str:
        return f"Table {self.number}" if self.number else "Table"


@dataclass
class Figure:
    name: str
    caption: str
    fig: object  # a matplotlib Figure
    png: bytes = b""
    number: int | str = 0

    def __post_init__(self) -> None:
        self.name = slug(self.name)  # the file names figures/NAME.png, .svg

    @property
    def label(self) -> str:
        return f"Figure {self.number}" if self.number else "Figure"


@dataclass
class Section:
    """A section: its ``paragraphs`` first, then ``items`` in order. An item is ``(kind, value)``:
    ``("figure", name)``, ``("table", name)``, ``("para", text)``, ``("list", [text, ...])``,
    ``("heading", text)`` (a sub-heading), ``("code", text)`` (a command or citation, shown as is),
    ``("facts", [(term, text), ...])``, ``("details", (summary, [text, ...]))`` (folded in HTML,
    a compact list elsewhere) or ``("answer", text)`` (the answer in words, set off)."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    items: list[tuple[str, object]] = field(default_factory=list)
    anchor: str = ""

    def blocks(self) -> list[tuple[str, object]]:
        return [("para", p) for p in self.paragraphs] + list(self.items)


@dataclass
class Report:
    title: str
    subtitle: str
    sections: list[Section]
    tables: dict[str, Table]
    figures: dict[str, Figure]
    metadata: dict

    def resolve(self) -> Report:
        """Number figures and tables in reading order (an appendix's "A1", "A2"...), give every one a citing
        sentence in its section, and replace ``[[figure:NAME]]`` / ``[[table:NAME]]`` in the text by
        "Figure N" / "Table N"."""
        nf = nt = na = 0
        for s in self.sections:
            s.anchor = s.anchor or slug(s.title.lower().replace(" ", "-"))
            appendix = s.title.startswith("Appendix")
            for kind, value in s.blocks():
                if kind == "figure" and value in self.figures and not self.figures[value].number:
                    na, nf = (na + 1, nf) if appendix else (na, nf + 1)
                    self.figures[value].number = f"A{na}" if appendix else nf
                elif kind == "table" and value in self.tables and not self.tables[value].number:
                    na, nt = (na + 1, nt) if appendix else (na, nt + 1)
                    self.tables[value].number = f"A{na}" if appendix else nt
        for s in self.sections:
            blocks, cited = [], set()
            for kind, value in s.blocks():
                if kind in ("para", "answer"):
                    cited |= set(_REF.findall(value))
                if kind in ("figure", "table") and (kind, value) not in cited:
                    thing = self.figures[value] if kind == "figure" else self.tables[value]
                    blocks.append(("para", f"{thing.label}: {_lower_first(thing.caption)}."))
                    cited.add((kind, value))
                blocks.append((kind, value))
            s.paragraphs, s.items = [], [(k, self._refs(v) if k in ("para", "answer") else v) for k, v in blocks]
        return self

    def _refs(self, text: str) -> str:
        def sub(m):
            kind, name = m.group(1), m.group(2)
            thing = (self.figures if kind == "figure" else self.tables).get(name)
            return thing.label if thing is not None else kind.capitalize()

        return _REF.sub(sub, text)


_REF = re.compile(r"\[\[(figure|table):([a-z0-9_-]+)\]\]")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def cite(kind: str, name: str) -> str:
    """The placeholder a paragraph uses to cite a figure or table: resolved to 'Figure 2' / 'Table 3'."""
    return f"[[{kind}:{slug(name)}]]"


_COLUMN_WORDS = {"ci95": "95% CI", "ci": "CI", "pct": "%", "s1": "S1", "st": "ST", "id": "id"}


def column_label(name) -> str:
    """A data frame column as a heading: words, no snake_case ('sweep_id' -> 'Sweep id', 'S1_ci_low' ->
    'S1 CI low')."""
    parts = re.split(r"[_\s]+", str(name).strip())
    words = [_COLUMN_WORDS.get(p.lower(), p) for p in parts if p]
    return L.humanize(" ".join(words)) if words else ""
