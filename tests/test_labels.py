"""The one table of labels, units and formats (azsim.labels) and the one headline table (azsim.headline).

Every name a face can show has a plain-English label (no snake_case reaches a screen); money reads
'$1,234' with a sign where it is a change and the marketplace's own currency symbol; the headline
table every face renders adds up and is the same numbers as the JSON's ``delta``.
"""

from __future__ import annotations

import json
import re

import pytest
from test_outcomes import ATOZ, CHARGEBACK, PDPI_NEW, PDPI_OLD

from azsim import compare, load_scenario
from azsim import labels as L
from azsim.headline import HEADLINE_ROWS, PARTY_ROWS, headline
from azsim.ledger import CATEGORIES, PARTIES
from azsim.policy import ALIASES, PRESETS
from azsim.world import KINDS

SNAKE = re.compile(r"[a-z0-9]_[a-z0-9]")


@pytest.fixture(scope="module")
def three():
    """threshold_500.yaml: three policies (old, new, new_500), small."""
    s = load_scenario("scenarios/threshold_500.yaml", overrides={"horizon_days": 120})
    return compare(s, replications=3, seed=5)


def test_every_metric_of_every_shipped_scenario_has_a_known_label(three):
    metrics = set(three.runs["metric"])
    for name in ("electrical", "negligent", "uk_2024"):
        s = load_scenario(f"scenarios/{name}.yaml", overrides={"horizon_days": 90})
        metrics |= set(compare(s, replications=1, seed=1).runs["metric"])
    for m in sorted(metrics):
        lab = L.metric(m)
        assert lab.unit in L.UNITS, m
        assert not SNAKE.search(lab.text), f"{m}: {lab.text!r} shows snake_case"
        assert L.known(m), f"{m} has no entry in azsim.labels (only the readable fallback)"


def test_every_category_party_kind_outcome_and_version_has_a_label():
    assert set(CATEGORIES) <= set(L.CATEGORY_LABELS)
    assert set(PARTIES) <= set(L.PARTY_LABELS)
    assert set(KINDS) <= set(L.KIND_LABELS)
    assert ATOZ | CHARGEBACK | PDPI_OLD | PDPI_NEW <= set(L.OUTCOME_LABELS)
    assert set(PRESETS) | set(ALIASES) <= set(L.POLICY_LABELS)
    for table in (L.CATEGORY_LABELS, L.PARTY_LABELS, L.KIND_LABELS, L.OUTCOME_LABELS, L.POLICY_LABELS):
        for text in table.values():
            assert not SNAKE.search(text) and text[0].isupper(), text


def test_units_of_key_metrics():
    assert L.unit_of("seller_cost.total") == L.MONEY
    assert L.unit_of("seller_cost.by_category.insurance_premium") == L.MONEY
    assert L.unit_of("odr.mean") == L.PERCENT
    assert L.unit_of("counts.claims.total.pdpi") == L.COUNT
    assert L.unit_of("compensation_days.pdpi.p90") == L.DAYS
    assert L.label("seller_cost.by_category.insurance_premium") == "Seller: Insurance premium"
    assert L.label("counts.claims.by_outcome.amazon_paid_unrecovered") == "Claims: Paid by Amazon, not recovered"


@pytest.mark.parametrize("x, currency, signed, text", [
    (1234.4, "USD", False, "$1,234"),
    (-142.2, "USD", False, "-$142"),
    (297.5, "USD", True, "+$298"),
    (-141.94, "USD", True, "-$142"),
    (0.3, "USD", True, "$0"),  # rounds to zero: no sign, no '-$0'
    (-0.3, "USD", False, "$0"),
    (2500, "GBP", False, "£2,500"),
    (-12, "EUR", True, "-€12"),
    (99, "CAD", False, "CA$99"),
    (None, "USD", False, "n/a"),
    (float("nan"), "USD", True, "n/a"),
])
def test_money(x, currency, signed, text):
    assert L.money(x, currency, signed) == text


def test_values_and_phrases():
    assert L.value(0.0055, L.PERCENT) == "0.55%"
    assert L.value(0.0012, L.PERCENT, signed=True) == "+0.12 pp"
    assert L.ci_text(0.001, 0.0025, L.PERCENT) == "+0.10 to +0.25 pp"
    assert L.value(12.34, L.DAYS) == "12.3 days"
    assert L.value(21905.25, L.COUNT) == "21,905.2"
    assert L.change_phrase(77.78, -141.94, 297.5) == "+$78 a year (95% CI -$142 to +$298)"
    assert L.change_phrase(-506.2, None, None, currency="GBP") == "-£506 a year"
    assert L.change_phrase(None, None, None).startswith("not defined")
    assert L.plural(1, "replication") == "1 replication"
    assert L.plural(20, "replication") == "20 replications"
    assert L.plural(1_000, "query", "queries") == "1,000 queries"


def test_policy_colours_are_fixed_by_name_and_distinct_in_one_chart():
    assert L.policy_colour("old") == L.policy_colour("us-2021-old") == L.PALETTE[0]
    assert L.policy_colour("new") == L.PALETTE[1]
    # a custom name always gets the same colour, whatever else is in the scenario
    assert L.policy_colour("new_500") == L.policy_colour("new_500")
    for names in (["old", "new", "new_500"], ["us-2021-old", "us-2022-06", "ca-2024", "eu-2024", "x", "y", "z"]):
        cols = L.policy_colours(names)
        assert len(set(cols)) == len(names)
        assert cols[0] == L.policy_colour(names[0])
    assert L.policy_label("new_500") == "New 500" and L.policy_label("us-2021-new") == "US, from Sep 2021"


def test_headline_rows_add_up_and_equal_the_json_delta(three):
    h = headline(three)
    data = three.to_dict()
    base = h.baseline
    assert h.policies == ["old", "new", "new_500"]
    for row in h.rows:
        for p, c in row.changes.items():
            if c.mean is not None:
                assert row.levels[base] + c.mean == pytest.approx(row.levels[p], abs=1e-6)
                assert c.low <= c.mean <= c.high or c.low is None
    # a pair: exactly the JSON's delta for that policy (money rows have no missing replications)
    pair = headline(three, ["old", "new_500"])
    seller = pair.row("seller_cost.total").changes["new_500"]
    js = data["delta"]["new_500"]["seller_cost"]["total"]
    assert seller.mean == pytest.approx(js["mean"], abs=1e-6)
    assert [seller.low, seller.high] == pytest.approx(js["ci95"], abs=1e-6)
    assert pair.policies == ["old", "new_500"] and set(pair.row("seller_cost.total").levels) == {"old", "new_500"}
    with pytest.raises(KeyError, match="no policy 'nope'"):
        headline(three, ["old", "nope"])
    assert [r.key for r in headline(three, rows=PARTY_ROWS).rows] == [
        "seller_cost.total", "amazon_cost.total", "insurer_cost.total", "buyer_uncompensated.total"]


def test_every_renderer_shows_the_same_numbers(three):
    h = headline(three, ["old", "new"])
    frame = three.summary(["old", "new"])
    seller = h.row("seller_cost.total")
    assert frame.loc["Seller cost (USD/yr)", "new-old"] == pytest.approx(seller.changes["new"].mean)
    money = L.money(seller.changes["new"].mean, "USD", signed=True)
    cells = h.cells()
    assert cells[0][:3] == ["", "Old (to Aug 2021)", "New (from Sep 2021)"]
    seller_cells = next(c for c in cells if c[0].startswith("Seller cost"))
    assert seller_cells[3] == money
    assert money in h.text() and money in h.markdown()
    # percent metrics are shown as %, stored as fractions
    odr = h.row("odr.mean")
    if odr.levels["old"] is not None:
        assert frame.loc[frame.index.str.startswith("Order defect rate, mean"), "old"].iloc[0] == pytest.approx(
            100 * odr.levels["old"])
    # no snake_case in anything shown
    for line in cells:
        for c in line:
            assert not SNAKE.search(c), c


def test_json_carries_the_labels(three):
    data = json.loads(three.to_json())
    assert data["labels"]["seller_cost.total"] == {
        "label": "Seller cost", "unit": "money", "description": L.metric("seller_cost.total").description}
    assert set(data["labels"]) == set(three.runs["metric"])


def test_rows_that_need_an_event_say_over_how_many(three):
    h = headline(three)
    row = h.row("compensation_days.pdpi.mean")
    if row.n < h.replications:
        assert f"[{row.n} of {h.replications} reps]" in row.label(h.replications)
    assert len(h.rows) == len(HEADLINE_ROWS)
