"""tables/NAME.tex: every table as LaTeX (booktabs via pandas), numbers formatted as in the report,
captions escaped (:func:`azsim.outputs.tex_escape`)."""

from __future__ import annotations

from ..outputs import tex_escape
from .document import Table, fmt


def render(t: Table) -> str:
    df = t.df.copy()
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].map(lambda v: v if isinstance(v, str) else fmt(v, t.decimals))
    return df.to_latex(index=False, caption=tex_escape(t.caption), label=f"tab:{t.name}",
                       float_format=lambda x: fmt(x, t.decimals), na_rep="n/a", escape=True, longtable=len(df) > 40)
