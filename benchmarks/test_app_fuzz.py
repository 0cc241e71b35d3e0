"""Fuzz the what-if explorer through Streamlit's AppTest (run by `make bench`, not `make test`).

Mutated copies of the shipped scenarios (hostile values, duplicate keys, bad policy names and presets,
deep nesting, truncation and stray bytes, broken indentation) are uploaded one after the other into one
page, then random sidebar numbers are set (half of them at their bounds). Every upload must either be
shown (the scenario line names it) or refused with an error box naming it; no run may raise a page
exception or take more than 60 s.
"""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
UPLOADS = 300
WIDGET_CHANGES = 75
pytestmark = pytest.mark.slow

VALUES = [".inf", "-.inf", ".nan", "1e18", "1.0e+18", "-1", "0", "1e308", "yes", "no", "1:30", "[1, 2]", "{a: 1}",
          "~", "''", "!!binary aGk=", "&a 1", "*a", "0x10", "0o17", "1_000", "2.7", "-0.0", "999999999999",
          "!!python/object/apply:os.system ['true']", "[" * 300 + "]" * 300, "{a: " * 200 + "1" + "}" * 200]
NAMES = ["a.b", "a/b", "../x", "yes", "no", "1", "x" * 80, "CON", "é", "a b", "<script>", "", "null"]


def _mutate(rng: random.Random, text: str) -> bytes:
    lines = text.splitlines()
    op = rng.randrange(10)
    if op <= 3:  # a scalar replaced by a hostile value
        idx = [i for i, line in enumerate(lines) if re.match(r"^\s*[\w.-]+:\s+[^#\s]", line)]
        if idx:
            i = rng.choice(idx)
            lines[i] = f"{lines[i].partition(':')[0]}: {rng.choice(VALUES)}"
    elif op == 4:  # a duplicated line (a duplicate key)
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
    elif op == 5:
        for _ in range(rng.randint(1, 5)):
            if lines:
                del lines[rng.randrange(len(lines))]
    elif op == 6:
        lines.append(f"policies:\n  old: {{preset: old}}\n  '{rng.choice(NAMES)}': {{preset: new}}")
    elif op == 7:
        lines.append(f"policies:\n  new: {{preset: {rng.choice(['[new]', '{a: 1}', 'nope', '1', '.inf', '~'])}}}")
    elif op == 8:  # truncated, with stray bytes
        raw = "\n".join(lines).encode()
        return raw[: rng.randrange(len(raw))] + bytes(rng.randrange(256) for _ in range(rng.randint(0, 20)))
    else:
        i = rng.randrange(len(lines))
        lines[i] = " " * rng.randint(0, 9) + lines[i].lstrip()
    return "\n".join(lines).encode()


def _page(replications: int = 2) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    (reps,) = [w for w in at.sidebar.number_input if w.label == "Replications"]
    reps.set_value(replications).run()
    assert not at.exception
    return at


def test_fuzzed_uploads_and_widgets_never_raise_a_page_exception():
    rng = random.Random(9)
    seeds = [p.read_text() for p in sorted((REPO / "scenarios").glob("*.yaml"))]
    at = _page()
    problems, shown, refused, worst = [], 0, 0, 0.0
    for n in range(UPLOADS):
        name, data = f"f{n}.yaml", _mutate(rng, rng.choice(seeds))
        t0 = time.monotonic()
        at.sidebar.file_uploader[0].set_value((name, data, "application/x-yaml")).run()
        worst = max(worst, time.monotonic() - t0)
        errors = re.sub(r"\\(.)", r"\1", " ".join(e.value for e in at.error))
        lines = [re.sub(r"\\(.)", r"\1", m.value) for m in at.markdown if m.value.startswith("Scenario **")]
        if at.exception:
            problems.append(f"{name}: page exception {[e.message for e in at.exception]}: {data[:200]!r}")
        elif f"Cannot use {name}:" in errors:
            refused += 1
        elif lines and f"(uploaded {name})" in lines[0]:
            shown += 1
        else:
            problems.append(f"{name}: neither shown nor refused: {errors[:300]!r} {data[:200]!r}")
    at = _page()
    for _ in range(WIDGET_CHANGES):
        widget = rng.choice([w for w in at.sidebar.number_input if w.label != "Seed"])
        low = widget.min if widget.min is not None else 0
        high = widget.max if widget.max is not None else 1e6
        value = rng.choice([low, high, rng.uniform(low, high)])
        t0 = time.monotonic()
        widget.set_value(int(value) if isinstance(widget.value, int) else float(value)).run()
        worst = max(worst, time.monotonic() - t0)
        if at.exception:
            problems.append(f"{widget.label}={value}: page exception {[e.message for e in at.exception]}")
    print(json.dumps({"uploads": UPLOADS, "shown": shown, "refused": refused, "widget_changes": WIDGET_CHANGES,
                      "problems": len(problems), "slowest_run_s": round(worst, 1)}))
    assert not problems, "\n".join(problems[:20])
    assert worst < 60
