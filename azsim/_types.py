"""Shared pydantic base and bounded number types for scenario and policy schemas."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
"""A probability or share, in [0, 1]."""

Money = Annotated[float, Field(ge=0.0)]
"""An amount of money in the scenario's currency (``market.currency``; US dollars by default), never negative."""

Days = Annotated[float, Field(ge=0.0)]
"""A duration or mean duration in days, never negative."""

Hours = Annotated[float, Field(ge=0.0)]
"""A duration in hours, never negative."""

Minutes = Annotated[float, Field(ge=0.0)]
"""A duration in minutes, never negative."""


class Model(BaseModel):
    """Base of every schema model: unknown fields are errors and objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


_NORMAL = NormalDist()
_U_EDGE = 1e-12


DelayMean = Annotated[float, Field(ge=0.0, le=36_500.0, description="mean delay (days)")]
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
