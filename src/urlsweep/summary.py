"""Counts of a run, accumulated by the one thread that receives results."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from urlsweep.result import BROKEN, SKIPPED, TOLERATED, Result

NEWLY_BROKEN = "newly_broken"  # flagged now, not in the previous run (report markers)
NEWLY_FIXED = "newly_fixed"  # ok now, flagged in the previous run


@dataclass
class Summary:
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    total: int = 0
    ok: int = 0
    interrupted: bool = False
    by_outcome: Counter[str] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    run: dict[str, Any] | None = None  # the stored run this summarises, if any
    changes: dict[str, str] | None = None  # URL -> newly_broken/newly_fixed, when compared

    def add(self, result: Result) -> None:
        self.total += 1
        self.ok += result.ok
        self.by_outcome[result.outcome] += 1
        self.by_category[result.category] += 1

    def finish(self, interrupted: bool = False, duplicates: int = 0) -> None:
        self.finished = time.monotonic()
        self.interrupted = interrupted
        self.duplicates = duplicates

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        return self.total / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def not_ok(self) -> int:
        """Records that need attention: not skipped (on purpose) nor tolerated (--fail-after)."""
        return self.total - self.ok - self.by_outcome[SKIPPED] - self.by_outcome[TOLERATED]

    def failures(self, fail_on: Iterable[str] = ()) -> int:
        """URLs that fail the run: the broken ones, and those with an outcome in `fail_on`."""
        return sum(self.by_outcome[o] for o in {BROKEN, *fail_on})

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "total": self.total,
            "ok": self.ok,
            "not_ok": self.not_ok,
            "by_outcome": dict(sorted(self.by_outcome.items())),
            "by_category": dict(sorted(self.by_category.items())),
            "duplicates": self.duplicates,
            "elapsed_s": round(self.elapsed, 3),
            "urls_per_s": round(self.rate, 1),
            "interrupted": self.interrupted,
        }
        if self.run is not None:
            d["run"] = self.run
        if self.changes is not None:
            d["changes"] = {
                kind: sorted(u for u, c in self.changes.items() if c == kind)
                for kind in (NEWLY_BROKEN, NEWLY_FIXED)
            }
        return d
