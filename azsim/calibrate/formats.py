"""Reading report bytes: size limits, gzip, text encodings, tab-separated tables by header name,
marketplaces and their date formats.

Every problem is a :class:`ReportProblem` naming the file (and the line or field where it applies);
nothing here raises anything else on bad input.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

__all__ = ["MARKETPLACES", "Marketplace", "ReportProblem", "MAX_REPORT_BYTES", "read_bytes", "decode", "read_tsv",
           "parse_dates", "marketplace"]

MAX_REPORT_BYTES = 512 * 1024 * 1024
"""The largest report read (after gzip decompression), in bytes: a year of order lines of a large
seller is about 60 MB."""

MAX_JSON_BYTES = 64 * 1024 * 1024
"""The largest JSON or XML report (performance, sales and traffic, finances)."""


class ReportProblem(ValueError):
    """A report that cannot be used; ``problems`` are one-line messages, each naming the file."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Marketplace:
    code: str
    id: str  # Amazon's marketplaceId
    currency: str
    feedback_dates: tuple[str, ...]  # strptime formats of the feedback report's Date column, in order tried
    encodings: tuple[str, ...]  # fallbacks after UTF-8


_DMY = ("%d/%m/%y", "%d/%m/%Y")
MARKETPLACES: dict[str, Marketplace] = {
    "US": Marketplace("US", "ATVPDKIKX0DER", "USD", ("%m/%d/%y", "%m/%d/%Y"), ("cp1252", "latin-1")),
    "CA": Marketplace("CA", "A2EUQ1WTGCTBG2", "CAD", _DMY, ("cp1252", "latin-1")),
    "UK": Marketplace("UK", "A1F83G8C2ARO7P", "GBP", _DMY, ("cp1252", "latin-1")),
    "DE": Marketplace("DE", "A1PA6795UKMFR9", "EUR", ("%d.%m.%y", "%d.%m.%Y"), ("cp1252", "latin-1")),
    "FR": Marketplace("FR", "A13V1IB3VIYZZH", "EUR", _DMY, ("cp1252", "latin-1")),
    "IT": Marketplace("IT", "APJ6JRA9NG5V4", "EUR", _DMY, ("cp1252", "latin-1")),
    "ES": Marketplace("ES", "A1RKKUPIHCS9HS", "EUR", _DMY, ("cp1252", "latin-1")),
    "JP": Marketplace("JP", "A1VC38T7YXB528", "JPY", ("%y/%m/%d", "%Y/%m/%d"), ("cp932", "latin-1")),
    "SE": Marketplace("SE", "A2NODRKZP88ZB9", "SEK", ("%Y-%m-%d",), ("cp1252", "latin-1")),
}
MARKETPLACE_IDS = {m.id: m.code for m in MARKETPLACES.values()}


def marketplace(code: str) -> Marketplace:
    """The marketplace ``code`` (US, UK, DE, ...); ReportProblem naming the choices if unknown."""
    m = MARKETPLACES.get(str(code).strip().upper())
    if m is None:
        raise ReportProblem([f"--marketplace {code!r}: unknown marketplace; one of {', '.join(MARKETPLACES)}"])
    return m


def read_bytes(name: str, raw: bytes, limit: int = MAX_REPORT_BYTES) -> bytes:
    """The report's bytes, gunzipped when they are gzip (SP-API documents may be), at most ``limit``."""
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
                out = f.read(limit + 1)
        except (OSError, EOFError, zlib.error) as err:
            raise ReportProblem([f"{name}: a gzip file that cannot be read ({err}); truncated or corrupt"]) from None
        if len(out) > limit:
            raise ReportProblem([f"{name}: over {limit // 2**20} MB uncompressed; split the report"])
        return out
    if len(raw) > limit:
        raise ReportProblem([f"{name}: over {limit // 2**20} MB; split the report"])
    return raw


def _binary(raw: bytes) -> bool:
    """NUL bytes (outside a UTF-16 text), or mostly control bytes: not a text report."""
    sample = raw[:65536]
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return control > len(sample) * 0.01


def decode(name: str, raw: bytes, market: Marketplace) -> tuple[str, str]:
    """(text, encoding): UTF-8 (with or without BOM), UTF-16 with a BOM (Excel's "Unicode text"),
    else the marketplace's fallbacks (Amazon often writes Cp1252; Japan cp932), chosen with
    charset-normalizer among them when it can tell. ReportProblem for binary data."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as err:
            raise ReportProblem([f"{name}: UTF-16 text that does not decode at byte {err.start}"]) from None
    if _binary(raw):
        raise ReportProblem([f"{name}: binary data, not a text report (tab-separated, JSON or XML expected)"])
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    order = list(market.encodings)
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(raw[:262144], cp_isolation=[e.replace("-", "_") for e in order]).best()
        if best is not None:
            guess = best.encoding.replace("_", "-")
            order = sorted(order, key=lambda e: e.replace("_", "-") != guess)
    except Exception:  # noqa: BLE001 - a detector failure only loses the hint; the fallbacks remain
        pass
    for enc in order:
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"


def _norm(header: str) -> str:
    return re.sub(r"[\s_\-]+", "-", str(header).strip().strip('"').lower())


def read_tsv(name: str, text: str, wanted: set[str] | None = None, raw: bytes | None = None,
             encoding: str = "utf-8") -> tuple[pd.DataFrame, list[str]]:
    """A tab-separated report as text columns (header row kept as read) and warnings. Rows with
    the wrong number of fields are kept when they have fewer (missing cells) and refused when they
    have more (ReportProblem naming the line)."""
    lines = text.split("\n", 2)[:2] if len(text) > 4096 else text.splitlines()
    if not lines or not lines[0].strip():
        raise ReportProblem([f"{name}: empty report (no header row)"])
    header = lines[0].split("\t")
    width = len(header)
    if width < 2:
        raise ReportProblem([f"{name}: line 1: not a tab-separated report header"])
    try:
        source = io.BytesIO(raw) if raw is not None else io.StringIO(text)
        frame = pd.read_csv(source, sep="\t", encoding=encoding if raw is not None else None, dtype=str,
                            keep_default_na=False, na_filter=False, quoting=3, engine="c", on_bad_lines="error",
                            skip_blank_lines=True,
                            usecols=(lambda c: _norm(c) in wanted) if wanted else None)
    except pd.errors.ParserError as err:
        m = re.search(r"line (\d+)", str(err))
        where = f"line {m.group(1)}: " if m else ""
        raise ReportProblem([f"{name}: {where}more fields than the header has ({err})".replace("\n", " ")]) from None
    except (ValueError, MemoryError) as err:
        raise ReportProblem([f"{name}: cannot read as a tab-separated table: {err}".replace("\n", " ")]) from None
    frame.columns = [_norm(c) for c in frame.columns]
    frame = frame.fillna("")
    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()][0]
        raise ReportProblem([f"{name}: line 1: column {dup!r} appears twice"])
    return frame, []


_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                           "nov", "dec"))}


def parse_dates(values: pd.Series, formats: tuple[str, ...] = ()) -> pd.Series:
    """Dates (day resolution, the marketplace's calendar day as written) of a text column: ISO 8601
    with or without time and offset, ``10-Jul-2025``, ``DD-MM-YYYY`` and the given strptime
    ``formats``. Unparsed values are NaT (the caller counts and reports them)."""
    s = values.astype(str).str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    todo = s != ""
    if not todo.any():
        return out
    # ISO 8601: the date part as written (the local calendar day of the report)
    iso = s.str.match(r"^\d{4}-\d{2}-\d{2}")
    if (iso & todo).any():
        out[iso & todo] = _in_range(pd.to_datetime(s[iso & todo].str.slice(0, 10), format="%Y-%m-%d", errors="coerce"))
    for fmt in formats:
        rest = out.isna() & todo
        if not rest.any():
            break
        out[rest] = _in_range(pd.to_datetime(s[rest], format=fmt, errors="coerce"))
    rest = out.isna() & todo
    if rest.any():
        out[rest] = _in_range(pd.to_datetime(pd.Series([_lenient(v) for v in s[rest]], index=s[rest].index,
                                                       dtype=object)))
    years = out.dt.year
    out[(years < 1990) | (years > 2100)] = pd.NaT  # no report has other years: a typo or garbage
    return out


def _in_range(parsed: pd.Series) -> pd.Series:
    """Parsed dates as nanosecond timestamps, those outside 1990-2100 as NaT: no report has other years, and
    pandas parses a year such as 7025 at a coarser resolution that a nanosecond column cannot hold."""
    years = parsed.dt.year
    return parsed.where((years >= 1990) & (years <= 2100)).astype("datetime64[ns]")


def _lenient(text: str):
    """``10-Jul-2025``, ``10-JUL-25``, ``DD-MM-YYYY``, ``DD.MM.YYYY``; else dateutil (day first
    only when the day cannot be a month); NaT when nothing fits."""
    m = re.fullmatch(r"(\d{1,2})[-/ .]([A-Za-z]{3})[A-Za-z]*[-/ .](\d{2,4})", text)
    if m and m.group(2).lower() in _MONTHS:
        y = int(m.group(3))
        y = y + 2000 if y < 100 else y
        return _safe_date(y, _MONTHS[m.group(2).lower()], int(m.group(1)))
    m = re.fullmatch(r"(\d{1,2})[-.](\d{1,2})[-.](\d{4})", text)
    if m:
        return _safe_date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    if len(text) > 64:
        return pd.NaT
    try:
        from dateutil import parser as du

        d = du.parse(text).date()
        return _safe_date(d.year, d.month, d.day)
    except (ValueError, OverflowError, TypeError):
        return pd.NaT


def _safe_date(y: int, mo: int, d: int):
    if not 1990 <= y <= 2100:  # no Amazon report has other years; pandas' ns timestamps end in 2262
        return pd.NaT
    try:
        return pd.Timestamp(date(y, mo, d))
    except ValueError:
        return pd.NaT


def parse_datetime_text(text: str) -> datetime | None:
    """A JSON/XML timestamp (``2020-10-21T00:00Z``, with seconds or an offset) or a date; None if not one."""
    t = str(text).strip()
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", t)
    if not m:
        return None
    if not 1990 <= int(m.group(1)) <= 2100:
        return None
    try:
        return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def to_number(values: pd.Series) -> pd.Series:
    """Money or counts as written in a report (``19.99``, ``1,234.50``, ``19,99``): float, NaN when empty
    or not a number."""
    s = values.astype(str).str.strip().str.replace(r"^[^\d\-.,]+", "", regex=True)
    comma_decimal = s.str.fullmatch(r"-?\d+,\d{1,2}")
    s = s.where(~comma_decimal, s.str.replace(",", ".", regex=False))
    s = s.str.replace(",", "", regex=False)
    out = pd.to_numeric(s, errors="coerce")
    return out.where(np.isfinite(out))
