"""Where change events go: stdout (JSON lines, or a line of text on a terminal), a command,
a webhook.

Stdout is written by the thread that receives results. A command or a webhook can be slow
or down, so they run on one delivery thread fed by a queue: a round never waits for them.
That thread is stopped by an Event and joined with a deadline; events still queued then are
delivered within the deadline or logged as dropped, never lost silently.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any, Final, Protocol, TextIO

from urlsweep._version import __version__
from urlsweep.options import OptionError
from urlsweep.watch.changes import Event

Log = Callable[[str], None]
WEBHOOK_FORMATS: Final = ("json", "slack")


class Sink(Protocol):
    def send(self, event: Event) -> None: ...


def event_json(event: Event) -> str:
    return json.dumps(event.to_dict(), ensure_ascii=False)


def event_line(event: Event) -> str:
    """`2026-12-03 05:58:29  ✗ broken (was ok)  HTTP 404  https://...`, local time; what
    came from the server is shown with its control characters visible."""
    from urlsweep.reports.visible import MARKS, visible

    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event.at))
    was = f" (was {event.before})" if event.before else " (new)"
    what = event.error or (f"HTTP {event.status}" if event.status is not None else "-")
    mark = MARKS.get(event.after, "?")
    return f"{when}  {mark} {event.after}{was}  {visible(what)}  {visible(event.url)}"


class StdoutSink:
    """`fmt` "auto": text for a person on a terminal, JSON lines for a pipe or a file."""

    def __init__(self, stream: TextIO, fmt: str = "jsonl") -> None:
        self.stream = stream
        if fmt == "auto":
            from urlsweep.reports.visible import is_terminal

            fmt = "text" if is_terminal(stream) else "jsonl"
        self.text = fmt == "text"

    def send(self, event: Event) -> None:
        line = event_line(event) if self.text else event_json(event)
        self.stream.write(line + "\n")
        self.stream.flush()


class ExecSink:
    """Runs `argv` (never through a shell) with the event's JSON on stdin, `timeout` at most.

    The command's output goes to stderr, so stdout stays JSON lines.
    """

    def __init__(self, argv: Sequence[str], timeout: float, log: Log) -> None:
        if not argv:
            raise OptionError("--on-change-exec needs a command")
        self.argv = list(argv)
        self.timeout = timeout
        self.log = log

    def send(self, event: Event) -> None:
        import sys

        try:
            done = subprocess.run(
                self.argv,
                input=event_json(event).encode(),
                stdout=sys.stderr,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            self.log(f"--on-change-exec: {self.argv[0]} killed after {self.timeout:g} s")
        except OSError as exc:
            self.log(f"--on-change-exec: cannot run {self.argv[0]}: {exc.strerror or exc}")
        else:
            if done.returncode != 0:
                self.log(f"--on-change-exec: {self.argv[0]} exited with {done.returncode}")


class WebhookSink:
    """POSTs the event as JSON; `slack` sends Slack's `{"text": ...}` (plus the event).

    Up to `retries` more attempts after a failure, waiting `backoff`, 2x, 4x ... seconds
    (cut short when the watch stops). A webhook that stays down is logged, never fatal.
    """

    def __init__(
        self,
        url: str,
        *,
        fmt: str = "json",
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        log: Log,
        stop: threading.Event | None = None,
    ) -> None:
        if not url.lower().startswith(("http://", "https://")):
            raise OptionError(f"--on-change-webhook {url!r} is not an http(s) URL")
        if fmt not in WEBHOOK_FORMATS:
            raise OptionError(f"--webhook-format must be one of {', '.join(WEBHOOK_FORMATS)}")
        self.url, self.fmt, self.timeout = url, fmt, timeout
        self.retries, self.backoff, self.log = retries, backoff, log
        self.stop = stop or threading.Event()
        self.delivered = 0

    def body(self, event: Event) -> bytes:
        doc: dict[str, Any] = event.to_dict()
        if self.fmt == "slack":
            doc = {"text": f"urlsweep: {event.text()}", "event": doc}
        return json.dumps(doc, ensure_ascii=False).encode()

    def send(self, event: Event) -> None:
        data = self.body(event)
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt and self.stop.wait(self.backoff * 2 ** (attempt - 1)):
                break
            request = urllib.request.Request(
                self.url,
                data=data,
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": f"urlsweep/{__version__} (watch webhook)",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    response.read(65536)
                self.delivered += 1
                return
            except urllib.error.HTTPError as exc:
                problem = f"HTTP {exc.code}"
                if 400 <= exc.code < 500 and exc.code not in (408, 429):
                    break  # asking again will not help
            except (OSError, ValueError) as exc:
                problem = str(getattr(exc, "reason", None) or exc)
        self.log(f"--on-change-webhook: event for {event.url} not delivered ({problem})")


_STOP: Final = object()


class Delivery:
    """The delivery thread for slow sinks (commands, webhooks)."""

    def __init__(self, sinks: Sequence[Sink], log: Log, stop: threading.Event) -> None:
        self.sinks = list(sinks)
        self.log = log
        self.stop = stop
        self._queue: queue.Queue[object] = queue.Queue(maxsize=10_000)
        self._thread = threading.Thread(target=self._run, name="urlsweep-events")
        self.dropped = 0

    def start(self) -> None:
        if self.sinks:
            self._thread.start()

    def send(self, event: Event) -> None:
        if not self.sinks:
            return
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1
            self.log(f"event for {event.url} dropped: 10,000 events wait for delivery")

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, Event)
            for sink in self.sinks:
                try:
                    sink.send(item)
                except Exception as exc:  # a sink's bug must not end the watch
                    self.log(f"event sink failed: {exc!r}")

    def close(self, deadline: float = 10.0) -> None:
        """Deliver what is queued within `deadline` seconds, then stop the thread."""
        if not self._thread.is_alive():
            return
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=deadline)
        self._thread.join(deadline)
        if self._thread.is_alive():
            self.stop.set()  # cut retries short
            self._thread.join(max(1.0, deadline / 2))
        if self._thread.is_alive():
            self.log("event delivery still busy at exit; remaining events not delivered")
        left = self._queue.qsize()
        if left:
            self.log(f"{left} events not delivered at exit")
