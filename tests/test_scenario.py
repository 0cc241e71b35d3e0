"""Scenario files, defaults, overrides and the error messages that name fields."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import schema_leaves

from azsim import Scenario, ScenarioError, load_scenario, scenario_from_dict
from azsim.scenario import apply_overrides, parse_override

ROOT = Path(__file__).resolve().parent.parent


def _paths(model_cls):
    """Every leaf field path of a schema model."""
    return [path for path, _ in schema_leaves(model_cls)]


def _has(data, path):
    node = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def test_default_yaml_is_the_code_defaults_spelled_out():
    from_file = load_scenario(ROOT / "scenarios/default.yaml").to_dict()
    from_code = Scenario().to_dict() if Scenario().policies else scenario_from_dict({}).to_dict()
    for d in (from_file, from_code):
        d.pop("name"), d.pop("description")
    assert from_file == from_code


def test_default_yaml_writes_out_every_field():
    raw = yaml.safe_load((ROOT / "scenarios/default.yaml").read_text())
    missing = [p for p in _paths(Scenario) if p != "policies" and not _has(raw, p)]
    assert not missing, missing
    from azsim.policy import Policy

    for name in ("old", "new"):
        missing = [p for p in _paths(Policy) if not _has(raw["policies"][name], p)]
        assert not missing, (name, missing)


def test_every_default_number_has_a_source_comment():
    numbers = 0
    for line in (ROOT / "scenarios/default.yaml").read_text().splitlines():
        body = line.split("#", 1)[0]
        if ":" not in body:
            continue
        value = yaml.safe_load(body.split(":", 1)[1].strip() or "null")
        if isinstance(value, int | float) and not isinstance(value, bool):
            numbers += 1
            assert "#" in line, f"no source comment: {line!r}"
            assert len(line.split("#", 1)[1].strip()) > 5, f"empty source comment: {line!r}"
    assert numbers > 100


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_scenarios_load(path):
    s = load_scenario(path)
    assert s.policy_names[0] == "old"


def test_presets_and_policy_overrides():
    s = scenario_from_dict({"policies": {"old": {}, "new": {"amazon_pays_threshold": 500}}})
    assert s.policies["old"].pdpi_handler == "seller"
    assert s.policies["old"].insurance_required_consecutive_months == 3
    assert s.policies["new"].pdpi_handler == "amazon"
    assert s.policies["new"].insurance_required_consecutive_months == 1
    assert s.policies["new"].amazon_pays_threshold == 500
    custom = scenario_from_dict({"policies": {"strict": {"preset": "new", "message_reply_hours": 24}}})
    assert custom.policy_names == ["strict"] and custom.policies["strict"].message_reply_hours == 24


def test_resolved_scenario_round_trips_and_hash_is_stable():
    s = load_scenario(ROOT / "scenarios/default.yaml")
    again = scenario_from_dict(s.to_dict())
    assert again == s and again.hash == s.hash
    assert s.with_overrides({"seller.support.staff": 2}).hash != s.hash


def test_overrides_parse_yaml_values_and_create_sections():
    assert parse_override("a.b=0.5") == ("a.b", 0.5)
    assert parse_override("a.b=true") == ("a.b", True)
    assert parse_override("a=x") == ("a", "x")
    out = apply_overrides({"x": 1}, {"seller.support.staff": 3})
    assert out == {"x": 1, "seller": {"support": {"staff": 3}}}
    with pytest.raises(ScenarioError, match="is a value, not a section"):
        apply_overrides({"horizon_days": 5}, {"horizon_days.x": 1})


@pytest.mark.parametrize(
    "data, needle",
    [
        ({"horizon_days": 0}, "horizon_days: input should be greater than or equal to 1"),
        ({"seller": {"support": {"open_hour": 17, "close_hour": 9}}}, "close_hour must be after open_hour"),
        ({"seller": {"out_of_stock": {"handling": "ignore"}}}, "seller.out_of_stock.handling"),
        ({"market": {"fba_share": -0.1}}, "market.fba_share: input should be greater than or equal to 0"),
        ({"insidents": {}}, "insidents: unknown field; did you mean incidents?"),
        ({"policies": {"new": {"pdpi_handler": "court"}}}, "policies.new.pdpi_handler"),
        ({"policies": {}}, "at least one policy"),
        ({"seller": {"insurance": {"deductible": -5}}}, "seller.insurance.deductible"),
    ],
)
def test_bad_values_name_their_field(data, needle):
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data)
    assert any(needle in p for p in err.value.problems), err.value.problems


def test_files_too_large_or_not_yaml(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * 1_100_000)
    with pytest.raises(ScenarioError, match="too large"):
        load_scenario(big)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ScenarioError):
        load_scenario(binary)
