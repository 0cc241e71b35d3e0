"""The seller's support desk: staff, working hours and handling time, first come first served.

A buyer message waits for a free member of staff (first come, first served); staff only start
a message during working hours, so a message that arrives on Friday evening waits for Monday.
The reply time feeds the 48-hour rule of the A-to-z flow and the 24-hour negative-feedback
effect.

Two implementations give the same replies at the same times (tests/test_vectorised.py):

- :class:`Desk` (the reference): a ``simpy.Resource``; each message is a SimPy process that
  waits for its arrival, requests a member of staff and holds them for the handling time.
- :class:`QueueDesk` (the default): the same first-come-first-served queue kept as a list of
  the times each member of staff is free. A message can only arrive after the day it was sent
  on (it is sent by an order placed that day), so once the day loop has placed day ``d``'s
  orders every message arriving before ``d + 1`` is known; :meth:`QueueDesk.flush` then serves
  them in arrival order with the same arithmetic as the resource (grant at arrival or when a
  member of staff is released, reply = grant + (next opening - grant + handling)) and schedules
  one SimPy event per message, at its reply (or, unanswered, its arrival), that books what the
  reply leads to. Everything downstream still happens in simulated time, in the same order.
"""

from __future__ import annotations

import heapq
import math
from array import array
from typing import TYPE_CHECKING

import numpy as np
import simpy

from ..rng import exponential
from ..scenario import Support
from ..world import D

if TYPE_CHECKING:
    from ..books import Books


class Desk:
    def __init__(self, env: simpy.Environment, support: Support, start_weekday: int):
        self.env = env
        self.support = support
        self.resource = simpy.Resource(env, capacity=support.staff)
        self.start_weekday = start_weekday
        self._open = support.open_hour / 24.0
        self._close = support.close_hour / 24.0
        self._handling_days = support.handling_minutes / 1440.0
        self._work_days = support.work_days_per_week
        self.minutes_worked = 0.0

    def is_work_day(self, day: int) -> bool:
        return (self.start_weekday + day) % 7 < self._work_days

    def next_open(self, t: float) -> float:
        """The earliest time at or after ``t`` when staff are at work."""
        day = math.floor(t)
        frac = t - day
        w0, work_days = self.start_weekday, self._work_days  # is_work_day, inline (called once per message)
        if (w0 + day) % 7 < work_days:
            if frac < self._open:
                return day + self._open
            if frac < self._close:
                return t
        day += 1
        while not (w0 + day) % 7 < work_days:
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

    def send(self, run: Books, o, at: float, then) -> None:
        """Buyer message about order ``o`` reaches the desk at ``at``; ``then(at, reply_at)`` books what
        follows (``reply_at`` is inf for a message the seller never answers; ``then`` None: nothing)."""
        self.env.process(self._message(run, o, at, then))

    def flush(self, until: float) -> None:
        """Serve the messages arriving before ``until`` (nothing to do here: each is its own process)."""

    def finish(self, run: Books) -> None:
        """Every message has been served (nothing to do here: each reply was recorded at its time)."""

    def _message(self, run: Books, o, at: float, then):
        """SimPy process of one message: arrive, queue for staff, reply."""
        env = self.env
        yield env.timeout(at - env.now)
        run.count("messages")
        reply = math.inf
        if o.u[D.REPLY] < run.scenario.seller.messages.reply_rate:
            # the desk's minutes are paid in its rostered hours (support_wages, azsim/practices.py)
            yield from self.answer(o.u[D.HANDLE])
            reply = env.now
            run.replied(at, reply)
        if then is not None:
            then(at, reply)


_REPLY, _HANDLE = D.REPLY, D.HANDLE


class QueueDesk(Desk):
    """The desk as a first-come-first-served queue computed day by day (see the module docstring).

    The day loop must call :meth:`flush` with ``d + 1`` after placing day ``d``'s orders (and with
    ``inf`` at the horizon): messages are sent only at integer times from that loop.
    """

    def __init__(self, env: simpy.Environment, support: Support, start_weekday: int):
        super().__init__(env, support, start_weekday)
        self._free = [0.0] * support.staff  # heap: when each member of staff is next free
        self._pending: list[tuple] = []  # heap of (arrival, sequence, order, asked at, then)
        self._seq = 0
        self._run: Books | None = None  # the run the desk serves
        # every reply, in the order served (reply time, asked at, handling days): finish() records them
        # in reply order; compact columns, as a long run answers hundreds of thousands of messages
        self._reply_at, self._asked_at, self._handling = array("d"), array("d"), array("d")

    def send(self, run: Books, o, at: float, then) -> None:
        now = self.env.now
        self._seq += 1
        # the arrival time as the reference's `timeout(at - now)` reaches it (the desk serves one run)
        heapq.heappush(self._pending, (now + (at - now), self._seq, o, at, then))
        self._run = run

    def flush(self, until: float) -> None:
        pending = self._pending
        if not pending or pending[0][0] >= until:
            return
        env = self.env
        now = env.now
        free = self._free
        pop, replace = heapq.heappop, heapq.heapreplace
        handling_days = self._handling_days
        next_open, log1p = self.next_open, math.log1p
        reply_at, asked_at, handled = self._reply_at.append, self._asked_at.append, self._handling.append
        run = self._run
        reply_rate = run.scenario.seller.messages.reply_rate
        served = 0
        while pending and pending[0][0] < until:
            arrival, _, o, at, then = pop(pending)
            served += 1
            u = o.u
            if u[_REPLY] < reply_rate:
                first_free = free[0]
                grant = arrival if first_free <= arrival else first_free
                handling = -handling_days * log1p(-u[_HANDLE]) if handling_days > 0 else 0.0  # rng.exponential
                reply = grant + (next_open(grant) - grant + handling)
                replace(free, reply)
                reply_at(reply)
                asked_at(at)
                handled(handling)
                if then is not None:  # what the reply leads to happens at its time
                    _Reply(env, reply - now, at, reply, then)
            elif then is not None:
                _Unanswered(env, arrival - now, at, then)
        run.counts["messages"] += served

    def finish(self, run: Books) -> None:
        """Record every reply in the order the reference records them: by reply time (then by the order
        in which they were served, as SimPy orders events at the same time)."""
        reply = np.frombuffer(self._reply_at, dtype=np.float64) if len(self._reply_at) else np.zeros(0)
        order = np.argsort(reply, kind="stable")
        asked = np.frombuffer(self._asked_at, dtype=np.float64)[order].tolist() if len(order) else []
        handling = np.frombuffer(self._handling, dtype=np.float64)[order].tolist() if len(order) else []
        for r, at, h in zip(reply[order].tolist(), asked, handling, strict=True):
            self.minutes_worked += h * 1440.0
            run.replied(at, r)
        self._reply_at, self._asked_at, self._handling = array("d"), array("d"), array("d")


class _Reply(simpy.Event):
    """The desk's reply to a message, at its time: an event that is its own callback (the reference
    process's last step)."""

    def __init__(self, env, delay, at, reply, then):
        self.env = env
        self.callbacks = [_replied]
        self._value = None
        self._ok = True
        self.at, self.reply, self.then = at, reply, then
        env.schedule(self, simpy.events.NORMAL, delay)


def _replied(e: _Reply) -> None:
    e.then(e.at, e.reply)


class _Unanswered(simpy.Event):
    """A message the seller never answers, at its arrival."""

    def __init__(self, env, delay, at, then):
        self.env = env
        self.callbacks = [_unanswered]
        self._value = None
        self._ok = True
        self.at, self.then = at, then
        env.schedule(self, simpy.events.NORMAL, delay)


def _unanswered(e: _Unanswered) -> None:
    e.then(e.at, math.inf)


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
