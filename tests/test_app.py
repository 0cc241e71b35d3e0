"""The Streamlit what-if explorer, driven by Streamlit's AppTest (no browser)."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import yaml
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

import azsim
import azsim.scenario
from azsim import labels as L
from azsim import views as V
from azsim.headline import headline
from azsim.scenario import MAX_FILE_BYTES

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
SELLER_CARD = "Seller cost a year under "  # the seller card's help text starts so
STILL_SHOWING = "Still showing the last good scenario."


def _money(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def _widget(at, kind: str, label: str):
    (found,) = [w for w in getattr(at.sidebar, kind) if w.label.startswith(label)]
    return found


def _cards(at) -> list:
    """The four headline cards' metrics (the value: the level under the compared policy; the delta: the change)."""
    return [m for m in at.metric if m.proto.help.endswith(")") and " a year under " in m.proto.help]


def _seller_card(at):
    (m,) = [m for m in at.metric if m.proto.help.startswith(SELLER_CARD)]
    return m


def _seller_delta(at) -> float:
    """The seller card's change (its delta: '-$375 (-0.3%)')."""
    return _money(_seller_card(at).delta.split(" (")[0])


def _seller_level(at) -> float:
    """The seller card's big number: the seller's yearly cost under the compared policy."""
    return _money(_seller_card(at).value)


def _charts(at) -> list[tuple[dict, dict[str, pd.DataFrame]]]:
    """Every Altair chart on the page: its Vega-Lite spec as Streamlit sends it, and its datasets by name."""
    out = []
    for chart in at.get("vega_lite_chart"):
        data = {d.name: pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets}
        out.append((json.loads(chart.proto.spec), data))
    return out


def _layers(spec: dict) -> list[dict]:
    return spec.get("layer", [spec])


def _odr_chart(at) -> tuple[dict, dict]:
    (found,) = [(s, d) for s, d in _charts(at)
                if any((ly.get("encoding", {}).get("y") or {}).get("title") == "Order defect rate (%)"
                       for ly in _layers(s))]
    return found


def _policy_colours(at) -> dict[str, str]:
    """{policy label: colour} over every chart's colour scale; fails if one label has two colours."""
    seen: dict[str, str] = {}
    for spec, _ in _charts(at):
        for layer in _layers(spec):
            scale = ((layer.get("encoding") or {}).get("color") or {}).get("scale") or {}
            for name, colour in zip(scale.get("domain", []), scale.get("range", []), strict=True):
                assert seen.setdefault(name, colour) == colour, (name, colour, seen[name])
    return seen


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


def test_the_cards_show_each_partys_level_under_both_policies_and_the_change_with_its_ci(app):
    """The four cards are azsim.headline's numbers for new against old, formatted by azsim.labels: the big
    number the level under new, the delta the change, the caption the level under old and the 95% CI."""
    result = azsim.compare(azsim.load_scenario(REPO / "scenarios" / "default.yaml"), replications=8, seed=20210901)
    h = headline(result, ["old", "new"])
    cards = _cards(app)
    assert [m.proto.help.split(" a year under ")[0] for m in cards] == [
        "Seller cost", "Amazon cost", "Insurer cost", "Buyers' uncompensated loss"]
    captions = [c.value for c in app.caption]
    for m, key in zip(cards, ["seller_cost.total", "amazon_cost.total", "insurer_cost.total",
                              "buyer_uncompensated.total"], strict=True):
        row = h.row(key)
        change = row.changes["new"]
        assert m.label == L.policy_label("new")
        assert m.value == L.money(row.levels["new"])
        assert m.delta == f"{L.money(change.mean, signed=True)} ({L.pct_text(change.pct)})"
        old = f"{L.policy_label('old')}: {L.money(row.levels['old'])}"
        ci = f"95% CI {L.ci_text(change.low, change.high)}"
        assert any(c.startswith(old) and ci in c for c in captions), (old, ci, captions)
    # the replications and the CI width beside the cards, against the CLI's 20
    (note,) = [c.value for c in app.caption if c.value.startswith("8 paired replications")]
    assert note.startswith("8 paired replications (the command line, azsim compare, uses 20)"), note
    assert f"about {V.ci_widening(8, 20):.1f} times as wide" in note


def test_a_practice_change_moves_the_cards_levels(app):
    """Listing accuracy to 100%: the seller's yearly cost falls under both policies (its level, the big number),
    while the change new - old need not move at all."""
    def old_level(at) -> float:  # the seller card's caption: 'Old (to Aug 2021): $111,394 ...'
        first = next(c.value for c in at.caption if c.value.startswith(f"{L.policy_label('old')}: "))
        return _money(first.split(": ")[1].split()[0])

    before_level, before_old = _seller_level(app), old_level(app)
    _widget(app, "slider", "Listing accuracy").set_value(100.0).run()
    assert not app.exception and not app.error
    assert _seller_level(app) < before_level - 100 and old_level(app) < before_old - 100


def _pick(at, policy: str):
    (radio,) = [r for r in at.radio if r.label == "Compare with the baseline"]
    return radio.set_value(policy).run()


def test_the_comparison_picker_drives_the_cards_charts_and_the_policy_editor(app):
    app.sidebar.selectbox[0].set_value("threshold_500.yaml").run()
    assert not app.exception and not app.error
    (radio,) = [r for r in app.radio if r.label == "Compare with the baseline"]
    assert radio.options == ["New (from Sep 2021) − Old (to Aug 2021)", "New 500 − Old (to Aug 2021)"]
    assert _seller_card(app).label == "New (from Sep 2021)"
    assert any(h.value.startswith("Policy 'new'") for h in app.sidebar.header)
    new_level = _seller_level(app)
    _pick(app, "new_500")
    assert not app.exception
    assert _seller_card(app).label == "New 500"
    assert any(h.value.startswith("Policy 'new\\_500'") for h in app.sidebar.header)  # the editor follows
    # the charts draw the pair: old and new_500, never new
    assert set(_policy_colours(app)) == {"Old (to Aug 2021)", "New 500"}
    at_500 = _seller_level(app)
    # the editor edits new_500: a threshold of $100 moves new_500's card
    threshold = _widget(app, "number_input", "Amazon pays claims up to")
    assert threshold.value == 500.0
    threshold.set_value(100.0).run()
    assert not app.exception and not app.error
    assert _seller_level(app) != at_500
    # back to new: its own card, untouched by new_500's edit; the edit is kept for new_500
    _pick(app, "new")
    assert _seller_card(app).label == "New (from Sep 2021)" and _seller_level(app) == new_level
    assert _widget(app, "number_input", "Amazon pays claims up to").value == 1000.0
    _pick(app, "new_500")
    assert _widget(app, "number_input", "Amazon pays claims up to").value == 100.0


def test_a_policy_has_the_same_colour_in_every_scenario(app):
    default = _policy_colours(app)
    app.sidebar.selectbox[0].set_value("threshold_500.yaml").run()
    _pick(app, "new_500")
    three = _policy_colours(app)
    assert default["Old (to Aug 2021)"] == three["Old (to Aug 2021)"] == L.policy_colour("old")
    assert default["New (from Sep 2021)"] == L.policy_colour("new") != three["New 500"]


def test_the_odr_chart_draws_the_scenarios_limit_on_the_odr_axis(app):
    """One y axis (ODR, %), the limit as a rule of that same field at 100 x account_health.odr.limit, no
    independent scales, x from day 0; here with a limit of 2% uploaded (not the usual 1%)."""
    _upload(app, "limit.yaml", b"name: limit\naccount_health:\n  odr:\n    limit: 0.02\n")
    assert not app.exception and not app.error
    spec, data = _odr_chart(app)
    assert "resolve" not in json.dumps(spec)
    layers = _layers(spec)
    ys = {json.dumps({k: v for k, v in (ly["encoding"]["y"]).items() if k in ("field", "type")})
          for ly in layers if "y" in ly.get("encoding", {})}
    assert ys == {json.dumps({"field": "odr_pct", "type": "quantitative"})}, ys  # one quantity on one axis
    (rule,) = [ly for ly in layers if (ly["mark"]["type"] if isinstance(ly["mark"], dict) else ly["mark"]) == "rule"]
    assert data[rule["data"]["name"]]["odr_pct"].tolist() == [2.0]
    (line,) = [ly for ly in layers if ly["mark"]["type"] == "line"]
    assert line["encoding"]["x"]["scale"]["domain"][0] == 0 and line["encoding"]["x"]["scale"]["nice"] is False
    assert line["encoding"]["y"]["scale"]["domain"][0] == 0 and line["encoding"]["y"]["scale"]["domain"][1] > 2.0
    assert any("ODR limit, 2%" in c.value for c in app.caption)


def test_no_snake_case_on_the_charts(app):
    for spec, data in _charts(app):
        for layer in _layers(spec):
            for channel in ("x", "y", "color", "yOffset"):
                enc = (layer.get("encoding") or {}).get(channel) or {}
                if enc.get("type") == "nominal":
                    (frame,) = [data[layer["data"]["name"]]] if "data" in layer else [next(iter(data.values()))]
                    shown = frame[enc["field"]].astype(str)
                    assert not shown.str.contains("_").any(), (enc["field"], shown.tolist())
                if channel in ("x", "y") and ("axis" in enc or "title" in enc):  # the layer that draws the axis
                    assert (enc.get("axis") or {}).get("labelLimit") == 0, (channel, enc)  # no label cut short


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
    """The uploader's own line says "1MB per file" (its max_upload_size); its help and the caption under it say
    what the page really accepts: the smaller of server.maxUploadSize and azsim's MAX_FILE_BYTES."""
    uploader = app.sidebar.file_uploader[0].proto
    limit_mb = uploader.max_upload_size_mb
    assert limit_mb == math.ceil(MAX_FILE_BYTES / 2**20)
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] >= limit_mb  # the server's is the reports' (larger) limit
    true_limit = min(MAX_FILE_BYTES, config["server"]["maxUploadSize"] * 2**20)
    assert f"at most {true_limit:,} bytes" in uploader.help
    assert any(c.value.startswith(f"Files up to {true_limit:,} bytes") for c in app.sidebar.caption)
    _upload(app, "over.yaml", b"name: over\n#" + b"x" * (true_limit - 12) + b"\n")  # just over: an error box
    assert f"file too large ({true_limit + 1:,} bytes; limit {true_limit:,})" in _errors(app)


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
    (reports_mb,) = re.findall(r"^REPORT_LIMIT_MB = (\d+)", Path(APP).read_text(), re.MULTILINE)
    assert options["maxUploadSize"] == reports_mb  # per file: the reports' limit (a scenario's is smaller)
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
    report = by_label["Report (Markdown)"]
    result = azsim.compare(azsim.load_scenario(REPO / "scenarios" / "default.yaml"), replications=8, seed=20210901)
    assert headline(result).markdown() in report  # the one headline table, every policy
    assert "## Reproducibility" in report and "azsim compare scenario.yaml --replications 8 --seed 20210901" in report
    assert "dtype" not in report and "NaN" not in report


# ---- calibrating from the seller's own reports ---------------------------------------------------------------
REPORTS = REPO / "tests" / "fixtures" / "reports"
REPORT_FILES = ("orders_by_date.tsv", "seller_performance_v2.json", "returns_mfn.tsv")


def _calibrate_in_app(at, files: list[tuple[str, bytes]], marketplace: str | None = None):
    (uploader,) = [u for u in at.sidebar.file_uploader if u.label == "My reports"]
    uploader.set_value([(name, data, "text/plain") for name, data in files])
    if marketplace is not None:
        _widget(at, "selectbox", "Marketplace").set_value(marketplace)
    (button,) = [b for b in at.button if b.label == "Calibrate and compare"]
    return button.click().run()


def _table(markdown: str) -> list[list[str]]:
    return [[_shown(c).strip() for c in line.strip("|").split(" | ")] for line in markdown.splitlines()
            if line.startswith("| ") and not line.startswith("|:")]


def test_uploaded_reports_calibrate_the_scenario_and_the_page_runs_it(app):
    """Three report files through the sidebar's uploader: the summary table shows each field the library
    estimates (label, base value, calibrated value, CI, n, source), the scenario on screen becomes the calibrated
    one (its line, the order-rate widget, the cards: azsim.compare of the library's calibrated scenario), and the
    calibrated YAML is offered; a garbage file then shows the CLI's message and keeps the calibrated scenario."""
    import gzip

    from azsim.calibrate import calibrate

    files = [(name, (REPORTS / name).read_bytes()) for name in REPORT_FILES]
    files[0] = (files[0][0] + ".gz", gzip.compress(files[0][1]))  # gzip too
    cal = calibrate(files, "US", azsim.load_scenario(REPO / "scenarios" / "default.yaml"))
    assert cal.ok
    before = _seller_level(app)
    _calibrate_in_app(app, files)
    assert not app.exception and not app.error, _errors(app)

    (summary,) = [m.value for m in app.markdown if m.value.startswith("| Field | Before")]
    rows = {r[0]: r for r in _table(summary)[1:]}
    assert set(rows) == {L.field_text(e.path) for e in cal.fields()}
    orders = next(e for e in cal.fields() if e.path == "market.orders_per_day")
    assert rows["Orders per day"] == [
        "Orders per day", L.field_value(orders.path, orders.old), L.field_value(orders.path, orders.value),
        f"{L.field_value(orders.path, orders.low)} to {L.field_value(orders.path, orders.high)}", f"{orders.n:,}",
        f"{orders.source}, {orders.window}"]
    kept = " ".join(_shown(m.value) for m in app.markdown if m.value.startswith("**Kept from the base"))
    assert cal.kept and all(L.field_text(p) in kept for p in cal.kept)

    assert _scenario_line(app).startswith(f"Scenario {cal.scenario.name} (calibrated from 3 reports, marketplace US")
    assert _widget(app, "number_input", "Orders per day").value == cal.scenario.market.orders_per_day
    h = headline(azsim.compare(cal.scenario, replications=8, seed=20210901), ["old", "new"])
    assert _seller_card(app).label == L.policy_label("new")  # the base's policies, in its order (old first)
    assert _seller_level(app) == _money(L.money(h.row("seller_cost.total").levels["new"])) != before
    assert [b.proto.label for b in app.get("download_button") if b.proto.label == "Calibrated scenario (YAML)"]

    _calibrate_in_app(app, [("junk.tsv", b"\x00\x01\x02 not a report \xff" * 20)])
    errors = _errors(app)
    assert "Cannot calibrate from 1 report" in errors and STILL_SHOWING in errors
    assert "junk.tsv: binary data" in errors  # the CLI's line for this file
    assert _scenario_line(app).startswith(f"Scenario {cal.scenario.name} (calibrated from 3 reports")
    assert _seller_level(app) == _money(L.money(h.row("seller_cost.total").levels["new"]))


def test_bad_reports_keep_the_chosen_scenario_and_oversize_reports_are_refused_unread(app, monkeypatch):
    """Reports that do not calibrate (a truncated gzip, an empty file; files over the limit of all reports
    together, refused by their size before any is read) show an error box with one line per problem; the chosen
    scenario stays. The uploader states the limits the page applies."""
    import gzip

    line = _scenario_line(app)
    cut = gzip.compress((REPORTS / "orders_by_date.tsv").read_bytes())[:60]
    _calibrate_in_app(app, [("orders.tsv.gz", cut), ("empty.tsv", b"")], "UK")
    errors = _errors(app)
    assert "Cannot calibrate from 2 reports" in errors and STILL_SHOWING in errors, errors
    assert re.search(r"- orders\.tsv\.gz: .*gzip.*truncated", errors) and re.search(r"- empty\.tsv: .*empty", errors)
    assert _scenario_line(app) == line

    import streamlit

    (uploader,) = [u for u in app.sidebar.file_uploader if u.label == "My reports"]
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    mb = config["server"]["maxUploadSize"]
    assert uploader.proto.max_upload_size_mb == mb and uploader.proto.multiple_files
    assert f"At most {mb} MB a file ({mb * 2**20:,} bytes), {4 * mb} MB" in uploader.help
    assert {"txt", "tsv", "json", "xml", "gz"} <= {t.lstrip(".") for t in uploader.proto.type}

    # a page with server.maxUploadSize 1 MB (its widgets are new ones): 1 MB a report, 4 MB in all
    monkeypatch.setattr(streamlit, "get_option", lambda name: 1)
    monkeypatch.setattr(azsim.calibrate.core, "parse_report", lambda *a: pytest.fail("a report was read"))
    small = AppTest.from_file(APP, default_timeout=180)
    small.run()
    _calibrate_in_app(small, [(f"orders{i}.tsv", b"x" * (2**20 - 1000)) for i in range(5)], "US")
    assert f"5 reports of {5 * (2**20 - 1000):,} bytes in all: at most {4 * 2**20:,} bytes at once" in _errors(small)
    assert _scenario_line(small) == line
