"""The sink interface and the buffered flushing shared by streaming formats."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Mapping
from typing import TextIO

from urlsweep.result import Result
from urlsweep.summary import Summary

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

    def flush(self) -> None:
        self.stream.flush()
        self._last_flush = time.monotonic()

    def maybe_flush(self) -> None:
        if time.monotonic() - self._last_flush >= FLUSH_INTERVAL:
            self.flush()


class SpooledSink(Sink):
    """For documents whose head needs the totals: rows are spooled (to disk past 8 MiB),
    then written after the head once the run is over."""

    def __init__(self, stream: TextIO, changes: Mapping[str, str] | None = None) -> None:
        super().__init__(stream, changes)
        self.body: TextIO = tempfile.SpooledTemporaryFile(  # type: ignore[assignment]  # noqa: SIM115
            max_size=8 << 20, mode="w+", encoding="utf-8", newline=""
        )

    def head(self, summary: Summary) -> str:
        return ""

    def tail(self, summary: Summary) -> str:
        return ""

    def close(self, summary: Summary) -> None:
        self.stream.write(self.head(summary))
        self.body.seek(0)
        shutil.copyfileobj(self.body, self.stream)
        self.body.close()
        self.stream.write(self.tail(summary))
        self.flush()
