"""report.md: the same sections and blocks as report.html, in Markdown (GFM tables). Every text is
escaped (:func:`azsim.outputs.md_escape`: no HTML, link or image syntax from a name, description or
comment); only the structure (headings, tables, lists, code blocks, figure links to the slugged file
names) is Markdown."""

from __future__ import annotations

from ..outputs import md_escape
from .document import MAX_ROWS, Report


def _code(text: str) -> list[str]:
    return ["```text", md_escape(text), "```"]  # escaped too: a name in a citation stays inert


def render(report: Report) -> str:
    e = md_escape
    lines = [f"# {e(report.title)}", "", e(report.subtitle), ""]
    for s in report.sections:
        lines += [f"## {e(s.title)}", ""]
        for kind, value in s.items:
            if kind == "para":
                lines += [e(value), ""]
            elif kind == "answer":
                lines += [f"> **{e(value)}**", ""]
            elif kind == "heading":
                lines += [f"### {e(value)}", ""]
            elif kind == "code":
                lines += [*_code(str(value)), ""]
            elif kind == "list":
                lines += [f"- {e(x)}" for x in value] + [""]
            elif kind == "facts":
                lines += [f"- **{e(k)}**: {e(v)}" for k, v in value] + [""]
            elif kind == "details":
                summary, rest = value
                lines += [f"*{e(summary)}*: " + "; ".join(e(x) for x in rest), ""]
            elif kind == "figure":
                f = report.figures[value]
                lines += [f"![{e(f.caption)}](figures/{f.name}.png)", "",
                          f"*{e(f.label)}. {e(f.caption)}* (figures/{f.name}.png, .svg)", ""]
            elif kind == "table":
                t = report.tables[value]
                head, numeric, body = t.head(), t.numeric_columns(), t.cells(MAX_ROWS)
                parts = t.groups()
                for k, cols in enumerate(parts, start=1):
                    part = f" (part {k} of {len(parts)})" if len(parts) > 1 else ""
                    lines += [f"**{e(t.label)}. {e(t.caption)}{part}**", "",
                              "| " + " | ".join(e(head[i]) or " " for i in cols) + " |",
                              "|" + "|".join("---:" if numeric[i] else "---" for i in cols) + "|"]
                    lines += ["| " + " | ".join(e(row[i]) for i in cols) + " |" for row in body]
                    lines.append("")
                if t.length > MAX_ROWS:
                    lines += [f"First {MAX_ROWS} of {t.length} rows.", ""]
                lines += [f"(tables/{t.name}.csv, tables/{t.name}.tex)", ""]
    return "\n".join(lines) + "\n"
