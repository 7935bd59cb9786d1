"""Changes, not noise: an outcome becomes the URL's state only after N rounds in a row.

A URL's *settled* outcome is the last one confirmed. A different outcome is a candidate
until it has been seen `fail_after` rounds running (one timeout pages nobody), then it is
one change event and the new settled outcome. The first observation of a URL settles at
once, silently, when it is ok (or skipped): nobody wants 10,000 "up" messages at start;
a URL that starts out not ok is an event once confirmed the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from urlsweep.result import OK, SKIPPED, Result

QUIET_FIRST = (OK, SKIPPED)


def iso(t: float) -> str:
    """UTC, second precision: what event consumers (chat, logs, jq) read easily."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


@dataclass(slots=True)
class UrlState:
    url: str
    settled: str | None = None  # the confirmed outcome; None until the first one settles
    since: float | None = None  # when the settled outcome began
    candidate: str | None = None  # a different outcome seen `streak` rounds running
    streak: int = 0
    candidate_since: float | None = None
    changed_at: float | None = None  # the last change event, if any


@dataclass(frozen=True, slots=True)
class Event:
    """One change: `{"url", "from", "to", "status", "error", "at", "round", "since"}`.

    `since` is when the URL entered the new outcome (the first round of the confirming
    streak); `at` is when the change was confirmed.
    """

    url: str
    before: str | None
    after: str
    status: int | None
    error: str | None
    at: float
    round: int
    since: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "from": self.before,
            "to": self.after,
            "status": self.status,
            "error": self.error,
            "at": iso(self.at),
            "round": self.round,
            "since": iso(self.since),
        }

    def text(self) -> str:
        """One line for chat (Slack's `text`)."""
        was = f" (was {self.before})" if self.before else ""
        what = self.error or (f"HTTP {self.status}" if self.status is not None else "")
        return f"{self.url} is {self.after}{was}" + (f": {what}" if what else "")


class Tracker:
    """Per-URL states, fed by the one thread that receives results."""

    def __init__(self, fail_after: int = 1) -> None:
        self.fail_after = max(1, fail_after)
        self.states: dict[int, UrlState] = {}

    def observe(self, key: int, result: Result, round_no: int, at: float) -> Event | None:
        state = self.states.get(key)
        if state is None:
            state = self.states[key] = UrlState(result.url)
        outcome = result.outcome
        if outcome == state.settled:
            state.candidate, state.streak, state.candidate_since = None, 0, None
            return None
        if outcome == state.candidate:
            state.streak += 1
        else:
            state.candidate, state.streak, state.candidate_since = outcome, 1, at
        began = state.candidate_since if state.candidate_since is not None else at
        if state.settled is None and outcome in QUIET_FIRST:
            self._settle(state, outcome, began)
            return None
        if state.streak < self.fail_after:
            return None
        event = Event(
            url=result.url,
            before=state.settled,
            after=outcome,
            status=result.status,
            error=result.error,
            at=at,
            round=round_no,
            since=began,
        )
        self._settle(state, outcome, began)
        state.changed_at = at
        return event

    @staticmethod
    def _settle(state: UrlState, outcome: str, began: float) -> None:
        state.settled, state.since = outcome, began
        state.candidate, state.streak, state.candidate_since = None, 0, None

    def broken(self) -> int:
        """URLs whose settled outcome is broken: what makes the exit status 1."""
        return sum(1 for s in self.states.values() if s.settled == "broken")
