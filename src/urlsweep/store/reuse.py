"""Reusing what the store knows: skip what a resumed run finished, answer from the cache,
and hold back failures that `--fail-after` still tolerates.

It works on the stream of targets before any ResultSource (the threaded engine, processes,
a cluster), so sources need no change: a skipped target never reaches them. Cached results
are handed to the consuming thread through a queue, merged with the source's own results.
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import threading
import time
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Final

from urlsweep.engine.dedup import DigestSet
from urlsweep.engine.stats import Stats
from urlsweep.inputs import Target
from urlsweep.result import INVALID_URL, SKIPPED, TOLERATED, Result, mask_userinfo
from urlsweep.store.cachepolicy import CachePolicy
from urlsweep.store.db import Store, Stored
from urlsweep.store.keys import result_key, target_key
from urlsweep.store.recorder import Recorder

if TYPE_CHECKING:
    from urlsweep.engine.pipeline import ResultSource

_POLL: Final = 0.1


_RESULT: Final = 0
_HIT: Final = 1
_ERROR: Final = 2
_END: Final = 3


def _cacheable(target: Target) -> bool:
    """A URL with a password is checked every time: its result may not be another
    password's, and the store keeps no trace of which password it had."""
    return not target.invalid and ("@" not in target.raw or mask_userinfo(target.raw) == target.raw)


class Reuse:
    """A ResultSource around another: resume, cache and --fail-after, all from the store.

    `targets` filters the stream of targets the inner source checks; `wrap` takes that
    source. Iterate it in the thread that writes results (the Recorder's).
    """

    stats: Stats

    def __init__(
        self,
        *,
        store: Store,
        recorder: Recorder,
        resume: bool = False,
        cache: CachePolicy | None = None,
        fail_after: int = 1,
    ) -> None:
        self._store = store
        self._recorder = recorder
        self._run = recorder.run
        self._profile = store.profile_id(self._run.profile) or 0
        self._finished = store.finished_keys(self._run.id) if resume else None
        self._cache = cache
        self._fail_after = fail_after
        self._cancel = threading.Event()
        self._closed = threading.Event()
        self._queue: queue.Queue[tuple[int, object]] = queue.Queue(maxsize=1024)
        self._source: ResultSource | None = None
        self.already_done = len(self._finished) if self._finished is not None else 0
        self.cache_hits = 0

    @property
    def filters(self) -> bool:
        """Whether targets must pass through `targets` (resume or cache)."""
        return self._finished is not None or self._cache is not None

    def wrap(self, source: ResultSource) -> Reuse:
        self._source = source
        self.stats = source.stats
        return self

    def cancel(self) -> None:
        self._cancel.set()
        if self._source is not None:
            self._source.cancel()

    def __iter__(self) -> Iterator[Result]:
        if self._source is None:
            raise RuntimeError("Reuse.wrap(source) first")
        source = self._source
        if self._finished is not None:  # the whole run is reported, not just this session
            for result in self._store.results(self._run.id):
                if self._cancel.is_set():
                    return
                self._recorder.note(result, None, None)
                yield result
        if self._cache is None:
            for result in source:
                yield self._judge(result)
        else:
            yield from self._merged(source)

    # -- the consuming thread --------------------------------------------------------------
    def _judge(self, result: Result) -> Result:
        """--fail-after: a failure is flagged only when it also failed the last N-1 runs."""
        n = self._fail_after
        if n <= 1 or result.ok or result.outcome == SKIPPED or result.error == INVALID_URL:
            return result
        before = min(self._store.streak(result_key(result), self._profile), n - 1)
        if before + 1 >= n:
            return result
        runs = "run" if before == 0 else "runs"
        note = f"failing {before + 1} {runs} in a row, flagged at {n}"
        detail = f"{result.detail} ({note})" if result.detail else note
        return dataclasses.replace(result, outcome=TOLERATED, detail=detail)

    def _merged(self, source: ResultSource) -> Iterator[Result]:
        pump = threading.Thread(
            target=self._pump, args=(source,), name="urlsweep-reuse", daemon=True
        )
        pump.start()
        try:
            while True:
                kind, item = self._queue.get()
                if kind == _RESULT:
                    assert isinstance(item, Result)
                    yield self._judge(item)
                elif kind == _HIT:
                    assert isinstance(item, Stored)
                    self.cache_hits += 1
                    self._recorder.note(item.result, item.checked_at, item.cached_from)
                    yield item.result
                elif kind == _ERROR:
                    assert isinstance(item, BaseException)
                    raise item
                else:
                    return
        finally:
            self.cancel()
            self._closed.set()
            pump.join()

    # -- other threads ---------------------------------------------------------------------
    def _pump(self, source: ResultSource) -> None:
        """Drives the source; its feeder thread runs `targets`, which queues the cache hits."""
        try:
            for result in source:
                self._put(_RESULT, result, self._closed)
        except BaseException as exc:
            self._put(_ERROR, exc, self._closed)
        finally:
            self._put(_END, None, self._closed)

    def _put(self, kind: int, item: object, stop: threading.Event) -> bool:
        while not stop.is_set():
            try:
                self._queue.put((kind, item), timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def targets(self, targets: Iterable[Target]) -> Iterator[Target]:
        """The targets still to check; runs in the source's feeder thread."""
        finished = self._finished
        seen = bytearray(len(finished)) if finished is not None else None
        cache = self._cache
        reader = Store(self._store.path) if cache is not None else None  # this thread's own
        since = time.time() - cache.max_age if cache is not None else 0.0
        hits = DigestSet()  # keys answered from the cache: later duplicates are skipped
        try:
            for target in targets:
                if self._cancel.is_set():
                    return
                key = target_key(target)
                if finished is not None and seen is not None:
                    i = bisect_left(finished, key)
                    if i < len(finished) and finished[i] == key:
                        if seen[i]:
                            self.stats.add(duplicates=1)
                        seen[i] = 1
                        continue
                if reader is not None and cache is not None and _cacheable(target):
                    if key % (1 << 64) in hits:
                        self.stats.add(duplicates=1)
                        continue
                    hit = reader.fresh(key, since, self._profile)
                    if hit is not None and hit.result not in cache.exclude:
                        hits.insert(key % (1 << 64))
                        sources = (target.source,) if target.source else ()
                        reused = dataclasses.replace(hit.result, url=target.raw, sources=sources)
                        origin = hit.cached_from or hit.run_id
                        stored = Stored(hit.run_id, hit.checked_at, origin, reused)
                        if not self._put(_HIT, stored, self._cancel):
                            return
                        continue
                yield target
        finally:
            if reader is not None:
                # closed from another thread when the run is dropped: sqlite3 refuses
                with contextlib.suppress(Exception):
                    reader.close()
