"""What the cache may reuse: its maximum age and the results it never reuses.

Kept light (no engine, no store) so the command line can validate these options at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from urlsweep.errors import OptionError
from urlsweep.result import ERRORS, Result

_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """'90', '90s', '30m', '12h', '1d', '2w' -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text.lower())
    if not m:
        raise OptionError(f"bad duration {text!r} (want e.g. 90s, 30m, 12h, 1d, 2w)")
    return float(m[1]) * _UNITS[m[2] or "s"]


@dataclass(frozen=True, slots=True)
class ResultFilter:
    """Results the cache never reuses: statuses, ranges, classes (5xx), error names, `errors`."""

    ranges: tuple[tuple[int, int], ...] = ()
    errors: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, spec: str) -> ResultFilter:
        ranges: list[tuple[int, int]] = []
        errors: set[str] = set()
        for part in (p.strip().lower() for p in spec.split(",")):
            if not part or part == "none":
                continue
            if part == "errors":
                errors.update(ERRORS)
            elif part in ERRORS:
                errors.add(part)
            elif re.fullmatch(r"[1-9]xx", part):
                ranges.append((int(part[0]) * 100, int(part[0]) * 100 + 99))
            elif m := re.fullmatch(r"(\d{3})(?:-(\d{3}))?", part):
                lo, hi = int(m[1]), int(m[2] or m[1])
                if not 100 <= lo <= hi <= 999:
                    raise OptionError(f"bad status range {part!r}")
                ranges.append((lo, hi))
            else:
                raise OptionError(
                    f"bad status {part!r} (want e.g. 429,5xx,500-599, an error name"
                    f" like timeout, or errors)"
                )
        return cls(tuple(ranges), frozenset(errors))

    def __contains__(self, result: object) -> bool:
        if not isinstance(result, Result):
            return False
        if result.error is not None:
            return result.error in self.errors
        s = result.status
        return s is not None and any(lo <= s <= hi for lo, hi in self.ranges)


@dataclass(frozen=True, slots=True)
class CachePolicy:
    max_age: float  # seconds
    exclude: ResultFilter = ResultFilter()
