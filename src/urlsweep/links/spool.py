"""Results kept on disk while a crawl goes on, so memory does not grow with their number.

A crawl cannot write a record before its last page is read (one more page may link to any
URL, and a record lists every page that links to it), so its results wait. They wait in a
private temporary file (unlinked at once: nothing is left behind, even after a crash), in
batches of `batch` results; at most one batch is in memory. Read back once, in the order
they came.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from typing import IO

from urlsweep.errors import SourceError
from urlsweep.result import Result

BATCH = 256


class Spool:
    """Append results, then iterate them once (the file is closed after)."""

    def __init__(self, batch: int = BATCH, directory: str | None = None) -> None:
        self._batch = max(1, batch)
        self._dir = directory  # default: tempfile's (TMPDIR, else /tmp ...)
        self._held: list[Result] = []
        self._file: IO[bytes] | None = None  # opened with the first full batch
        self.count = 0
        self.peak = 0  # the most results held in memory at once (for tests and bench/)

    def put(self, result: Result) -> None:
        self._held.append(result)
        self.count += 1
        self.peak = max(self.peak, len(self._held))
        if len(self._held) >= self._batch:
            self._spill()

    def _spill(self) -> None:
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="urlsweep-crawl-", dir=self._dir)  # noqa: SIM115
            pickle.dump(self._held, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError as exc:  # a full disk: one line for the person, not a traceback
            where = self._dir or tempfile.gettempdir()
            raise SourceError(
                f"cannot keep the crawl's results in {where} (TMPDIR): {exc.strerror or exc}"
            ) from exc
        self._held = []

    def __iter__(self) -> Iterator[Result]:
        last, self._held = self._held, []
        spilled, self._file = self._file, None
        if spilled is not None:
            with spilled:
                try:
                    spilled.flush()
                    spilled.seek(0)
                except OSError as exc:
                    raise SourceError(
                        f"cannot read back the crawl's results: {exc.strerror or exc}"
                    ) from exc
                while True:
                    try:
                        batch: list[Result] = pickle.load(spilled)
                    except EOFError:
                        break
                    yield from batch
        yield from last

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._held = []
