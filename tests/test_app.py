"""The Streamlit what-if explorer, driven by Streamlit's AppTest (no browser)."""

from __future__ import annotations

import csv
import io
import math
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

import azsim
import azsim.scenario
from azsim.scenario import MAX_FILE_BYTES

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
HEADLINE = "Seller cost per year, new − old"
STILL_SHOWING = "Still showing the last good scenario."


def _money(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def _widget(at, kind: str, label: str):
    (found,) = [w for w in getattr(at.sidebar, kind) if w.label.startswith(label)]
    return found


def _seller_delta(at) -> float:
    (m,) = [m for m in at.metric if m.label == HEADLINE]
    return _money(m.value)


def _shown(markdown: str) -> str:
    """What the browser shows for the app's markdown: its backslash escapes removed."""
    return re.sub(r"\\(.)", r"\1", markdown)


def _errors(at) -> str:
    return " ".join(_shown(e.value) for e in at.error)


def _scenario_line(at) -> str:
    """The line above the tabs naming the scenario whose results are on screen."""
    (line,) = [m.value for m in at.markdown if m.value.startswith("Scenario **")]
    return _shown(line.replace("Scenario **", "Scenario ", 1).replace("** (", " (", 1))


def _upload(at, name: str, data: bytes):
    return at.sidebar.file_uploader[0].set_value((name, data, "application/x-yaml")).run()


@pytest.fixture
def app():
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def test_headline_shows_the_paired_change_for_every_party(app):
    labels = [m.label for m in app.metric]
    assert labels == [HEADLINE, "Amazon, new − old", "Insurer, new − old", "Buyers (uncompensated), new − old"]
    assert all(m.value.replace("-", "").startswith("$") for m in app.metric)
    captions = " ".join(c.value for c in app.caption)
    assert "95% CI" in captions


def test_a_shorter_insurance_proof_deadline_raises_the_sellers_cost_under_new(app):
    before = _seller_delta(app)
    _widget(app, "number_input", "Days to prove insurance").set_value(0.0).run()
    assert not app.exception
    after = _seller_delta(app)
    # with no time to prove cover, the seller reimburses Amazon for every small PD/PI claim
    assert after > before


def test_a_seller_slow_to_prove_its_insurance_pays_more_under_new(app):
    before = _seller_delta(app)
    _widget(app, "number_input", "Days to send proof of cover").set_value(30.0).run()
    assert not app.exception
    # proof arrives after the 7-day deadline: the seller reimburses Amazon's small PD/PI payments
    assert _seller_delta(app) > before


def test_picking_another_scenario(app):
    before = [m.value for m in app.metric]
    app.sidebar.selectbox[0].set_value("electrical.yaml").run()
    assert not app.exception
    assert [m.value for m in app.metric] != before
    assert _widget(app, "number_input", "Median price").value != 30.0  # the widgets follow the scenario


@pytest.mark.parametrize(
    "name, data, needle",
    [
        ("broken.yaml", b"seller: {messages: [1,\n", "broken YAML"),
        ("bad.yaml", b"seller:\n  listing_accuracy: 3\n", "seller.listing_accuracy"),
        ("big.yaml", b"a: " + b"x" * 1_100_000, "too large"),
        ("binary.yaml", b"\xff\xfe\x00\x01", "not a text file"),
    ],
)
def test_a_bad_upload_shows_its_error_and_the_app_keeps_working(app, name, data, needle):
    before = _seller_delta(app)
    app.sidebar.file_uploader[0].set_value((name, data, "application/x-yaml")).run()
    assert not app.exception
    errors = _errors(app)
    assert needle in errors and "last good scenario" in errors
    assert _seller_delta(app) == before  # still the default scenario


# Uploads that once raised a page exception or lost the last good scenario (issue 9). Each needle is a
# regular expression the error box must match: the field path or the cause, as azsim.scenario reports it.
LAUGHS = b"".join(  # a small "billion laughs": 9**6 leaves from 6 lines
    [b'a: &a ["x","x","x","x","x","x","x","x","x"]\n']
    + [f"{k}: &{k} [{', '.join([f'*{j}'] * 9)}]\n".encode() for j, k in zip("abcde", "bcdef", strict=True)]
)
BAD_UPLOADS = {
    "deep": (b"market: " + b"[" * 500 + b"]" * 500 + b"\n", r"nest|depth|deep"),
    "deep_mapping": (b"market:\n" + b"".join(b" " * i + b"k:\n" for i in range(1, 500)) + b" " * 500 + b"k: 1\n",
                     r"nest|depth|deep"),
    "preset_list": (b"policies:\n  old: {preset: old}\n  new: {preset: [new]}\n", r"policies\.new\.preset"),
    "preset_dict": (b"policies:\n  old: {preset: old}\n  new: {preset: {us-2021-new: 1}}\n", r"policies\.new\.preset"),
    "inf_price": (b"market:\n  price:\n    median: .inf\n", r"market\.price\.median"),
    "inf_contact_delay": (b"buyers:\n  contact_delay_days: .inf\n", r"buyers\.contact_delay_days"),
    "huge_price": (b"market:\n  price:\n    median: 1.0e+18\n", r"market\.price\.median"),
    "huge_wage": (b"seller:\n  support:\n    wage_per_hour: 1.0e+18\n", r"seller\.support\.wage_per_hour"),
    "dotted_policy": (b"policies:\n  old: {preset: old}\n  new.v2: {preset: new}\n", r"new\.v2"),
    "slashed_policy": (b"policies:\n  old: {preset: old}\n  ../new: {preset: new}\n", r"\.\./new"),
    "two_megabytes": (b"name: " + b"x" * 2_000_000 + b"\n", r"too large"),
    "binary": (bytes(range(256)) * 8, r"not a text file"),
    "empty": (b"", r"empty"),
    "laughs": (LAUGHS, r"unknown field|alias"),
    "too_much_work": (b"market:\n  orders_per_day: 1000000\n", r"memory|orders x policies"),
}


def test_hostile_uploads_show_an_error_and_keep_the_last_good_upload(app):
    """One page through every upload of BAD_UPLOADS in turn (one AppTest: a fresh page per upload
    costs a second each); every failure is reported at the end."""
    _upload(app, "mine.yaml", (REPO / "scenarios" / "electrical.yaml").read_bytes())
    assert not app.exception and not app.error
    good_line = "Scenario electrical (uploaded mine.yaml)"
    assert _scenario_line(app).startswith(good_line)
    good = _seller_delta(app)
    failures = []
    for case, (data, needle) in BAD_UPLOADS.items():
        _upload(app, f"{case}.yaml", data)
        errors = _errors(app)
        if app.exception:
            failures.append(f"{case}: page exception {[e.message for e in app.exception]}")
        elif f"Cannot use {case}.yaml:" not in errors or STILL_SHOWING not in errors:
            failures.append(f"{case}: no error box naming the upload: {errors!r}")
        elif not re.search(needle, errors, re.IGNORECASE):
            failures.append(f"{case}: the error does not match {needle!r}: {errors!r}")
        elif not _scenario_line(app).startswith(good_line) or _seller_delta(app) != good:
            failures.append(f"{case}: the last good upload is no longer shown: {_scenario_line(app)!r}")
    assert not failures, "\n".join(failures)
    # the page still answers its widgets
    _widget(app, "number_input", "Days to prove insurance").set_value(0.0).run()
    assert not app.exception and _seller_delta(app) != good


def _failing_compare(monkeypatch, fails):
    """azsim.compare raising for the scenarios ``fails(scenario)`` picks: a simulation that breaks on
    an input that validates (the app imports ``compare`` from azsim at every run)."""
    real = azsim.compare

    def compare(scenario, **kw):
        if fails(scenario):
            raise RuntimeError("simulated failure in the engine")
        return real(scenario, **kw)

    monkeypatch.setattr(azsim, "compare", compare)


def test_an_upload_that_validates_but_cannot_be_simulated_keeps_the_last_scenario_and_its_settings(
        app, monkeypatch):
    _failing_compare(monkeypatch, lambda s: s.name == "boom")
    _widget(app, "number_input", "Days to prove insurance").set_value(0.0).run()
    tweaked = _seller_delta(app)
    _upload(app, "boom.yaml", b"name: boom\n")
    assert not app.exception
    errors = _errors(app)
    assert "Cannot use boom.yaml:" in errors and "RuntimeError" in errors and STILL_SHOWING in errors
    assert _scenario_line(app).startswith("Scenario default (default.yaml)")
    # the default scenario as the user had set it: its widget and its result
    assert _widget(app, "number_input", "Days to prove insurance").value == 0.0
    assert _seller_delta(app) == tweaked


def _failing_parser(monkeypatch, source_end: str):
    """azsim.scenario.parse_yaml raising an exception it should never raise, for sources ending so."""
    real = azsim.scenario.parse_yaml

    def parse_yaml(text, source="<text>"):
        if str(source).endswith(source_end):
            raise RecursionError("maximum recursion depth exceeded")
        return real(text, source)

    monkeypatch.setattr(azsim.scenario, "parse_yaml", parse_yaml)


def test_an_unexpected_exception_in_the_loader_is_an_error_box_not_a_page_exception(app, monkeypatch):
    _failing_parser(monkeypatch, "any.yaml")
    before = _seller_delta(app)
    _upload(app, "any.yaml", b"name: any\n")
    assert not app.exception
    errors = _errors(app)
    assert "Cannot use any.yaml:" in errors and "RecursionError" in errors and STILL_SHOWING in errors
    assert _seller_delta(app) == before


def test_a_shipped_scenario_that_fails_to_load_keeps_the_last_results(app, monkeypatch):
    _failing_parser(monkeypatch, "electrical.yaml")
    before = _seller_delta(app)
    app.sidebar.selectbox[0].set_value("electrical.yaml").run()
    assert not app.exception
    errors = _errors(app)
    assert "Cannot use electrical.yaml:" in errors and "RecursionError" in errors and STILL_SHOWING in errors
    assert _seller_delta(app) == before and _scenario_line(app).startswith("Scenario default")


def test_a_widget_setting_that_cannot_be_simulated_shows_an_error_and_keeps_the_last_results(app, monkeypatch):
    _failing_compare(monkeypatch, lambda s: s.market.orders_per_day > 1000)
    before = _seller_delta(app)
    orders = _widget(app, "number_input", "Orders per day")
    orders.set_value(5000.0).run()
    assert not app.exception
    errors = _errors(app)
    assert "could not be simulated" in errors and "RuntimeError" in errors and STILL_SHOWING in errors
    assert _seller_delta(app) == before and _scenario_line(app).startswith("Scenario default")
    _widget(app, "number_input", "Orders per day").set_value(80.0).run()  # a good value: results follow it
    assert not app.exception and not app.error and _seller_delta(app) != before


def test_a_widget_setting_beyond_the_pages_budget_is_refused_at_once(app, monkeypatch):
    _failing_compare(monkeypatch, lambda s: True)  # nothing may be simulated
    before = _seller_delta(app)
    orders = _widget(app, "number_input", "Orders per day")
    assert orders.max >= 100_000
    orders.set_value(float(orders.max)).run()  # the schema's maximum
    assert not app.exception
    errors = _errors(app)
    assert "could not be simulated" in errors and "lower the orders per day or the replications" in errors
    assert re.search(r"about [\d.,]+ GB of memory|about [\d.e+]+ orders", errors) and "--max" not in errors
    assert _seller_delta(app) == before


def test_an_upload_is_simulated_once(app, monkeypatch):
    names = []
    real = azsim.compare

    def compare(scenario, **kw):
        names.append(scenario.name)
        return real(scenario, **kw)

    monkeypatch.setattr(azsim, "compare", compare)
    # 0.029 * 100 / 100 != 0.029: an untouched percent slider must give back the file's value
    _upload(app, "mine.yaml", b"name: once\nseller:\n  listing_accuracy: 0.029\n")
    assert not app.exception and not app.error
    assert names == ["once"]  # tried before use, then shown from the cache


def test_markup_in_an_upload_is_shown_as_text(app):
    _upload(app, "![x](http://example.invalid/x.png).yaml",
            b"'![img](http://example.invalid/t.png) <img src=x onerror=alert(1)> :red[x]': 1\n")
    assert not app.exception
    (box,) = app.error
    head, *problems = [line for line in box.value.splitlines() if line.startswith(("Cannot use ", "- "))]
    for user_text in [head.removeprefix("Cannot use ").removesuffix(":"), *(p[2:] for p in problems)]:
        assert not re.search(r"(?<!\\)[][<>!():*_`]", user_text), user_text  # every markup character escaped
    assert "![img](http://example.invalid/t.png) <img src=x onerror=alert(1)> :red[x]" in _shown(box.value)


def test_the_uploader_states_the_limit_the_app_applies(app):
    limit_mb = app.sidebar.file_uploader[0].proto.max_upload_size_mb
    assert limit_mb == math.ceil(MAX_FILE_BYTES / 2**20)
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == limit_mb


def test_streamlit_reads_the_repositorys_config_from_the_repository_root():
    """`make app` runs `streamlit run app.py` in the repository root, where Streamlit finds
    .streamlit/config.toml: loopback only, no tracebacks or outside links in the browser, no
    usage statistics, the upload limit."""
    shown = subprocess.run([sys.executable, "-m", "streamlit", "config", "show"], cwd=REPO, capture_output=True,
                           text=True, timeout=60, check=True).stdout
    options = dict(re.findall(r"^(\w+) = (.+)$", shown, re.MULTILINE))  # the set (uncommented) options
    assert options["address"] == '"127.0.0.1"'
    assert options["showErrorDetails"] == '"none"'
    assert options["showErrorLinks"] == "false"
    assert options["maxUploadSize"] == str(math.ceil(MAX_FILE_BYTES / 2**20))
    assert options["gatherUsageStats"] == "false"
    assert options["headless"] == "true"
    make = (REPO / "Makefile").read_text()
    (recipe,) = re.findall(r"^app:.*\n\t(.+)$", make, re.MULTILINE)
    assert recipe.split()[-2:] == ["run", "app.py"], recipe  # no flag overrides the config file


def test_a_good_upload_is_used(app, tmp_path):
    text = Path(APP).with_name("scenarios").joinpath("negligent.yaml").read_bytes()
    app.sidebar.file_uploader[0].set_value(("mine.yaml", text, "application/x-yaml")).run()
    assert not app.exception and not app.error
    assert _widget(app, "selectbox", "Liability insurance").value == "never"


def test_downloads_carry_valid_yaml_csv_and_json(monkeypatch):
    files: dict[str, object] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        files[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    by_label = {}
    for button in at.get("download_button"):
        file_id = button.proto.url.rsplit("/", 1)[1].split(".")[0]
        data = files[file_id]
        by_label[button.proto.label] = data.decode() if isinstance(data, bytes) else data
    scenario = yaml.safe_load(by_label["Scenario (YAML)"])
    assert scenario["name"] == "default" and "policies" in scenario
    rows = list(csv.DictReader(io.StringIO(by_label["Results (CSV)"])))
    assert rows and set(rows[0]) == {"replication", "policy", "metric", "value"}
    assert '"seller_cost"' in by_label["Results (JSON)"]
    assert "Yearly cost by party" in by_label["Report (Markdown)"]
