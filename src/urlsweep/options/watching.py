"""The declarations of `urlsweep watch`'s own options (the rest it shares with `check`)."""

from __future__ import annotations

from typing import Final

from urlsweep.options.declare import WATCH, Decl
from urlsweep.store.cachepolicy import parse_duration

_W: Final = frozenset({WATCH})

WATCHING: Final[tuple[Decl, ...]] = (
    Decl(
        "every",
        "custom",
        300.0,
        "Check every INTERVAL (90s, 5m, 1h; fractions too: 0.5s). [[watch]] tables in the "
        "config file set other intervals per URL or host.",
        commands=_W,
        target="watch",
        parse=parse_duration,
        pytype=float,
        default_text="5m",
        metavar="INTERVAL",
        example="90s",
    ),
    Decl(
        "rounds",
        "int",
        None,
        "Stop after N rounds (default: run until Ctrl-C or SIGTERM).",
        commands=_W,
        target="watch",
        lo=1,
        metavar="N",
        example="3",
    ),
    Decl(
        "serve",
        "str",
        None,
        "Serve the live page, /metrics, /events and /healthz here (HOST defaults to "
        "127.0.0.1; another address only when given; port 0 picks a free one).",
        commands=_W,
        target="watch",
        metavar="[HOST:]PORT",
        example="0",
    ),
    Decl(
        "on_change_exec",
        "str",
        None,
        "Run COMMAND (split like a shell would, never run by one) for each change, with "
        "the event as JSON on stdin.",
        commands=_W,
        target="watch",
        metavar="COMMAND",
        example="cat",
    ),
    Decl(
        "exec_timeout",
        "float",
        10.0,
        "Kill an --on-change-exec command that runs longer.",
        commands=_W,
        target="watch",
        lo=0.1,
        hi=3600,
        metavar="SECONDS",
        example="2",
    ),
    Decl(
        "on_change_webhook",
        "str",
        None,
        "POST each change as JSON to URL (retried with backoff; failures are logged).",
        commands=_W,
        target="watch",
        metavar="URL",
        example="http://127.0.0.1:9/hook",
    ),
    Decl(
        "events_format",
        "choice",
        "auto",
        "How changes are printed on stdout: text (one line a person reads), jsonl (one JSON "
        "object a line), auto: text on a terminal, JSON lines otherwise.",
        commands=_W,
        target="watch",
        choices=("auto", "text", "jsonl"),
        example="jsonl",
    ),
    Decl(
        "webhook_format",
        "choice",
        "json",
        "slack: Slack's incoming-webhook shape, a `text` line plus the event.",
        commands=_W,
        target="watch",
        choices=("json", "slack"),
        example="slack",
    ),
    Decl(
        "webhook_retries",
        "int",
        3,
        "Attempts after a failed POST, waiting 0.5 s, 1 s, 2 s ... between them.",
        commands=_W,
        target="watch",
        lo=0,
        hi=20,
        metavar="N",
        example="1",
    ),
)
