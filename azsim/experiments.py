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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .scenario import Scenario, ScenarioError, apply_overrides, load_scenario, read_yaml

__all__ = ["Factor", "SweepSpec", "parse_vary", "load_sweep", "DESIGNS"]

DESIGNS = ("grid", "lhs", "sobol", "oat")
"""grid: every combination; lhs: Latin hypercube; sobol: Saltelli/Sobol (SALib) for Sobol indices;
oat: one factor at a time around the centre of the ranges (tornado data)."""


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
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_vary(text: str) -> Factor:
    """Parse ``PATH=LO:HI:STEPS`` or ``PATH=a,b,c`` (``--vary``)."""
    if "=" not in text:
        raise ScenarioError([f"--vary {text!r}: expected PATH=LO:HI:STEPS or PATH=a,b,c"])
    path, _, spec = text.partition("=")
    path, spec = path.strip(), spec.strip()
    if not path or not spec:
        raise ScenarioError([f"--vary {text!r}: expected PATH=LO:HI:STEPS or PATH=a,b,c"])
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) not in (2, 3):
            raise ScenarioError([f"--vary {path}: a range is LO:HI or LO:HI:STEPS, got {spec!r}"])
        try:
            low, high = float(parts[0]), float(parts[1])
            steps = int(parts[2]) if len(parts) == 3 else 5
        except ValueError:
            raise ScenarioError([f"--vary {path}: LO and HI must be numbers and STEPS a whole number, got {spec!r}"]) \
                from None
        return make_factor(path, low=low, high=high, steps=steps)
    values = tuple(_value(v.strip()) for v in spec.split(",") if v.strip() != "")
    return make_factor(path, values=values)


def make_factor(path: str, low=None, high=None, steps=None, values=None) -> Factor:
    """Build and sanity-check a factor (its values are validated later, against the schema)."""
    if values is not None:
        if len(values) < 1:
            raise ScenarioError([f"{path}: a list factor needs at least one value"])
        return Factor(path, values=tuple(values))
    if low is None or high is None:
        raise ScenarioError([f"{path}: a range factor needs low and high"])
    if not (math.isfinite(low) and math.isfinite(high)) or high < low:
        raise ScenarioError([f"{path}: the range needs finite low <= high, got {low}:{high}"])
    if steps is None:
        steps = 5
    if steps < 1:
        raise ScenarioError([f"{path}: steps must be at least 1, got {steps}"])
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
            problems.append(f"design: must be one of {', '.join(DESIGNS)}, got {self.design!r}")
        if not self.factors:
            problems.append("factors: at least one factor is needed (--vary PATH=LO:HI:STEPS)")
        paths = [f.path for f in self.factors]
        if len(set(paths)) != len(paths):
            problems.append("factors: a path is varied twice")
        if isinstance(self.replications, str) and self.replications != "auto":
            problems.append(f"replications: a whole number or 'auto', got {self.replications!r}")
        if isinstance(self.replications, int) and self.replications < 1:
            problems.append("replications: must be at least 1")
        if not 0 < self.precision < 1:
            problems.append(f"precision: must be between 0 and 1, got {self.precision}")
        if self.samples < 1:
            problems.append("samples: must be at least 1")
        if self.design == "sobol" and self.samples & (self.samples - 1):
            problems.append(f"samples: a Sobol design needs a power of 2, got {self.samples}")
        if problems:
            raise ScenarioError(problems, self.source)
        self.factors = [
            Factor(f.path, f.low, f.high, f.steps, f.values, integer=f.is_range and _field_is_int(self.base, f.path))
            for f in self.factors
        ]

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


def _short(point: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items())


_SWEEP_KEYS = {"name", "scenario", "set", "factors", "design", "samples", "replications", "precision",
               "max_replications", "seed"}


def load_sweep(path: str | Path) -> SweepSpec:
    """Read a sweep YAML file: base scenario (path relative to the file), factors, design, replications."""
    p = Path(path)
    data = read_yaml(p)
    return sweep_from_dict(data, source=str(p), root=p.parent)


def sweep_from_dict(data: Any, source: str | None = None, root: Path | None = None) -> SweepSpec:
    import difflib

    if not isinstance(data, dict):
        raise ScenarioError(["(top level): a sweep file is a mapping with scenario, factors, design, replications"],
                            source)
    problems = []
    for key in data:
        if key not in _SWEEP_KEYS:
            close = difflib.get_close_matches(str(key), sorted(_SWEEP_KEYS), n=1)
            problems.append(f"{key}: unknown field" + (f"; did you mean {close[0]}?" if close else ""))
    if "scenario" not in data:
        problems.append("scenario: missing (the base scenario file, relative to the sweep file)")
    if "factors" not in data or not isinstance(data.get("factors"), dict) or not data.get("factors"):
        problems.append("factors: missing or empty (a mapping of dotted.path: {low, high, steps} or [values])")
    if problems:
        raise ScenarioError(problems, source)
    scen = data["scenario"]
    overrides = data.get("set") or {}
    if not isinstance(overrides, dict):
        raise ScenarioError(["set: expected a mapping of dotted.path: value"], source)
    if isinstance(scen, str):
        base = load_scenario((root or Path(".")) / scen, overrides)
    elif isinstance(scen, dict):
        from .scenario import scenario_from_dict

        base = scenario_from_dict(apply_overrides(scen, overrides), source)
    else:
        raise ScenarioError(["scenario: a file path or an inline scenario mapping"], source)
    factors = []
    for fpath, fspec in data["factors"].items():
        if isinstance(fspec, list):
            factors.append(make_factor(str(fpath), values=tuple(fspec)))
        elif isinstance(fspec, dict):
            unknown = set(fspec) - {"low", "high", "steps", "values"}
            if unknown:
                raise ScenarioError([f"factors.{fpath}: unknown keys {sorted(unknown)} (low, high, steps or values)"],
                                    source)
            if "values" in fspec:
                factors.append(make_factor(str(fpath), values=tuple(fspec["values"])))
            else:
                try:
                    factors.append(make_factor(str(fpath), low=_num(fspec.get("low")), high=_num(fspec.get("high")),
                                               steps=int(fspec.get("steps", 5))))
                except (TypeError, ValueError):
                    raise ScenarioError([f"factors.{fpath}: low and high must be numbers, steps a whole number"],
                                        source) from None
        elif isinstance(fspec, str):
            factors.append(parse_vary(f"{fpath}={fspec}"))
        else:
            raise ScenarioError([f"factors.{fpath}: expected {{low, high, steps}} or a list of values"], source)
    reps = data.get("replications", 5)
    try:
        return SweepSpec(
            base=base,
            factors=factors,
            design=str(data.get("design", "grid")),
            samples=int(data.get("samples", 16)),
            replications=reps if reps == "auto" else int(reps),
            precision=float(data.get("precision", 0.05)),
            max_replications=int(data.get("max_replications", 100)),
            seed=int(data.get("seed", 20210901)),
            name=str(data.get("name", Path(source).stem if source else "sweep")),
            source=source,
        )
    except (TypeError, ValueError) as err:
        raise ScenarioError([f"(sweep): {err}"], source) from None


def _num(x):
    if x is None:
        raise ValueError
    return float(x)
