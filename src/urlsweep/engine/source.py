"""What the CLI drives, and how it fails; light to import (no engine, no libcurl)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from urlsweep.engine.stats import Stats
from urlsweep.errors import SourceError as SourceError  # defined there, raised here
from urlsweep.result import Result


class RunsOnce:
    """Iterating starts the run (`_run`); a second iteration is a mistake, not a rerun."""

    _started = False

    def __iter__(self) -> Iterator[Result]:
        if self._started:
            name = type(self).__name__
            raise RuntimeError(f"{'an' if name[0] in 'AEIOU' else 'a'} {name} runs once")
        self._started = True
        return self._run()

    def _run(self) -> Iterator[Result]:
        raise NotImplementedError


class ResultSource(Protocol):
    """The threaded Engine, or a layer spreading the work over processes or a cluster."""

    stats: Stats

    def cancel(self) -> None: ...

    def __iter__(self) -> Iterator[Result]: ...
