"""Log records of worker processes, handled by the main process.

A worker's records (-v, -vv, -vvv, and any warning) travel back over its results pipe and
are handled by the main process's handlers: one format, one masking of passwords, and lines
of two processes that never cut into each other on the same stderr.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Final

# The loggers whose levels a worker takes from the main process ("" is the root).
_LOGGERS: Final = ("", "urlsweep", "urlsweep.curl")
_PLAIN: Final = (str, int, float, type(None))


def levels() -> dict[str, int]:
    """This process's log levels, for the workers (set by -v, -vv, -vvv or the library's
    caller): a worker logs what would be logged here."""
    return {name: logging.getLogger(name).getEffectiveLevel() for name in _LOGGERS}


def handle_logs(records: list[dict[str, Any]]) -> None:
    """A worker's log records, handled as if they had been made here."""
    for fields in records:
        record = logging.makeLogRecord(fields)
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)


class LogShipper(logging.Handler):
    """In a worker: keeps each record as plain fields (its message formatted here, where
    its arguments live) for the results pipe; the main process's handlers write them."""

    def __init__(self, number: int) -> None:
        super().__init__()
        self._prefix = f"w{number}/"
        self._records: list[dict[str, Any]] = []
        self._taken = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        # Plain values only: what a caller put in `extra` need not pickle.
        fields = {k: v if isinstance(v, _PLAIN) else str(v) for k, v in record.__dict__.items()}
        fields["msg"] = record.getMessage()
        fields["args"] = None
        if record.exc_info:
            fields["exc_text"] = logging.Formatter().formatException(record.exc_info)
        fields["exc_info"] = None
        fields["threadName"] = self._prefix + str(record.threadName)
        with self._taken:
            self._records.append(fields)

    def take(self) -> list[dict[str, Any]]:
        with self._taken:
            records, self._records = self._records, []
        return records


def ship_logs_from_here(number: int, levels: dict[str, int]) -> LogShipper:
    """In worker `number`: every record goes to the returned shipper, at the given levels."""
    shipper = LogShipper(number)
    root = logging.getLogger()
    root.handlers[:] = [shipper]  # never the worker's own stderr: lines would interleave
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    return shipper
