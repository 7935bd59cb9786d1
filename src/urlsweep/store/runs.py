"""Runs as the store keeps them, and whether a run marked running is still alive.

A run writes a heartbeat (`runs.updated`) while it goes on; a run whose process is gone on
this machine, or whose heartbeat stopped on another, died (SIGKILL, power cut) and is shown
and resumed as interrupted.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

RUNNING: Final = "running"
INTERRUPTED: Final = "interrupted"
DONE: Final = "done"

HEARTBEAT_SECONDS: Final = 10.0
# A run on another machine whose heartbeat is older than this is taken for dead.
STALE_SECONDS: Final = 6 * HEARTBEAT_SECONDS


def alive(pid: int | None, host: str | None, updated: float, now: float | None = None) -> bool:
    """Whether the process that wrote a 'running' run may still be running."""
    if host != socket.gethostname():  # only the heartbeat can tell
        return (now or time.time()) - updated < STALE_SECONDS
    if pid is None or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie has finished: its parent just has not waited
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0] != "Z"
    return True


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t))


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    started: float
    updated: float
    finished: float | None
    state: str  # as stored: a dead run still says running (see `shown_state`)
    pid: int | None
    host: str | None
    fingerprint: str
    profile: str
    inputs_key: str
    inputs: list[str]
    options: dict[str, Any]
    counts: dict[str, Any] | None
    elapsed: float
    sessions: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Run:
        return cls(
            id=row["id"],
            started=row["started"],
            updated=row["updated"],
            finished=row["finished"],
            state=row["state"],
            pid=row["pid"],
            host=row["host"],
            fingerprint=row["fingerprint"],
            profile=row["profile"],
            inputs_key=row["inputs_key"],
            inputs=json.loads(row["inputs"]),
            options=json.loads(row["options"]),
            counts=json.loads(row["counts"]) if row["counts"] else None,
            elapsed=row["elapsed"],
            sessions=row["sessions"],
        )

    @property
    def dead(self) -> bool:
        """Marked running, but its process is gone: it can only be resumed."""
        return self.state == RUNNING and not alive(self.pid, self.host, self.updated)

    @property
    def shown_state(self) -> str:
        return INTERRUPTED if self.dead else self.state

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started": iso(self.started),
            "finished": iso(self.finished) if self.finished else None,
            "heartbeat": iso(self.updated),
            "state": self.shown_state,
            "inputs": self.inputs,
            "elapsed_s": round(self.elapsed, 3),
            "sessions": self.sessions,
        }
