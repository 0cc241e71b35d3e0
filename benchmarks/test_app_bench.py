"""The what-if explorer answers a change on the default scenario within 3 s (run by `make bench`)."""

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
