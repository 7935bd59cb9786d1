"""The terminal progress bar (stderr), fed from the engine's shared counters."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from urlsweep.engine.stats import Stats

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from urlsweep.result import Result

TICK = 0.1  # seconds between refreshes of the counters


class ProgressBar:
    """A no-op unless enabled; redirects stdout above the bar only when stdout is the terminal.

    A ticker thread refreshes it from `stats` rather than each result doing so: a crawl or
    a documents run holds its results until the end, yet the checks go on all along.
    """

    def __init__(self, stats: Stats, total: int | None, enabled: bool) -> None:
        self.stats = stats
        self.received = 0  # results handed to the caller (replayed ones included)
        self._progress: Progress | None = None
        self._task = None
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._redirects_stdout = enabled and sys.stdout.isatty()
        if enabled:  # rich is imported only for a bar that is shown
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                ProgressColumn,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            columns: list[ProgressColumn | str] = [
                SpinnerColumn(),
                BarColumn(bar_width=20),
                MofNCompleteColumn(),
                TextColumn(
                    "{task.fields[rate]:>7.1f}/s  ok {task.fields[ok]}  "
                    "in flight {task.fields[in_flight]}"
                ),
                TimeElapsedColumn(),
            ]
            if total is not None:  # a stream (stdin) has no end to count down to
                columns += [TimeRemainingColumn(compact=True), "left"]
            self._progress = Progress(
                *columns,
                console=Console(stderr=True),
                transient=True,
                redirect_stdout=self._redirects_stdout,
                redirect_stderr=True,  # log lines and warnings go above the bar too
            )
            self._task = self._progress.add_task("check", total=total, rate=0.0, ok=0, in_flight=0)
            self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)

    @property
    def stdout_console(self) -> Console | None:
        """Where stdout's lines go while the bar redirects them (above it), if it does."""
        if self._progress is None or not self._redirects_stdout:
            return None
        return self._progress.console

    def _tick(self) -> None:
        while not self._stop.wait(TICK):
            self.refresh()

    def refresh(self) -> None:
        if self._progress is None or self._task is None:
            return
        snap = self.stats.snapshot()
        done = max(self.received, snap["completed"])
        elapsed = time.monotonic() - self._started
        self._progress.update(
            self._task,
            completed=done,
            rate=done / elapsed if elapsed > 0 else 0.0,
            ok=snap["ok"],
            in_flight=snap["in_flight"],
        )

    def __enter__(self) -> ProgressBar:
        if self._progress is not None and self._ticker is not None:
            self._started = time.monotonic()
            self._progress.start()
            self._ticker.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None and self._ticker is not None:
            self._stop.set()
            self._ticker.join()
            self._progress.stop()


def broken_notices() -> Callable[[Result], None]:
    """What shows a crawl's broken links on the terminal (stderr, above the bar) as they
    are found: a big site's first one comes in seconds, its record (with every page that
    links to it) when the crawl ends."""
    from rich.console import Console
    from rich.text import Text

    from urlsweep.reports.text import result_line
    from urlsweep.reports.visible import visible

    console = Console(stderr=True, highlight=False)

    def notice(result: Result) -> None:
        result = result.masked()  # as the record will show it: no URL password
        line = Text("found ", style="bold") + result_line(result)
        if result.sources:
            line.append(f"  on {visible(result.sources[0])}", style="dim")
        console.print(line)

    return notice
