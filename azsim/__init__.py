"""azsim: what Amazon's September 2021 A-to-z Guarantee change costs a seller who behaves like this.

Public API::

    from azsim import load_scenario, compare
    result = compare(load_scenario("scenarios/default.yaml"), replications=20, seed=1)
    result.summary()      # pandas DataFrame
    result.to_dict()      # the JSON result (docs/results.md)
"""

__version__ = "0.1.0"

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

_LAZY = {
    "Policy": "policy",
    "preset": "policy",
    "Scenario": "scenario",
    "ScenarioError": "scenario",
    "load_scenario": "scenario",
    "scenario_from_dict": "scenario",
    "compare": "comparison",
    "Comparison": "comparison",
}


def __getattr__(name: str):
    # Everything is loaded on first use: `import azsim` itself imports nothing heavy, so the command
    # line can take Ctrl-C from its first instant (azsim._entry), and `azsim validate` starts fast.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'azsim' has no attribute {name!r}")
