"""The sink interface and the buffered flushing shared by streaming formats."""

from __future__ import annotations

import time
from typing import TextIO

from ..result import Result
from ..summary import Summary

FLUSH_INTERVAL = 0.2  # seconds: streamed output is at most this stale, without a syscall per URL


class Sink:
    """Receives results in completion order; `close` ends the document."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._last_flush = time.monotonic()

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
