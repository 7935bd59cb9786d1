"""`--remap 'REGEX REPLACEMENT'` and the ignore file (`.urlsweepignore`).

A remap rewrites a URL before it is checked: a production URL checked against a staging
host, a site against its local build. The first rule whose REGEX matches (searched, as
`re.search`) replaces that match (`\\1`, `\\g<name>` allowed); the record shows the URL that
was checked. The ignore file holds one regular expression per line (`#` comments, blank
lines skipped); a URL matching one is not checked, exactly as `--exclude REGEX`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from urlsweep.inputs import Target
from urlsweep.options import OptionError

IGNORE_FILE = ".urlsweepignore"


@dataclass(frozen=True, slots=True)
class Remap:
    rules: tuple[tuple[re.Pattern[str], str], ...]

    @classmethod
    def parse(cls, specs: Sequence[str]) -> Remap | None:
        """Rules from `--remap` values; None without any. Raises OptionError."""
        rules = []
        for spec in specs:
            parts = spec.strip().rsplit(None, 1)
            if len(parts) != 2:
                raise OptionError(f"--remap {spec!r}: give 'REGEX REPLACEMENT'")
            try:
                pattern = re.compile(parts[0])
                pattern.sub(parts[1], "")  # a bad group reference fails here, not mid-run
            except re.error as exc:
                raise OptionError(f"--remap {spec!r}: {exc}") from None
            rules.append((pattern, parts[1]))
        return cls(tuple(rules)) if rules else None

    def __call__(self, url: str) -> str:
        for pattern, replacement in self.rules:
            new, n = pattern.subn(replacement, url, count=1)
            if n:
                return new
        return url

    def targets(self, targets: Iterable[Target]) -> Iterator[Target]:
        for target in targets:
            new = self(target.raw)
            yield target if new == target.raw else Target(new, target.source, target.invalid)


def ignore_patterns(path: str | None = None) -> tuple[str, ...]:
    """The patterns of the ignore file: `path`, else ./.urlsweepignore if there is one.

    Raises OptionError for a file that cannot be read or a line that is no regex."""
    explicit = path is not None
    path = path or IGNORE_FILE
    if not explicit and not os.path.isfile(path):
        return ()
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise OptionError(f"{path}: cannot read the ignore file: {exc}") from None
    patterns = []
    for n, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            re.compile(text)
        except re.error as exc:
            raise OptionError(f"{path}:{n}: {text!r} is not a regular expression: {exc}") from None
        patterns.append(text)
    return tuple(patterns)
