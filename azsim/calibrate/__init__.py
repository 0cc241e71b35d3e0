"""Calibrate a scenario from a seller's own Amazon reports, and write such reports from a simulated
seller (the round trip that proves it).

>>> cal = calibrate(["reports/"], "US", base)            # paths, folders or (name, bytes) pairs
>>> cal.problems or cal.scenario, cal.summary_text(), cal.to_dict(), cal.yaml_text()

docs/calibration.md lists, field by field, the report and column, the estimator, its CI and what
no report gives.
"""

from .core import CALIBRATED_FIELDS, Calibration, Estimate, calibrate, parse_comment
from .formats import MARKETPLACES, ReportProblem
from .synth import synth_reports

__all__ = ["calibrate", "Calibration", "Estimate", "synth_reports", "MARKETPLACES", "ReportProblem", "parse_comment",
           "CALIBRATED_FIELDS"]
