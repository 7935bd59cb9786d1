"""The terminal progress bar (stderr), fed from the engine's shared counters."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from .stats import Stats


class ProgressBar:
    """A no-op unless enabled; redirects stdout above the bar only when stdout is the terminal."""

    def __init__(self, stats: Stats, total: int | None, enabled: bool) -> None:
        self.stats = stats
        self.enabled = enabled
        self._progress: Progress | None = None
        self._task = None
        if enabled:
            self._progress = Progress(
                SpinnerColumn(),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(
                    "{task.fields[rate]:>8.1f}/s  ok {task.fields[ok]}  "
                    "in flight {task.fields[in_flight]}"
                ),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
                redirect_stdout=sys.stdout.isatty(),
                redirect_stderr=False,
            )
            self._task = self._progress.add_task("check", total=total, rate=0.0, ok=0, in_flight=0)

    def update(self, done: int, elapsed: float) -> None:
        if self._progress is None or self._task is None:
            return
        snap = self.stats.snapshot()
        self._progress.update(
            self._task,
            completed=done,
            rate=done / elapsed if elapsed > 0 else 0.0,
            ok=snap["ok"],
            in_flight=snap["in_flight"],
        )

    def __enter__(self) -> ProgressBar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
