"""The seller's support desk: a SimPy resource with staff, working hours and handling time.

A buyer message waits for a free member of staff (first come, first served); staff only start
a message during working hours, so a message that arrives on Friday evening waits for Monday.
The reply time feeds the 48-hour rule of the A-to-z flow and the 24-hour negative-feedback
effect.
"""

from __future__ import annotations

import math

import numpy as np
import simpy

from ..rng import exponential
from ..scenario import Support


class Desk:
    def __init__(self, env: simpy.Environment, support: Support, start_weekday: int):
        self.env = env
        self.support = support
        self.resource = simpy.Resource(env, capacity=support.staff)
        self.start_weekday = start_weekday
        self._open = support.open_hour / 24.0
        self._close = support.close_hour / 24.0
        self._handling_days = support.handling_minutes / 1440.0
        self.minutes_worked = 0.0

    def is_work_day(self, day: int) -> bool:
        return (self.start_weekday + day) % 7 < self.support.work_days_per_week

    def next_open(self, t: float) -> float:
        """The earliest time at or after ``t`` when staff are at work."""
        day = math.floor(t)
        frac = t - day
        if self.is_work_day(day):
            if frac < self._open:
                return day + self._open
            if frac < self._close:
                return t
        day += 1
        while not self.is_work_day(day):
            day += 1
        return day + self._open

    def answer(self, u_handle: float):
        """SimPy process body: queue for staff, wait for working hours, handle the message.

        The reply time is ``env.now`` when the generator finishes.
        """
        env = self.env
        with self.resource.request() as req:
            yield req
            # the member of staff waits for opening time, then handles it: one timeout for both
            handling = exponential(u_handle, self._handling_days)
            yield env.timeout(self.next_open(env.now) - env.now + handling)
        self.minutes_worked += handling * 1440.0
        return handling * 1440.0


def reply_metrics(reply_hours: list[float], messages: int) -> dict[str, float]:
    """Buyer-message reply times of one run, as Amazon's response-time metric reads them.

    ``replies.hours.mean`` / ``.median`` / ``.p90``: hours from a message to its answer, over
    answered messages (NaN when none was answered). ``replies.within_24h`` / ``.within_48h``:
    share of ALL messages answered within 24 / 48 hours (an unanswered message counts as late;
    NaN when there were no messages).
    """
    out = {}
    if reply_hours:
        h = np.asarray(reply_hours, dtype=float)
        out["replies.hours.mean"] = float(h.mean())
        out["replies.hours.median"] = float(np.median(h))
        out["replies.hours.p90"] = float(np.percentile(h, 90))
        within24, within48 = int((h <= 24.0).sum()), int((h <= 48.0).sum())
    else:
        out["replies.hours.mean"] = out["replies.hours.median"] = out["replies.hours.p90"] = math.nan
        within24 = within48 = 0
    out["replies.within_24h"] = within24 / messages if messages else math.nan
    out["replies.within_48h"] = within48 / messages if messages else math.nan
    return out
