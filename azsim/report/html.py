"""report.html: one self-contained page (figures embedded as PNG), readable offline, that is also the
source of report.pdf (printed by a headless browser, :mod:`azsim.report.pdf`): the print styles
(``@page`` A4 with page numbers, table headers repeated on each page, no figure or table row split
across pages) live here, so the two formats are the same document.

Wide tables fit the page: at most :data:`~azsim.report.document.MAX_COLUMNS` columns per table part
(a wider one is shown in column groups, its key column repeated), fixed-width wrapping cells, and
horizontal scrolling only as a last resort on a narrow screen.
"""

from __future__ import annotations

import base64
import re

from markupsafe import Markup, escape

from .document import MAX_ROWS, Report, Table

CSS = """
@page { size: A4; margin: 15mm 13mm 17mm 13mm;
        @bottom-center { content: "Page " counter(page) " of " counter(pages); font-family: "DejaVu Sans", Arial,
                         sans-serif; font-size: 8pt; color: #444; } }
body { font-family: "DejaVu Sans", Arial, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #111; line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.55rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.22rem; border-bottom: 1px solid #999; margin-top: 1.8rem; break-after: avoid; }
h3 { font-size: 1.0rem; margin: 1rem 0 0.2rem; break-after: avoid; }
p { margin: 0.4rem 0; }
.sub { color: #555; font-size: 0.85rem; }
.answer { border-left: 4px solid #0072B2; background: #eef5fb; padding: 0.5rem 0.9rem; font-size: 1.08rem;
          break-inside: avoid; }
.tablewrap { overflow-x: auto; margin: 0.3rem 0 1.1rem; break-inside: auto; }
table { border-collapse: collapse; font-size: 0.8em; width: 100%; }
table.fixed { table-layout: fixed; font-size: 0.74em; }
caption { caption-side: top; text-align: left; font-weight: bold; padding: 0.25rem 0; font-size: 1.05em; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { border: 1px solid #bbb; padding: 0.15rem 0.35rem; vertical-align: top; overflow-wrap: break-word;
         hyphens: manual; }
th { background: #eee; font-weight: 600; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.auto td.num { white-space: nowrap; }
figure { margin: 0.8rem 0 1.1rem; break-inside: avoid; }
figure img { display: block; max-width: 100%; max-height: 21cm; margin: 0 auto; }
figcaption { font-size: 0.82rem; color: #222; margin-top: 0.2rem; }
figcaption b, caption b { font-weight: bold; }
.note { font-size: 0.75rem; color: #555; margin-top: 0.1rem; }
pre.code { white-space: pre-wrap; overflow-wrap: anywhere; background: #f5f5f5; border: 1px solid #ddd;
           padding: 0.4rem 0.6rem; font-size: 0.8rem; break-inside: avoid; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; column-gap: 1rem; row-gap: 0.1rem;
           font-size: 0.88rem; margin: 0.4rem 0; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
ul { margin: 0.3rem 0 0.5rem; padding-left: 1.3rem; } li { margin: 0.1rem 0; }
code, .param { font-family: "DejaVu Sans Mono", monospace; font-size: 0.9em; overflow-wrap: anywhere; }
details { margin: 0.2rem 0 0.6rem; font-size: 0.85rem; }
details summary { cursor: pointer; color: #0b4f80; }
ul.compact { padding-left: 0; } ul.compact li { display: inline; }
ul.compact li:not(:last-child)::after { content: "; "; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 9.5pt; }
  .tablewrap { overflow: visible; }
  details::details-content { content-visibility: visible; display: block; }
  details summary { list-style: none; color: #111; font-style: italic; }
  h2 { margin-top: 1.2rem; }
  figure img { max-height: 10.5cm; max-width: 100%; width: auto; }
  a { color: inherit; text-decoration: none; }
}
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ r.title }}</title>
<style>{{ css|safe }}</style></head><body>
<h1>{{ r.title }}</h1>
<p class="sub">{{ r.subtitle }}</p>
{% for s in r.sections %}<section id="sec-{{ s.anchor }}"><h2>{{ s.title }}</h2>
{% for kind, value in s.items %}{% if kind == "para" %}<p>{{ value }}</p>
{% elif kind == "answer" %}<p class="answer">{{ value }}</p>
{% elif kind == "heading" %}<h3>{{ value }}</h3>
{% elif kind == "code" %}<pre class="code">{{ value }}</pre>
{% elif kind == "list" %}<ul>{% for x in value %}<li>{{ x }}</li>{% endfor %}</ul>
{% elif kind == "facts" %}<dl class="facts">{% for k, v in value %}<dt>{{ k }}</dt><dd>{{ v }}</dd>{% endfor %}</dl>
{% elif kind == "details" %}<details><summary>{{ value[0] }}</summary><ul class="compact">
{% for x in value[1] %}<li>{{ x }}</li>{% endfor %}</ul></details>
{% elif kind == "figure" %}{% set f = r.figures[value] %}
<figure id="fig-{{ f.name }}"><img src="data:image/png;base64,{{ b64(f.png) }}" alt="{{ f.caption }}">
<figcaption><b>{{ f.label }}.</b> {{ f.caption }} (figures/{{ f.name }}.png, .svg)</figcaption></figure>
{% elif kind == "table" %}{% set t = r.tables[value] %}{% set parts = t.groups() %}
{% for cols in parts %}<div class="tablewrap">
<table id="tab-{{ t.name }}{% if loop.index > 1 %}-{{ loop.index }}{% endif %}"
 class="{{ 'fixed' if t.widths else 'auto' }}">
{%- if t.widths %}<colgroup>{% for i in cols %}<col style="width: {{ '%.1f' % (100 * t.widths[i] / width(t, cols)) }}%">
{%- endfor %}</colgroup>{% endif %}
<caption><b>{{ t.label }}.</b> {{ t.caption }}{% if parts|length > 1 %}
 (part {{ loop.index }} of {{ parts|length }}){% endif %}</caption>
<thead><tr>{% for i in cols %}<th{% if numeric(t)[i] %} class="num"{% endif %}>{{ t.head()[i] }}</th>
{%- endfor %}</tr></thead><tbody>
{% for row in t.cells(max_rows) %}<tr>{% for i in cols -%}
<td{% if numeric(t)[i] %} class="num"{% endif %}>{{ row[i] if numeric(t)[i] else row[i]|wbr }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>{% endfor %}{% if t.length > max_rows %}
<p class="note">First {{ max_rows }} of {{ t.length }} rows.</p>{% endif %}
<p class="note">tables/{{ t.name }}.csv, tables/{{ t.name }}.tex</p>
{% endif %}{% endfor %}</section>
{% endfor %}</body></html>
"""


def _numeric(t: Table) -> list[bool]:
    return t.numeric_columns()


def _wbr(text) -> Markup:
    """Text with a soft line-break opportunity after each '.', '_' and '/' (dotted parameter paths and
    addresses wrap at their joints instead of anywhere)."""
    return Markup(re.sub(r"([._/])(?=\w)", r"\1<wbr>", str(escape(text))))


def _width(t: Table, cols: list[int]) -> float:
    return sum(t.widths[i] for i in cols) or 1.0


def render(report: Report) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["wbr"] = _wbr
    return env.from_string(_TEMPLATE).render(
        r=report, css=CSS, max_rows=MAX_ROWS, numeric=_numeric, width=_width,
        b64=lambda data: base64.b64encode(data).decode("ascii"))
