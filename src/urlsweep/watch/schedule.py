"""Which URLs a round checks: every URL has an interval (--every, or a [[watch]] rule).

Rounds come every `tick` (the shortest interval); a URL is in a round when its interval has
passed since the planned start of the round that last checked it. Planned starts, not the
moment a result arrived, so a URL checked late in one round is not skipped in the next.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from urlsweep.inputs import Target
from urlsweep.options import OptionError

MIN_INTERVAL = 0.05  # seconds: below this a "round" is a busy loop


@dataclass(frozen=True, slots=True)
class WatchRule:
    """A [[watch]] table: URLs matching `pattern` are checked every `interval` seconds.

    A pattern with "://" is a glob over the whole URL (``https://example.com/api/*``);
    otherwise it names hosts as [hosts] tables do: ``host``, ``host:port`` or ``*.domain``.
    """

    pattern: str
    interval: float

    def __post_init__(self) -> None:
        if not self.pattern or any(c in self.pattern for c in " \t"):
            raise OptionError(f"bad watch pattern {self.pattern!r}")
        if not self.interval >= MIN_INTERVAL:
            raise OptionError(f"watch interval must be at least {MIN_INTERVAL} s")

    def matches(self, url: str) -> bool:
        if "://" in self.pattern:
            return fnmatch.fnmatchcase(url, self.pattern)
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            port = parts.port
        except ValueError:
            return False
        pattern = self.pattern.lower()
        if ":" in pattern and not pattern.startswith("["):
            name, _, want = pattern.rpartition(":")
            if str(port or _default_port(parts.scheme)) != want:
                return False
            pattern = name
        if pattern.startswith("*."):
            return host.endswith(pattern[1:]) or host == pattern[2:]
        return host == pattern


def _default_port(scheme: str) -> int:
    return 443 if scheme.lower() == "https" else 80


class Schedule:
    """Intervals per URL and when each URL was last checked (keyed like the store)."""

    def __init__(
        self,
        every: float,
        rules: Sequence[WatchRule] = (),
        last: Mapping[int, float] | None = None,
    ) -> None:
        if not every >= MIN_INTERVAL:
            raise OptionError(f"--every must be at least {MIN_INTERVAL} s")
        self.every = every
        self.rules = tuple(rules)
        self.tick = min([every, *(r.interval for r in self.rules)])
        self._last: dict[int, float] = dict(last or {})

    def interval_of(self, url: str) -> float:
        for rule in self.rules:  # the first rule that matches wins, as in the config file
            if rule.matches(url):
                return rule.interval
        return self.every

    def is_due(self, key: int, url: str, at: float) -> bool:
        last = self._last.get(key)
        # Half a tick of slack: a URL whose interval is the tick is in every round.
        return last is None or last + self.interval_of(url) <= at + self.tick / 2

    def due(self, targets: Iterable[Target], at: float) -> Iterator[Target]:
        """The targets a round planned at `at` (unix time) checks; invalid lines always."""
        from urlsweep.store.keys import target_key

        if not self._last:
            yield from targets
            return
        for target in targets:
            if target.invalid or self.is_due(target_key(target), target.raw, at):
                yield target

    def checked(self, key: int, planned: float) -> None:
        self._last[key] = planned

    def last(self, key: int) -> float | None:
        return self._last.get(key)

    def first_round(self, now: float, urls: Mapping[int, str]) -> float:
        """When the first round after a restart is due: the earliest URL's next check."""
        if not self._last:
            return now
        due = min(
            (self._last[k] + self.interval_of(u) for k, u in urls.items() if k in self._last),
            default=now,
        )
        return max(now, due)
