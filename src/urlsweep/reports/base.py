"""The sink interface and the buffered flushing shared by streaming formats."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, TextIO

from urlsweep.result import BROKEN, UNVERIFIABLE, Result
from urlsweep.summary import Summary

if TYPE_CHECKING:
    from rich.console import Console

FLUSH_INTERVAL = 0.2  # seconds: streamed output is at most this stale, without a syscall per URL


class Sink:
    """Receives results in completion order; `close` ends the document.

    `changes` (URL -> newly_broken/newly_fixed) is given when a stored run is reported
    against the previous one; formats mark those URLs.
    """

    def __init__(self, stream: TextIO, changes: Mapping[str, str] | None = None) -> None:
        self.stream = stream
        self.changes = changes
        self._last_flush = time.monotonic()

    def change(self, result: Result) -> str | None:
        return self.changes.get(result.url) if self.changes else None

    def write(self, result: Result) -> None:
        raise NotImplementedError

    def close(self, summary: Summary) -> None:
        self.flush()

    def print_above(self, console: Console | None) -> None:
        """While a progress bar shows: lines for the terminal go on its `console` (None:
        on the stream again). Only the text format prints to a terminal that way."""

    def flush(self) -> None:
        self.stream.flush()
        self._last_flush = time.monotonic()

    def maybe_flush(self) -> None:
        if time.monotonic() - self._last_flush >= FLUSH_INTERVAL:
            self.flush()


def rank(result: Result) -> int:
    """Where a whole-written report lists a result: broken first, then unverifiable, then
    the rest, each in arrival order."""
    return _RANK.get(result.outcome, 2)


_RANK = {BROKEN: 0, UNVERIFIABLE: 1}


class SpooledSink(Sink):
    """For documents whose head needs the totals: rows are spooled (to disk past 8 MiB),
    then written after the head once the run is over, broken ones first (see `rank`)."""

    def __init__(self, stream: TextIO, changes: Mapping[str, str] | None = None) -> None:
        super().__init__(stream, changes)
        self._spools: list[TextIO | None] = [None, None, None]

    def _spool(self, i: int) -> TextIO:
        spool = self._spools[i]
        if spool is None:
            spool = tempfile.SpooledTemporaryFile(  # type: ignore[assignment]  # noqa: SIM115
                max_size=8 << 20, mode="w+", encoding="utf-8", newline=""
            )
            self._spools[i] = spool
        assert spool is not None
        return spool

    def spool(self, result: Result, text: str) -> None:
        """Keep `text`, the rows of `result`, for its place in the report."""
        self._spool(rank(result)).write(text)

    def spooled(self) -> Iterator[TextIO]:
        """The spools in report order, each rewound; closed when the iteration ends."""
        for spool in self._spools:
            if spool is not None:
                spool.seek(0)
                yield spool
                spool.close()

    def head(self, summary: Summary) -> str:
        return ""

    def tail(self, summary: Summary) -> str:
        return ""

    def close(self, summary: Summary) -> None:
        self.stream.write(self.head(summary))
        for spool in self.spooled():
            shutil.copyfileobj(spool, self.stream)
        self.stream.write(self.tail(summary))
        self.flush()
