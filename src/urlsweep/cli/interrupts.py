"""Ctrl-C and SIGTERM during a run: the first stops it gracefully, a second leaves at once.

The handlers stay in place from the start of a run until the process exits (in the
`urlsweep` process; see `keep_until_exit`), so a signal that arrives while the summary is
printed or the store finishes still means exit 130, never click's "Aborted!" and exit 1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

EXIT_INTERRUPTED = 130
SIGNALS = (signal.SIGINT, signal.SIGTERM)

# Set by the console entry point: the process ends with the command, so the handlers are
# never given back. In-process callers (click's test runner) get their own handlers back.
_keep_until_exit = False


def keep_until_exit() -> None:
    global _keep_until_exit
    _keep_until_exit = True


class Interrupts:
    """The state of one command's signals: whether it was interrupted, and what to do next.

    `cancel` stops the checks (set only while results are being received); `last_words`
    are called before an immediate exit to keep what is already written; `notify` tells
    the user. All may be called from a signal handler, so they must not block.
    """

    def __init__(self, notify: Callable[[str], None] | None = None) -> None:
        self.interrupted = False
        self.notify = notify
        self.cancel: Callable[[], None] | None = None
        self.last_words: tuple[Callable[[], None], ...] = ()
        self._over = False
        self._previous: dict[int, Any] = {}

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.interrupted or self._over:  # second signal, or nothing left to finish
            self.leave()
        self.interrupted = True
        cancel, self.cancel = self.cancel, None
        if cancel is not None:
            cancel()
            self.say("interrupted: finishing the checks in flight (press Ctrl-C again to quit now)")
        else:
            self.say("interrupted: finishing up (press Ctrl-C again to quit now)")

    def say(self, message: str) -> None:
        if self.notify is not None:
            with contextlib.suppress(Exception):  # e.g. the handler interrupted a write
                self.notify(message)

    def leave(self) -> None:
        for words in self.last_words:
            with contextlib.suppress(Exception):
                words()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(EXIT_INTERRUPTED)

    def exit_code(self, code: int) -> int:
        return EXIT_INTERRUPTED if self.interrupted else code

    @contextlib.contextmanager
    def receiving(
        self, cancel: Callable[[], None], *last_words: Callable[[], None]
    ) -> Iterator[None]:
        """While results arrive: a first signal cancels the run (at once if one came already)."""
        self.last_words = last_words
        if self.interrupted:
            cancel()
        else:
            self.cancel = cancel
        try:
            yield
        finally:
            self.cancel = None
            self.last_words = ()

    @contextlib.contextmanager
    def installed(self) -> Iterator[Interrupts]:
        self._previous = {s: signal.signal(s, self.handle) for s in SIGNALS}
        try:
            yield self
        finally:
            if _keep_until_exit:
                self._over = True  # the process is ending: any signal now leaves with 130
            else:
                for s, handler in self._previous.items():
                    signal.signal(s, handler)
