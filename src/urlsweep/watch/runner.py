"""The watch loop: one round after another on the caller's thread, each a run of the engine.

One engine per round, and a round starts only once the previous one has delivered its last
result: no host is ever checked by two rounds at once, and its per-host limits hold as in
`check`. Rounds are planned every `tick` from the first; a round that overruns its slot makes
the next start at once (its lag is measured), and slots missed entirely are skipped rather
than run back to back. `stop()` may be called from a signal handler: the round in flight
finishes its checks in flight and is recorded as interrupted.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from urlsweep.inputs import InputError, Target
from urlsweep.options import OptionError, Options
from urlsweep.store.prune import DEFAULT_KEEP_RUNS, DEFAULT_OLDER_THAN
from urlsweep.summary import Summary
from urlsweep.watch.board import Board
from urlsweep.watch.changes import Event, Tracker
from urlsweep.watch.metrics import Metrics
from urlsweep.watch.schedule import Schedule, WatchRule
from urlsweep.watch.sinks import Delivery, Sink

if TYPE_CHECKING:
    from urlsweep.engine.source import ResultSource
    from urlsweep.plan import LinkArgs
    from urlsweep.store.db import Store
    from urlsweep.store.prune import Pruned
    from urlsweep.watch.state import WatchState

log = logging.getLogger("urlsweep")

Due = Callable[[Iterable[Target]], Iterable[Target]]
# Makes one round's source; `due` filters the targets of URL lists (None: check them all).
MakeSource = Callable[[Due], "ResultSource"]
SAVE_EVERY = 30.0  # seconds between writes of the URL states (and at the end)
PRUNE_EVERY = 30.0  # seconds between the store's retention passes
PRUNE_OVERDUE = 600.0  # a pass deferred this long runs even without slack before a round


def plan_source(
    inputs: Sequence[str],
    options: Options,
    link: LinkArgs | None = None,
    engine: Callable[[Iterable[Target], Options], ResultSource] | None = None,
) -> MakeSource:
    """Each round's source for `inputs`, as `check` would plan it (read again every round).

    URL lists are filtered by the schedule; documents and sitemaps are checked whole.
    `engine` replaces the local engine for URL lists (--dask). Raises InputError for an
    input that cannot be read, OptionError for options that do not go together.
    """
    from urlsweep.plan import LinkArgs, plan_run, split_inputs

    link = link or LinkArgs()
    plan = split_inputs(inputs, link.input_type)
    lists_only = not (plan.documents or plan.sitemaps)
    if engine is not None and not lists_only:
        raise OptionError("--dask watches URL lists (URLs, files of URLs), not documents")

    def make(due: Due) -> ResultSource:
        source, _ = plan_run(
            inputs,
            options,
            link,
            processes=1,
            engine=engine,
            targets=due if lists_only else None,
        )
        return source

    return make


@dataclass(frozen=True, slots=True)
class WatchConfig:
    every: float
    rounds: int | None = None  # None: until stopped
    rules: tuple[WatchRule, ...] = ()
    fail_after: int = 1
    # The store's retention, applied while the watch runs (every round is a run): the
    # default every `check` applies after it (see `urlsweep prune`); None keeps all.
    keep_runs: int | None = DEFAULT_KEEP_RUNS
    older_than: float | None = DEFAULT_OLDER_THAN
    prune_every: float = PRUNE_EVERY
    prune_overdue: float = PRUNE_OVERDUE


@dataclass
class RoundStats:
    """Figures of the rounds run in this session (the soak benchmark reads them)."""

    lags: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    missed: int = 0
    prunes: list[float] = field(default_factory=list)  # seconds each retention pass took


class Watcher:
    """The library's watch: `Watcher(["urls.txt"], Options(), WatchConfig(every=60)).run()`.

    Results go to the store (if given), events to `sinks` on this thread and to `delivery`
    on its own; `board` and `metrics` are what a StatusServer shows.
    """

    def __init__(
        self,
        inputs: Sequence[str],
        options: Options,
        config: WatchConfig,
        make_source: MakeSource | None = None,
        *,
        store: Store | None = None,
        sinks: Sequence[Sink] = (),
        delivery: Delivery | None = None,
        on_round: Callable[[int, Summary, float, float], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        on_prune: Callable[[Pruned, float], None] | None = None,
    ) -> None:
        self.inputs = list(inputs)
        self.options = options
        self.config = config
        self._make_source = make_source or plan_source(self.inputs, options)
        self.store = store
        self.sinks = list(sinks)
        self.delivery = delivery
        self.on_round = on_round
        self.on_error = on_error
        self.on_prune = on_prune
        self.tracker = Tracker(config.fail_after)
        self.schedule = Schedule(config.every, config.rules)
        self.board = Board(self.schedule.tick)
        self.metrics = Metrics(self.board)
        self.stats = RoundStats()
        self._stop = threading.Event()
        self._source: ResultSource | None = None
        self._state: WatchState | None = None
        self._round = 0
        self._saved = self._pruned = time.monotonic()
        self._prune_cost = 0.05  # seconds, until a pass is measured
        self.interrupted = False
        if store is not None:
            self._restore(store)

    # -- control -------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop after the checks in flight; safe from a signal handler (it never blocks)."""
        self.interrupted = True
        self._stop.set()
        source = self._source
        if source is not None:
            source.cancel()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    # -- restart -------------------------------------------------------------------------
    def _restore(self, store: Store) -> None:
        from urlsweep.store.keys import Identity
        from urlsweep.watch.state import WatchState

        watch = Identity.of(self.inputs, self.options).inputs_key
        self._state = state = WatchState(store, watch)
        self._round = state.rounds()
        for key, url_state, planned, uptime in state.load():
            self.tracker.states[key] = url_state
            if planned is not None:
                self.schedule.checked(key, planned)
            self.board.restore(key, url_state, uptime)
        for event in state.events(self.board.events.maxlen or 100):
            self.board.events.append(event)

    @property
    def resumed_rounds(self) -> int:
        return self._round

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        """Run rounds until `config.rounds` are done or `stop()` is called."""
        urls = {k: s.url for k, s in self.tracker.states.items()}
        planned = self.schedule.first_round(time.time(), urls)
        tick = self.schedule.tick
        gap = self._rate_gap()
        not_before = 0.0
        done = 0
        try:
            while not self._stop.is_set():
                self.board.round_ends(self.board.last_duration or 0.0, planned)
                wait = max(planned, not_before) - time.time()
                if wait > 0 and self._stop.wait(wait):
                    break
                self._round += 1
                try:
                    self._one_round(self._round, planned)
                except InputError as exc:
                    # A list being rewritten, a file moved away for a moment: a watch that
                    # runs for weeks says so and tries again next round (without on_error,
                    # the caller decides).
                    if self.on_error is None:
                        raise
                    self.on_error(f"round {self._round}: {exc}")
                not_before = time.time() + gap
                done += 1
                if self.config.rounds is not None and done >= self.config.rounds:
                    self._retain(None)  # the last round is done: as check, prune at the end
                    break
                planned += tick
                behind = time.time() - planned
                if behind > tick:  # whole slots missed: skip them, do not run them all
                    skipped = int(behind // tick)
                    self.stats.missed += skipped
                    planned += skipped * tick
                self._retain(planned)
        finally:
            self.board.stopping = True
            self.save()

    def _retain(self, next_start: float | None) -> None:
        """The store's retention, between rounds: every round adds a run, and without it
        a watch's store grows for ever. A pass runs `prune_every` seconds after the last,
        in the slack before the next round when it fits (twice the last pass's time), or
        once deferred `prune_overdue` seconds (a store must stay bounded even when rounds
        overrun their slots); with no next round (None), at once."""
        if self.store is None or self._state is None or self._stop.is_set():
            return
        config = self.config
        if config.keep_runs is None and config.older_than is None:
            return
        since = time.monotonic() - self._pruned
        if next_start is not None:
            if since < config.prune_every:
                return
            slack = next_start - time.time()
            if slack < 2 * self._prune_cost and since < config.prune_every + config.prune_overdue:
                return
        from urlsweep.watch.state import prune_rows

        t0 = time.monotonic()
        try:
            done = self.store.prune(
                config.keep_runs,
                config.older_than,
                also=lambda db: prune_rows(db, config.older_than),
            )
        except (sqlite3.Error, OSError) as exc:  # the rounds are stored; the watch goes on
            done = None
            log.warning("old rounds not pruned: %s", exc)
        self._pruned = time.monotonic()
        self._prune_cost = self._pruned - t0
        self.stats.prunes.append(self._prune_cost)
        if done is not None and self.on_prune is not None:
            self.on_prune(done, self._prune_cost)

    def _rate_gap(self) -> float:
        """How long a host's next request waits at least under the strictest rate limit.

        Each round's engine starts with one token per host; starting the next round no
        sooner than that after the last one ended keeps every rate limit across rounds.
        """
        rates = [self.options.rate_limit, *(h.rate_limit for h in self.options.hosts)]
        given = [r for r in rates if r]
        return 1.0 / min(given) if given else 0.0

    def _one_round(self, round_no: int, planned: float) -> None:
        from urlsweep.store.keys import result_key
        from urlsweep.store.recorder import Recorder

        started = time.time()
        lag = max(0.0, started - planned)
        self.board.round_begins(round_no, planned, started)
        self.stats.lags.append(lag)
        recorder = None
        if self.store is not None and self._state is not None:
            run = self.store.begin_run(self.inputs, self.options)
            self._state.begin_round(round_no, run.id, planned)
            recorder = Recorder(self.store, run)
        summary = Summary()
        complete = False
        t0 = time.monotonic()
        try:
            self._source = source = self._make_source(
                lambda targets: self.schedule.due(targets, planned)
            )
            if self._stop.is_set():
                source.cancel()
            for result in source:
                result = result.masked()  # shown, stored and announced without passwords
                at = time.time()
                key = result_key(result)
                summary.add(result)
                if recorder is not None:
                    recorder.write(result)
                event = self.tracker.observe(key, result, round_no, at)
                self.board.record(key, result, at, self.tracker.states.get(key))
                self.schedule.checked(key, planned)
                self.metrics.checks.labels(result.outcome).inc()
                if event is not None:
                    self._emit(key, event)
            complete = not self._stop.is_set()
        finally:
            self._source = None
            duration = time.monotonic() - t0
            summary.finish(interrupted=not complete)
            if recorder is not None:
                recorder.close(summary, complete)
        self.stats.durations.append(duration)
        self.metrics.rounds.inc()
        self.metrics.round_duration.observe(duration)
        self.board.round_ends(duration, planned + self.schedule.tick)
        if self._state is not None and time.monotonic() - self._saved >= SAVE_EVERY:
            self.save()
        if self.on_round is not None:
            self.on_round(round_no, summary, duration, lag)

    def _emit(self, key: int, event: Event) -> None:
        self.board.add_event(event)
        if self._state is not None:
            self._state.add_events([event])
            self._save_one(key)
        for sink in self.sinks:
            sink.send(event)
        if self.delivery is not None:
            self.delivery.send(event)

    def _save_one(self, key: int) -> None:
        """A settled change is written at once: a restart must not announce it again."""
        assert self._state is not None
        state = self.tracker.states.get(key)
        if state is not None:
            row = self.board.rows.get(key)
            uptime = row.uptime.to_bytes() if row is not None else None
            self._state.save([(key, state, self.schedule.last(key), uptime)])

    def save(self) -> None:
        """Write every URL's state and schedule (periodically, and when the watch ends)."""
        self._saved = time.monotonic()
        if self._state is None:
            return
        rows = []
        with self.board.lock:
            uptimes = {k: r.uptime.to_bytes() for k, r in self.board.rows.items()}
        for key, state in self.tracker.states.items():
            rows.append((key, state, self.schedule.last(key), uptimes.get(key)))
        self._state.save(rows)

    def exit_status(self) -> int:
        """0, or 1 when URLs are broken (settled) at the end, like `check`."""
        return 1 if self.tracker.broken() else 0
