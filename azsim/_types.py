"""Shared pydantic base and bounded number types for scenario and policy schemas."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Annotated, Any, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

MAX_MONEY = 1e9
"""The largest amount of money any one field may hold (in the scenario's currency)."""

MAX_DAYS = 36_500.0
"""The longest duration any field may hold: 100 years."""

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
"""A probability or share, in [0, 1]."""

Money = Annotated[float, Field(ge=0.0, le=MAX_MONEY)]
"""An amount of money in the scenario's currency (``market.currency``; US dollars by default), never
negative, at most 1e9."""

Days = Annotated[float, Field(ge=0.0, le=MAX_DAYS)]
"""A duration or mean duration in days, never negative, at most 100 years."""

Hours = Annotated[float, Field(ge=0.0, le=MAX_DAYS * 24)]
"""A duration in hours, never negative, at most 100 years."""

Minutes = Annotated[float, Field(ge=0.0, le=10_080.0)]
"""A duration in minutes (a task's handling time), never negative, at most a week."""


def _is_number_type(ann: Any) -> bool:
    """Whether a field annotation is (or includes) int or float: a boolean there is an error."""
    if ann is int or ann is float:
        return True
    return any(_is_number_type(a) for a in get_args(ann) if a is not type(None))


class Model(BaseModel):
    """Base of every schema model: unknown fields are errors and objects are immutable.

    Every number is finite (``inf`` and ``nan`` are refused) and a boolean is never a number
    (``true`` in a numeric field is an error, not 1).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and info.field_name is not None:
            field = cls.model_fields.get(info.field_name)
            if field is not None and field.annotation is not bool and _is_number_type(field.annotation):
                raise ValueError(f"input should be a number, not a boolean (got {str(value).lower()})")
        return value


def _control_character(text: str, allowed: str) -> str | None:
    return next((c for c in text if (ord(c) < 32 and c not in allowed) or 0x7F <= ord(c) < 0xA0
                 or 0xD800 <= ord(c) < 0xE000), None)


def _printable(text: str) -> str:
    """Free text (descriptions, sources): no control characters but newline and tab, valid UTF-8."""
    bad = _control_character(text, "\n\t")
    if bad is not None:
        raise ValueError(f"contains the control character {bad!r}; use printable text")
    return text


def _one_line(text: str) -> str:
    """A name: printable text on one line."""
    bad = _control_character(text, "")
    if bad is not None:
        raise ValueError(f"contains the character {bad!r}; a name is printable text on one line")
    return text


Text = Annotated[str, AfterValidator(_printable)]
"""Free text: printable characters, newlines and tabs."""


_NORMAL = NormalDist()
_U_EDGE = 1e-12


DelayMean = Annotated[float, Field(ge=0.0, le=MAX_DAYS, description="mean delay (days)")]
"""The mean of a random delay, in days (at most 100 years)."""

DelayCv = Annotated[float, Field(ge=0.0, le=3.0, description="coefficient of variation: standard deviation / mean")]
"""The spread of a random delay: its standard deviation over its mean (0 = a fixed delay)."""


class Delay(Model):
    """A random delay in days: lognormal with this ``mean`` and coefficient of variation ``cv``.

    ``cv`` 0 is a fixed delay of ``mean`` days. Each delay field has its own subclass carrying
    its defaults, so a bare number in a scenario file is read as the mean with that field's
    default spread (``amazon_payment_days: 30`` = ``{mean: 30, cv: 0.5}``), and a partial mapping
    (``{cv: 0.8}``) keeps the field's default mean. Draws are inverse-CDF transforms of one
    pre-drawn uniform, so a delay keeps its rank (a slow claim stays slow) when ``mean`` or
    ``cv`` change: common random numbers across parameter values.
    """

    mean: DelayMean
    cv: DelayCv = 0.5

    @model_validator(mode="before")
    @classmethod
    def _bare_number_is_the_mean(cls, data: Any) -> Any:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"mean": data}
        return data

    @property
    def sigma(self) -> float:
        """Standard deviation of the log of the delay."""
        return math.sqrt(math.log1p(self.cv**2))

    @property
    def median(self) -> float:
        return self.mean / math.sqrt(1.0 + self.cv**2) if self.mean > 0 else 0.0

    def quantile(self, q: float) -> float:
        """The delay below which a share ``q`` of draws fall (q in (0, 1))."""
        if self.mean <= 0 or self.cv <= 0:
            return self.mean
        q = min(max(q, _U_EDGE), 1.0 - _U_EDGE)
        s = self.sigma
        return self.mean * math.exp(s * _NORMAL.inv_cdf(q) - s * s / 2.0)

    def draw(self, u: float) -> float:
        """The delay for the pre-drawn uniform ``u`` in [0, 1)."""
        return self.quantile(u)
