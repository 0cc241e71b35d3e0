"""The what-if explorer answers a change on the default scenario within 3 s, and runs the practice advisor within
15 s (run by `make bench`; figures printed)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")
pytestmark = pytest.mark.slow


def test_a_change_is_answered_within_3_seconds():
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()  # first load: starts the worker pool
    timings = []
    for value in (90.0, 85.0, 75.0):  # three different, never-cached settings
        (slider,) = [s for s in at.sidebar.slider if s.label.startswith("Messages answered")]
        t0 = time.perf_counter()
        slider.set_value(value).run()
        timings.append(time.perf_counter() - t0)
        assert not at.exception
    t0 = time.perf_counter()
    at.run()  # a redraw with nothing changed: served from the cache
    redraw = time.perf_counter() - t0
    print(json.dumps({"change_s": [round(t, 2) for t in timings], "redraw_s": round(redraw, 2)}))
    assert max(timings) < 3.0
    assert redraw < 1.0


def test_the_advisor_runs_within_15_seconds_on_the_default_scenario():
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()  # the scenario itself, and the worker pool
    (toggle,) = [t for t in at.toggle if t.label.startswith("Run the practice advisor")]
    t0 = time.perf_counter()
    toggle.set_value(True).run()
    advisor = time.perf_counter() - t0
    assert not at.exception and not at.error
    assert any("net saving" in m.value for m in at.markdown)  # the advisor's table is drawn
    t0 = time.perf_counter()
    at.run()  # a redraw: every comparison of the advisor from the cache
    redraw = time.perf_counter() - t0
    print(json.dumps({"advisor_s": round(advisor, 2), "advisor_redraw_s": round(redraw, 2)}))
    assert advisor < 15.0
    assert redraw < 3.0
