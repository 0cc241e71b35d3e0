"""The Streamlit what-if explorer, driven by Streamlit's AppTest (no browser)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")
HEADLINE = "Seller cost per year, new − old"


def _money(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def _widget(at, kind: str, label: str):
    (found,) = [w for w in getattr(at.sidebar, kind) if w.label.startswith(label)]
    return found


def _seller_delta(at) -> float:
    (m,) = [m for m in at.metric if m.label == HEADLINE]
    return _money(m.value)


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
    errors = " ".join(e.value for e in app.error)
    assert needle in errors and "last good scenario" in errors
    assert _seller_delta(app) == before  # still the default scenario


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
