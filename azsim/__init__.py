"""azsim: what Amazon's September 2021 A-to-z Guarantee change costs a seller who behaves like this.

Public API::

    from azsim import load_scenario, compare
    result = compare(load_scenario("scenarios/default.yaml"), replications=20, seed=1)
    result.summary()      # pandas DataFrame
    result.to_dict()      # the JSON result (docs/results.md)
"""

__version__ = "0.1.0"

from .policy import Policy, preset  # noqa: E402
from .scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict  # noqa: E402

__all__ = [
    "__version__",
    "Comparison",
    "Policy",
    "Scenario",
    "ScenarioError",
    "compare",
    "load_scenario",
    "preset",
    "scenario_from_dict",
]


def __getattr__(name: str):
    # compare pulls in pandas and SimPy; load it on first use so `azsim validate` starts fast
    if name in ("compare", "Comparison"):
        from . import comparison

        return getattr(comparison, name)
    raise AttributeError(f"module 'azsim' has no attribute {name!r}")
