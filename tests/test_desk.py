"""The support desk against queueing theory, and the buyer-message reply-time metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from conftest import make_scenario as make
from conftest import run

from azsim.flows.desk import Desk, reply_metrics
from azsim.scenario import Support


def erlang_c(c: int, lam: float, mu: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (Erlang's C formula)."""
    a = lam / mu
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def simulate_mmc(c: int, lam: float, handling_minutes: float, n: int, seed: int) -> np.ndarray:
    """Response times (days) of ``n`` Poisson arrivals at a 24/7 desk with ``c`` staff."""
    env = simpy.Environment()
    desk = Desk(env, Support(staff=c, open_hour=0.0, close_hour=24.0, work_days_per_week=7,
                             handling_minutes=handling_minutes), start_weekday=0)
    gen = np.random.default_rng(seed)
    arrivals = np.cumsum(gen.exponential(1.0 / lam, n))
    u_handle = gen.random(n)
    out = np.empty(n)

    def message(i):
        yield env.timeout(arrivals[i] - env.now)
        yield from desk.answer(u_handle[i])
        out[i] = env.now - arrivals[i]

    for i in range(n):
        env.process(message(i))
    env.run()
    return out


@pytest.mark.parametrize("c", [1, 2, 3])
def test_desk_open_all_hours_is_an_mmc_queue_with_erlang_c_mean_response(c):
    handling_minutes = 30.0
    mu = 1440.0 / handling_minutes  # services per day per member of staff
    lam = 0.7 * c * mu  # utilisation 0.7
    n = 60_000
    w = simulate_mmc(c, lam, handling_minutes, n, seed=100 + c)[n // 10:]  # drop the warm-up
    expected = erlang_c(c, lam, mu) / (c * mu - lam) + 1.0 / mu
    batches = np.array_split(w, 30)  # batch means: queue waits are autocorrelated
    means = np.array([b.mean() for b in batches])
    se = means.std(ddof=1) / math.sqrt(len(means))
    assert abs(w.mean() - expected) < 3 * se, (w.mean(), expected, se)
    # the queue matters: the mean response is well above the bare handling time
    assert w.mean() > 1.0 / mu + 5 * se


def test_closed_desk_holds_a_friday_evening_message_until_monday_opening():
    env = simpy.Environment()
    desk = Desk(env, Support(staff=1, open_hour=9.0, close_hour=17.0, work_days_per_week=5, handling_minutes=0.0),
                start_weekday=0)
    friday_evening = 4 + 18 / 24  # day 4 = Friday when day 0 is a Monday
    assert desk.next_open(friday_evening) == pytest.approx(7 + 9 / 24)  # Monday 09:00
    assert desk.next_open(2 + 10 / 24) == pytest.approx(2 + 10 / 24)  # Wednesday 10:00: open now


def test_reply_metrics_count_unanswered_messages_as_late():
    hours = [1.0, 10.0, 30.0, 50.0]
    m = reply_metrics(hours, messages=5)  # one message never answered
    assert m["replies.hours.mean"] == pytest.approx(22.75)
    assert m["replies.hours.median"] == pytest.approx(20.0)
    assert m["replies.hours.p90"] == pytest.approx(np.percentile(hours, 90))
    assert m["replies.within_24h"] == pytest.approx(2 / 5)
    assert m["replies.within_48h"] == pytest.approx(3 / 5)
    empty = reply_metrics([], messages=0)
    assert math.isnan(empty["replies.hours.mean"]) and math.isnan(empty["replies.within_24h"])


def test_reply_times_in_a_run_follow_the_desk():
    """A slower desk (longer handling) gives longer replies and fewer within 24 h, same luck."""
    fast = run(make(incidents={"routine_question": 0.2}, seller={"support": {"handling_minutes": 5.0}}))
    slow = run(make(incidents={"routine_question": 0.2}, seller={"support": {"handling_minutes": 90.0}}))
    assert fast.counts["messages"] == slow.counts["messages"] > 100
    assert slow.metrics["replies.hours.mean"] > fast.metrics["replies.hours.mean"]
    assert slow.metrics["replies.within_24h"] < fast.metrics["replies.within_24h"]
