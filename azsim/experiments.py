"""Experiment designs: factors, grid / Latin hypercube / Sobol designs, and sweep specifications.

A *factor* is a scenario field (dotted path) varied over a range ``LO:HI:STEPS`` or a list of
values ``a,b,c``. A *design* turns factors into points (dicts of overrides): a full grid, a
Latin hypercube (``scipy.stats.qmc``) or a Sobol/Saltelli design (SALib). A :class:`SweepSpec`
holds the base scenario, the factors, the design and the replication rule; every point is
validated before anything runs, so a bad path or value fails at once, naming the field.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator, model_validator

from . import _yaml
from ._types import Model
from .scenario import (
    MAX_REPLICATIONS,
    MAX_SEED,
    NAME_PATTERN,
    Scenario,
    ScenarioError,
    _format_errors,
    apply_overrides,
    estimate,
    load_scenario,
    read_yaml,
    shown,
)

__all__ = ["Factor", "SweepSpec", "parse_vary", "load_sweep", "DESIGNS", "SweepFile", "MAX_POINTS", "MAX_STEPS",
           "MAX_SAMPLES"]

DESIGNS = ("grid", "lhs", "sobol", "oat")
"""grid: every combination; lhs: Latin hypercube; sobol: Saltelli/Sobol (SALib) for Sobol indices;
oat: one factor at a time around the centre of the ranges (tornado data)."""

MAX_FACTORS = 50
"""The most factors a design may vary."""

MAX_STEPS = 10_000
"""The most steps of one range factor (and values of one list factor)."""

MAX_SAMPLES = 2**16
"""The largest ``samples`` (points of an LHS design; base sample of a Sobol design)."""

MAX_POINTS = 100_000
"""The most design points of a sweep (each is validated before anything runs)."""


@dataclass(frozen=True)
class Factor:
    """A scenario field varied by a design: a numeric range or a list of values."""

    path: str
    low: float | None = None
    high: float | None = None
    steps: int | None = None
    values: tuple | None = None
    integer: bool = False  # the schema field is a whole number: range values are rounded

    @property
    def is_range(self) -> bool:
        return self.values is None

    def grid_values(self) -> list:
        if not self.is_range:
            return list(self.values)
        pts = np.linspace(self.low, self.high, self.steps) if self.steps > 1 else np.array([self.low])
        return [self._cast(v) for v in pts]

    def from_unit(self, u: float):
        """The factor's value at position ``u`` in [0, 1] of its range (or of its list)."""
        if not self.is_range:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        return self._cast(self.low + u * (self.high - self.low))

    def _cast(self, v: float):
        return int(round(v)) if self.integer else float(v)

    def to_dict(self) -> dict:
        if self.is_range:
            return {"path": self.path, "low": self.low, "high": self.high, "steps": self.steps}
        return {"path": self.path, "values": list(self.values)}


def _value(text: str):
    """One value of a list factor, read by azsim's YAML loader (``0.5`` a number, ``always`` a string)."""
    try:
        return _yaml.load(text, strict=False)
    except _yaml.YamlProblem as err:
        raise ScenarioError([f"value {shown(text)}: {err}"]) from None


def _range(path: str, spec: str) -> dict:
    """``LO:HI`` or ``LO:HI:STEPS`` as ``{low, high, steps}``; ScenarioError naming ``path``."""
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise ScenarioError([f"{path}: a range is LO:HI or LO:HI:STEPS, got {shown(spec)}"])
    try:
        low, high = float(parts[0]), float(parts[1])
        steps = int(parts[2]) if len(parts) == 3 else 5
    except ValueError:
        raise ScenarioError([f"{path}: LO and HI must be numbers and STEPS a whole number, got {shown(spec)}"]) \
            from None
    return {"low": low, "high": high, "steps": steps}


def _list(spec: str) -> tuple:
    items = [v.strip() for v in spec.split(",") if v.strip() != ""]
    if len(items) > MAX_STEPS:
        raise ScenarioError([f"a list factor has at most {MAX_STEPS:,} values, got {len(items):,}"])
    return tuple(_value(v) for v in items)


def parse_vary(text: str) -> Factor:
    """Parse ``PATH=LO:HI:STEPS`` or ``PATH=a,b,c`` (``--vary``); problems name ``--vary PATH``."""
    if "=" not in text:
        raise ScenarioError([f"--vary {shown(text)}: expected PATH=LO:HI:STEPS or PATH=a,b,c"])
    path, _, spec = text.partition("=")
    path, spec = path.strip(), spec.strip()
    if not path or not spec:
        raise ScenarioError([f"--vary {shown(text)}: expected PATH=LO:HI:STEPS or PATH=a,b,c"])
    try:
        if ":" in spec:
            return make_factor(path, **_range(path, spec))
        return make_factor(path, values=_list(spec))
    except ScenarioError as err:
        raise ScenarioError([f"--vary {p}" if p.startswith(f"{path}:") else f"--vary {path}: {p}"
                             for p in err.problems]) from None


def make_factor(path: str, low=None, high=None, steps=None, values=None) -> Factor:
    """Build and sanity-check a factor (its values are validated later, against the schema)."""
    if len(path) > 300 or len(path.split(".")) > _yaml.MAX_DEPTH:
        raise ScenarioError([f"{shown(path)}: a field path has at most {_yaml.MAX_DEPTH} parts and 300 characters"])
    if values is not None:
        if len(values) < 1:
            raise ScenarioError([f"{path}: a list factor needs at least one value"])
        if len(values) > MAX_STEPS:
            raise ScenarioError([f"{path}: a list factor has at most {MAX_STEPS:,} values, got {len(values):,}"])
        return Factor(path, values=tuple(values))
    if low is None or high is None:
        raise ScenarioError([f"{path}: a range factor needs low and high"])
    if not (math.isfinite(low) and math.isfinite(high)) or high < low:
        raise ScenarioError([f"{path}: the range needs finite low <= high, got {low}:{high}"])
    if steps is None:
        steps = 5
    if steps < 1:
        raise ScenarioError([f"{path}: steps must be at least 1, got {steps}"])
    if steps > MAX_STEPS:
        raise ScenarioError([f"{path}: steps must be at most {MAX_STEPS:,}, got {steps:,}"])
    return Factor(path, low=float(low), high=float(high), steps=int(steps))


def _field_is_int(base: Scenario, path: str) -> bool:
    node: Any = base.to_dict()
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return isinstance(node, int) and not isinstance(node, bool)


@dataclass
class SweepSpec:
    """Everything that defines a sweep; its ``sweep_id`` is a hash of all of it."""

    base: Scenario
    factors: list[Factor]
    design: str = "grid"
    samples: int = 16
    replications: int | str = 5  # an int, or "auto" (sequential, see azsim.sweep)
    precision: float = 0.05
    max_replications: int = 100
    seed: int = 20210901
    name: str = "sweep"
    source: str | None = None
    _points: list[dict] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        problems = []
        if self.design not in DESIGNS:
            problems.append(f"design: must be one of {', '.join(DESIGNS)}, got {shown(self.design)}")
        if not self.factors:
            problems.append("factors: at least one factor is needed (--vary PATH=LO:HI:STEPS)")
        if len(self.factors) > MAX_FACTORS:
            problems.append(f"factors: at most {MAX_FACTORS} factors, got {len(self.factors)}")
        paths = [f.path for f in self.factors]
        if len(set(paths)) != len(paths):
            problems.append("factors: a path is varied twice")
        problems += _count_problems(self.replications, self.samples, self.max_replications, self.seed)
        if not (isinstance(self.precision, int | float) and not isinstance(self.precision, bool)
                and 0 < self.precision < 1):
            problems.append(f"precision: must be between 0 and 1, got {shown(self.precision)}")
        if self.design == "sobol" and isinstance(self.samples, int) and (self.samples < 2
                                                                         or self.samples & (self.samples - 1)):
            problems.append(f"samples: a Sobol design needs a power of 2, at least 2, got {self.samples}")
        if not (isinstance(self.name, str) and re.match(NAME_PATTERN, self.name)):
            problems.append(f"name: a sweep name starts with a letter, then up to 39 letters, digits, '_' or '-' "
                            f"(got {shown(self.name)})")
        if not problems:
            n = self.n_points()
            if n > MAX_POINTS:
                what = "samples" if self.design in ("lhs", "sobol") else "factors"
                problems.append(f"{what}: the {self.design} design has {n:,} points (limit {MAX_POINTS:,}); use fewer "
                                + ("samples" if what == "samples" else "steps or values"))
        if problems:
            raise ScenarioError(problems, self.source)
        self.factors = [
            Factor(f.path, f.low, f.high, f.steps, f.values, integer=f.is_range and _field_is_int(self.base, f.path))
            for f in self.factors
        ]

    def n_points(self) -> int:
        """The number of design points, computed without building them."""
        d = len(self.factors)
        if self.design == "grid":
            return math.prod(len(f.values) if f.values is not None else f.steps for f in self.factors)
        if self.design == "lhs":
            return self.samples
        if self.design == "sobol":
            return self.samples * (d + 2)
        return 1 + 2 * d  # oat

    def estimate(self, workers: int | None = None) -> dict:
        """What the sweep will need (:func:`azsim.scenario.estimate`), before anything runs: at the
        largest design values of the fields that set a run's size (orders a day, Q4 peak, horizon)
        for memory, at their mean for work; ``replications: auto`` counts ``max_replications``."""
        reps = self.max_replications if self.replications == "auto" else int(self.replications)
        n = self.n_points()
        high, mean = self._size_corners()
        cost = estimate(mean, reps, n, workers, streamed=True)
        cost["memory_mb"] = estimate(high, reps, n, workers, streamed=True)["memory_mb"]
        return cost

    def _size_corners(self) -> tuple[Scenario, Scenario]:
        high, mean = {}, {}
        for f in self.factors:
            if f.path not in _SIZE_FIELDS:
                continue
            if f.is_range:
                high[f.path], mean[f.path] = f.high, (f.low + f.high) / 2
            else:
                nums = [v for v in f.values if isinstance(v, int | float) and not isinstance(v, bool)
                        and math.isfinite(v)]
                if nums:
                    high[f.path], mean[f.path] = max(nums), sum(nums) / len(nums)
        out = []
        for point in (high, mean):
            if "horizon_days" in point:
                point["horizon_days"] = max(1, round(point["horizon_days"]))
            try:
                out.append(self.base.with_overrides(point) if point else self.base)
            except ScenarioError:  # an invalid value: check() names it; estimate at the base
                out.append(self.base)
        return out[0], out[1]

    # ---- the design -----------------------------------------------------------------------
    def unit_matrix(self) -> np.ndarray | None:
        """The design on the unit hypercube (LHS and Sobol), in the sampler's row order."""
        d = len(self.factors)
        if self.design == "lhs":
            from scipy.stats import qmc

            return qmc.LatinHypercube(d=d, seed=np.random.default_rng(self.seed)).random(self.samples)
        if self.design == "sobol":
            from .sensitivity import sobol_design

            return sobol_design([f.path for f in self.factors], self.samples, self.seed)
        if self.design == "oat":
            from .sensitivity import oat_design

            names = [f.path for f in self.factors]
            return np.array([[pt[n] for n in names] for pt in oat_design(names)])
        return None

    def points(self) -> list[dict]:
        """The design points: a list of ``{dotted.path: value}`` overrides, in a fixed order."""
        if self._points is None:
            if self.design == "grid":
                combos = itertools.product(*(f.grid_values() for f in self.factors))
                self._points = [{f.path: v for f, v in zip(self.factors, c, strict=True)} for c in combos]
            else:
                unit = self.unit_matrix()
                self._points = [
                    {f.path: f.from_unit(float(u)) for f, u in zip(self.factors, row, strict=True)} for row in unit
                ]
        return self._points

    def scenario_at(self, point: dict) -> Scenario:
        """The validated scenario of one design point."""
        return self.base.with_overrides(point)

    def validate(self) -> list[Scenario]:
        """Every point's scenario; all problems of all points in one ScenarioError, naming fields."""
        return self._check(keep=True)

    def check(self) -> int:
        """Validate every point without keeping the scenarios; returns the number of points."""
        return len(self._check(keep=False))

    def _check(self, keep: bool) -> list:
        out, problems = [], []
        base = self.base.to_dict()
        for i, point in enumerate(self.points()):
            try:
                from .scenario import scenario_from_dict

                scen = scenario_from_dict(apply_overrides(base, point))
                out.append(scen if keep else None)
            except ScenarioError as err:
                for p in err.problems:
                    msg = f"point {i} ({_short(point)}): {p}"
                    if msg.split(": ", 1)[1] not in {q.split(": ", 1)[1] for q in problems}:
                        problems.append(msg)
        if problems:
            raise ScenarioError(problems, self.source)
        return out

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "scenario": self.base.to_dict(),
            "scenario_hash": self.base.hash,
            "factors": [f.to_dict() for f in self.factors],
            "design": self.design,
            "samples": self.samples if self.design != "grid" else None,
            "replications": self.replications,
            "precision": self.precision if self.replications == "auto" else None,
            "max_replications": self.max_replications if self.replications == "auto" else None,
            "seed": self.seed,
        }

    @property
    def sweep_id(self) -> str:
        """Stable id: the same sweep (same spec) always gets the same id, so a rerun resumes it."""
        spec = self.to_dict()
        spec.pop("name")
        blob = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


_SIZE_FIELDS = ("market.orders_per_day", "market.q4_peak_multiplier", "horizon_days")
"""The fields that set how many orders a run simulates."""


def _count_problems(replications, samples, max_replications, seed, flags: bool = False) -> list[str]:
    """Problems with a sweep's counts and seed, each naming its field (or ``--flag``)."""

    def name(field: str) -> str:
        return f"--{field.replace('_', '-')}" if flags else field

    def whole(x) -> bool:
        return isinstance(x, int) and not isinstance(x, bool)

    problems = []
    if replications != "auto" and not (whole(replications) and 1 <= replications <= MAX_REPLICATIONS):
        problems.append(f"{name('replications')}: a whole number from 1 to {MAX_REPLICATIONS:,} or 'auto', "
                        f"got {shown(replications)}")
    if not (whole(samples) and 1 <= samples <= MAX_SAMPLES):
        problems.append(f"{name('samples')}: a whole number from 1 to {MAX_SAMPLES:,}, got {shown(samples)}")
    if not (whole(max_replications) and 1 <= max_replications <= MAX_REPLICATIONS):
        problems.append(f"{name('max_replications')}: a whole number from 1 to {MAX_REPLICATIONS:,}, "
                        f"got {shown(max_replications)}")
    if not (whole(seed) and 0 <= seed <= MAX_SEED):
        problems.append(f"{name('seed')}: a whole number from 0 to 2**63 - 1, got {shown(seed)}")
    return problems


def _short(point: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items())


def slug_name(text: str) -> str:
    """A sweep name made from a file name: the safe characters kept (``my sweep.v2`` -> ``my-sweep-v2``)."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", str(text)).strip("-_")
    if not slug or not slug[0].isalpha():
        slug = "sweep-" + slug if slug else "sweep"
    return slug[:40].rstrip("-_")


class FactorSpec(Model):
    """One factor of a sweep file: a range ``{low, high, steps}``, ``{values: [...]}``, a list of
    values, or the ``--vary`` text ``LO:HI:STEPS`` / ``a,b,c``."""

    low: float | None = None
    high: float | None = None
    steps: int | None = Field(None, ge=1, le=MAX_STEPS)
    values: list[Any] | None = Field(None, min_length=1, max_length=MAX_STEPS)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, list):
            return {"values": data}
        if isinstance(data, str):
            try:
                return _range("", data) if ":" in data else {"values": list(_list(data))}
            except ScenarioError as err:
                raise ValueError(err.problems[0].removeprefix(": ")) from None
        if not isinstance(data, dict):
            raise ValueError(f"expected {{low, high, steps}}, a list of values or 'LO:HI:STEPS', got {shown(data)}")
        return data

    @model_validator(mode="after")
    def _range_or_values(self) -> FactorSpec:
        if self.values is not None:
            if self.low is not None or self.high is not None or self.steps is not None:
                raise ValueError("give either values or low, high and steps, not both")
        elif self.low is None or self.high is None:
            raise ValueError("a range needs low and high (and steps, default 5); a list needs values")
        elif self.high < self.low:
            raise ValueError(f"the range needs low <= high, got {self.low}:{self.high}")
        return self


_DEFAULT_SEED = 20210901


class SweepFile(Model):
    """A sweep file (``azsim sweep SWEEP.yaml``): validated like a scenario, every problem naming its field."""

    name: str | None = Field(None, pattern=NAME_PATTERN, description="the sweep's name (default: the file name)")
    scenario: Any = Field(description="the base scenario: a file path (relative to the sweep file) or a mapping")
    set: dict[str, Any] = Field(default_factory=dict, description="overrides applied to the base, dotted.path: value")
    factors: dict[str, FactorSpec] = Field(description="dotted.path: {low, high, steps} or [values]")
    design: Literal["grid", "lhs", "sobol", "oat"] = "grid"
    samples: int = Field(16, ge=1, le=MAX_SAMPLES)
    replications: Any = Field(5, description="a whole number, or auto")
    precision: float = Field(0.05, gt=0.0, lt=1.0)
    max_replications: int = Field(100, ge=1, le=MAX_REPLICATIONS)
    seed: int = Field(_DEFAULT_SEED, ge=0, le=MAX_SEED)

    @field_validator("scenario", mode="before")
    @classmethod
    def _scenario(cls, value: Any) -> Any:
        if isinstance(value, str) and 0 < len(value) <= 4096:
            return value
        if isinstance(value, dict):
            return value
        raise ValueError(f"a file path (relative to the sweep file) or an inline scenario mapping, got {shown(value)}")

    @field_validator("factors", mode="before")
    @classmethod
    def _factors(cls, value: Any) -> Any:
        if not isinstance(value, dict) or not value:
            raise ValueError("missing or empty (a mapping of dotted.path: {low, high, steps} or [values])")
        if len(value) > MAX_FACTORS:
            raise ValueError(f"at most {MAX_FACTORS} factors, got {len(value)}")
        return value

    @field_validator("replications", mode="before")
    @classmethod
    def _replications(cls, value: Any) -> Any:
        if value == "auto" and isinstance(value, str):
            return value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_REPLICATIONS:
            return value
        raise ValueError(f"a whole number from 1 to {MAX_REPLICATIONS:,} or auto, got {shown(value)}")


def load_sweep(path: str | Path) -> SweepSpec:
    """Read a sweep YAML file: base scenario (path relative to the file), factors, design, replications."""
    p = Path(path)
    data = read_yaml(p)
    return sweep_from_dict(data, source=str(p), root=p.parent)


def sweep_from_dict(data: Any, source: str | None = None, root: Path | None = None) -> SweepSpec:
    """Validate a sweep file's data (:class:`SweepFile`) and build its :class:`SweepSpec`; every problem
    is a ScenarioError naming the field (``factors.PATH.steps``, ``seed``, ...)."""
    if not isinstance(data, dict):
        raise ScenarioError(["(top level): a sweep file is a mapping with scenario, factors, design, replications"],
                            source)
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_format_errors(err, root=SweepFile), source) from None
    if isinstance(spec.scenario, str):
        base = load_scenario((root or Path(".")) / spec.scenario, spec.set)
    else:
        from .scenario import scenario_from_dict

        try:
            base = scenario_from_dict(apply_overrides(spec.scenario, spec.set))
        except ScenarioError as err:
            raise ScenarioError([f"scenario.{p}" if not p.startswith(("(top level)", "--set")) else p
                                 for p in err.problems], source) from None
    factors = []
    for fpath, f in spec.factors.items():
        try:
            if f.values is not None:
                factors.append(make_factor(fpath, values=tuple(f.values)))
            else:
                factors.append(make_factor(fpath, low=f.low, high=f.high, steps=f.steps))
        except ScenarioError as err:
            raise ScenarioError([f"factors.{p}" for p in err.problems], source) from None
    return SweepSpec(
        base=base,
        factors=factors,
        design=spec.design,
        samples=spec.samples,
        replications=spec.replications,
        precision=spec.precision,
        max_replications=spec.max_replications,
        seed=spec.seed,
        name=spec.name or slug_name(Path(source).stem if source else "sweep"),
        source=source,
    )
