"""Shared pydantic base and bounded number types for scenario and policy schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
"""A probability or share, in [0, 1]."""

Money = Annotated[float, Field(ge=0.0)]
"""An amount of US dollars, never negative."""

Days = Annotated[float, Field(ge=0.0)]
"""A duration or mean duration in days, never negative."""

Hours = Annotated[float, Field(ge=0.0)]
"""A duration in hours, never negative."""

Minutes = Annotated[float, Field(ge=0.0)]
"""A duration in minutes, never negative."""


class Model(BaseModel):
    """Base of every schema model: unknown fields are errors and objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
