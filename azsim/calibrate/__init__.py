"""Calibrate a scenario from a seller's own Amazon reports, and write such reports from a simulated
seller (the round trip that proves it).

>>> cal = calibrate(["reports/"], "US", base)            # paths, folders or (name, bytes) pairs
>>> cal.problems or cal.scenario, cal.summary_text(), cal.to_dict(), cal.yaml_text()

docs/calibration.md lists, field by field, the report and column, the estimator, its CI and what
no report gives.
"""

from importlib import import_module

MARKET_CODES = ("US", "CA", "UK", "DE", "FR", "IT", "ES", "JP", "SE")
"""The marketplaces ``--marketplace`` takes (the keys of :data:`azsim.calibrate.formats.MARKETPLACES`), here
so that the CLI can list them without importing pandas and scipy."""

_LAZY = {"calibrate": "core", "Calibration": "core", "Estimate": "core", "parse_comment": "core",
         "CALIBRATED_FIELDS": "core", "MARKETPLACES": "formats", "ReportProblem": "formats",
         "synth_reports": "synth"}


def __getattr__(name: str):
    """The package's names, imported on first use: ``azsim --help`` stays fast and interruptible."""
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["calibrate", "Calibration", "Estimate", "synth_reports", "MARKETPLACES", "MARKET_CODES", "ReportProblem",
           "parse_comment", "CALIBRATED_FIELDS"]
