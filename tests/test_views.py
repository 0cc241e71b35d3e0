"""azsim.views: the small tables and numbers the app shows beside azsim.headline's."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from scipy import stats

from azsim import compare, load_scenario
from azsim import labels as L
from azsim import views as V
from azsim.headline import headline


@pytest.fixture(scope="module")
def result():
    return compare(load_scenario("scenarios/threshold_500.yaml"), replications=4, seed=7)


def test_ci_widening_is_the_ratio_of_t_half_widths():
    assert V.ci_widening(20, 20) == pytest.approx(1.0)
    want = (stats.t.ppf(0.975, 7) / 8 ** 0.5) / (stats.t.ppf(0.975, 19) / 20 ** 0.5)
    assert V.ci_widening(8, 20) == pytest.approx(want)  # 1.79
    assert V.REFERENCE_REPLICATIONS == 20


def test_cards_are_the_headline_of_the_pair_formatted(result):
    h = V.headline(result, ["old", "new_500"])
    (seller, *_) = V.cards(h, "new_500")
    full = headline(result, ["old", "new_500"]).row("seller_cost.total")
    assert seller.policy == "New 500" and seller.baseline == L.policy_label("old")
    assert seller.policy_level == L.money(full.levels["new_500"])
    assert seller.change == L.money(full.changes["new_500"].mean, signed=True)
    assert V.precision_note(h, "new_500").startswith("4 paired replications (the command line, azsim compare, uses 20)")


def test_suspension_spans_merge_reviews_with_the_same_share():
    health = pd.DataFrame({
        "replication": [0, 1] * 5, "policy": ["old"] * 10,
        "day": [7, 7, 14, 14, 21, 21, 28, 28, 35, 35],
        "suspended": [False, False, True, True, True, True, True, False, False, False],
    })
    fake = SimpleNamespace(health=health, policies=["old"],
                           scenario=SimpleNamespace(account_health=SimpleNamespace(review_every_days=7)))
    spans = V.suspension_spans(fake)
    assert spans[["start", "end", "share"]].values.tolist() == [[14.0, 28.0, 1.0], [28.0, 35.0, 0.5]]


def test_a_scenario_minus_itself_is_zero_and_colours_are_fixed(result):
    diff = V.scenario_differences(result, result, "new", "new")
    assert diff["difference"].abs().max() == 0
    domain, colours = V.policy_scale(["old", "new_500"])
    assert domain == [L.policy_label("old"), "New 500"] and colours[0] == L.policy_colour("old")
    assert V.odr_limit_pct(result) == pytest.approx(100 * result.scenario.account_health.odr.limit)


def test_the_markdown_summary_is_the_headline_with_a_way_to_reproduce_it(result):
    md = V.markdown_summary(result, "mine.yaml")
    assert headline(result).markdown() in md
    assert "azsim compare mine.yaml --replications 4 --seed 7" in md
